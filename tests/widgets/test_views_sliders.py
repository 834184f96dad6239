"""LatentSliders without a browser: validation, clipping, groups, locks, seeded randomise."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
import traitlets
from PIL import Image

from invwidgets.widgets.views import LatentSliders

GROUPS = ["class", "class", "nuisance", "nuisance", "nuisance"]


def make(**kwargs):
    kwargs.setdefault("groups", GROUPS)
    return LatentSliders([0.5, -0.5, 0.0, 1.0, 2.0], **kwargs)


def test_defaults_and_traits():
    s = LatentSliders(torch.tensor([0.1, 0.2]))
    assert s.names == ["z0", "z1"] and s.groups == ["latent", "latent"]
    assert s.values == pytest.approx([0.1, 0.2]) and s.defaults == s.values
    assert s.minimum == [-3.0, -3.0] and s.maximum == [3.0, 3.0] and s.step == 0.01
    assert s.locked == [] and s.selected == -1 and s.status == "idle" and s._kind == "sliders"
    assert s.tensor.dtype == torch.float32 and s.tensor.shape == (2,)


def test_length_validation():
    with pytest.raises(ValueError, match="names has 1 entries but values has 2"):
        LatentSliders([0, 0], names=["a"])
    with pytest.raises(ValueError, match="groups has 3 entries but values has 2"):
        LatentSliders([0, 0], groups=["a", "b", "c"])
    with pytest.raises(ValueError, match="minimum has 3 entries but there are 2 sliders"):
        LatentSliders([0, 0], minimum=[0, 0, 0])
    with pytest.raises(ValueError, match="minimum must be below maximum.*slider 1"):
        LatentSliders([0, 0], minimum=[-1, 1], maximum=[1, 1])
    with pytest.raises(ValueError, match="empty"):
        LatentSliders([])
    with pytest.raises(ValueError, match="unknown groups"):
        LatentSliders([0, 0], locked_groups=["class"])
    with pytest.raises(ValueError, match="finite"):
        LatentSliders([0, float("nan")])
    s = make()
    with pytest.raises(traitlets.TraitError, match="values has 2 entries but there are 5"):
        s.values = [0.0, 0.0]
    with pytest.raises(traitlets.TraitError, match="unknown groups"):
        s.locked = ["style"]


def test_values_are_clipped_per_slider():
    s = LatentSliders([5.0, -5.0, 0.5], minimum=[-1, -2, 0], maximum=[1, 2, 0.25])
    assert s.values == [1.0, -2.0, 0.25] and s.defaults == [1.0, -2.0, 0.25]
    s.values = [-9.0, 9.0, 0.1]
    assert s.values == [-1.0, 2.0, 0.1]
    s.set_state({"values": [0.5, 7, 0]})  # from the front end, ints included
    assert s.values == [0.5, 2.0, 0.0]
    s.set_state({"values": [0.0, 0.0], "selected": 1})  # stale length: dropped, rest applied
    assert s.values == [0.5, 2.0, 0.0] and s.selected == 1


def test_reset_and_set_values_by_group():
    s = make()
    s.set_values([1.5, 1.5, 1.5], group="nuisance")
    assert s.values == [0.5, -0.5, 1.5, 1.5, 1.5]
    s.values = [0.0] * 5
    s.reset("nuisance")
    assert s.values == [0.0, 0.0, 0.0, 1.0, 2.0]
    s.reset()
    assert s.values == [0.5, -0.5, 0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="unknown group 'style'"):
        s.reset("style")


def test_randomize_is_deterministic_for_a_seed():
    a, b = make(seed=7), make(seed=7)
    a.randomize()
    a.randomize("nuisance")
    b.randomize()
    b.randomize("nuisance")
    assert a.values == b.values
    c = make(seed=8)
    c.randomize()
    first_a = make(seed=7)
    first_a.randomize()
    assert c.values != first_a.values
    # The widget's generator is torch's, seeded with `seed`.
    expected = torch.randn(5, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    assert first_a.values == pytest.approx(np.clip(expected.numpy(), -3, 3).tolist())
    # Reseeding restarts the sequence; an explicit generator is used when given.
    first_a.seed = 7
    first_a.randomize()
    assert first_a.values == pytest.approx(np.clip(expected.numpy(), -3, 3).tolist())
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    x, y = make(seed=0), make(seed=99)
    x.randomize(generator=g1)
    y.randomize(generator=g2)
    assert x.values == y.values


def test_randomize_clips_into_range():
    s = LatentSliders([0.0] * 200, minimum=-0.1, maximum=0.2)
    s.randomize()
    v = np.array(s.values)
    assert v.min() == pytest.approx(-0.1) and v.max() == pytest.approx(0.2)
    assert ((v >= -0.1) & (v <= 0.2)).all()


def test_locked_groups_are_never_touched():
    s = make(locked_groups=["class"], seed=1)
    assert s.locked == ["class"]
    assert s.warnings == {"class": "Changing class dimensions changes the prediction"}
    before = s.values[:2]
    s.randomize()
    assert s.values[:2] == before and s.values[2:] != [0.0, 1.0, 2.0]
    s.randomize("class")
    s.values = [0.0] * 5
    s.reset()
    s.reset("class")
    assert s.values[:2] == [0.0, 0.0] and s.values[2:] == [0.0, 1.0, 2.0]
    assert s.indices() == [2, 3, 4] and s.indices("class") == []
    s.unlock("class")  # allowed; the front end's unlock button does the same via `locked`
    s.reset("class")
    assert s.values[:2] == [0.5, -0.5]
    s.lock("nuisance")
    assert s.locked == ["nuisance"] and "nuisance" in s.warnings


def test_custom_warning_texts():
    s = make(locked_groups=["class"], warnings={"class": "Careful!"})
    assert s.warnings == {"class": "Careful!"}


def test_front_end_messages():
    s = make(locked_groups=["class"], seed=2)
    s._handle_custom_msg({"action": "randomize", "group": "nuisance"}, [])
    ref = make(locked_groups=["class"], seed=2)
    ref.randomize("nuisance")
    assert s.values == ref.values and s.status == "idle"
    s._handle_custom_msg({"action": "reset", "group": None}, [])
    assert s.values == s.defaults
    # An exception in a handler becomes the error trait, not an exception in the kernel.
    s._handle_custom_msg({"action": "reset", "group": "style"}, [])
    assert s.status == "error" and s.error.startswith("ValueError: unknown group 'style'")
    s._handle_custom_msg({"action": "randomize", "group": 3}, [])
    assert "TypeError" in s.error
    # The next successful action clears the error.
    s._handle_custom_msg({"action": "reset"}, [])
    assert s.status == "idle" and s.error == ""


def test_selected_and_configure():
    s = make()
    s.selected = 3
    assert s.selected == 3
    s.selected = 17
    assert s.selected == -1
    sent = []
    s._send = lambda msg, buffers=None: sent.append(msg)
    s.configure([0.0, 0.0], names=["a", "b"], groups=["g", "h"], maximum=[1, 2])
    assert len(sent) == 1  # one update for the whole new slider set
    assert s.names == ["a", "b"] and s.maximum == [1.0, 2.0] and s.values == [0.0, 0.0]
    assert s.to_dict() == {"names": ["a", "b"], "groups": ["g", "h"], "values": [0.0, 0.0],
                           "locked": []}


def test_to_png_bars():
    s = LatentSliders([-1.0, 1.0], minimum=-1, maximum=1, defaults=[0.0, 0.0])
    out = np.asarray(Image.open(io.BytesIO(s.to_png())))
    assert out.shape == (2 * 6 + 1, 128, 3)
    assert (out[0, 0] == 0).all() and (out[7, 127] == 0).all()  # ticks at the values
    assert (out[6] == 255).all()  # gap row
