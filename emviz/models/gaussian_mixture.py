"""Gaussian mixture model: parameters, E-step and M-step for four covariance types.

Arrays follow scikit-learn's vocabulary: ``n_samples`` (N), ``n_components`` (K),
``n_features`` (D), ``resp`` and ``log_resp`` of shape (N, K), ``nk`` of shape (K,).
Internally the (K, N) transposes are used because every per-component reduction then runs
over contiguous memory; the public ``resp``/``log_resp`` are (N, K) views of them.

Speed: for D <= 3 a Gaussian's quadratic form is linear in the features
φ(x) = (x_i x_j for i <= j, x_i, 1), so all K log-densities are one matrix product with a
(F, N) design matrix built once per data set, and the M-step's weighted moments are one more.
Expanding the quadratic cancels digits when |x|² ||Σ⁻¹|| is large (a nearly collapsed
component); both steps check a rounding bound and fall back to the exact centred formulas.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from itertools import combinations_with_replacement

import numpy as np
from scipy.cluster.vq import kmeans2

from emviz.models.protocol import (
    Capability,
    SingularParameters,
    axis_names,
    mean_directions,
    unit_vector,
)

LOG_2PI = float(np.log(2.0 * np.pi))
EPS = float(np.finfo(np.float64).eps)
# Largest rounding error (in nats per point) tolerated from the expanded quadratic forms.
_EXPANSION_ERROR_BUDGET = 1e-11
# A covariance whose smallest eigenvalue is below this fraction of the data's average
# variance is treated as collapsed: the likelihood there is numerically unbounded.
SINGULAR_RTOL = 1e-12
COVARIANCE_TYPES = ("full", "diag", "spherical", "tied")
INIT_METHODS = ("random_from_data", "kmeans++", "kmeans", "spread")
_FAST_MAX_FEATURES = 3
_BLOCK = 16_384  # samples per block in the E-step (a block's arrays fit in L2 cache for K <= 8)


def _frozen_array(values, shape_name: str, ndim: int) -> np.ndarray:
    array = np.array(values, dtype=np.float64)  # np.array copies: callers keep their arrays
    if array.ndim != ndim:
        raise ValueError(f"{shape_name} must have {ndim} dimension(s), got shape {array.shape}")
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class GaussianParams:
    """Parameters of a Gaussian mixture.

    Parameters
    ----------
    weights : array-like of shape (n_components,)
        Mixing proportions, on the simplex.
    means : array-like of shape (n_components, n_features)
    covariances : array-like of shape (n_components, n_features, n_features)
        Always expanded to full matrices, whatever the covariance type, so drawing code is
        the same for every type.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "weights", _frozen_array(self.weights, "weights", 1))
        object.__setattr__(self, "means", _frozen_array(self.means, "means", 2))
        object.__setattr__(self, "covariances", _frozen_array(self.covariances, "covariances", 3))
        n_components, n_features = self.means.shape
        if self.weights.shape != (n_components,):
            raise ValueError(f"weights has shape {self.weights.shape}, expected ({n_components},)")
        if self.covariances.shape != (n_components, n_features, n_features):
            raise ValueError(
                f"covariances has shape {self.covariances.shape}, "
                f"expected ({n_components}, {n_features}, {n_features})"
            )

    @property
    def n_components(self) -> int:
        return self.means.shape[0]

    @property
    def n_features(self) -> int:
        return self.means.shape[1]

    def is_finite(self) -> bool:
        return bool(
            np.isfinite(self.weights).all()
            and np.isfinite(self.means).all()
            and np.isfinite(self.covariances).all()
        )

    def to_dict(self) -> dict:
        """Exact JSON-friendly form (Python floats round-trip through ``json`` exactly)."""
        return {
            "weights": self.weights.tolist(),
            "means": self.means.tolist(),
            "covariances": self.covariances.tolist(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> GaussianParams:
        return cls(d["weights"], d["means"], d["covariances"])

    def flat(self) -> dict[str, float]:
        """One named number per free entry, 1-based component numbers, for tables and CSV.

        Names: ``weight_k``, ``mean_k_x`` (axes x, y, z, then 4, 5, …), ``cov_k_xy`` for the
        upper triangle of each covariance.
        """
        axes = [_axis_name(i) for i in range(self.n_features)]
        row: dict[str, float] = {}
        for k in range(self.n_components):
            row[f"weight_{k + 1}"] = float(self.weights[k])
            for i, axis in enumerate(axes):
                row[f"mean_{k + 1}_{axis}"] = float(self.means[k, i])
            for i, j in combinations_with_replacement(range(self.n_features), 2):
                row[f"cov_{k + 1}_{axes[i]}{axes[j]}"] = float(self.covariances[k, i, j])
        return row


def _axis_name(i: int) -> str:
    return "xyz"[i] if i < 3 else str(i + 1)


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
    """

    X: np.ndarray
    offset: np.ndarray
    centred: np.ndarray
    features: np.ndarray | None
    max_sq_norm: float
    scale: float

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]


def prepare_gaussian_data(X) -> GaussianData:
    """Validate ``X`` (n_samples, n_features) and precompute what every iteration reuses."""
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
    return GaussianData(
        X=X,
        offset=offset,
        centred=centred,
        features=features,
        max_sq_norm=float(np.einsum("nd,nd->n", centred, centred).max()),
        scale=scale if scale > 0 else 1.0,
    )


def _feature_pairs(n_features: int) -> list[tuple[int, int]]:
    return list(combinations_with_replacement(range(n_features), 2))


def _quadratic_features(centred: np.ndarray) -> np.ndarray:
    """Design matrix of shape (F, n_samples): x_i x_j (i <= j), then x_i, then 1."""
    n_samples, n_features = centred.shape
    pairs = _feature_pairs(n_features)
    features = np.empty((len(pairs) + n_features + 1, n_samples))
    for row, (i, j) in enumerate(pairs):
        np.multiply(centred[:, i], centred[:, j], out=features[row])
    features[len(pairs) : len(pairs) + n_features] = centred.T
    features[-1] = 1.0
    features.setflags(write=False)
    return features


@dataclass(frozen=True, eq=False)
class GaussianPosterior:
    """q(Z): a distribution over component labels for every sample.

    Attributes
    ----------
    log_resp_t, resp_t : ndarray of shape (n_components, n_samples)
    log_norm : ndarray of shape (n_samples,) or None
        log p(x_n | θ) = log Σ_k π_k N(x_n | μ_k, Σ_k) at the parameters this posterior was
        computed from; None for the uniform q of the initial step.
    log_likelihood : float or None
        log p(X | θ) = Σ_n log_norm_n; None for the uniform q.
    moments : ndarray of shape (n_components, n_quadratic_features) or None
        The expected sufficient statistics Σ_n r_nk φ(x_n) of the centred data (second
        moments, first moments, N_k), gathered while each block of responsibilities is still
        in cache; the M-step only divides. None when the data has no quadratic features.
    """

    log_resp_t: np.ndarray
    resp_t: np.ndarray
    log_norm: np.ndarray | None = None
    log_likelihood: float | None = None
    moments: np.ndarray | None = None

    @property
    def resp(self) -> np.ndarray:
        """Responsibilities, shape (n_samples, n_components)."""
        return self.resp_t.T

    @property
    def log_resp(self) -> np.ndarray:
        """Log responsibilities, shape (n_samples, n_components)."""
        return self.log_resp_t.T

    @property
    def log_joint(self) -> np.ndarray | None:
        """log π_k N(x_n | μ_k, Σ_k) = log r_nk + log p(x_n), shape (n_samples, n_components)."""
        return None if self.log_norm is None else self.log_resp + self.log_norm[:, None]


def _cholesky_factors(covariances: np.ndarray) -> np.ndarray:
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
    for k, covariance in enumerate(covariances):
        try:
            np.linalg.cholesky(covariance)
        except np.linalg.LinAlgError:
            return k
    return 0


def _log_joint_plan(data: GaussianData, params: GaussianParams):
    """How to get log π_k + log N(x_n | μ_k, Σ_k), shape (K, N).

    Returns (coefficients, None) when the expanded quadratic is accurate (the log-joint is then
    ``coefficients @ data.features``, computed block by block with the normalisation), else
    (None, log_joint_t) computed exactly from centred differences.
    """
    chol = _cholesky_factors(params.covariances)
    # log|Σ| = 2 Σ_i log L_ii for Σ = L Lᵀ
    log_det = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
    n_features = params.n_features
    with np.errstate(divide="ignore"):
        log_weights = np.log(params.weights)
    const = log_weights - 0.5 * (n_features * LOG_2PI + log_det)
    means = params.means - data.offset
    inv_chol = np.linalg.inv(chol)
    precisions = np.swapaxes(inv_chol, 1, 2) @ inv_chol  # Σ⁻¹ = L⁻ᵀ L⁻¹
    if _expansion_is_accurate(data, means, precisions):
        # fold the -1/2 and the constant into the coefficients: one matrix product, no temporaries
        coefficients = -0.5 * _quadratic_coefficients(precisions, means)
        coefficients[:, -1] += const  # the last feature is the constant 1
        return coefficients, None
    return None, const[:, None] - 0.5 * _exact_quadratic_t(data.centred, means, inv_chol)


def _expansion_is_accurate(data: GaussianData, means, precisions) -> bool:
    if data.features is None:
        return False
    # |x|² ||Σ⁻¹||₂ bounds each term of the expanded quadratic; the rounding of their sum is
    # a few eps times that.
    largest_precision = np.linalg.eigvalsh(precisions)[:, -1]
    magnitude = (data.max_sq_norm + np.einsum("kd,kd->k", means, means)) * largest_precision
    return bool(8 * EPS * magnitude.max() <= _EXPANSION_ERROR_BUDGET)


def _quadratic_coefficients(precisions: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Coefficients (K, F) so that coefficients @ φ(x) = (x - μ)ᵀ Σ⁻¹ (x - μ)."""
    n_features = means.shape[1]
    pairs = _feature_pairs(n_features)
    rows, cols = np.array(pairs).T
    # xᵀPx = Σ_i P_ii x_i² + Σ_{i<j} 2 P_ij x_i x_j
    quadratic = precisions[:, rows, cols] * np.where(rows == cols, 1.0, 2.0)
    precision_mean = np.einsum("kij,kj->ki", precisions, means)
    linear = -2.0 * precision_mean  # -2 μᵀ P x
    constant = np.einsum("ki,ki->k", precision_mean, means)  # μᵀ P μ
    return np.concatenate([quadratic, linear, constant[:, None]], axis=1)


def _exact_quadratic_t(centred, means, inv_chol) -> np.ndarray:
    """(x - μ)ᵀ Σ⁻¹ (x - μ) = |L⁻¹(x - μ)|², shape (K, N), from centred differences."""
    quadratic = np.empty((means.shape[0], centred.shape[0]))
    for k, (mean, inv_l) in enumerate(zip(means, inv_chol)):
        whitened = inv_l @ (centred - mean).T
        quadratic[k] = np.einsum("dn,dn->n", whitened, whitened)
    return quadratic


def _posterior_arrays(data: GaussianData, params: GaussianParams):
    """(resp_t, log_resp_t, log_norm, moments): the E-step's arrays, (K, N), (K, N), (N,)
    and the sufficient statistics (K, F) (None without quadratic features).

    The log-sum-exp is hand-written rather than scipy.special.logsumexp because the same
    exponentials also give the responsibilities (one exp over the (K, N) array instead of
    two). Samples are independent, so all the work — log-joint product, normalisation and
    the M-step's sufficient statistics — runs block by block while a block is in cache.
    (Two threads over the blocks measured slower here: OpenBLAS's own threads compete.)
    """
    coefficients, log_joint_t = _log_joint_plan(data, params)
    shape = (params.n_components, data.n_samples)
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


# ---- M-step: one helper per covariance type, all from the per-component full scatter ----


def _covariance_full(scatter, nk, reg_covar):
    n_features = scatter.shape[1]
    return scatter + reg_covar * np.eye(n_features)


def _covariance_diag(scatter, nk, reg_covar):
    variances = np.diagonal(scatter, axis1=1, axis2=2) + reg_covar
    return variances[:, :, None] * np.eye(scatter.shape[1])


def _covariance_spherical(scatter, nk, reg_covar):
    # sklearn's spherical variance is the mean of the diagonal variances
    variances = np.diagonal(scatter, axis1=1, axis2=2).mean(axis=1) + reg_covar
    return variances[:, None, None] * np.eye(scatter.shape[1])


def _covariance_tied(scatter, nk, reg_covar):
    # Σ = (1/N) Σ_k nk Σ_k: the pooled within-component scatter (Σ_k r_nk = 1 for every n)
    pooled = np.einsum("k,kij->ij", nk, scatter) / nk.sum()
    pooled = pooled + reg_covar * np.eye(scatter.shape[1])
    return np.broadcast_to(pooled, scatter.shape).copy()


_COVARIANCE_ESTIMATORS = {
    "full": _covariance_full,
    "diag": _covariance_diag,
    "spherical": _covariance_spherical,
    "tied": _covariance_tied,
}


def _weighted_moments(data: GaussianData, posterior, nk: np.ndarray):
    """Weighted means (K, D) and scatter matrices (K, D, D) of the centred data."""
    resp_t = posterior.resp_t
    if data.features is not None:
        # Σ_n r_nk φ(x_n): second moments, first moments (and nk), from the E-step if it has them
        sums = posterior.moments if posterior.moments is not None else resp_t @ data.features.T
        moments = sums / nk[:, None]
        n_features = data.centred.shape[1]
        n_pairs = len(_feature_pairs(n_features))
        means = moments[:, n_pairs : n_pairs + n_features]
        scatter = _scatter_from_moments(moments[:, :n_pairs], means)
        if scatter is not None:
            return means, scatter
    else:
        means = (resp_t @ data.centred) / nk[:, None]
    return means, _exact_scatter(data.centred, resp_t, nk, means)


def _scatter_from_moments(second, means):
    """Σ_k = E_r[x xᵀ] − μ μᵀ, or None when the subtraction would cancel too many digits."""
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
    scatter = np.empty((means.shape[0], means.shape[1], means.shape[1]))
    for k, mean in enumerate(means):
        diff = centred - mean
        scatter[k] = (resp_t[k][:, None] * diff).T @ diff / nk[k]
    return scatter


def _check_has_points(nk: np.ndarray, n_samples: int):
    for k in range(len(nk)):
        if not nk[k] > 10 * EPS * n_samples:
            raise SingularParameters(
                f"Component {k + 1} has lost all its points (total responsibility "
                f"{nk[k]:.3g}); its mean and covariance are undefined.",
                component=k,
            )


def _check_not_collapsed(covariances: np.ndarray, nk: np.ndarray, data: GaussianData):
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


@dataclass(frozen=True)
class GaussianMixture:
    """A mixture of K Gaussians fitted by EM.

    Parameters
    ----------
    n_components : int
        K, the number of components.
    covariance_type : {'full', 'diag', 'spherical', 'tied'}
    reg_covar : float
        Added to every covariance's diagonal in the M-step. The teaching views default to 0
        so that a collapsing component can be shown; the run then stops as "singular".
    """

    n_components: int
    covariance_type: str = "full"
    reg_covar: float = 0.0

    def __post_init__(self):
        if int(self.n_components) != self.n_components or self.n_components < 1:
            raise ValueError(f"n_components must be a positive integer, got {self.n_components}")
        if self.covariance_type not in COVARIANCE_TYPES:
            raise ValueError(
                f"covariance_type must be one of {COVARIANCE_TYPES}, got {self.covariance_type!r}"
            )
        if not (np.isfinite(self.reg_covar) and self.reg_covar >= 0):
            raise ValueError(f"reg_covar must be a finite number >= 0, got {self.reg_covar}")

    # ---- protocol ----

    @property
    def inexact_m_step(self) -> str | None:
        """Why the M-step is not the exact maximiser of Q (None when reg_covar = 0).

        The M-step maximises Q and then adds ε = reg_covar to every variance: Q is no longer
        at its maximum, so the bound, and with it ℓ, can fall.
        """
        if self.reg_covar == 0:
            return None
        return (
            f"reg_covar = {self.reg_covar:g} adds ε to every variance, so the M-step is no "
            "longer the exact maximiser of Q"
        )

    def prepare(self, X) -> GaussianData:
        return prepare_gaussian_data(X)

    def e_step(self, data, params: GaussianParams) -> GaussianPosterior:
        """Posterior responsibilities at ``params`` and log p(X | params).

        Parameters
        ----------
        data : array of shape (n_samples, n_features) or GaussianData
        params : GaussianParams
        """
        data = self.prepare(data)
        resp_t, log_resp_t, log_norm, moments = _posterior_arrays(data, params)
        return GaussianPosterior(
            log_resp_t=log_resp_t,
            resp_t=resp_t,
            log_norm=log_norm,
            log_likelihood=float(log_norm.sum()),
            moments=moments,
        )

    def m_step(self, data, posterior: GaussianPosterior) -> GaussianParams:
        """Weighted maximum likelihood: the parameters maximising Q(θ, q).

        Raises
        ------
        SingularParameters
            When a component has no responsibility left or its covariance collapsed.
        """
        data = self.prepare(data)
        resp_t = posterior.resp_t
        # N_k = Σ_n r_nk: the last sufficient statistic (the constant feature) when present
        nk = posterior.moments[:, -1] if posterior.moments is not None else resp_t.sum(axis=1)
        _check_has_points(nk, data.n_samples)
        means, scatter = _weighted_moments(data, posterior, nk)
        covariances = _COVARIANCE_ESTIMATORS[self.covariance_type](scatter, nk, self.reg_covar)
        covariances = 0.5 * (covariances + np.swapaxes(covariances, 1, 2))
        _check_not_collapsed(covariances, nk, data)
        return GaussianParams(nk / nk.sum(), means + data.offset, covariances)

    def uniform_posterior(self, data, params: GaussianParams) -> GaussianPosterior:
        """q(z_n = k) = 1/K for every sample: the q of the initial step, before any E-step."""
        data = self.prepare(data)
        shape = (params.n_components, data.n_samples)
        return GaussianPosterior(
            log_resp_t=np.full(shape, -np.log(params.n_components)),
            resp_t=np.full(shape, 1.0 / params.n_components),
        )

    def expected_log_joint(self, q: GaussianPosterior, evaluated: GaussianPosterior) -> float:
        """Q(θ) = Σ_n Σ_k q_nk log(π_k N(x_n | μ_k, Σ_k)), at the θ of ``evaluated``.

        log π_k N(x_n | μ_k, Σ_k) = log r_nk(θ) + log p(x_n | θ) and Σ_k q_nk = 1, so
        Q = Σ q log r(θ) + log p(X | θ): one dot product, no (K, N) log-joint kept.
        """
        return float(np.vdot(q.resp_t, evaluated.log_resp_t)) + evaluated.log_likelihood

    def entropy(self, q: GaussianPosterior) -> float:
        """H(q) = -Σ_n Σ_k q_nk log q_nk (0·log 0 = 0: log_resp is finite where resp underflows)."""
        return float(-np.vdot(q.resp_t, q.log_resp_t))

    def kl_divergence(self, q: GaussianPosterior, evaluated: GaussianPosterior) -> float:
        """KL(q || p(Z | X, θ)) = Σ q (log q − log p), from its definition.

        Zero exactly when q is the posterior itself. Computed as two dot products,
        Σ q log q − Σ q log p, which avoids a (K, N) temporary; rounding (~1e-16 of |H(q)|) can
        make a tiny KL near convergence come out slightly negative: it is clipped at 0, its true
        lower bound.
        """
        if q is evaluated:
            return 0.0
        kl = np.vdot(q.resp_t, q.log_resp_t) - np.vdot(q.resp_t, evaluated.log_resp_t)
        return max(float(kl), 0.0)

    def log_likelihood(self, X, params: GaussianParams) -> float:
        return self.e_step(X, params).log_likelihood

    def expected_complete_log_likelihood(self, X, q: GaussianPosterior, params) -> float:
        return self.expected_log_joint(q, self.e_step(X, params))

    def n_parameters(self, n_features: int) -> int:
        """Free parameters (for BIC/AIC)."""
        per_cov = {
            "full": self.n_components * n_features * (n_features + 1) // 2,
            "diag": self.n_components * n_features,
            "spherical": self.n_components,
            "tied": n_features * (n_features + 1) // 2,
        }[self.covariance_type]
        return per_cov + self.n_components * n_features + self.n_components - 1

    def to_dict(self) -> dict:
        return {
            "model": "GaussianMixture",
            "n_components": int(self.n_components),
            "covariance_type": self.covariance_type,
            "reg_covar": float(self.reg_covar),
        }

    def params_from_dict(self, d: dict) -> GaussianParams:
        return GaussianParams.from_dict(d)

    def check_params(self, params: GaussianParams, n_features: int) -> None:
        """Raise ValueError with a readable message unless ``params`` can start a run."""
        if params.n_components != self.n_components:
            raise ValueError(
                f"The parameters have {params.n_components} components, "
                f"the model {self.n_components}."
            )
        if params.n_features != n_features:
            raise ValueError(
                f"The means have {params.n_features} coordinates, the data {n_features}."
            )
        if not params.is_finite():
            raise ValueError("The initial parameters contain NaN or infinite values.")
        if np.any(params.weights <= 0) or abs(params.weights.sum() - 1.0) > 1e-8:
            raise ValueError("The initial weights must be positive and add up to 1.")
        if not np.allclose(params.covariances, np.swapaxes(params.covariances, 1, 2)):
            raise ValueError("The initial covariances must be symmetric.")
        try:
            _cholesky_factors(params.covariances)
        except SingularParameters as error:
            raise ValueError(f"Invalid initial parameters: {error}") from error

    # ---- initialisation ----

    def init_params(self, X, method: str = "kmeans++", seed: int | np.random.Generator = 0):
        """Starting parameters inside the model's family (a spherical model starts spherical).

        Parameters
        ----------
        X : array of shape (n_samples, n_features) or GaussianData
        method : {'random_from_data', 'kmeans++', 'kmeans', 'spread'}
            ``random_from_data``: K distinct data points as means, the data covariance for
            every component. ``kmeans++``: k-means++ seeds (scipy), each point assigned to its
            nearest seed, parameters of those groups. ``kmeans``: the same after Lloyd's
            k-means has converged (scipy's kmeans2). ``spread``: means evenly spaced along the
            anti-diagonal of the data's box (the start of Bishop PRML Fig. 9.8), each
            covariance the data's average variance times the identity.
        seed : int or numpy.random.Generator
        """
        data = self.prepare(X)
        rng = np.random.default_rng(seed)
        if method not in INIT_METHODS:
            raise ValueError(f"Unknown initialisation {method!r}; choose one of {INIT_METHODS}")
        if data.n_samples < self.n_components:
            raise ValueError(
                f"{self.n_components} components need at least {self.n_components} points; "
                f"the data has {data.n_samples}."
            )
        if method == "random_from_data":
            return self._init_random_from_data(data, rng)
        if method == "spread":
            return self._init_spread(data)
        n_lloyd = 1 if method == "kmeans++" else 50
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy warns about clusters left empty; handled below
            centroids, labels = kmeans2(
                data.centred, self.n_components, iter=n_lloyd, minit="++", rng=rng
            )
        return self._params_from_labels(data, labels, centroids)

    def _family_covariance(self, data: GaussianData) -> np.ndarray:
        """The data's own covariance, projected onto this model's covariance family, (K, D, D)."""
        covariance = np.atleast_2d(np.cov(data.centred.T, bias=True))
        scatter = np.broadcast_to(covariance, (self.n_components, *covariance.shape))
        nk = np.ones(self.n_components)
        return _COVARIANCE_ESTIMATORS[self.covariance_type](scatter, nk, self.reg_covar)

    def _init_random_from_data(self, data: GaussianData, rng) -> GaussianParams:
        distinct = np.unique(data.centred, axis=0)
        if len(distinct) < self.n_components:
            raise ValueError(f"The data has fewer than {self.n_components} distinct points.")
        means = distinct[rng.choice(len(distinct), self.n_components, replace=False)]
        weights = np.full(self.n_components, 1.0 / self.n_components)
        return GaussianParams(weights, means + data.offset, self._family_covariance(data))

    def _init_spread(self, data: GaussianData) -> GaussianParams:
        std = data.centred.std(axis=0)
        direction = np.ones(std.shape)
        direction[0] = -1.0
        positions = np.linspace(-1.0, 1.0, self.n_components) if self.n_components > 1 else [0.0]
        means = np.outer(positions, direction * std)
        covariance = data.scale * np.eye(data.centred.shape[1])
        covariances = np.broadcast_to(covariance, (self.n_components, *covariance.shape))
        weights = np.full(self.n_components, 1.0 / self.n_components)
        return GaussianParams(weights, means + data.offset, covariances)

    def _params_from_labels(self, data, labels, centroids) -> GaussianParams:
        """M-step from a hard assignment; a group too small for a covariance borrows the data's."""
        resp_t = np.zeros((self.n_components, data.n_samples))
        resp_t[labels, np.arange(data.n_samples)] = 1.0
        counts = resp_t.sum(axis=1)
        fallback = self._family_covariance(data)
        means = centroids.astype(np.float64).copy()
        scatter = fallback.copy()
        for k in np.flatnonzero(counts > 0):
            diff = data.centred[labels == k] - data.centred[labels == k].mean(axis=0)
            means[k] = data.centred[labels == k].mean(axis=0)
            scatter[k] = diff.T @ diff / counts[k]
        nk = np.maximum(counts, 1.0)
        covariances = _COVARIANCE_ESTIMATORS[self.covariance_type](scatter, nk, self.reg_covar)
        smallest = np.linalg.eigvalsh(covariances)[:, 0]
        degenerate = ~(smallest > 1e-6 * data.scale)
        if self.covariance_type != "tied":  # a pooled covariance does not need every group
            degenerate |= counts < 2
        covariances[degenerate] = fallback[degenerate]
        return GaussianParams(nk / nk.sum(), means + data.offset, covariances)

    # ---- capabilities (emviz.models.protocol) ----

    capabilities = frozenset({Capability.MIXTURE, Capability.N_PARAMETERS})
    objective = "log_likelihood"

    def with_equal_weights(self, params: GaussianParams) -> tuple[GaussianMixture, GaussianParams]:
        """This mixture with every weight 1/K: the weights are parameters, so only they change."""
        equal = np.full(params.n_components, 1.0 / params.n_components)
        return self, GaussianParams(equal, params.means, params.covariances)

    def free_directions(self, params: GaussianParams) -> dict[str, np.ndarray]:
        """Unit moves of each mean coordinate, each weight and (full and diagonal covariances)
        each variance, in `emviz.models.protocol.parameter_vector` space.

        A weight's move takes its gain from the other weights in equal parts, so the weights
        still add up to 1. Spherical and tied variances are shared across coordinates or
        components, so a single entry is not a free direction of this model.
        """
        directions = mean_directions(params)
        n_components, n_features = params.n_components, params.n_features
        if n_components > 1:
            for k in range(n_components):
                others = -sum(
                    unit_vector(params, "weights", j) for j in range(n_components) if j != k
                ) / (n_components - 1)
                directions[f"π{k + 1}"] = unit_vector(params, "weights", k) + others
        if self.covariance_type in ("full", "diag"):
            axes = axis_names(n_features)
            for k in range(n_components):
                for d in range(n_features):
                    flat = (k * n_features + d) * n_features + d
                    name = f"σ²{k + 1}" if n_features == 1 else f"σ²{k + 1} ({axes[d]})"
                    directions[name] = unit_vector(params, "covariances", flat)
        return directions
