"""FactorExplorer without a browser: swaps, interpolation, seeded resampling, charts, concept
training (progress, cancel) and clear errors, with small models defined here."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from invwidgets.data import color_digits
from invwidgets.models import init_parameters
from invwidgets.models.iin import FactorIIN
from invwidgets.widgets.explorers.factors import FactorExplorer

DIM = 4


class TinyAE(nn.Module):
    """A linear autoencoder on 3×8×8 images with a 4-d latent (not from the zoo)."""

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.A = nn.Parameter(torch.randn(192, DIM, generator=g) / 8)
        self.B = nn.Parameter(torch.randn(DIM, 192, generator=g) / 2)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) @ self.A

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(z @ self.B).view(-1, 3, 8, 8)


@pytest.fixture(scope="module")
def data():
    return color_digits().subset(torch.arange(200))


@pytest.fixture(scope="module")
def models(data):
    ae = TinyAE()
    iin = FactorIIN(DIM, [1, 1, 2], ["digit", "color", "residual"], n_blocks=2, hidden=8, seed=0)
    g = torch.Generator().manual_seed(1)
    for block in iin.blocks:
        init_parameters(block.coupling, g)
    with torch.no_grad():
        iin(ae.encode(data.images))  # ActNorm initialisation
    head_w = torch.randn(10, DIM, generator=g)
    return ae, iin.eval(), (lambda z: z @ head_w.T)


@pytest.fixture
def explorer(models, data):
    ae, iin, head = models
    ex = FactorExplorer(ae, iin, decoder=ae, classifier_head=head, dataset=data, n_pick=8, n_resample=6,
                        n_hist=50, n_interp=5, n_scatter=100, seed=3, device="cpu")
    assert ex.wait_idle(60)
    yield ex
    ex.close()


def test_initial_state(explorer, data):
    assert explorer.status == "idle" and explorer.error == ""
    assert explorer.source == 0 and explorer.target == 1 and explorer.swap == []
    assert explorer.swap_view.image.shape == (8, 8, 3)
    assert explorer.interp_strip.n == 10  # IIN row + linear row
    assert explorer.resample_grid.n == 6
    assert sum(explorer.hist_fig.data[0].y) == 50
    assert len(explorer.scatter_fig.data[0].x) == 100
    est = explorer.dim_estimate
    assert est["names"] == ["digit", "color", "residual"] and sum(est["sizes"]) == DIM
    assert list(explorer.dims_fig.data[1].y) == est["sizes"]


def test_swapping_every_factor_gives_the_source(explorer, models, data):
    ae, iin, _ = models
    before = explorer.swap_view.image.copy()
    explorer.swap_toggles["color"].value = True
    assert explorer.swap == ["color"]
    assert explorer.wait_idle(30)
    assert not np.array_equal(explorer.swap_view.image, before)
    explorer.swap = ["digit", "color", "residual"]
    assert explorer.wait_idle(30)
    assert all(t.value for t in explorer.swap_toggles.values())
    r = explorer.compute_swap(0, 1, ["digit", "color", "residual"])
    with torch.no_grad():
        z_src = ae.encode(data.images[:1])
    assert torch.allclose(r["z"], z_src, atol=1e-4)
    expected = (ae.decode(z_src)[0].clamp(0, 1).permute(1, 2, 0).detach().numpy() * 255).round()
    assert np.abs(explorer.swap_view.image.astype(float) - expected).max() <= 1
    explorer.swap = []
    assert explorer.wait_idle(30)
    assert torch.allclose(explorer.compute_swap(0, 1, [])["z"], ae.encode(data.images[1:2]).detach(), atol=1e-5)


def test_interpolation_ends_at_source_and_slider_updates(explorer, models, data):
    ae, _, _ = models
    r = explorer.compute_interp(2, 5, "residual", [0.0, 1.0])
    with torch.no_grad():
        z_a = ae.encode(data.images[2:3])
    assert torch.allclose(r["iin_z"][0], z_a[0], atol=1e-4)
    assert torch.allclose(r["linear_z"][0], z_a[0])
    explorer.select(source=2, target=5)
    # the pickers outline the pair chosen from code (or nothing when they do not offer it)
    for picker, index in ((explorer.source_picker, 2), (explorer.target_picker, 5)):
        offered = explorer.pick_indices
        assert picker.selected == (offered.index(index) if index in offered else -1)
    explorer.alpha.value = 1.0
    assert explorer.wait_idle(30)
    assert explorer.error == ""
    first = explorer.interp_iin_view.image.copy()
    explorer.alpha.value = 0.0
    assert explorer.wait_idle(30)
    assert not np.array_equal(first, explorer.interp_iin_view.image)


def test_resampling_is_deterministic_under_a_seed(models, data, explorer):
    ae, iin, head = models
    other = FactorExplorer(ae, iin, decoder=ae, classifier_head=head, dataset=data, n_pick=8, n_resample=6,
                           n_hist=50, n_interp=5, n_scatter=100, seed=3, device="cpu")
    try:
        assert other.wait_idle(60)
        assert np.array_equal(other.resample_grid.images, explorer.resample_grid.images)
        assert list(other.hist_fig.data[0].y) == list(explorer.hist_fig.data[0].y)
        a = explorer.compute_resample(0, "digit", 11)
        b = other.compute_resample(0, "digit", 11)
        assert torch.equal(a["z"], b["z"]) and torch.equal(a["labels"], b["labels"]) and a["std"] == b["std"]
        before = explorer.resample_grid.images.copy()
        explorer.resample_button.click()  # a new draw
        assert explorer.wait_idle(30)
        assert not np.array_equal(before, explorer.resample_grid.images)
    finally:
        other.close()


def test_scatter_follows_the_chosen_factor(explorer, data):
    explorer.scatter_factor.value = "color"
    assert explorer.wait_idle(30)
    assert list(explorer.scatter_fig.data[0].marker.color) == data.factors[:100, 1].tolist()
    assert "color" in explorer.scatter_fig.layout.title.text


def test_concept_from_two_sketches_trains_with_progress(explorer):
    a = torch.zeros(8, 8)
    a[1:7, 3:5] = 1.0
    b = torch.zeros(8, 8)
    b[1:7, 1:7] = 1.0
    b[2:6, 2:6] = 0.0
    seen = []
    explorer.observe(lambda ch: seen.append(dict(ch["new"])), names="progress")
    explorer.sketch_a.set_array(a.numpy())
    explorer.sketch_b.set_array(b.numpy())
    explorer.train_button.click()
    assert explorer.wait_idle(120)
    assert explorer.error == "", explorer.error
    assert explorer.concept_iin is not None and explorer.concept_iin.factor_names == ("concept", "residual")
    assert explorer.concept_grid.n == 12
    assert any(p.get("total") == explorer.concept_steps.value for p in seen)


def test_concept_training_can_be_cancelled(explorer):
    a = torch.zeros(8, 8)
    a[2:6, 2:6] = 1.0
    b = torch.zeros(8, 8)
    b[0:8, 3:5] = 1.0
    explorer.concept_iin = None
    explorer.train_concept(a, b, name="thin", steps=3000)
    explorer.cancel_button.click()
    assert explorer.wait_idle(60)
    assert explorer.concept_iin is None
    assert explorer.status != "busy"


def test_bad_sketches_and_inputs_are_clear_errors(explorer, models, data):
    ae, iin, head = models
    explorer.sketch_a.clear()
    explorer.train_button.click()  # an empty sketch: shown in the widget, not raised
    assert explorer.status == "error" and "empty" in explorer.error
    with pytest.raises(Exception, match="out of range"):
        explorer.source = 10_000
    with pytest.raises(Exception, match="unknown factors"):
        explorer.swap = ["shape"]
    with pytest.raises(TypeError, match="FactorIIN"):
        FactorExplorer(ae, nn.Linear(4, 4), decoder=ae, dataset=data)
    with pytest.raises(TypeError, match="Dataset"):
        FactorExplorer(ae, iin, decoder=ae, dataset=data.images)
    with pytest.raises(TypeError, match="encoder"):
        FactorExplorer(None, iin, decoder=ae, dataset=data)


def test_an_encoder_that_fails_shows_an_error(models, data):
    ae, iin, head = models
    wrong = lambda x: torch.zeros(x.shape[0], 3)  # noqa: E731  (wrong dimension)
    ex = FactorExplorer(wrong, iin, decoder=ae, classifier_head=head, dataset=data, n_pick=4, device="cpu")
    try:
        assert ex.wait_idle(30)
        assert ex.status == "error" and "expected N×4" in ex.error
    finally:
        ex.close()

    def nan_encoder(x):
        return torch.full((x.shape[0], DIM), float("nan"))

    ex = FactorExplorer(nan_encoder, iin, decoder=ae, dataset=data, n_pick=4, device="cpu")
    try:
        assert ex.wait_idle(30)
        assert ex.status == "error" and "NaN" in ex.error
    finally:
        ex.close()
