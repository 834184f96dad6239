"""Where zoo files are read from and written to.

The shipped weights and cards live inside the installed package (:data:`WEIGHTS_DIR`) and are
never written by retraining unless that folder is passed explicitly. The rule:

* **Writing** (:func:`save`, ``train(..., save=True)``, ``python -m invwidgets.zoo train``)
  goes to ``directory`` when given, else to :func:`user_dir`: ``$INVWIDGETS_ZOO_DIR`` when set,
  else ``$XDG_CACHE_HOME/invwidgets/zoo``, else ``~/.cache/invwidgets/zoo``.
* **Reading** (:func:`load`, :func:`card`, :func:`weights_path`) with an explicit ``directory``
  reads only there. Without one it reads ``$INVWIDGETS_ZOO_DIR`` first when that variable is
  set (a model retrained there is found by name), then the package's shipped files.

So ``load(name)`` gives the shipped model unless you ask for your own, either per call
(``directory=user_dir()``) or for a whole session (``INVWIDGETS_ZOO_DIR``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import files
from .files import WEIGHTS_DIR

__all__ = ["ENV_VAR", "available", "card", "load", "save", "search_path", "user_dir", "weights_path"]

#: Environment variable naming the user's zoo folder (read first by :func:`load` when set).
ENV_VAR = "INVWIDGETS_ZOO_DIR"


def user_dir() -> Path:
    """The per-user zoo folder that retraining writes to (not created here).

    ``$INVWIDGETS_ZOO_DIR`` when set and non-empty, else ``$XDG_CACHE_HOME/invwidgets/zoo``, else
    ``~/.cache/invwidgets/zoo``.
    """
    explicit = os.environ.get(ENV_VAR, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(cache).expanduser() if cache else Path.home() / ".cache") / "invwidgets" / "zoo"


def search_path(directory: str | Path | None = None) -> list[Path]:
    """The folders :func:`load` reads, in order: ``[directory]`` when given, else
    ``[$INVWIDGETS_ZOO_DIR, WEIGHTS_DIR]`` when the variable is set, else ``[WEIGHTS_DIR]``."""
    if directory is not None:
        return [Path(directory)]
    explicit = os.environ.get(ENV_VAR, "").strip()
    return ([Path(explicit).expanduser()] if explicit else []) + [WEIGHTS_DIR]


def _locate(name: str, directory: str | Path | None) -> Path:
    """The first folder of the search path holding ``NAME.json``; the last one when none does
    (so that the error names the shipped folder)."""
    folders = search_path(directory)
    for folder in folders:
        if (folder / f"{name}.json").is_file():
            return folder
    return folders[-1]


def available(directory: str | Path | None = None) -> list[str]:
    """Names of the models whose weights and card are both present along the search path, sorted."""
    return sorted({n for folder in search_path(directory) for n in files.available(folder)})


def card(name: str, directory: str | Path | None = None) -> dict[str, Any]:
    """The card of model ``name``, from the first folder of :func:`search_path` that holds it.

    Raises:
        FileNotFoundError: if no folder holds it, with the command that trains the model.
        ValueError: if the card is malformed.
    """
    return files.card(name, _locate(name, directory))


def weights_path(name: str, directory: str | Path | None = None) -> Path:
    """Path of ``NAME.safetensors`` in the folder :func:`card` reads ``name`` from."""
    return files.weights_path(name, _locate(name, directory))


def load(name: str, device: str | torch.device | None = None, directory: str | Path | None = None) -> nn.Module:
    """Build model ``name`` from its card and weights, read from the first folder of
    :func:`search_path` holding it (see the module's rule); returns it in eval mode.

    Raises:
        FileNotFoundError: if the card or the weights are missing.
        ValueError: for an unknown architecture, a weights file whose SHA-256 differs from the
            card's, or weights that do not fit the architecture.
    """
    return files.load(name, device=device, directory=_locate(name, directory))


def save(model: nn.Module, card: dict[str, Any], directory: str | Path | None = None) -> Path:
    """Write ``NAME.safetensors`` and ``NAME.json`` into ``directory`` (default: :func:`user_dir`,
    never the package unless it is passed explicitly); returns the weights' path.

    See :func:`invwidgets.zoo.files.save` for what the card must hold.
    """
    return files.save(model, card, user_dir() if directory is None else directory)
