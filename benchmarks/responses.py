"""Benchmark: the batched latent response matrix versus the per-latent loop of the reference code.

Both compute the same d×d matrix from the same base latents and intervention values, on the same
model, N = 256 samples, d = 16 latents, for two seeded models: a conv VAE on 32×32 images
(compute-bound on a CPU) and an MLP VAE on 8×8 images (call-overhead-bound):

* loop — what ``felixludos/latent-responses`` does: for each latent j, R(z) and R(z̃_j), 2·d calls
  of N samples (:func:`invwidgets.methods.responses.response_matrix_loop`);
* batched — R(z) once, then all d interventions stacked into one (d·N)-sample pass
  (:func:`invwidgets.methods.responses.response_matrix_from`).

Prints the largest absolute difference (must be ≤ 1e-5) and the speed ratio loop / batched,
measured in one run (median of ``--repeats`` timings each, after a warm-up).

    python benchmarks/responses.py [--threads 1] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from invwidgets.methods.responses import intervention_values, response_matrix_from, response_matrix_loop, sample_prior
from invwidgets.models import ConvAutoencoder, MLPAutoencoder, init_parameters


def _time(fn, repeats: int) -> tuple[float, torch.Tensor]:
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
    parser.add_argument("--latents", type=int, default=16)
    parser.add_argument("--samples", type=int, default=256)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    d, n = args.latents, args.samples
    models = {
        "ConvAutoencoder 32x32": ConvAutoencoder(image_size=32, latent_dim=d, variational=True),
        "MLPAutoencoder 8x8": MLPAutoencoder((1, 8, 8), latent_dim=d, variational=True, hidden=(128,)),
    }
    z = sample_prior(n, d, 0)
    values = intervention_values(n, d, 1)
    print(f"d={d}, N={n}, torch threads={args.threads}, torch {torch.__version__}, median of {args.repeats}")
    for name, model in models.items():
        model = init_parameters(model, 0).eval()
        t_loop, m_loop = _time(lambda: response_matrix_loop(model, z, values), args.repeats)
        t_batch, m_batch = _time(lambda: response_matrix_from(model, z, values), args.repeats)
        diff = float((m_loop - m_batch).abs().max())
        verdict = "OK" if diff <= 1e-5 else "FAIL"
        print(f"{name:22s} loop {t_loop * 1000:8.1f} ms | batched {t_batch * 1000:8.1f} ms | "
              f"ratio {t_loop / t_batch:5.2f}x | max |diff| {diff:.1e} ({verdict}, <= 1e-5)")

if __name__ == "__main__":
    main()
