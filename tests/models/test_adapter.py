"""The model adapter: device and dtype, which output to use, errors naming the call, finiteness,
idempotent wrapping, attributes and ``nn.Module`` behaviour of the user's model kept."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from invwidgets.models import (
    AutoencoderAdapter,
    ClassifierAdapter,
    MLPAutoencoder,
    as_autoencoder,
    as_classifier,
    as_model,
    module_device,
    module_dtype,
    to_images,
    unwrap,
)


class LinearAE(nn.Module):
    """A linear autoencoder on 4-vectors with 2 latents; ``decode`` returns what ``out`` says."""

    latent_dim = 2

    def __init__(self, out: str = "tensor") -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.enc = nn.Parameter(torch.randn(4, 2, generator=g))
        self.dec = nn.Parameter(torch.randn(2, 4, generator=g))
        self.out = out

    def encode(self, x):
        return x @ self.enc

    def decode(self, z):
        x = z @ self.dec
        if self.out == "dict":
            return {"recon": x, "aux": z}
        if self.out == "tuple":
            return x, z
        return x


class DictNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 3)

    def forward(self, x):
        return {"features": x, "logits": self.lin(x)}


def test_float64_model_gets_float64_inputs_and_float32_means():
    ae = LinearAE().double()
    a = as_autoencoder(ae)
    assert a.dtype == torch.float64 and a.device == torch.device("cpu")
    x = torch.rand(5, 4)  # float32, like every dataset
    assert a.encode(x).dtype == torch.float64
    z = a.encode_mean(x)
    assert z.dtype == torch.float32 and z.shape == (5, 2)
    torch.testing.assert_close(z, (x.double() @ ae.enc).float())


def test_wrapping_is_idempotent_and_keeps_the_module():
    ae = LinearAE()
    a = as_autoencoder(ae)
    assert as_autoencoder(a) is a
    assert a.module is ae and unwrap(a) is ae and unwrap(ae) is ae
    assert isinstance(a, nn.Module) and isinstance(a, AutoencoderAdapter)
    assert a.latent_dim == 2  # the model's own attributes are read through
    c = as_classifier(DictNet(), output="logits")
    assert as_classifier(c) is c and as_classifier(c, output="logits") is c
    assert as_classifier(c, output="features") is not c
    # a new option on an adapter makes a new adapter of the same module
    b = as_autoencoder(a, decode_output=0)
    assert b is not a and b.module is ae and b.decode_output == 0


def test_adapter_modes_follow_the_model_and_reach_it():
    ae = LinearAE().eval()
    a = as_autoencoder(ae)
    assert a.training is False  # an adapter starts in the model's mode
    a.train()
    assert ae.training
    a.eval()
    assert not ae.training
    assert {id(p) for p in a.parameters()} == {id(p) for p in ae.parameters()}


def test_zoo_style_model_keeps_encode_dist_and_attributes():
    vae = MLPAutoencoder(input_shape=(1, 8, 8), latent_dim=3, variational=True)
    a = as_autoencoder(vae)
    assert a.has_encode_dist and callable(a.encode_dist)
    assert a.latent_dim == 3 and a.variational
    mu, logvar = a.encode_dist(torch.rand(2, 1, 8, 8))
    assert mu.shape == logvar.shape == (2, 3)
    plain = as_autoencoder(LinearAE())
    assert not hasattr(plain, "encode_dist") and not plain.has_encode_dist


def test_dict_and_tuple_outputs_need_a_selector_and_the_error_names_it():
    x = torch.rand(3, 4)
    with pytest.raises(TypeError, match=r"dict with keys \['features', 'logits'\].*as_classifier\(model, output='features'\)"):
        as_classifier(DictNet())(x)
    logits = as_classifier(DictNet(), output="logits")(x)
    assert logits.shape == (3, 3)
    assert as_classifier(DictNet(), output=lambda out: out["logits"])(x).shape == (3, 3)
    with pytest.raises(TypeError, match="without key 'nope'"):
        as_classifier(DictNet(), output="nope")(x)

    z = torch.rand(3, 2)
    with pytest.raises(TypeError, match=r"decode\(z\) returned a dict.*decode_output="):
        as_autoencoder(LinearAE("dict")).decode(z)
    with pytest.raises(TypeError, match=r"decode\(z\) returned a tuple of 2 items.*decode_output=0"):
        as_autoencoder(LinearAE("tuple")).decode(z)
    assert as_autoencoder(LinearAE("dict"), decode_output="recon").decode(z).shape == (3, 4)
    assert as_autoencoder(LinearAE("tuple"), decode_output=0).decode(z).shape == (3, 4)
    with pytest.raises(TypeError, match="output=5 needs a tuple"):
        as_autoencoder(LinearAE("tuple"), decode_output=5).decode(z)


def test_encoder_tuple_and_distribution_give_the_mean():
    class TupleEnc(LinearAE):
        def encode(self, x):
            mu = x @ self.enc
            return mu, torch.zeros_like(mu)

    class DistEnc(LinearAE):
        def encode(self, x):
            return torch.distributions.Normal(x @ self.enc, 1.0)

    x = torch.rand(3, 4)
    want = x @ LinearAE().enc
    torch.testing.assert_close(as_autoencoder(TupleEnc()).encode_mean(x), want.detach())
    torch.testing.assert_close(as_autoencoder(DistEnc()).encode_mean(x), want.detach())


def test_a_model_that_raises_gives_an_error_naming_the_call():
    class Broken(LinearAE):
        def decode(self, z):
            raise ValueError("decoder exploded")

    with pytest.raises(RuntimeError, match=r"decode failed in Broken\.decode\(z\) on input of shape \(3, 2\).*decoder exploded") as info:
        as_autoencoder(Broken()).decode(torch.zeros(3, 2))
    assert isinstance(info.value.__cause__, ValueError)


def test_nan_outputs_are_a_clear_error():
    class NaNDecoder(LinearAE):
        def decode(self, z):
            out = z @ self.dec
            out[0, 0] = float("nan")
            return out

    with pytest.raises(ValueError, match=r"NaNDecoder\.decode\(z\) contains 1 NaN or infinite values"):
        as_autoencoder(NaNDecoder()).decode(torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"NaN or infinite"):
        as_classifier(lambda x: x / 0.0)(torch.zeros(2, 3))


def test_not_an_autoencoder_and_not_callable():
    with pytest.raises(TypeError, match="not an autoencoder.*encode"):
        as_autoencoder(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="callable"):
        as_classifier(object())

    class OnlyDist:  # encode_dist is enough: its mean is the encoding
        def encode_dist(self, x):
            return x, torch.zeros_like(x)

        def decode(self, z):
            return z

    a = as_autoencoder(OnlyDist())
    assert a.device == torch.device("cpu") and a.dtype == torch.float32
    assert torch.equal(a.encode_mean(torch.ones(2, 3)), torch.ones(2, 3))


def test_device_and_dtype_of_modules_methods_and_plain_objects():
    net = nn.Linear(2, 2).double()
    assert module_dtype(net) == torch.float64 and module_device(net) == torch.device("cpu")
    assert module_dtype(net.forward) == torch.float64  # a bound method counts as its module
    assert module_device(object(), fallback=None) is None
    assert module_dtype(object()) == torch.float32
    assert as_model(net.forward).dtype == torch.float64


def test_classifier_adapter_is_differentiable_for_attribution():
    net = nn.Linear(4, 3).double()
    c = as_classifier(net)
    assert isinstance(c, ClassifierAdapter)
    x = torch.rand(2, 4, requires_grad=True)
    c(x)[:, 0].sum().backward()
    torch.testing.assert_close(x.grad, net.weight[0].detach().float().expand(2, 4))


def test_batched_calls_see_batches_of_at_most_batch_size():
    seen = []

    class Recorder(LinearAE):
        def encode(self, x):
            seen.append(x.shape[0])
            return super().encode(x)

    as_autoencoder(Recorder()).encode_mean(torch.rand(10, 4), batch_size=4)
    assert seen == [4, 4, 2]


def test_to_images_reports_the_fraction_clamped():
    x = torch.tensor([[-0.5, 0.2], [0.7, 1.5], [0.1, 0.9]]).reshape(1, 1, 3, 2)
    images, fraction = to_images(x)
    assert images.min() >= 0 and images.max() <= 1
    assert fraction == pytest.approx(2 / 6)
    assert to_images(torch.rand(2, 1, 4, 4))[1] == 0.0
    assert to_images(torch.rand(5, 7)) == (None, 0.0)  # vectors are no images
    with pytest.raises(ValueError, match="NaN"):
        to_images(torch.full((1, 1, 2, 2), float("inf")))
