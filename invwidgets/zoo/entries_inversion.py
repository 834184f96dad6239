"""Zoo models of the inversion method (Nash et al. 2019) on the 8×8 digits, three seeds each.

* ``cnn-digits-ckpts-s{seed}`` — a :class:`ClassifierCheckpoints`: the SmallCNN
  (stride-2 conv2) trained 30 epochs, with snapshots at epochs 0, 1, 3, 10, 30.
* ``inv-digits-s{seed}`` — an :class:`~invwidgets.models.pixelcnn.InversionSet` for the epoch-30
  classifier: the unconditional PixelCNN and one conditional model per layer
  (input, conv1, conv2, fc, logits).
* ``inv-digits-s{seed}-e{epoch}`` — conditional models of conv2, fc and logits for the earlier
  checkpoints (epochs 0, 1, 3, 10); Î uses the unconditional model of ``inv-digits-s{seed}``.

Train them in this order with ``python -m invwidgets.zoo train NAME`` (an inversion entry loads
its classifier checkpoint from the zoo).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from invwidgets.data import BaseDataset
from invwidgets.methods.inversion import DEFAULT_PIXELCNN, fit_inversion_set, mutual_information
from invwidgets.models import SmallCNN
from invwidgets.models.pixelcnn import InversionSet

from . import locations
from .registry import ZooEntry, register_architecture, register_entry
from .training import batch_indices, classification_metrics

__all__ = [
    "CHECKPOINT_EPOCHS",
    "CKPT_LAYERS",
    "INVERSION_LAYERS",
    "SEEDS",
    "ClassifierCheckpoints",
    "checkpoint_inversions",
    "with_uncond",
    "inversion_metrics",
    "shipped_results",
    "train_checkpoints",
    "train_inversion_set",
]

#: Epochs at which the classifier is snapshotted (0 = initialisation).
CHECKPOINT_EPOCHS = [0, 1, 3, 10, 30]
#: Layers inverted for the final classifier (``"input"`` = identity conditioning).
INVERSION_LAYERS = ["input", "conv1", "conv2", "fc", "logits"]
#: Layers inverted at the earlier checkpoints.
CKPT_LAYERS = ["conv2", "fc", "logits"]
#: The three seeds of the reproduction.
SEEDS = [0, 1, 2]

_CNN_CONFIG = {"in_channels": 1, "image_size": 8, "num_classes": 10, "channels": [16, 32], "hidden": 64,
               "downsample": "stride"}
_SHAPES = {"input": [1, 8, 8], "conv1": [16, 8, 8], "conv2": [32, 4, 4], "fc": [64], "logits": [10]}
#: The inversion models' budget: the fitting defaults of :func:`fit_inversion_set` (Adam, batch 32,
#: lr 1e-2 with a per-step half-cosine decay to 0, 30 epochs, the best validation epoch kept).
_FIT = {"epochs": 30, "batch_size": 32, "lr": 1e-2, "val_fraction": 0.1, "schedule": "cosine"}


@register_architecture
class ClassifierCheckpoints(nn.Module):
    """Snapshots of one classifier over its training: ``checkpoint(epoch)`` is a SmallCNN.

    Args:
        classifier: the :class:`~invwidgets.models.SmallCNN` keyword arguments.
        epochs: the snapshot epochs, increasing (0 = initialisation).
    """

    def __init__(self, classifier: dict[str, Any], epochs: list[int]) -> None:
        super().__init__()
        epochs = [int(e) for e in epochs]
        if not epochs or sorted(set(epochs)) != epochs or epochs[0] < 0:
            raise ValueError(f"epochs must be increasing non-negative integers, got {epochs}")
        self.config: dict[str, Any] = {"classifier": dict(classifier), "epochs": epochs}
        self.epochs = epochs
        self.snapshots = nn.ModuleList([SmallCNN(**classifier) for _ in epochs])

    def checkpoint(self, epoch: int) -> SmallCNN:
        """The classifier as it was after ``epoch`` epochs (eval mode)."""
        if epoch not in self.epochs:
            raise KeyError(f"no checkpoint at epoch {epoch}; have {self.epochs}")
        return self.snapshots[self.epochs.index(epoch)].eval()  # type: ignore[return-value]

    @property
    def final(self) -> SmallCNN:
        """The last snapshot."""
        return self.checkpoint(self.epochs[-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of the final snapshot."""
        return self.final(x)


def train_checkpoints(model: nn.Module, train_set: BaseDataset, hyperparameters: Mapping[str, Any],
                      generator: torch.Generator, progress: bool = True) -> dict[str, Any]:
    """Train snapshot 0's initial weights with Adam on cross-entropy for ``max(epochs)`` epochs,
    copying the weights into the snapshot of each checkpoint epoch.

    Hyperparameters: ``batch_size``, ``lr``.
    """
    assert isinstance(model, ClassifierCheckpoints)
    unknown = set(hyperparameters) - {"batch_size", "lr", "threads"}
    if unknown:
        raise ValueError(f"train_checkpoints got unknown hyperparameters {sorted(unknown)}")
    work = SmallCNN(**model.config["classifier"])
    work.load_state_dict(model.snapshots[0].state_dict())
    x_all, y_all = train_set[:]
    b = min(int(hyperparameters["batch_size"]), len(train_set))
    per_epoch = len(train_set) // b
    n_epochs = max(model.epochs)
    batches = batch_indices(len(train_set), b, max(1, n_epochs * per_epoch), generator)
    opt = torch.optim.Adam(work.parameters(), lr=float(hyperparameters["lr"]))
    losses: list[float] = []
    for epoch in tqdm(range(1, n_epochs + 1), desc="train checkpoints", disable=not progress, leave=False):
        work.train()
        for idx in batches[(epoch - 1) * per_epoch : epoch * per_epoch]:
            loss = F.cross_entropy(work(x_all[idx]), y_all[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        if epoch in model.epochs:
            model.snapshots[model.epochs.index(epoch)].load_state_dict(work.state_dict())
    model.eval()
    return {"epoch_mean_loss": [round(sum(losses[i * per_epoch:(i + 1) * per_epoch]) / per_epoch, 6)
                                for i in range(n_epochs)]}


@torch.no_grad()
def checkpoint_metrics(model: nn.Module, test_set: BaseDataset) -> dict[str, float]:
    """Test accuracy and loss of every snapshot (``test_accuracy`` is the final one's)."""
    assert isinstance(model, ClassifierCheckpoints)
    out: dict[str, float] = {}
    for e in model.epochs:
        m = classification_metrics(model.checkpoint(e), test_set)
        out[f"test_accuracy_e{e}"] = m["test_accuracy"]
        out[f"test_loss_e{e}"] = m["test_loss"]
    out["test_accuracy"] = out[f"test_accuracy_e{model.epochs[-1]}"]
    return out


def _classifier(source: Mapping[str, Any]) -> SmallCNN:
    ckpts = locations.load(str(source["classifier"]))
    assert isinstance(ckpts, ClassifierCheckpoints)
    return ckpts.checkpoint(int(source["epoch"]))


def train_inversion_set(model: nn.Module, train_set: BaseDataset, hyperparameters: Mapping[str, Any],
                        generator: torch.Generator, progress: bool = True) -> dict[str, Any]:
    """Fit every model of an :class:`InversionSet` on the classifier's training split, reading
    the classifier named in ``model.source`` from the zoo.

    Hyperparameters: ``epochs``, ``batch_size``, ``lr``, ``val_fraction``, ``schedule`` (``"cosine"``
    or ``"constant"``, the default when absent), optionally ``weight_decay``, ``patience`` and
    ``clip_grad_norm``; the fitting seed is drawn from ``generator``.
    """
    assert isinstance(model, InversionSet)
    unknown = set(hyperparameters) - {"epochs", "batch_size", "lr", "val_fraction", "schedule", "threads",
                                      "weight_decay", "patience", "clip_grad_norm"}
    if unknown:
        raise ValueError(f"train_inversion_set got unknown hyperparameters {sorted(unknown)}")
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    hist = fit_inversion_set(
        model, _classifier(model.source), train_set.images, epochs=int(hyperparameters["epochs"]),
        batch_size=int(hyperparameters["batch_size"]), lr=float(hyperparameters["lr"]),
        val_fraction=float(hyperparameters["val_fraction"]), seed=seed,
        schedule=str(hyperparameters.get("schedule", "constant")), progress=progress,
        **{k: hyperparameters[k] for k in ("weight_decay", "patience", "clip_grad_norm") if k in hyperparameters},
    )
    model.round_to_storage()  # a float16-stored set: the metrics are those of the weights saved
    out = {"fit_seed": seed, "val_bpd": {k: [round(v, 5) for v in h["val_bpd"]] for k, h in hist.items()},
           "best_epoch": {k: h["best_epoch"] for k, h in hist.items()}}
    if "patience" in hyperparameters:  # the newer entries also keep what the overfitting check reads
        out["train_bpd"] = {k: [None if v != v else round(v, 5) for v in h["train_bpd"]] for k, h in hist.items()}
    if "clip_grad_norm" in hyperparameters:  # and, with clipping, each epoch's largest gradient norm
        out["grad_norm_max"] = {k: [None if v != v else round(v, 1) for v in h["grad_norm_max"]]
                                for k, h in hist.items()}
    return out


def with_uncond(inv: InversionSet) -> InversionSet:
    """``inv`` itself if it has an unconditional model, else a copy joined with the unconditional
    model of the zoo set named in ``inv.source["uncond_from"]``."""
    if "uncond" in inv:
        return inv
    ref = locations.load(str(inv.source["uncond_from"]))
    assert isinstance(ref, InversionSet)
    full = InversionSet(inv.config["pixelcnn"], {"uncond": None, **inv.config["cond_shapes"]}, source=inv.source)
    state = {f"models.uncond.{k}": v for k, v in ref["uncond"].state_dict().items()}
    state.update(inv.state_dict())
    full.load_state_dict(state)
    return full.eval()


def checkpoint_inversions(seed: int, epoch: int) -> InversionSet:
    """The shipped inversion models of classifier seed ``seed`` at checkpoint ``epoch``, with the
    shared unconditional model included (so :func:`mutual_information` can use it directly)."""
    name = f"inv-digits-s{seed}" if epoch == CHECKPOINT_EPOCHS[-1] else f"inv-digits-s{seed}-e{epoch}"
    inv = locations.load(name)
    assert isinstance(inv, InversionSet)
    return with_uncond(inv)


@torch.no_grad()
def inversion_metrics(model: nn.Module, test_set: BaseDataset) -> dict[str, float]:
    """Ĥ(x) and Î per layer (bits, bootstrap 95 % interval with 200 resamples, seed 0) on the test
    split."""
    assert isinstance(model, InversionSet)
    inv = with_uncond(model)
    est = mutual_information(inv, _classifier(model.source), test_set.images, layers=model.layers, n_boot=200, seed=0)
    out = {"h_x_bits": est.h_x_bits, "h_x_bpd": est.h_x_bpd}
    for layer, r in est.layers.items():
        out[f"mi_bits_{layer}"] = r.mi_bits
        out[f"mi_ci_low_{layer}"] = r.ci_low
        out[f"mi_ci_high_{layer}"] = r.ci_high
    return out


register_architecture(InversionSet)

for _seed in SEEDS:
    register_entry(ZooEntry(
        name=f"cnn-digits-ckpts-s{_seed}",
        architecture="ClassifierCheckpoints",
        config={"classifier": _CNN_CONFIG, "epochs": CHECKPOINT_EPOCHS},
        dataset="digits", dataset_kwargs={},
        train_fn=train_checkpoints, metric_fn=checkpoint_metrics,
        hyperparameters={"batch_size": 64, "lr": 1e-3, "threads": 1},
        primary_metric="test_accuracy", seed=_seed,
        description=f"SmallCNN on digits with snapshots at epochs {CHECKPOINT_EPOCHS} (seed {_seed})",
        tags=("inversion",),
    ))
    _arch = {**DEFAULT_PIXELCNN, "in_channels": 1, "image_size": 8, "levels": 17}
    register_entry(ZooEntry(
        name=f"inv-digits-s{_seed}",
        architecture="InversionSet",
        config={"pixelcnn": _arch, "cond_shapes": {"uncond": None, **{l: _SHAPES[l] for l in INVERSION_LAYERS}},
                "source": {"classifier": f"cnn-digits-ckpts-s{_seed}", "epoch": CHECKPOINT_EPOCHS[-1], "seed": _seed}},
        dataset="digits", dataset_kwargs={},
        train_fn=train_inversion_set, metric_fn=inversion_metrics,
        hyperparameters={**_FIT, "threads": 1},
        primary_metric="h_x_bpd", seed=_seed,
        description=(f"gated PixelCNN inversion models (conditioning in every gate and at the head) of the epoch-30 "
                     f"digits CNN (seed {_seed}) + unconditional twin; Adam batch 32, lr 1e-2 cosine-decayed, 30 epochs"),
        tags=("inversion",),
    ))
    for _epoch in CHECKPOINT_EPOCHS[:-1]:
        register_entry(ZooEntry(
            name=f"inv-digits-s{_seed}-e{_epoch}",
            architecture="InversionSet",
            config={"pixelcnn": _arch, "cond_shapes": {l: _SHAPES[l] for l in CKPT_LAYERS},
                    "source": {"classifier": f"cnn-digits-ckpts-s{_seed}", "epoch": _epoch, "seed": _seed,
                               "uncond_from": f"inv-digits-s{_seed}"}},
            dataset="digits", dataset_kwargs={},
            train_fn=train_inversion_set, metric_fn=inversion_metrics,
            hyperparameters={**_FIT, "threads": 1},
            primary_metric="h_x_bpd", seed=_seed,
            description=(f"inversion models of the digits CNN (seed {_seed}) at epoch {_epoch}; same architecture and "
                         f"budget as inv-digits-s{_seed}"),
            tags=("inversion",),
        ))


def shipped_results(seeds: list[int] | None = None, n_boot: int = 200) -> dict[str, Any]:
    """Recompute, from the shipped models, Î per layer of the final classifiers and Î over the
    checkpoints, for each seed, on each seed's test split (bootstrap seed 0).

    Returns:
        ``{"final": {seed: MIEstimate}, "checkpoints": {seed: CheckpointMI}}``.
    """
    from invwidgets.methods.inversion import CheckpointMI

    from .reproduce import test_split

    out: dict[str, Any] = {"final": {}, "checkpoints": {}}
    for seed in SEEDS if seeds is None else seeds:
        test = test_split(f"inv-digits-s{seed}").images
        ckpts = locations.load(f"cnn-digits-ckpts-s{seed}")
        assert isinstance(ckpts, ClassifierCheckpoints)
        estimates = {}
        for epoch in CHECKPOINT_EPOCHS:
            inv = checkpoint_inversions(seed, epoch)
            layers = INVERSION_LAYERS if epoch == CHECKPOINT_EPOCHS[-1] else CKPT_LAYERS
            estimates[epoch] = mutual_information(inv, ckpts.checkpoint(epoch), test, layers=layers,
                                                  n_boot=n_boot, seed=0)
        out["final"][seed] = estimates[CHECKPOINT_EPOCHS[-1]]
        out["checkpoints"][seed] = CheckpointMI(list(CHECKPOINT_EPOCHS), list(CKPT_LAYERS), estimates)
    return out


from . import entries_mnist_inversion as _mnist  # noqa: E402, F401  (cnn-mnist14-ckpts-s*, inv-mnist-s*)
