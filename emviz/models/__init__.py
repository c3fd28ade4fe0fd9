"""Latent-variable models, one module each, all following `emviz.models.protocol`."""

from emviz.models.gaussian_mixture import (
    COVARIANCE_TYPES,
    INIT_METHODS,
    GaussianData,
    GaussianMixture,
    GaussianParams,
    GaussianPosterior,
)
from emviz.models.protocol import LatentVariableModel, SingularParameters

MODEL_TYPES = {"GaussianMixture": GaussianMixture}


def model_from_dict(d: dict):
    """Rebuild a model from its ``to_dict()`` form."""
    settings = dict(d)
    name = settings.pop("model")
    if name not in MODEL_TYPES:
        raise ValueError(f"Unknown model type {name!r}")
    return MODEL_TYPES[name](**settings)


__all__ = [
    "COVARIANCE_TYPES",
    "INIT_METHODS",
    "GaussianData",
    "GaussianMixture",
    "GaussianParams",
    "GaussianPosterior",
    "LatentVariableModel",
    "MODEL_TYPES",
    "SingularParameters",
    "model_from_dict",
]
