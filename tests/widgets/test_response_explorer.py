"""ResponseExplorer without a browser: matrix clicks, interventions, maps, factor panel, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from invwidgets.data import helix, sprites
from invwidgets.methods.responses import causal_disentanglement_score, conditioned_response_matrix, response
from invwidgets.widgets.explorers.responses import ResponseExplorer


class TinyAE(nn.Module):
    """Defined here: a linear-sigmoid autoencoder for 16×16 sprites with 4 latents."""

    latent_dim = 4

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.enc = nn.Parameter(torch.randn(256, 4, generator=g) / 16)
        self.dec = nn.Parameter(torch.randn(4, 256, generator=g))

    def encode(self, x):
        return x.flatten(1) @ self.enc

    def decode(self, z):
        return torch.sigmoid(z @ self.dec).view(-1, 1, 16, 16)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Small batches of small models run fastest on one intra-op thread (no spin-waiting)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def data():
    return sprites(size=16, rotations=1)


def make(model, data=None, **kw):
    kw = {"n_samples": 32, "resolution": 12, "n_traversals": 2, "device": "cpu", "seed": 0, **kw}
    ex = ResponseExplorer(model, data, **kw)
    assert ex.wait_idle(120)
    return ex


@pytest.fixture(scope="module")
def explorer(data):
    ex = make(TinyAE(), data)
    yield ex
    ex.close()


def click(fig, x, y):
    """What the browser sends when a heatmap cell is clicked (its canvas chart's message)."""
    fig._handle_custom_msg({"action": "click", "trace": 0, "point": [y, x], "x": x, "y": y}, [])


def test_initial_state(explorer):
    assert explorer.status == "idle" and explorer.error == ""
    assert explorer.matrix.shape == (4, 4)
    assert np.allclose(np.array(explorer.matrix_fig.data[0].z), explorer.matrix.numpy())
    assert explorer.decoded.image.shape == (16, 16, 1)
    assert explorer.map.divergence.shape == (12, 12)
    assert explorer.posterior is not None and float(explorer.posterior.sum()) > 0
    assert explorer.kl_per_dim is None  # not a VAE: no posterior variance to compare with


def test_vae_shows_kl_per_dim_beside_the_diagonal(data):
    from invwidgets import zoo

    ex = make(zoo.load("vae-sprites-s0"), data, n_samples=64)
    try:
        assert ex.kl_per_dim is not None and ex.kl_per_dim.shape == (8,)
        assert list(ex.vector_fig.data[4].y) == pytest.approx(ex.kl_per_dim.tolist())
        assert torch.equal(ex.kl_per_dim > 0.5, ex.matrix.diagonal() > 0.5)  # active units
        top2 = torch.argsort(ex.matrix.diagonal(), descending=True, stable=True)[:2].tolist()
        assert list(ex.map.dims) == top2  # the map starts on the two most informative latents
    finally:
        ex.close()


def test_clicking_a_matrix_cell_shows_interventions(explorer):
    click(explorer.matrix_fig, 3, 1)  # column i = 3 responds, row j = 1 intervened
    assert explorer.wait_idle(30)
    assert explorer.cell == (1, 3)
    # the clicked cell stays marked on the matrix
    (mark,) = explorer.matrix_fig._figure["layout"]["shapes"]
    assert (mark["type"], mark["x0"], mark["y0"]) == ("rect", 3, 1)
    assert explorer.cell_images.n == explorer.n_steps
    assert explorer.cell_images.captions[0].startswith("z1=")
    z = torch.tensor(explorer.sliders.values).repeat(explorer.n_steps, 1)
    z[:, 1] = torch.linspace(-explorer.span, explorer.span, explorer.n_steps)
    expected = response(explorer.model, z)[:, 3]
    torch.testing.assert_close(explorer.cell_response, expected)
    assert list(explorer.cell_fig.data[0].y) == pytest.approx(expected.tolist())
    assert "do(z_1" in explorer.cell_fig.layout.title.text
    assert explorer.cell_fig.data[0].name == "R(z)_3"  # the legend names the latent plotted
    with pytest.raises(IndexError):
        explorer.select_cell(4, 0)


def test_sliders_drive_the_intervention_panel(explorer):
    values = [0.5, -1.0, 2.0, 0.0]
    explorer.sliders.set_state({"values": values})  # as the front end sends it
    assert explorer.wait_idle(30)
    r = response(explorer.model, torch.tensor([values]))[0]
    assert list(explorer.vector_fig.data[1].y) == pytest.approx(r.tolist(), abs=1e-6)
    assert list(explorer.vector_fig.data[2].y) == pytest.approx((r - torch.tensor(values)).tolist(), abs=1e-6)
    img = explorer.model.decode(torch.tensor([values])).detach()[0, 0].numpy()
    np.testing.assert_allclose(explorer.decoded.image[..., 0] / 255.0, img, atol=1 / 255 + 1e-6)


def test_map_controls_recompute_the_maps(explorer):
    explorer.set_map(dims=(2, 3), radius=1.0, resolution=16)
    assert explorer.wait_idle(30)
    assert explorer.dims == (2, 3) and explorer.map.dims == (2, 3)
    assert explorer.map.divergence.shape == (16, 16) and explorer.map.radius == 1.0
    assert explorer.map_divergence._heatmap_meta["h"] == 16
    assert explorer.map_decoded.n == 64  # every 2nd grid point: 8×8 images
    explorer.dim_b.value = 2  # same latent twice: an error in the widget, not in the kernel log
    assert explorer.status == "error" and "different latents" in explorer.error
    explorer.dim_b.value = 0
    assert explorer.wait_idle(30)
    assert explorer.status == "idle" and explorer.map.dims == (2, 0)


def test_factor_panel_scores_match_the_methods(explorer, data):
    assert explorer.has_factors
    cond = conditioned_response_matrix(explorer.model, data, n_traversals=2, generator=0)
    assert explorer.scores["cds"] == pytest.approx(causal_disentanglement_score(cond.matrix))
    assert explorer.conditioned.factor_names == ("shape", "scale", "x", "y")  # rotation has one value
    assert set(explorer.scores) == {"cds", "mig", "dci_disentanglement", "dci_completeness", "dci_informativeness"}
    explorer.select_factor("x")
    assert explorer.wait_idle(30)
    assert explorer.traversal_codes.shape == (8, 4) and explorer.factor_traversal.n == 8
    # 40 px cells: the heading names the factor, a caption only its value (so it is never cut off)
    assert "traversal of x" in explorer.factor_traversal.label
    assert explorer.factor_traversal.captions == [str(k) for k in range(8)]
    assert explorer.factor_dropdown.value == "x"
    with pytest.raises(ValueError, match="unknown factor"):
        explorer.select_factor("colour")


def test_same_seed_same_numbers_other_seed_different(data):
    a = make(TinyAE(), data, seed=3)
    b = make(TinyAE(), data, seed=3)
    c = make(TinyAE(), None, seed=4)
    try:
        assert torch.equal(a.matrix, b.matrix) and not torch.equal(a.matrix, c.matrix)
        a.new_base_point()
        b.new_base_point()
        assert a.wait_idle(30) and b.wait_idle(30)
        assert torch.equal(a.map.divergence, b.map.divergence)
        assert a.scores == b.scores
        assert not c.has_factors and c.codes is None
    finally:
        for ex in (a, b, c):
            ex.close()


def test_vector_model_shows_maps_without_images():
    class HelixAE(nn.Module):
        latent_dim = 2

        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 3)
            self.back = nn.Linear(3, 2)

        def encode(self, x):
            return self.back(x)

        def decode(self, z):
            return self.lin(z)

    ex = make(HelixAE(), helix(n=128), n_traversals=1)
    try:
        assert ex.status == "idle", ex.error
        assert ex.decoded.image is None and ex.map_decoded.n == 0
        assert ex.map.divergence.shape == (12, 12) and ex.matrix.shape == (2, 2)
        ex.select_cell(0, 1)
        assert ex.wait_idle(30) and ex.cell_response.shape == (ex.n_steps,)
    finally:
        ex.close()


def test_model_errors_become_the_error_trait(data):
    class Broken(TinyAE):
        def decode(self, z):
            raise RuntimeError("decoder exploded")

    ex = ResponseExplorer(Broken(), None, device="cpu", n_samples=8, resolution=8)
    try:
        assert ex.wait_idle(30)
        assert ex.status == "error" and "decoder exploded" in ex.error
    finally:
        ex.close()
    with pytest.raises(TypeError, match="dataset"):
        ResponseExplorer(TinyAE(), data.images)
    with pytest.raises(TypeError, match="not an autoencoder"):
        ResponseExplorer(object())
