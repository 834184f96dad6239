"""Benchmark: the batched latent response matrix versus the per-latent loop of the reference code.

Both compute the same d×d matrix from the same base latents and intervention values, on the same
model, N = 256 samples, d = 16 latents, for two seeded models: a conv VAE on 32×32 images
(compute-bound on a CPU) and an MLP VAE on 8×8 images (call-overhead-bound):

* loop — what ``felixludos/latent-responses`` does: for each latent j, R(z) and R(z̃_j), 2·d calls
  of N samples (:func:`invwidgets.methods.responses.response_matrix_loop`);
* batched — R(z) once, then all d interventions stacked into one (d·N)-sample pass
  (:func:`invwidgets.methods.responses.response_matrix_from`).

Prints the largest absolute difference (must be ≤ 1e-5) and the speed ratio loop / batched,
measured in one run: after a warm-up, ``--repeats`` rounds that time every variant once each
(interleaved, so that a slow spell of the machine hits all of them), median per variant.

``--batch-size B`` caps the batches the batched pass gives the model (default ``auto``, the
library's default: 128 on a CPU, 1024 on a GPU); the loop always gives the model its N samples at
once, as the reference does. The line "loop, same batches" runs the loop with batches of at most
B too: the ratio against it is what batching alone buys.

Each variant's share of system CPU time and its minor page faults per call are printed too: on
Linux, glibc's ``malloc`` serves large blocks with fresh ``mmap`` pages, and faulting them in costs
a large part of the time of conv models on a CPU. To see the timings without that cost, run the
script with ``MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=8589934592`` (the settings in
use are printed).

    python benchmarks/responses.py [--threads 1] [--repeats 5] [--batch-size auto]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time

import torch

from invwidgets.methods.responses import (
    intervention_values,
    resolve_batch_size,
    response_matrix_from,
    response_matrix_loop,
    sample_prior,
)
from invwidgets.models import ConvAutoencoder, MLPAutoencoder, init_parameters


def _interleaved(fns: dict, repeats: int) -> dict[str, tuple[float, float, float, torch.Tensor]]:
    """Per function: median wall time, median system-CPU share of the process's CPU time, median
    minor page faults per call, and the last output; timed in ``repeats`` interleaved rounds."""
    outs = {k: fn() for k, fn in fns.items()}  # warm-up
    times: dict[str, list[float]] = {k: [] for k in fns}
    sys_share: dict[str, list[float]] = {k: [] for k in fns}
    faults: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            before = resource.getrusage(resource.RUSAGE_SELF)
            start = time.perf_counter()
            outs[k] = fn()
            times[k].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_SELF)
            user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
            sys_share[k].append(system / max(user + system, 1e-9))
            faults[k].append(after.ru_minflt - before.ru_minflt)
    return {k: (statistics.median(times[k]), statistics.median(sys_share[k]), statistics.median(faults[k]), outs[k])
            for k in fns}


def _batch_size(text: str) -> int | str:
    return text if text == "auto" else int(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--latents", type=int, default=16)
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--batch-size", type=_batch_size, default="auto", help="an integer or 'auto' (default)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    d, n, bs = args.latents, args.samples, args.batch_size
    models = {
        "ConvAutoencoder 32x32": ConvAutoencoder(image_size=32, latent_dim=d, variational=True),
        "MLPAutoencoder 8x8": MLPAutoencoder((1, 8, 8), latent_dim=d, variational=True, hidden=(128,)),
    }
    z = sample_prior(n, d, 0)
    values = intervention_values(n, d, 1)
    malloc_env = " ".join(f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("MALLOC_")) or "none"
    print(f"d={d}, N={n}, batched pass in batches of <= {resolve_batch_size(bs, 'cpu')} ({bs}), torch threads={args.threads}, "
          f"torch {torch.__version__}, median of {args.repeats} interleaved rounds, MALLOC_* settings: {malloc_env}")
    for name, model in models.items():
        model = init_parameters(model, 0).eval()
        res = _interleaved({
            "loop": lambda: response_matrix_loop(model, z, values, batch_size=None),
            "loop_same": lambda: response_matrix_loop(model, z, values, batch_size=bs),
            "batched": lambda: response_matrix_from(model, z, values, batch_size=bs),
        }, args.repeats)
        (t_loop, s_loop, f_loop, m_loop) = res["loop"]
        (t_same, s_same, f_same, m_same) = res["loop_same"]
        (t_batch, s_batch, f_batch, m_batch) = res["batched"]
        diff = max(float((m_loop - m_batch).abs().max()), float((m_same - m_batch).abs().max()))
        verdict = "OK" if diff <= 1e-5 else "FAIL"
        print(f"{name:22s} loop {t_loop * 1000:8.1f} ms | batched {t_batch * 1000:8.1f} ms | "
              f"ratio {t_loop / t_batch:5.2f}x | max |diff| {diff:.1e} ({verdict}, <= 1e-5)")
        print(f"{'':22s} loop, same batches {t_same * 1000:8.1f} ms | ratio {t_same / t_batch:5.2f}x "
              f"(bound for a compute-bound model: 2d/(d+1) = {2 * d / (d + 1):.2f}x)")
        print(f"{'':22s} system share of CPU time / minor page faults per call: loop {s_loop:.0%} / {f_loop:.0f}, "
              f"loop same batches {s_same:.0%} / {f_same:.0f}, batched {s_batch:.0%} / {f_batch:.0f}")


if __name__ == "__main__":
    main()
