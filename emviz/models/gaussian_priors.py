"""The conjugate prior of the Gaussian mixture, its log density and its MAP M-step (MAP-EM).

The prior (Fraley & Raftery 2007, "Bayesian regularization for normal mixture estimation and
model-based clustering", J. Classification 24; Murphy, MLPP §11.4.2.8), its strength given by
three pseudo-counts w, κ, n0 (`emviz.models.protocol.PriorCounts`):

- weights: π ~ Dirichlet(α, …, α) with α = 1 + w ≥ 1;
- covariances: each precision Λ_k = Σ_k⁻¹ ~ Wishart(ν, Ψ⁻¹), that is Σ_k ~ inverse-Wishart(ν, Ψ),
  with ν = D + 1 + n0 and Ψ = n0 Σ0 — n0 pseudo-points whose covariance is Σ0. A diagonal
  covariance has one such prior per variance (the one-dimensional Wishart: a Gamma on the
  precision, an inverse-gamma on the variance), a spherical one a single Gamma on its one
  precision with n0 D pseudo-coordinates, a tied one a single Wishart for all K components
  with K n0 pseudo-points;
- means: μ_k | Σ_k ~ N(m0, Σ_k / κ) — κ pseudo-points at m0 (with the Wishart: the
  Normal-inverse-Wishart prior).

The scales come from the data: m0 is the data's mean and Σ0 the data's covariance divided by
K^(2/D) (Fraley & Raftery's choice: K components share the data's volume), projected onto the
covariance family (its diagonal for 'diag', its average variance for 'spherical').

Coordinates. A density, and with it the point where it is largest, depends on the coordinates
it is written in. ``gaussian_log_prior`` is the density of θ' = (π_1 … π_{K−1}, u_k, Λ_k) with
u_k = √κ L_k⁻¹(μ_k − m0) (Σ_k = L_k L_kᵀ) the whitened offset of each mean: under the prior u_k
is N(0, I), independent of Λ_k, and Λ_k is Wishart. Each factor is a normalised density (the
Dirichlet one over the K − 1 free weights, as ``scipy.stats.dirichlet``), so ℓ(θ) + log p(θ) is
the log posterior density of θ' up to the log evidence log p(X), which does not depend on θ.
These are the coordinates in which the pseudo-counts can go to 0 while the prior stays a proper
distribution, so that a vanishing strength is plain EM: written in Σ-coordinates the
inverse-Wishart's density ∝ |Σ|^(−(ν+D+1)/2) needs ν > D − 1 and so adds more than 2D
pseudo-points to every M-step's denominator, however small Ψ. The two densities differ by the
Jacobian of Σ ↦ Σ⁻¹: log Wishart(Λ) = log inverse-Wishart(Σ) + (D + 1) log|Σ| (for a variance,
log Gamma(1/σ²) = log inverse-gamma(σ²) + 2 log σ²).

The MAP M-step (derivation for one component with full covariance; m0 = 0 because every
formula works on centred data). The terms of Q(θ) + log p(θ) holding μ and Λ are

    (N_k + n0)/2 · log|Λ| − ½ tr(Λ [n0 Σ0 + Σ_n r_nk (x_n − μ)(x_n − μ)ᵀ + κ μ μᵀ]),

since N(x | μ, Σ) brings ½ log|Λ| per point, the Wishart (ν − D − 1)/2 = n0/2 and u_k's normal
density none. With x̄_k and S_k the weighted mean and scatter,
Σ_n r_nk (x_n − μ)(x_n − μ)ᵀ = N_k S_k + N_k (x̄_k − μ)(x̄_k − μ)ᵀ (the parallel-axis identity),
and completing the square, N_k (x̄_k − μ)(…)ᵀ + κ μ μᵀ is smallest at
μ_k = N_k x̄_k / (N_k + κ), where it equals N_k κ / (N_k + κ) · x̄_k x̄_kᵀ. Setting the derivative
in Λ to 0, (N_k + n0) Λ⁻¹ = B_k, so

    Σ_k = B_k / (N_k + n0),    B_k = n0 Σ0 + N_k S_k + N_k κ / (N_k + κ) · x̄_k x̄_kᵀ:

a pseudo-count average of the prior's Σ0 and the data's scatter. For the other families the same
steps give the diagonal of B_k / (N_k + n0) ('diag'), its average variance ('spherical') and
Σ_k B_k / (N + K n0) ('tied'): the maximum-likelihood estimators of
`emviz.models.gaussian_kernels` applied to the effective scatter B_k / (N_k + n0) with effective
counts N_k + n0. The weights maximise Σ_k (N_k + α − 1) log π_k on the simplex, so
π_k = (N_k + w) / (N + K w); with α < 1 a component with N_k < 1 − α would be pushed to π_k = 0,
the boundary, where the density is infinite: hence w ≥ 0.

With every pseudo-count → 0 the estimates are plain EM's; a component that lost its points
(N_k = 0) keeps μ_k = m0, Σ_k = Σ0 and π_k = w / (N + K w) instead of stopping the run.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, multigammaln, xlogy

from emviz.models.gaussian_kernels import (
    _COVARIANCE_ESTIMATORS,
    LOG_2PI,
    SINGULAR_RTOL,
    GaussianData,
    _cholesky_factors,
    _inverse_cholesky,
)
from emviz.models.protocol import InvalidStart, PriorCounts

LOG_2 = float(np.log(2.0))


def prior_covariance(data: GaussianData, n_components: int, covariance_type: str) -> np.ndarray:
    """Σ0: the data's covariance / K^(2/D), projected onto the covariance family, (D, D).

    Raises
    ------
    InvalidStart
        When the data do not spread in every direction the family needs (Σ0 singular).
    """
    n_features = data.covariance.shape[0]
    shared = data.covariance / n_components ** (2.0 / n_features)
    family = _COVARIANCE_ESTIMATORS[covariance_type](shared[None], np.ones(1), 0.0)[0]
    if not np.linalg.eigvalsh(family)[0] > SINGULAR_RTOL * data.scale:
        raise InvalidStart(
            "The prior's covariance is the data's covariance, and these points do not spread "
            "in every direction (they lie on a line or plane): MAP-EM needs data that do."
        )
    return family


def map_parameters(
    nk: np.ndarray,
    means: np.ndarray,
    scatter: np.ndarray,
    counts: PriorCounts,
    prior_cov: np.ndarray,
    covariance_type: str,
    reg_covar: float = 0.0,
):
    """The maximiser of Q + log p(θ) from the weighted statistics (see the module docstring).

    Parameters
    ----------
    nk : ndarray of shape (n_components,)
        N_k = Σ_n r_nk.
    means, scatter : ndarray of shape (n_components, n_features) and (…, n_features)
        x̄_k and S_k of the centred data (any value where N_k = 0: they are weighted by N_k).
    counts : PriorCounts
    prior_cov : ndarray of shape (n_features, n_features)
        Σ0 (`prior_covariance`).
    covariance_type : {'full', 'diag', 'spherical', 'tied'}
    reg_covar : float
        Added to every variance afterwards, as in the maximum-likelihood M-step.

    Returns
    -------
    weights, means (centred), covariances : ndarrays of shapes (K,), (K, D), (K, D, D)
    """
    kappa, n0, w = counts.means, counts.covariances, counts.weights
    # B_k = n0 Σ0 + N_k S_k + N_k κ / (N_k + κ) · x̄_k x̄_kᵀ   (m0 = 0 on centred data)
    shrinkage = nk * kappa / (nk + kappa)
    outer = means[:, :, None] * means[:, None, :]
    b = n0 * prior_cov + nk[:, None, None] * scatter + shrinkage[:, None, None] * outer
    effective = nk + n0
    estimator = _COVARIANCE_ESTIMATORS[covariance_type]
    covariances = estimator(b / effective[:, None, None], effective, reg_covar)
    map_means = (nk / (nk + kappa))[:, None] * means  # (N_k x̄_k + κ m0) / (N_k + κ)
    weights = (nk + w) / (nk.sum() + len(nk) * w)  # (N_k + α − 1) / (N + K(α − 1))
    return weights, map_means, covariances


def gaussian_log_prior(
    covariance_type: str,
    weights: np.ndarray,
    means: np.ndarray,
    covariances: np.ndarray,
    counts: PriorCounts,
    prior_cov: np.ndarray,
) -> float:
    """log p(θ) with every normalising constant, in the coordinates of the module docstring.

    Parameters
    ----------
    covariance_type : {'full', 'diag', 'spherical', 'tied'}
    weights, means, covariances : the parameters, means centred (m0 = 0), shapes (K,), (K, D),
        (K, D, D)
    counts : PriorCounts
    prior_cov : ndarray of shape (n_features, n_features)
        Σ0.
    """
    n_components, n_features = means.shape
    alpha = 1.0 + counts.weights
    # Dirichlet: log Γ(Kα) − K log Γ(α) + Σ_k (α − 1) log π_k   (xlogy: 0 · log 0 = 0 at α = 1)
    log_dirichlet = (
        gammaln(n_components * alpha)
        - n_components * gammaln(alpha)
        + xlogy(alpha - 1.0, weights).sum()
    )
    # u_k ~ N(0, I):  −D/2 log 2π − ½ uᵀu,  uᵀu = κ (μ − m0)ᵀ Σ⁻¹ (μ − m0)
    inv_chol = _inverse_cholesky(_cholesky_factors(covariances))
    whitened = np.einsum("kij,kj->ki", inv_chol, means)  # L⁻¹ μ, so |L⁻¹ μ|² = μᵀ Σ⁻¹ μ
    log_means = -0.5 * (
        n_components * n_features * LOG_2PI
        + counts.means * np.einsum("ki,ki->", whitened, whitened)
    )
    blocks, dof, scale = _PRECISION_PRIORS[covariance_type](
        covariances, prior_cov, counts.covariances
    )
    return float(log_dirichlet + log_means + _log_wishart(blocks, dof, scale))


def _log_wishart(covariances: np.ndarray, dof: float, scale: np.ndarray) -> float:
    """Σ over blocks of log Wishart(Σ⁻¹ | ν = dof, V = scale⁻¹), the density of the precision.

    log W(Λ | ν, V) = (ν − m − 1)/2 log|Λ| − ½ tr(V⁻¹ Λ) − νm/2 log 2 − ν/2 log|V| − log Γ_m(ν/2),
    here with V⁻¹ = Ψ = ``scale`` and Λ = Σ⁻¹ (Bishop PRML eq. B.78).

    Parameters
    ----------
    covariances : ndarray of shape (n_blocks, m, m)
    dof : float
    scale : ndarray of shape (n_blocks, m, m) or (m, m)
    """
    m = covariances.shape[-1]
    inv_chol = _inverse_cholesky(_cholesky_factors(covariances))
    precisions = np.swapaxes(inv_chol, 1, 2) @ inv_chol  # Σ⁻¹ = L⁻ᵀ L⁻¹
    log_det_precision = 2.0 * np.log(np.diagonal(inv_chol, axis1=1, axis2=2)).sum(axis=1)
    trace = np.einsum("...ij,...ji->...", scale, precisions)
    log_det_scale = np.linalg.slogdet(scale)[1]
    per_block = 0.5 * (
        (dof - m - 1) * log_det_precision - trace - dof * m * LOG_2 + dof * log_det_scale
    ) - multigammaln(0.5 * dof, m)
    return float(np.sum(per_block))


# ---- the prior on each covariance family, as Wishart blocks for `_log_wishart` ----
# Each takes covariances (K, D, D), Σ0 (D, D) and n0, and returns (blocks (n, m, m), ν, Ψ) with
# ν − m − 1 = the pseudo-count the block's variances get in the M-step.


def _precision_prior_full(covariances, prior_cov, n0):
    n_features = prior_cov.shape[0]
    return covariances, n_features + 1 + n0, n0 * prior_cov


def _precision_prior_tied(covariances, prior_cov, n0):
    # one precision for all K components, with the K components' pseudo-points
    n_components, n_features = covariances.shape[:2]
    pooled = n_components * n0
    return covariances[:1], n_features + 1 + pooled, pooled * prior_cov


def _precision_prior_diag(covariances, prior_cov, n0):
    # every variance its own Gamma(1 + n0/2, rate n0 σ0²_d / 2): the 1-D Wishart with ν = 2 + n0
    variances = np.diagonal(covariances, axis1=1, axis2=2).reshape(-1, 1, 1)
    prior_variances = np.diagonal(prior_cov)[None, :].repeat(len(covariances), axis=0)
    return variances, 2.0 + n0, n0 * prior_variances.reshape(-1, 1, 1)


def _precision_prior_spherical(covariances, prior_cov, n0):
    # one variance for D coordinates: Gamma(1 + n0 D/2, rate n0 tr Σ0 / 2), the 1-D Wishart
    # with ν = 2 + n0 D and Ψ = n0 tr Σ0 (n0 pseudo-points, each with D coordinates)
    n_features = prior_cov.shape[0]
    variances = covariances[:, :1, :1]
    return variances, 2.0 + n0 * n_features, n0 * np.trace(prior_cov) * np.ones((1, 1))


_PRECISION_PRIORS = {
    "full": _precision_prior_full,
    "diag": _precision_prior_diag,
    "spherical": _precision_prior_spherical,
    "tied": _precision_prior_tied,
}
