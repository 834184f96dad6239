"""Benchmark: what an IIN costs on top of the model it interprets, and the explorer's frames.

On the shipped colour-digit models (VAE of seed 0 and its dIIN ``iin-ae-color-digits-s0``), with
one CPU thread by default, median of ``--repeats`` timings after a warm-up:

* ``swap`` — one factor swap: ``E`` twice, ``T`` twice, ``T⁻¹`` once, ``D`` once
  (:func:`invwidgets.methods.factors.swap_factors` plus decoding), against the baseline
  ``D(E(x))`` of one image (the reconstruction the explorer would show without an IIN);
* ``resample`` — resampling one factor ×16 and decoding, against ``D(E(x))`` of 16 images;
* ``frame`` — one swap requested through :class:`FactorExplorer` and its worker, until the result
  is set on the view (``wait_idle``), against a request that does nothing (worker round trip).

Prints each ratio (IIN work / baseline) measured in the same run, so figures from noisy machines
stay comparable.

    python benchmarks/factors.py [--threads 1] [--repeats 20]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from invwidgets import zoo
from invwidgets.methods.factors import resample_factor, swap_factors
from invwidgets.widgets.explorers import FactorExplorer


def _median(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ae, iin = zoo.load("ae-color-digits-s0"), zoo.load("iin-ae-color-digits-s0")
    test = zoo.test_split("ae-color-digits-s0")
    x = test.images[:2]
    x16 = test.images[:16]

    @torch.no_grad()
    def baseline_one():
        return ae.decode(ae.encode(x[:1]))

    @torch.no_grad()
    def swap_one():
        z = ae.encode(x)
        return ae.decode(swap_factors(iin, z[1:], z[:1], "color"))

    @torch.no_grad()
    def baseline_16():
        return ae.decode(ae.encode(x16))

    gen = torch.Generator().manual_seed(0)

    @torch.no_grad()
    def resample_16():
        return ae.decode(resample_factor(iin, ae.encode(x[:1]), "digit", 16, gen)[0])

    rows = [
        ("swap", _median(swap_one, args.repeats), _median(baseline_one, args.repeats)),
        ("resample ×16", _median(resample_16, args.repeats), _median(baseline_16, args.repeats)),
    ]

    ex = FactorExplorer(ae, iin, decoder=ae, dataset=test, n_pick=8, n_scatter=100, device="cpu")
    ex.wait_idle(120)
    toggle = {"i": 0}

    def frame():
        toggle["i"] += 1
        ex.swap = ["color"] if toggle["i"] % 2 else []
        ex.worker.clear_cache()
        ex.wait_idle(60)

    def noop():
        ex.run_in_worker("noop", lambda: None)
        ex.wait_idle(60)

    rows.append(("frame (worker)", _median(frame, args.repeats), _median(noop, args.repeats)))
    ex.close()
    print(f"threads={args.threads} repeats={args.repeats}")
    for name, t, base in rows:
        print(f"{name:16s} {t * 1e3:8.2f} ms   baseline {base * 1e3:8.2f} ms   ratio {t / base:6.2f}")


if __name__ == "__main__":
    main()
