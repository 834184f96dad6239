"""Pair sources for training an IIN: images ``(x^a, x^b)`` with explicit masks of shared factors.

A :class:`PairSource` draws ``n`` pairs with a ``torch.Generator`` and returns
``(x_a, x_b, shared)`` where ``shared`` is a boolean ``(n, K)`` mask over the IIN's factors
(``K = len(factor_names) + 1``; the last column is the residual, never shared). Masks are explicit,
unlike the official code's signed integers (which cannot say "all but factor 0").

Three sources (docs/methods/factors.md, Pair sources):

* :meth:`PairSource.from_labels` — attribute equality in a labelled dataset (e.g. colour digits:
  same digit, or same colour). The mask is computed from *all* listed factors, so a digit pair
  that happens to share its colour is marked as sharing both.
* :meth:`PairSource.from_augmentation` — unsupervised pairing: two random augmentations of the
  same image share its "content" factor (what the augmentation leaves unchanged).
* :meth:`PairSource.from_sketches` — the "two sketches" route. The paper defines a concept by
  sketching two images that differ in it, and renders many realistic variants of each sketch with
  a style-transfer model; two renderings of the same sketch form a positive pair for the concept.
  **Our choice:** a style-transfer network is not available offline, so a *rendering* is a random
  augmentation that changes everything the concept is not about: for colour digits
  :class:`SketchRenderer` colours the grayscale sketch with a random palette colour, scales its
  intensity and shifts it by up to one pixel. Two renderings of sketch A (or of sketch B) share the
  concept; A and B differ in it, so the concept factor must separate them. Unrelated pairs of
  real images (mask all False, the unsupervised term) are mixed in, so that the IIN still models
  the density of the real representations and the new factor is a direction *in the data's*
  representation rather than a code for two drawings only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from invwidgets.data import BaseDataset

__all__ = ["PairSource", "SketchRenderer", "Augment"]

#: ``augment(images, generator) -> images``: a random, seeded transformation of a batch.
Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def _check_generator(generator: Any) -> torch.Generator:
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    return generator


def _check_n(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    return n


def _check_images(x: Any, what: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{what} must be floating point, got dtype {x.dtype}")
    if x.ndim != 4:
        raise ValueError(f"{what} must have shape N×C×H×W, got {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{what} contains NaN or infinite values")
    return x.float()


class SketchRenderer:
    """Render grayscale sketches as varied colour images (the offline stand-in for style transfer).

    Each rendering multiplies the sketch (``N×1×H×W`` in [0, 1]) by a colour drawn uniformly from
    ``palette`` (``P×3``), scales its intensity by a factor in ``intensity``, and shifts it by
    up to ``max_shift`` pixels (zero fill). Everything random comes from the generator.
    """

    def __init__(self, palette: Any, max_shift: int = 1, intensity: tuple[float, float] = (0.75, 1.0)) -> None:
        pal = torch.as_tensor(palette, dtype=torch.float32)
        if pal.ndim != 2 or pal.shape[1] != 3 or pal.shape[0] < 1:
            raise ValueError(f"palette must be P×3 RGB colours, got shape {tuple(pal.shape)}")
        lo, hi = float(intensity[0]), float(intensity[1])
        if not 0.0 < lo <= hi <= 1.0:
            raise ValueError(f"intensity must be a range inside (0, 1], got {intensity}")
        if isinstance(max_shift, bool) or not isinstance(max_shift, int) or max_shift < 0:
            raise ValueError(f"max_shift must be a non-negative integer, got {max_shift!r}")
        self.palette = pal
        self.max_shift = max_shift
        self.intensity = (lo, hi)

    def __call__(self, sketches: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Render ``N×1×H×W`` sketches as ``N×3×H×W`` images."""
        x = _check_images(sketches, "sketches")
        _check_generator(generator)
        if x.shape[1] != 1:
            raise ValueError(f"sketches must be grayscale (1 channel), got {x.shape[1]} channels")
        n = x.shape[0]
        colors = self.palette[torch.randint(0, self.palette.shape[0], (n,), generator=generator)]
        lo, hi = self.intensity
        scale = lo + (hi - lo) * torch.rand(n, generator=generator)
        out = x.clamp(0, 1) * (colors * scale[:, None])[:, :, None, None]
        if self.max_shift:
            s = self.max_shift
            shifts = torch.randint(-s, s + 1, (n, 2), generator=generator)
            padded = torch.nn.functional.pad(out, (s, s, s, s))
            h, w = out.shape[2:]
            out = torch.stack(
                [padded[i, :, s - dy : s - dy + h, s - dx : s - dx + w] for i, (dy, dx) in enumerate(shifts.tolist())]
            )
        return out.clamp(0, 1)


def _factor_values(dataset: BaseDataset, factor: str) -> torch.Tensor:
    """The values of ``factor`` for every item: the labels for ``"label"``, else a factor column."""
    if factor == "label" and (dataset.factor_names is None or "label" not in dataset.factor_names):
        if dataset.labels is None:
            raise ValueError(f"dataset {dataset.name!r} has no labels to pair on")
        return dataset.labels
    if dataset.factors is None:
        raise ValueError(
            f"dataset {dataset.name!r} has no factors (it cannot pair on {factor!r}); "
            "pair on the class labels with factors=('label',)"
        )
    return dataset.factors[:, dataset.factor_index(factor)]


class PairSource:
    """Draws image pairs with boolean masks of the factors they share.

    Use the constructors :meth:`from_labels`, :meth:`from_augmentation` and :meth:`from_sketches`.

    Attributes:
        factor_names: the named factors (the residual is implied as a last, never-shared factor).
    """

    def __init__(
        self,
        factor_names: Sequence[str],
        draw: Callable[[int, torch.Generator], tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
    ) -> None:
        self.factor_names: tuple[str, ...] = tuple(str(f) for f in factor_names)
        self._draw = draw

    @property
    def n_factors(self) -> int:
        """Columns of the masks: the named factors plus the residual."""
        return len(self.factor_names) + 1

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(x_a, x_b, shared)``: two ``n×C×H×W`` batches and a bool ``(n, n_factors)`` mask."""
        _check_n(n)
        _check_generator(generator)
        return self._draw(n, generator)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_labels(
        cls,
        dataset: BaseDataset,
        factors: Sequence[str] | None = None,
        weights: Sequence[float] | None = None,
    ) -> PairSource:
        """Pairs that share one factor of a labelled dataset (e.g. ``("digit", "color")``).

        Each pair first picks its factor (``weights``, default uniform), then draws two different
        images with equal values of it (:func:`invwidgets.data.sample_pairs`). The mask marks
        every listed factor the two images share. ``"label"`` names the class labels; a dataset
        with labels but no factors pairs on ``("label",)`` by default.

        Raises:
            ValueError: if the dataset has neither factors nor labels, or an unknown factor is named.
        """
        if factors is not None:
            names = tuple(factors)
        elif dataset.factor_names:
            names = tuple(dataset.factor_names)
        elif dataset.labels is not None:
            names = ("label",)
        else:
            names = ()
        if not names:
            raise ValueError(f"dataset {dataset.name!r} has neither factors nor labels to pair on")
        columns = [_factor_values(dataset, f) for f in names]
        w = torch.ones(len(names)) if weights is None else torch.as_tensor(weights, dtype=torch.float64).float()
        if w.shape != (len(names),) or bool((w < 0).any()) or not float(w.sum()) > 0:
            raise ValueError(f"weights must be {len(names)} non-negative numbers with a positive sum, got {weights!r}")
        table = torch.stack(columns, dim=1)
        from invwidgets.data import sample_pairs

        values = dataset._values

        def draw(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            which = torch.multinomial(w, n, replacement=True, generator=generator)
            idx = torch.empty(n, 2, dtype=torch.int64)
            for k, name in enumerate(names):
                rows = (which == k).nonzero().flatten()
                if rows.numel():
                    idx[rows] = sample_pairs(dataset, name, int(rows.numel()), generator)
            shared = torch.zeros(n, len(names) + 1, dtype=torch.bool)
            shared[:, : len(names)] = table[idx[:, 0]] == table[idx[:, 1]]
            return values[idx[:, 0]], values[idx[:, 1]], shared

        return cls(names, draw)

    @classmethod
    def from_augmentation(cls, images: torch.Tensor, augment: Augment, factor: str = "content") -> PairSource:
        """Unsupervised pairs: two random augmentations of the same image share ``factor``.

        Args:
            images: the images to draw from, N×C×H×W.
            augment: ``augment(batch, generator) -> batch``, e.g. a recolouring (then the shared
                factor is the shape, learned without labels).
            factor: the name of the shared factor.
        """
        imgs = _check_images(images, "images")
        if not callable(augment):
            raise TypeError("augment must be callable: augment(images, generator) -> images")

        def draw(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            base = imgs[torch.randint(0, imgs.shape[0], (n,), generator=generator)]
            shared = torch.zeros(n, 2, dtype=torch.bool)
            shared[:, 0] = True
            return augment(base, generator), augment(base, generator), shared

        return cls((factor,), draw)

    @classmethod
    def from_sketches(
        cls,
        sketch_a: torch.Tensor,
        sketch_b: torch.Tensor,
        render: Augment,
        background: torch.Tensor | None = None,
        concept: str = "concept",
        background_fraction: float = 0.5,
    ) -> PairSource:
        """The two-sketches route: renderings of the same sketch share ``concept``.

        Args:
            sketch_a, sketch_b: two drawings (``H×W``, ``1×H×W`` or ``1×1×H×W``, in [0, 1]) that
                differ in the concept.
            render: ``render(sketches, generator) -> images`` (e.g. :class:`SketchRenderer`).
            background: real images; a ``background_fraction`` of the pairs are two unrelated
                real images (mask all False), so the IIN keeps modelling the data's density.
            concept: the name of the new factor.
            background_fraction: share of background pairs, in [0, 1).

        Raises:
            ValueError: for empty sketches, sketches of different sizes, or a bad fraction.
        """
        sk = []
        for s, what in ((sketch_a, "sketch_a"), (sketch_b, "sketch_b")):
            t = torch.as_tensor(s, dtype=torch.float32)
            while t.ndim < 4:
                t = t.unsqueeze(0)
            t = _check_images(t, what)
            if t.shape[0] != 1 or t.shape[1] != 1:
                raise ValueError(f"{what} must be one grayscale drawing, got shape {tuple(t.shape)}")
            if not float(t.max()) > 0:
                raise ValueError(f"{what} is empty: draw something first")
            sk.append(t)
        if sk[0].shape != sk[1].shape:
            raise ValueError(f"the sketches differ in size: {tuple(sk[0].shape)} vs {tuple(sk[1].shape)}")
        if torch.equal(sk[0], sk[1]):
            raise ValueError("the two sketches are identical; they must differ in the concept")
        if not 0.0 <= float(background_fraction) < 1.0:
            raise ValueError(f"background_fraction must be in [0, 1), got {background_fraction!r}")
        bg = None if background is None else _check_images(background, "background")
        both = torch.cat(sk)

        def draw(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            n_bg = int(round(n * float(background_fraction))) if bg is not None else 0
            n_sk = n - n_bg
            which = torch.randint(0, 2, (n_sk,), generator=generator)
            xa, xb = render(both[which], generator), render(both[which], generator)
            shared = torch.zeros(n, 2, dtype=torch.bool)
            shared[:n_sk, 0] = True
            if n_bg:
                assert bg is not None
                ia = torch.randint(0, bg.shape[0], (n_bg,), generator=generator)
                ib = torch.randint(0, bg.shape[0], (n_bg,), generator=generator)
                if xa.shape[1:] != bg.shape[1:]:
                    raise ValueError(f"rendered sketches {tuple(xa.shape[1:])} and background {tuple(bg.shape[1:])} differ in shape")
                xa, xb = torch.cat([xa, bg[ia]]), torch.cat([xb, bg[ib]])
            return xa, xb, shared

        return cls((concept,), draw)
