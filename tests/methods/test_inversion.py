"""Inversion methods: MI limits on a toy, bootstrap intervals, units, entropy maps, sampling,
fitting as a cancellable job, MI over checkpoints."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from invwidgets.methods.inversion import (
    bits_per_dim_to_nats,
    entropy_map,
    fit_inversions,
    fit_pixelcnn,
    mi_over_checkpoints,
    mutual_information,
    nats_to_bits_per_dim,
    nll_bits,
    sample_inversion,
)
from invwidgets.models.pixelcnn import GatedPixelCNN

SMALL = {"channels": 8, "n_layers": 2, "cond_hidden": 16}


class Zero(nn.Module):
    def forward(self, x):
        return torch.zeros(x.shape[0], 4)


class Toy(nn.Module):
    """A 'network' with an identity layer and a constant layer, defined here to be inverted."""

    def __init__(self) -> None:
        super().__init__()
        self.ident = nn.Identity()
        self.zero = Zero()
        self.scale = nn.Linear(16, 3)

    def forward(self, x):
        return self.scale(self.ident(x).flatten(1)), self.zero(x)


def _bits(n: int, seed: int) -> torch.Tensor:
    return torch.randint(0, 2, (n, 1, 4, 4), generator=torch.Generator().manual_seed(seed)).float()


@pytest.fixture(scope="module")
def toy_fit():
    toy = Toy()
    inv, hist = fit_inversions(toy, ["ident", "zero", "scale"], _bits(384, 0), levels=2, pixelcnn=SMALL,
                               epochs=12, lr=1e-2, seed=0)
    est = mutual_information(inv, toy, _bits(256, 1), n_boot=300, seed=0)
    return toy, inv, hist, est


def test_identity_conditioning_recovers_the_entropy(toy_fit):
    _, _, _, est = toy_fit
    assert 15.0 < est.h_x_bits < 17.5  # 16 fair bits, estimated
    assert abs(est.mi("ident") - est.h_x_bits) < 0.10 * est.h_x_bits


def test_constant_conditioning_gives_no_information(toy_fit):
    _, _, _, est = toy_fit
    assert abs(est.layers["zero"].mi_bpd) < 0.05


def test_intervals_and_data_processing_on_the_toy(toy_fit):
    _, _, _, est = toy_fit
    for r in est.layers.values():
        assert r.ci_low <= r.mi_bits <= r.ci_high and r.ci_high > r.ci_low
        assert math.isclose(r.mi_bits, est.h_x_bits - r.cond_entropy_bits, rel_tol=1e-9, abs_tol=1e-9)
    # 3 linear features of 16 bits carry less than the image itself
    assert est.mi("scale") < est.layers["ident"].ci_high
    assert est.h_x_ci[0] <= est.h_x_bits <= est.h_x_ci[1]


def test_bootstrap_is_seeded(toy_fit):
    toy, inv, _, _ = toy_fit
    x = _bits(64, 2)
    a = mutual_information(inv, toy, x, n_boot=100, seed=3).as_dict()
    b = mutual_information(inv, toy, x, n_boot=100, seed=3).as_dict()
    c = mutual_information(inv, toy, x, n_boot=100, seed=4).as_dict()
    assert a == b and a != c


def test_units_round_trip_exactly():
    for nats in (0.0, 1.0, 123.456, 1e-8):
        assert bits_per_dim_to_nats(nats_to_bits_per_dim(nats, 64), 64) == pytest.approx(nats, rel=1e-15, abs=0)
    assert nats_to_bits_per_dim(64 * math.log(2), 64) == pytest.approx(1.0, rel=1e-15)


def test_entropy_map_and_samples(toy_fit):
    toy, inv, _, _ = toy_fit
    x = _bits(1, 5)[0]
    ent_id = entropy_map(inv["ident"], x, x.unsqueeze(0))
    ent_un = entropy_map(inv["uncond"], x)
    assert ent_id.shape == (4, 4) and float(ent_id.min()) >= 0 and float(ent_un.max()) <= 1 + 1e-6
    assert float(ent_id.sum()) < float(ent_un.sum())  # given x, little is uncertain
    s = sample_inversion(inv, toy, "ident", x, n=6, generator=7)
    assert s.shape == (6, 1, 4, 4)
    assert torch.equal(s, sample_inversion(inv, toy, "ident", x, n=6, generator=7, method="naive"))
    assert (s == x).float().mean() > 0.9  # samples given the identity are (nearly) copies
    u = sample_inversion(inv, None, "uncond", x, n=6, generator=7)
    assert u.shape == (6, 1, 4, 4)


def test_fit_is_deterministic_and_cancellable():
    x = _bits(128, 0)

    def fit(seed):
        torch.manual_seed(123)  # the global state must not matter
        m = GatedPixelCNN(image_size=4, levels=2, **SMALL)
        from invwidgets.models import init_parameters

        init_parameters(m, seed)
        hist = fit_pixelcnn(m, x, epochs=3, batch_size=32, seed=seed)
        return m, hist

    (m1, h1), (m2, _h2) = fit(0), fit(0)
    assert all(torch.equal(a, b) for a, b in zip(m1.state_dict().values(), m2.state_dict().values()))
    assert h1["val_bpd"][-1] < h1["val_bpd"][0]  # the loss decreases

    class Stop(Exception):
        pass

    class Job:
        def __init__(self):
            self.calls = []

        def check(self):
            if len(self.calls) >= 2:
                raise Stop

        def progress(self, done, total=None, message=""):
            self.calls.append((done, total, message))
            self.check()

    job = Job()
    with pytest.raises(Stop):
        fit_inversions(Toy(), ["zero"], x, levels=2, pixelcnn=SMALL, epochs=3, job=job)
    assert job.calls[0] == (1, 6, "fit uncond") and job.calls[1][0] == 2


def test_mi_over_checkpoints_shares_one_unconditional_model():
    x = _bits(128, 0)
    cps = {0: Toy(), 5: Toy()}
    res, fitted = mi_over_checkpoints(cps, ["scale"], x, _bits(64, 1), levels=2, pixelcnn=SMALL, epochs=1, n_boot=50)
    assert res.epochs == [0, 5] and len(res.curve("scale")) == 2
    assert res.estimates[0].h_x_bits == res.estimates[5].h_x_bits
    assert torch.equal(fitted[0]["uncond"].head[1].weight, fitted[5]["uncond"].head[1].weight)
    lo, hi = res.intervals("scale")[1]
    assert lo <= res.curve("scale")[1] <= hi


def test_bad_inputs():
    with pytest.raises(ValueError, match="levels"):
        fit_inversions(Toy(), ["zero"], torch.full((8, 1, 4, 4), 0.3), levels=2, pixelcnn=SMALL, epochs=1)
    with pytest.raises(ValueError, match="NaN"):
        fit_inversions(Toy(), ["zero"], torch.full((8, 1, 4, 4), float("nan")), levels=2, epochs=1)
    with pytest.raises(TypeError, match="floating"):
        nll_bits(GatedPixelCNN(image_size=4, levels=2, **SMALL), torch.zeros(2, 1, 4, 4, dtype=torch.long))
    with pytest.raises(KeyError):
        fit_inversions(Toy(), ["missing"], _bits(8, 0), levels=2, epochs=1)


def test_fitting_keeps_the_histories_for_the_overfitting_check(toy_fit):
    _, inv, hist, est = toy_fit
    assert set(inv.histories) == set(inv.names) == set(hist)
    assert "overfit" not in est.unchecked  # read from the fitted set
