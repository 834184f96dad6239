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

``--assays`` adds the conditioned response matrix and the response maps on a conv VAE of the
32×32 scenes (the shipped ``vae-scenes-s0`` when present, else a seeded one) and the 4-4-4-4-4-4
sub-grid of the scenes:

* conditioned matrix, loop — the official procedure's loops: per factor and per traversal,
  encode the traversal, then per latent j R(z) and R(z̃_j) (2·d calls of N);
* conditioned matrix, batched — :func:`invwidgets.methods.responses.conditioned_response_matrix`:
  all traversals of a factor encoded and their R(Q) computed in one pass, all d interventions of
  a traversal in one pass. Both use the same draws, so their matrices must agree (≤ 1e-5);
* response maps, loop — the official per-cell loop: one ``response_map`` per latent pair;
* response maps, batched — :func:`invwidgets.methods.response_maps.response_maps`, every pair's
  grid in one pass (the same number of latents).

    python benchmarks/responses.py [--threads 1] [--repeats 5] [--batch-size auto] [--assays]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time

import torch

from invwidgets.methods.response_maps import response_map, response_maps
from invwidgets.methods.responses import (
    _select_indices,
    conditioned_response_matrix,
    encode_mean,
    intervention_values,
    resolve_batch_size,
    response,
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


def conditioned_loop(model, dataset, n_traversals: int, n_samples: int, seed: int, bs) -> torch.Tensor:
    """The conditioned matrix (``variant="mean"``) with the official procedure's loops and the
    library's draws: per factor, per traversal, encode it, then per latent R(z) and R(z̃_j)."""
    from invwidgets.data import random_traversals

    gen = torch.Generator().manual_seed(seed)
    x_all = dataset[:][0]
    rows = []
    for k, size in enumerate(dataset.factor_sizes):
        if size < 2:
            continue
        trav = random_traversals(dataset, k, n_traversals, gen)
        diags = []
        for t in range(n_traversals):
            q = encode_mean(model, x_all[trav[t]], bs)
            length, d = q.shape
            inds = torch.stack([_select_indices(n_samples, length, gen) for _ in range(d)])
            shift = torch.randint(length - 1, (d, n_samples), generator=gen)
            other = (inds + shift + 1) % length
            diag = []
            for j in range(d):
                z = q[inds[j]]
                z_int = z.clone()
                z_int[:, j] = q[other[j], j]
                diag.append((response(model, z_int, bs)[:, j] - response(model, z, bs)[:, j]).pow(2).mean().sqrt())
            diags.append(torch.stack(diag))
        rows.append(torch.stack(diags).mean(0))
    return torch.stack(rows)


def assays(args: argparse.Namespace) -> None:
    """Time the conditioned matrix and the response maps, loop versus batched, in one run."""
    from invwidgets import zoo
    from invwidgets.data import scene_grid

    name = "vae-scenes-s0"
    if name in zoo.available():
        model, which = zoo.load(name), name
    else:
        model = init_parameters(ConvAutoencoder(3, 32, latent_dim=10, variational=True, channels=[16, 32, 32]), 0).eval()
        which = "a seeded ConvAutoencoder (3×32×32, latent 10)"
    grid = scene_grid({f: 4 for f in ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")}, size=32)
    bs, t, n = args.batch_size, args.traversals, 32
    base = torch.zeros(model.latent_dim)
    pairs = [(a, b) for a in range(model.latent_dim) for b in range(a + 1, model.latent_dim)]
    res = _interleaved({
        "cond_loop": lambda: conditioned_loop(model, grid, t, n, 0, bs),
        "cond_batched": lambda: conditioned_response_matrix(model, grid, n_traversals=t, n_samples=n, generator=0,
                                                            batch_size=bs).matrix,
        "maps_loop": lambda: torch.stack([response_map(model, base, p, resolution=args.resolution, batch_size=bs).field
                                          for p in pairs]),
        "maps_batched": lambda: torch.stack([m.field for m in response_maps(model, base, pairs,
                                                                            resolution=args.resolution, batch_size=bs)]),
    }, args.repeats)
    print(f"model: {which}; grid of {len(grid)} scenes (4 values per factor); {t} traversals × {n} samples per "
          f"factor; maps: {len(pairs)} pairs × {args.resolution}² points")
    for what, loop, batched in (("conditioned matrix", "cond_loop", "cond_batched"),
                                ("response maps", "maps_loop", "maps_batched")):
        (t_l, s_l, f_l, m_l), (t_b, s_b, f_b, m_b) = res[loop], res[batched]
        diff = float((m_l.double() - m_b.double()).abs().max())
        verdict = "OK" if diff <= 1e-5 else "FAIL"
        print(f"{what:22s} loop {t_l * 1000:8.1f} ms | batched {t_b * 1000:8.1f} ms | ratio {t_l / t_b:5.2f}x | "
              f"max |diff| {diff:.1e} ({verdict}, <= 1e-5) | sys/faults loop {s_l:.0%}/{f_l:.0f}, "
              f"batched {s_b:.0%}/{f_b:.0f}")


def _batch_size(text: str) -> int | str:
    return text if text == "auto" else int(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--latents", type=int, default=16)
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--batch-size", type=_batch_size, default="auto", help="an integer or 'auto' (default)")
    parser.add_argument("--assays", action="store_true", help="also time the conditioned matrix and response maps")
    parser.add_argument("--traversals", type=int, default=10, help="traversals per factor (--assays)")
    parser.add_argument("--resolution", type=int, default=32, help="response-map grid points per axis (--assays)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.assays:
        assays(args)
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
            "loop": lambda m=model: response_matrix_loop(m, z, values, batch_size=None),
            "loop_same": lambda m=model: response_matrix_loop(m, z, values, batch_size=bs),
            "batched": lambda m=model: response_matrix_from(m, z, values, batch_size=bs),
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
