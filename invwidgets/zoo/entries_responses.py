"""Zoo models of the latent-responses method (Leeb et al. 2022).

* ``vae-sprites-s{0,1,2}``, ``betavae-sprites-s{0,1,2}``, ``ae-sprites-s{0,1,2}``: one
  autoencoder architecture (latent 8; conv encoder, spatial broadcast decoder) trained on the
  16×16 sprites without rotation (768 images; factors shape 3 × scale 4 × x 8 × y 8) as a VAE
  (β = 1), a β-VAE (β = 4) and a plain AE, each with three seeds. Their cards record
  reconstruction error, CDS, MIG and DCI.

  Why the broadcast decoder: x and y play symmetric roles in these sprites, and with the usual
  deconv decoder the VAEs encoded position in rotated mixtures of x and y (mean CDS of the VAE
  0.48, of the AE 0.50, with the models shipped up to commit 566ae22: no better than chance).
  The spatial broadcast decoder (Watters et al. 2019) tiles ``z`` over the image with coordinate
  channels, so each axis can be read by one latent; the AE, with no pressure towards independent
  latents, stays mixed.
* ``vae-scenes-s{0,1,2}``, ``betavae-scenes-s{0,1,2}``, ``tcvae-scenes-s{0,1,2}``,
  ``ae-scenes-s{0,1,2}``: one conv autoencoder (latent 10; 3 conv stages 16-32-32, hidden 128,
  deconv decoder) trained on 12,000 of the 3D-Shapes-like scenes at 32×32 (factors floor, wall and
  object hue 10 each, scale 8, shape 4, orientation 15) as a VAE (β = 1), a β-VAE (β = 4), a
  β-TCVAE (β_TC = 6: the ELBO plus 5 × the batch's total-correlation estimate) and a plain AE,
  6,000 steps of batch 64 each, three seeds. Their cards record reconstruction error, and CDS, MIG
  and DCI on the factorial sub-grid :data:`SCENE_EVAL_GRID` (10,000 scenes).

  Why 32×32 and 6,000 steps: the budget was one shared CPU thread for twelve models (78–177 s of
  training each); 64×64 costs four times as much per step. The length moves CDS less than the
  objective: ``betavae-scenes-s0`` scored 0.857 after 6,000 steps and 0.733 after 10,000, while
  the kinds' means are 0.922 (β-TCVAE), 0.885 (β-VAE), 0.610 (VAE) and 0.419 (AE).
* ``helix-vae``: the official helix toy VAE (MLP [32, 32, 32, 32], ELU, latent 2, β = 0.05,
  squared error, lr 0.01, batch 128, 5000 steps) on the 3-D double helix.

Retrain with ``python -m invwidgets.zoo train vae-sprites-s0`` (about two minutes each on one
CPU thread; the scene models about three).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from invwidgets.data import BaseDataset, scene_grid, scenes, sprites
from invwidgets.methods.disentanglement import dci, mig
from invwidgets.methods.responses import (
    causal_disentanglement_score,
    conditioned_response_matrix,
    encode_mean,
)

from .registry import ZooEntry, register_dataset, register_entry
from .training import reconstruction_metrics, train_autoencoder

__all__ = [
    "HELIX_VAE",
    "RESPONSE_SEEDS",
    "SCENE_EVAL_GRID",
    "SCENES_KINDS",
    "SCENES_RESPONSE_ENTRIES",
    "scene_eval_grid",
    "scene_responses_metrics",
    "scenes_model_names",
    "SPRITES_KINDS",
    "SPRITES_RESPONSE_ENTRIES",
    "responses_metrics",
    "sprites_model_names",
]

#: Seeds of the three sprites models of each kind.
RESPONSE_SEEDS = (0, 1, 2)
#: kind -> (variational, beta, description)
SPRITES_KINDS: dict[str, tuple[bool, float, str]] = {
    "vae": (True, 1.0, "conv VAE (β = 1, latent 8)"),
    "betavae": (True, 4.0, "conv β-VAE (β = 4, latent 8)"),
    "ae": (False, 0.0, "conv autoencoder (latent 8)"),
}
_SPRITES_KWARGS = {"size": 16, "rotations": 1}
#: Settings of the conditioned response matrix recorded in the cards.
CDS_SETTINGS = {"n_traversals": 20, "n_samples": 32, "seed": 0}


def sprites_model_names(kind: str) -> list[str]:
    """The zoo names of the three seeds of ``kind`` (``"vae"``, ``"betavae"`` or ``"ae"``)."""
    if kind not in SPRITES_KINDS:
        raise ValueError(f"kind must be one of {sorted(SPRITES_KINDS)}, got {kind!r}")
    return [f"{kind}-sprites-s{s}" for s in RESPONSE_SEEDS]


@torch.no_grad()
def responses_metrics(model: nn.Module, test_set: BaseDataset) -> dict[str, float]:
    """Reconstruction error on the test split, plus CDS, MIG and DCI on the full sprites grid.

    The full grid (all 768 images) is rebuilt from the test split's metadata, because the
    conditioned response matrix needs complete one-factor traversals.
    """
    out = reconstruction_metrics(model, test_set)
    meta = test_set.metadata
    full = sprites(size=int(meta["size"]), rotations=int(meta["rotations"]))
    cond = conditioned_response_matrix(
        model, full, n_traversals=CDS_SETTINGS["n_traversals"], n_samples=CDS_SETTINGS["n_samples"],
        generator=CDS_SETTINGS["seed"],
    )
    codes = encode_mean(model, full.images)
    out["cds"] = causal_disentanglement_score(cond.matrix)
    out["mig"] = mig(codes, full.factors, factor_names=full.factor_names).score
    d = dci(codes, full.factors, factor_names=full.factor_names)
    out["dci_disentanglement"] = d.disentanglement
    out["dci_completeness"] = d.completeness
    out["dci_informativeness"] = d.informativeness
    return out


def _sprites_entry(kind: str, seed: int) -> ZooEntry:
    variational, beta, text = SPRITES_KINDS[kind]
    hp: dict[str, Any] = {"steps": 3000, "batch_size": 64, "lr": 1e-3, "likelihood": "bernoulli", "threads": 1}
    if variational:
        hp["beta"] = beta
    return register_entry(
        ZooEntry(
            name=f"{kind}-sprites-s{seed}",
            architecture="ConvAutoencoder",
            config={
                "in_channels": 1,
                "image_size": 16,
                "latent_dim": 8,
                "variational": variational,
                "channels": [16, 32],
                "hidden": 64,
                "activation": "relu",
                "decoder": "broadcast",
                "decoder_channels": [32, 32, 32],
            },
            dataset="sprites",
            dataset_kwargs=dict(_SPRITES_KWARGS),
            train_fn=train_autoencoder,
            metric_fn=responses_metrics,
            hyperparameters=hp,
            primary_metric="cds",
            seed=seed,
            description=f"{text}, broadcast decoder, on 16×16 sprites, seed {seed}; latent responses",
            tags=("responses",),
        )
    )


#: The nine sprites models, by name.
SPRITES_RESPONSE_ENTRIES: dict[str, ZooEntry] = {}
for _kind in SPRITES_KINDS:
    for _seed in RESPONSE_SEEDS:
        _e = _sprites_entry(_kind, _seed)
        SPRITES_RESPONSE_ENTRIES[_e.name] = _e

HELIX_VAE = register_entry(
    ZooEntry(
        name="helix-vae",
        architecture="MLPAutoencoder",
        config={
            "input_shape": [3],
            "latent_dim": 2,
            "variational": True,
            "hidden": [32, 32, 32, 32],
            "activation": "elu",
            "output": "identity",
        },
        dataset="helix",
        dataset_kwargs={"n": 1024, "noise": 0.1, "strands": 2, "seed": 0},
        train_fn=train_autoencoder,
        metric_fn=reconstruction_metrics,
        hyperparameters={"steps": 5000, "batch_size": 128, "lr": 0.01, "beta": 0.05, "likelihood": "mse", "threads": 1},
        primary_metric="test_mse_per_pixel",
        seed=0,
        description="the official helix toy VAE (MLP 4×32 ELU, latent 2, β = 0.05) on the double helix",
        tags=("responses",),
    )
)


# ---------------------------------------------------------------------------------------------
# the 3D-Shapes-like scenes
# ---------------------------------------------------------------------------------------------
register_dataset("scenes", scenes)

#: kind -> (variational, beta, tc_weight, description)
SCENES_KINDS: dict[str, tuple[bool, float, float, str]] = {
    "vae": (True, 1.0, 0.0, "conv VAE (β = 1, latent 10)"),
    "betavae": (True, 4.0, 0.0, "conv β-VAE (β = 4, latent 10)"),
    "tcvae": (True, 1.0, 5.0, "conv β-TCVAE (β_TC = 6, latent 10)"),
    "ae": (False, 0.0, 0.0, "conv autoencoder (latent 10)"),
}
#: Training data: 12,000 scenes drawn uniformly from the 480,000 combinations, at 32×32.
_SCENES_KWARGS = {"n": 12000, "seed": 0, "size": 32}
#: The factorial sub-grid the scene models are scored on: every factor keeps 4 or 5 evenly spaced
#: values (hues spread round the colour circle), 10,000 scenes, so that every one-factor traversal
#: exists and the conditioned matrix, MIG and DCI see the same codes.
SCENE_EVAL_GRID: dict[str, int] = {"floor_hue": 5, "wall_hue": 5, "object_hue": 5, "scale": 4, "shape": 4,
                                   "orientation": 5}
SCENES_STEPS = 6000


def scenes_model_names(kind: str) -> list[str]:
    """The zoo names of the three seeds of ``kind`` (``"vae"``, ``"betavae"``, ``"tcvae"`` or ``"ae"``)."""
    if kind not in SCENES_KINDS:
        raise ValueError(f"kind must be one of {sorted(SCENES_KINDS)}, got {kind!r}")
    return [f"{kind}-scenes-s{s}" for s in RESPONSE_SEEDS]


def scene_eval_grid(size: int = 32) -> BaseDataset:
    """The factorial grid :data:`SCENE_EVAL_GRID` at ``size`` (10,000 scenes, 118 MiB at 32×32)."""
    return scene_grid(SCENE_EVAL_GRID, size=size)


@torch.no_grad()
def scene_responses_metrics(model: nn.Module, test_set: BaseDataset) -> dict[str, float]:
    """Reconstruction error on the test split, plus CDS, MIG and DCI on :func:`scene_eval_grid`."""
    out = reconstruction_metrics(model, test_set)
    grid = scene_eval_grid(int(test_set.metadata["size"]))
    cond = conditioned_response_matrix(
        model, grid, n_traversals=CDS_SETTINGS["n_traversals"], n_samples=CDS_SETTINGS["n_samples"],
        generator=CDS_SETTINGS["seed"],
    )
    codes = encode_mean(model, grid.images)
    out["cds"] = causal_disentanglement_score(cond.matrix)
    out["mig"] = mig(codes, grid.factors, factor_names=grid.factor_names).score
    d = dci(codes, grid.factors, factor_names=grid.factor_names)
    out["dci_disentanglement"] = d.disentanglement
    out["dci_completeness"] = d.completeness
    out["dci_informativeness"] = d.informativeness
    return out


def _scenes_entry(kind: str, seed: int) -> ZooEntry:
    variational, beta, tc_weight, text = SCENES_KINDS[kind]
    hp: dict[str, Any] = {"steps": SCENES_STEPS, "batch_size": 64, "lr": 1e-3, "likelihood": "bernoulli", "threads": 1}
    if variational:
        hp["beta"] = beta
    if tc_weight:
        hp["tc_weight"] = tc_weight
    return register_entry(
        ZooEntry(
            name=f"{kind}-scenes-s{seed}",
            architecture="ConvAutoencoder",
            config={
                "in_channels": 3,
                "image_size": 32,
                "latent_dim": 10,
                "variational": variational,
                "channels": [16, 32, 32],
                "hidden": 128,
                "activation": "relu",
            },
            dataset="scenes",
            dataset_kwargs=dict(_SCENES_KWARGS),
            train_fn=train_autoencoder,
            metric_fn=scene_responses_metrics,
            hyperparameters=hp,
            primary_metric="cds",
            seed=seed,
            description=f"{text} on 32×32 3D-Shapes-like scenes, seed {seed}; latent responses",
            tags=("responses",),
        )
    )


#: The twelve scene models, by name.
SCENES_RESPONSE_ENTRIES: dict[str, ZooEntry] = {}
for _kind in SCENES_KINDS:
    for _seed in RESPONSE_SEEDS:
        _e = _scenes_entry(_kind, _seed)
        SCENES_RESPONSE_ENTRIES[_e.name] = _e
