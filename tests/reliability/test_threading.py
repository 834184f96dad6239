"""One worker thread per device; close() never waits for a model call; the newest result wins
even when a cached one is delivered while a computed one waits for the state lock."""

from __future__ import annotations

import threading
import time

import torch

import invwidgets as iw
from invwidgets.widgets import LatentExplorer
from invwidgets.worker import STATE_LOCK, Worker, get_worker


def _worker_threads(device: str = "cpu") -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"invwidgets-worker-{device}"]


def test_a_cached_result_delivered_under_the_lock_is_never_overwritten_by_an_older_one():
    w = Worker("cpu")
    w.acquire()
    try:
        wrong = 0
        for trial in range(50):
            key = ("race", trial)
            frames: list[str] = []
            w.submit(key, lambda: "cached", cache_key=("c", trial))  # fill the cache
            assert w.wait_idle(10)
            gate, computed = threading.Event(), threading.Event()

            def slow(gate: threading.Event = gate, computed: threading.Event = computed) -> str:
                computed.set()
                assert gate.wait(10)
                return "old"

            w.submit(key, slow, on_result=frames.append)
            assert computed.wait(10)
            with STATE_LOCK:
                gate.set()
                time.sleep(0.005)  # the old result is ready and waits for the lock
                w.submit(key, lambda: "never run", cache_key=("c", trial), on_result=frames.append)
            assert w.wait_idle(10)
            wrong += frames[-1] != "cached"
        assert wrong == 0
    finally:
        w.release()


class Gated(torch.nn.Module):
    """decode() blocks while ``gate`` is closed and records how many calls overlap."""

    calls_now = 0
    most_at_once = 0
    lock = threading.Lock()

    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(64, 2)
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.left = threading.Event()

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x.flatten(1))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        cls = type(self)
        with cls.lock:
            cls.calls_now += 1
            cls.most_at_once = max(cls.most_at_once, cls.calls_now)
        self.entered.set()
        try:
            assert self.gate.wait(30)
            return torch.sigmoid(z.sum(1)).view(-1, 1, 1, 1).expand(-1, 1, 8, 8)
        finally:
            with cls.lock:
                cls.calls_now -= 1
            self.left.set()


def test_close_during_a_model_call_returns_at_once_and_the_next_explorer_shares_the_thread():
    from invwidgets.data import digits

    iw.set_sync_mode(False)
    data = digits().subset(range(16))
    first_model, second_model = Gated(), Gated()
    Gated.most_at_once = 0
    first = LatentExplorer(first_model, data, device="cpu", n_pick=2)
    assert first.wait_idle(30)
    first_model.gate.clear()
    first_model.entered.clear()
    first_model.left.clear()
    first.sliders.values = [0.5, 0.5]
    assert first_model.entered.wait(30)  # the worker is inside decode(), blocked

    first.close()
    # close() came back while the model call still runs (it is blocked on the gate)
    assert not first_model.left.is_set()
    assert get_worker("cpu").users == 0

    second = LatentExplorer(second_model, data, device="cpu", n_pick=2)
    try:
        assert len(_worker_threads()) == 1  # the blocked thread will serve the new explorer
        assert not second.wait_idle(0.05)  # its frame waits for that thread
        first_model.gate.set()
        assert second.wait_idle(30)
        assert len(_worker_threads()) == 1
        assert Gated.most_at_once == 1
        assert second.decoded.image is not None and second.status == "idle"
        assert first.decoded is None  # the closed explorer let go of its views
    finally:
        second.close()
        first_model.gate.set()
        iw.set_sync_mode(None)


def test_the_worker_thread_ends_once_its_last_call_returns():
    w = Worker("cpu")
    w.acquire()
    gate, inside = threading.Event(), threading.Event()
    w.submit("k", lambda: inside.set() or gate.wait(30))
    assert inside.wait(10)
    w.release()  # returns at once
    assert w.alive
    gate.set()
    thread = w._thread
    if thread is not None:
        thread.join(10)
    assert not w.alive
    # a new request starts exactly one new thread
    w.acquire()
    got: list[int] = []
    w.submit("k", lambda: 3, on_result=got.append)
    assert w.wait_idle(10) and got == [3]
    w.release()
    assert not w.alive


def test_a_request_during_the_stop_is_served_by_the_same_thread():
    w = Worker("cpu")
    w.acquire()
    gate, inside = threading.Event(), threading.Event()
    names: list[int] = []
    w.submit("a", lambda: inside.set() or gate.wait(30))
    assert inside.wait(10)
    thread = w._thread
    w.release()
    w.acquire()
    w.submit("b", lambda: names.append(threading.get_ident()))
    gate.set()
    assert w.wait_idle(10)
    assert names == [thread.ident]
    w.release()
