"""The zoo's models, one declarative :class:`~invwidgets.zoo.registry.ZooEntry` each.

Add new models here (or call :func:`~invwidgets.zoo.registry.register_entry` from another module),
then run ``python -m invwidgets.zoo train NAME`` to write ``weights/NAME.safetensors`` and its card.
"""

from __future__ import annotations

from .registry import ZooEntry, register_entry
from .training import classification_metrics, reconstruction_metrics, train_autoencoder, train_classifier

__all__ = ["AE_SPRITES", "CNN_DIGITS"]

AE_SPRITES = register_entry(
    ZooEntry(
        name="ae-sprites",
        architecture="ConvAutoencoder",
        config={
            "in_channels": 1,
            "image_size": 32,
            "latent_dim": 8,
            "variational": False,
            "channels": [32, 32, 32],
            "hidden": 128,
            "activation": "elu",
        },
        dataset="sprites",
        dataset_kwargs={"size": 32, "rotations": 4},
        train_fn=train_autoencoder,
        metric_fn=reconstruction_metrics,
        hyperparameters={"steps": 3000, "batch_size": 64, "lr": 2e-3, "likelihood": "bernoulli", "threads": 1},
        primary_metric="test_bce_per_pixel",
        seed=0,
        description="deterministic conv autoencoder (latent 8) on 32×32 sprites; Bernoulli loss",
    )
)

CNN_DIGITS = register_entry(
    ZooEntry(
        name="cnn-digits",
        architecture="SmallCNN",
        config={
            "in_channels": 1,
            "image_size": 8,
            "num_classes": 10,
            "channels": [16, 32],
            "hidden": 64,
            "downsample": "stride",
        },
        dataset="digits",
        dataset_kwargs={},
        train_fn=train_classifier,
        metric_fn=classification_metrics,
        hyperparameters={"epochs": 30, "batch_size": 64, "lr": 1e-3, "weight_decay": 0.0, "threads": 1},
        primary_metric="test_accuracy",
        seed=0,
        description="SmallCNN classifier on the 8×8 digits, stratified 80/20 split",
    )
)
