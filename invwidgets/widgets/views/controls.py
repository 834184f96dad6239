"""Controls drawn by the explorer's own module: choices, buttons, toggles, sliders, text, HTML.

They mirror the ipywidgets controls an explorer used to hold (``value``, ``observe``,
``on_click``/``click``, ``options``, ``description``), but are panel models without front-end
code: the explorer's root draws them (``data-kind=control``, ``data-control`` = the control's
kind), with keyboard handling that keeps notebook shortcuts out of the way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import traitlets

from ._base import Panel

__all__ = ["BoundedIntText", "Button", "Dropdown", "FloatSlider", "HTML", "IntSlider", "SelectionSlider",
           "Text", "ToggleButton", "ToggleButtons"]


class Control(Panel):
    """A control: ``description`` is its label, ``tooltip`` its title, ``disabled`` greys it out."""

    _kind = traitlets.Unicode("control").tag(sync=True)
    control = traitlets.Unicode("").tag(sync=True)
    description = traitlets.Unicode("").tag(sync=True)
    tooltip = traitlets.Unicode("").tag(sync=True)
    disabled = traitlets.Bool(False).tag(sync=True)

    def __init__(self, *, layout: Any = None, icon: str | None = None, continuous_update: Any = None,
                 button_style: str | None = None, **kwargs: Any) -> None:
        # ``layout``/``icon``/``continuous_update``/``button_style``: accepted for ipywidgets
        # compatibility; the explorer's stylesheet decides (sliders always update continuously).
        super().__init__(**kwargs)


def _options(options: Sequence[Any]) -> tuple[list[str], list[Any]]:
    labels, values = [], []
    for option in options:
        if isinstance(option, tuple) and len(option) == 2:
            labels.append(str(option[0]))
            values.append(option[1])
        else:
            labels.append(str(option))
            values.append(option)
    if not values:
        raise ValueError("a choice needs at least one option")
    return labels, values


class Dropdown(Control):
    """One of ``options`` (values, or ``(label, value)`` pairs); ``value`` is the chosen value,
    ``index`` (synced) its position."""

    index = traitlets.Int(0).tag(sync=True)
    _labels = traitlets.List(traitlets.Unicode()).tag(sync=True)
    value = traitlets.Any(None)
    _control = "dropdown"

    def __init__(self, options: Sequence[Any], value: Any = None, description: str = "", **kwargs: Any) -> None:
        labels, self._values = _options(options)
        super().__init__(control=self._control, description=description, _labels=labels, **kwargs)
        self.value = self._values[0] if value is None else value

    @property
    def options(self) -> tuple:
        """The values offered."""
        return tuple(self._values)

    @traitlets.validate("value")
    def _valid_value(self, proposal: dict) -> Any:
        if not any(proposal["value"] == v for v in self._values):
            raise traitlets.TraitError(f"{proposal['value']!r} is not one of {list(self._values)}")
        return proposal["value"]

    @traitlets.validate("index")
    def _valid_index(self, proposal: dict) -> int:
        value = int(proposal["value"])
        current = self._trait_values.get("index", 0)
        return value if 0 <= value < len(self._values) else current

    @traitlets.observe("value")
    def _value_changed(self, change: dict) -> None:
        self.index = next(i for i, v in enumerate(self._values) if v == change["new"])

    @traitlets.observe("index")
    def _index_changed(self, _change: dict) -> None:
        # The validated index (a change held during set_state may carry the proposal).
        if 0 <= self.index < len(self._values) and not self._values[self.index] == self.value:
            self.value = self._values[self.index]


class ToggleButtons(Dropdown):
    """A choice shown as a row of buttons (``aria-pressed`` on the chosen one)."""

    _control = "toggles"


class SelectionSlider(Dropdown):
    """A choice shown as a slider over the options."""

    _control = "selection"


class Button(Control):
    """A button: :meth:`on_click` registers callbacks, :meth:`click` runs them (the browser's
    click sends a message that does the same)."""

    def __init__(self, description: str = "", **kwargs: Any) -> None:
        super().__init__(control="button", description=description, **kwargs)
        self._click_handlers: list[Callable[[Button], Any]] = []
        self.on_msg(self._on_front_end_msg)

    def on_click(self, fn: Callable[[Button], Any]) -> None:
        """Call ``fn(button)`` on every click."""
        self._click_handlers.append(fn)

    def click(self) -> None:
        """Run the click callbacks, as a click in the browser does."""
        for fn in list(self._click_handlers):
            fn(self)

    def _on_front_end_msg(self, _widget: Any, content: Any, _buffers: list) -> None:
        if isinstance(content, dict) and content.get("action") == "click" and not self.disabled:
            self.click()

    def close(self) -> None:
        """Close the button and drop its callbacks."""
        self._click_handlers = []
        super().close()


class ToggleButton(Control):
    """A button that stays pressed (``value``)."""

    value = traitlets.Bool(False).tag(sync=True)

    def __init__(self, value: bool = False, description: str = "", **kwargs: Any) -> None:
        super().__init__(control="toggle", value=value, description=description, **kwargs)


class _Slider(Control):
    step = traitlets.Float(1.0).tag(sync=True)

    def __init__(self, value: Any, min: Any, max: Any, step: Any, description: str = "", **kwargs: Any) -> None:
        if not min < max:
            raise ValueError(f"min must be below max, got {min} and {max}")
        super().__init__(control="slider", min=min, max=max, step=step, description=description, **kwargs)
        self.value = value

    @traitlets.validate("value")
    def _clip(self, proposal: dict) -> Any:
        return type(proposal["value"])(min(max(proposal["value"], self.min), self.max))


class FloatSlider(_Slider):
    """A float slider over ``[min, max]`` in steps of ``step``; values are clipped into range."""

    value = traitlets.Float(0.0).tag(sync=True)
    min = traitlets.Float(0.0).tag(sync=True)
    max = traitlets.Float(1.0).tag(sync=True)

    def __init__(self, value: float = 0.0, min: float = 0.0, max: float = 1.0, step: float = 0.1,
                 description: str = "", **kwargs: Any) -> None:
        super().__init__(float(value), float(min), float(max), float(step), description, **kwargs)


class IntSlider(_Slider):
    """An integer slider over ``[min, max]`` in steps of ``step``."""

    value = traitlets.Int(0).tag(sync=True)
    min = traitlets.Int(0).tag(sync=True)
    max = traitlets.Int(100).tag(sync=True)

    def __init__(self, value: int = 0, min: int = 0, max: int = 100, step: int = 1, description: str = "",
                 **kwargs: Any) -> None:
        super().__init__(int(value), int(min), int(max), int(step), description, **kwargs)


class BoundedIntText(Control):
    """An integer box over ``[min, max]``; values are clipped into range."""

    value = traitlets.Int(0).tag(sync=True)
    min = traitlets.Int(0).tag(sync=True)
    max = traitlets.Int(100).tag(sync=True)

    def __init__(self, value: int = 0, min: int = 0, max: int = 100, description: str = "", **kwargs: Any) -> None:
        super().__init__(control="number", min=int(min), max=int(max), description=description, **kwargs)
        self.value = int(value)

    @traitlets.validate("value")
    def _clip(self, proposal: dict) -> int:
        return int(min(max(int(proposal["value"]), self.min), self.max))


class Text(Control):
    """A one-line text box."""

    value = traitlets.Unicode("").tag(sync=True)

    def __init__(self, value: str = "", description: str = "", **kwargs: Any) -> None:
        super().__init__(control="text", value=value, description=description, **kwargs)


class HTML(Control):
    """HTML text written by the explorer (readouts, notes)."""

    value = traitlets.Unicode("").tag(sync=True)

    def __init__(self, value: str = "", **kwargs: Any) -> None:
        super().__init__(control="html", value=value, **kwargs)
