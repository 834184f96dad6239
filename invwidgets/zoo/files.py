"""Zoo files: ``NAME.safetensors`` (weights) and ``NAME.json`` (card), saved and loaded safely.

Loading never unpickles and never runs code from a file: the card names a registered
architecture class and its keyword arguments, and the weights are read with safetensors. The
card records the weights' SHA-256, checked before loading.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from .registry import ARCHITECTURES, get_architecture

__all__ = ["WEIGHTS_DIR", "CARD_FORMAT", "available", "card", "load", "save", "build_model", "weights_path"]

#: Where the shipped weights and cards live.
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
#: Version of the card layout.
CARD_FORMAT = 1

_REQUIRED = ("name", "architecture", "dataset", "seed", "training", "metrics", "train_time_s", "torch_version")


def _directory(directory: str | Path | None) -> Path:
    return WEIGHTS_DIR if directory is None else Path(directory)


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"a zoo name must be a plain file stem like 'ae-sprites', got {name!r}")
    return name


def weights_path(name: str, directory: str | Path | None = None) -> Path:
    """Path of ``NAME.safetensors`` in ``directory`` (default: the package's weights folder)."""
    return _directory(directory) / f"{_check_name(name)}.safetensors"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def available(directory: str | Path | None = None) -> list[str]:
    """Names of the models whose weights and card are both present, sorted."""
    d = _directory(directory)
    if not d.is_dir():
        return []
    return sorted(p.stem for p in d.glob("*.json") if (d / f"{p.stem}.safetensors").is_file())


def _validate_card(c: Any, name: str | None = None) -> dict[str, Any]:
    if not isinstance(c, dict):
        raise ValueError(f"a card must be a JSON object, got {type(c).__name__}")
    missing = [k for k in _REQUIRED if k not in c]
    if missing:
        raise ValueError(f"card {c.get('name', name)!r} lacks the fields {missing}")
    if name is not None and c["name"] != name:
        raise ValueError(f"card file for {name!r} describes a model named {c['name']!r}")
    arch = c["architecture"]
    if not isinstance(arch, dict) or not isinstance(arch.get("class"), str) or not isinstance(arch.get("config"), dict):
        raise ValueError("card field 'architecture' must be {'class': str, 'config': {...}}")
    if not all(isinstance(k, str) for k in arch["config"]):
        raise ValueError("architecture config keys must be strings")
    return c


def card(name: str, directory: str | Path | None = None) -> dict[str, Any]:
    """The card (a dict) of model ``name``.

    Raises:
        FileNotFoundError: if there is no card, with the command that trains the model.
        ValueError: if the card is malformed.
    """
    path = _directory(directory) / f"{_check_name(name)}.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"no zoo card {path}; available: {available(directory)}. "
            f"Train it with: python -m invwidgets.zoo train {name}"
        )
    with path.open(encoding="utf-8") as f:
        return _validate_card(json.load(f), name)


@contextlib.contextmanager
def _preserve_global_rng() -> Iterator[None]:
    """Module constructors draw from the global RNG; keep the caller's state untouched."""
    with torch.random.fork_rng(devices=[]):
        yield


def build_model(class_name: str, config: dict[str, Any]) -> nn.Module:
    """Instantiate the registered architecture ``class_name`` with keyword arguments ``config``.

    The caller's global random state is left unchanged (the constructor's random initial weights
    are meant to be overwritten).

    Raises:
        ValueError: for an unknown class name or a config the constructor rejects.
    """
    cls = get_architecture(class_name)
    try:
        with _preserve_global_rng():
            return cls(**config)
    except TypeError as exc:
        raise ValueError(f"config does not fit {class_name}: {exc}") from None


def load(name: str, device: str | torch.device | None = None, directory: str | Path | None = None) -> nn.Module:
    """Build model ``name`` from its card and load its safetensors weights; returns it in eval mode.

    Args:
        name: a zoo name (see :func:`available`).
        device: where to put the model (default CPU).
        directory: folder holding the files (default: the package's weights folder).

    Raises:
        FileNotFoundError: if the card or the weights are missing.
        ValueError: for an unknown architecture class, a weights file whose SHA-256 differs from
            the card's, or weights that do not match the architecture.
    """
    c = card(name, directory)
    model = build_model(c["architecture"]["class"], c["architecture"]["config"])
    path = weights_path(name, directory)
    if not path.is_file():
        raise FileNotFoundError(f"card {name!r} found but its weights {path} are missing")
    expected = c.get("weights_sha256")
    if expected is not None and _sha256(path) != expected:
        raise ValueError(f"weights file {path} does not match the SHA-256 recorded in its card")
    state = load_file(str(path))
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"weights {path} do not fit {c['architecture']['class']}: {exc}") from None
    model.eval()
    if device is not None:
        model.to(device)
    return model


def save(model: nn.Module, card: dict[str, Any], directory: str | Path | None = None) -> Path:
    """Write ``NAME.safetensors`` and ``NAME.json`` for ``model`` into ``directory``.

    The card's ``architecture`` is filled from the model (class name and ``model.config``) when
    absent, ``weights_sha256`` and ``format`` are set, and the completed card is written. The class
    must be registered, so the files can be loaded back.

    Args:
        model: the model; its class must be in the architecture registry.
        card: the card; needs at least ``name`` (see :func:`~invwidgets.zoo.train` for the rest).
        directory: destination folder (created if needed; default: the package's weights folder).

    Returns:
        The path of the weights file.

    Raises:
        ValueError: for an unregistered class, a card whose architecture disagrees with the model,
            or a card that is not JSON-serialisable.
    """
    cls_name = type(model).__name__
    if ARCHITECTURES.get(cls_name) is not type(model):
        raise ValueError(f"{cls_name} is not a registered zoo architecture; register_architecture it first")
    name = _check_name(card.get("name", ""))
    out = dict(card)
    config = getattr(model, "config", None)
    if not isinstance(config, dict):
        raise ValueError(f"{cls_name} has no dict attribute 'config' holding its constructor arguments")
    arch = out.setdefault("architecture", {"class": cls_name, "config": config})
    if arch.get("class") != cls_name or arch.get("config") != config:
        raise ValueError(f"card architecture {arch} does not describe this {cls_name} with config {config}")
    out["format"] = CARD_FORMAT
    d = _directory(directory)
    d.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    try:
        json.dumps(out)
    except TypeError as exc:
        raise ValueError(f"card is not JSON-serialisable: {exc}") from None
    path = weights_path(name, d)
    save_file(state, str(path), metadata={"name": name, "architecture": cls_name})
    path.chmod(0o644)  # safetensors creates the file owner-only; weights are meant to be shared
    out["weights_sha256"] = _sha256(path)
    text = json.dumps(out, indent=2)
    (d / f"{name}.json").write_text(text + "\n", encoding="utf-8")
    return path
