"""Users' own models through the methods: float64 models give the float32 model's numbers,
classifiers returning dicts/tuples need (and accept) ``output=``, and the edge cases that used to
fail with unrelated errors (a ModuleDict split, fitting on one image, an MI over one image)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from invwidgets.data import sprites
from invwidgets.methods.attribution import attribute, composed_classifier, integrated_gradients
from invwidgets.methods.factors import SequentialSplit, factor_sensitivity
from invwidgets.methods.invariances import (
    encode_split,
    invariance_rates,
    invariant_samples,
    nuisance_pixel_map,
    nuisance_traversal,
)
from invwidgets.methods.inversion import fit_inversions, layer_features, mutual_information
from invwidgets.methods.layers import layer_output
from invwidgets.methods.responses import conditioned_response_matrix, response, response_matrix
from invwidgets.models import as_classifier, init_parameters
from invwidgets.models.iin import FactorIIN
from invwidgets.models.pixelcnn import InversionSet


class SpritesAE(nn.Module):
    """A linear-sigmoid autoencoder for 16×16 sprites with 3 latents, defined here."""

    latent_dim = 3

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.enc = nn.Parameter(torch.randn(256, 3, generator=g) / 16)
        self.dec = nn.Parameter(torch.randn(3, 256, generator=g))

    def encode(self, x):
        return x.flatten(1) @ self.enc

    def decode(self, z):
        return torch.sigmoid(z @ self.dec).view(-1, 1, 16, 16)


class TinySVAE(nn.Module):
    """A linear supervised VAE on 8×8 images: d_c = 2, d_n = 3, 4 classes."""

    d_c, d_n, input_shape = 2, 3, (1, 8, 8)

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.enc = nn.Parameter(torch.randn(64, 5, generator=g) / 4)
        self.dec = nn.Parameter(torch.randn(5, 64, generator=g))
        self.head = nn.Parameter(torch.randn(2, 4, generator=g))

    def encode_dist(self, x):
        mu = x.flatten(1) @ self.enc
        return mu, torch.zeros_like(mu)

    def decode(self, z):
        return torch.sigmoid(z @ self.dec).view(-1, 1, 8, 8)

    def classify(self, z_c):
        return torch.tanh(z_c) @ self.head


class DictClassifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(64, 4))

    def forward(self, x):
        return {"logits": self.body(x), "hidden": x.flatten(1)}


def _images(n: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def data():
    return sprites(size=16, rotations=1)


# ----------------------------------------------------------------------------- float64 models
def test_float64_autoencoder_response_matrices_match_float32(data):
    ae = SpritesAE()
    ae64 = SpritesAE().double()
    m32 = response_matrix(ae, n_samples=16, generator=0)
    m64 = response_matrix(ae64, n_samples=16, generator=0)
    assert m64.dtype == torch.float32
    torch.testing.assert_close(m64, m32, rtol=1e-4, atol=1e-5)
    c32 = conditioned_response_matrix(ae, data, n_traversals=2, n_samples=4, generator=0)
    c64 = conditioned_response_matrix(ae64, data, n_traversals=2, n_samples=4, generator=0)
    torch.testing.assert_close(c64.matrix, c32.matrix, rtol=1e-4, atol=1e-5)


def test_float64_svae_through_the_invariance_methods():
    svae, svae64 = TinySVAE(), TinySVAE().double()
    x = _images(3)
    z_c, z_n = encode_split(svae64, x)
    assert z_c.dtype == torch.float64 and z_c.shape == (3, 2)
    s32 = invariant_samples(svae, x, 4, torch.Generator().manual_seed(0))
    s64 = invariant_samples(svae64, x, 4, torch.Generator().manual_seed(0))
    torch.testing.assert_close(s64.images.float(), s32.images, rtol=1e-4, atol=1e-5)
    assert torch.equal(s64.label, s32.label)
    assert nuisance_traversal(svae64, x[:1], 0, steps=3).shape == (3, 1, 8, 8)
    external = nn.Sequential(nn.Flatten(), nn.Linear(64, 4)).double()
    rates = invariance_rates(svae64, x, torch.Generator().manual_seed(0), k=2, external=external)
    assert rates["latent"] == 1.0 and 0.0 <= rates["external"] <= 1.0
    pix = nuisance_pixel_map(svae64, torch.zeros(5), 1)
    torch.testing.assert_close(pix.float(), nuisance_pixel_map(svae, torch.zeros(5), 1), rtol=1e-4, atol=1e-6)


def test_float64_classifiers_through_attribution():
    svae64 = TinySVAE().double()
    x = _images(2)
    a64 = attribute(composed_classifier(svae64), x, 0, "saliency")
    a32 = attribute(composed_classifier(TinySVAE()), x, 0, "saliency")
    assert a64.shape == x.shape
    torch.testing.assert_close(a64.float(), a32, rtol=1e-4, atol=1e-6)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 4)).double()
    attr, gap = integrated_gradients(net, x, 1, n_steps=16)
    assert attr.shape == x.shape and float(gap.abs().max()) < 1e-4  # linear: IG is exact


def test_float64_classifier_layers_and_inversion_features():
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 4), nn.ReLU()).double()
    feats = layer_features(net, ["1", "input"], _images(5))
    assert feats["1"].dtype == torch.float32 and feats["1"].shape == (5, 4)
    assert layer_output(as_classifier(net), "1", _images(2)).dtype == torch.float64


def test_float64_iin_head_in_factor_sensitivity():
    iin = FactorIIN(4, [2, 2], ["a", "residual"], n_blocks=1, hidden=8, seed=0).double().eval()
    head = nn.Linear(4, 3).double()
    std, labels = factor_sensitivity(iin, torch.randn(2, 4), head, "a", 5, torch.Generator().manual_seed(0))
    assert std.shape == (2,) and labels.shape == (2, 5)


# ----------------------------------------------------------------------------- output selection
def test_dict_classifier_needs_output_and_then_works():
    x = _images(2)
    with pytest.raises(TypeError, match="output='logits'"):
        attribute(DictClassifier(), x, 0, "saliency")
    clf = as_classifier(DictClassifier(), output="logits")
    assert attribute(clf, x, 0, "saliency").shape == x.shape

    class TupleClassifier(DictClassifier):
        def forward(self, x):
            out = super().forward(x)
            return out["logits"], out["hidden"]

    with pytest.raises(TypeError, match="output=0"):
        attribute(TupleClassifier(), x, 0, "saliency")
    assert attribute(as_classifier(TupleClassifier(), output=0), x, 0, "saliency").shape == x.shape
    # invariance rates with an external classifier that returns a dict
    rates = invariance_rates(TinySVAE(), x, torch.Generator().manual_seed(0), k=2, external=clf)
    assert 0.0 <= rates["external"] <= 1.0


def test_tuple_decoder_needs_decode_output():
    from invwidgets.models import as_autoencoder

    class TupleDecoder(SpritesAE):
        def decode(self, z):
            return super().decode(z), z

    z = torch.randn(4, 3)
    with pytest.raises(TypeError, match="decode_output=0"):
        response(TupleDecoder(), z)
    torch.testing.assert_close(response(as_autoencoder(TupleDecoder(), decode_output=0), z), response(SpritesAE(), z))


def test_model_errors_and_nan_name_the_call():
    class Raises(SpritesAE):
        def encode(self, x):
            raise KeyError("no such layer")

    with pytest.raises(RuntimeError, match=r"encode failed in Raises\.encode\(x\).*no such layer"):
        response(Raises(), torch.randn(2, 3))

    class NaNs(SpritesAE):
        def decode(self, z):
            return super().decode(z) * float("nan")

    with pytest.raises(ValueError, match=r"NaNs\.decode\(z\) contains .* NaN"):
        response_matrix(NaNs(), n_samples=4)


# ----------------------------------------------------------------------------- edge cases
def test_sequential_split_of_a_module_dict_is_a_value_error():
    class Branches(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Flatten()
            self.heads = nn.ModuleDict({"a": nn.Linear(64, 2), "b": nn.Linear(64, 2)})

        def forward(self, x):
            h = self.stem(x)
            return self.heads["a"](h) + self.heads["b"](h)

    with pytest.raises(ValueError, match="ModuleDict.*write E and G by hand"):
        SequentialSplit(Branches(), "stem", _images(2))


def test_sequential_split_enters_module_lists():
    class Chain(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = nn.ModuleList([nn.Flatten(), nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 3)])

        def forward(self, x):
            for b in self.blocks:
                x = b(x)
            return x

    model = init_parameters(Chain(), 0)
    split = SequentialSplit(model, "blocks.2", _images(2))
    x = _images(3, 1)
    torch.testing.assert_close(split.head(split.encode(x)), model(x))


def test_fit_inversions_on_one_image_is_a_clear_error():
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 2))
    one = (_images(1) > 0.5).float()
    with pytest.raises(ValueError, match="at least one to validate on.*1 image"):
        fit_inversions(net, ["1"], one, levels=2, epochs=1)


def test_mutual_information_over_one_image_is_refused():
    inv = InversionSet({"channels": 4, "n_layers": 1, "in_channels": 1, "image_size": 8, "levels": 2},
                       {"uncond": None, "1": [2]})
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 2))
    with pytest.raises(ValueError, match="at least 2 held-out images.*zero width"):
        mutual_information(inv, net, (_images(1) > 0.5).float())
