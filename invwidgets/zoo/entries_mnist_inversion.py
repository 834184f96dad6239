"""Zoo models of the inversion method on real MNIST digits (the offline 5,000-image sample).

The inversion models work at 14×14 pixels on 17 grey levels (``mnist14``: each image
area-averaged to 14×14 and rounded to 17 levels), not at 28×28: one epoch of one preset model over
the 4,000 training digits takes about 8–18 s at 14×14 but 57–73 s at 28×28 with 4 levels on one
core of the development machine (``benchmarks/inversion.py``), so the six models of one seed at
the preset budget (30 epochs) would take about 3 h per seed at 28×28 against about 30 min at
14×14.

* ``cnn-mnist14-ckpts-s{seed}`` — a :class:`~invwidgets.zoo.entries_inversion.ClassifierCheckpoints`
  of a SmallCNN on ``mnist14`` (stride-2 conv2), snapshots at epochs 0, 1, 3, 10, 30, for Î over
  training (not shipped: five snapshots are five times the size, and it retrains in about 10 s).
* ``cnn-mnist14-s{seed}`` — the same recipe with one snapshot, at epoch 30 (shipped, 0.4 MB).
* ``inv-mnist-s{seed}`` — an :class:`~invwidgets.models.pixelcnn.InversionSet` of
  ``cnn-mnist14-s{seed}`` (unconditional twin + input, conv1, conv2, fc, logits) with the 14×14
  preset of :func:`~invwidgets.methods.inversion.inversion_preset` (location-dependent
  conditioning) and 15 epochs, stored as float16 (2.1 MB per seed).

Train in this order: ``python -m invwidgets.zoo train cnn-mnist14-s0`` (about 5 s) then
``... train inv-mnist-s0`` (6 models × 15 epochs, about 25–45 min on one core). What the shipped
sets measure is in docs/methods/inversion.md and checked by tests/zoo/test_zoo_mnist_inversion.py.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from invwidgets.data import Dataset, from_tensors
from invwidgets.methods.inversion import inversion_preset, layer_features
from invwidgets.models.pixelcnn import InversionSet

from .entries_inversion import (
    CHECKPOINT_EPOCHS,
    INVERSION_LAYERS,
    checkpoint_metrics,
    inversion_metrics,
    train_checkpoints,
    train_inversion_set,
)
from .entries_mnist_invariances import mnist_file_order
from .registry import DATASETS, ZooEntry, register_dataset, register_entry

__all__ = ["MNIST14_LEVELS", "MNIST14_SIDE", "MNIST_INV_SEEDS", "class_kept", "mnist14_file_order"]

MNIST14_SIDE = 14
MNIST14_LEVELS = 17
MNIST_INV_SEEDS = (0, 1, 2)


def mnist14_file_order() -> Dataset:
    """The MNIST sample in file order at 14×14 pixels on 17 levels (2×2 area average, rounded):
    the zoo's ``mnist14`` dataset; its stratified 80/20 split (seed 0) has the same 4,000 / 1,000
    digits as ``mnist_sample``'s."""
    full = mnist_file_order()
    x = F.interpolate(full.images.float(), size=(MNIST14_SIDE, MNIST14_SIDE), mode="area")
    x = torch.round(x * (MNIST14_LEVELS - 1)) / (MNIST14_LEVELS - 1)
    return from_tensors(x, full.labels.clone(), class_names=full.class_names, name="mnist14",
                        levels=MNIST14_LEVELS, citation=full.info.citation, license=full.info.license)


@torch.no_grad()
def class_kept(inversions: InversionSet, classifier: nn.Module, reader: nn.Module, layer: str, images: torch.Tensor,
               labels: torch.Tensor, *, seed: int = 0, batch_size: int = 50, temperature: float = 1.0) -> float:
    """Share of samples of ``p(x' | f_layer(x))``, one per image, that ``reader`` (an independent
    28×28 CNN, fed the samples upsampled ×2 by nearest neighbour; or any network taking 14×14
    inputs, fed them as they are) assigns to the class of ``x``; ``temperature`` divides the
    sampling logits."""
    g = torch.Generator().manual_seed(int(seed))
    h = layer_features(classifier, [layer], images)[layer]
    model, hits = inversions[layer], 0
    reader = reader.eval()
    for s in range(0, images.shape[0], batch_size):
        xs = model.sample(None, h[s : s + batch_size], g, method="fast", temperature=temperature).cpu()
        cfg = getattr(reader, "config", None) or {}
        side = int(cfg.get("image_size", (cfg.get("input_shape") or [28])[-1]))
        if side != MNIST14_SIDE:
            xs = F.interpolate(xs, scale_factor=side // MNIST14_SIDE, mode="nearest")
        pred = reader(xs).argmax(1)
        hits += int((pred == labels[s : s + batch_size]).sum())
    return hits / images.shape[0]


if "mnist14" not in DATASETS:
    register_dataset("mnist14", mnist14_file_order)

_CNN = {"in_channels": 1, "image_size": MNIST14_SIDE, "num_classes": 10, "channels": [16, 32], "hidden": 64,
        "downsample": "stride"}
_SHAPES = {"input": [1, 14, 14], "conv1": [16, 14, 14], "conv2": [32, 7, 7], "fc": [64], "logits": [10]}
_PRESET = inversion_preset((1, MNIST14_SIDE, MNIST14_SIDE), MNIST14_LEVELS, 4000)
_ARCH = {**_PRESET["pixelcnn"], "in_channels": 1, "image_size": MNIST14_SIDE, "levels": MNIST14_LEVELS}
#: The preset's budget with 15 epochs instead of its 30 (112 optimiser steps per epoch): halved to fit
#: three seeds into the CPU time of one development round; the estimates and targets below are
#: those of this budget.
_FIT = {**_PRESET["fit"], "epochs": 15, "val_fraction": 0.1}

for _seed in MNIST_INV_SEEDS:
    register_entry(ZooEntry(
        name=f"cnn-mnist14-ckpts-s{_seed}",
        architecture="ClassifierCheckpoints",
        config={"classifier": _CNN, "epochs": CHECKPOINT_EPOCHS},
        dataset="mnist14", dataset_kwargs={},
        train_fn=train_checkpoints, metric_fn=checkpoint_metrics,
        hyperparameters={"batch_size": 64, "lr": 1e-3, "threads": 1},
        primary_metric="test_accuracy", seed=_seed,
        description=f"SmallCNN on MNIST at 14x14, 17 levels, snapshots at epochs {CHECKPOINT_EPOCHS} (seed {_seed})",
        tags=("inversion", "mnist"),
    ))
    register_entry(ZooEntry(
        name=f"cnn-mnist14-s{_seed}",
        architecture="ClassifierCheckpoints",
        config={"classifier": _CNN, "epochs": [CHECKPOINT_EPOCHS[-1]]},
        dataset="mnist14", dataset_kwargs={},
        train_fn=train_checkpoints, metric_fn=checkpoint_metrics,
        hyperparameters={"batch_size": 64, "lr": 1e-3, "threads": 1},
        primary_metric="test_accuracy", seed=_seed,
        description=(f"SmallCNN on MNIST at 14x14, 17 levels, {CHECKPOINT_EPOCHS[-1]} epochs, the final weights only "
                     f"(seed {_seed}; the classifier that inv-mnist-s{_seed} inverts)"),
        tags=("inversion", "mnist"),
    ))
    register_entry(ZooEntry(
        name=f"inv-mnist-s{_seed}",
        architecture="InversionSet",
        config={"pixelcnn": _ARCH, "cond_shapes": {"uncond": None, **{l: _SHAPES[l] for l in INVERSION_LAYERS}},
                "source": {"classifier": f"cnn-mnist14-s{_seed}", "epoch": CHECKPOINT_EPOCHS[-1], "seed": _seed},
                "storage_dtype": "float16"},
        dataset="mnist14", dataset_kwargs={},
        train_fn=train_inversion_set, metric_fn=inversion_metrics,
        hyperparameters={**_FIT, "threads": 1},
        primary_metric="h_x_bpd", seed=_seed,
        description=(f"gated PixelCNN inversion models of the MNIST 14x14 CNN (seed {_seed}) + unconditional twin, "
                     "the 14x14 preset (4 layers, 32 channels, location-dependent conditioning, dropout 0.1, "
                     "features standardised per channel, AdamW wd 1e-4, lr 2e-3 cosine, gradient norm clipped at 196, "
                     "patience 5, 15 epochs); "
                     "weights stored as float16"),
        tags=("inversion", "mnist"),
    ))
