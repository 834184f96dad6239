"""Why the 14×14 inversion preset clips the gradient norm: one model, fitted with and without it.

Refits one model of a shipped real-MNIST inversion set (``inv-mnist-s{seed}``, by default seed 2's
identity model, ``input``) with the set's own recipe, fitting seed and training split, once with
the recipe's gradient-norm clip and once without it (``clip_grad_norm=None``), and prints per
epoch the training and validation bits/dim and the largest gradient norm before clipping, the
best epoch and where patience stopped the fit. The two fits take about 2–4 min each on one core.

Usage: python benchmarks/inversion_clipping.py [--seed 2] [--layer input] [--out clipping.json]
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from invwidgets.methods.inversion import fit_inversion_set
from invwidgets.models.pixelcnn import InversionSet
from invwidgets.zoo import card, load
from invwidgets.zoo.registry import get_entry
from invwidgets.zoo.reproduce import _dataset_spec, _splits


def _fit(name: str, layer: str, clip: float | None) -> dict:
    entry = get_entry(name)
    hp = {k: v for k, v in entry.hyperparameters.items() if k != "threads"}
    hp["clip_grad_norm"] = clip
    train = _splits(_dataset_spec(entry))[0]
    source = entry.config["source"]
    classifier = load(str(source["classifier"])).checkpoint(int(source["epoch"]))
    inv = InversionSet(entry.config["pixelcnn"], {layer: entry.config["cond_shapes"][layer]})
    seed = int(card(name)["training"]["history"]["fit_seed"])  # the shipped set's own fitting seed
    t = time.perf_counter()
    hist = fit_inversion_set(inv, classifier, train.images, seed=seed, progress=True, **hp)[layer]
    return {"clip_grad_norm": clip, "fit_s": round(time.perf_counter() - t, 1),
            "train_bpd": [round(v, 5) for v in hist["train_bpd"][1:]],
            "val_bpd": [round(v, 5) for v in hist["val_bpd"]],
            "grad_norm_max": [round(v, 1) for v in hist["grad_norm_max"][1:]],
            "best_epoch": hist["best_epoch"], "stopped_epoch": hist.get("stopped_epoch"),
            "val_bpd_best": round(hist["val_bpd_best"], 5)}


def main() -> None:
    """Fit both ways, print a per-epoch table and write the histories as JSON."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--layer", default="input")
    ap.add_argument("--out", default="clipping.json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    name = f"inv-mnist-s{args.seed}"
    clip = get_entry(name).hyperparameters["clip_grad_norm"]
    runs = {"clipped": _fit(name, args.layer, clip), "unclipped": _fit(name, args.layer, None)}
    for key, r in runs.items():
        print(f"{name} {args.layer}, {key} (clip_grad_norm={r['clip_grad_norm']}): best epoch {r['best_epoch']}, "
              f"stopped at {r['stopped_epoch'] or 'the last epoch'}, best validation {r['val_bpd_best']} bits/dim, "
              f"{r['fit_s']} s")
        for e, (tr, va, g) in enumerate(zip(r["train_bpd"], r["val_bpd"][1:], r["grad_norm_max"]), start=1):
            print(f"  epoch {e:2d}  train {tr:.5f}  val {va:.5f}  largest gradient norm {g:9.1f}")
    with open(args.out, "w") as f:
        json.dump({"name": name, "layer": args.layer, **runs}, f, indent=1)


if __name__ == "__main__":
    main()
