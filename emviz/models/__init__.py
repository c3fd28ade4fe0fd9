"""Latent-variable models, one module each, all following `emviz.models.protocol`."""

from emviz.models.gaussian_kernels import COVARIANCE_TYPES, GaussianData
from emviz.models.gaussian_mixture import (
    INIT_METHODS,
    GaussianMixture,
    GaussianParams,
    GaussianPosterior,
)
from emviz.models.hmm import GaussianHMM
from emviz.models.linkage import GeneticLinkage
from emviz.models.missing import MissingNormal
from emviz.models.ppca import ProbabilisticPCA
from emviz.models.protocol import InvalidStart, LatentVariableModel, SingularParameters
from emviz.models.spherical_means import SphericalMeansMixture
from emviz.models.symmetric import SymmetricMixture, SymmetricParams
from emviz.models.two_means import TwoMeanMixture
from emviz.models.variants import (
    VARIANTS,
    AnnealedEStep,
    MapMStep,
    OvershootingMStep,
    StochasticEStep,
    TemperedEStep,
    WeightlessEStep,
)

MODEL_TYPES = {
    "GaussianMixture": GaussianMixture,
    "TwoMeanMixture": TwoMeanMixture,
    "SymmetricMixture": SymmetricMixture,
    "SphericalMeansMixture": SphericalMeansMixture,
    "GeneticLinkage": GeneticLinkage,
    "ProbabilisticPCA": ProbabilisticPCA,
    "MissingNormal": MissingNormal,
    "GaussianHMM": GaussianHMM,
}


def model_from_dict(d: dict):
    """Rebuild a model from its ``to_dict()`` form."""
    settings = dict(d)
    name = settings.pop("model")
    if name in VARIANTS:  # a wrapper: rebuild what it wraps first
        base = model_from_dict(settings.pop("base"))
        return VARIANTS[name](base, **settings)
    if name not in MODEL_TYPES:
        raise ValueError(f"Unknown model type {name!r}")
    # JSON turns tuples into lists; the models' settings are tuples
    return MODEL_TYPES[name](
        **{k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}
    )


__all__ = [
    "COVARIANCE_TYPES",
    "INIT_METHODS",
    "GaussianData",
    "GaussianHMM",
    "GaussianMixture",
    "GaussianParams",
    "GaussianPosterior",
    "GeneticLinkage",
    "InvalidStart",
    "LatentVariableModel",
    "MODEL_TYPES",
    "AnnealedEStep",
    "MapMStep",
    "MissingNormal",
    "OvershootingMStep",
    "ProbabilisticPCA",
    "SingularParameters",
    "StochasticEStep",
    "TemperedEStep",
    "SphericalMeansMixture",
    "SymmetricMixture",
    "SymmetricParams",
    "TwoMeanMixture",
    "WeightlessEStep",
    "model_from_dict",
]
