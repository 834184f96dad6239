"""Shipped latent-responses models: cards, reproduction numbers over 3 seeds, helix sinks, training."""

from __future__ import annotations

import statistics

import pytest
import torch

from invwidgets import zoo
from invwidgets.data import helix, sprites
from invwidgets.methods.response_maps import posterior_histogram, response_map
from invwidgets.methods.responses import conditioned_response_matrix, encode_mean, response_matrix
from invwidgets.models import gaussian_kl, init_parameters
from invwidgets.zoo.entries_responses import CDS_SETTINGS, SPRITES_KINDS, sprites_model_names
from invwidgets.zoo.training import train_autoencoder

NAMES = [n for kind in SPRITES_KINDS for n in sprites_model_names(kind)] + ["helix-vae"]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The cards were computed on one thread; small conv batches also run fastest that way."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def data():
    return sprites(size=16, rotations=1)


@pytest.fixture(scope="module")
def cds_by_kind(data):
    """CDS of every shipped sprites model, recomputed with the settings recorded in the cards."""
    out: dict[str, list[float]] = {}
    for kind in SPRITES_KINDS:
        scores = []
        for name in sprites_model_names(kind):
            cond = conditioned_response_matrix(zoo.load(name), data, n_traversals=CDS_SETTINGS["n_traversals"],
                                               n_samples=CDS_SETTINGS["n_samples"], generator=CDS_SETTINGS["seed"])
            scores.append(cond.score)
        out[kind] = scores
    return out


@pytest.mark.parametrize("name", NAMES)
def test_shipped_model_loads_with_a_card(name):
    assert name in zoo.available()
    c = zoo.card(name)
    assert c["architecture"]["config"]["latent_dim"] in (2, 8)
    assert zoo.weights_path(name).stat().st_size < 1_000_000
    model = zoo.load(name)
    assert not model.training
    if name != "helix-vae":
        assert {"cds", "mig", "dci_disentanglement", "dci_completeness", "dci_informativeness"} <= set(c["metrics"])


def test_recomputed_cds_matches_the_cards(cds_by_kind):
    for kind, scores in cds_by_kind.items():
        for name, score in zip(sprites_model_names(kind), scores):
            assert zoo.metric_reproduces("cds", score, zoo.card(name)["metrics"]["cds"]), (name, score)


def test_cds_orders_beta_vae_vae_ae_on_average(cds_by_kind):
    """CDS(β-VAE) ≥ CDS(VAE) > CDS(AE), means over the three seeds (the interventional-assays
    paper's ordering), and beyond the means: every VAE-family seed scores above every AE seed."""
    mean = {k: statistics.mean(v) for k, v in cds_by_kind.items()}
    assert mean["betavae"] >= mean["vae"] > mean["ae"], cds_by_kind
    assert min(cds_by_kind["vae"] + cds_by_kind["betavae"]) > max(cds_by_kind["ae"]), cds_by_kind


@pytest.mark.xfail(strict=True, reason="not reproduced: the best VAE-family sprites model stays below CDS 0.9 "
                   "(the official 3D-Shapes VAE reaches 0.9615); shape and scale share a latent (see notebook 04)")
def test_best_vae_reaches_0_9(cds_by_kind):
    assert max(cds_by_kind["vae"] + cds_by_kind["betavae"]) >= 0.9


@pytest.mark.parametrize("kind", ["vae", "betavae"])
def test_informative_latents_agree_with_active_units(kind, data):
    """Large diagonal of M exactly where the per-dimension KL is large (active units)."""
    for name in sprites_model_names(kind):
        model = zoo.load(name)
        with torch.no_grad():
            mu, logvar = model.encode_dist(data.images)
        kl = gaussian_kl(mu, logvar).mean(0)
        diag = response_matrix(model, n_samples=256, generator=0).diagonal()
        active = kl > 0.1  # active units: noise latents have KL ≈ 1e-3 nats
        assert torch.equal(diag > 0.25, active), (name, kl, diag)
        assert 2 <= int(active.sum()) <= 6
        assert float(diag[~active].max()) < 0.05 < 0.5 < float(diag[active].min())  # noise latents: rows of ≈ 0


def test_helix_divergence_has_sinks_where_the_posterior_lies():
    model = zoo.load("helix-vae")
    data = helix()
    codes = encode_mean(model, data.vectors)
    m = response_map(model, torch.zeros(2), (0, 1), radius=2.0, resolution=64)
    everywhere = float(m.divergence.mean())
    for strand in (0, 1):
        occupied = posterior_histogram(codes[data.labels == strand], (0, 1), 2.0, 64) > 0
        div = m.divergence[occupied]
        assert float(div.mean()) < -0.5 and float(div.mean()) < everywhere - 0.3
        assert float((div < 0).double().mean()) > 0.95


def test_training_is_deterministic_and_reduces_the_loss(data):
    entry = zoo.get_entry("betavae-sprites-s1")
    hp = {**entry.hyperparameters, "steps": 25}

    def run():
        model = init_parameters(zoo.build_model(entry.architecture, dict(entry.config)), 1)
        history = train_autoencoder(model, data, hp, torch.Generator().manual_seed(1), False)
        return model, history

    (a, ha), (b, hb) = run(), run()  # on one thread (fixture), as the zoo trains
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert ha == hb
    assert ha["train_loss"][-1] < 0.8 * ha["train_loss"][0]
