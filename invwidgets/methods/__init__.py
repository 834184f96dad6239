from .attribution import (
    AttributionStats,
    attribute,
    attribution_stats,
    composed_classifier,
    integrated_gradients,
)
from .disentanglement import DCIResult, MIGResult, dci, mig
from .factors import (  # IIN losses, edits, sensitivity, factor dimensions
    SequentialSplit,
    estimate_factor_dims,
    factor_scores,
    factor_sensitivity,
    interpolate_factor,
    interpolate_latent,
    log_likelihood,
    pair_log_likelihood,
    pair_nll,
    resample_factor,
    sample,
    sensitivity_table,
    swap_factors,
    train_iin,
    unsupervised_nll,
)
from .fid import fid_lite, frechet_distance
from .invariances import (  # supervised-VAE invariances
    InvariantSamples,
    aggregate_posterior,
    invariance_rates,
    invariant_samples,
    nuisance_interpolation,
    nuisance_pixel_map,
    nuisance_traversal,
    sample_class,
    sample_nuisance,
)
from .inversion import (  # inversion models and mutual information
    CheckpointMI,
    LayerMI,
    MIEstimate,
    build_inversion_set,
    entropy_map,
    fit_inversions,
    head_accuracy,
    inversion_preset,
    layer_features,
    mi_over_checkpoints,
    mutual_information,
    run_fits,
    sample_inversion,
)
from .inversion_diagnostics import MIFlag, diagnose, fano_lower_bound
from .layers import INPUT, layer_output, layer_outputs, layer_shapes, list_layers, resolve_layer
from .pairs import PairSource, SketchRenderer
from .response_maps import ResponseMap, posterior_histogram, response_map, response_maps
from .responses import (  # latent responses
    ConditionedResponses,
    causal_disentanglement_score,
    conditioned_response_matrix,
    degenerate_reason,
    intervene,
    intervention_values,
    latent_std,
    pool_columns,
    rescale,
    response,
    response_matrix,
    response_matrix_loop,
    sample_prior,
)
from .training import train_autoencoder, train_classifier  # public training loops
