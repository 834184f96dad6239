"""In-memory datasets with one shape: :class:`Dataset` for images, :class:`VectorDataset` for vectors.

Both hold every sample in memory as a float32 tensor, with optional integer class labels, optional
discrete generative factors (``factors``: int64 N×K with names and sizes) and optional per-sample
extras (continuous annotations such as the helix height ``t``). They support ``len``, indexing,
:meth:`~BaseDataset.subset` and a deterministic, stratified :meth:`~BaseDataset.split`.

When the factors enumerate a full grid in mixed-radix order (first factor most significant) the
dataset is *factorial*: :meth:`~BaseDataset.index_of` and :meth:`~BaseDataset.factors_of` convert
between factor values and indices by arithmetic, which enables exact one-factor traversals.

Every dataset also says where it comes from: ``citation``, ``license`` and ``url`` (``None`` when
unknown, e.g. for the user's own tensors); :attr:`~BaseDataset.info` gathers them with the name,
the size and the factors into one :class:`DatasetInfo`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import torch

__all__ = [
    "BaseDataset",
    "Dataset",
    "DatasetInfo",
    "VectorDataset",
    "mixed_radix_index",
    "mixed_radix_factors",
]

_D = TypeVar("_D", bound="BaseDataset")

IndexLike = int | Sequence[int] | torch.Tensor | np.ndarray | slice


def _as_long_tensor(values: Any, what: str) -> torch.Tensor:
    """Convert ``values`` to an int64 tensor, rejecting floats and bools with a clear error."""
    if isinstance(values, np.ndarray):
        values = torch.from_numpy(np.ascontiguousarray(values))
    elif not isinstance(values, torch.Tensor):
        try:
            values = torch.as_tensor(values)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise TypeError(f"{what} must be integers; could not convert {type(values).__name__}: {exc}") from None
    if values.dtype == torch.bool or values.is_floating_point() or values.is_complex():
        raise TypeError(f"{what} must have an integer dtype, got {values.dtype}")
    return values.to(torch.int64)


def mixed_radix_index(values: Any, sizes: Sequence[int]) -> torch.Tensor:
    """Encode factor values as mixed-radix indices, the first factor most significant.

    Args:
        values: integer factor values, shape ``(K,)`` or ``(N, K)``.
        sizes: number of values of each of the ``K`` factors.

    Returns:
        An int64 tensor: a 0-d tensor for ``(K,)`` input, else shape ``(N,)``.

    Raises:
        ValueError: if the last dimension is not ``K`` or a value is outside ``[0, size)``.
    """
    v = _as_long_tensor(values, "factor values")
    if v.ndim not in (1, 2) or v.shape[-1] != len(sizes):
        raise ValueError(f"factor values must have shape (K,) or (N, K) with K={len(sizes)}, got {tuple(v.shape)}")
    size_t = torch.as_tensor(list(sizes), dtype=torch.int64)
    bad = (v < 0) | (v >= size_t)
    if bool(bad.any()):
        raise ValueError(f"factor values out of range: each value k must satisfy 0 <= value < size {list(sizes)}")
    index = torch.zeros(v.shape[:-1], dtype=torch.int64)
    for k, size in enumerate(sizes):
        index = index * int(size) + v[..., k]
    return index


def mixed_radix_factors(index: Any, sizes: Sequence[int]) -> torch.Tensor:
    """Decode mixed-radix indices into factor values; inverse of :func:`mixed_radix_index`.

    Args:
        index: an integer or an integer tensor of shape ``(N,)``.
        sizes: number of values of each factor.

    Returns:
        Int64 factor values of shape ``(K,)`` for a scalar index, else ``(N, K)``.

    Raises:
        ValueError: if an index is outside ``[0, prod(sizes))``.
    """
    idx = _as_long_tensor(index, "index")
    if idx.ndim > 1:
        raise ValueError(f"index must be a scalar or 1-d, got shape {tuple(idx.shape)}")
    total = math.prod(int(s) for s in sizes)
    if bool(((idx < 0) | (idx >= total)).any()):
        raise ValueError(f"index out of range: must satisfy 0 <= index < {total}")
    out = torch.empty(idx.shape + (len(sizes),), dtype=torch.int64)
    rest = idx.clone()
    for k in range(len(sizes) - 1, -1, -1):
        out[..., k] = rest % int(sizes[k])
        rest = torch.div(rest, int(sizes[k]), rounding_mode="floor")
    return out


@dataclass(frozen=True)
class DatasetInfo:
    """Where a dataset comes from and what it holds.

    Attributes:
        name: the dataset's short name.
        n: number of samples.
        shape: shape of one sample (``(C, H, W)`` for images, ``(D,)`` for vectors).
        citation: the publication or source to cite, or ``None`` when unknown (the user's data).
        license: the licence of the data as its authors state it, or ``None`` when unknown.
        url: the authors' page, or ``None``.
        factors: ``(name, number of values)`` of each discrete generative factor; a labelled
            dataset without factors lists its labels as ``("label", number of classes)``.
    """

    name: str
    n: int
    shape: tuple[int, ...]
    citation: str | None
    license: str | None
    url: str | None
    factors: tuple[tuple[str, int], ...]


def _optional_text(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string or None, got {type(value).__name__}")
    return value


class BaseDataset:
    """Shared machinery of :class:`Dataset` and :class:`VectorDataset`.

    Subclasses store their samples in ``self._values`` (float32, first dimension N) and define
    :meth:`_check_values`. Everything else (labels, factors, extras, subsetting, splitting,
    factor look-ups) lives here.
    """

    is_image: bool = False

    def __init__(
        self,
        values: torch.Tensor,
        labels: Any = None,
        factors: Any = None,
        *,
        factor_names: Sequence[str] | None = None,
        factor_sizes: Sequence[int] | None = None,
        class_names: Sequence[str] | None = None,
        name: str = "dataset",
        extras: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        citation: str | None = None,
        license: str | None = None,
        url: str | None = None,
    ) -> None:
        if not isinstance(values, torch.Tensor):
            raise TypeError(f"{self._values_name} must be a torch.Tensor, got {type(values).__name__}")
        if values.dtype != torch.float32:
            raise TypeError(f"{self._values_name} must have dtype torch.float32, got {values.dtype}")
        if values.ndim < 1 or values.shape[0] == 0:
            raise ValueError(f"{self._values_name} must hold at least one sample, got shape {tuple(values.shape)}")
        n_bad = int((~torch.isfinite(values)).sum())
        if n_bad:
            raise ValueError(f"{self._values_name} contains {n_bad} NaN or infinite values")
        self._check_values(values)
        n = values.shape[0]
        self._values = values
        self.name = str(name)
        self.citation: str | None = _optional_text(citation, "citation")
        self.license: str | None = _optional_text(license, "license")
        self.url: str | None = _optional_text(url, "url")

        # labels
        if labels is not None:
            lab = _as_long_tensor(labels, "labels")
            if lab.ndim != 1 or lab.shape[0] != n:
                raise ValueError(
                    f"labels must have shape ({n},) to match {n} samples, got shape {tuple(lab.shape)}"
                )
            if bool((lab < 0).any()):
                raise ValueError(f"labels must be non-negative class indices, found minimum {int(lab.min())}")
            n_classes = int(lab.max()) + 1
            if class_names is not None:
                class_names = tuple(str(c) for c in class_names)
                if len(class_names) < n_classes:
                    raise ValueError(
                        f"class_names has {len(class_names)} entries but labels go up to {n_classes - 1}"
                    )
            else:
                class_names = tuple(str(i) for i in range(n_classes))
        elif class_names is not None:
            class_names = tuple(str(c) for c in class_names)
        self.labels: torch.Tensor | None = None if labels is None else lab
        self.class_names: tuple[str, ...] | None = class_names

        # factors
        if factors is not None:
            fac = _as_long_tensor(factors, "factors")
            if fac.ndim == 1:
                fac = fac[:, None]
            if fac.ndim != 2 or fac.shape[0] != n:
                raise ValueError(f"factors must have shape ({n}, K), got shape {tuple(fac.shape)}")
            k = fac.shape[1]
            if factor_names is None:
                factor_names = tuple(f"factor{i}" for i in range(k))
            factor_names = tuple(str(f) for f in factor_names)
            if len(factor_names) != k or len(set(factor_names)) != k:
                raise ValueError(f"factor_names must be {k} distinct names, got {factor_names}")
            if factor_sizes is None:
                factor_sizes = tuple(int(m) + 1 for m in fac.max(dim=0).values.tolist())
            factor_sizes = tuple(int(s) for s in factor_sizes)
            if len(factor_sizes) != k or any(s < 1 for s in factor_sizes):
                raise ValueError(f"factor_sizes must be {k} positive integers, got {factor_sizes}")
            bad = (fac < 0) | (fac >= torch.as_tensor(factor_sizes))
            if bool(bad.any()):
                col = int(bad.any(dim=0).nonzero()[0])
                raise ValueError(
                    f"factor {factor_names[col]!r} has values outside [0, {factor_sizes[col]}): "
                    f"found range [{int(fac[:, col].min())}, {int(fac[:, col].max())}]"
                )
        elif factor_names is not None or factor_sizes is not None:
            raise ValueError("factor_names/factor_sizes given without factors")
        self.factors: torch.Tensor | None = None if factors is None else fac
        self.factor_names: tuple[str, ...] | None = None if factors is None else factor_names
        self.factor_sizes: tuple[int, ...] | None = None if factors is None else factor_sizes

        # extras: per-sample annotations sliced along with the samples
        self.extras: dict[str, torch.Tensor] = {}
        for key, val in (extras or {}).items():
            t = val if isinstance(val, torch.Tensor) else torch.as_tensor(np.asarray(val))
            if t.ndim == 0 or t.shape[0] != n:
                raise ValueError(f"extra {key!r} must have first dimension {n}, got shape {tuple(t.shape)}")
            self.extras[str(key)] = t
        self.metadata: dict[str, Any] = dict(metadata or {})
        self._factorial: bool | None = None

    # -- subclass hooks -------------------------------------------------------------------------
    _values_name = "values"

    def _check_values(self, values: torch.Tensor) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _constructor_kwargs(self) -> dict[str, Any]:
        """Keyword arguments (besides the per-sample tensors) to rebuild this dataset."""
        return {}

    def provenance(self) -> dict[str, str | None]:
        """``citation``, ``license`` and ``url`` as keyword arguments, to pass on to a derived dataset."""
        return {"citation": self.citation, "license": self.license, "url": self.url}

    @property
    def info(self) -> DatasetInfo:
        """Name, size, shape, citation, licence, url and factors of this dataset."""
        if self.factor_names is not None and self.factor_sizes is not None:
            factors = tuple(zip(self.factor_names, self.factor_sizes))
        elif self.labels is not None and self.class_names is not None:
            factors = (("label", len(self.class_names)),)
        else:
            factors = ()
        return DatasetInfo(self.name, len(self), self.shape, self.citation, self.license, self.url, factors)

    # -- container protocol ----------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self._values.shape[0])

    def __getitem__(self, index: IndexLike) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(x, label)``; the label is ``-1`` (int64) for unlabelled data.

        An integer index gives one sample; a slice, list or tensor of indices gives a batch.
        """
        x = self._values[index]
        if self.labels is not None:
            y = self.labels[index]
        else:
            y = torch.full(x.shape[: x.ndim - (self._values.ndim - 1)], -1, dtype=torch.int64)
        return x, y

    def __repr__(self) -> str:
        parts = [f"name={self.name!r}", f"n={len(self)}", f"shape={self.shape}"]
        if self.labels is not None and self.class_names is not None:
            parts.append(f"classes={len(self.class_names)}")
        if self.factor_names is not None:
            parts.append("factors=" + ", ".join(f"{n}:{s}" for n, s in zip(self.factor_names, self.factor_sizes)))
        return f"{type(self).__name__}({', '.join(parts)})"

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one sample."""
        return tuple(self._values.shape[1:])

    # -- subsetting and splitting ----------------------------------------------------------------
    def subset(self: _D, indices: IndexLike) -> _D:
        """A new dataset with the samples at ``indices`` (in that order); tensors are copied.
        No index (``[]``, an empty tensor or an all-False mask) gives an empty dataset.

        Raises:
            IndexError: if an index is out of range.
            TypeError: if ``indices`` is not integer-valued (boolean masks are accepted).
        """
        if isinstance(indices, slice):
            idx = torch.arange(len(self))[indices]
        else:
            if isinstance(indices, np.ndarray):
                indices = torch.from_numpy(np.ascontiguousarray(indices))
            t = indices if isinstance(indices, torch.Tensor) else torch.as_tensor(indices)
            if t.numel() == 0 and t.dtype != torch.bool:
                t = t.long()  # [] converts to a float tensor: no index is no index, whatever its dtype
            if t.dtype == torch.bool:
                if t.shape != (len(self),):
                    raise ValueError(f"boolean mask must have shape ({len(self)},), got {tuple(t.shape)}")
                idx = t.nonzero().flatten()
            else:
                idx = _as_long_tensor(t, "indices").reshape(-1)
        if idx.numel() == 0:
            return self._empty()
        if bool(((idx < -len(self)) | (idx >= len(self))).any()):
            raise IndexError(f"subset indices out of range for dataset of length {len(self)}")
        return type(self)(
            self._values[idx].clone(),
            labels=None if self.labels is None else self.labels[idx].clone(),
            factors=None if self.factors is None else self.factors[idx].clone(),
            factor_names=self.factor_names,
            factor_sizes=self.factor_sizes,
            class_names=self.class_names,
            name=self.name,
            extras={k: v[idx].clone() for k, v in self.extras.items()},
            metadata=self.metadata,
            **self.provenance(),
            **self._constructor_kwargs(),
        )

    def _empty(self: _D) -> _D:
        """A dataset with no samples and everything else (names, factors, metadata) of this one.

        The constructor refuses zero samples (every check it runs needs one); this copy keeps the
        validated attributes and slices every per-sample tensor to length 0.
        """
        out = copy.copy(self)
        out._values = self._values[:0].clone()
        out.labels = None if self.labels is None else self.labels[:0].clone()
        out.factors = None if self.factors is None else self.factors[:0].clone()
        out.extras = {k: v[:0].clone() for k, v in self.extras.items()}
        out.metadata = dict(self.metadata)
        return out

    def split_indices(self, test_fraction: float = 0.2, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """Deterministic train/test index split, stratified by label when labels exist.

        For each class with ``n_c`` samples, ``round(n_c * test_fraction)`` of them, drawn with a
        ``torch.Generator`` seeded by ``seed``, go to the test set. Without labels the whole
        dataset is one stratum. Both index tensors are returned sorted.

        Raises:
            ValueError: if ``test_fraction`` is not strictly between 0 and 1, or if the test or
                training set would be empty.
        """
        if not isinstance(test_fraction, (int, float)) or not 0.0 < float(test_fraction) < 1.0:
            raise ValueError(f"test_fraction must be strictly between 0 and 1, got {test_fraction!r}")
        gen = torch.Generator().manual_seed(int(seed))
        if self.labels is None:
            strata = [torch.arange(len(self))]
        else:
            strata = [(self.labels == c).nonzero().flatten() for c in torch.unique(self.labels).tolist()]
        test_parts, train_parts = [], []
        for members in strata:
            perm = members[torch.randperm(members.numel(), generator=gen)]
            n_test = int(round(members.numel() * float(test_fraction)))
            test_parts.append(perm[:n_test])
            train_parts.append(perm[n_test:])
        train = torch.sort(torch.cat(train_parts)).values
        test = torch.sort(torch.cat(test_parts)).values
        if train.numel() == 0 or test.numel() == 0:
            raise ValueError(
                f"test_fraction={test_fraction} leaves an empty {'test' if test.numel() == 0 else 'training'} "
                f"set for a dataset of {len(self)} samples"
            )
        return train, test

    def split(self: _D, test_fraction: float = 0.2, seed: int = 0) -> tuple[_D, _D]:
        """Split into ``(train, test)`` datasets; see :meth:`split_indices` for the rule."""
        train, test = self.split_indices(test_fraction, seed)
        return self.subset(train), self.subset(test)

    def pick_indices(self, n: int, by: str | int = "label") -> torch.Tensor:
        """``n`` indices that cover the classes: round-robin over the values of ``by``.

        Round ``r`` takes, for every value in increasing order, its ``r``-th sample in dataset
        order, so the first ``C`` indices show ``C`` different classes whatever order the data are
        stored in (a file sorted by label included). Deterministic: no random draw. A value with
        fewer samples drops out once it has none left; fewer than ``n`` indices come back only
        when the dataset has fewer than ``n`` samples. Without labels (``by="label"``) the result
        is ``0 .. n-1``.

        Args:
            n: number of indices wanted (>= 1).
            by: ``"label"``, or a factor name or position to cover the values of that factor.

        Returns:
            Int64 indices of shape ``(min(n, len(self)),)``, all different.

        Raises:
            ValueError: for ``n < 1`` or an unknown factor.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        n = min(int(n), len(self))
        if n == 0:  # an empty subset
            return torch.zeros(0, dtype=torch.int64)
        if by == "label":
            if self.labels is None:
                return torch.arange(n)
            values = self.labels
        else:
            values = self._require_factors()[0][:, self.factor_index(by)]
        order = torch.argsort(values, stable=True)  # grouped by value, dataset order inside a group
        sorted_vals = values[order]
        _, counts = torch.unique_consecutive(sorted_vals, return_counts=True)
        starts = torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)
        rank = torch.empty_like(order)
        rank[order] = torch.arange(len(order)) - starts  # position of each sample inside its group
        key = rank * (int(values.max()) + 1) + values  # round first, then value
        return torch.argsort(key, stable=True)[:n]

    # -- factors ---------------------------------------------------------------------------------
    def _require_factors(self) -> tuple[torch.Tensor, tuple[str, ...], tuple[int, ...]]:
        if self.factors is None or self.factor_names is None or self.factor_sizes is None:
            raise ValueError(f"dataset {self.name!r} has no factors")
        return self.factors, self.factor_names, self.factor_sizes

    def factor_index(self, factor: str | int) -> int:
        """Position of ``factor`` (a name or an integer position) among the factors.

        Raises:
            ValueError: if the dataset has no factors or the factor is unknown.
        """
        _, names, _ = self._require_factors()
        if isinstance(factor, bool):
            raise TypeError("factor must be a name or an integer position, got bool")
        if isinstance(factor, (int, np.integer)):
            if not 0 <= int(factor) < len(names):
                raise ValueError(f"factor position {factor} out of range for factors {names}")
            return int(factor)
        if isinstance(factor, str):
            if factor not in names:
                raise ValueError(f"unknown factor {factor!r}; this dataset has factors {names}")
            return names.index(factor)
        raise TypeError(f"factor must be a name or an integer position, got {type(factor).__name__}")

    @property
    def is_factorial(self) -> bool:
        """True when the factors enumerate the full grid in mixed-radix order (index = encoding)."""
        if self._factorial is None:
            if self.factors is None or self.factor_sizes is None:
                self._factorial = False
            elif len(self) != math.prod(self.factor_sizes):
                self._factorial = False
            else:
                codes = mixed_radix_index(self.factors, self.factor_sizes)
                self._factorial = bool(torch.equal(codes, torch.arange(len(self))))
        return self._factorial

    def index_of(self, factor_values: Any) -> torch.Tensor:
        """Index of the sample(s) with the given factor values.

        Args:
            factor_values: integers of shape ``(K,)`` or ``(N, K)``, in the order of
                ``factor_names``.

        Returns:
            A 0-d int64 tensor for one sample, else shape ``(N,)``.

        Raises:
            ValueError: if there are no factors, values are out of range, or (for a dataset that
                is not factorial) no sample has those values.
        """
        fac, _, sizes = self._require_factors()
        if self.is_factorial:
            return mixed_radix_index(factor_values, sizes)
        query = mixed_radix_index(factor_values, sizes)
        codes = mixed_radix_index(fac, sizes)
        order = torch.argsort(codes, stable=True)
        sorted_codes = codes[order]
        q = query.reshape(-1)
        pos = torch.searchsorted(sorted_codes, q).clamp(max=len(self) - 1)
        found = sorted_codes[pos] == q
        if not bool(found.all()):
            missing = mixed_radix_factors(q[~found][0], sizes).tolist()
            raise ValueError(f"no sample in dataset {self.name!r} has factor values {missing}")
        return order[pos].reshape(query.shape)

    def factors_of(self, index: Any) -> torch.Tensor:
        """Factor values of the sample(s) at ``index`` (shape ``(K,)`` or ``(N, K)``)."""
        fac, _, _ = self._require_factors()
        idx = _as_long_tensor(index, "index")
        if bool(((idx < 0) | (idx >= len(self))).any()):
            raise ValueError(f"index out of range: must satisfy 0 <= index < {len(self)}")
        return fac[idx].clone()


class Dataset(BaseDataset):
    """An image dataset: ``images`` float32 N×C×H×W with every value in [0, 1].

    Args:
        images: float32 tensor N×C×H×W, finite, values in [0, 1].
        labels: optional int64-convertible class indices of shape (N,).
        factors: optional integer generative factors of shape (N, K) (or (N,) for K = 1).
        factor_names: names of the K factors (default ``factor0`` ...).
        factor_sizes: number of values of each factor (default: max + 1).
        class_names: names of the classes (default ``"0"``, ``"1"``, ...).
        name: a short name of the dataset.
        levels: number of discrete intensity levels when the data are exactly discrete, so that
            ``images * (levels - 1)`` are integers (17 for sklearn digits, 2 for binary sprites,
            256 for uint8 data); ``None`` for continuous data. Checked.
        extras: per-sample tensors (first dimension N) carried through subsets and splits.
        metadata: free-form dataset-level information (e.g. a colour palette).
        citation: the publication or source to cite (``None``: unknown).
        license: the licence of the data as its authors state it (``None``: unknown).
        url: the authors' page (``None``: none known).

    Raises:
        TypeError: if ``images`` is not a float32 tensor or labels/factors are not integers.
        ValueError: for a wrong shape, NaN/inf, values outside [0, 1], labels or factors that do
            not match N, or images that are not on the declared ``levels``.
    """

    is_image = True
    _values_name = "images"

    def __init__(
        self,
        images: torch.Tensor,
        labels: Any = None,
        factors: Any = None,
        *,
        factor_names: Sequence[str] | None = None,
        factor_sizes: Sequence[int] | None = None,
        class_names: Sequence[str] | None = None,
        name: str = "dataset",
        levels: int | None = None,
        extras: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        citation: str | None = None,
        license: str | None = None,
        url: str | None = None,
    ) -> None:
        if levels is not None:
            if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 2:
                raise ValueError(f"levels must be an integer >= 2 or None, got {levels!r}")
            levels = int(levels)
        self.levels: int | None = levels
        super().__init__(
            images,
            labels,
            factors,
            factor_names=factor_names,
            factor_sizes=factor_sizes,
            class_names=class_names,
            name=name,
            extras=extras,
            metadata=metadata,
            citation=citation,
            license=license,
            url=url,
        )

    def _check_values(self, values: torch.Tensor) -> None:
        if values.ndim != 4:
            raise ValueError(f"images must have shape N×C×H×W (4 dimensions), got shape {tuple(values.shape)}")
        lo, hi = float(values.min()), float(values.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(f"images must lie in [0, 1], found range [{lo:.4g}, {hi:.4g}]")
        if self.levels is not None:
            scaled = values * (self.levels - 1)
            err = float((scaled - scaled.round()).abs().max())
            if err > 1e-3:
                raise ValueError(
                    f"images are not on {self.levels} discrete levels: images*(levels-1) is off an "
                    f"integer by up to {err:.3g}; pass levels=None for continuous data"
                )

    def _constructor_kwargs(self) -> dict[str, Any]:
        return {"levels": self.levels}

    @property
    def images(self) -> torch.Tensor:
        """The images, float32 N×C×H×W in [0, 1]."""
        return self._values

    @property
    def shape(self) -> tuple[int, int, int]:
        """Shape ``(C, H, W)`` of one image."""
        c, h, w = self._values.shape[1:]
        return int(c), int(h), int(w)


class VectorDataset(BaseDataset):
    """A dataset of feature vectors: ``vectors`` float32 N×D, any finite values.

    Vector data (the helix toy, tabular features) is not an image, so it gets its own class:
    ``is_image`` is False, values are not restricted to [0, 1] and there are no intensity levels.
    Labels, factors, extras, :meth:`subset` and :meth:`split` work as for :class:`Dataset`.

    Args:
        vectors: float32 tensor N×D, finite.
        labels, factors, factor_names, factor_sizes, class_names, name, extras, metadata,
            citation, license, url: as for :class:`Dataset`.
    """

    is_image = False
    _values_name = "vectors"

    def _check_values(self, values: torch.Tensor) -> None:
        if values.ndim != 2:
            raise ValueError(f"vectors must have shape N×D (2 dimensions), got shape {tuple(values.shape)}")

    @property
    def vectors(self) -> torch.Tensor:
        """The vectors, float32 N×D."""
        return self._values

    @property
    def shape(self) -> tuple[int]:
        """Shape ``(D,)`` of one vector."""
        return (int(self._values.shape[1]),)
