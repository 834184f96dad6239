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
* ``helix-vae``: the official helix toy VAE (MLP [32, 32, 32, 32], ELU, latent 2, β = 0.05,
  squared error, lr 0.01, batch 128, 5000 steps) on the 3-D double helix.

Retrain with ``python -m invwidgets.zoo train vae-sprites-s0`` (about two minutes each on one
CPU thread).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from invwidgets.data import BaseDataset, sprites
from invwidgets.methods.disentanglement import dci, mig
from invwidgets.methods.responses import (
    causal_disentanglement_score,
    conditioned_response_matrix,
    encode_mean,
)

from .registry import ZooEntry, register_entry
from .training import reconstruction_metrics, train_autoencoder

__all__ = [
    "HELIX_VAE",
    "RESPONSE_SEEDS",
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
