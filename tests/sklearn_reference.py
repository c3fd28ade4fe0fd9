"""emviz's expanded (K, D, D) covariances in scikit-learn's storage for each covariance type."""

import numpy as np


def sklearn_precisions(covariances, covariance_type):
    """``precisions_init`` for scikit-learn from emviz's (K, D, D) covariances."""
    precisions = np.linalg.inv(covariances)
    return {
        "full": precisions,
        "diag": np.diagonal(precisions, axis1=1, axis2=2),
        "spherical": precisions[:, 0, 0],
        "tied": precisions[0],
    }[covariance_type]


def compact(covariances, covariance_type):
    """emviz's (K, D, D) covariances as scikit-learn's ``covariances_`` of the type."""
    return {
        "full": covariances,
        "diag": np.diagonal(covariances, axis1=1, axis2=2),
        "spherical": covariances[:, 0, 0],
        "tied": covariances[0],
    }[covariance_type]
