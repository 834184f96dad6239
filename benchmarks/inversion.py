"""Inversion at real resolution: fit time per model, the fast sampler at 28×28, and a grid of fits
serially vs on a two-worker dask LocalCluster.

1. One training epoch of each kind of preset inversion model (unconditional, a 10-d vector, an
   image-sized map) on ``--n`` real MNIST training digits, at 14×14 (17 levels) and 28×28 (4
   levels), reported per image and extrapolated to the 4,000 training digits.
2. Fast vs naive sampling of ``--samples`` images at 28×28 from the 28×28 preset model (seeded
   random weights; speed and agreement do not depend on training), with the agreement check.
3. A 4-model grid (``uncond`` + three layers of a small CNN at 14×14, ``--grid-epochs`` epochs)
   fitted serially and with ``executor=`` a ``dask.distributed`` LocalCluster of two one-thread
   workers on loopback; the results must be equal.

Usage: python benchmarks/inversion.py [--n 640] [--samples 4] [--grid-epochs 2] [--parts fit,sampler,grid]
"""

from __future__ import annotations

import argparse
import json
import time

import torch
import torch.nn.functional as F

from invwidgets.data import mnist_sample
from invwidgets.methods.inversion import fit_inversions, fit_pixelcnn, inversion_preset
from invwidgets.models import SmallCNN, init_parameters
from invwidgets.models.pixelcnn import GatedPixelCNN


def _images(n: int, side: int, levels: int) -> torch.Tensor:
    x = mnist_sample("train").images[:n].float()
    if side != 28:
        x = F.interpolate(x, size=(side, side), mode="area")
    return torch.round(x * (levels - 1)) / (levels - 1)


def fit_times(n: int) -> dict[str, dict[str, float]]:
    out = {}
    for side, levels in [(14, 17), (28, 4)]:
        x = _images(n, side, levels)
        arch = inversion_preset((1, side, side), levels, 4000)["pixelcnn"]
        for cond in [None, (10,), (1, side, side)]:
            m = init_parameters(GatedPixelCNN(1, side, levels, cond_shape=cond, **arch), 0)
            h = None if cond is None else torch.randn(n, *cond, generator=torch.Generator().manual_seed(1))
            t = time.perf_counter()
            fit_pixelcnn(m, x, h, epochs=1, lr=2e-3)
            dt = time.perf_counter() - t
            key = f"{side}x{side}, {levels} levels, cond {'none' if cond is None else list(cond)}"
            out[key] = {"ms_per_image": 1000 * dt / n, "s_per_epoch_4000": dt * 4000 / n}
            print(key, {k: round(v, 2) for k, v in out[key].items()}, flush=True)
    return out


def sampler_ratio(n: int) -> dict[str, float]:
    arch = inversion_preset((1, 28, 28), 4, 4000)["pixelcnn"]
    m = init_parameters(GatedPixelCNN(1, 28, 4, cond_shape=[10], **arch), 0).eval()
    h = torch.randn(n, 10, generator=torch.Generator().manual_seed(1))
    t = time.perf_counter()
    fast = m.sample(h=h, generator=torch.Generator().manual_seed(2), method="fast")
    t_fast = time.perf_counter() - t
    t = time.perf_counter()
    naive = m.sample(h=h, generator=torch.Generator().manual_seed(2), method="naive")
    t_naive = time.perf_counter() - t
    out = {"fast_s": t_fast, "naive_s": t_naive, "ratio": t_naive / t_fast, "equal": bool(torch.equal(fast, naive))}
    print("sampler 28x28", out, flush=True)
    return out


def grid(epochs: int, n: int) -> dict[str, float]:
    from distributed import Client, LocalCluster

    x = _images(n, 14, 17)
    net = init_parameters(SmallCNN(1, 14, 10, hidden=64), 0).eval()
    layers = ["conv1", "fc", "logits"]
    kw = {"levels": 17, "epochs": epochs, "seed": 0}
    t = time.perf_counter()
    serial, _ = fit_inversions(net, layers, x, **kw)
    t_serial = time.perf_counter() - t
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        client.submit(sum, [1]).result()  # workers up before timing
        t = time.perf_counter()
        par, _ = fit_inversions(net, layers, x, executor=client, **kw)
        t_par = time.perf_counter() - t
    a, b = serial.state_dict(), par.state_dict()
    same = all(torch.allclose(a[k], b[k], rtol=0, atol=1e-6) for k in a)
    out = {"serial_s": t_serial, "cluster_s": t_par, "speedup": t_serial / t_par, "equal": same}
    print("grid of 4 models", out, flush=True)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=640)
    p.add_argument("--samples", type=int, default=4)
    p.add_argument("--grid-epochs", type=int, default=2)
    p.add_argument("--parts", default="fit,sampler,grid", help="comma-separated: fit, sampler, grid")
    p.add_argument("--json", default="")
    args = p.parse_args()
    torch.set_num_threads(1)
    parts = set(args.parts.split(","))
    res: dict[str, object] = {}
    if "fit" in parts:
        res["fit"] = fit_times(args.n)
    if "sampler" in parts:
        res["sampler"] = sampler_ratio(args.samples)
    if "grid" in parts:
        res["grid"] = grid(args.grid_epochs, args.n)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
