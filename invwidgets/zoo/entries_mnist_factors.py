"""Zoo models of the factors (IIN) method on ColorfulMNIST at 28×28, Esser, Rombach & Ommer's protocol.

The data are the 5,000 real MNIST digits of the offline sample, each multiplied by an RGB colour
from U[0, 1]³ (:func:`~invwidgets.data.colorful`); the zoo's stratified split (seed 0) holds the
same 4,000 training and 1,000 test digits as the MNIST models. Training never reuses a colour:
every batch colours its grayscale digits afresh (``recolor="fresh"``), and the IINs are trained
on fresh pairs (:func:`~invwidgets.data.colorful_pairs`: half share the digit, each image with
its own new colour, half share one new colour on two digits).

First stage:

* ``cnn-colorful-mnist-s{0,1,2}``: a :class:`~invwidgets.models.SmallCNN` (16-d penultimate
  layer, ELU, each input divided by its maximum first); its representation is the output of
  ``fc`` (before the ELU), the head ``logits(elu(z))``;
* ``ae-colorful-mnist-s0``: a conv VAE (latent 16, Bernoulli likelihood, β = 0.1, 8000 steps).

IINs:

* ``iin-cnn-colorful-mnist-s{k}``: a dIIN (digit, color, residual) on the classifier of seed k,
  factor sizes :data:`MNIST_CLASSIFIER_IIN_SIZES`, features dequantised with Gaussian noise of 0.3
  within-digit standard deviations. The dimension estimate
  (:func:`~invwidgets.zoo.entries_factors.estimated_sizes`) gives every seed
  :data:`MNIST_ESTIMATED_SIZES`; with those sizes resampling the residual moved the classifier's
  prediction about twice as much as the target allows (docs/methods/factors.md has the numbers),
  so the digit gets 10 dimensions and the residual 4;
* ``iin-ae-colorful-mnist-s0``: the same on the autoencoder's latent (swaps decoded to images);
* ``uiin-ae-colorful-mnist-s0``: the unsupervised IIN on that latent; its card records the
  FID-lite of ``D(T⁻¹(ε))`` and of plain decoding ``D(ε)``.

Retrain: ``python -m invwidgets.zoo train cnn-colorful-mnist-s0`` (first stage) and
``python -m invwidgets.zoo.entries_factors iin-cnn-colorful-mnist-s0`` (IINs).
"""

from __future__ import annotations

from invwidgets.data import Dataset, colorful

from .entries_factors import FACTOR_NAMES, _metric, train_factor_iin
from .entries_mnist_invariances import mnist_file_order
from .registry import DATASETS, ENTRIES, ZooEntry, register_dataset, register_entry
from .training import classification_metrics, reconstruction_metrics, train_autoencoder, train_classifier

__all__ = [
    "MNIST_AE_IIN_SIZES",
    "MNIST_CLASSIFIER_IIN_SIZES",
    "MNIST_ESTIMATED_SIZES",
    "MNIST_FACTOR_SEEDS",
    "colorful_mnist_file_order",
    "colorful_mnist_splits",
]

MNIST_FACTOR_SEEDS = (0, 1, 2)
#: The dimension estimate (digit, color, residual) of every seed's ``fc`` features (the tests recompute it).
MNIST_ESTIMATED_SIZES = [5, 2, 9]
#: Factor sizes of the classifier dIINs: a larger digit factor than the estimate (see above).
MNIST_CLASSIFIER_IIN_SIZES = [10, 2, 4]
#: Factor sizes of the autoencoder dIIN: the dimension estimate of its latent.
MNIST_AE_IIN_SIZES = [4, 3, 9]

_CNN_CONFIG = {"in_channels": 3, "image_size": 28, "num_classes": 10, "channels": [16, 32], "hidden": 16, "downsample": "stride",
               "activation": "elu", "normalize": True}
_AE_CONFIG = {"in_channels": 3, "image_size": 28, "latent_dim": 16, "variational": True, "channels": [16, 32],
              "hidden": 128, "activation": "relu"}
_CNN_HP = {"epochs": 10, "batch_size": 64, "lr": 1e-3, "weight_decay": 0.0, "label_smoothing": 0.2,
           "recolor": "fresh", "threads": 1}
_AE_HP = {"steps": 8000, "batch_size": 64, "lr": 1e-3, "beta": 0.1, "likelihood": "bernoulli", "recolor": "fresh", "threads": 1}
_IIN_ARCH = {"n_blocks": 4, "hidden": 64, "depth": 1}
_IIN_HP = {"steps": 2000, "batch_size": 256, "lr": 1e-3, "rho": 0.975, "mode": "colorful", "threads": 1}


def colorful_mnist_file_order() -> Dataset:
    """ColorfulMNIST of the zoo: :func:`~invwidgets.data.colorful` (seed 0, two digits per colour
    draw) of the MNIST sample in file order; split ``(0.2, seed=0)`` like the MNIST models."""
    out = colorful(mnist_file_order(), seed=0)
    out.name = "colorful_mnist"
    return out


def colorful_mnist_splits() -> tuple[Dataset, Dataset]:
    """``(train, test)`` of the ColorfulMNIST zoo models (4,000 and 1,000 coloured digits)."""
    return colorful_mnist_file_order().split(test_fraction=0.2, seed=0)


def _register(entry: ZooEntry) -> None:
    if entry.name not in ENTRIES:  # running entries_factors as a script imports it twice
        register_entry(entry)


def _iin_config(sizes: list[int], seed: int, names: list[str] | None = None) -> dict:
    return {"dim": 16, "factor_sizes": sizes, "factor_names": names or list(FACTOR_NAMES), **_IIN_ARCH,
            "seed": seed, "dtype": "float32"}


def _register_all() -> None:
    if "colorful_mnist" not in DATASETS:
        register_dataset("colorful_mnist", colorful_mnist_file_order)
    common = {"dataset": "colorful_mnist", "dataset_kwargs": {}, "tags": ("factors",)}
    ae = "ae-colorful-mnist-s0"
    _register(ZooEntry(
        name=ae, architecture="ConvAutoencoder", config=_AE_CONFIG, train_fn=train_autoencoder,
        metric_fn=reconstruction_metrics, hyperparameters=_AE_HP, primary_metric="test_bce_per_pixel", seed=0,
        description="conv VAE (latent 16, β = 0.1) on ColorfulMNIST 3×28×28: first stage of the IINs", **common,
    ))
    for s in MNIST_FACTOR_SEEDS:
        cnn = f"cnn-colorful-mnist-s{s}"
        _register(ZooEntry(
            name=cnn, architecture="SmallCNN", config=_CNN_CONFIG, train_fn=train_classifier,
            metric_fn=classification_metrics, hyperparameters=_CNN_HP, primary_metric="test_accuracy", seed=s,
            description="SmallCNN (16-d feature) on ColorfulMNIST, fresh colours every batch: first stage of the IINs",
            **common,
        ))
        _register(ZooEntry(
            name=f"iin-cnn-colorful-mnist-s{s}", architecture="FactorIIN", config=_iin_config(MNIST_CLASSIFIER_IIN_SIZES, s),
            train_fn=train_factor_iin, metric_fn=_metric(cnn, None),
            hyperparameters={**_IIN_HP, "jitter": 0.3, "jitter_scale": "within_class", "first_stage": cnn},
            primary_metric="sensitivity_digit", seed=s,
            description=f"dIIN (digit, color, residual) on the fc features of {cnn}, fresh ColorfulMNIST pairs", **common,
        ))
    _register(ZooEntry(
        name="iin-ae-colorful-mnist-s0", architecture="FactorIIN", config=_iin_config(MNIST_AE_IIN_SIZES, 0),
        train_fn=train_factor_iin, metric_fn=_metric(ae, None),
        hyperparameters={**_IIN_HP, "jitter": 0.0, "first_stage": ae}, primary_metric="test_nll", seed=0,
        description=f"dIIN (digit, color, residual) on the latent of {ae}, fresh ColorfulMNIST pairs", **common,
    ))
    _register(ZooEntry(
        name="uiin-ae-colorful-mnist-s0", architecture="FactorIIN", config=_iin_config([16], 0, ["residual"]),
        train_fn=train_factor_iin, metric_fn=_metric(ae, "cnn-colorful-mnist-s0"),
        hyperparameters={**_IIN_HP, "mode": "unsupervised", "first_stage": ae}, primary_metric="fid_iin", seed=0,
        description=f"unsupervised IIN on the latent of {ae}: samples D(T⁻¹(ε))", **common,
    ))


_register_all()
