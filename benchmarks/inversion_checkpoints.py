"""Î over training on real MNIST (14×14, 17 levels), on a reduced budget.

Fits, with :func:`~invwidgets.methods.inversion.mi_over_checkpoints`, one conditional inversion
model per (checkpoint, layer) of the classifier bundle ``cnn-mnist14-ckpts-s{seed}`` (snapshots at
epochs 0, 1, 3, 10, 30; retrain it first with ``python -m invwidgets.zoo train
cnn-mnist14-ckpts-s1``, about 10 s, and point ``INVWIDGETS_ZOO_DIR`` at the folder it went to)
and one shared unconditional twin, all with the 14×14 preset except the number of epochs
(``--epochs``, 10 by default instead of 30: the full grid at the preset budget is about 2.5 h of
one core). Prints, per layer and checkpoint, Î with its 95 % interval (1,000 paired bootstrap
resamples of the 1,000 test digits) and every diagnostic flag, and writes them as JSON.

Usage: python benchmarks/inversion_checkpoints.py [--seed 1] [--layers fc,logits] [--epochs 10]
       [--workers 1] [--out mi_over_training.json]
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import torch

from invwidgets.methods.inversion import mi_over_checkpoints
from invwidgets.zoo import load, test_split
from invwidgets.zoo.entries_inversion import ClassifierCheckpoints
from invwidgets.zoo.registry import get_entry
from invwidgets.zoo.reproduce import _dataset_spec, _splits


def main() -> None:
    """Run the grid and print / write its estimates."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--layers", default="fc,logits")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--out", default="mi_over_training.json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    bundle = load(f"cnn-mnist14-ckpts-s{args.seed}")
    assert isinstance(bundle, ClassifierCheckpoints)
    train = _splits(_dataset_spec(get_entry(f"inv-mnist-s{args.seed}")))[0]
    test = test_split(f"inv-mnist-s{args.seed}")
    layers = args.layers.split(",")
    t = time.perf_counter()
    executor = (ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) if args.workers > 1 else None)
    try:
        res, _ = mi_over_checkpoints({e: bundle.checkpoint(e) for e in bundle.epochs}, layers, train.images,
                                     test.images, levels=17, epochs=args.epochs, seed=args.seed, n_boot=1000,
                                     labels=test.labels, executor=executor, progress=executor is None)
    finally:
        if executor is not None:
            executor.shutdown()
    out = {"seed": args.seed, "epochs_budget": args.epochs, "fit_s": round(time.perf_counter() - t, 1),
           "checkpoints": res.epochs, "h_x_bits": {e: res.estimates[e].h_x_bits for e in res.epochs}, "layers": {}}
    for layer in layers:
        out["layers"][layer] = [{"epoch": e, "mi_bits": res.estimates[e].mi(layer),
                                 "ci": [res.estimates[e].layers[layer].ci_low, res.estimates[e].layers[layer].ci_high],
                                 "flags": [f.message for f in res.estimates[e].layers[layer].flags]}
                                for e in res.epochs]
        for row in out["layers"][layer]:
            print(layer, row["epoch"], f"{row['mi_bits']:.1f} [{row['ci'][0]:.1f}, {row['ci'][1]:.1f}]",
                  row["flags"] or "no flag", flush=True)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
