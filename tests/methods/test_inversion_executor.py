"""Fitting grids on an executor: a spawn process pool and a dask.distributed LocalCluster give the
serial results for the same seeds; cancellation stops waiting and cancels pending jobs."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest
import torch
from torch import nn

from invwidgets.methods.inversion import fit_inversions, mi_over_checkpoints, mutual_information

SMALL = {"channels": 4, "n_layers": 2, "cond_hidden": 8, "dropout": 0.2}  # dropout: masks must follow the seed
LAYERS = ["1", "3"]


def _bits(n: int, seed: int) -> torch.Tensor:
    return torch.randint(0, 2, (n, 1, 4, 4), generator=torch.Generator().manual_seed(seed)).float()


def _net(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 6), nn.ReLU(), nn.Linear(6, 3)).eval()


def _same(inv_a, inv_b) -> None:
    a, b = inv_a.state_dict(), inv_b.state_dict()
    assert a.keys() == b.keys()
    for k in a:  # same arithmetic on the same machine; a tolerance for other processes' last bits
        assert torch.allclose(a[k], b[k], rtol=0, atol=1e-6), k


@pytest.fixture(scope="module")
def serial():
    net = _net(0)
    inv, hist = fit_inversions(net, LAYERS, _bits(96, 0), levels=2, pixelcnn=SMALL, epochs=2, seed=3)
    return net, inv, hist


def _check_grid(executor, serial) -> None:
    net, inv, hist = serial
    par, phist = fit_inversions(net, LAYERS, _bits(96, 0), levels=2, pixelcnn=SMALL, epochs=2, seed=3,
                                executor=executor)
    _same(inv, par)
    for k in hist:
        assert phist[k]["best_epoch"] == hist[k]["best_epoch"]
        assert phist[k]["val_bpd"] == pytest.approx(hist[k]["val_bpd"], abs=1e-6)
    test = _bits(40, 1)
    e1 = mutual_information(inv, net, test, n_boot=50)
    e2 = mutual_information(par, net, test, n_boot=50)
    for l in LAYERS:
        assert e2.mi(l) == pytest.approx(e1.mi(l), abs=1e-4)
    cps = {0: _net(1), 2: net}
    r1, _ = mi_over_checkpoints(cps, ["3"], _bits(96, 0), test, levels=2, pixelcnn=SMALL, epochs=1, n_boot=50)
    r2, f2 = mi_over_checkpoints(cps, ["3"], _bits(96, 0), test, levels=2, pixelcnn=SMALL, epochs=1, n_boot=50,
                                 executor=executor)
    assert r2.curve("3") == pytest.approx(r1.curve("3"), abs=1e-4)
    assert set(f2[0].histories) == {"uncond", "3"}


def test_a_spawn_process_pool_gives_the_serial_results(serial):
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        _check_grid(pool, serial)


def test_a_dask_local_cluster_gives_the_serial_results(serial):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        _check_grid(client, serial)


class _Stop(Exception):
    pass


class _CancelAtOnce:
    def __init__(self) -> None:
        self.checks = 0

    def check(self) -> None:
        self.checks += 1
        raise _Stop

    def progress(self, done, total=None, message="") -> None:
        pass


class _Pending:
    """A future that never finishes, recording its cancellation."""

    cancelled = False

    def done(self) -> bool:
        return False

    def result(self):  # pragma: no cover - never reached
        raise AssertionError

    def cancel(self) -> bool:
        self.cancelled = True
        return True


class _NeverRuns:
    def __init__(self) -> None:
        self.futures: list[_Pending] = []

    def submit(self, fn, *args, **kwargs):
        self.futures.append(_Pending())
        return self.futures[-1]


def test_cancelling_the_job_cancels_the_pending_jobs():
    ex = _NeverRuns()
    job = _CancelAtOnce()
    with pytest.raises(_Stop):
        fit_inversions(_net(0), LAYERS, _bits(32, 0), levels=2, pixelcnn=SMALL, epochs=1, executor=ex, job=job)
    assert len(ex.futures) == 3 and all(f.cancelled for f in ex.futures) and job.checks == 1
    with pytest.raises(TypeError, match="submit"):
        fit_inversions(_net(0), LAYERS, _bits(32, 0), levels=2, pixelcnn=SMALL, epochs=1, executor=object())
