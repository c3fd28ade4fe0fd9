"""Numeric kernels of the Gaussian mixture: pure functions over arrays.

The model API (`GaussianParams`, `GaussianPosterior`, `GaussianMixture`) lives in
`emviz.models.gaussian_mixture`; this module holds the E-step and M-step arithmetic it calls,
as scikit-learn keeps ``_estimate_log_gaussian_prob`` and the covariance estimators apart
from its estimator classes.

Arrays follow scikit-learn's vocabulary: ``n_samples`` (N), ``n_components`` (K),
``n_features`` (D), ``resp`` and ``log_resp`` of shape (N, K), ``nk`` of shape (K,).
Internally the (K, N) transposes are used because every per-component reduction then runs
over contiguous memory.

Speed: for D <= 3 a Gaussian's quadratic form is linear in the features
φ(x) = (x_i x_j for i <= j, x_i, 1), so all K log-densities are one matrix product with a
(F, N) design matrix built once per data set, and the M-step's weighted moments are one more.
Expanding the quadratic cancels digits when |x|² ||Σ⁻¹|| is large (a nearly collapsed
component); both steps check a rounding bound and fall back to the exact centred formulas.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations_with_replacement

import numpy as np

from emviz.models.protocol import InvalidStart, SingularParameters

LOG_2PI = float(np.log(2.0 * np.pi))
EPS = float(np.finfo(np.float64).eps)
# Largest rounding error (in nats per point) tolerated from the expanded quadratic forms.
_EXPANSION_ERROR_BUDGET = 1e-11
# A covariance whose smallest eigenvalue is below this fraction of the data's average
# variance is treated as collapsed: the likelihood there is numerically unbounded.
SINGULAR_RTOL = 1e-12
COVARIANCE_TYPES = ("full", "diag", "spherical", "tied")
_FAST_MAX_FEATURES = 3
_BLOCK = 16_384  # samples per block in the E-step (a block's arrays fit in L2 cache for K <= 8)


@dataclass(frozen=True, eq=False)
class GaussianData:
    """Data prepared once per run.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        The data as given.
    offset : ndarray of shape (n_features,)
        The data mean; every formula works on ``centred = X - offset`` so that data far from
        the origin (say around 1e6) loses no digits in moment formulas.
    centred : ndarray of shape (n_samples, n_features)
    features : ndarray of shape (n_quadratic_features, n_samples) or None
        Rows x_i x_j (i <= j), x_i, 1 of the centred data; None when D is large.
    max_sq_norm : float
        max_n |centred_n|², used to bound the rounding of the expanded quadratic.
    scale : float
        Average per-feature variance of the data, the yardstick for "collapsed".
    covariance : ndarray of shape (n_features, n_features)
        The data's covariance (1/N), which every initialisation starts from.
    """

    X: np.ndarray
    offset: np.ndarray
    centred: np.ndarray
    features: np.ndarray | None
    max_sq_norm: float
    scale: float
    covariance: np.ndarray

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]


def prepare_gaussian_data(X) -> GaussianData:
    """Validate ``X`` and precompute what every iteration reuses.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or (n_samples,), or GaussianData
        Returned unchanged when already prepared.

    Returns
    -------
    GaussianData

    Raises
    ------
    ValueError
        When ``X`` is not a non-empty 2-D array of finite numbers.
    """
    if isinstance(X, GaussianData):
        return X
    X = np.array(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[0] < 1:
        raise ValueError(f"X must have shape (n_samples, n_features), got {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or infinite values")
    X.setflags(write=False)
    offset = X.mean(axis=0)
    centred = X - offset
    centred.setflags(write=False)
    features = _quadratic_features(centred) if X.shape[1] <= _FAST_MAX_FEATURES else None
    scale = float(centred.var(axis=0).mean())
    covariance = np.atleast_2d(np.cov(centred.T, bias=True))
    covariance.setflags(write=False)
    return GaussianData(
        X=X,
        offset=offset,
        centred=centred,
        features=features,
        max_sq_norm=float(np.einsum("nd,nd->n", centred, centred).max()),
        scale=scale if scale > 0 else 1.0,
        covariance=covariance,
    )


def _feature_pairs(n_features: int) -> list[tuple[int, int]]:
    """Index pairs (i, j), i <= j, of the quadratic features, in their row order."""
    return list(combinations_with_replacement(range(n_features), 2))


def _quadratic_features(centred: np.ndarray) -> np.ndarray:
    """Design matrix φ of the centred data.

    Parameters
    ----------
    centred : ndarray of shape (n_samples, n_features)

    Returns
    -------
    ndarray of shape (n_quadratic_features, n_samples)
        Rows x_i x_j (i <= j), then x_i, then 1; read-only.
    """
    n_samples, n_features = centred.shape
    pairs = _feature_pairs(n_features)
    features = np.empty((len(pairs) + n_features + 1, n_samples))
    for row, (i, j) in enumerate(pairs):
        np.multiply(centred[:, i], centred[:, j], out=features[row])
    features[len(pairs) : len(pairs) + n_features] = centred.T
    features[-1] = 1.0
    features.setflags(write=False)
    return features


# ---- E-step ----


def _cholesky_factors(covariances: np.ndarray) -> np.ndarray:
    """Lower Cholesky factors L_k with Σ_k = L_k L_kᵀ.

    Parameters
    ----------
    covariances : ndarray of shape (n_components, n_features, n_features)

    Returns
    -------
    ndarray of shape (n_components, n_features, n_features)

    Raises
    ------
    SingularParameters
        Naming the first component whose covariance is not positive definite.
    """
    try:
        return np.linalg.cholesky(covariances)
    except np.linalg.LinAlgError as error:
        bad = _first_non_pd(covariances)
        raise SingularParameters(
            f"Component {bad + 1}'s covariance is not positive definite, so its density is "
            "undefined.",
            component=bad,
        ) from error


def _first_non_pd(covariances: np.ndarray) -> int:
    """Index of the first covariance (K, D, D) without a Cholesky factor (0 if none)."""
    for k, covariance in enumerate(covariances):
        try:
            np.linalg.cholesky(covariance)
        except np.linalg.LinAlgError:
            return k
    return 0


def _log_joint_plan(data: GaussianData, weights, means, covariances):
    """How to get log π_k + log N(x_n | μ_k, Σ_k), shape (K, N).

    Parameters
    ----------
    data : GaussianData
    weights : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, n_features)
        In the data's own coordinates (not centred).
    covariances : ndarray of shape (n_components, n_features, n_features)

    Returns
    -------
    coefficients : ndarray of shape (n_components, n_quadratic_features) or None
        When the expanded quadratic is accurate: the log-joint is then
        ``coefficients @ data.features``, computed block by block with the normalisation.
    log_joint_t : ndarray of shape (n_components, n_samples) or None
        Otherwise: the log-joint computed exactly from centred differences.
    """
    chol = _cholesky_factors(covariances)
    # log|Σ| = 2 Σ_i log L_ii for Σ = L Lᵀ
    log_det = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
    n_features = means.shape[1]
    with np.errstate(divide="ignore"):  # a weight of 0 is log 0 = -inf: no responsibility
        log_weights = np.log(weights)
    const = log_weights - 0.5 * (n_features * LOG_2PI + log_det)
    means = means - data.offset
    inv_chol = _inverse_cholesky(chol)
    precisions = np.swapaxes(inv_chol, 1, 2) @ inv_chol  # Σ⁻¹ = L⁻ᵀ L⁻¹
    if _expansion_is_accurate(data, means, precisions):
        # fold the -1/2 and the constant into the coefficients: one matrix product, no temporaries
        coefficients = -0.5 * _quadratic_coefficients(precisions, means)
        coefficients[:, -1] += const  # the last feature is the constant 1
        return coefficients, None
    return None, const[:, None] - 0.5 * _exact_quadratic_t(data.centred, means, chol)


def _inverse_cholesky(chol: np.ndarray) -> np.ndarray:
    """L⁻¹ for every lower Cholesky factor, by forward substitution against the identity.

    A triangular solve, as scikit-learn's ``_compute_precision_cholesky``, rather than a
    general inverse: it uses the factor's structure and is backward stable for it.

    Parameters
    ----------
    chol : ndarray of shape (n_components, n_features, n_features)
        Lower-triangular factors L_k.

    Returns
    -------
    ndarray of shape (n_components, n_features, n_features)
        Lower-triangular L_k⁻¹.
    """
    return _solve_lower(chol, np.eye(chol.shape[-1]))


def _solve_lower(chol: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve L X = B by forward substitution, for one L or a stack of them.

    The algorithm of ``scipy.linalg.solve_triangular(L, B, lower=True)``, written with numpy:
    scipy links its own OpenBLAS, whose worker threads keep spinning after each call and
    then compete with numpy's for the cores. On two cores one scipy solve per E-step made
    the whole E-step (numpy's matrix products) four times slower.

    Parameters
    ----------
    chol : ndarray of shape (..., n_features, n_features)
        Lower-triangular, non-zero diagonal (a Cholesky factor).
    rhs : ndarray of shape (..., n_features, n_columns)

    Returns
    -------
    ndarray of shape (..., n_features, n_columns)
    """
    stack = np.broadcast_shapes(chol.shape[:-2], rhs.shape[:-2])
    solution = np.empty(stack + rhs.shape[-2:])
    for i in range(chol.shape[-1]):
        # x_i = (b_i − Σ_{j<i} L_ij x_j) / L_ii
        known = np.matmul(chol[..., i : i + 1, :i], solution[..., :i, :])[..., 0, :]
        solution[..., i, :] = (rhs[..., i, :] - known) / chol[..., i, i, None]
    return solution


def _expansion_is_accurate(data: GaussianData, means, precisions) -> bool:
    """Whether the expanded quadratic's rounding stays within ``_EXPANSION_ERROR_BUDGET``.

    Parameters
    ----------
    data : GaussianData
    means : ndarray of shape (n_components, n_features)
        Centred means.
    precisions : ndarray of shape (n_components, n_features, n_features)
    """
    if data.features is None:
        return False
    # |x|² ||Σ⁻¹||₂ bounds each term of the expanded quadratic; the rounding of their sum is
    # a few eps times that.
    largest_precision = np.linalg.eigvalsh(precisions)[:, -1]
    magnitude = (data.max_sq_norm + np.einsum("kd,kd->k", means, means)) * largest_precision
    return bool(8 * EPS * magnitude.max() <= _EXPANSION_ERROR_BUDGET)


def _quadratic_coefficients(precisions: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Coefficients so that coefficients @ φ(x) = (x - μ)ᵀ Σ⁻¹ (x - μ).

    Parameters
    ----------
    precisions : ndarray of shape (..., n_components, n_features, n_features)
    means : ndarray of shape (..., n_components, n_features)
        Leading axes (a batch of runs) are kept.

    Returns
    -------
    ndarray of shape (..., n_components, n_quadratic_features)
    """
    rows, cols = np.array(_feature_pairs(means.shape[-1])).T
    # xᵀPx = Σ_i P_ii x_i² + Σ_{i<j} 2 P_ij x_i x_j
    quadratic = precisions[..., rows, cols] * np.where(rows == cols, 1.0, 2.0)
    precision_mean = np.einsum("...ij,...j->...i", precisions, means)
    linear = -2.0 * precision_mean  # -2 μᵀ P x
    constant = np.einsum("...i,...i->...", precision_mean, means)  # μᵀ P μ
    return np.concatenate([quadratic, linear, constant[..., None]], axis=-1)


def _exact_quadratic_t(centred, means, chol) -> np.ndarray:
    """(x - μ)ᵀ Σ⁻¹ (x - μ) = |L⁻¹(x - μ)|² from centred differences.

    L⁻¹(x - μ) is solved for (L z = x - μ) rather than multiplied by an inverse: this path
    serves nearly collapsed components, where the solve is backward stable and a product
    with a computed inverse is not.

    Parameters
    ----------
    centred : ndarray of shape (n_samples, n_features)
    means : ndarray of shape (n_components, n_features)
    chol : ndarray of shape (n_components, n_features, n_features)
        Lower Cholesky factors of the covariances.

    Returns
    -------
    ndarray of shape (n_components, n_samples)
    """
    quadratic = np.empty((means.shape[0], centred.shape[0]))
    for k, (mean, chol_k) in enumerate(zip(means, chol)):
        whitened = _solve_lower(chol_k, (centred - mean).T)
        quadratic[k] = np.einsum("dn,dn->n", whitened, whitened)
    return quadratic


def _posterior_arrays(data: GaussianData, weights, means, covariances):
    """The E-step's arrays at the given parameters.

    The log-sum-exp is hand-written rather than scipy.special.logsumexp because the same
    exponentials also give the responsibilities (one exp over the (K, N) array instead of
    two). Samples are independent, so all the work — log-joint product, normalisation and
    the M-step's sufficient statistics — runs block by block while a block is in cache.
    (Two threads over the blocks measured slower here: OpenBLAS's own threads compete.)

    Parameters
    ----------
    data : GaussianData
    weights : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, n_features)
    covariances : ndarray of shape (n_components, n_features, n_features)

    Returns
    -------
    resp_t : ndarray of shape (n_components, n_samples)
    log_resp_t : ndarray of shape (n_components, n_samples)
    log_norm : ndarray of shape (n_samples,)
        log p(x_n) = log Σ_k π_k N(x_n | μ_k, Σ_k).
    moments : ndarray of shape (n_components, n_quadratic_features) or None
        Σ_n r_nk φ(x_n); None without quadratic features.
    """
    coefficients, log_joint_t = _log_joint_plan(data, weights, means, covariances)
    shape = (len(weights), data.n_samples)
    resp_t = np.empty(shape)
    # the log-joint is normalised in place into the log-responsibilities
    log_resp_t = np.empty(shape) if log_joint_t is None else log_joint_t
    log_norm = np.empty(data.n_samples)
    blocks = [slice(start, start + _BLOCK) for start in range(0, data.n_samples, _BLOCK)]
    moment_parts = {}

    def block_work(block: slice) -> None:
        log_resp = log_resp_t[:, block]
        if coefficients is not None:
            np.matmul(coefficients, data.features[:, block], out=log_resp)
        log_max = log_resp.max(axis=0)
        log_resp -= log_max
        resp = np.exp(log_resp, out=resp_t[:, block])
        total = resp.sum(axis=0)
        resp /= total  # r_nk = exp(l_nk - max) / Σ_j exp(l_nj - max)
        log_total = np.log(total)
        log_resp -= log_total
        np.add(log_max, log_total, out=log_norm[block])  # log Σ_k exp(l_nk)
        if data.features is not None:
            moment_parts[block.start] = resp @ data.features[:, block].T

    for block in blocks:
        block_work(block)
    moments = sum(moment_parts[b.start] for b in blocks) if moment_parts else None
    return resp_t, log_resp_t, log_norm, moments


# ---- M-step: one estimator per covariance type, all from the per-component full scatter ----
# Each takes scatter (..., K, D, D), nk (..., K) and reg_covar, and returns full covariances
# (..., K, D, D); the leading axes let one call serve a batch of runs (emviz.analysis.restarts).


def _covariance_full(scatter, nk, reg_covar):
    return scatter + reg_covar * np.eye(scatter.shape[-1])


def _covariance_diag(scatter, nk, reg_covar):
    variances = np.diagonal(scatter, axis1=-2, axis2=-1) + reg_covar
    return variances[..., None] * np.eye(scatter.shape[-1])


def _covariance_spherical(scatter, nk, reg_covar):
    # sklearn's spherical variance is the mean of the diagonal variances
    variances = np.diagonal(scatter, axis1=-2, axis2=-1).mean(axis=-1) + reg_covar
    return variances[..., None, None] * np.eye(scatter.shape[-1])


def _covariance_tied(scatter, nk, reg_covar):
    # Σ = (1/N) Σ_k nk Σ_k: the pooled within-component scatter (Σ_k r_nk = 1 for every n)
    pooled = np.einsum("...k,...kij->...ij", nk, scatter) / nk.sum(axis=-1)[..., None, None]
    pooled = pooled + reg_covar * np.eye(scatter.shape[-1])
    return np.broadcast_to(pooled[..., None, :, :], scatter.shape).copy()


_COVARIANCE_ESTIMATORS = {
    "full": _covariance_full,
    "diag": _covariance_diag,
    "spherical": _covariance_spherical,
    "tied": _covariance_tied,
}


def _weighted_moments(data: GaussianData, resp_t, moments, nk: np.ndarray):
    """Weighted means and scatter matrices of the centred data.

    Parameters
    ----------
    data : GaussianData
    resp_t : ndarray of shape (n_components, n_samples)
    moments : ndarray of shape (n_components, n_quadratic_features) or None
        Σ_n r_nk φ(x_n) when the E-step gathered them.
    nk : ndarray of shape (n_components,)

    Returns
    -------
    means : ndarray of shape (n_components, n_features)
    scatter : ndarray of shape (n_components, n_features, n_features)
    """
    if data.features is not None:
        # Σ_n r_nk φ(x_n): second moments, first moments (and nk), from the E-step if it has them
        sums = moments if moments is not None else resp_t @ data.features.T
        normalised = sums / nk[:, None]
        n_features = data.centred.shape[1]
        n_pairs = len(_feature_pairs(n_features))
        means = normalised[:, n_pairs : n_pairs + n_features]
        scatter = _scatter_from_moments(normalised[:, :n_pairs], means)
        if scatter is not None:
            return means, scatter
    else:
        means = (resp_t @ data.centred) / nk[:, None]
    return means, _exact_scatter(data.centred, resp_t, nk, means)


def _scatter_from_moments(second, means):
    """Σ_k = E_r[x xᵀ] − μ μᵀ, or None when the subtraction would cancel too many digits.

    Parameters
    ----------
    second : ndarray of shape (n_components, n_pairs)
        E_r[x_i x_j] for the pairs of `_feature_pairs`.
    means : ndarray of shape (n_components, n_features)

    Returns
    -------
    ndarray of shape (n_components, n_features, n_features) or None
    """
    n_features = means.shape[1]
    rows, cols = np.array(_feature_pairs(n_features)).T
    scatter = np.empty((means.shape[0], n_features, n_features))
    scatter[:, rows, cols] = second
    scatter[:, cols, rows] = second
    scatter -= means[:, :, None] * means[:, None, :]
    # The subtraction loses about eps·E|x|² absolutely; accept it only when that is tiny
    # next to the smallest variance it has to resolve.
    smallest = np.linalg.eigvalsh(scatter)[:, 0]
    # trace E_r[x xᵀ] = trace Σ + |μ|²
    second_trace = np.trace(scatter, axis1=1, axis2=2) + np.einsum("kd,kd->k", means, means)
    if np.all(smallest > 0) and np.all(8 * EPS * second_trace <= 1e-9 * smallest):
        return scatter
    return None


def _exact_scatter(centred, resp_t, nk, means):
    """Σ_n r_nk (x_n - μ_k)(x_n - μ_k)ᵀ / nk from centred differences, (K, D, D)."""
    scatter = np.empty((means.shape[0], means.shape[1], means.shape[1]))
    for k, mean in enumerate(means):
        diff = centred - mean
        scatter[k] = (resp_t[k][:, None] * diff).T @ diff / nk[k]
    return scatter


def _check_distances_are_finite(data: GaussianData):
    """Raise InvalidStart when sums of squared distances between points overflow.

    k-means++ draws seeds with probabilities d²/Σd²; an infinite Σd² makes every probability
    0 and the draw index past the end of the data. Σd² <= N·(2 max|x|)².
    """
    if not np.isfinite(4.0 * data.n_samples * data.max_sq_norm):
        raise InvalidStart(
            "The values are so spread out that sums of squared distances between points "
            "overflow. Rescale the data (standardise its columns)."
        )


def _check_has_points(nk: np.ndarray, n_samples: int):
    """Raise SingularParameters when a component's N_k (K,) is (numerically) zero."""
    for k in range(len(nk)):
        if not nk[k] > 10 * EPS * n_samples:
            raise SingularParameters(
                f"Component {k + 1} has lost all its points (total responsibility "
                f"{nk[k]:.3g}); its mean and covariance are undefined.",
                component=k,
            )


def _check_not_collapsed(covariances: np.ndarray, nk: np.ndarray, data: GaussianData):
    """Raise SingularParameters when a covariance (K, D, D) is collapsed (see SINGULAR_RTOL)."""
    smallest = np.linalg.eigvalsh(covariances)[:, 0]
    for k in range(len(nk)):
        if not smallest[k] > SINGULAR_RTOL * data.scale:
            raise SingularParameters(
                f"Component {k + 1} collapsed onto {_points_phrase(nk[k])}: its smallest "
                f"variance is {max(smallest[k], 0.0):.3g}, so its density (and the "
                "likelihood) grows without bound. Add a small reg_covar, or start it elsewhere.",
                component=k,
            )


def _points_phrase(nk: float) -> str:
    return "a single point" if nk < 1.5 else f"about {nk:.0f} points lying on a line or plane"
