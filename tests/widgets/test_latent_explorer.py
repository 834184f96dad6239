"""LatentExplorer without a browser: sliders → worker → image, picking, errors, any encode/decode."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from torch import nn

from invwidgets.data import digits, from_tensors, sprites
from invwidgets.widgets import LatentExplorer


class LinearAE(nn.Module):
    """A tiny autoencoder defined here, not taken from the zoo: 8×8 images, 3 latents."""

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.A = nn.Parameter(torch.randn(64, 3, generator=g) / 8)
        self.B = nn.Parameter(torch.randn(3, 64, generator=g))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) @ self.A

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(z @ self.B).view(-1, 1, 8, 8)


class PlainObject:
    """Not an nn.Module: anything with encode/decode works."""

    latent_dim = 2

    def encode(self, x):
        return x.flatten(1)[:, :2]

    def decode(self, z):
        return torch.sigmoid(z.sum(1, keepdim=True)).view(-1, 1, 1, 1).expand(-1, 1, 4, 4)


@pytest.fixture
def explorer():
    ex = LatentExplorer(LinearAE(), digits(), n_traversal=5, device="cpu")
    assert ex.wait_idle(10)
    yield ex
    ex.close()


def test_initial_frames(explorer):
    assert explorer.status == "idle" and explorer.error == ""
    assert explorer.latent_dim == 3
    assert explorer.decoded.image.shape == (8, 8, 1)
    assert explorer.traversal.n == 5
    assert explorer.original.image.shape == (8, 8, 1)


def test_slider_change_yields_new_frame_through_worker(explorer):
    before = explorer.decoded.image.copy()
    values = list(explorer.sliders.values)
    values[1] = explorer.sliders.maximum[1]
    explorer.sliders.set_state({"values": values})  # as the front end sends it
    assert explorer.wait_idle(10)
    after = explorer.decoded.image
    assert not np.array_equal(before, after)
    z = torch.tensor(values, dtype=torch.float32)
    expected = explorer.model.decode(z[None]).detach()[0, 0].numpy()
    np.testing.assert_allclose(after[..., 0] / 255.0, expected, atol=1 / 255 + 1e-6)
    assert explorer.decoded.status == "idle"


def test_traversal_follows_selected_latent(explorer):
    explorer.sliders.selected = 2
    assert explorer.wait_idle(10)
    captions = explorer.traversal.captions
    assert captions[0].startswith("z2=") and len(captions) == 5
    cells = explorer.traversal.images
    assert not np.array_equal(cells[0], cells[-1])


def test_picking_a_dataset_image_starts_from_its_encoding(explorer):
    explorer.picker.set_state({"selected": 4})
    assert explorer.wait_idle(10)
    i = explorer.pick_indices[4]
    assert explorer.index == i
    labels = digits().labels[explorer.pick_indices[:10]].tolist()
    assert sorted(labels) == list(range(10))  # the picker covers the classes
    assert explorer.picker.captions[4] == str(i)
    x = digits().images[i : i + 1]
    z = explorer.model.encode(x).detach()[0]
    np.testing.assert_allclose(explorer.sliders.values, z.numpy(), atol=1e-5)


def test_slider_ranges_cover_the_data_encodings(explorer):
    z = explorer.model.encode(digits().images).detach()
    lo, hi = np.array(explorer.sliders.minimum), np.array(explorer.sliders.maximum)
    # Every evenly spaced sample of 512 lies inside; the 10 % margin covers nearly all the rest.
    inside = ((z.numpy() >= lo) & (z.numpy() <= hi)).mean()
    assert inside > 0.99
    assert np.all(hi - lo >= 1.0)
    ex = LatentExplorer(LinearAE(), digits(), span=2.0, device="cpu")
    try:
        assert ex.sliders.minimum == [-2.0] * 3 and ex.sliders.maximum == [2.0] * 3
    finally:
        ex.close()


def test_set_latent_and_image(explorer):
    explorer.set_latent([0.5, -0.5, 1.0])
    assert explorer.wait_idle(10)
    img = explorer.image()
    assert img.shape == (1, 8, 8)
    np.testing.assert_allclose(explorer.decoded.image[..., 0] / 255.0, img[0], atol=1 / 255 + 1e-6)
    with pytest.raises(ValueError, match="expected 3"):
        explorer.set_latent([1.0])
    with pytest.raises(ValueError, match="NaN"):
        explorer.set_latent([float("nan"), 0, 0])
    with pytest.raises(IndexError):
        explorer.select(10_000)


def test_plain_object_with_encode_decode_and_no_dataset():
    ex = LatentExplorer(PlainObject(), device="cpu")
    try:
        assert ex.wait_idle(10)
        assert ex.latent_dim == 2 and ex.picker is None
        assert ex.decoded.image.shape == (4, 4, 1)
    finally:
        ex.close()


def test_not_an_autoencoder_is_a_clear_error():
    with pytest.raises(TypeError, match="no callable encode"):
        LatentExplorer(nn.Linear(2, 2), digits())
    with pytest.raises(ValueError, match="latent_dim"):
        LatentExplorer(LinearAE())
    with pytest.raises(TypeError, match="Dataset"):
        LatentExplorer(LinearAE(), torch.zeros(3, 1, 8, 8))


def test_model_that_raises_sets_error_and_kernel_goes_on():
    class Flaky(LinearAE):
        fail = False

        def decode(self, z):
            if self.fail:
                raise RuntimeError("CUDA out of memory (simulated)")
            return super().decode(z)

    model = Flaky()
    ex = LatentExplorer(model, digits(), device="cpu")
    try:
        assert ex.wait_idle(10)
        model.fail = True
        ex.sliders.set_state({"values": [1.0, 1.0, 1.0]})
        assert ex.wait_idle(10)
        assert ex.status == "error" and "out of memory" in ex.error
        model.fail = False
        ex.sliders.set_state({"values": [1.0, 1.0, 0.0]})
        assert ex.wait_idle(10)
        assert ex.status == "idle" and ex.error == ""
    finally:
        ex.close()


def test_wrong_output_shape_and_nan_are_clear_errors():
    class BadShape(LinearAE):
        def decode(self, z):
            return super().decode(z).flatten(1)  # N×64, not an image

    ex = LatentExplorer(BadShape(), digits(), device="cpu")
    try:
        assert ex.wait_idle(10)
        assert ex.status == "error" and "expected N×C×H×W" in ex.error
    finally:
        ex.close()

    class NaNs(LinearAE):
        def decode(self, z):
            return super().decode(z) * float("nan")

    ex = LatentExplorer(NaNs(), digits(), device="cpu")
    try:
        assert ex.wait_idle(10)
        assert ex.status == "error" and "NaN" in ex.error
    finally:
        ex.close()


def test_wrong_input_shape_for_model_is_shown_in_widget():
    data = from_tensors(torch.rand(4, 1, 16, 16))  # the model expects 8×8
    with pytest.raises(RuntimeError):
        # Encoding the first image happens in the constructor, synchronously: a clear failure.
        LatentExplorer(LinearAE(), data, device="cpu")


def test_zoo_decoder_end_to_end():
    from invwidgets import zoo

    model = zoo.load("ae-sprites")
    ds = sprites()
    ex = LatentExplorer(model, ds, device="cpu")
    try:
        assert ex.wait_idle(30)
        assert ex.decoded.image.shape[:2] == (32, 32)
        recon = ex.decoded.image[..., 0] / 255.0
        target = ds.images[0, 0].numpy()
        assert np.abs(recon - target).mean() < 0.1  # starts from a good reconstruction
    finally:
        ex.close()


def test_many_explorers_close_cleanly():
    from invwidgets.worker import get_worker

    get_worker("cpu").stop()
    baseline = threading.active_count()
    exs = [LatentExplorer(LinearAE(), digits(), device="cpu") for _ in range(10)]
    for ex in exs:
        assert ex.wait_idle(10)
    for ex in exs:
        ex.close()
    assert threading.active_count() == baseline


def test_dragging_the_selected_latent_does_not_recompute_its_traversal(explorer):
    explorer.sliders.selected = 1
    assert explorer.wait_idle(10)
    before = explorer.traversal.images.copy()
    computed = explorer.worker.computed
    values = list(explorer.sliders.values)
    values[1] = explorer.sliders.minimum[1]
    explorer.sliders.set_state({"values": values})
    assert explorer.wait_idle(10)
    assert explorer.worker.computed - computed == 1  # the decoded image only
    np.testing.assert_array_equal(explorer.traversal.images, before)
    # Moving another latent changes the traversal's base point.
    values[0] = explorer.sliders.maximum[0]
    explorer.sliders.set_state({"values": values})
    assert explorer.wait_idle(10)
    assert explorer.worker.computed - computed == 3
    assert not np.array_equal(explorer.traversal.images, before)


def test_reset_returns_to_the_picked_input_and_the_picker_follows_select():
    import invwidgets as iw

    iw.set_sync_mode(True)
    data = digits().subset(range(32))
    ex = LatentExplorer(LinearAE(), data, n_pick=8)
    try:
        index = ex.pick_indices[3]
        ex.select(index)  # from code, not from a click on the picker
        assert ex.picker.selected == 3 and ex.index == index
        picked = list(ex.sliders.values)
        ex.sliders.values = [0.0] * len(picked)
        ex.sliders.reset()
        assert ex.sliders.values == pytest.approx(picked)  # the picked input's encoding, not image 0's
        outside = next(i for i in range(len(data)) if i not in ex.pick_indices)
        ex.select(outside)
        assert ex.picker.selected == -1  # not offered: no outline left on the old image
    finally:
        ex.close()
        iw.set_sync_mode(None)
