"""ResponseExplorer shows a degenerate CDS as degenerate, and says which scale its matrix uses."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from invwidgets.data import Dataset, sprites
from invwidgets.methods.responses import encode_mean, latent_std, rescale, response_matrix
from invwidgets.widgets.explorers.responses import ResponseExplorer


class TinyAE(nn.Module):
    """Defined here: a linear-sigmoid autoencoder for 16×16 sprites with 4 latents of spread ≈ 3."""

    latent_dim = 4

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.enc = nn.Parameter(torch.randn(256, 4, generator=g) / 4)
        self.dec = nn.Parameter(torch.randn(4, 256, generator=g) / 4)

    def encode(self, x):
        return x.flatten(1) @ self.enc

    def decode(self, z):
        return torch.sigmoid(z @ self.dec).view(-1, 1, 16, 16)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make(model, data, **kw):
    ex = ResponseExplorer(model, data, n_samples=32, resolution=8, n_traversals=2, device="cpu", seed=0, **kw)
    assert ex.wait_idle(120) and ex.status == "idle", ex.error
    return ex


def test_a_single_factor_score_is_shown_as_degenerate_not_as_one():
    full = sprites(size=16, rotations=1)
    # only the shape varies: one factor, every traversal exact
    keep = (full.factors[:, 1] == 0) & (full.factors[:, 3] == 3) & (full.factors[:, 4] == 3)
    one = Dataset(full.images[keep], factors=full.factors[keep][:, :1], factor_names=("shape",), factor_sizes=(3,),
                  name="shapes-only")
    ex = make(TinyAE(), one)
    try:
        assert ex.conditioned.degenerate is not None and ex.scores["cds"] == pytest.approx(1.0)
        assert "degenerate" in ex.factor_fig.layout.title.text and "1.000" not in ex.factor_fig.layout.title.text
        bar = ex.scores_fig.data[0]
        assert bar.x[0] == "CDS (degenerate)" and bar.y[0] == 0.0
        assert "only one factor" in bar.hovertext[0]
    finally:
        ex.close()


def test_a_proper_grid_shows_the_number_and_the_raw_scale():
    data = sprites(size=16, rotations=1)
    ex = make(TinyAE(), data)
    try:
        assert ex.conditioned.degenerate is None and ex.scale == "raw"
        assert f"{ex.scores['cds']:.3f}" in ex.factor_fig.layout.title.text
        assert ex.scores_fig.data[0].x[0] == "CDS" and ex.scores_fig.data[0].y[0] == pytest.approx(ex.scores["cds"])
        assert "raw latent units" in ex.matrix_fig.layout.title.text
    finally:
        ex.close()


def test_std_scale_divides_the_matrix_by_each_latents_spread():
    data = sprites(size=16, rotations=1)
    model = TinyAE()
    ex = make(model, data, scale="std")
    try:
        assert "posterior std" in ex.matrix_fig.layout.title.text
        expected = rescale(response_matrix(model, 4, n_samples=32, generator=0),
                           latent_std(encode_mean(model, data.images)))
        assert torch.allclose(ex.matrix, expected, atol=1e-6)
    finally:
        ex.close()
    with pytest.raises(ValueError, match="needs a dataset"):
        ResponseExplorer(model, None, scale="std")
    with pytest.raises(ValueError, match="scale must be one of"):
        ResponseExplorer(model, data, scale="unit")
