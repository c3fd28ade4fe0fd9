"""A multivariate normal N(μ, Σ) fitted by EM to data with missing values (NaN).

The hidden variables are the missing coordinates themselves: continuous, one block x_m per
row. At θ = (μ, Σ) a row with observed coordinates o and missing coordinates m has the
posterior (the Gaussian conditional)

    p(x_m | x_o, θ) = N(c, C),  c = μ_m + Σ_mo Σ_oo⁻¹ (x_o − μ_o),  C = Σ_mm − Σ_mo Σ_oo⁻¹ Σ_om,

and C depends only on which coordinates are missing, so rows are grouped by their pattern of
missing values once (`MissingNormal.prepare`) and every pattern is handled as one block.

Every q here is Gaussian per row: q(x_m) = N(c', C') (the posterior at some θ', or at the start
the marginal N(μ_m, Σ_mm), see `MissingNormal.uniform_posterior`). With x̂ the row filled in with
c' and V the zero matrix with C' in its (m, m) block:

- ℓ(θ) = Σ_n log N(x_o,n | μ_o, Σ_oo)  (the observed-data log-likelihood);
- Q(θ; q) = E_q[Σ_n log N(x_n | μ, Σ)]
  = −N/2 (D log 2π + log|Σ|) − ½ tr(Σ⁻¹ S),  S = Σ_n (x̂_n − μ)(x̂_n − μ)ᵀ + V_n;
- H(q) = Σ_n ½ (d_m log 2πe + log|C'|)  (differential entropy: negative when C' is tiny);
- KL(q ‖ p) = Σ_n ½ [tr(C⁻¹C') − d_m + log|C|/|C'| + (c − c')ᵀ C⁻¹ (c − c')].

Since log p(x_o | θ) = log p(x_o, x_m | θ) − log p(x_m | x_o, θ) for every x_m, its
expectation under q gives ℓ = Q + H + KL exactly (each term computed from its own formula).
The M-step is the moments of the filled-in data plus the conditional covariances:
μ = mean of x̂, Σ = S / N — the "expected sufficient statistics" of Dempster, Laird & Rubin.

A row with every value missing says nothing about θ (it adds 0 to ℓ) and is rejected by
`MissingNormal.prepare`; the page drops such rows before fitting and says how many.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.linalg import LinAlgError, cholesky, solve_triangular

from emviz.models.gaussian_mixture import _frozen_array
from emviz.models.protocol import (
    Capability,
    InvalidStart,
    SingularParameters,
    axis_names,
    unit_vector,
)

INIT_METHODS = ("complete_cases", "observed_moments")
"""``complete_cases``: the moments of the rows with nothing missing; ``observed_moments``: each
column's mean and variance from its observed values, no correlation."""

_LOG_2PI = float(np.log(2 * np.pi))


@dataclass(frozen=True, eq=False)
class NormalParams:
    """θ = (μ, Σ) of one multivariate normal.

    Parameters
    ----------
    mean : array-like of shape (n_features,)
    covariance : array-like of shape (n_features, n_features)
    """

    mean: np.ndarray
    covariance: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "mean", _frozen_array(self.mean, "mean", 1))
        object.__setattr__(self, "covariance", _frozen_array(self.covariance, "covariance", 2))
        n = self.mean.shape[0]
        if self.covariance.shape != (n, n):
            raise ValueError(f"covariance has shape {self.covariance.shape}, expected ({n}, {n})")

    @property
    def n_features(self) -> int:
        return self.mean.shape[0]

    @property
    def n_components(self) -> int:
        """One normal: 1 (for code that reads a mixture's size; this model is not a mixture)."""
        return 1

    def correlation(self) -> np.ndarray:
        """Σ scaled to unit diagonal."""
        scale = np.sqrt(np.diag(self.covariance))
        return self.covariance / np.outer(scale, scale)

    def is_finite(self) -> bool:
        return bool(np.isfinite(self.mean).all() and np.isfinite(self.covariance).all())

    def to_dict(self) -> dict:
        """Exact JSON-friendly form: mean, then covariance (the `parameter_vector` order)."""
        return {"mean": self.mean.tolist(), "covariance": self.covariance.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> NormalParams:
        return cls(d["mean"], d["covariance"])


@dataclass(frozen=True, eq=False)
class MissingPattern:
    """The rows that miss the same coordinates.

    Attributes
    ----------
    rows : ndarray of int
        Their indices in the data.
    observed, missing : ndarray of int
        The coordinates they have and those they miss (``missing`` may be empty).
    """

    rows: np.ndarray
    observed: np.ndarray
    missing: np.ndarray


@dataclass(frozen=True, eq=False)
class MissingData:
    """Data with NaN for missing values, grouped by pattern of missingness (what EM reuses).

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        The data, read-only, NaN where a value is missing.
    patterns : tuple of MissingPattern
        One per distinct set of missing coordinates, in order of first appearance.
    """

    X: np.ndarray
    patterns: tuple

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def n_features(self) -> int:
        return self.X.shape[1]

    @cached_property
    def complete_rows(self) -> np.ndarray:
        """Boolean mask of the rows with nothing missing."""
        return ~np.isnan(self.X).any(axis=1)


def prepare_missing_data(X) -> MissingData:
    """Validate ``X`` (NaN = missing) and group its rows by pattern of missing values.

    Raises
    ------
    InvalidStart
        When ``X`` is not a non-empty 2-D array, holds an infinity, has a row with every value
        missing or a column with none observed.
    """
    if isinstance(X, MissingData):
        return X
    X = np.array(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise InvalidStart(f"The data must be a table of rows and columns, got shape {X.shape}.")
    missing = np.isnan(X)
    if np.isinf(X).any():
        raise InvalidStart("The data contain an infinite value; only blanks may stand for missing.")
    empty = np.flatnonzero(missing.all(axis=1))
    if empty.size:
        raise InvalidStart(
            f"Row {empty[0] + 1} has every value missing: it says nothing about μ or Σ. "
            "Drop such rows first."
        )
    unobserved = np.flatnonzero(missing.all(axis=0))
    if unobserved.size:
        raise InvalidStart(f"Column {unobserved[0] + 1} has no observed value.")
    X.setflags(write=False)
    # one pattern per distinct row of the mask, in order of first appearance
    masks, first, inverse = np.unique(missing, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    patterns = tuple(
        MissingPattern(
            rows=np.flatnonzero(inverse == k),
            observed=np.flatnonzero(~masks[k]),
            missing=np.flatnonzero(masks[k]),
        )
        for k in np.argsort(first)
    )
    return MissingData(X=X, patterns=patterns)


@dataclass(frozen=True, eq=False)
class Conditional:
    """q(x_m) = N(c_n, C) for every row of one pattern.

    Attributes
    ----------
    means : ndarray of shape (n_rows, n_missing)
        c_n per row.
    covariance : ndarray of shape (n_missing, n_missing)
        C, shared by the rows of the pattern.
    log_det : float
        log|C| (0 when nothing is missing).
    """

    means: np.ndarray
    covariance: np.ndarray
    log_det: float


@dataclass(frozen=True, eq=False)
class MissingPosterior:
    """q over the missing coordinates of every row: one Gaussian per row.

    Attributes
    ----------
    data : MissingData
    params : NormalParams
        The θ whose conditionals (or marginals, for the initial q) these are.
    conditionals : tuple of Conditional
        One per pattern of ``data``, same order.
    log_likelihood : float or None
        log p(X_obs | θ); None for the initial q.
    """

    data: MissingData
    params: NormalParams
    conditionals: tuple
    log_likelihood: float | None

    @cached_property
    def filled(self) -> np.ndarray:
        """The data with every missing value replaced by its mean under q, E_q[x_mis]
        (read-only): after an E-step, E[x_mis | x_obs, θ]."""
        filled = np.array(self.data.X)
        for pattern, conditional in zip(self.data.patterns, self.conditionals):
            if pattern.missing.size:
                filled[np.ix_(pattern.rows, pattern.missing)] = conditional.means
        filled.setflags(write=False)
        return filled

    def scatter_about(self, mean: np.ndarray) -> np.ndarray:
        """S = Σ_n E_q[(x_n − m)(x_n − m)ᵀ] = Σ_n (x̂_n − m)(x̂_n − m)ᵀ + V_n."""
        centred = self.filled - mean
        scatter = centred.T @ centred
        for pattern, conditional in zip(self.data.patterns, self.conditionals):
            if pattern.missing.size:
                block = np.ix_(pattern.missing, pattern.missing)
                scatter[block] += pattern.rows.size * conditional.covariance
        return (scatter + scatter.T) / 2  # exactly symmetric

    @property
    def resp(self) -> np.ndarray:
        """An (n_samples, 1) array of ones: the hidden variables are continuous, not labels,
        so every row has one "state" with q = 1. The imputations are `filled`."""
        return np.ones((self.data.n_samples, 1))

    @property
    def log_resp(self) -> np.ndarray:
        """log of `resp`: zeros."""
        return np.zeros((self.data.n_samples, 1))


def _cholesky(matrix: np.ndarray) -> np.ndarray | None:
    """The lower Cholesky factor, or None when ``matrix`` is not positive definite."""
    try:
        return cholesky(matrix, lower=True)
    except LinAlgError:
        return None


def _log_det(chol: np.ndarray) -> float:
    return float(2 * np.log(np.diag(chol)).sum())


def _conditional(X, pattern: MissingPattern, params: NormalParams) -> tuple[Conditional, float]:
    """p(x_m | x_o, θ) for the rows of ``pattern``, and their Σ log N(x_o | μ_o, Σ_oo)."""
    o, m = pattern.observed, pattern.missing
    mean, cov = params.mean, params.covariance
    chol = cholesky(cov[np.ix_(o, o)], lower=True)  # Σ_oo = L Lᵀ (θ passed check_params)
    white = solve_triangular(chol, (X[np.ix_(pattern.rows, o)] - mean[o]).T, lower=True)
    log_likelihood = -0.5 * float(np.sum(white**2)) - pattern.rows.size * (
        0.5 * o.size * _LOG_2PI + 0.5 * _log_det(chol)
    )
    # (x_o − μ_o)ᵀ Σ_oo⁻¹ Σ_om = (L⁻¹(x_o − μ_o))ᵀ (L⁻¹ Σ_om)
    gain = solve_triangular(chol, cov[np.ix_(o, m)], lower=True)
    covariance = cov[np.ix_(m, m)] - gain.T @ gain
    covariance = (covariance + covariance.T) / 2
    log_det = _log_det(cholesky(covariance, lower=True)) if m.size else 0.0
    return Conditional(mean[m] + white.T @ gain, covariance, log_det), log_likelihood


def _marginal(pattern: MissingPattern, params: NormalParams) -> Conditional:
    """N(μ_m, Σ_mm) for every row of ``pattern``: the missing values ignoring the observed."""
    m = pattern.missing
    covariance = params.covariance[np.ix_(m, m)]
    log_det = _log_det(cholesky(covariance, lower=True)) if m.size else 0.0
    return Conditional(np.tile(params.mean[m], (pattern.rows.size, 1)), covariance, log_det)


def _pattern_kl(q: Conditional, p: Conditional) -> float:
    """Σ over the pattern's rows of KL(N(c'_n, C') ‖ N(c_n, C))."""
    n_rows, n_missing = q.means.shape
    if n_missing == 0:
        return 0.0
    chol = cholesky(p.covariance, lower=True)
    spread = solve_triangular(chol, q.covariance, lower=True)
    trace = float(np.trace(solve_triangular(chol, spread.T, lower=True)))  # tr(C⁻¹ C')
    shift = solve_triangular(chol, (q.means - p.means).T, lower=True)
    return 0.5 * (n_rows * (trace - n_missing + p.log_det - q.log_det) + float(np.sum(shift**2)))


@dataclass(frozen=True)
class MissingNormal:
    """A normal N(μ, Σ) in any dimension, fitted by EM to data with missing values (NaN).

    The E-step fills every missing coordinate with E[x_mis | x_obs, θ] and keeps the
    conditional covariance Cov[x_mis | x_obs, θ]; the M-step takes the moments of the filled-in
    data plus those covariances. ℓ is the observed-data log-likelihood. See the module
    docstring for Q, H(q) and KL. No settings: the dimension is the data's.
    """

    n_components = 1  # one normal (read by generic code; not a mixture)
    inexact_m_step = None  # the M-step is the exact maximiser of Q (protocol)
    capabilities = frozenset({Capability.N_PARAMETERS})
    objective = "log_likelihood"

    # ---- protocol ----

    def prepare(self, X) -> MissingData:
        """Validate the data and group its rows by pattern of missing values (once)."""
        return prepare_missing_data(X)

    def init_params(self, X, method: str = "observed_moments", seed=0) -> NormalParams:
        """Starting θ (deterministic: ``seed`` is not used). See `INIT_METHODS`."""
        data = self.prepare(X)
        if method == "complete_cases":
            complete = data.X[data.complete_rows]
            if complete.shape[0] <= data.n_features:
                raise InvalidStart(
                    f"Only {complete.shape[0]} rows have no missing value, too few for a "
                    "covariance: start from the observed moments instead."
                )
            params = sample_moments(complete)
        elif method == "observed_moments":
            params = NormalParams(np.nanmean(data.X, axis=0), np.diag(np.nanvar(data.X, axis=0)))
        else:
            raise ValueError(f"Unknown initialisation {method!r}; choose one of {INIT_METHODS}")
        try:
            self.check_params(params, data.n_features)
        except InvalidStart as error:
            raise InvalidStart(
                f"The start from {method.replace('_', ' ')} fails: {error}"
            ) from None
        return params

    def check_params(self, params: NormalParams, n_features: int) -> None:
        if params.n_features != n_features:
            raise InvalidStart(f"The mean must have {n_features} entries, one per column.")
        if not params.is_finite():
            raise InvalidStart("The mean and the covariance must be finite numbers.")
        cov = params.covariance
        if not np.allclose(cov, cov.T, rtol=1e-12, atol=0):
            raise InvalidStart("The covariance must be symmetric.")
        if _cholesky(cov) is None:
            raise InvalidStart(
                "The covariance must be positive definite (positive variances, |correlation| < 1)."
            )

    def e_step(self, data, params: NormalParams) -> MissingPosterior:
        """q(x_mis,n) = p(x_mis,n | x_obs,n, θ) for every row, and ℓ(θ)."""
        data = self.prepare(data)
        parts = [_conditional(data.X, pattern, params) for pattern in data.patterns]
        return MissingPosterior(
            data=data,
            params=params,
            conditionals=tuple(conditional for conditional, _ in parts),
            log_likelihood=float(sum(log_likelihood for _, log_likelihood in parts)),
        )

    def m_step(self, data, posterior: MissingPosterior) -> NormalParams:
        """μ = mean of the filled-in rows, Σ = their scatter plus the conditional covariances,
        over N (the maximiser of Q)."""
        mean = posterior.filled.mean(axis=0)
        covariance = posterior.scatter_about(mean) / posterior.data.n_samples
        if _cholesky(covariance) is None:
            raise SingularParameters(
                "the covariance became singular: the data lie on a line (or a point)."
            )
        return NormalParams(mean, covariance)

    def uniform_posterior(self, data, params: NormalParams) -> MissingPosterior:
        """The initial q (before any E-step): each missing block from its marginal
        N(μ_m, Σ_mm) at θ, i.e. ignoring what the row's observed values say about it. (A
        uniform distribution over the real line does not exist; this is the q that knows θ
        but not the row.)"""
        data = self.prepare(data)
        marginals = tuple(_marginal(pattern, params) for pattern in data.patterns)
        return MissingPosterior(data, params, marginals, None)

    def expected_log_joint(self, q: MissingPosterior, evaluated: MissingPosterior) -> float:
        """Q(θ; q) = −N/2 (D log 2π + log|Σ|) − ½ tr(Σ⁻¹ S), θ that of ``evaluated``."""
        params = evaluated.params
        chol = cholesky(params.covariance, lower=True)
        scatter = q.scatter_about(params.mean)
        # tr(Σ⁻¹ S) = ‖L⁻¹ S L⁻ᵀ‖ trace
        half = solve_triangular(chol, scatter, lower=True)
        trace = float(np.trace(solve_triangular(chol, half.T, lower=True)))
        n, d = q.data.X.shape
        return -0.5 * n * (d * _LOG_2PI + _log_det(chol)) - 0.5 * trace

    def entropy(self, q: MissingPosterior) -> float:
        """H(q) = Σ_n ½ (d_m log 2πe + log|C'|): the differential entropy of the Gaussians.

        Unlike a discrete entropy it can be negative (conditional variances below 1/(2πe)).
        """
        total = 0.0
        for pattern, conditional in zip(q.data.patterns, q.conditionals):
            d_m = pattern.missing.size
            total += 0.5 * pattern.rows.size * (d_m * (_LOG_2PI + 1.0) + conditional.log_det)
        return total

    def kl_divergence(self, q: MissingPosterior, evaluated: MissingPosterior) -> float:
        """KL(q ‖ p(X_mis | X_obs, θ)) between Gaussians, from its closed form; exactly 0 when q
        is the posterior at the same θ. Clipped at 0 (rounding near convergence)."""
        if q is evaluated or (
            q.log_likelihood is not None
            and np.array_equal(q.params.mean, evaluated.params.mean)
            and np.array_equal(q.params.covariance, evaluated.params.covariance)
        ):
            return 0.0
        kl = sum(_pattern_kl(a, b) for a, b in zip(q.conditionals, evaluated.conditionals))
        return max(float(kl), 0.0)

    def free_directions(self, params: NormalParams) -> dict[str, np.ndarray]:
        """Each mean coordinate, each variance and each covariance (moving Σ_ij and Σ_ji
        together, so Σ stays symmetric)."""
        d = params.n_features
        axes = axis_names(d)
        directions = {}
        for i in range(d):
            directions["μ" if d == 1 else f"μ ({axes[i]})"] = unit_vector(params, "mean", i)
        for i in range(d):
            name = "σ²" if d == 1 else f"σ² ({axes[i]})"
            directions[name] = unit_vector(params, "covariance", i * d + i)
        for i in range(d):
            for j in range(i + 1, d):
                directions[f"σ ({axes[i]}, {axes[j]})"] = unit_vector(
                    params, "covariance", i * d + j
                ) + unit_vector(params, "covariance", j * d + i)
        return directions

    def log_likelihood(self, X, params: NormalParams) -> float:
        return self.e_step(X, params).log_likelihood

    def expected_complete_log_likelihood(self, X, q: MissingPosterior, params) -> float:
        return self.expected_log_joint(q, self.e_step(X, params))

    def n_parameters(self, n_features: int) -> int:
        """D means and D(D + 1)/2 covariances."""
        return n_features + n_features * (n_features + 1) // 2

    def to_dict(self) -> dict:
        return {"model": "MissingNormal"}

    def params_from_dict(self, d: dict) -> NormalParams:
        return NormalParams.from_dict(d)


def sample_moments(X: np.ndarray) -> NormalParams:
    """The maximum-likelihood normal of complete rows: mean and scatter / N."""
    mean = X.mean(axis=0)
    centred = X - mean
    covariance = centred.T @ centred / X.shape[0]
    return NormalParams(mean, (covariance + covariance.T) / 2)
