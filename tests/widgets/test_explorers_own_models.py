"""Every explorer with users' own models: float64 models, outputs chosen with the adapter, a
decoder whose values leave [0, 1] (the explorer says how many it clamped), and a cancelled fit.

Built in sync mode (every request runs in the calling thread), with tiny models defined here.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import invwidgets as iw
from invwidgets.data import color_digits, digits, sprites
from invwidgets.models import as_autoencoder, as_classifier, init_parameters
from invwidgets.models.iin import FactorIIN
from invwidgets.widgets.explorers import (
    FactorExplorer,
    InvarianceExplorer,
    InversionExplorer,
    ResponseExplorer,
)
from invwidgets.widgets.explorers.latent import LatentExplorer


@pytest.fixture
def sync():
    iw.set_sync_mode(True)
    yield
    iw.set_sync_mode(None)


class LinearAE(nn.Module):
    """A linear-sigmoid autoencoder with ``d`` latents on images of ``shape``; ``scale`` and
    ``shift`` move the decoder's output (outside [0, 1] when scale > 1)."""

    def __init__(self, shape=(1, 8, 8), d: int = 3, scale: float = 1.0, shift: float = 0.0, dict_out: bool = False):
        super().__init__()
        n = int(torch.tensor(shape).prod())
        g = torch.Generator().manual_seed(0)
        self.enc = nn.Parameter(torch.randn(n, d, generator=g) / n**0.5)
        self.dec = nn.Parameter(torch.randn(d, n, generator=g))
        self.shape, self.latent_dim, self.scale, self.shift, self.dict_out = tuple(shape), d, scale, shift, dict_out

    def encode(self, x):
        return x.flatten(1) @ self.enc

    def decode(self, z):
        x = (torch.sigmoid(z @ self.dec) * self.scale + self.shift).view(-1, *self.shape)
        return {"image": x, "z": z} if self.dict_out else x


class TinySVAE(nn.Module):
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


class DictCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))

    def forward(self, x):
        return {"logits": self.body(x)}


def _ok(ex) -> None:
    assert ex.status != "error", ex.error


# ----------------------------------------------------------------------------- float64 models
def test_latent_explorer_with_a_float64_autoencoder(sync):
    ex = LatentExplorer(LinearAE().double(), digits().subset(range(32)), device="cpu")
    try:
        _ok(ex)
        assert ex.image().shape == (1, 8, 8) and ex.clamped == 0.0
    finally:
        ex.close()


def test_response_explorer_with_a_float64_autoencoder(sync):
    ex = ResponseExplorer(LinearAE((1, 16, 16), 4).double(), sprites(size=16, rotations=1), n_samples=16,
                          resolution=8, n_traversals=1, device="cpu")
    try:
        _ok(ex)
        assert ex.matrix is not None and ex.matrix.dtype == torch.float32 and ex.conditioned is not None
    finally:
        ex.close()


def test_invariance_explorer_with_a_float64_svae_and_a_dict_classifier(sync):
    data = digits().subset(range(32))
    ex = InvarianceExplorer(TinySVAE().double(), data, DictCNN(), k=2, device="cpu")
    try:  # the classifier runs in the worker: its error is the explorer's error trait
        assert ex.status == "error" and "output='logits'" in ex.error
    finally:
        ex.close()
    ex = InvarianceExplorer(TinySVAE().double(), data, as_classifier(DictCNN().double(), output="logits"), k=2,
                            device="cpu")
    try:
        _ok(ex)
        assert set(ex.prediction) == {"latent", "closed_loop", "external"}
        assert len(ex.sample_predictions) == 2
    finally:
        ex.close()


def test_factor_explorer_with_float64_models(sync):
    data = color_digits().subset(torch.arange(64))
    ae = LinearAE((3, 8, 8), 4).double()
    iin = FactorIIN(4, [1, 1, 2], ["digit", "color", "residual"], n_blocks=1, hidden=8, seed=0)
    for block in iin.blocks:
        init_parameters(block.coupling, torch.Generator().manual_seed(1))
    iin = iin.double()
    with torch.no_grad():
        iin(ae.encode(data.images.double()))  # ActNorm initialisation from data
    iin.eval()
    head = nn.Linear(4, 10).double()
    ex = FactorExplorer(ae, iin, decoder=ae, classifier_head=head, dataset=data, n_pick=4, n_resample=4,
                        n_hist=10, n_interp=3, n_scatter=20, device="cpu")
    try:
        _ok(ex)
        assert ex.resample_grid.images is not None
    finally:
        ex.close()


def test_inversion_explorer_with_a_float64_classifier(sync):
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 4)).double()
    ex = InversionExplorer(net, ["1"], digits().subset(range(40)), n_samples=2, n_boot=10, device="cpu",
                           fit={"epochs": 1, "pixelcnn": {"channels": 4, "n_layers": 1, "cond_hidden": 8}})
    try:
        _ok(ex)
        assert ex.inversions is not None and ex.mi is not None and ex.note.value == ""
    finally:
        ex.close()


# ----------------------------------------------------------------------------- outputs and clamping
def test_dict_decoder_error_names_decode_output_and_the_adapter_fixes_it(sync):
    data = digits().subset(range(16))
    ex = LatentExplorer(LinearAE(dict_out=True), data, device="cpu")
    try:  # the decoder runs in the worker: its error is the explorer's error trait
        assert ex.status == "error" and "decode_output='image'" in ex.error
    finally:
        ex.close()
    ex = LatentExplorer(as_autoencoder(LinearAE(dict_out=True), decode_output="image"), data, device="cpu")
    try:
        _ok(ex)
        assert ex.image().shape == (1, 8, 8)
    finally:
        ex.close()


def test_decoder_outside_unit_interval_is_reported(sync):
    data = digits().subset(range(16))
    ae = LinearAE(scale=10.0, shift=-4.5)  # values in (-4.5, 5.5)
    ex = LatentExplorer(ae, data, device="cpu")
    try:
        _ok(ex)
        assert ex.clamped > 0  # the frames decoded while building it
        ex.image()  # decodes the current point: clamped is now that image's fraction
        with torch.no_grad():
            raw = ae.decode(torch.tensor([ex.sliders.values]))
        want = float(((raw < 0) | (raw > 1)).float().mean())
        assert want > 0 and ex.clamped == pytest.approx(want)
        assert "clamped" in ex.status_text
    finally:
        ex.close()
    ex = ResponseExplorer(LinearAE((1, 16, 16), 4, scale=10.0, shift=-4.5), sprites(size=16, rotations=1),
                          n_samples=8, resolution=8, n_traversals=1, device="cpu")
    try:
        assert ex.clamped > 0 and "clamped" in ex.status_text
    finally:
        ex.close()


# ----------------------------------------------------------------------------- cancelled fit
def test_a_cancelled_fit_says_so_in_the_note():
    iw.set_sync_mode(False)
    try:
        net = nn.Sequential(nn.Flatten(), nn.Linear(64, 4))
        ex = InversionExplorer(net, ["1"], digits().subset(range(200)), device="cpu",
                               fit={"epochs": 500, "pixelcnn": {"channels": 4, "n_layers": 1, "cond_hidden": 8}})
        try:
            assert "fitting" in ex.note.value
            ex.cancel("fit")
            assert ex.wait_idle(120)
            assert ex.inversions is None
            assert "cancelled" in ex.note.value and "background" not in ex.note.value
        finally:
            ex.close()
    finally:
        iw.set_sync_mode(None)
