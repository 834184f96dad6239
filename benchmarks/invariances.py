"""Benchmark: attributing K invariant samples one at a time versus in one batch, and the cost of
an explorer frame relative to a bare decode, on the shipped ``svae-digits``.

* per-sample — K calls of :func:`invwidgets.methods.attribution.attribute` on one image each
  (what a job that reports progress after every sample does);
* batched — one call on the K images (Captum expands the batch × IG steps internally).

Both give the same maps (checked: max |diff| ≤ 1e-5; SmoothGrad's noise depends on the batch
layout, so its maps are not compared). Also prints the time of one explorer frame
(decode, latent/closed-loop/external predictions and the IG map of the sample) as a ratio to a
bare ``decode``. Ratios measured in one run (median of ``--repeats`` timings after a warm-up).

    python benchmarks/invariances.py [--threads 1] [--repeats 5] [--k 16]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from invwidgets import zoo
from invwidgets.methods.attribution import METHODS, attribute, composed_classifier
from invwidgets.methods.invariances import invariant_samples


def _time(fn, repeats: int):
    out = fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--k", type=int, default=16)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, base = zoo.load("svae-digits"), zoo.load("baseline-digits")
    f = composed_classifier(model)
    x = zoo.test_split("svae-digits")[:1][0]
    s = invariant_samples(model, x, args.k, torch.Generator().manual_seed(0))
    images, target = s.images[0], int(s.label[0])
    print(f"K={args.k}, torch threads={args.threads}, torch {torch.__version__}, median of {args.repeats}")
    for method in METHODS:
        t_loop, a_loop = _time(lambda method=method: torch.cat([attribute(f, images[i : i + 1], target, method)
                                                              for i in range(args.k)]),
                               args.repeats)
        t_batch, a_batch = _time(lambda method=method: attribute(f, images, target, method), args.repeats)
        diff = float((a_loop - a_batch).abs().max())
        if method == "smoothgrad":  # the noise drawn for a sample depends on the batch layout
            check = "maps not compared: noise differs"
        else:
            check = f"max |diff| {diff:.1e} ({'OK' if diff <= 1e-5 else 'FAIL'})"
        print(f"{method:22s} per-sample {t_loop * 1000:7.1f} ms | batched {t_batch * 1000:7.1f} ms | "
              f"ratio {t_loop / t_batch:5.2f}x | {check}")

    z = model.encode(x)

    def frame():
        with torch.no_grad():
            xs = model.decode(z)
            model.classify(z[:, : model.d_c]), f(xs), base(xs)
        return attribute(f, xs, target, "integrated_gradients")

    def decode():
        with torch.no_grad():
            return model.decode(z)

    t_frame, _ = _time(frame, args.repeats)
    t_decode, _ = _time(decode, args.repeats)
    print(f"explorer frame {t_frame * 1000:.2f} ms = {t_frame / t_decode:.1f}x a bare decode ({t_decode * 1000:.3f} ms)")


if __name__ == "__main__":
    main()
