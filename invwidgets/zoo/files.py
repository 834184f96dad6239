"""Zoo files: ``NAME.safetensors`` (weights) and ``NAME.json`` (card), saved and loaded safely.

Loading never unpickles and never runs code from a file: the card names a registered
architecture class and its keyword arguments, and the weights are read with safetensors. The
card records the weights' SHA-256, checked before loading (a card without it is refused). Before
anything is allocated, the card's integer arguments are checked against sane bounds and the model
is built on torch's ``meta`` device (no memory) so that the shapes it would allocate can be
compared with the tensor shapes in the safetensors header.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from .registry import ARCHITECTURES, get_architecture

__all__ = [
    "WEIGHTS_DIR", "CARD_FORMAT", "MAX_CONFIG_INT", "MAX_PARAMETERS",
    "available", "card", "load", "save", "build_model", "weights_path",
]

#: Where the shipped weights and cards live.
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
#: Version of the card layout.
CARD_FORMAT = 1

#: Largest integer a card's architecture arguments may hold (sizes, counts; seeds are exempt).
MAX_CONFIG_INT = 1 << 16
#: Most tensor elements (parameters and buffers together) a loaded model may have.
MAX_PARAMETERS = 100_000_000
#: Largest safetensors header read (the format's own limit is 100 MB).
_MAX_HEADER_BYTES = 16 << 20
_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
                "U8": 1, "BOOL": 1}

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
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    _check_config_ints(arch["config"], "config")
    return c


def _check_config_ints(value: Any, where: str, seed: bool = False) -> None:
    """Every integer in a config (nested in dicts and lists) is in [0, MAX_CONFIG_INT]; integers
    under a key containing ``seed`` may be any non-negative 64-bit value."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_config_ints(item, f"{where}.{key}", seed or "seed" in str(key).lower())
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_config_ints(item, f"{where}[{i}]", seed)
    elif isinstance(value, int) and not isinstance(value, bool):
        bound = (1 << 63) - 1 if seed else MAX_CONFIG_INT
        if not 0 <= value <= bound:
            raise ValueError(f"card architecture argument {where} = {value} is outside [0, {bound}]; "
                             "refusing to build a model from it")
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"card architecture argument {where} = {value} is not finite")


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


def _read_header(path: Path) -> dict[str, tuple[str, list[int]]]:
    """The tensors a safetensors file declares, ``{key: (dtype, shape)}``, read from its header
    (8 bytes little-endian length, then JSON) and checked against the file's size.

    Raises:
        ValueError: for a header that is malformed or points outside the file.
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ValueError(f"weights file {path} is too short to be safetensors")
        (n,) = struct.unpack("<Q", head)
        if n > min(_MAX_HEADER_BYTES, size - 8):
            raise ValueError(f"weights file {path} declares a {n}-byte header, larger than allowed or the file")
        try:
            header = json.loads(f.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"weights file {path} has a malformed safetensors header: {exc}") from None
    if not isinstance(header, dict):
        raise ValueError(f"weights file {path} has a malformed safetensors header")
    data_size = size - 8 - n
    out = {}
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        try:
            dtype, shape, (begin, end) = entry["dtype"], list(entry["shape"]), entry["data_offsets"]
            ok = (dtype in _DTYPE_BYTES and all(isinstance(d, int) and d >= 0 for d in shape)
                  and 0 <= begin <= end <= data_size
                  and end - begin == math.prod(shape) * _DTYPE_BYTES[dtype])
        except (TypeError, KeyError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"weights file {path}: header entry {key!r} is malformed or points outside the file")
        out[key] = (dtype, shape)
    return out


def _planned_shapes(class_name: str, config: dict[str, Any]) -> dict[str, list[int]]:
    """The state-dict shapes the architecture would allocate, from a build on the ``meta``
    device (shapes only, no memory)."""
    cls = get_architecture(class_name)
    try:
        with _preserve_global_rng(), torch.device("meta"):
            model = cls(**config)
    except TypeError as exc:
        raise ValueError(f"config does not fit {class_name}: {exc}") from None
    return {k: list(v.shape) for k, v in model.state_dict().items()}


def _check_shapes(path: Path, class_name: str, config: dict[str, Any]) -> None:
    """The card's architecture must allocate exactly the tensors the weights file holds, and no
    more than :data:`MAX_PARAMETERS` elements."""
    stored = {k: shape for k, (_dtype, shape) in _read_header(path).items()}
    planned = _planned_shapes(class_name, config)
    total = sum(math.prod(shape) for shape in planned.values())
    if total > MAX_PARAMETERS:
        raise ValueError(f"the card's {class_name} would hold {total:,} elements, more than "
                         f"MAX_PARAMETERS = {MAX_PARAMETERS:,}; refusing to allocate it")
    if planned.keys() != stored.keys():
        missing, extra = sorted(planned.keys() - stored.keys()), sorted(stored.keys() - planned.keys())
        raise ValueError(f"weights {path} do not fit the card's {class_name}: missing tensors "
                         f"{missing[:5]}, unexpected tensors {extra[:5]}")
    wrong = [f"{k}: card asks for {planned[k]}, file holds {stored[k]}"
             for k in planned if planned[k] != stored[k]]
    if wrong:
        raise ValueError(f"weights {path} do not fit the card's {class_name} (tensor shapes differ; "
                         f"refusing to allocate): " + "; ".join(wrong[:5]))


def _checked_weights(c: dict[str, Any], path: Path) -> None:
    """The card must record the weights' SHA-256, and the file must match it."""
    expected = c.get("weights_sha256")
    if not isinstance(expected, str) or len(expected) != 64:
        raise ValueError(
            f"card {c['name']!r} records no weights_sha256, so its weights {path} cannot be checked; "
            "refusing to load them (zoo.save writes cards with the hash)"
        )
    if _sha256(path) != expected.lower():
        raise ValueError(f"weights file {path} does not match the SHA-256 recorded in its card")


def load(name: str, device: str | torch.device | None = None, directory: str | Path | None = None) -> nn.Module:
    """Build model ``name`` from its card and load its safetensors weights; returns it in eval mode.

    Before anything is allocated: the architecture class must be registered, the card's integer
    arguments within bounds, the weights' SHA-256 must equal the card's ``weights_sha256`` (which
    must be present), and the tensor shapes in the safetensors header must be exactly the ones
    the card's architecture would allocate.

    Args:
        name: a zoo name (see :func:`available`).
        device: where to put the model (default CPU).
        directory: folder holding the files (default: the package's weights folder).

    Raises:
        FileNotFoundError: if the card or the weights are missing.
        ValueError: for an unknown architecture class, a card without ``weights_sha256``, a
            weights file whose SHA-256 differs from the card's, out-of-bounds architecture
            arguments, or weights that do not match the architecture.
    """
    c = card(name, directory)
    class_name, config = c["architecture"]["class"], c["architecture"]["config"]
    get_architecture(class_name)
    path = weights_path(name, directory)
    if not path.is_file():
        raise FileNotFoundError(f"card {name!r} found but its weights {path} are missing")
    _checked_weights(c, path)
    _check_shapes(path, class_name, config)
    model = build_model(class_name, config)
    state = load_file(str(path))
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"weights {path} do not fit {class_name}: {exc}") from None
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
