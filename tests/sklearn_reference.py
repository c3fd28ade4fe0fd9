"""emviz's expanded (K, D, D) covariances in scikit-learn's storage for each covariance type."""

import numpy as np


def compact(matrices, covariance_type):
    """emviz's (K, D, D) covariances (or precisions) as scikit-learn stores them for the type."""
    return {
        "full": matrices,
        "diag": np.diagonal(matrices, axis1=1, axis2=2),
        "spherical": matrices[:, 0, 0],
        "tied": matrices[0],
    }[covariance_type]


def sklearn_precisions(covariances, covariance_type):
    """``precisions_init`` for scikit-learn from emviz's (K, D, D) covariances (in the type's
    family, so the inverse keeps its shape: diagonal, a multiple of I, or the same for all)."""
    return compact(np.linalg.inv(covariances), covariance_type)
