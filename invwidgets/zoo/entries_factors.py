"""Zoo models of the factors (IIN) method on the coloured 8×8 digits (Esser, Rombach & Ommer 2020).

First stage, three seeds each (trained with :func:`invwidgets.zoo.train`):

* ``ae-color-digits-s{0,1,2}``: a conv VAE (latent 16, Bernoulli likelihood, small KL weight);
* ``cnn-color-digits-s{0,1,2}``: a :class:`~invwidgets.models.SmallCNN` with a 16-d penultimate
  layer; its representation ``z`` is the output of layer ``"fc"`` (before the ReLU), read with
  :class:`~invwidgets.methods.factors.SequentialSplit`, and the head is ``logits(relu(z))``.
  In ``color_digits`` every digit image has one colour, so a classifier trained on the images as
  they are can tie a shape to its colour. These are trained on every training image in all eight
  palette colours (``recolor``; the test split is never used) for 10 epochs over those 8 × 1437
  images, with label smoothing 0.2, which keeps the features of each digit closer together.

IINs on those representations (trained with :func:`train_factor_model`, because
:func:`invwidgets.models.init_parameters` cannot initialise ActNorm layers yet):

* ``iin-cnn-color-digits-s{k}``: a FactorIIN (digit, color, residual) on the classifier of seed k,
  trained on pairs sharing the digit or the colour (50/50), sizes :data:`CLASSIFIER_IIN_SIZES`,
  on the features of every training image in every colour (``recolor``), dequantised with
  Gaussian noise of 0.3 within-digit standard deviations (``jitter_scale="within_class"``).
  Its card records the sensitivity of the classifier to each factor (the std of the
  predicted labels when resampling the digit, colour, residual factor; means over the seeds
  ≥ 2.0, ≤ 0.5, ≤ 0.1, checked by ``tests/zoo/test_zoo_factors.py``).
* ``iin-ae-color-digits-s0``: the same on the autoencoder of seed 0 (for swaps in the widget).
* ``uiin-ae-color-digits-s{k}``: the unsupervised (Gaussianising) IIN on the autoencoder of seed
  k; its card records the FID-lite of ``D(T⁻¹(ε))`` and of ``D(ε)``.

Retrain: ``python -m invwidgets.zoo train cnn-color-digits-s0`` (first stage) and
``python -m invwidgets.zoo.entries_factors iin-cnn-color-digits-s0`` (IINs; a few minutes each on
one CPU thread).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from invwidgets.data import BaseDataset, sample_pairs
from invwidgets.data.colorful import colorful_pairs
from invwidgets.data.digits import all_colorings
from invwidgets.methods.factors import (
    SequentialSplit,
    estimate_factor_dims,
    sample,
    sensitivity_table,
    train_iin,
    unsupervised_nll,
)
from invwidgets.methods.fid import fid_lite
from invwidgets.models import Autoencoder, SmallCNN, init_parameters, reparameterize
from invwidgets.models.iin import FactorIIN

from . import locations
from .files import CARD_FORMAT, build_model
from .registry import ZooEntry, build_dataset, get_entry, register_architecture, register_entry  # noqa: F401
from .reproduce import _threads
from .training import classification_metrics, reconstruction_metrics, train_autoencoder, train_classifier

__all__ = [
    "FACTOR_SEEDS",
    "FACTOR_NAMES",
    "CLASSIFIER_LAYER",
    "classifier_split",
    "first_stage_representation",
    "estimated_sizes",
    "factor_iin_metrics",
    "train_factor_iin",
    "train_factor_model",
    "init_iin",
]

#: Seeds of the three models of each kind.
FACTOR_SEEDS = (0, 1, 2)
#: Factors of the colour-digit IINs (the residual last).
FACTOR_NAMES = ("digit", "color", "residual")
#: The classifier layer the IIN is attached to (pre-ReLU penultimate features).
CLASSIFIER_LAYER = "fc"
#: Pairs per factor and seed of the dimension estimate recorded in the IIN configs.
DIM_ESTIMATE = {"pairs_per_factor": 2000, "seed": 0}

register_architecture(FactorIIN)


def _register(entry: ZooEntry) -> None:
    # Running this module as a script imports it twice (package and __main__): register once.
    from .registry import ENTRIES

    if entry.name not in ENTRIES:
        register_entry(entry)

_AE_CONFIG = {
    "in_channels": 3,
    "image_size": 8,
    "latent_dim": 16,
    "variational": True,
    "channels": [32],
    "hidden": 128,
    "activation": "relu",
}
_CNN_CONFIG = {"in_channels": 3, "image_size": 8, "num_classes": 10, "channels": [16, 32], "hidden": 16, "downsample": "stride"}
_IIN_ARCH = {"n_blocks": 4, "hidden": 64, "depth": 1}
_IIN_HP = {"steps": 2000, "batch_size": 256, "lr": 1e-3, "rho": 0.975, "jitter": 0.3, "threads": 1}
#: The classifier dIINs: trained on the features of every training image in every colour, with a
#: jitter scaled by the spread within each digit (not by the spread over all digits).
_CLASSIFIER_IIN_HP = {**_IIN_HP, "jitter_scale": "within_class", "recolor": True}
#: The classifiers: every training image in every palette colour (an epoch is a pass over all
#: eight colourings), and label smoothing, which keeps the features of each digit closer together.
_CNN_HP = {"epochs": 10, "batch_size": 64, "lr": 1e-3, "weight_decay": 0.0, "label_smoothing": 0.2, "recolor": True, "threads": 1}
_UIIN_HP = {"steps": 2000, "batch_size": 256, "lr": 1e-3, "threads": 1}

for _s in FACTOR_SEEDS:
    _register(
        ZooEntry(
            name=f"ae-color-digits-s{_s}",
            architecture="ConvAutoencoder",
            config=_AE_CONFIG,
            dataset="color_digits",
            dataset_kwargs={},
            train_fn=train_autoencoder,
            metric_fn=reconstruction_metrics,
            hyperparameters={"steps": 3000, "batch_size": 64, "lr": 1e-3, "beta": 0.25, "likelihood": "bernoulli", "threads": 1},
            primary_metric="test_bce_per_pixel",
            seed=_s,
            description="conv VAE (latent 16, β = 0.25) on 3×8×8 colour digits: first stage of the IINs",
            tags=("factors",),
        )
    )
    _register(
        ZooEntry(
            name=f"cnn-color-digits-s{_s}",
            architecture="SmallCNN",
            config=_CNN_CONFIG,
            dataset="color_digits",
            dataset_kwargs={},
            train_fn=train_classifier,
            metric_fn=classification_metrics,
            hyperparameters=dict(_CNN_HP),
            primary_metric="test_accuracy",
            seed=_s,
            description="SmallCNN (16-d feature) on colour digits: first stage of the IINs and FID-lite features",
            tags=("factors",),
        )
    )


# ---------------------------------------------------------------------------------------- helpers
def classifier_split(classifier: nn.Module, example: torch.Tensor | None = None) -> SequentialSplit:
    """``E`` (images → pre-ReLU ``fc`` features) and ``G`` (→ logits) of a colour-digit SmallCNN."""
    if example is None:
        example = torch.zeros(2, *classifier.input_shape)
    return SequentialSplit(classifier, CLASSIFIER_LAYER, example)


def _load_first_stage(name: str, directory: str | Path | None) -> nn.Module:
    """The frozen first stage ``name``: from ``directory`` when it holds it (a retrained one),
    else along the zoo's search path (:mod:`invwidgets.zoo.locations`)."""
    here = directory is not None and (Path(directory) / f"{name}.json").is_file()
    model = locations.load(name, directory=directory if here else None)
    for p in model.parameters():
        p.requires_grad_(False)
    return model


@torch.no_grad()
def first_stage_representation(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """The representation ``z`` the IINs see: the posterior mean of an autoencoder, or the
    ``fc`` features of a classifier."""
    if isinstance(model, Autoencoder):
        return model.encode(images)
    if isinstance(model, SmallCNN):
        return classifier_split(model, images[:2]).encode(images)
    raise TypeError(f"unsupported first-stage model {type(model).__name__}")


@torch.no_grad()
def estimated_sizes(model: nn.Module, train_set: BaseDataset) -> tuple[list[int], dict[str, float]]:
    """Factor sizes (digit, color, residual) of ``model``'s representation (the paper's dimension estimate),
    from pairs of the training split drawn with a fixed seed (:data:`DIM_ESTIMATE`)."""
    gen = torch.Generator().manual_seed(DIM_ESTIMATE["seed"])
    z_all = first_stage_representation(model, train_set.images)
    pairs = {}
    for factor in FACTOR_NAMES[:-1]:
        idx = sample_pairs(train_set, factor, DIM_ESTIMATE["pairs_per_factor"], gen)
        pairs[factor] = (z_all[idx[:, 0]], z_all[idx[:, 1]])
    return estimate_factor_dims(z_all, pairs)


def init_iin(iin: FactorIIN, generator: torch.Generator) -> FactorIIN:
    """Seeded initialisation: coupling MLPs from ``generator``, ActNorms back to uninitialised."""
    for block in iin.blocks:
        init_parameters(block.coupling, generator)
        block.norm.reset_parameters()
    return iin


# ---------------------------------------------------------------------------------------- training
def _colorful_batches(model: FactorIIN, first: nn.Module, train_set: BaseDataset, batch: int,
                      jitter_sd: torch.Tensor | None) -> Callable[[int, torch.Generator], Any]:
    """Fresh ColorfulMNIST pairs every step (:func:`~invwidgets.data.colorful_pairs`: half share
    the digit, half one new colour), encoded by the frozen first stage: an autoencoder's posterior
    sample, or a classifier's features plus Gaussian noise of ``jitter_sd``."""
    cols = [model.factor_index(f) for f in FACTOR_NAMES[:-1]]

    @torch.no_grad()
    def encode(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        if isinstance(first, Autoencoder):
            return reparameterize(*first.encode_dist(x), gen)
        z = first_stage_representation(first, x)
        return z if jitter_sd is None else z + jitter_sd * torch.randn(z.shape, generator=gen)

    def batches(step: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        p = colorful_pairs(train_set, batch, gen)  # type: ignore[arg-type]
        mask = torch.zeros(batch, model.n_factors, dtype=torch.bool)
        mask[:, cols] = p.shared
        return encode(p.x_a, gen), encode(p.x_b, gen), mask

    return batches


def train_factor_iin(
    model: nn.Module,
    train_set: BaseDataset,
    hyperparameters: Mapping[str, Any],
    generator: torch.Generator,
    progress: bool = True,
) -> dict[str, Any]:
    """Train a FactorIIN on the representation of the zoo model ``hyperparameters["first_stage"]``.

    Hyperparameters: ``first_stage`` (zoo name), ``mode`` (``"pairs"``: pairs of the dataset
    sharing the digit or the colour, 50/50; ``"colorful"``: fresh ColorfulMNIST pairs of the
    training digits every step, half sharing the digit and half one new colour;
    ``"unsupervised"``), ``steps``, ``batch_size``, ``lr``, ``rho``,
    ``jitter`` (Gaussian noise of this many per-dimension standard deviations added to the
    classifier's deterministic features, a dequantisation that keeps the flow from fitting single
    points), ``jitter_scale`` (whose standard deviations: ``"total"``, over all features, the
    default; or ``"within_class"``, pooled around each digit's mean, so the noise stays small
    next to the distances between digits), ``recolor`` (default False: train on the
    representations of every training image in every palette colour,
    :func:`~invwidgets.data.digits.all_colorings`, 8× the data), ``directory`` (where the first
    stage is; default the package's weights).
    An autoencoder's ``z`` is a fresh posterior sample at every step.
    """
    if not isinstance(model, FactorIIN):
        raise TypeError(f"train_factor_iin trains a FactorIIN, got {type(model).__name__}")
    hp = dict(hyperparameters)
    first = _load_first_stage(hp["first_stage"], hp.get("directory"))
    steps, batch = int(hp["steps"]), int(hp["batch_size"])
    mode = hp.get("mode", "pairs")
    if bool(hp.get("recolor", False)):
        train_set = all_colorings(train_set)  # type: ignore[arg-type]
    images = train_set.images
    if isinstance(first, Autoencoder):
        with torch.no_grad():
            mu, logvar = first.encode_dist(images)

        def z_of(idx: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
            return reparameterize(mu[idx], logvar[idx], gen)
    else:
        feats = first_stage_representation(first, images)
        scale = hp.get("jitter_scale", "total")
        if scale == "total":
            sd = feats.std(0)
        elif scale == "within_class":
            labels = train_set.labels
            assert labels is not None
            means = torch.stack([feats[labels == k].mean(0) for k in range(int(labels.max()) + 1)])
            sd = (feats - means[labels]).std(0)
        else:
            raise ValueError(f"jitter_scale must be 'total' or 'within_class', got {scale!r}")
        sd = sd * float(hp.get("jitter", 0.0))

        def z_of(idx: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
            z = feats[idx]
            return z + sd * torch.randn(z.shape, generator=gen) if float(sd.abs().sum()) > 0 else z

    if mode == "unsupervised":
        def batches(step: int, gen: torch.Generator) -> tuple[torch.Tensor, None, None]:
            return z_of(torch.randint(0, len(train_set), (batch,), generator=gen), gen), None, None
    elif mode == "colorful":
        batches = _colorful_batches(model, first, train_set, batch, sd if not isinstance(first, Autoencoder) else None)
    elif mode == "pairs":
        half = batch // 2
        shared = torch.zeros(2 * half, model.n_factors, dtype=torch.bool)
        cols = [model.factor_index(f) for f in FACTOR_NAMES[:-1]]
        fac = train_set.factors
        assert fac is not None

        def batches(step: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            idx = torch.cat([sample_pairs(train_set, "digit", half, gen), sample_pairs(train_set, "color", half, gen)])
            same = fac[idx[:, 0]] == fac[idx[:, 1]]  # explicit masks: every factor the pair shares
            mask = shared.clone()
            mask[:, cols] = same
            return z_of(idx[:, 0], gen), z_of(idx[:, 1], gen), mask
    else:
        raise ValueError(f"mode must be 'pairs' or 'unsupervised', got {mode!r}")

    bar = tqdm(total=steps, desc=f"train IIN ({mode})", disable=not progress, leave=False)

    def report(step: int, total: int, loss: float) -> None:
        bar.update(1)
        if step % 50 == 0:
            bar.set_postfix(loss=f"{loss:.3f}")

    losses = train_iin(model, batches, steps, generator, lr=float(hp["lr"]), rho=float(hp.get("rho", 0.975)), progress=report)
    bar.close()
    stride = max(1, steps // 50)
    points = list(range(stride - 1, steps, stride))
    return {
        "step": [s + 1 for s in points],
        "train_loss": [round(sum(losses[max(0, s - stride + 1) : s + 1]) / len(losses[max(0, s - stride + 1) : s + 1]), 6) for s in points],
    }


#: Settings of the metrics recorded in the IIN cards. ``n_inputs`` ``None``: every test image. On
#: the first 100 ColorfulMNIST test images alone, two seeds seemed to meet the colour and residual
#: targets that the whole split misses (docs/methods/factors.md).
SENSITIVITY: dict[str, int | None] = {"n_inputs": None, "n_samples": 100, "seed": 0}
FID_SETTINGS = {"n_samples": 1000, "seed": 0}


@torch.no_grad()
def factor_iin_metrics(
    model: nn.Module,
    test_set: BaseDataset,
    first_stage: str,
    fid_classifier: str | None = None,
    directory: str | Path | None = None,
) -> dict[str, float]:
    """Metrics of an IIN on ``first_stage``'s representation of ``test_set``.

    Always: ``test_nll`` (mean exact negative log-likelihood of the test representations) and
    ``inverse_error`` (max |T⁻¹(T(z)) − z|, divided by max |z| in ``inverse_error_rel``). For a
    classifier: ``sensitivity_<factor>`` — the mean std of predicted labels when resampling that
    factor (:data:`SENSITIVITY`). With ``fid_classifier``: ``fid_iin`` and ``fid_plain``, FID-lite
    of ``D(T⁻¹(ε))`` and ``D(ε)`` against the test images (:data:`FID_SETTINGS`).
    """
    model.eval()
    first = _load_first_stage(first_stage, directory)
    z = first_stage_representation(first, test_set.images).to(next(model.parameters()).dtype)
    w = model(z)[0]
    err = float((model.reverse(w) - z).abs().max())
    out = {
        "test_nll": float(unsupervised_nll(model, z, exact=True).mean()),
        "inverse_error": err,
        "inverse_error_rel": err / float(z.abs().max()),
    }
    if isinstance(first, SmallCNN):
        split = classifier_split(first, test_set.images[:2])
        gen = torch.Generator().manual_seed(SENSITIVITY["seed"])
        table = sensitivity_table(model, z[: SENSITIVITY["n_inputs"]], split.head, SENSITIVITY["n_samples"], gen)
        out.update({f"sensitivity_{k}": v for k, v in table.items()})
    if fid_classifier is not None:
        clf = _load_first_stage(fid_classifier, directory)
        assert isinstance(first, Autoencoder)
        n = FID_SETTINGS["n_samples"]
        gen = torch.Generator().manual_seed(FID_SETTINGS["seed"])
        x_iin = sample(model, n, gen, decoder=first.decode)
        gen = torch.Generator().manual_seed(FID_SETTINGS["seed"])
        x_plain = first.decode(torch.randn(n, first.latent_dim, generator=gen))
        out["fid_iin"] = fid_lite(clf.embed, test_set.images, x_iin)
        out["fid_plain"] = fid_lite(clf.embed, test_set.images, x_plain)
    return out


def _metric(first_stage: str, fid_classifier: str | None) -> Callable[[nn.Module, BaseDataset], dict[str, float]]:
    fn = functools.partial(factor_iin_metrics, first_stage=first_stage, fid_classifier=fid_classifier)
    fn.__name__ = "factor_iin_metrics"  # type: ignore[attr-defined]
    return fn  # type: ignore[return-value]


#: Factor sizes (digit, color, residual) of the dIINs. The dimension estimate (docs/methods/factors.md, Factor dimensions;
#: :func:`estimated_sizes`) orders them (digit > color for the classifier, checked by the tests).
#: The classifier's dIIN gives the digit 10 of the 16 dimensions (the estimate gives it about a
#: third and the residual half): a classifier's features vary little within a digit, and a small
#: residual leaves less room for class information; resampling it then rarely changes the
#: prediction (the cards' ``sensitivity_residual``).
CLASSIFIER_IIN_SIZES = [10, 2, 4]
AE_IIN_SIZES = [6, 4, 6]


def _register_iins() -> None:
    for s in FACTOR_SEEDS:
        cnn = f"cnn-color-digits-s{s}"
        _register(ZooEntry(
            name=f"iin-cnn-color-digits-s{s}",
            architecture="FactorIIN",
            config={"dim": 16, "factor_sizes": CLASSIFIER_IIN_SIZES, "factor_names": list(FACTOR_NAMES), **_IIN_ARCH, "seed": s, "dtype": "float32"},
            dataset="color_digits", dataset_kwargs={},
            train_fn=train_factor_iin, metric_fn=_metric(cnn, None),
            hyperparameters={**_CLASSIFIER_IIN_HP, "first_stage": cnn, "mode": "pairs"},
            primary_metric="sensitivity_digit", seed=s,
            description=f"dIIN (digit, color, residual) on the fc features of {cnn}",
            tags=("factors",),
        ))
        ae = f"ae-color-digits-s{s}"
        _register(ZooEntry(
            name=f"uiin-ae-color-digits-s{s}",
            architecture="FactorIIN",
            config={"dim": 16, "factor_sizes": [16], "factor_names": ["residual"], **_IIN_ARCH, "seed": s, "dtype": "float32"},
            dataset="color_digits", dataset_kwargs={},
            train_fn=train_factor_iin, metric_fn=_metric(ae, cnn),
            hyperparameters={**_UIIN_HP, "first_stage": ae, "mode": "unsupervised"},
            primary_metric="fid_iin", seed=s,
            description=f"unsupervised IIN on the latent of {ae}: samples D(T⁻¹(ε))",
            tags=("factors",),
        ))
    ae0 = "ae-color-digits-s0"
    _register(ZooEntry(
        name="iin-ae-color-digits-s0",
        architecture="FactorIIN",
        config={"dim": 16, "factor_sizes": AE_IIN_SIZES, "factor_names": list(FACTOR_NAMES), **_IIN_ARCH, "seed": 0, "dtype": "float32"},
        dataset="color_digits", dataset_kwargs={},
        train_fn=train_factor_iin, metric_fn=_metric(ae0, None),
        hyperparameters={**_IIN_HP, "jitter": 0.0, "first_stage": ae0, "mode": "pairs"},
        primary_metric="test_nll", seed=0,
        description=f"dIIN (digit, color, residual) on the latent of {ae0}",
        tags=("factors",),
    ))


_register_iins()

from . import entries_mnist_factors as _mnist  # noqa: E402, F401  (the ColorfulMNIST models)


def train_factor_model(
    name: str,
    seed: int | None = None,
    progress: bool = True,
    save: bool = False,
    directory: str | Path | None = None,
    **hyperparameters: Any,
) -> tuple[nn.Module, dict[str, Any]]:
    """Retrain the IIN zoo model ``name`` (like :func:`invwidgets.zoo.train`, with an
    IIN-aware seeded initialisation) and return ``(model, card)``; ``save`` writes its files.

    The first stage is read from ``directory`` when it holds one, else from the zoo's search path
    (the shipped one unless ``INVWIDGETS_ZOO_DIR`` holds a retrained one). ``save`` writes to
    ``directory``, by default :func:`~invwidgets.zoo.user_dir` (never the package unless passed).
    """
    entry = get_entry(name)
    if entry.architecture != "FactorIIN":
        raise ValueError(f"{name} is not an IIN; train it with invwidgets.zoo.train")
    seed = entry.seed if seed is None else int(seed)
    hp = {**entry.hyperparameters, **hyperparameters}
    if directory is not None:
        hp["directory"] = str(directory)
    data = build_dataset(entry.dataset, entry.dataset_kwargs)
    train_set, test_set = data.split(test_fraction=entry.test_fraction, seed=entry.split_seed)
    generator = torch.Generator().manual_seed(seed)
    with _threads(int(hp.get("threads", 1))):
        model = init_iin(build_model(entry.architecture, dict(entry.config)), generator)  # type: ignore[arg-type]
        start = time.perf_counter()
        history = entry.train_fn(model, train_set, hp, generator, progress)
        elapsed = time.perf_counter() - start
        model.eval()
        metrics = entry.metric_fn(model, test_set) if directory is None else factor_iin_metrics(
            model, test_set, **{**entry.metric_fn.keywords, "directory": directory})  # type: ignore[attr-defined]
    hp.pop("directory", None)
    c: dict[str, Any] = {
        "name": entry.name,
        "description": entry.description,
        "format": CARD_FORMAT,
        "architecture": {"class": entry.architecture, "config": dict(entry.config)},
        "dataset": {"name": entry.dataset, "kwargs": dict(entry.dataset_kwargs),
                    "split": {"test_fraction": entry.test_fraction, "seed": entry.split_seed, "stratified": True}},
        "seed": seed,
        "training": {"function": entry.train_fn.__name__, "hyperparameters": hp, "history": history},
        "metrics": {k: float(v) for k, v in metrics.items()},
        "metric_function": "factor_iin_metrics",
        "primary_metric": entry.primary_metric,
        "train_time_s": round(elapsed, 3),
        "torch_version": torch.__version__,
    }
    if save:
        path = locations.save(model, c, directory)
        c = locations.card(name, path.parent)
    return model, c


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m invwidgets.zoo.entries_factors NAME [--seed S] [--directory D]``: retrain and save an IIN."""
    parser = argparse.ArgumentParser(prog="python -m invwidgets.zoo.entries_factors")
    parser.add_argument("name")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--directory", default=None, help="output folder (default: the user zoo folder)")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    _, c = train_factor_model(args.name, seed=args.seed, progress=not args.no_progress, save=True, directory=args.directory)
    print(json.dumps({"name": c["name"], "metrics": c["metrics"], "train_time_s": c["train_time_s"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
