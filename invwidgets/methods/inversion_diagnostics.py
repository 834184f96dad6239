"""What says how far to trust a mutual-information estimate of the inversion method.

Every :class:`~invwidgets.methods.inversion.MIEstimate` carries the flags of :func:`diagnose`
(``est.flags``; per layer ``est.layers[l].flags``) and the checks it could not run with the reason
(``est.unchecked``). A flag is raised for

* ``negative`` — a negative estimate (mutual information is never negative: the conditional model
  fits worse than the unconditional one), or an interval that reaches below zero;
* ``data_processing`` — a deeper layer of a feed-forward chain carrying more than the layer before
  it beyond the interval of the difference (``I(x; f_{l+1}) ≤ I(x; f_l)`` must hold);
* ``fano`` — a layer whose whole interval lies below the Fano lower bound implied by the accuracy
  of a classifier read off that layer (:func:`fano_lower_bound`);
* ``overfit`` — the fit history of the layer's model (or of the unconditional twin, which every
  layer's estimate uses) shows the validation loss rising while the training loss falls
  (:func:`overfitting`);
* ``identity_shortfall`` — identity conditioning (the ``"input"`` layer) recovering less than
  ``identity_ratio`` (0.9) of Ĥ(x): the models are too weak for any layer's estimate to be read as
  information (a flag on the whole estimate);
* ``few_test`` — fewer than ``min_test`` (100) held-out images: the percentile bootstrap of a mean
  of heavy-tailed per-image differences then under-covers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .inversion import MIEstimate

__all__ = ["MIFlag", "FLAG_KINDS", "fano_lower_bound", "overfitting", "diagnose"]

#: The kinds of flag :func:`diagnose` raises, in the order they are reported.
FLAG_KINDS = ("negative", "data_processing", "fano", "overfit", "identity_shortfall", "few_test")


@dataclass(frozen=True)
class MIFlag:
    """One reason not to read an estimate as a clean number.

    ``layer`` is the flagged layer, or ``None`` for a flag on the whole estimate (``few_test``,
    an overfitted unconditional model), which applies to every layer.
    """

    kind: str
    layer: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {"kind": self.kind, "layer": self.layer, "message": self.message}


def _binary_entropy(p: float) -> float:
    return 0.0 if p <= 0.0 or p >= 1.0 else -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


def fano_lower_bound(accuracy: float, num_classes: int, class_probs: Sequence[float] | None = None) -> float:
    """Lower bound in bits on ``I(x; h)`` from a classifier of accuracy ``accuracy`` that reads ``h``.

    Fano's inequality gives ``H(y | ŷ) ≤ h_b(e) + e·log₂(K − 1)`` with ``e = 1 − accuracy``; the
    label is a function of the image and ``ŷ`` a function of ``h``, so
    ``I(x; h) ≥ I(y; h) ≥ I(y; ŷ) ≥ H(y) − h_b(e) − e·log₂(K − 1)`` (clipped at 0). ``H(y)`` is
    the entropy of ``class_probs`` (default: uniform, ``log₂ K``). A classifier 95 % accurate on
    ten balanced classes gives about 2.88 bits.
    """
    if not 0.0 <= float(accuracy) <= 1.0:
        raise ValueError(f"accuracy must lie in [0, 1], got {accuracy}")
    k = int(num_classes)
    if k < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    if class_probs is None:
        h_y = math.log2(k)
    else:
        p = [float(v) for v in class_probs]
        if len(p) != k or min(p) < 0 or abs(sum(p) - 1.0) > 1e-6:
            raise ValueError(f"class_probs must be {k} non-negative numbers summing to 1")
        h_y = -sum(v * math.log2(v) for v in p if v > 0)
    e = 1.0 - float(accuracy)
    return max(0.0, h_y - _binary_entropy(e) - e * math.log2(k - 1))


def overfitting(history: Mapping[str, Any], tol: float = 0.01) -> str | None:
    """Why the fit ``history`` (from :func:`~invwidgets.methods.inversion.fit_pixelcnn`) shows
    overfitting, or ``None``: the last validation bits/dim above the best by more than ``tol``
    (relative) while the training bits/dim kept falling after the best epoch."""
    val = [float(v) for v in history.get("val_bpd", [])]
    train = [float(v) for v in history.get("train_bpd", [])]
    if len(val) < 3 or len(train) != len(val):
        return None
    best = min(range(len(val)), key=val.__getitem__)
    ref = best if best >= 1 else 1  # epoch 0 has no training loss
    if ref >= len(val) - 1:
        return None
    rise = (val[-1] - val[best]) / max(abs(val[best]), 1e-12)
    if rise > tol and train[-1] < train[ref]:
        return (f"validation bits/dim rose {100 * rise:.1f} % after epoch {best} "
                f"({val[best]:.3f} → {val[-1]:.3f}) while training bits/dim fell ({train[ref]:.3f} → {train[-1]:.3f})")
    return None


def _negative(est: MIEstimate) -> list[MIFlag]:
    out = []
    for name, r in est.layers.items():
        if r.mi_bits < 0:
            out.append(MIFlag("negative", name, f"Î = {r.mi_bits:.2f} bits is negative: the conditional model fits "
                                                 "worse than the unconditional one"))
        elif r.ci_low < 0:
            out.append(MIFlag("negative", name, f"the interval reaches below zero ({r.ci_low:.2f} bits): not "
                                                 "distinguishable from no information"))
    return out


def _data_processing(est: MIEstimate, chain: Sequence[str],
                     steps: Mapping[tuple[str, str], tuple[float, float]] | None) -> list[MIFlag]:
    out = []
    present = [l for l in chain if l in est.layers]
    for a, b in zip(present, present[1:]):
        ra, rb = est.layers[a], est.layers[b]
        if steps is not None and (a, b) in steps:
            lo, _ = steps[(a, b)]  # paired interval of Î_b − Î_a
            bad, how = lo > 0, f"the paired interval of the difference starts at {lo:+.2f} bits"
        else:
            bad, how = rb.ci_low > ra.ci_high, "the intervals do not overlap"
        if bad:
            out.append(MIFlag("data_processing", b, f"Î({b}) = {rb.mi_bits:.1f} > Î({a}) = {ra.mi_bits:.1f} bits "
                                                     f"({how}): impossible for a feed-forward chain"))
    return out


def _fano(est: MIEstimate, accuracy: Mapping[str, float], num_classes: int,
          class_probs: Sequence[float] | None) -> list[MIFlag]:
    out = []
    for name, acc in accuracy.items():
        if name not in est.layers:
            continue
        bound = fano_lower_bound(acc, num_classes, class_probs)
        r = est.layers[name]
        if r.ci_high < bound:
            out.append(MIFlag("fano", name, f"Î = {r.mi_bits:.2f} bits (interval up to {r.ci_high:.2f}) is below the "
                                             f"Fano bound {bound:.2f} bits of a {100 * acc:.1f} % accurate readout"))
    return out


def _overfit(est: MIEstimate, histories: Mapping[str, Mapping[str, Any]], tol: float) -> list[MIFlag]:
    out = []
    for name in ["uncond", *est.layers]:
        why = overfitting(histories[name], tol) if name in histories else None
        if why is not None:
            layer = None if name == "uncond" else name
            out.append(MIFlag("overfit", layer, f"the {'unconditional' if layer is None else name} model overfits: {why}"))
    return out


def diagnose(
    est: MIEstimate,
    *,
    chain: Sequence[str] | None = None,
    steps: Mapping[tuple[str, str], tuple[float, float]] | None = None,
    histories: Mapping[str, Mapping[str, Any]] | None = None,
    accuracy: Mapping[str, float] | None = None,
    num_classes: int | None = None,
    class_probs: Sequence[float] | None = None,
    identity_layer: str = "input",
    identity_ratio: float = 0.9,
    min_test: int = 100,
    overfit_tol: float = 0.01,
) -> tuple[list[MIFlag], dict[str, str]]:
    """The flags of ``est`` (see the module) and ``{kind: why not checked}`` for the checks that
    could not run.

    Args:
        est: the estimate (its ``flags`` are not read).
        chain: layers of a feed-forward chain, shallow to deep (``None``: no data-processing check).
        steps: paired bootstrap intervals of ``Î_b − Î_a`` for successive chain layers; without
            them two intervals that do not overlap count as a violation.
        histories: fit histories by model name (``"uncond"`` and layers).
        accuracy: accuracy of a classifier read off each layer (for the Fano bound).
        num_classes, class_probs: the classes of that accuracy.
        identity_layer, identity_ratio: the identity-conditioned layer and the share of Ĥ(x) it
            must recover.
        min_test: fewest held-out images for a trusted interval.
        overfit_tol: relative rise of the validation loss that counts as overfitting.
    """
    flags: list[MIFlag] = _negative(est)
    unchecked: dict[str, str] = {}
    if chain is None:
        unchecked["data_processing"] = "the layers were not declared a feed-forward chain"
    else:
        flags += _data_processing(est, chain, steps)
    if accuracy and num_classes:
        flags += _fano(est, accuracy, int(num_classes), class_probs)
    else:
        unchecked["fano"] = "no labels (or no classifier accuracy) to compute the bound from"
    if histories:
        flags += _overfit(est, histories, overfit_tol)
    else:
        unchecked["overfit"] = "no fit history (models fitted elsewhere or loaded without one)"
    if identity_layer in est.layers and est.h_x_bits > 0:
        ratio = est.layers[identity_layer].mi_bits / est.h_x_bits
        if ratio < identity_ratio:
            flags.append(MIFlag("identity_shortfall", None,
                                f"identity conditioning recovers {100 * ratio:.0f} % of Ĥ(x) (< {100 * identity_ratio:.0f} %): "
                                "the inversion models are too weak to read these numbers as information"))
    else:
        unchecked["identity_shortfall"] = f"no {identity_layer!r} layer (identity conditioning) in the estimate"
    if est.n_test < min_test:
        flags.append(MIFlag("few_test", None, f"only {est.n_test} held-out images (< {min_test}): the bootstrap "
                                              "intervals are too narrow to trust"))
    order = {k: i for i, k in enumerate(FLAG_KINDS)}
    flags.sort(key=lambda f: order.get(f.kind, len(order)))
    return flags, unchecked
