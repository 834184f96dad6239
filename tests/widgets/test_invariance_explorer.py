"""InvarianceExplorer without a browser: nuisance sliders → worker → frame, locked class sliders,
seeded resampling, readouts of three classifiers, attribution heatmaps, clear errors.

The supervised VAE here is defined in this file (not taken from the zoo): any module with
``encode_dist``, ``decode``, ``classify`` and integer ``d_c``/``d_n`` works.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from invwidgets.data import digits
from invwidgets.methods.attribution import METHODS
from invwidgets.widgets.explorers.invariances import InvarianceExplorer


class TinySVAE(nn.Module):
    """A linear supervised VAE on 8×8 images: d_c = 2, d_n = 3, 10 classes, fixed random weights."""

    d_c, d_n, input_shape = 2, 3, (1, 8, 8)

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.enc = nn.Parameter(torch.randn(64, 5, generator=g) / 4)
        self.dec = nn.Parameter(torch.randn(5, 64, generator=g))
        self.head = nn.Parameter(torch.randn(2, 10, generator=g))

    def encode_dist(self, x):
        mu = x.flatten(1) @ self.enc
        return mu, torch.zeros_like(mu)

    def decode(self, z):
        return torch.sigmoid(z @ self.dec).view(-1, 1, 8, 8)

    def classify(self, z_c):
        return torch.tanh(z_c) @ self.head


class External(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(64, 10)
        torch.nn.init.normal_(self.fc.weight, generator=torch.Generator().manual_seed(1))

    def forward(self, x):
        return self.fc(x.flatten(1))


@pytest.fixture(scope="module")
def data():
    return digits().subset(range(64))


@pytest.fixture
def explorer(data):
    ex = InvarianceExplorer(TinySVAE(), data, External(), k=4, n_pick=8, device="cpu", seed=3)
    assert ex.wait_idle(30)
    yield ex
    ex.close()


def test_initial_state(explorer, data):
    assert explorer.status == "idle" and explorer.error == ""
    assert explorer.original.image.shape == (8, 8, 1)
    assert explorer.sample.image.shape == (8, 8, 1)
    assert explorer.grid.n == 4 and len(explorer.sample_predictions) == 4
    assert set(explorer.prediction) == {"latent", "closed_loop", "external"}
    # the sliders start at the posterior mean of image 0
    mu, _ = explorer.model.encode_dist(data.images[:1])
    np.testing.assert_allclose(explorer.sliders.values, mu[0].clamp(-3, 3).detach().numpy(), atol=1e-6)
    # class sliders are shown but locked, with a warning; nuisance sliders are free
    assert explorer.sliders.groups == ["class"] * 2 + ["nuisance"] * 3
    assert explorer.sliders.locked == ["class"]
    assert "decision" in explorer.sliders.warnings["class"]
    # heatmaps on the input, the sample, the grid, mean and std
    for view in (explorer.original, explorer.sample, explorer.mean_map, explorer.std_map):
        assert view.heatmap_limits is not None
    assert explorer.grid.heatmap_limits is not None
    assert "closed loop" in explorer.readout.value


def test_nuisance_slider_change_yields_new_frame_and_keeps_latent_class(explorer):
    before = explorer.sample.image.copy()
    latent_before = dict(explorer.prediction["latent"])
    values = list(explorer.sliders.values)
    values[2 + 1] = 2.5  # a nuisance slider, as the front end sends it
    explorer.sliders.set_state({"values": values})
    assert explorer.wait_idle(30)
    after = explorer.sample.image
    assert not np.array_equal(before, after)
    z = torch.tensor(values, dtype=torch.float32)
    expected = explorer.model.decode(z[None]).detach()[0, 0].numpy()
    np.testing.assert_allclose(after[..., 0] / 255.0, expected, atol=1 / 255 + 1e-6)
    # the latent classifier reads z_c only: bit-identical class and probability
    assert explorer.prediction["latent"] == latent_before
    # the difference view shows x' - x
    assert explorer.difference.heatmap_limits == (-1.0, 1.0)


def test_class_slider_change_can_change_the_decision(explorer):
    explorer.sliders.unlock("class")
    probs = set()
    for v in (-3.0, 0.0, 3.0):
        values = list(explorer.sliders.values)
        values[0] = v
        values[1] = -v
        explorer.sliders.set_state({"values": values})
        assert explorer.wait_idle(30)
        probs.add(round(explorer.prediction["latent"]["probability"], 6))
    assert len(probs) > 1


def test_resampling_with_a_fixed_seed_is_deterministic(data):
    grids = []
    for _ in range(2):
        ex = InvarianceExplorer(TinySVAE(), data, k=5, device="cpu", seed=11)
        try:
            assert ex.wait_idle(30)
            first = ex.grid.images.copy()
            ex.resample()
            assert ex.wait_idle(30)
            second = ex.grid.images.copy()
            ex.resample(seed=11)  # replaying the first draw
            assert ex.wait_idle(30)
            np.testing.assert_array_equal(ex.grid.images, first)
            grids.append((first, second))
        finally:
            ex.close()
    np.testing.assert_array_equal(grids[0][0], grids[1][0])
    np.testing.assert_array_equal(grids[0][1], grids[1][1])
    assert not np.array_equal(grids[0][0], grids[0][1])


def test_resampled_grid_matches_the_methods_layer(data):
    from invwidgets.methods.attribution import attribute, composed_classifier
    from invwidgets.methods.invariances import invariant_samples

    model = TinySVAE()
    ex = InvarianceExplorer(model, data, k=10, device="cpu", seed=4)  # 10 > attribution_batch: two batches
    try:
        assert ex.wait_idle(30)
        s = invariant_samples(model, data.images[:1], 10, torch.Generator().manual_seed(4))
        np.testing.assert_allclose(ex.grid.images[..., 0] / 255.0, s.images[0, :, 0].numpy(), atol=1 / 255 + 1e-6)
        attr = attribute(composed_classifier(model), s.images[0], int(s.label[0]), "integrated_gradients")
        bound = float(attr.sum(1).abs().max())
        assert ex.grid.heatmap_limits == pytest.approx((-bound, bound), rel=1e-5)
        closed = composed_classifier(model)(s.images[0]).argmax(1).tolist()
        assert ex.sample_predictions == closed
    finally:
        ex.close()


def test_resample_button_and_posterior_source(explorer):
    before = explorer.grid.images.copy()
    explorer.resample_button.click()
    assert explorer.wait_idle(30)
    assert not np.array_equal(before, explorer.grid.images)
    explorer.source_box.value = "posterior"
    assert explorer.wait_idle(30)
    assert explorer.source == "posterior" and explorer.error == ""
    # posterior draws are rows of the pool: the grid's latents come from encoded dataset images
    assert explorer._pool is not None and explorer._pool["z_n"].shape == (64, 3)


@pytest.mark.parametrize("method", list(METHODS))
def test_every_attribution_method(explorer, method):
    explorer.method_box.value = method
    assert explorer.wait_idle(30)
    assert explorer.method == method
    assert explorer.status == "idle" and explorer.error == ""
    assert explorer.original.heatmap_limits is not None


def test_selecting_a_nuisance_slider_shows_its_pixel_map(explorer):
    from invwidgets.methods.invariances import nuisance_pixel_map

    assert explorer.pixel_map.heatmap_limits is None
    explorer.sliders.set_state({"selected": 2 + 1})  # nuisance n1, as the front end sends it
    assert explorer.wait_idle(30)
    assert explorer.pixel_map.caption == "∂x'/∂n1"
    z = torch.tensor(explorer.sliders.values)
    bound = float(nuisance_pixel_map(explorer.model, z, 1).sum(0).abs().max())
    assert explorer.pixel_map.heatmap_limits == pytest.approx((-bound, bound), rel=1e-5)
    explorer.sliders.set_state({"selected": 0})  # a class slider: no map request, no error
    assert explorer.wait_idle(30) and explorer.error == ""


def test_overlay_opacity_applies_to_every_heatmap_view(explorer):
    explorer.opacity_box.value = 0.8
    for view in (explorer.original, explorer.sample, explorer.mean_map, explorer.std_map, explorer.grid):
        assert view.heatmap_opacity == pytest.approx(0.8)
    assert explorer.difference.heatmap_opacity == 1.0  # the difference image is the heatmap itself


def test_picking_an_image_and_the_index_box(explorer, data):
    explorer.picker.set_state({"selected": 5})
    assert explorer.wait_idle(30)
    assert explorer.index == 5 and explorer.index_box.value == 5
    np.testing.assert_allclose(explorer.original.image[..., 0] / 255.0, data.images[5, 0].numpy(), atol=1 / 255 + 1e-6)
    explorer.index_box.value = 7
    assert explorer.wait_idle(30)
    assert explorer.index == 7


def test_wrong_input_shape_is_a_clear_error_in_the_widget_and_the_kernel_goes_on(explorer):
    explorer.set_input(torch.rand(1, 7, 7))  # the model expects 1×8×8
    assert explorer.wait_idle(30)
    assert explorer.status == "error"
    assert "shape" in explorer.error and "(1, 8, 8)" in explorer.error
    explorer.set_input(torch.full((1, 8, 8), float("nan")))
    assert explorer.wait_idle(30)
    assert "NaN" in explorer.error
    explorer.set_input(torch.zeros(1, 8, 8, dtype=torch.int64))
    assert explorer.wait_idle(30)
    assert "floating point" in explorer.error
    # the widget keeps working
    x = torch.rand(1, 8, 8, generator=torch.Generator().manual_seed(0))
    explorer.set_input(x)
    assert explorer.wait_idle(30)
    assert explorer.status == "idle" and explorer.error == "" and explorer.index == -1
    np.testing.assert_allclose(explorer.original.image[..., 0] / 255.0, x[0].numpy(), atol=1 / 255 + 1e-6)


def test_model_that_raises_sets_error_and_recovers(data):
    class Flaky(TinySVAE):
        fail = False

        def decode(self, z):
            if self.fail:
                raise RuntimeError("decoder exploded (simulated)")
            return super().decode(z)

    model = Flaky()
    ex = InvarianceExplorer(model, data, k=2, device="cpu")
    try:
        assert ex.wait_idle(30)
        model.fail = True
        ex.set_nuisance([1.0, 1.0, 1.0])
        assert ex.wait_idle(30)
        assert ex.status == "error" and "exploded" in ex.error
        model.fail = False
        ex.set_nuisance([0.0, 1.0, 1.0])
        assert ex.wait_idle(30)
        assert ex.status == "idle" and ex.error == ""
    finally:
        ex.close()


def test_construction_errors(data):
    with pytest.raises(TypeError, match="not a supervised VAE"):
        InvarianceExplorer(nn.Linear(2, 2), data)
    with pytest.raises(TypeError, match="Dataset"):
        InvarianceExplorer(TinySVAE(), torch.zeros(3, 1, 8, 8))
    with pytest.raises(ValueError, match="method"):
        InvarianceExplorer(TinySVAE(), data, method="lrp")
    with pytest.raises(ValueError, match="k must"):
        InvarianceExplorer(TinySVAE(), data, k=0)


def test_shipped_supervised_vae_end_to_end():
    from invwidgets import zoo

    model, base = zoo.load("svae-digits"), zoo.load("baseline-digits")
    test = zoo.test_split("svae-digits")
    ex = InvarianceExplorer(model, test, base, k=6, device="cpu")
    try:
        assert ex.wait_idle(60)
        assert ex.error == ""
        label = int(test.labels[0])
        assert ex.prediction["latent"]["class"] == label
        assert ex.prediction["closed_loop"]["class"] == label
        # invariant samples keep the class through the closed loop (most of them)
        assert sum(c == label for c in ex.sample_predictions) >= 5
    finally:
        ex.close()


def test_explorers_close_cleanly(data):
    import threading

    from invwidgets.worker import get_worker

    get_worker("cpu").stop()
    baseline = threading.active_count()
    exs = [InvarianceExplorer(TinySVAE(), data, k=2, device="cpu") for _ in range(4)]
    for ex in exs:
        assert ex.wait_idle(30)
    children = [w for ex in exs for w in ex._owned_widgets()]
    for ex in exs:
        ex.close()
    assert threading.active_count() == baseline
    assert all(w.comm is None for w in children)
