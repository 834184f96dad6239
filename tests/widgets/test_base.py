"""WorkerClient: worker results become traits, errors become the error trait, clean close."""

from __future__ import annotations

import threading

import anywidget
import pytest
import traitlets

from invwidgets.widgets.base import WorkerClient, format_error
from invwidgets.worker import get_worker


class Echo(WorkerClient, anywidget.AnyWidget):
    _esm = "export default { render() {} }"
    value = traitlets.Int(0).tag(sync=True)
    out = traitlets.Int(0).tag(sync=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._init_worker("cpu")
        self.observe(self.guard(self._on_value), names="value")

    def _on_value(self, change):
        if change["new"] < 0:
            raise ValueError("value must be non-negative")
        self.run_in_worker("echo", lambda v: v * 2, change["new"],
                           on_result=lambda r: setattr(self, "out", r))


def test_result_reaches_trait_from_worker_thread():
    w = Echo()
    try:
        w.value = 21
        assert w.wait_idle(5)
        assert w.out == 42
        assert w.status == "idle" and w.error == ""
    finally:
        w.close()


def test_error_in_request_sets_error_and_next_request_clears_it():
    w = Echo()
    try:
        def boom():
            raise RuntimeError("decoder failed")

        w.run_in_worker("x", boom)
        assert w.wait_idle(5)
        assert w.status == "error"
        assert w.error == "RuntimeError: decoder failed"
        w.value = 5  # another view works while "x" stays failed
        assert w.wait_idle(5)
        assert w.out == 10 and w.status == "error"
        w.run_in_worker("x", lambda: 1)
        assert w.wait_idle(5)
        assert w.status == "idle" and w.error == ""
    finally:
        w.close()


def test_exception_in_front_end_triggered_observer_is_shown_not_raised():
    w = Echo()
    try:
        # As if the front end had sent the change.
        w.set_state({"value": -1})
        assert w.error == "ValueError: value must be non-negative"
        assert w.status == "error"
    finally:
        w.close()


def test_busy_status_while_batch_job_runs_and_progress():
    w = Echo()
    started = threading.Event()
    release = threading.Event()
    try:
        def job_fn(job):
            job.progress(1, 2, "half")
            started.set()
            assert release.wait(5)
            return 1

        w.run_in_worker("train", job_fn, priority="batch")
        assert started.wait(5)
        assert w.status == "busy"
        assert w.progress == {"done": 1.0, "total": 2.0, "message": "half"}
        release.set()
        assert w.wait_idle(5)
        assert w.status == "idle" and w.progress == {}
    finally:
        release.set()
        w.close()


def test_closed_widget_rejects_requests():
    w = Echo()
    w.close()
    with pytest.raises(RuntimeError, match="closed"):
        w.run_in_worker("x", lambda: 1)


def test_fifty_widgets_created_and_closed_leave_thread_count_at_baseline():
    get_worker("cpu").stop()
    baseline = threading.active_count()
    widgets = [Echo() for _ in range(50)]
    for i, w in enumerate(widgets):
        w.value = i + 1
    for w in widgets:
        assert w.wait_idle(5)
    assert [w.out for w in widgets] == [2 * (i + 1) for i in range(50)]
    assert threading.active_count() == baseline + 1  # the one shared worker thread
    for w in widgets:
        w.close()
    assert threading.active_count() == baseline


def test_format_error():
    assert format_error(ValueError("x")) == "ValueError: x"
    assert format_error(KeyError()) == "KeyError"


def test_success_of_one_view_does_not_hide_another_views_failure():
    w = Echo()
    try:
        def fails():
            raise ValueError("sampling failed")

        w.run_in_worker("a", fails)
        w.run_in_worker("b", lambda: 1, priority="batch")
        assert w.wait_idle(5)
        assert w.status == "error" and w.error == "ValueError: sampling failed"
        # The failing view succeeding next clears it.
        w.run_in_worker("a", lambda: 2)
        assert w.wait_idle(5)
        assert w.status == "idle" and w.error == ""
    finally:
        w.close()
