"""A rejected input leaves the explorer as it was: index, controls, shown input and later requests."""

from __future__ import annotations

import pytest
import torch
import traitlets
from torch import nn

import invwidgets as iw
from invwidgets.data import color_digits, digits
from invwidgets.models import init_parameters
from invwidgets.models.iin import FactorIIN
from invwidgets.widgets.explorers import FactorExplorer, InvarianceExplorer, InversionExplorer, LatentExplorer
from invwidgets.widgets.explorers.inputs import check_image_batch, check_index


@pytest.fixture(autouse=True)
def _sync():
    iw.set_sync_mode(True)
    yield
    iw.set_sync_mode(None)


class LinearAE(nn.Module):
    """8×8 images, 4 latents; ``fail = True`` makes encode raise."""

    def __init__(self, channels: int = 1) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.c = channels
        self.A = nn.Parameter(torch.randn(64 * channels, 4, generator=g) / 8)
        self.B = nn.Parameter(torch.randn(4, 64 * channels, generator=g))
        self.fail = False

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        if self.fail:
            raise RuntimeError("encoder broke")
        return x.flatten(1) @ self.A

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(z @ self.B).view(-1, self.c, 8, 8)


def _nan_copy(ds, i: int):
    """The same dataset with image ``i`` made NaN in place (as a user's own pipeline might)."""
    ds = ds.subset(range(len(ds)))
    ds.images[i] = float("nan")
    return ds


def test_checks_name_what_to_change():
    with pytest.raises(ValueError, match=r"\[0, 1\].*x / 255"):
        check_image_batch(torch.rand(1, 8, 8) * 255, (1, 8, 8))
    with pytest.raises(ValueError, match="NaN"):
        check_image_batch(torch.full((1, 8, 8), float("nan")), (1, 8, 8))
    with pytest.raises(TypeError, match="floating point"):
        check_image_batch(torch.zeros(1, 8, 8, dtype=torch.uint8), (1, 8, 8))
    with pytest.raises(ValueError, match="shape"):
        check_image_batch(torch.rand(2, 8, 8), (1, 8, 8))
    assert check_image_batch(torch.rand(1, 8, 8, dtype=torch.float64), (1, 8, 8)).dtype == torch.float64
    with pytest.raises(IndexError):
        check_index(10, 10)
    with pytest.raises(TypeError):
        check_index(True, 10)
    assert check_index(torch.tensor(3), 10) == 3


def test_invariance_set_input_out_of_range_keeps_the_previous_input():
    svae, test = iw.zoo.load("svae-digits"), iw.zoo.test_split("svae-digits").subset(range(40))
    ex = InvarianceExplorer(svae, test, k=2, pool_size=16)
    try:
        ex.select(3)
        x_before, index_before = ex._x.clone(), ex.index
        ex.set_input(test.images[7] * 255)
        assert ex.status == "error" and "[0, 1]" in ex.error
        assert torch.equal(ex._x, x_before) and ex.index == index_before == 3
        assert ex.index_box.value == 3
        # Later requests still work on the previous input (they used to fail on the rejected one).
        handle = ex.resample(seed=5) or ex._handles[ex._key("resample")]
        assert handle.state == "done" and len(ex.sample_predictions) == 2
        ex.set_input(test.images[7])  # a valid input is accepted
        assert ex.index == -1 and torch.allclose(ex._x[0], test.images[7])
    finally:
        ex.close()


def test_invariance_select_of_a_nan_image_leaves_index_and_box():
    svae = iw.zoo.load("svae-digits")
    test = _nan_copy(iw.zoo.test_split("svae-digits").subset(range(40)), 5)
    ex = InvarianceExplorer(svae, test, k=2, pool_size=4, n_pick=4)
    try:
        x_before = ex._x.clone()
        with pytest.raises(ValueError, match="dataset image 5.*NaN"):
            ex.select(5)
        assert ex.index == 0 and ex.index_box.value == 0 and torch.equal(ex._x, x_before)
        ex.index_box.value = 5  # typed by the user: the error is shown, the box goes back
        assert ex.status == "error" and "NaN" in ex.error
        assert ex.index == 0 and ex.index_box.value == 0
        ex.select(6)
        assert ex.index == 6 and ex.index_box.value == 6
    finally:
        ex.close()


def test_latent_select_of_a_nan_image_or_a_failing_encoder_leaves_the_state():
    data = _nan_copy(digits().subset(range(30)), 4)  # not among the picker's 0, 10, 19, 29
    model = LinearAE()
    ex = LatentExplorer(model, data, n_pick=4, span=3.0)
    try:
        ex.select(2)
        values, shown = list(ex.sliders.values), ex.original.to_png()
        with pytest.raises(ValueError, match="NaN"):
            ex.select(4)
        assert ex.index == 2 and ex.sliders.values == values and ex.original.to_png() == shown
        model.fail = True
        ex.select(7)  # the model raises in the worker: shown as the error, nothing moves
        assert ex.status == "error" and "encoder broke" in ex.error
        assert ex.index == 2 and ex.sliders.values == values and ex.original.to_png() == shown
        model.fail = False
        ex.select(7)
        assert ex.index == 7 and ex.sliders.values != values
    finally:
        ex.close()


def test_inversion_select_of_a_nan_image_leaves_the_state():
    clf, inv = iw.zoo.load("cnn-digits-ckpts-s0").final, iw.zoo.load("inv-digits-s0")
    data = iw.zoo.test_split("inv-digits-s0").subset(range(40))
    ex = InversionExplorer(clf, ["fc"], data, inv, n_samples=2, n_pick=2, n_boot=10)
    try:
        data.images[3] = float("nan")  # the user's tensor changed after the explorer was built
        shown = ex.original.to_png()
        with pytest.raises(ValueError, match="NaN"):
            ex.select(3)
        assert ex.index == 0 and ex.original.to_png() == shown
        with pytest.raises(IndexError):
            ex.select(40)
        assert ex.index == 0
    finally:
        ex.close()


def test_factor_source_of_a_nan_image_is_refused():
    data = _nan_copy(color_digits().subset(range(40)), 9)
    ae = LinearAE(channels=3)
    iin = FactorIIN(4, [1, 1, 2], ["digit", "color", "residual"], n_blocks=1, hidden=4, seed=0)
    init_parameters(iin.blocks[0].coupling, torch.Generator().manual_seed(1))
    with torch.no_grad():
        iin(ae.encode(data.images[:8]))
    ex = FactorExplorer(ae, iin.eval(), decoder=ae, dataset=data, n_pick=4, n_resample=2, n_hist=4,
                        n_interp=3, n_scatter=4)
    try:
        before = (ex.source, ex.target)
        with pytest.raises(traitlets.TraitError, match="NaN"):
            ex.select(source=9)
        with pytest.raises(traitlets.TraitError, match="out of range"):
            ex.select(target=40)
        assert (ex.source, ex.target) == before
    finally:
        ex.close()
