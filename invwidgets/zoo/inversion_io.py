"""Save and load your own inversion sets in the zoo's format, so a set is fitted once.

A set fitted with :func:`~invwidgets.methods.inversion.fit_inversions` is written as
``NAME.safetensors`` (weights) plus ``NAME.json`` (a zoo card: architecture, fit settings, the fit
histories, optional metrics) by :func:`save_inversion_set`, by default into the user's zoo folder
(:func:`~invwidgets.zoo.locations.user_dir`, never the package's shipped files).
:func:`load_inversion_set` reads it back with the zoo's safe loader (no unpickling; SHA-256 and
tensor shapes checked against the card) and restores the histories, so the overfitting
diagnostic of :func:`~invwidgets.methods.inversion.mutual_information` still runs.

Example::

    inv, hist = fit_inversions(net, ["conv1", "fc"], train.images, levels=train.levels)
    save_inversion_set(inv, "my-net-inversions", fit={"epochs": 30})
    inv = load_inversion_set("my-net-inversions")   # later, in another session
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from invwidgets.models.pixelcnn import InversionSet

from . import locations

__all__ = ["card_histories", "save_inversion_set", "load_inversion_set"]


def _json_floats(value: Any) -> Any:
    """NaN/inf → ``None`` (strict JSON) in nested lists and dicts."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_floats(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_floats(v) for v in value]
    return value


def _from_json_history(h: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(h)
    for key in ("train_bpd", "val_bpd", "grad_norm_max"):
        if key in out:
            out[key] = [math.nan if v is None else float(v) for v in out[key]]
    return out


def save_inversion_set(
    inversions: InversionSet,
    name: str,
    *,
    directory: str | Path | None = None,
    description: str = "",
    dataset: str = "user",
    seed: int | None = None,
    fit: Mapping[str, Any] | None = None,
    metrics: Mapping[str, float] | None = None,
) -> Path:
    """Write ``inversions`` as ``NAME.safetensors`` + ``NAME.json`` (the zoo's card format).

    Args:
        inversions: a fitted :class:`InversionSet`; its ``histories`` go into the card.
        name: a plain file stem (``"my-net-inversions"``).
        directory: destination (default: the user's zoo folder, created if needed).
        description, dataset, seed: card fields saying what was fitted on what.
        fit: the fit settings to record (epochs, lr, ...).
        metrics: numbers to record (e.g. ``est.as_dict()``'s Ĥ(x) and Î per layer).

    Returns:
        The path of the weights file.
    """
    if not isinstance(inversions, InversionSet):
        raise TypeError(f"inversions must be an InversionSet, got {type(inversions).__name__}")
    card = {
        "name": name, "description": description, "dataset": str(dataset),
        "seed": None if seed is None else int(seed),
        "training": {"fit": _json_floats(dict(fit or {})),
                     "histories": _json_floats(dict(getattr(inversions, "histories", {}) or {}))},
        "metrics": _json_floats(dict(metrics or {})), "train_time_s": None,
        "torch_version": torch.__version__.split("+")[0],
    }
    return locations.save(inversions, card, directory=directory)


def load_inversion_set(name: str, *, directory: str | Path | None = None,
                       device: str | torch.device | None = None) -> InversionSet:
    """Load a set written by :func:`save_inversion_set` (or a shipped one) with its histories.

    ``directory`` defaults to the zoo's search path (``$INVWIDGETS_ZOO_DIR`` then the shipped
    files); pass :func:`~invwidgets.zoo.locations.user_dir` to read your own folder.
    """
    model = locations.load(name, device=device, directory=directory)
    if not isinstance(model, InversionSet):
        raise TypeError(f"zoo model {name!r} is a {type(model).__name__}, not an InversionSet")
    model.histories = card_histories(locations.card(name, directory))
    return model


def card_histories(card: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The fit histories a card records: ``training.histories`` of :func:`save_inversion_set`,
    or the per-model curves of a zoo-trained set (``training.history`` with ``train_bpd`` and
    ``val_bpd`` by model, and ``grad_norm_max`` where the fit clipped gradients; sets trained
    before the training curves were kept give ``{}``)."""
    training = card.get("training", {}) or {}
    histories = training.get("histories")
    if isinstance(histories, Mapping):
        return {str(k): _from_json_history(v) for k, v in histories.items() if isinstance(v, Mapping)}
    log = training.get("history", {}) or {}
    train, val, best = log.get("train_bpd"), log.get("val_bpd"), log.get("best_epoch", {})
    grad = log.get("grad_norm_max") or {}
    if not isinstance(train, Mapping) or not isinstance(val, Mapping):
        return {}
    return {str(k): _from_json_history({"train_bpd": train[k], "val_bpd": val[k], "best_epoch": best.get(k),
                                        **({"grad_norm_max": grad[k]} if k in grad else {})})
            for k in val if k in train}
