"""The background inference worker: one thread per torch device owns all model work.

Widgets never run torch on the kernel's main thread. Their observers only *submit* requests
here and return at once, so the kernel stays idle and front-end events keep flowing. The worker

- keys every request (``"<widget id>:<view>"``): a newer request with the same key replaces an
  older one that has not started yet (latest wins);
- numbers the requests of each key; a result whose number is no longer the newest for its key is
  dropped (stale), so a slow old frame never overwrites a newer one. The check is made under
  :data:`STATE_LOCK`, the lock the result is delivered under, for computed and cached results
  alike, so no newer result can slip in between the check and the delivery;
- serves identical requests (same ``cache_key``) from a small LRU :class:`ResultCache`; widgets
  pass their own cache, so a result is only ever served back to the widget that computed it;
- runs interactive requests before batch jobs; batch jobs report progress, can be cancelled, and
  may let waiting interactive requests run at safe points (:meth:`JobContext.checkpoint`);
- tells a request's ``on_slow`` when it has run longer than :data:`SLOW_AFTER` seconds (widgets
  show ``busy`` then, so quick slider frames do not flood the front end with busy/idle);
- turns an exception into a call of the request's ``on_error`` (a widget shows it in its
  ``error`` trait) and lives on;
- delivers results inside the :mod:`contextvars` context captured on the main thread when the
  widget was created, under :data:`STATE_LOCK`, because traitlets is not thread-safe and
  ipykernel 7 routes messages through context variables (a trait set from a plain thread makes
  the next click on that widget vanish);
- stops its thread when the last widget using it is released, without waiting for a model call
  that is still running (its result is dropped), and never runs two threads for one device: a
  thread that is still finishing a call is reused by the next request;
- has a synchronous mode for scripts and tests (``INVWIDGETS_SYNC=1`` or
  :func:`set_sync_mode`), where every request runs at once in the caller's thread.

Methods stay plain functions: the worker only calls them.
"""

from __future__ import annotations

import atexit
import contextvars
import itertools
import os
import threading
import time
import traceback
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

__all__ = [
    "SLOW_AFTER",
    "STATE_LOCK",
    "Cancelled",
    "JobContext",
    "Handle",
    "ResultCache",
    "Worker",
    "default_device",
    "get_worker",
    "new_client_token",
    "set_sync_mode",
    "sync_mode",
    "shutdown_all",
]

#: Lock held while the worker sets traits (and while widgets apply front-end state), since
#: traitlets is not thread-safe. Re-entrant so that a callback may set several traits.
STATE_LOCK = threading.RLock()

#: Seconds a request runs before its ``on_slow`` callback is called.
SLOW_AFTER = 0.2

Priority = Literal["interactive", "batch"]


class Cancelled(Exception):
    """Raised inside a batch job by :meth:`JobContext.check` once the job was cancelled."""


def default_device() -> torch.device:
    """The device the worker uses unless told otherwise.

    ``INVWIDGETS_DEVICE`` (e.g. ``"cpu"``, ``"cuda:1"``) overrides the automatic choice, which is
    CUDA if available, else Apple's MPS if available, else the CPU.
    """
    name = os.environ.get("INVWIDGETS_DEVICE", "").strip()
    if name:
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


_sync_override: bool | None = None


def set_sync_mode(enabled: bool | None) -> None:
    """Run every request synchronously in the caller's thread (``True``), in the background
    worker (``False``), or as ``INVWIDGETS_SYNC`` says (``None``, the default)."""
    global _sync_override
    _sync_override = enabled


def sync_mode() -> bool:
    """Whether requests currently run synchronously (see :func:`set_sync_mode`)."""
    if _sync_override is not None:
        return _sync_override
    return os.environ.get("INVWIDGETS_SYNC", "").strip().lower() in {"1", "true", "yes"}


class ResultCache:
    """A small least-recently-used map from cache keys to results.

    The worker has one for direct use; every widget passes its own (see
    :meth:`Worker.submit`), so the results it holds live and die with that widget. Not
    thread-safe by itself: the worker only touches it with its own lock held.
    """

    def __init__(self, size: int = 64) -> None:
        self.size = int(size)
        self._items: OrderedDict[Hashable, Any] = OrderedDict()

    def lookup(self, key: Hashable) -> tuple[bool, Any]:
        """``(True, value)`` for a cached key (now the most recent one), else ``(False, None)``."""
        if key in self._items:
            self._items.move_to_end(key)
            return True, self._items[key]
        return False, None

    def store(self, key: Hashable, value: Any) -> None:
        """Cache ``value`` under ``key``, evicting the least recently used beyond ``size``."""
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > max(self.size, 0):
            self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget every cached result."""
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items


class JobContext:
    """What a running request sees: its device, progress reporting and cancellation.

    A request function that accepts a parameter named ``job`` receives one of these.
    """

    def __init__(self, worker: Worker, request: _Request) -> None:
        self._worker = worker
        self._request = request
        self._last_progress = 0.0

    @property
    def device(self) -> torch.device:
        """The worker's torch device; move models and tensors here."""
        return self._worker.device

    @property
    def cancelled(self) -> bool:
        """Whether the job was cancelled (or replaced by a newer request with the same key)."""
        return self._request.handle.cancelled

    def check(self) -> None:
        """Raise :class:`Cancelled` if the job was cancelled. Call it between steps."""
        if self._request.handle.cancelled:
            raise Cancelled()

    def progress(self, done: float, total: float | None = None, message: str = "") -> None:
        """Report progress (``done`` of ``total`` steps) and check for cancellation.

        Progress is passed to the request's ``on_progress`` at most about ten times a second,
        and always for the last step.
        """
        self.check()
        handle = self._request.handle
        handle.progress = (float(done), None if total is None else float(total), message)
        now = time.monotonic()
        last = total is not None and done >= total
        if self._request.on_progress is not None and (last or now - self._last_progress >= 0.1):
            self._last_progress = now
            self._worker._deliver(self._request, self._request.on_progress, handle.progress)

    def checkpoint(self) -> None:
        """Let waiting interactive requests run now, then check for cancellation.

        Call it only where the job's models are in a state that interactive requests may see
        (for example between optimiser steps, with no gradient pending).
        """
        self.check()
        if self._request.priority == "batch":
            self._worker._run_pending_interactive()
        self.check()


class Handle:
    """The submitter's view of one request: its sequence number, state, cancel and wait."""

    def __init__(self, key: Hashable, seq: int) -> None:
        self.key = key
        self.seq = seq
        self.state: Literal["pending", "running", "done", "error", "cancelled", "stale"] = "pending"
        self.result: Any = None
        self.exception: BaseException | None = None
        self.progress: tuple[float, float | None, str] | None = None
        self.from_cache = False
        self._cancelled = threading.Event()
        self._finished = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        """Cancel the request: drop it if it has not started, stop it at its next check if it
        has (batch jobs), and never deliver its result."""
        self._cancelled.set()

    def done(self) -> bool:
        """Whether the request has finished (in any way)."""
        return self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the request has finished; ``False`` on time-out."""
        return self._finished.wait(timeout)

    def _finish(self, state: str) -> None:
        self.state = state  # type: ignore[assignment]
        self._finished.set()

    def __repr__(self) -> str:
        return f"Handle(key={self.key!r}, seq={self.seq}, state={self.state!r})"


@dataclass(eq=False)
class _Request:
    key: Hashable
    fn: Callable[..., Any]
    args: tuple
    kwargs: dict
    priority: Priority
    cache_key: Hashable | None
    cache: ResultCache
    context: contextvars.Context | None
    on_result: Callable[[Any], None] | None
    on_error: Callable[[BaseException], None] | None
    on_progress: Callable[[tuple], None] | None
    on_start: Callable[[], None] | None
    on_cancel: Callable[[], None] | None
    on_slow: Callable[[], None] | None
    handle: Handle
    wants_job: bool = field(default=False)
    #: Set under STATE_LOCK once the request's last callback ran (or was skipped).
    concluded: bool = field(default=False)
    #: Whether ``on_slow`` was called.
    slow_fired: bool = field(default=False)


def _accepts_job(fn: Callable[..., Any]) -> bool:
    import inspect

    try:
        return "job" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


class _SlowWatch:
    """One daemon thread, shared by all workers, that calls ``on_slow`` of every request still
    running :data:`SLOW_AFTER` seconds after it started.

    It sleeps without a deadline while nothing is watched and is woken only then, so the common
    quick request costs two short lock acquisitions.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._due: dict[_Request, tuple[float, Worker]] = {}
        self._thread: threading.Thread | None = None
        self._sleeping = False

    def add(self, worker: Worker, req: _Request, delay: float) -> None:
        with self._cond:
            self._due[req] = (time.monotonic() + delay, worker)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="invwidgets-slow-watch",
                                                daemon=True)
                self._thread.start()
            elif self._sleeping:
                self._cond.notify()

    def remove(self, req: _Request) -> None:
        with self._cond:
            self._due.pop(req, None)

    def _take_due(self) -> list[tuple[_Request, Worker]]:
        # Called with self._cond held; blocks until some request is due.
        while True:
            if not self._due:
                self._sleeping = True
                self._cond.wait()
                self._sleeping = False
                continue
            now = time.monotonic()
            due = [(r, w) for r, (t, w) in self._due.items() if t <= now]
            if due:
                for r, _ in due:
                    del self._due[r]
                return due
            self._cond.wait(min(t for t, _ in self._due.values()) - now)

    def _loop(self) -> None:
        while True:
            with self._cond:
                due = self._take_due()
            for req, worker in due:
                try:
                    worker._fire_slow(req)
                except BaseException:  # noqa: BLE001 - the watch must live on
                    worker._recent_errors.append(traceback.format_exc())
            del due


_slow_watch = _SlowWatch()
_client_tokens = itertools.count(1)


class Worker:
    """One background thread that owns torch work for one device.

    Use :func:`get_worker` rather than building one: it returns the shared worker of a device.
    Widgets call :meth:`acquire` when created and :meth:`release` when closed; the thread starts
    on the first request and stops when the last user releases it.
    """

    def __init__(self, device: torch.device | str | None = None, cache_size: int = 64) -> None:
        self.device = torch.device(device) if device is not None else default_device()
        self._cond = threading.Condition(threading.Lock())
        self._interactive: OrderedDict[Hashable, _Request] = OrderedDict()
        self._batch: OrderedDict[Hashable, _Request] = OrderedDict()
        self._latest: dict[Hashable, int] = {}
        self._running: list[_Request] = []
        self._cache = ResultCache(cache_size)
        self._seq = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._stop = False
        self._users = 0
        self._recent_errors: deque[str] = deque(maxlen=20)
        #: How many request functions have actually run (cache hits and dropped requests don't
        #: count). Useful for tests and benchmarks.
        self.computed = 0

    @property
    def cache_size(self) -> int:
        """Capacity of the worker's own cache (widgets bring their own)."""
        return self._cache.size

    @cache_size.setter
    def cache_size(self, size: int) -> None:
        self._cache.size = int(size)

    # ------------------------------------------------------------------ lifetime
    def acquire(self) -> None:
        """Register one user (a widget). The thread keeps running while any user remains."""
        with self._cond:
            self._users += 1

    def release(self) -> None:
        """Unregister one user; the last one out stops the thread (pending work is dropped).

        Returns at once: a model call that is still running finishes in the background and its
        result is dropped. Should a new request come first, the same thread serves it.
        """
        with self._cond:
            self._users = max(0, self._users - 1)
            last = self._users == 0
            idle = not self._running
        if last:
            # An idle thread exits as soon as it wakes; a busy one is not waited for.
            self.stop(timeout=1.0 if idle else 0)

    @property
    def alive(self) -> bool:
        """Whether the worker thread is running."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def users(self) -> int:
        """How many widgets hold this worker (see :meth:`acquire`)."""
        return self._users

    def _ensure_thread(self) -> None:
        # Called with self._cond held. A thread that was asked to stop but is still finishing a
        # call is kept: it serves the new request next, so one device never has two threads.
        self._stop = False
        if self._thread is not None and not self._thread.is_alive():
            self._thread = None
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name=f"invwidgets-worker-{self.device}", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float | None = 5.0) -> bool:
        """Stop the thread: pending requests are cancelled, a running one is asked to stop and
        its result dropped. Waits up to ``timeout`` seconds (``0``: not at all) for the thread to
        end and returns whether it has. A thread still inside a model call is never replaced."""
        with self._cond:
            for queue in (self._interactive, self._batch):
                for req in queue.values():
                    req.handle.cancel()
                    req.handle._finish("cancelled")
                queue.clear()
            for req in self._running:
                req.handle.cancel()
            self._stop = True
            self._cond.notify_all()
            thread = self._thread
        if thread is None or thread is threading.current_thread():
            return thread is None
        if timeout is None or timeout > 0:
            thread.join(timeout)
        return not thread.is_alive()

    def forget(self, keys: Callable[[Hashable], bool]) -> None:
        """Cancel the requests whose key passes ``keys`` and drop their bookkeeping (a closed
        widget's keys); a late result for them is never delivered."""
        with self._cond:
            for queue in (self._interactive, self._batch):
                for key in [k for k in queue if keys(k)]:
                    req = queue.pop(key)
                    req.handle.cancel()
                    req.handle._finish("cancelled")
            for req in self._running:
                if keys(req.key):
                    req.handle.cancel()
            for key in [k for k in self._latest if keys(k)]:
                del self._latest[key]
            self._cond.notify_all()

    # ------------------------------------------------------------------ submitting
    def submit(
        self,
        key: Hashable,
        fn: Callable[..., Any],
        *args: Any,
        priority: Priority = "interactive",
        cache_key: Hashable | None = None,
        cache: ResultCache | None = None,
        context: contextvars.Context | None = None,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[tuple], None] | None = None,
        on_start: Callable[[], None] | None = None,
        on_cancel: Callable[[], None] | None = None,
        on_slow: Callable[[], None] | None = None,
        sync: bool | None = None,
        **kwargs: Any,
    ) -> Handle:
        """Queue ``fn(*args, **kwargs)`` under ``key`` and return its :class:`Handle`.

        A pending request with the same key is replaced (latest wins). If ``cache_key`` is given
        and a result for it is in ``cache`` (default: the worker's own), it is delivered at once
        without running ``fn``; a computed result is stored there. If ``fn`` has a parameter
        named ``job`` it receives a :class:`JobContext`. Callbacks run inside ``context`` (the
        main thread's context captured by the widget) under :data:`STATE_LOCK`; ``on_result`` is
        skipped for results that became stale or were cancelled. ``on_slow`` is called once the
        request has run for :data:`SLOW_AFTER` seconds; a request that announced itself that way
        (or through ``on_start``) and whose result is then dropped ends with ``on_cancel``.
        ``sync=True`` (or the global sync mode) runs the request now in the calling thread.
        """
        if priority not in ("interactive", "batch"):
            raise ValueError(f"priority must be 'interactive' or 'batch', got {priority!r}")
        handle = Handle(key, next(self._seq))
        req = _Request(
            key=key, fn=fn, args=args, kwargs=kwargs, priority=priority, cache_key=cache_key,
            cache=self._cache if cache is None else cache, context=context, on_result=on_result,
            on_error=on_error, on_progress=on_progress, on_start=on_start, on_cancel=on_cancel,
            on_slow=on_slow, handle=handle, wants_job=_accepts_job(fn),
        )
        run_now = sync_mode() if sync is None else sync
        with self._cond:
            self._latest[key] = handle.seq
            for queue in (self._interactive, self._batch):
                old = queue.pop(key, None)
                if old is not None:
                    old.handle.cancel()
                    old.handle._finish("stale")
            for running in self._running:
                # A running batch job with the same key is superseded: ask it to stop.
                if running.key == key and running.priority == "batch":
                    running.handle.cancel()
            cached, value = (False, None) if cache_key is None else req.cache.lookup(cache_key)
            if not cached and not run_now:
                queue = self._interactive if priority == "interactive" else self._batch
                queue[key] = req
                self._ensure_thread()
                self._cond.notify_all()
        if cached:
            handle.from_cache = True
            handle.result = value
            delivered = self._conclude(req, req.on_result, value)
            handle._finish("done" if delivered or req.on_result is None else "stale")
        elif run_now:
            with self._cond:
                self._running.append(req)
            self._execute_registered(req)
        return handle

    # ------------------------------------------------------------------ waiting
    def pending(self, keys: Callable[[Hashable], bool] | None = None) -> int:
        """Number of queued or running requests (optionally only those whose key passes
        ``keys``)."""
        with self._cond:
            reqs = [*self._interactive.values(), *self._batch.values(), *self._running]
        return sum(1 for r in reqs if keys is None or keys(r.key))

    def wait_idle(
        self, timeout: float | None = None, keys: Callable[[Hashable], bool] | None = None
    ) -> bool:
        """Block until nothing is queued or running (for the keys selected by ``keys``).

        Returns ``False`` if ``timeout`` seconds passed first. Never call it from a request
        function (it would wait for itself).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                reqs = [*self._interactive.values(), *self._batch.values(), *self._running]
                if not any(keys is None or keys(r.key) for r in reqs):
                    return True
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining if remaining is not None else 0.5)

    def clear_cache(self) -> None:
        """Forget the results in the worker's own cache (widgets key theirs by the model's
        parameter versions, so they need no clearing when weights change)."""
        with self._cond:
            self._cache.clear()

    # ------------------------------------------------------------------ running
    def _next(self) -> _Request | None:
        # Called with self._cond held.
        if self._interactive:
            return self._interactive.popitem(last=False)[1]
        if self._batch:
            return self._batch.popitem(last=False)[1]
        return None

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stop and not self._interactive and not self._batch:
                    self._cond.wait()
                if self._stop:
                    # Decided under the lock: a request submitted from now on starts a new
                    # thread, one submitted before found this one still serving.
                    if self._thread is threading.current_thread():
                        self._thread = None
                    self._cond.notify_all()
                    return
                req = self._next()
                if req is None:
                    continue
                self._running.append(req)
            try:
                self._execute_registered(req)
            except BaseException:  # noqa: BLE001 - the worker must live on whatever happens
                self._recent_errors.append(traceback.format_exc())
            del req  # hold no request (and so no widget) while waiting

    def _run_pending_interactive(self) -> None:
        """Run every queued interactive request now (called from inside a batch job)."""
        while True:
            with self._cond:
                if self._stop or not self._interactive:
                    return
                req = self._interactive.popitem(last=False)[1]
                self._running.append(req)
            self._execute_registered(req)

    def _execute_registered(self, req: _Request) -> None:
        """Execute a request already listed as running; unlist it and wake waiters after."""
        watched = req.on_slow is not None and threading.current_thread() is self._thread
        if watched:
            _slow_watch.add(self, req, SLOW_AFTER)
        try:
            self._execute(req)
        finally:
            if watched:
                _slow_watch.remove(req)
            with self._cond:
                if req in self._running:
                    self._running.remove(req)
                self._cond.notify_all()

    def _is_latest(self, req: _Request) -> bool:
        with self._cond:
            return self._latest.get(req.key) == req.handle.seq

    def _execute(self, req: _Request) -> None:
        handle = req.handle
        if handle.cancelled:
            handle._finish("cancelled")
            return
        handle.state = "running"
        if req.on_start is not None and not handle.cancelled:
            self._deliver(req, req.on_start)
        kwargs = dict(req.kwargs)
        if req.wants_job:
            kwargs["job"] = JobContext(self, req)
        try:
            self.computed += 1
            value = req.fn(*req.args, **kwargs)
        except Cancelled:
            handle._finish("cancelled")
            self._conclude(req, req.on_cancel, latest_only=False)
            return
        except Exception as exc:  # noqa: BLE001 - reported to the widget, the worker lives on
            handle.exception = exc
            self._recent_errors.append("".join(traceback.format_exception(exc)))
            self._conclude(req, req.on_error, exc)
            handle._finish("error")
            return
        handle.result = value
        if req.cache_key is not None and not handle.cancelled:
            with self._cond:
                req.cache.store(req.cache_key, value)
        if handle.cancelled and req.priority == "batch":
            handle._finish("cancelled")
            self._conclude(req, req.on_cancel, latest_only=False)
            return
        delivered = self._conclude(req, req.on_result, value)
        handle._finish("done" if delivered or req.on_result is None else "stale")

    def _conclude(self, req: _Request, callback: Callable[..., Any] | None, *args: Any,
                  latest_only: bool = True) -> bool:
        """Deliver a request's last callback, deciding under :data:`STATE_LOCK` (the lock the
        callback sets traits under) whether it is still wanted: with ``latest_only`` it is
        skipped once the request was cancelled or a newer one with its key exists."""
        with STATE_LOCK:
            if req.concluded:
                return False
            req.concluded = True
            dropped = latest_only and (req.handle.cancelled or not self._is_latest(req))
            if callback is not None and not dropped:
                self._deliver(req, callback, *args)
                return True
            # A request that announced itself (on_start, on_slow) but ends without a result
            # says so through on_cancel, so its widget does not stay busy.
            announced = req.slow_fired or req.on_start is not None
            if dropped and announced and req.on_cancel is not None and callback is not req.on_cancel:
                self._deliver(req, req.on_cancel)
            return False

    def _fire_slow(self, req: _Request) -> None:
        """Called by the slow-request watch: ``on_slow`` if the request still runs and was not
        cancelled. Should its result then be dropped as stale, ``on_cancel`` follows."""
        with STATE_LOCK:
            if req.concluded or req.handle.cancelled or req.on_slow is None:
                return
            req.slow_fired = True
            self._deliver(req, req.on_slow)

    def _deliver(self, req: _Request, callback: Callable[..., Any], *args: Any) -> None:
        """Run a callback in the submitter's captured context, under :data:`STATE_LOCK`.

        An exception in a callback is passed to ``on_error`` (when that is not the failing
        callback itself) and never escapes into the worker thread.
        """
        def call(fn: Callable[..., Any], *fn_args: Any) -> None:
            with STATE_LOCK:
                if req.context is not None:
                    req.context.copy().run(fn, *fn_args)
                else:
                    fn(*fn_args)

        try:
            call(callback, *args)
        except Exception as exc:  # noqa: BLE001
            self._recent_errors.append("".join(traceback.format_exception(exc)))
            if req.on_error is not None and callback is not req.on_error:
                try:
                    call(req.on_error, exc)
                except Exception:  # noqa: BLE001
                    self._recent_errors.append(traceback.format_exc())

    @property
    def recent_errors(self) -> list[str]:
        """Tracebacks of the last errors seen by the worker (newest last), for diagnosis."""
        return list(self._recent_errors)

    def __repr__(self) -> str:
        return f"Worker(device={str(self.device)!r}, alive={self.alive}, users={self._users})"


_workers: dict[str, Worker] = {}
_workers_lock = threading.Lock()


def get_worker(device: torch.device | str | None = None) -> Worker:
    """The shared worker of ``device`` (default: :func:`default_device`), created on first use."""
    dev = torch.device(device) if device is not None else default_device()
    name = str(dev)
    with _workers_lock:
        worker = _workers.get(name)
        if worker is None:
            worker = _workers[name] = Worker(dev)
        return worker


def new_client_token() -> int:
    """A number never handed out before in this process: widgets key their requests by it
    rather than by ``id()``, which a later object may reuse."""
    return next(_client_tokens)


def shutdown_all(timeout: float = 5.0) -> None:
    """Stop every worker thread (called automatically at interpreter exit)."""
    with _workers_lock:
        workers = list(_workers.values())
    for worker in workers:
        worker.stop(timeout)


atexit.register(shutdown_all)
