"""A variant of EM beside plain EM from the same start: where each assigns the plane, and how
their runs compare."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

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


def hard_labels(X: np.ndarray, params) -> np.ndarray:
    """Each point's most probable component under ``params`` (Gaussian), shape (n_samples,)."""
    posterior = GaussianMixture(params.n_components).e_step(X, params)
    return np.argmax(posterior.log_resp, axis=1)


def assignment_agreement(labels_a: np.ndarray, labels_b: np.ndarray, n_components: int) -> float:
    """The share of points two hard assignments put together, after matching their
    components one to one (label switching: component 1 of one run may be 3 of the other)."""
    counts = np.zeros((n_components, n_components))
    np.add.at(counts, (labels_a, labels_b), 1)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / len(labels_a))


@dataclass(frozen=True)
class RunSummary:
    """What the comparison reports of one run."""

    name: str
    log_likelihood: float
    iterations: int
    stop_reason: str
    falls: int  # iterations after which ℓ was lower than before


def sentence_case(text: str) -> str:
    """``text`` with its first letter upper-case and the rest as it is ("EM" stays "EM")."""
    return text[:1].upper() + text[1:]


def summarise(name: str, history) -> RunSummary:
    return RunSummary(
        name=name,
        log_likelihood=float(history[-1].log_likelihood),
        iterations=int(history[-1].iteration),
        stop_reason=history.stop_reason,
        falls=len(history.drops),
    )


def agreement_of(variant_history, plain_history) -> float:
    """`assignment_agreement` of the two runs' final parameters on the data."""
    X = plain_history.X
    params_a, params_b = variant_history.final_params, plain_history.final_params
    labels_a, labels_b = hard_labels(X, params_a), hard_labels(X, params_b)
    return assignment_agreement(labels_a, labels_b, params_b.n_components)


def comparison_sentence(
    variant: RunSummary,
    plain: RunSummary,
    n_samples: int,
    agreement: float,
    *,
    same_model: bool = True,
) -> str:
    """Which run ended higher, by how much per point, after how many iterations, and how
    many points the two put in the same cluster. ``same_model`` False: the variant fits
    another model (the k-means shape), whose ℓ is not comparable with the mixture's."""
    gap = (variant.log_likelihood - plain.log_likelihood) / n_samples
    if not same_model:
        verdict = (
            f"the two fit different models ({variant.name} fixes the weights and the "
            "covariances), so their log-likelihoods are not compared"
        )
    elif abs(gap) < 5e-5:  # would print as 0.0000
        verdict = "both end at the same log-likelihood (to 0.0001 per point)"
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
        f"From the same start, {verdict}. {sentence_case(variant.name)}: "
        f"{variant.iterations} iterations ({variant.stop_reason.replace('_', ' ')}); plain EM: "
        f"{plain.iterations} ({plain.stop_reason.replace('_', ' ')}). Each point to its most "
        f"probable component, the two fits agree on {100 * agreement:.1f}% of the points "
        f"(components matched up to label switching).{falls}"
    )
