"""A variant of EM beside plain EM from the same start: where each assigns the plane, and how
their runs compare."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emviz.models import GaussianMixture


def assignment_grid(params, x_range, y_range, n: int = 120):
    """Each grid point's most probable component under ``params`` (Gaussian parameters).

    Returns
    -------
    xs : ndarray of shape (n,)
    ys : ndarray of shape (n,)
    labels : ndarray of shape (n, n)  labels[i, j] at (xs[j], ys[i]); the first component on a
        tie, as k-means assigns
    """
    xs, ys = np.linspace(*x_range, n), np.linspace(*y_range, n)
    grid = np.column_stack([np.repeat(xs[None, :], n, 0).ravel(), np.repeat(ys, n)])
    # the full Gaussian formula serves every covariance type: the parameters hold full matrices
    posterior = GaussianMixture(params.n_components).e_step(grid, params)
    return xs, ys, np.argmax(posterior.log_resp, axis=1).reshape(n, n)


@dataclass(frozen=True)
class RunSummary:
    """What the comparison reports of one run."""

    name: str
    log_likelihood: float
    iterations: int
    stop_reason: str
    falls: int  # iterations after which ℓ was lower than before


def summarise(name: str, history) -> RunSummary:
    return RunSummary(
        name=name,
        log_likelihood=float(history[-1].log_likelihood),
        iterations=int(history[-1].iteration),
        stop_reason=history.stop_reason,
        falls=len(history.drops),
    )


def comparison_sentence(variant: RunSummary, plain: RunSummary, n_samples: int) -> str:
    """Which run ended higher, by how much per point, and after how many iterations."""
    gap = (variant.log_likelihood - plain.log_likelihood) / n_samples
    if abs(gap) < 1e-6:
        verdict = "both end at the same log-likelihood"
    elif gap > 0:
        verdict = f"{variant.name} ends higher, by {gap:.4f} per point"
    else:
        verdict = f"plain EM ends higher, by {-gap:.4f} per point"
    falls = (
        f" Its ℓ fell in {variant.falls} of its iterations: q is not the posterior, so EM's "
        "promise that ℓ never falls does not cover it."
        if variant.falls
        else ""
    )
    return (
        f"From the same start, {verdict}. {variant.name.capitalize()}: "
        f"{variant.iterations} iterations ({variant.stop_reason.replace('_', ' ')}); plain EM: "
        f"{plain.iterations} ({plain.stop_reason.replace('_', ' ')}).{falls}"
    )
