"""Shipped latent-responses models: cards, reproduction numbers over 3 seeds (sprites and the
3D-Shapes-like scenes), helix sinks, honest scores, comparable scales, training."""

from __future__ import annotations

import statistics

import pytest
import torch

from invwidgets import zoo
from invwidgets.data import helix, scene_grid, scenes, sprites
from invwidgets.methods.disentanglement import dci, mig
from invwidgets.methods.response_maps import posterior_histogram, response_map
from invwidgets.methods.responses import conditioned_response_matrix, encode_mean, response_matrix
from invwidgets.models import gaussian_kl, init_parameters
from invwidgets.zoo.entries_responses import (
    CDS_SETTINGS,
    SCENES_KINDS,
    SPRITES_KINDS,
    scene_eval_grid,
    scenes_model_names,
    sprites_model_names,
)
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


# ---------------------------------------------------------------------------------------------
# the 3D-Shapes-like scenes
# ---------------------------------------------------------------------------------------------
SCENE_NAMES = [n for kind in SCENES_KINDS for n in scenes_model_names(kind)]
VAE_FAMILY = ("vae", "betavae", "tcvae")


@pytest.fixture(scope="module")
def grid():
    return scene_eval_grid()


@pytest.fixture(scope="module")
def scene_conditioned(grid):
    """The conditioned response matrix of every shipped scene model, with the card's settings."""
    return {name: conditioned_response_matrix(zoo.load(name), grid, n_traversals=CDS_SETTINGS["n_traversals"],
                                              n_samples=CDS_SETTINGS["n_samples"], generator=CDS_SETTINGS["seed"])
            for name in SCENE_NAMES}


@pytest.fixture(scope="module")
def scene_cds(scene_conditioned):
    return {kind: [scene_conditioned[n].score for n in scenes_model_names(kind)] for kind in SCENES_KINDS}


@pytest.mark.parametrize("name", SCENE_NAMES)
def test_shipped_scene_model_loads_with_a_card(name):
    c = zoo.card(name)
    assert c["dataset"]["name"] == "scenes" and c["dataset"]["kwargs"]["size"] == 32
    assert c["architecture"]["config"]["latent_dim"] == 10 and c["train_time_s"] > 0
    assert {"cds", "mig", "dci_disentanglement", "dci_completeness", "dci_informativeness"} <= set(c["metrics"])
    assert zoo.weights_path(name).stat().st_size < 1_000_000
    assert not zoo.load(name).training


def test_recomputed_scene_cds_matches_the_cards(scene_conditioned):
    for name, cond in scene_conditioned.items():
        assert cond.degenerate is None
        assert zoo.metric_reproduces("cds", cond.score, zoo.card(name)["metrics"]["cds"]), (name, cond.score)


def test_recomputed_mig_and_dci_match_the_card(grid):
    """MIG and DCI of one model (DCI fits six regressors: one model keeps the suite fast)."""
    name = "betavae-scenes-s0"
    model = zoo.load(name)
    codes = encode_mean(model, grid.images)
    recorded = zoo.card(name)["metrics"]
    recomputed = {"mig": mig(codes, grid.factors, factor_names=grid.factor_names).score}
    d = dci(codes, grid.factors, factor_names=grid.factor_names)
    recomputed.update(dci_disentanglement=d.disentanglement, dci_completeness=d.completeness,
                      dci_informativeness=d.informativeness)
    for key, value in recomputed.items():
        assert zoo.metric_reproduces(key, value, recorded[key]), (key, value, recorded[key])


def test_scene_cds_orders_beta_vae_vae_ae(scene_cds):
    """CDS(β-VAE) ≥ CDS(VAE) > CDS(AE), means over three seeds; every score within [1/K, 1]."""
    mean = {k: statistics.mean(v) for k, v in scene_cds.items()}
    assert mean["betavae"] >= mean["vae"] > mean["ae"], scene_cds
    assert all(1 / 6 <= s <= 1 for v in scene_cds.values() for s in v)


def test_best_scene_vae_reaches_0_9_and_the_tc_penalty_helps(scene_cds):
    """The target the sprites missed: the best VAE-family model reaches CDS ≥ 0.9 (the official
    3D-Shapes VAE: 0.9615). Every β-TCVAE seed does, and its mean is above the β-VAE's."""
    assert max(scene_cds["vae"] + scene_cds["betavae"] + scene_cds["tcvae"]) >= 0.9, scene_cds
    assert min(scene_cds["tcvae"]) >= 0.9, scene_cds
    assert statistics.mean(scene_cds["tcvae"]) >= statistics.mean(scene_cds["betavae"]), scene_cds


def test_the_three_hues_land_on_distinct_latents(scene_conditioned):
    """In every VAE-family model the latent that responds most to each hue is a different one."""
    for kind in VAE_FAMILY:
        for name in scenes_model_names(kind):
            cond = scene_conditioned[name]
            rows = [cond.factor_names.index(f) for f in ("floor_hue", "wall_hue", "object_hue")]
            owners = {int(cond.matrix[r].argmax()) for r in rows}
            assert len(owners) == 3, (name, cond.matrix)


def test_a_label_as_the_only_factor_is_flagged_degenerate():
    """Digits with the label as their one factor: CDS comes out 1.0, but the 'traversal' is ten
    different handwritten images, so the result says it is degenerate, and why."""
    from invwidgets.data import Dataset, digits

    base = digits()
    labelled = Dataset(base.images, labels=base.labels, factors=base.labels[:, None], factor_names=("label",),
                       factor_sizes=(10,), name="digits-by-label")
    model = init_parameters(zoo.build_model("ConvAutoencoder", {"in_channels": 1, "image_size": 8, "latent_dim": 4,
                                                                 "variational": True, "channels": [8]}), 0).eval()
    cond = conditioned_response_matrix(model, labelled, n_traversals=3, n_samples=8, generator=0)
    assert cond.score == pytest.approx(1.0)
    assert "only one factor" in cond.degenerate and "do not identify the samples" in cond.degenerate
    # a scene grid that varies one factor only: a true traversal, but still one factor
    one = scene_grid({"floor_hue": 1, "wall_hue": 1, "object_hue": 1, "scale": 1, "shape": 1}, size=32)
    cond = conditioned_response_matrix(zoo.load("vae-scenes-s0"), one, n_traversals=2, n_samples=8, generator=0)
    assert cond.factor_names == ("orientation",) and "only one factor" in cond.degenerate
    assert "identify" not in cond.degenerate


def test_std_scale_puts_ae_and_vae_matrices_on_one_scale(grid):
    """An AE's codes spread far more than a VAE's, so their raw M differ in scale; in units of each
    latent's aggregate-posterior std the informative diagonals are comparable."""
    sub = grid.images[::10]
    diag = {}
    for name in ("ae-scenes-s0", "betavae-scenes-s0"):
        model = zoo.load(name)
        codes = encode_mean(model, sub)
        raw = response_matrix(model, codes=codes, pool=codes, n_samples=256, generator=0).diagonal()
        std = response_matrix(model, codes=codes, pool=codes, n_samples=256, generator=0, scale="std").diagonal()
        top = torch.argsort(raw, descending=True)[:3]
        diag[name] = (float(raw[top].mean()), float(std[top].mean()), float(codes.std(0).max()))
    (ae_raw, ae_std, ae_spread), (vae_raw, vae_std, vae_spread) = diag["ae-scenes-s0"], diag["betavae-scenes-s0"]
    assert ae_spread > 2 * vae_spread, diag
    assert ae_raw / vae_raw > 2, diag
    assert 0.33 < ae_std / vae_std < 3, diag


def test_tcvae_training_is_deterministic_and_reduces_the_loss():
    entry = zoo.get_entry("tcvae-scenes-s1")
    small = scenes(n=256, seed=3, size=32)
    hp = {**entry.hyperparameters, "steps": 20}

    def run():
        model = init_parameters(zoo.build_model(entry.architecture, dict(entry.config)), 1)
        history = train_autoencoder(model, small, hp, torch.Generator().manual_seed(1), False)
        return model, history

    (a, ha), (b, hb) = run(), run()
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert ha == hb and ha["train_loss"][-1] < ha["train_loss"][0]
