"""What every invwidgets widget shares: ``status``/``error``/``progress`` traits and worker plumbing.

:class:`WorkerClient` is a traitlets mixin used by the anywidget views and by the explorers
(ipywidgets layouts). It

- captures the main thread's :mod:`contextvars` context when the widget is created, so the worker
  can set traits from its thread without losing the next front-end event;
- applies front-end state under :data:`~invwidgets.worker.STATE_LOCK`, the lock the worker holds
  while it sets traits;
- submits requests keyed by ``(widget token, view)`` and turns their results, progress and errors
  into traits (:meth:`WorkerClient.run_in_worker`), on the widget and on the view a request
  draws into: ``busy`` once a request has run for a moment, the error on the view it concerns
  until that view next succeeds, and :meth:`WorkerClient.refresh` to re-run failed views;
- keeps its own cache of results, keyed by everything the widget's results depend on
  (:func:`state_fingerprint` of its models, transforms and options), dropped on close;
- guards callbacks that the front end triggers, so an exception becomes the ``error`` trait instead
  of a line in the kernel log nobody reads (:meth:`WorkerClient.guard`);
- releases its worker when closed without waiting for a running model call, and offers
  :meth:`WorkerClient.wait_idle` for scripts and tests.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import threading
import types
import weakref
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

import torch
import traitlets

from ..worker import STATE_LOCK, Handle, Priority, ResultCache, Worker, get_worker, new_client_token

__all__ = ["WorkerClient", "format_error", "identity_token", "state_fingerprint"]

F = TypeVar("F", bound=Callable[..., Any])

#: The state of a view (or widget) that shows "busy"/"error" for requests of other widgets.
_OWN = "__own__"


def format_error(exc: BaseException) -> str:
    """A one-line message for the ``error`` trait: the exception type and its text."""
    text = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


# ---------------------------------------------------------------------- cache keys
_tokens: dict[int, tuple[weakref.ref, int]] = {}
_tokens_lock = threading.RLock()


def identity_token(obj: Any) -> Hashable:
    """A number for ``obj`` that no other object gets, not even one created after ``obj`` was
    freed at the same address (which ``id()`` does not promise). Objects that cannot be weakly
    referenced fall back to ``("id", id(obj))``."""
    oid = id(obj)
    with _tokens_lock:
        entry = _tokens.get(oid)
        if entry is not None and entry[0]() is obj:
            return entry[1]

        def forget(ref: weakref.ref, oid: int = oid) -> None:
            current = _tokens.get(oid)
            if current is not None and current[0] is ref:
                _tokens.pop(oid, None)

        try:
            ref = weakref.ref(obj, forget)
        except TypeError:
            return ("id", oid)
        token = new_client_token()
        _tokens[oid] = (ref, token)
        return token


def _tensor_state(t: torch.Tensor) -> tuple:
    try:
        ptr = t.data_ptr()
    except RuntimeError:  # tensors without storage
        ptr = 0
    return (id(t), t._version, ptr)


def _module_state(m: torch.nn.Module, depth: int) -> tuple:
    tensors = [*m.parameters(), *m.buffers()]
    # A module may wrap a plain object (an adapter around a user's encode/decode object).
    plain = tuple(state_fingerprint(v, depth - 1) for k, v in vars(m).items()
                  if not k.startswith("_") and not isinstance(v, torch.nn.Module)
                  and (_has_modules(v) or isinstance(v, (types.FunctionType, types.MethodType))))
    return ("module", identity_token(m), m.training, tuple(_tensor_state(t) for t in tensors), plain)


def _function_state(fn: types.FunctionType, depth: int) -> tuple:
    # What a plain function or lambda computes with: its closure and the globals it names
    # (e.g. ``lambda z: 1 - ae.decode(z)`` with ``ae`` a notebook variable).
    refs = []
    for cell in fn.__closure__ or ():
        with contextlib.suppress(ValueError):  # an empty cell
            refs.append(cell.cell_contents)
    names = fn.__code__.co_names
    refs += [fn.__globals__[n] for n in names if n in fn.__globals__]
    refs = [r for r in refs if isinstance(r, (torch.nn.Module, torch.Tensor)) or _has_modules(r)]
    return ("fn", identity_token(fn), tuple(state_fingerprint(r, depth - 1) for r in refs))


def _has_modules(obj: Any) -> bool:
    if isinstance(obj, (type, types.ModuleType)) or not hasattr(obj, "__dict__"):
        return False
    return any(isinstance(v, (torch.nn.Module, torch.Tensor)) for v in vars(obj).values())


def state_fingerprint(obj: Any, depth: int = 3) -> Hashable:
    """A hashable summary of everything a result computed from ``obj`` depends on.

    Modules contribute their identity (:func:`identity_token`), training flag and each
    parameter's and buffer's identity, version counter (bumped by every in-place update, such as
    an optimiser step or ``load_state_dict``) and storage; tensors the same; plain values
    themselves; tuples, lists and dicts their items; bound methods their object; functions their
    identity and the modules and tensors in their closure and globals; other objects their
    identity and the modules and tensors among their attributes.
    """
    if obj is None or isinstance(obj, (bool, int, float, str, bytes)):
        return obj
    if depth <= 0:
        return ("obj", identity_token(obj))
    if isinstance(obj, torch.nn.Module):
        return _module_state(obj, depth)
    if isinstance(obj, torch.Tensor):
        return ("tensor", identity_token(obj), *_tensor_state(obj))
    if isinstance(obj, (tuple, list)):
        return tuple(state_fingerprint(x, depth) for x in obj)
    if isinstance(obj, dict):
        return tuple((state_fingerprint(k, 1), state_fingerprint(v, depth)) for k, v in obj.items())
    if isinstance(obj, types.MethodType):
        return ("method", identity_token(obj.__func__), state_fingerprint(obj.__self__, depth - 1))
    if isinstance(obj, functools.partial):
        return ("partial", state_fingerprint(obj.func, depth - 1),
                state_fingerprint(obj.args, depth - 1), state_fingerprint(obj.keywords, depth - 1))
    if isinstance(obj, types.FunctionType):
        return _function_state(obj, depth)
    attrs = ()
    if _has_modules(obj):
        attrs = tuple(state_fingerprint(v, depth - 1) for v in vars(obj).values()
                      if isinstance(v, (torch.nn.Module, torch.Tensor)))
    return ("obj", identity_token(obj), attrs)


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

    #: How many results each widget keeps in its own cache.
    cache_size = 64

    _worker: Worker | None = None
    _ctx: contextvars.Context | None = None
    _released = False

    def _init_worker(self, device: torch.device | str | None = None) -> None:
        """Capture the main thread's context and register with the worker of ``device``."""
        self._ctx = contextvars.copy_context()
        self._client_state()
        self._worker = get_worker(device)
        self._worker.acquire()
        self._released = False

    def _client_state(self) -> None:
        """Create the per-widget bookkeeping once (plain views never start a worker but may
        still show the state of an explorer's requests)."""
        if "_client_token" in self.__dict__:
            return
        #: Never reused in this process, unlike ``id(self)``: keys of a freed widget cannot
        #: match a new one's.
        self._client_token = new_client_token()
        self._handles: dict[Hashable, Handle] = {}
        self._result_cache = ResultCache(self.cache_size)
        #: The message of each view whose last request failed, in order of failure.
        self._view_errors: dict[str, str] = {}
        #: Views whose request that shows ``busy`` is running.
        self._busy_views: set[str] = set()
        #: An exception from a front-end callback (see :meth:`guard`); the next success clears it.
        self._action_error = ""
        #: How to re-run each view's last request (see :meth:`refresh`).
        self._last_requests: dict[str, tuple] = {}

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
            with self._hold():
                for name, value in values.items():
                    setattr(self, name, value)

        with STATE_LOCK:
            if self._ctx is not None:
                self._ctx.copy().run(apply)
            else:
                apply()

    # ------------------------------------------------------------------ errors
    def report_error(self, exc: BaseException) -> None:
        """Show ``exc`` in the ``error`` trait and set ``status`` to ``'error'`` until the next
        successful request or action."""
        self._client_state()
        with STATE_LOCK:
            self._action_error = format_error(exc)
            self.set_traits_threadsafe(progress={})
            self._settle_threadsafe()

    def _clear_action_error(self) -> None:
        self._client_state()
        with STATE_LOCK:
            if self._action_error:
                self._action_error = ""
                self._settle_threadsafe()

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
        self._client_state()
        return (self._client_token, view)

    def _cache_dependencies(self) -> Any:
        """What this widget's cached results depend on besides a request's own ``cache_key``:
        its models, transforms and options. A widget that passes ``cache_key`` lists them here;
        the cache key is extended with their :func:`state_fingerprint`."""
        return ()

    def _view_targets(self) -> dict[str, Any]:
        """The view (or views) each request draws into, by request name: that view shows the
        request's busy and error state. A request whose ``on_result`` is a view's bound method
        draws into that view without being listed."""
        return {}

    def _targets_of(self, view: str, on_result: Any, target: Any) -> list[WorkerClient]:
        if target is None:
            target = self._view_targets().get(view)
        if target is None and isinstance(on_result, types.MethodType):
            target = on_result.__self__
        found = list(target) if isinstance(target, (list, tuple)) else [target]
        return [t for t in found if isinstance(t, WorkerClient) and t is not self]

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
        target: Any = None,
        **kwargs: Any,
    ) -> Handle:
        """Run ``fn(*args, **kwargs)`` in the worker under the key ``(this widget, view)``.

        ``on_result(value)`` runs in the captured context under the state lock (set traits there
        directly). A newer request for the same view replaces this one if it has not started;
        stale results are dropped. ``cache_key`` (with :meth:`_cache_dependencies`) serves an
        identical request from this widget's own cache. ``status`` is ``'busy'`` from the start
        with ``busy=True`` (default for batch jobs, which also update ``progress``), otherwise
        once the request has run :data:`~invwidgets.worker.SLOW_AFTER` seconds. An exception
        becomes the ``error`` trait, of this widget and of ``target`` (the view the request
        draws into, see :meth:`_view_targets`), until that view's next success;
        :meth:`refresh` re-runs failed views.
        """
        if self._released:
            raise RuntimeError(f"{type(self).__name__} is closed")
        self._client_state()
        options = {"on_result": on_result, "priority": priority, "cache_key": cache_key,
                   "busy": busy, "sync": sync, "target": target}
        self._last_requests[view] = (fn, args, options, kwargs)
        at_start = priority == "batch" if busy is None else busy
        shown = [(self, view)] + [(t, f"{self._client_token}:{view}")
                                  for t in self._targets_of(view, on_result, target)]

        def mark(state: str, message: str = "") -> None:
            if not self._released:
                for widget, slot in shown:
                    widget._note(slot, state, message)

        def finished(value: Any) -> None:
            if self._released:
                return
            with self._hold():
                if on_result is not None:
                    on_result(value)
                mark("done")

        def progressed(p: tuple) -> None:
            done, total, message = p
            if not self._released:
                self.progress = {"done": done, "total": total, "message": message}

        full_key = None
        if cache_key is not None:
            full_key = (cache_key, state_fingerprint(self._cache_dependencies()))
        key = self._key(view)
        handle = self.worker.submit(
            key, fn, *args, priority=priority, cache_key=full_key, cache=self._result_cache,
            context=self._ctx, on_result=finished,
            on_error=lambda exc: mark("error", format_error(exc)),
            on_progress=progressed,
            on_start=(lambda: mark("busy")) if at_start else None,
            on_slow=None if at_start else (lambda: mark("busy")),
            on_cancel=lambda: mark("idle"), sync=sync, **kwargs,
        )
        self._handles[key] = handle
        return handle

    def refresh(self, views: Iterable[str] | None = None) -> list[str]:
        """Re-run the last request of every view whose last request failed (or of ``views``).

        After fixing a model (or the data it failed on), this clears the errors without the user
        having to touch the control that failed. Returns the names of the views re-run.
        """
        self._client_state()
        names = list(self._view_errors) if views is None else list(views)
        names = [n for n in names if views is not None or n in self._last_requests]
        unknown = [n for n in names if n not in self._last_requests]
        if unknown:
            raise ValueError(f"no request to re-run for {unknown}; known: {sorted(self._last_requests)}")
        for name in names:
            fn, args, options, kwargs = self._last_requests[name]
            self.run_in_worker(name, fn, *args, **options, **kwargs)
        return names

    def _note(self, slot: str, state: str, message: str = "") -> None:
        """Record the state of one request slot ('busy', 'done', 'error' or 'idle') and derive
        the traits. Called under the state lock."""
        self._client_state()
        quiet = slot not in self._busy_views and slot not in self._view_errors
        if quiet and (state == "idle" or (state == "done" and not self._action_error)):
            return  # nothing changes: the common quick success costs no trait updates
        if state == "busy":
            self._busy_views.add(slot)
        else:
            self._busy_views.discard(slot)
        if state == "error":
            self._view_errors.pop(slot, None)  # re-insert: the newest failure is shown
            self._view_errors[slot] = message
        elif state == "done":
            self._view_errors.pop(slot, None)
            self._action_error = ""
        self._settle()

    def _hold(self) -> Any:
        hold = getattr(self, "hold_sync", None)
        if hold is not None:
            return hold()
        return contextlib.nullcontext()

    def _derived_state(self) -> dict[str, Any]:
        self._client_state()
        values: dict[str, Any] = {}
        if self._view_errors:
            values.update(error=next(reversed(self._view_errors.values())), status="error")
        elif self._action_error:
            values.update(error=self._action_error, status="error")
        else:
            values.update(error="", status="busy" if self._busy_views else "idle")
        if not self._busy_views:
            values["progress"] = {}
        return values

    def _settle(self) -> None:
        """Derive ``status``, ``error`` and ``progress`` from this widget's requests: the error of
        the view whose last request failed most recently (a success of one view does not hide
        another view's failure), else the error of a failed action, else busy while a busy
        request runs, else idle."""
        with self._hold():
            for name, value in self._derived_state().items():
                setattr(self, name, value)

    def _settle_threadsafe(self) -> None:
        self.set_traits_threadsafe(**self._derived_state())

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
        token = self._client_token
        return self._worker.wait_idle(
            timeout, keys=lambda k: isinstance(k, tuple) and k[:1] == (token,)
        )

    def _release_worker(self) -> None:
        """Drop this widget's requests, results and cache and release the worker, without
        waiting for a model call that is still running (its result is dropped)."""
        if self._worker is not None and not self._released:
            self._released = True
            token = self._client_token
            self._worker.forget(lambda k: isinstance(k, tuple) and k[:1] == (token,))
            self._worker.release()
        if "_client_token" in self.__dict__:
            self._result_cache.clear()
            self._last_requests.clear()
            self._handles.clear()

    def close(self) -> None:
        """Close the widget: cancel its requests and release the worker."""
        self._release_worker()
        super().close()  # type: ignore[misc]
