"""Command line of the zoo: ``python -m invwidgets.zoo {list,train,evaluate,card}``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from . import ENTRIES, available, card, evaluate, metric_mismatches, train, user_dir


def _parse_value(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv: Sequence[str] | None = None) -> int:
    """Run the zoo command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m invwidgets.zoo", description="invwidgets model zoo")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list registered models and whether their weights are present")
    p_train = sub.add_parser("train", help="retrain a model and write NAME.safetensors and NAME.json")
    p_train.add_argument("name")
    p_train.add_argument("--seed", type=int, default=None)
    p_train.add_argument("--directory", default=None,
                         help=f"output folder (default: {user_dir()}; pass the package's weights folder to replace a shipped model)")
    p_train.add_argument("--no-progress", action="store_true")
    p_train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a hyperparameter")
    p_eval = sub.add_parser("evaluate", help="recompute a saved model's metrics and compare with its card "
                            "(exit status 1 when one does not reproduce)")
    p_eval.add_argument("name")
    p_eval.add_argument("--directory", default=None)
    p_card = sub.add_parser("card", help="print a model's card")
    p_card.add_argument("name")
    p_card.add_argument("--directory", default=None)
    args = parser.parse_args(argv)

    if args.command == "list":
        present = set(available())
        for name, entry in sorted(ENTRIES.items()):
            if name in present:
                value = card(name)["metrics"].get(entry.primary_metric)
                status = f"{entry.primary_metric}={value:.4g}"
            else:
                status = "not trained"
            print(f"{name:16s} {status:32s} {entry.description}")
        for name in sorted(present - set(ENTRIES)):
            print(f"{name:16s} {'(no registered entry)':32s}")
        return 0
    if args.command == "train":
        overrides = {}
        for item in args.set:
            if "=" not in item:
                parser.error(f"--set expects KEY=VALUE, got {item!r}")
            key, value = item.split("=", 1)
            overrides[key] = _parse_value(value)
        _, c = train(args.name, seed=args.seed, progress=not args.no_progress, save=True, directory=args.directory, **overrides)
        print(json.dumps({"name": c["name"], "metrics": c["metrics"], "train_time_s": c["train_time_s"]}, indent=2))
        return 0
    if args.command == "evaluate":
        stored = card(args.name, args.directory)["metrics"]
        fresh = evaluate(args.name, directory=args.directory)
        for key, value in fresh.items():
            print(f"{key:24s} card={stored.get(key, float('nan')):.6g} now={value:.6g}")
        problems = metric_mismatches(fresh, stored)
        for line in problems:
            print("does not reproduce:", line)
        return 1 if problems else 0
    print(json.dumps(card(args.name, args.directory), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
