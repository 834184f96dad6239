"""Small pretrained models: safetensors weights plus a JSON card, each reproducible from code.

* :func:`available`, :func:`card`, :func:`load` — use the shipped models (``load`` builds the
  architecture named in the card from a registry of known classes; it never unpickles).
* :func:`train`, :func:`evaluate`, :func:`save` — retrain reproducibly, recompute metrics, write files
  (to :func:`user_dir` unless a folder is given: retraining never overwrites the shipped files).
* :func:`metric_reproduces`, :func:`metric_mismatches` — whether recomputed metrics reproduce a
  card, with tolerances that hold across CPUs (docs/reproducibility.md).
* :data:`ENTRIES` and :func:`register_entry` — one declarative :class:`ZooEntry` per model.

Command line: ``python -m invwidgets.zoo list`` and ``python -m invwidgets.zoo train NAME``.
"""

from . import entries as _entries  # noqa: F401  (registers the shipped models)
from . import entries_factors as _entries_factors  # noqa: F401  (ae/cnn-color-digits-s*, IINs)
from . import entries_invariances as _entries_invariances  # noqa: F401  (svae-digits, baseline-digits)
from . import entries_inversion as _entries_inversion  # noqa: F401  (cnn-digits-ckpts-s*, inv-digits-s*)
from . import entries_responses as _entries_responses  # noqa: F401  (vae/betavae/ae-sprites-s*, helix-vae)
from .files import CARD_FORMAT, WEIGHTS_DIR, build_model
from .locations import ENV_VAR, available, card, load, save, search_path, user_dir, weights_path
from .registry import (
    ARCHITECTURES,
    DATASETS,
    ENTRIES,
    ZooEntry,
    build_dataset,
    get_entry,
    register_architecture,
    register_dataset,
    register_entry,
)
from .reproduce import (
    DEFAULT_TOLERANCE,
    METRIC_TOLERANCES,
    evaluate,
    metric_mismatches,
    metric_reproduces,
    test_split,
    train,
)
from .training import (
    batch_indices,
    classification_metrics,
    reconstruction_metrics,
    train_autoencoder,
    train_classifier,
)

__all__ = [
    "ARCHITECTURES",
    "CARD_FORMAT",
    "DATASETS",
    "DEFAULT_TOLERANCE",
    "ENTRIES",
    "ENV_VAR",
    "METRIC_TOLERANCES",
    "WEIGHTS_DIR",
    "ZooEntry",
    "available",
    "batch_indices",
    "build_dataset",
    "build_model",
    "card",
    "classification_metrics",
    "evaluate",
    "get_entry",
    "load",
    "metric_mismatches",
    "metric_reproduces",
    "reconstruction_metrics",
    "register_architecture",
    "register_dataset",
    "register_entry",
    "save",
    "search_path",
    "test_split",
    "train",
    "train_autoencoder",
    "train_classifier",
    "user_dir",
    "weights_path",
]
