"""The inference worker: latest wins, stale results dropped, cache, priorities, errors, threads."""

from __future__ import annotations

import contextvars
import threading
import time

import pytest
import torch

from invwidgets.worker import (
    STATE_LOCK,
    Cancelled,
    Worker,
    default_device,
    get_worker,
    set_sync_mode,
    sync_mode,
)


@pytest.fixture
def worker():
    w = Worker("cpu")
    w.acquire()
    yield w
    w.release()


def _gate():
    """A request function that blocks until released, to hold the worker busy."""
    started = threading.Event()
    release = threading.Event()

    def blocker() -> str:
        started.set()
        assert release.wait(10)
        return "blocker"

    return blocker, started, release


def test_rapid_requests_on_one_key_compute_few_times_and_last_wins(worker):
    delivered: list[int] = []
    calls: list[int] = []

    def compute(i: int) -> int:
        calls.append(i)
        time.sleep(0.002)
        return i

    for i in range(100):
        worker.submit("slider", compute, i, on_result=delivered.append)
    assert worker.wait_idle(10)
    assert len(calls) <= 5, calls
    assert calls[-1] == 99
    assert delivered[-1] == 99
    # Results are delivered in order of submission, never an older one after a newer one.
    assert delivered == sorted(delivered)


def test_stale_result_is_dropped(worker):
    delivered = []
    blocker, started, release = _gate()
    h1 = worker.submit("k", blocker, on_result=delivered.append)
    assert started.wait(5)
    # h1 is running; a newer request with the same key makes its result stale.
    h2 = worker.submit("k", lambda: "new", on_result=delivered.append)
    release.set()
    assert worker.wait_idle(5)
    assert h1.state == "stale"
    assert h2.state == "done"
    assert delivered == ["new"]


def test_different_keys_do_not_replace_each_other(worker):
    out = {}
    blocker, started, release = _gate()
    worker.submit("hold", blocker)
    assert started.wait(5)
    for k in "abc":
        worker.submit(k, lambda k=k: k * 2, on_result=lambda v, k=k: out.__setitem__(k, v))
    release.set()
    assert worker.wait_idle(5)
    assert out == {"a": "aa", "b": "bb", "c": "cc"}


def test_exception_sets_error_and_worker_lives_on(worker):
    errors: list[BaseException] = []
    results = []

    def bad():
        raise ValueError("model exploded")

    h = worker.submit("k", bad, on_error=errors.append, on_result=results.append)
    assert worker.wait_idle(5)
    assert h.state == "error"
    assert isinstance(errors[0], ValueError) and "exploded" in str(errors[0])
    h2 = worker.submit("k", lambda: 42, on_result=results.append)
    assert worker.wait_idle(5)
    assert h2.state == "done" and results == [42]
    assert worker.alive


def test_exception_in_result_callback_goes_to_on_error(worker):
    errors = []

    def broken_callback(value):
        raise RuntimeError("bad trait value")

    worker.submit("k", lambda: 1, on_result=broken_callback, on_error=errors.append)
    assert worker.wait_idle(5)
    assert len(errors) == 1 and "bad trait value" in str(errors[0])
    assert worker.alive


def test_identical_requests_are_served_from_cache(worker):
    calls = []

    def compute(x):
        calls.append(x)
        return x * 10

    got = []
    worker.submit("k", compute, 3, cache_key=("compute", 3), on_result=got.append)
    assert worker.wait_idle(5)
    h = worker.submit("k", compute, 3, cache_key=("compute", 3), on_result=got.append)
    assert h.from_cache and h.done()
    assert calls == [3] and got == [30, 30]
    worker.clear_cache()
    worker.submit("k", compute, 3, cache_key=("compute", 3), on_result=got.append)
    assert worker.wait_idle(5)
    assert calls == [3, 3]


def test_cache_is_bounded(worker):
    worker.cache_size = 4
    for i in range(10):
        worker.submit(("k", i), lambda i=i: i, cache_key=i)
    assert worker.wait_idle(5)
    assert len(worker._cache) == 4


def test_interactive_requests_run_before_batch_jobs(worker):
    order = []
    blocker, started, release = _gate()
    worker.submit("hold", blocker)
    assert started.wait(5)
    worker.submit("b1", lambda: order.append("batch1"), priority="batch")
    worker.submit("b2", lambda: order.append("batch2"), priority="batch")
    worker.submit("i1", lambda: order.append("interactive1"))
    worker.submit("i2", lambda: order.append("interactive2"))
    release.set()
    assert worker.wait_idle(5)
    assert order == ["interactive1", "interactive2", "batch1", "batch2"]


def test_batch_job_progress_and_cancel(worker):
    progress = []
    cancelled = threading.Event()
    step = threading.Event()

    def train(steps: int, job) -> str:
        for i in range(steps):
            job.progress(i + 1, steps, "training")
            step.set()
            time.sleep(0.01)
        return "finished"

    h = worker.submit(
        "train", train, 10_000, priority="batch", on_progress=progress.append,
        on_cancel=cancelled.set,
    )
    assert step.wait(5)
    h.cancel()
    assert h.wait(5)
    assert h.state == "cancelled"
    assert cancelled.is_set()
    assert progress and progress[0][1] == 10_000.0 and progress[0][2] == "training"
    assert worker.alive
    # A short job reports its last step.
    progress.clear()
    worker.submit("train", train, 3, priority="batch", on_progress=progress.append)
    assert worker.wait_idle(5)
    assert progress[-1] == (3.0, 3.0, "training")


def test_batch_checkpoint_lets_interactive_requests_run(worker):
    order = []
    in_job = threading.Event()
    go_on = threading.Event()

    def job_fn(job):
        order.append("job start")
        in_job.set()
        assert go_on.wait(5)
        job.checkpoint()
        order.append("job end")

    worker.submit("job", job_fn, priority="batch")
    assert in_job.wait(5)
    worker.submit("ui", lambda: order.append("interactive"))
    go_on.set()
    assert worker.wait_idle(5)
    assert order == ["job start", "interactive", "job end"]


def test_cancel_raises_inside_job(worker):
    seen = []

    def job_fn(job):
        job._request.handle.cancel()
        try:
            job.check()
        except Cancelled:
            seen.append("cancelled")
            raise

    h = worker.submit("j", job_fn, priority="batch")
    assert h.wait(5)
    assert seen == ["cancelled"] and h.state == "cancelled"


def test_wait_idle_times_out_while_busy(worker):
    blocker, started, release = _gate()
    worker.submit("k", blocker)
    assert started.wait(5)
    assert worker.wait_idle(0.05) is False
    assert worker.wait_idle(0.05, keys=lambda k: k == "other") is True
    release.set()
    assert worker.wait_idle(5) is True


def test_callbacks_run_in_captured_context_under_lock(worker):
    var: contextvars.ContextVar[str] = contextvars.ContextVar("parent", default="none")
    var.set("main-thread-cell")
    ctx = contextvars.copy_context()
    var.set("changed later")
    seen = {}

    def callback(value):
        seen["var"] = var.get()
        seen["thread"] = threading.current_thread().name
        # The lock is held (RLock: re-acquiring from the same thread succeeds without blocking,
        # while another thread would block).
        seen["locked"] = STATE_LOCK._is_owned()  # type: ignore[attr-defined]

    worker.submit("k", lambda: 1, context=ctx, on_result=callback)
    assert worker.wait_idle(5)
    assert seen["var"] == "main-thread-cell"
    assert seen["thread"].startswith("invwidgets-worker")
    assert seen["locked"] is True


def test_thread_stops_when_last_user_releases():
    baseline = threading.active_count()
    w = Worker("cpu")
    users = 50
    for _ in range(users):
        w.acquire()
    for i in range(users):
        w.submit(("w", i), lambda: torch.zeros(2).sum())
    assert w.wait_idle(5)
    assert w.alive
    for _ in range(users):
        w.release()
    assert not w.alive
    assert threading.active_count() == baseline
    # A later request starts it again.
    w.acquire()
    got = []
    w.submit("again", lambda: 5, on_result=got.append)
    assert w.wait_idle(5) and got == [5]
    w.release()
    assert threading.active_count() == baseline


def test_sync_mode_runs_in_calling_thread():
    w = Worker("cpu")
    where = []
    set_sync_mode(True)
    try:
        assert sync_mode()
        h = w.submit("k", lambda: where.append(threading.current_thread().name) or 7)
        assert h.done() and h.result == 7
        assert where == [threading.current_thread().name]
        assert not w.alive
    finally:
        set_sync_mode(None)
    assert not sync_mode()


def test_sync_mode_from_environment(monkeypatch):
    monkeypatch.setenv("INVWIDGETS_SYNC", "1")
    assert sync_mode()
    monkeypatch.setenv("INVWIDGETS_SYNC", "0")
    assert not sync_mode()


def test_default_device_override(monkeypatch):
    monkeypatch.setenv("INVWIDGETS_DEVICE", "cpu")
    assert default_device() == torch.device("cpu")
    monkeypatch.delenv("INVWIDGETS_DEVICE")
    expected = "cuda" if torch.cuda.is_available() else None
    if expected:
        assert default_device().type == "cuda"
    else:
        assert default_device().type in {"cpu", "mps"}


def test_one_shared_worker_per_device():
    assert get_worker("cpu") is get_worker(torch.device("cpu"))
    assert get_worker("cpu").device == torch.device("cpu")


def test_bad_priority_is_rejected(worker):
    with pytest.raises(ValueError, match="priority"):
        worker.submit("k", lambda: 1, priority="urgent")  # type: ignore[arg-type]


def test_stop_cancels_pending(worker):
    blocker, started, release = _gate()
    worker.submit("hold", blocker)
    assert started.wait(5)
    h = worker.submit("later", lambda: 1)
    release.set()
    worker.stop()
    assert h.done() and h.state in {"cancelled", "done"}
    assert not worker.alive


def test_on_slow_is_called_only_for_requests_that_run_long(worker):
    slow_calls: list[str] = []
    for i in range(20):  # quick requests: never announced
        worker.submit(("quick", i), lambda: 1, on_slow=lambda: slow_calls.append("quick"))
    assert worker.wait_idle(10)
    gate = threading.Event()
    announced = threading.Event()

    def on_slow() -> None:
        slow_calls.append("slow")
        announced.set()

    worker.submit("slow", lambda: gate.wait(30), on_slow=on_slow)
    assert announced.wait(10)  # called while the request still runs
    gate.set()
    assert worker.wait_idle(10)
    assert slow_calls == ["slow"]


def test_a_dropped_request_that_announced_itself_ends_with_on_cancel(worker):
    gate, announced = threading.Event(), threading.Event()
    events: list[str] = []
    worker.submit("k", lambda: gate.wait(30), on_slow=announced.set,
                  on_result=lambda v: events.append("old"), on_cancel=lambda: events.append("cancel"))
    assert announced.wait(10)
    worker.submit("k", lambda: 2, on_result=lambda v: events.append("new"))
    gate.set()
    assert worker.wait_idle(10)
    assert events == ["cancel", "new"]


def test_a_cache_passed_with_the_request_is_used_instead_of_the_workers(worker):
    from invwidgets.worker import ResultCache

    mine = ResultCache(4)
    got: list[int] = []
    worker.submit("k", lambda: 1, cache_key="x", cache=mine, on_result=got.append)
    assert worker.wait_idle(5)
    assert "x" in mine and "x" not in worker._cache
    h = worker.submit("k", lambda: 2, cache_key="x", cache=mine, on_result=got.append)
    assert h.from_cache and got == [1, 1]


def test_a_closed_widgets_late_result_is_dropped(worker):
    gate, inside = threading.Event(), threading.Event()
    got: list[int] = []
    worker.submit(("w", "view"), lambda: inside.set() or gate.wait(30) and 5, on_result=got.append)
    assert inside.wait(10)
    worker.forget(lambda k: k[0] == "w")
    gate.set()
    assert worker.wait_idle(10)
    assert got == []
