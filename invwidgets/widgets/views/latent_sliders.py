"""LatentSliders: a vector of named sliders shown by group, with lockable groups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import traitlets

from ._base import ViewBase
from .encoding import to_numpy

__all__ = ["LatentSliders"]


def default_warning(group: str) -> str:
    """The text shown beside a locked group's unlock control."""
    return f"Changing {group} dimensions changes the prediction"


def _per_slider(value: Any, n: int, what: str) -> list[float]:
    if isinstance(value, (int, float, np.floating, np.integer)):
        out = [float(value)] * n
    else:
        try:
            arr = to_numpy(value, what) if not isinstance(value, (list, tuple)) else np.asarray(
                value, dtype=np.float64
            )
        except TypeError:
            raise TypeError(
                f"{what} must be a number or one number per slider, got {type(value).__name__}"
            ) from None
        arr = np.asarray(arr, dtype=np.float64).reshape(-1)
        if arr.size != n:
            raise ValueError(f"{what} has {arr.size} entries but there are {n} sliders")
        out = [float(v) for v in arr]
    if not all(np.isfinite(out)):
        raise ValueError(f"{what} must be finite, got {out}")
    return out


class LatentSliders(ViewBase):
    """Sliders for a latent vector, one per dimension, shown in groups (e.g. ``'class'``,
    ``'nuisance'``).

    Parameters
    ----------
    values:
        The initial vector (list, numpy array or 1-D tensor); also the ``defaults`` that
        *reset* returns to unless ``defaults`` is given.
    names:
        One name per slider (default ``z0, z1, …``).
    groups:
        One group name per slider (default: all in ``'latent'``). Groups are shown in order of
        first appearance.
    minimum, maximum:
        Slider range: a number or one per slider. Values are clipped into it.
    step:
        Slider step.
    locked_groups:
        Groups whose sliders start disabled. Each shows an *unlock* control beside a warning
        (``warnings[group]``, default "Changing <group> dimensions changes the prediction").
    seed:
        Seed of the ``torch.Generator`` that :meth:`randomize` draws from (same seed, same
        sequence).

    Synced traits: ``values``, ``names``, ``groups``, ``minimum``, ``maximum``, ``step``,
    ``defaults``, ``locked``, ``warnings``, ``selected`` (the slider last touched; −1 none).

    The front end sends ``{"action": "reset" | "randomize", "group": name | None}`` from the
    per-group buttons; Python does the work. While a slider is dragged the browser sends at most
    one update per animation frame, always sends the final value on release, and ignores
    echoed values for that slider.
    """

    _kind = traitlets.Unicode("sliders").tag(sync=True)

    values = traitlets.List(traitlets.Float(), help="The slider values").tag(sync=True)
    names = traitlets.List(traitlets.Unicode(), help="One name per slider").tag(sync=True)
    groups = traitlets.List(traitlets.Unicode(), help="One group per slider").tag(sync=True)
    minimum = traitlets.List(traitlets.Float(), help="Lower end of each slider").tag(sync=True)
    maximum = traitlets.List(traitlets.Float(), help="Upper end of each slider").tag(sync=True)
    step = traitlets.Float(0.01, help="Slider step").tag(sync=True)
    defaults = traitlets.List(traitlets.Float(), help="Values that reset returns to").tag(
        sync=True
    )
    locked = traitlets.List(traitlets.Unicode(), help="Locked group names").tag(sync=True)
    warnings = traitlets.Dict(
        {}, help="Per group: the warning shown beside its lock control"
    ).tag(sync=True)
    selected = traitlets.Int(-1, help="The slider last touched or focused; -1 when none").tag(
        sync=True
    )

    def __init__(
        self,
        values: Any,
        *,
        names: Sequence[str] | None = None,
        groups: Sequence[str] | None = None,
        minimum: float | Sequence[float] = -3.0,
        maximum: float | Sequence[float] = 3.0,
        step: float = 0.01,
        locked_groups: Sequence[str] = (),
        warnings: dict[str, str] | None = None,
        defaults: Any = None,
        seed: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(step=step, **kwargs)
        self.seed = seed
        self.configure(values, names=names, groups=groups, minimum=minimum, maximum=maximum,
                       locked_groups=locked_groups, warnings=warnings, defaults=defaults)

    # ------------------------------------------------------------------ configuration
    @property
    def seed(self) -> int:
        """The seed of :meth:`randomize`'s generator; setting it restarts the sequence."""
        return self._seed

    @seed.setter
    def seed(self, value: int) -> None:
        self._seed = int(value)
        self._generator = torch.Generator().manual_seed(self._seed)

    def configure(
        self,
        values: Any,
        *,
        names: Sequence[str] | None = None,
        groups: Sequence[str] | None = None,
        minimum: float | Sequence[float] = -3.0,
        maximum: float | Sequence[float] = 3.0,
        locked_groups: Sequence[str] = (),
        warnings: dict[str, str] | None = None,
        defaults: Any = None,
    ) -> None:
        """Replace the whole slider set (e.g. for a model with another latent size) in one
        update. Arguments as for the constructor."""
        vals = _per_slider(values, _length(values), "values")
        n = len(vals)
        if n == 0:
            raise ValueError("values is empty; LatentSliders needs at least one slider")
        names = [f"z{i}" for i in range(n)] if names is None else [str(s) for s in names]
        if len(names) != n:
            raise ValueError(f"names has {len(names)} entries but values has {n}")
        groups = ["latent"] * n if groups is None else [str(g) for g in groups]
        if len(groups) != n:
            raise ValueError(f"groups has {len(groups)} entries but values has {n}")
        lo = _per_slider(minimum, n, "minimum")
        hi = _per_slider(maximum, n, "maximum")
        bad = [i for i in range(n) if not lo[i] < hi[i]]
        if bad:
            i = bad[0]
            raise ValueError(
                f"minimum must be below maximum for every slider; slider {i} ({names[i]!r}) "
                f"has [{lo[i]}, {hi[i]}]"
            )
        defs = vals if defaults is None else _per_slider(defaults, n, "defaults")
        locked = [str(g) for g in locked_groups]
        known = set(groups)
        unknown = [g for g in locked if g not in known]
        if unknown:
            raise ValueError(f"locked_groups names unknown groups {unknown}; groups are "
                             f"{sorted(known)}")
        texts = {g: default_warning(g) for g in locked}
        texts.update({str(k): str(v) for k, v in (warnings or {}).items()})
        with self._hold(), self.hold_trait_notifications():
            self.names, self.groups, self.minimum, self.maximum = names, groups, lo, hi
            self.defaults = [float(v) for v in np.clip(defs, lo, hi)]
            self.values = vals
            self.locked = locked
            self.warnings = texts
            self.selected = -1

    # ------------------------------------------------------------------ validation
    def set_state(self, sync_data: dict) -> None:  # type: ignore[override]
        """Front-end state; values of the wrong length (a drag that raced :meth:`configure`)
        are dropped instead of raising in the kernel log."""
        values = sync_data.get("values")
        if values is not None and len(values) != len(self.names):
            sync_data = {k: v for k, v in sync_data.items() if k != "values"}
        super().set_state(sync_data)

    def _check_length(self, what: str, value: list) -> None:
        n = len(self.names)
        if len(value) != n:
            raise traitlets.TraitError(f"{what} has {len(value)} entries but there are {n} "
                                       f"sliders (names has {n})")

    @traitlets.validate("values")
    def _valid_values(self, proposal: dict) -> list:
        value = [float(v) for v in proposal["value"]]
        self._check_length("values", value)
        if not all(np.isfinite(value)):
            raise traitlets.TraitError(f"values must be finite, got {value}")
        if len(self.minimum) == len(value) == len(self.maximum):
            value = [float(v) for v in np.clip(value, self.minimum, self.maximum)]
        return value

    @traitlets.validate("groups", "minimum", "maximum", "defaults")
    def _valid_lengths(self, proposal: dict) -> list:
        value = list(proposal["value"])
        self._check_length(proposal["trait"].name, value)
        return value

    @traitlets.validate("locked")
    def _valid_locked(self, proposal: dict) -> list:
        value = list(dict.fromkeys(proposal["value"]))  # unique, in order
        unknown = [g for g in value if g not in set(self.groups)]
        if unknown:
            raise traitlets.TraitError(f"locked names unknown groups {unknown}")
        return value

    @traitlets.validate("selected")
    def _valid_selected(self, proposal: dict) -> int:
        value = int(proposal["value"])
        return value if 0 <= value < len(self.names) else -1

    @traitlets.validate("step")
    def _valid_step(self, proposal: dict) -> float:
        value = float(proposal["value"])
        if not value > 0:
            raise traitlets.TraitError(f"step must be positive, got {value}")
        return value

    # ------------------------------------------------------------------ API
    @property
    def group_names(self) -> list[str]:
        """The groups in order of first appearance."""
        return list(dict.fromkeys(self.groups))

    def indices(self, group: str | None = None, *, include_locked: bool = False) -> list[int]:
        """Indices of the sliders of ``group`` (all groups when ``None``); locked groups are
        left out unless ``include_locked``."""
        if group is not None and group not in set(self.groups):
            raise ValueError(f"unknown group {group!r}; groups are {self.group_names}")
        locked = set() if include_locked else set(self.locked)
        return [i for i, g in enumerate(self.groups)
                if (group is None or g == group) and g not in locked]

    @property
    def tensor(self) -> torch.Tensor:
        """The values as a float32 tensor of shape (n,)."""
        return torch.tensor(self.values, dtype=torch.float32)

    def set_values(self, values: Any, group: str | None = None) -> None:
        """Set all values, or those of ``group`` (then ``values`` has one per slider of it).
        Clipped into each slider's range; locked groups may be set from Python."""
        if group is None:
            self.values = _per_slider(values, len(self.names), "values")
            return
        idx = self.indices(group, include_locked=True)
        vals = _per_slider(values, len(idx), "values")
        new = list(self.values)
        for i, v in zip(idx, vals):
            new[i] = v
        self.values = new

    def lock(self, group: str) -> None:
        """Disable the sliders of ``group``."""
        self.indices(group)
        if group not in self.locked:
            with self._hold():
                if group not in self.warnings:
                    self.warnings = {**self.warnings, group: default_warning(group)}
                self.locked = [*self.locked, group]

    def unlock(self, group: str) -> None:
        """Enable the sliders of ``group`` again."""
        self.indices(group, include_locked=True)
        self.locked = [g for g in self.locked if g != group]

    def reset(self, group: str | None = None) -> None:
        """Return the sliders of ``group`` (all when ``None``) to ``defaults``; locked groups
        are never touched."""
        idx = self.indices(group)
        new = list(self.values)
        for i in idx:
            new[i] = self.defaults[i]
        self.values = new

    def randomize(self, group: str | None = None, generator: torch.Generator | None = None) -> None:
        """Draw the sliders of ``group`` (all when ``None``) from N(0, 1), clipped into each
        range; locked groups are never touched. Draws from this widget's generator (seeded with
        ``seed``) unless ``generator`` is given: one draw per unlocked slider of the group."""
        idx = self.indices(group)
        if not idx:
            return
        gen = self._generator if generator is None else generator
        draw = torch.randn(len(idx), generator=gen, dtype=torch.float64).tolist()
        new = list(self.values)
        for i, v in zip(idx, draw):
            new[i] = float(np.clip(v, self.minimum[i], self.maximum[i]))
        self.values = new

    def to_dict(self) -> dict:
        """Names, groups and values (what the front end's export button downloads as JSON)."""
        return {"names": list(self.names), "groups": list(self.groups),
                "values": list(self.values), "locked": list(self.locked)}

    # ------------------------------------------------------------------ front-end actions
    def _group_arg(self, content: dict) -> str | None:
        group = content.get("group")
        if group is not None and not isinstance(group, str):
            raise TypeError(f"group must be a string or null, got {group!r}")
        return group

    def _action_reset(self, content: dict, _buffers: list) -> None:
        self.reset(self._group_arg(content))

    def _action_randomize(self, content: dict, _buffers: list) -> None:
        self.randomize(self._group_arg(content))

    # ------------------------------------------------------------------ export
    ROW, GAP, TRACK = 6, 1, 128

    def _render(self) -> np.ndarray:
        """One bar per slider: a gray track, filled from the default to the value (darker in
        locked groups), with a black tick at the value."""
        n = len(self.values)
        height = n * self.ROW + (n - 1) * self.GAP
        out = np.full((height, self.TRACK, 3), 255, dtype=np.uint8)
        locked = set(self.locked)
        for i, (v, d, lo, hi, g) in enumerate(zip(self.values, self.defaults, self.minimum,
                                                  self.maximum, self.groups)):
            y = i * (self.ROW + self.GAP)
            band = out[y:y + self.ROW]
            band[:] = 225

            def col(x: float, lo: float = lo, hi: float = hi) -> int:
                t = (x - lo) / (hi - lo)
                return int(np.clip(np.floor(t * (self.TRACK - 1) + 0.5), 0, self.TRACK - 1))

            a, b = sorted((col(d), col(v)))
            band[:, a:b + 1] = (120, 120, 120) if g in locked else (66, 133, 244)
            c = col(v)
            band[:, max(c - 1, 0):c + 2] = 0
        return out

    def to_png(self, path=None) -> bytes:
        """A PNG with one bar per slider (track from minimum to maximum, filled from the default
        to the value, black tick at the value); also written to ``path`` if given. The front
        end's export button downloads :meth:`to_dict` as JSON instead."""
        return super().to_png(path)


def _length(values: Any) -> int:
    if isinstance(values, (list, tuple)):
        return len(values)
    if isinstance(values, (int, float)):
        raise TypeError("values must be a sequence, an array or a 1-D tensor, not a number")
    return int(np.asarray(to_numpy(values, "values")).size)

