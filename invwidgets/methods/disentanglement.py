"""Correlation-based disentanglement metrics, reported beside the causal disentanglement score.

* :func:`mig` — Mutual Information Gap (Chen et al., 2018): latents discretised into equal-width
  bins, ``MI(z_j; v_k)`` with scikit-learn's ``mutual_info_score``, the gap between the two most
  informative latents of each factor divided by the factor's entropy, averaged over factors.
* :func:`dci` — Disentanglement, Completeness, Informativeness (Eastwood & Williams, 2018): one
  scikit-learn regressor per factor predicts the factor from the codes; its feature importances
  form the d×K importance matrix ``R``; disentanglement is ``Σ_j ρ_j (1 − H_K(P_j·))``,
  completeness ``mean_k (1 − H_d(P̃·k))``, informativeness the held-out R² of the regressors.

Both take codes (N×d, e.g. posterior means) and integer factors (N×K). Factors with a single value
carry no information and are skipped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["DCIResult", "MIGResult", "dci", "mig"]


def _inputs(codes: torch.Tensor | np.ndarray, factors: torch.Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = codes.detach().cpu().numpy() if isinstance(codes, torch.Tensor) else np.asarray(codes)
    f = factors.detach().cpu().numpy() if isinstance(factors, torch.Tensor) else np.asarray(factors)
    if not np.issubdtype(z.dtype, np.floating):
        raise TypeError(f"codes must be floating point, got dtype {z.dtype}")
    if z.ndim != 2 or z.shape[0] < 2 or z.shape[1] < 1:
        raise ValueError(f"codes must have shape (N, d) with N >= 2, got {z.shape}")
    if not np.isfinite(z).all():
        raise ValueError("codes contain NaN or infinite values")
    if f.ndim == 1:
        f = f[:, None]
    if not np.issubdtype(f.dtype, np.integer):
        raise TypeError(f"factors must be integers, got dtype {f.dtype}")
    if f.ndim != 2 or f.shape[0] != z.shape[0]:
        raise ValueError(f"factors must have shape ({z.shape[0]}, K), got {f.shape}")
    return z.astype(np.float64), f.astype(np.int64)


def _names(names: Sequence[str] | None, k: int) -> tuple[str, ...]:
    if names is None:
        return tuple(f"factor{i}" for i in range(k))
    names = tuple(str(n) for n in names)
    if len(names) != k:
        raise ValueError(f"factor_names has {len(names)} entries for {k} factors")
    return names


def _discretize(z: np.ndarray, bins: int) -> np.ndarray:
    out = np.zeros(z.shape, dtype=np.int64)
    for j in range(z.shape[1]):
        col = z[:, j]
        lo, hi = col.min(), col.max()
        if hi > lo:
            edges = np.linspace(lo, hi, bins + 1)[1:-1]
            out[:, j] = np.digitize(col, edges)
    return out


@dataclass
class MIGResult:
    """Mutual information gap.

    Attributes:
        score: mean normalised gap over the factors used.
        gaps: per factor, ``(MI_top1 − MI_top2) / H(v_k)``.
        mutual_information: d×K matrix of ``MI(z_j; v_k)`` in nats.
        entropies: ``H(v_k)`` in nats.
        factor_names: names of the factors used.
    """

    score: float
    gaps: np.ndarray
    mutual_information: np.ndarray
    entropies: np.ndarray
    factor_names: tuple[str, ...]


def mig(
    codes: torch.Tensor | np.ndarray,
    factors: torch.Tensor | np.ndarray,
    *,
    bins: int = 20,
    factor_names: Sequence[str] | None = None,
) -> MIGResult:
    """Mutual Information Gap of ``codes`` (N×d) with respect to discrete ``factors`` (N×K).

    Args:
        codes: latent codes, float N×d.
        factors: integer factor values, N×K.
        bins: equal-width bins per latent for the discrete MI estimate.
        factor_names: names of the K factors.

    Returns:
        A :class:`MIGResult`; factors with a single value are left out.

    Raises:
        ValueError: if no factor takes two values, or for a latent dimension count below 2.
    """
    from sklearn.metrics import mutual_info_score

    z, f = _inputs(codes, factors)
    names = _names(factor_names, f.shape[1])
    if z.shape[1] < 2:
        raise ValueError("MIG needs at least two latents (it is a gap between the two best)")
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 2:
        raise ValueError(f"bins must be an integer >= 2, got {bins!r}")
    keep = [k for k in range(f.shape[1]) if len(np.unique(f[:, k])) > 1]
    if not keep:
        raise ValueError("no factor takes more than one value")
    zd = _discretize(z, bins)
    mi = np.array([[mutual_info_score(f[:, k], zd[:, j]) for k in keep] for j in range(z.shape[1])])
    ent = np.array([mutual_info_score(f[:, k], f[:, k]) for k in keep])
    top = np.sort(mi, axis=0)[::-1]
    gaps = (top[0] - top[1]) / ent
    return MIGResult(float(gaps.mean()), gaps, mi, ent, tuple(names[k] for k in keep))


@dataclass
class DCIResult:
    """Disentanglement, completeness and informativeness.

    Attributes:
        disentanglement: ``Σ_j ρ_j (1 − H_K(P_j·))``.
        completeness: ``mean_k (1 − H_d(P̃·k))``.
        informativeness: mean held-out R² of the per-factor regressors.
        importance: the d×K importance matrix ``R``.
        r2: held-out R² per factor.
        factor_names: names of the factors used.
    """

    disentanglement: float
    completeness: float
    informativeness: float
    importance: np.ndarray
    r2: np.ndarray
    factor_names: tuple[str, ...]


def _entropy(p: np.ndarray, base: int) -> np.ndarray:
    """Entropy (log base ``base``) of each row of the probability matrix ``p``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(p > 0, np.log(np.where(p > 0, p, 1.0)), 0.0)
    return -(p * logs).sum(axis=1) / math.log(base)


def dci(
    codes: torch.Tensor | np.ndarray,
    factors: torch.Tensor | np.ndarray,
    *,
    regressor: str = "gbt",
    test_fraction: float = 0.3,
    seed: int = 0,
    factor_names: Sequence[str] | None = None,
) -> DCIResult:
    """DCI scores of ``codes`` (N×d) for ``factors`` (N×K), with scikit-learn regressors.

    Args:
        codes: latent codes, float N×d.
        factors: integer factor values, N×K (regressed after standardising each factor).
        regressor: ``"gbt"`` (``GradientBoostingRegressor``, 50 trees of depth 3) or ``"forest"``
            (``RandomForestRegressor``, 50 trees of depth 6); importances are their impurity-based
            ``feature_importances_``.
        test_fraction: fraction of samples held out for informativeness.
        seed: seed of the split (a ``torch.Generator``) and of the regressors.
        factor_names: names of the K factors.

    Returns:
        A :class:`DCIResult`; factors with a single value are left out.

    Raises:
        ValueError: for an unknown regressor, a bad ``test_fraction``, or no usable factor.
    """
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
    from sklearn.metrics import r2_score

    z, f = _inputs(codes, factors)
    names = _names(factor_names, f.shape[1])
    if regressor not in ("gbt", "forest"):
        raise ValueError(f"regressor must be 'gbt' or 'forest', got {regressor!r}")
    if not 0.0 < float(test_fraction) < 1.0:
        raise ValueError(f"test_fraction must be strictly between 0 and 1, got {test_fraction!r}")
    keep = [k for k in range(f.shape[1]) if len(np.unique(f[:, k])) > 1]
    if not keep:
        raise ValueError("no factor takes more than one value")
    n, d = z.shape
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(int(seed))).numpy()
    n_test = max(1, int(round(n * float(test_fraction))))
    test, train = perm[:n_test], perm[n_test:]
    if len(train) < 2:
        raise ValueError(f"too few samples ({n}) for a train/test split")
    importance = np.zeros((d, len(keep)))
    r2 = np.zeros(len(keep))
    for col, k in enumerate(keep):
        y = f[:, k].astype(np.float64)
        y = (y - y.mean()) / y.std()
        if regressor == "gbt":
            model = GradientBoostingRegressor(n_estimators=50, max_depth=3, random_state=int(seed))
        else:
            model = RandomForestRegressor(n_estimators=50, max_depth=6, random_state=int(seed), n_jobs=1)
        model.fit(z[train], y[train])
        importance[:, col] = np.abs(model.feature_importances_)
        r2[col] = r2_score(y[test], model.predict(z[test]))
    kf = len(keep)
    total = importance.sum()
    if total <= 0:
        raise ValueError("the regressors found no informative latent")
    row_sum = importance.sum(axis=1)
    p_rows = importance / np.where(row_sum > 0, row_sum, 1.0)[:, None]
    disent_j = 1.0 - _entropy(p_rows, kf) if kf > 1 else np.ones(d)
    rho = row_sum / total
    col_sum = importance.sum(axis=0)
    p_cols = (importance / np.where(col_sum > 0, col_sum, 1.0)[None, :]).T
    complete_k = 1.0 - _entropy(p_cols, d) if d > 1 else np.ones(kf)
    return DCIResult(
        disentanglement=float((rho * disent_j).sum()),
        completeness=float(complete_k.mean()),
        informativeness=float(r2.mean()),
        importance=importance,
        r2=r2,
        factor_names=tuple(names[k] for k in keep),
    )
