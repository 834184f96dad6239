"""Plain ``torch.nn.Module``s: autoencoders (AE/VAE), small classifiers and loss helpers.

An autoencoder is anything with ``encode(x)`` and ``decode(z)``; a classifier is any module whose
layers are named by module path. Methods and explorers call a user's model through one adapter
(:func:`as_autoencoder`, :func:`as_classifier`): device, dtype, which output to use, and clear
errors. Nothing here draws widgets or plots.
"""

from .adapter import (
    AutoencoderAdapter,
    ClassifierAdapter,
    ModelAdapter,
    as_autoencoder,
    as_classifier,
    as_model,
    module_device,
    module_dtype,
    to_images,
    unwrap,
)
from .autoencoders import (
    Autoencoder,
    AutoencoderOutput,
    ConvAutoencoder,
    MLPAutoencoder,
    SpatialBroadcastDecoder,
    reparameterize,
)
from .baseline import TrunkClassifier
from .classifiers import SmallCNN
from .init import init_parameters
from .losses import autoencoder_loss, bernoulli_nll, gaussian_kl, squared_error, total_correlation
from .pixelcnn import GatedPixelCNN, InversionSet, to_levels
from .svae import SupervisedVAE, SVAEOutput, svae_loss, train_svae

__all__ = [
    "AutoencoderAdapter",
    "ClassifierAdapter",
    "ModelAdapter",
    "as_autoencoder",
    "as_classifier",
    "as_model",
    "module_device",
    "module_dtype",
    "to_images",
    "unwrap",
    "Autoencoder",
    "AutoencoderOutput",
    "ConvAutoencoder",
    "MLPAutoencoder",
    "SpatialBroadcastDecoder",
    "SmallCNN",
    "autoencoder_loss",
    "bernoulli_nll",
    "gaussian_kl",
    "init_parameters",
    "reparameterize",
    "squared_error",
    "total_correlation",
]
__all__ += ["SupervisedVAE", "SVAEOutput", "TrunkClassifier", "svae_loss", "train_svae"]
__all__ += ["GatedPixelCNN", "InversionSet", "to_levels"]
from .iin import ActNorm, AffineCoupling, DoubleAffineCoupling, FactorIIN, FlowBlock, InvertibleFlow, Shuffle  # noqa: E402

__all__ += ["ActNorm", "AffineCoupling", "DoubleAffineCoupling", "FactorIIN", "FlowBlock", "InvertibleFlow", "Shuffle"]
