"""What the hidden labels cost: the fit with the true labels given beside EM's fit.

With the labels z_n known, the complete-data log-likelihood
    log p(X, Z | θ) = Σ_n log π_{z_n} N(x_n | μ_{z_n}, Σ_{z_n})
is maximised in one step: each weight is its group's share of the points, each mean and
covariance its group's sample moments (an M-step with one-hot responsibilities). EM never sees
the labels; it maximises ℓ = log p(X | θ). Scored on the true labels, EM's θ (its components
matched to the groups, up to label switching) can only do worse: the gap is what not knowing
the labels costs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from emviz.models.gaussian_mixture import GaussianMixture, GaussianParams, GaussianPosterior


def _one_hot(labels, n_components: int) -> np.ndarray:
    """(n_components, N): 1 where point n belongs to group k."""
    labels = np.asarray(labels)
    return (np.arange(n_components)[:, None] == labels[None, :]).astype(np.float64)


def labelled_fit(X, labels, covariance_type: str = "full") -> GaussianParams:
    """Maximum likelihood with the labels known: the M-step of one-hot responsibilities.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    labels : ndarray of shape (n_samples,), ints in range(K), every group non-empty
    covariance_type : {'full', 'diag', 'spherical', 'tied'}

    Raises
    ------
    SingularParameters
        When a group is too small or too flat for its covariance.
    """
    n_components = int(np.max(labels)) + 1
    resp_t = _one_hot(labels, n_components)
    with np.errstate(divide="ignore"):  # log 0 = −inf: the M-step reads resp only
        one_hot = GaussianPosterior(log_resp_t=np.log(resp_t), resp_t=resp_t)
    return GaussianMixture(n_components, covariance_type).m_step(X, one_hot)


def _log_joint(X, params: GaussianParams) -> np.ndarray:
    """log π_k N(x_n | μ_k, Σ_k), shape (N, K)."""
    return GaussianMixture(params.n_components).e_step(X, params).log_joint


def complete_log_likelihood(X, labels, params: GaussianParams) -> float:
    """log p(X, Z | θ) = Σ_n log π_{z_n} N(x_n | μ_{z_n}, Σ_{z_n})."""
    log_joint = _log_joint(X, params)
    return float(log_joint[np.arange(len(log_joint)), np.asarray(labels)].sum())


def match_components(X, labels, params: GaussianParams) -> np.ndarray:
    """The component of ``params`` for each true group, ``order[g]``: the one-to-one matching
    (label switching undone) under which the complete-data log-likelihood is largest."""
    log_joint = _log_joint(X, params)
    n_components = params.n_components
    # score[g, k] = Σ_{n in group g} log π_k N(x_n | θ_k)
    score = _one_hot(labels, n_components) @ log_joint
    groups, components = linear_sum_assignment(score, maximize=True)
    return components[np.argsort(groups)]


def permuted(params: GaussianParams, order) -> GaussianParams:
    """``params`` with component ``order[g]`` moved to position g."""
    order = np.asarray(order)
    return GaussianParams(params.weights[order], params.means[order], params.covariances[order])


@dataclass(frozen=True)
class KnownLabelsComparison:
    """The labelled fit and EM's fit (components matched to the groups), both scored.

    Attributes
    ----------
    labelled, em : GaussianParams
        Component g of each is group g's.
    labelled_log_likelihood, em_log_likelihood : float
        ℓ = log p(X | θ), what EM maximises.
    labelled_complete, em_complete : float
        log p(X, Z | θ) with the true labels Z, what the labelled fit maximises.
    agreement : float
        Share of the points whose most responsible EM component is their own group's.
    """

    labelled: GaussianParams
    em: GaussianParams
    labelled_log_likelihood: float
    em_log_likelihood: float
    labelled_complete: float
    em_complete: float
    agreement: float

    @property
    def hidden_label_cost(self) -> float:
        """log p(X, Z | θ_labelled) − log p(X, Z | θ_EM) ≥ 0."""
        return self.labelled_complete - self.em_complete


def compare_with_labels(X, labels, em_params: GaussianParams, covariance_type: str):
    """The labelled fit of ``X`` beside EM's ``em_params``, each scored both ways."""
    labels = np.asarray(labels)
    labelled = labelled_fit(X, labels, covariance_type)
    em = permuted(em_params, match_components(X, labels, em_params))
    model = GaussianMixture(labelled.n_components, covariance_type)
    return KnownLabelsComparison(
        labelled=labelled,
        em=em,
        labelled_log_likelihood=model.log_likelihood(X, labelled),
        em_log_likelihood=model.log_likelihood(X, em),
        labelled_complete=complete_log_likelihood(X, labels, labelled),
        em_complete=complete_log_likelihood(X, labels, em),
        agreement=float(np.mean(np.argmax(_log_joint(X, em), axis=1) == labels)),
    )
