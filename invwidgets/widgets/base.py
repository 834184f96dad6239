"""What every invwidgets widget shares: ``status``/``error``/``progress`` traits and worker plumbing.

:class:`WorkerClient` is a traitlets mixin used by the anywidget views and by the explorers
(ipywidgets layouts). It

- captures the main thread's :mod:`contextvars` context when the widget is created, so the worker
  can set traits from its thread without losing the next front-end event (design.md decision 6);
- applies front-end state under :data:`~invwidgets.worker.STATE_LOCK`, the lock the worker holds
  while it sets traits;
- submits requests keyed by ``(widget id, view)`` and turns their results, progress and errors
  into traits (:meth:`WorkerClient.run_in_worker`);
- guards callbacks that the front end triggers, so an exception becomes the ``error`` trait instead
  of a line in the kernel log nobody reads (:meth:`WorkerClient.guard`);
- releases its worker when closed, and offers :meth:`WorkerClient.wait_idle` for scripts and tests.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import torch
import traitlets

from ..worker import STATE_LOCK, Handle, Priority, Worker, get_worker

__all__ = ["WorkerClient", "format_error"]

F = TypeVar("F", bound=Callable[..., Any])


def format_error(exc: BaseException) -> str:
    """A one-line message for the ``error`` trait: the exception type and its text."""
    text = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


class WorkerClient(traitlets.HasTraits):
    """Mixin: status, error and progress traits plus access to the inference worker.

    Subclasses call :meth:`_init_worker` in ``__init__`` after ``super().__init__``.
    """

    status = traitlets.Unicode("idle", help="'idle', 'busy' or 'error'").tag(sync=True)
    error = traitlets.Unicode("", help="The last error's message; empty when there is none").tag(
        sync=True
    )
    progress = traitlets.Dict(
        {}, help="Progress of a running batch job: {'done', 'total', 'message'}; {} when none"
    ).tag(sync=True)

    _worker: Worker | None = None
    _ctx: contextvars.Context | None = None
    _released = False

    def _init_worker(self, device: torch.device | str | None = None) -> None:
        """Capture the main thread's context and register with the worker of ``device``."""
        self._ctx = contextvars.copy_context()
        self._worker = get_worker(device)
        self._worker.acquire()
        self._released = False
        self._handles: dict[Hashable, Handle] = {}
        #: The message of each view whose last request failed, in order of failure.
        self._view_errors: dict[str, str] = {}
        #: Views whose request that shows ``busy`` is running.
        self._busy_views: set[str] = set()

    @property
    def worker(self) -> Worker:
        """The inference worker this widget submits to."""
        if self._worker is None:
            self._init_worker()
        assert self._worker is not None
        return self._worker

    @property
    def device(self) -> torch.device:
        """The torch device the worker computes on."""
        return self.worker.device

    # ------------------------------------------------------------------ thread safety
    def set_state(self, sync_data: dict) -> None:  # type: ignore[override]
        """Apply state sent by the front end, under the lock the worker sets traits with."""
        with STATE_LOCK:
            super().set_state(sync_data)  # type: ignore[misc]

    def _handle_msg(self, msg: dict) -> None:
        """Every message from the front end (state updates and custom messages) is handled
        under the state lock: with JupyterLab 4.6's comms over subshells these handlers run on
        a subshell thread, concurrently with the worker thread and the main thread."""
        with STATE_LOCK:
            super()._handle_msg(msg)  # type: ignore[misc]

    def set_traits_threadsafe(self, **values: Any) -> None:
        """Set several traits from any thread, in one message, inside the captured context."""

        def apply() -> None:
            hold = getattr(self, "hold_sync", None)
            if hold is None:
                for name, value in values.items():
                    setattr(self, name, value)
                return
            with hold():
                for name, value in values.items():
                    setattr(self, name, value)

        with STATE_LOCK:
            if self._ctx is not None:
                self._ctx.copy().run(apply)
            else:
                apply()

    # ------------------------------------------------------------------ errors
    def report_error(self, exc: BaseException) -> None:
        """Show ``exc`` in the ``error`` trait and set ``status`` to ``'error'``."""
        self.set_traits_threadsafe(error=format_error(exc), status="error", progress={})

    def guard(self, fn: F) -> F:
        """Wrap a callback that the front end triggers (an observer, a message or click
        handler): an exception becomes the ``error`` trait instead of escaping into the kernel
        log."""

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - shown to the user in the widget
                self.report_error(exc)
                return None

        return wrapper  # type: ignore[return-value]

    # ------------------------------------------------------------------ worker requests
    def _key(self, view: str) -> tuple[int, str]:
        return (id(self), view)

    def run_in_worker(
        self,
        view: str,
        fn: Callable[..., Any],
        *args: Any,
        on_result: Callable[[Any], None] | None = None,
        priority: Priority = "interactive",
        cache_key: Hashable | None = None,
        busy: bool | None = None,
        sync: bool | None = None,
        **kwargs: Any,
    ) -> Handle:
        """Run ``fn(*args, **kwargs)`` in the worker under the key ``(this widget, view)``.

        ``on_result(value)`` runs in the captured context under the state lock (set traits there
        directly). A newer request for the same view replaces this one if it has not started;
        stale results are dropped. An exception becomes the ``error`` trait. ``busy`` (default:
        only for batch jobs) sets ``status`` to ``'busy'`` while the request runs; batch jobs
        also update ``progress``. A successful result clears ``error``.
        """
        if self._released:
            raise RuntimeError(f"{type(self).__name__} is closed")
        show_busy = priority == "batch" if busy is None else busy
        key = self._key(view)

        def started() -> None:
            if show_busy:
                self._busy_views.add(view)
                self._settle()

        def finished(value: Any) -> None:
            with self._hold():
                if on_result is not None:
                    on_result(value)
                self._view_errors.pop(view, None)
                self._busy_views.discard(view)
                self._settle()

        def failed(exc: BaseException) -> None:
            self._view_errors.pop(view, None)  # re-insert: the newest failure is shown
            self._view_errors[view] = format_error(exc)
            self._busy_views.discard(view)
            self._settle()

        def progressed(p: tuple) -> None:
            done, total, message = p
            self.progress = {"done": done, "total": total, "message": message}

        def cancelled() -> None:
            self._busy_views.discard(view)
            self._settle()

        handle = self.worker.submit(
            key, fn, *args, priority=priority, cache_key=cache_key, context=self._ctx,
            on_result=finished, on_error=failed, on_progress=progressed, on_start=started,
            on_cancel=cancelled, sync=sync, **kwargs,
        )
        self._handles[key] = handle
        return handle

    def _hold(self) -> Any:
        hold = getattr(self, "hold_sync", None)
        if hold is not None:
            return hold()
        import contextlib

        return contextlib.nullcontext()

    def _settle(self) -> None:
        """Derive ``status``, ``error`` and ``progress`` from this widget's requests: the error of
        the view whose last request failed most recently (a success of one view does not hide
        another view's failure), else busy while a busy request runs, else idle."""
        errors = self._view_errors
        if errors:
            self.error = next(reversed(errors.values()))
            self.status = "error"
        else:
            self.error = ""
            self.status = "busy" if self._busy_views else "idle"
        if not self._busy_views:
            self.progress = {}

    def cancel(self, view: str | None = None) -> None:
        """Cancel this widget's request for ``view`` (all of its requests when ``None``)."""
        for key, handle in list(getattr(self, "_handles", {}).items()):
            if view is None or key == self._key(view):
                handle.cancel()

    def wait_idle(self, timeout: float | None = 30.0) -> bool:
        """Block until this widget's queued and running requests are done.

        Returns ``False`` when ``timeout`` seconds passed first. For scripts and tests; do not
        call it from an observer (the worker needs the state lock to deliver).
        """
        if self._worker is None:
            return True
        wid = id(self)
        return self._worker.wait_idle(
            timeout, keys=lambda k: isinstance(k, tuple) and k[:1] == (wid,)
        )

    def _release_worker(self) -> None:
        if self._worker is not None and not self._released:
            self._released = True
            self.cancel()
            self._worker.release()

    def close(self) -> None:
        """Close the widget: cancel its requests and release the worker."""
        self._release_worker()
        super().close()  # type: ignore[misc]
