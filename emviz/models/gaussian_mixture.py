"""Gaussian mixture model API: parameters, posterior and the model for four covariance types.

Arrays follow scikit-learn's vocabulary: ``n_samples`` (N), ``n_components`` (K),
``n_features`` (D), ``resp`` and ``log_resp`` of shape (N, K), ``nk`` of shape (K,).
Internally the (K, N) transposes are used because every per-component reduction then runs
over contiguous memory; the public ``resp``/``log_resp`` are (N, K) views of them.
The E-step and M-step arithmetic lives in `emviz.models.gaussian_kernels`, as scikit-learn
keeps its numeric helpers apart from its estimator classes.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from itertools import combinations_with_replacement

import numpy as np
from scipy.cluster.vq import kmeans2

from emviz.models.gaussian_kernels import (
    _COVARIANCE_ESTIMATORS,
    COVARIANCE_TYPES,
    EPS,
    GaussianData,
    _check_distances_are_finite,
    _check_has_points,
    _check_not_collapsed,
    _cholesky_factors,
    _posterior_arrays,
    _weighted_moments,
    prepare_gaussian_data,
)
from emviz.models.gaussian_priors import gaussian_log_prior, map_parameters, prior_covariance
from emviz.models.protocol import (
    Capability,
    InvalidStart,
    PriorCounts,
    SingularParameters,
    TransposedResp,
    axis_names,
    mean_directions,
    unit_vector,
)

INIT_METHODS = ("random_from_data", "kmeans++", "kmeans", "spread")

# the model API, and the kernel names other modules imported from here before the split
__all__ = [
    "COVARIANCE_TYPES",
    "EPS",
    "INIT_METHODS",
    "GaussianData",
    "GaussianMixture",
    "GaussianParams",
    "GaussianPosterior",
    "prepare_gaussian_data",
]


def _responsibility_totals(posterior: GaussianPosterior) -> np.ndarray:
    """N_k = Σ_n r_nk, shape (n_components,): the last sufficient statistic (the constant
    feature) when the E-step gathered them."""
    if posterior.moments is not None:
        return posterior.moments[:, -1]
    return posterior.resp_t.sum(axis=1)


def _checked_params(data, nk, weights, means, covariances) -> GaussianParams:
    """The M-step's parameters from centred means, covariances made exactly symmetric.

    Raises
    ------
    SingularParameters
        When a covariance collapsed.
    """
    covariances = 0.5 * (covariances + np.swapaxes(covariances, 1, 2))
    _check_not_collapsed(covariances, nk, data)
    return GaussianParams(weights, means + data.offset, covariances)


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
class GaussianPosterior(TransposedResp):
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
    def log_joint(self) -> np.ndarray | None:
        """log π_k N(x_n | μ_k, Σ_k) = log r_nk + log p(x_n), shape (n_samples, n_components)."""
        return None if self.log_norm is None else self.log_resp + self.log_norm[:, None]


_INIT_BATCH_ELEMENTS = 2_000_000  # (restarts × points) per array of the batched seeding


def _kmeanspp_labels(centred: np.ndarray, n_components: int, seeds):
    """scipy's k-means++ seeding (``kmeans2(..., iter=1, minit="++")``) for many seeds at once.

    Each seed's generator makes the draws scipy's ``_kpp`` makes, in the same order (one
    integer, then one uniform per further centre); the distances, their running minimum, the
    normalised cumulative sums and the search are scipy's arithmetic on rows of an (R, N)
    array. Then one assignment to the nearest centre, as ``vq`` does (first minimum wins).

    Returns
    -------
    centres : ndarray of shape (R, K, D)  the seeds, on the centred data
    labels : ndarray of shape (R, N)  each point's nearest seed
    drawn : ndarray of shape (R,)  False where the distances summed to 0 (fewer distinct points
        than K), where scipy's own path must decide
    """
    generators = [np.random.default_rng(seed) for seed in seeds]
    first = np.array([g.integers(len(centred)) for g in generators])
    uniforms = np.array([[g.uniform() for _ in range(n_components - 1)] for g in generators])
    chosen = np.empty((len(seeds), n_components), dtype=np.int64)
    chosen[:, 0] = first
    nearest = np.full((len(seeds), len(centred)), np.inf)
    drawn = np.ones(len(seeds), dtype=bool)
    for i in range(1, n_components):
        np.minimum(nearest, _squared_distances(centred, centred[chosen[:, i - 1]]), out=nearest)
        total = nearest.sum(axis=1)
        drawn &= total > 0
        with np.errstate(invalid="ignore", divide="ignore"):  # rows with total 0: not drawn
            cumulative = np.cumsum(nearest / total[:, None], axis=1)
        # np.searchsorted(cumulative, u): how many cumulative values lie below u
        chosen[:, i] = (cumulative < uniforms[:, i - 1][:, None]).sum(axis=1)
    chosen = np.minimum(chosen, len(centred) - 1)
    centres = centred[chosen]  # (R, K, D)
    closest = _squared_distances(centred, centres[:, 0])
    labels = np.zeros(closest.shape, dtype=np.int64)
    for k in range(1, n_components):
        distance = _squared_distances(centred, centres[:, k])
        nearer = distance < closest  # strictly: on a tie the first centre keeps the point
        labels[nearer] = k
        np.minimum(closest, distance, out=closest)
    return centres, labels, drawn


def _squared_distances(centred: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Σ_d (x_nd − p_rd)², shape (R, N), summed over d in order as scipy's distances are."""
    total = np.zeros((len(points), len(centred)))
    for d in range(centred.shape[1]):
        difference = centred[None, :, d] - points[:, d, None]
        total += difference * difference
    return total


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
        resp_t, log_resp_t, log_norm, moments = _posterior_arrays(
            data, params.weights, params.means, params.covariances
        )
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
        nk = _responsibility_totals(posterior)
        _check_has_points(nk, data.n_samples)
        means, scatter = _weighted_moments(data, posterior.resp_t, posterior.moments, nk)
        covariances = _COVARIANCE_ESTIMATORS[self.covariance_type](scatter, nk, self.reg_covar)
        return _checked_params(data, nk, nk / nk.sum(), means, covariances)

    def map_m_step(self, data, posterior: GaussianPosterior, counts: PriorCounts) -> GaussianParams:
        """The parameters maximising Q(θ, q) + log p(θ) under the conjugate prior of
        `emviz.models.gaussian_priors` with these pseudo-counts (`Capability.CONJUGATE_PRIOR`).

        A component without points takes its mean and covariance from the prior, so only a
        collapsed covariance (a prior too weak to hold it) raises `SingularParameters`.
        """
        data = self.prepare(data)
        nk = _responsibility_totals(posterior)
        # x̄_k and S_k divide by N_k; the MAP estimates weight them by N_k, so a component with
        # N_k = 0 only needs them finite
        floored = np.maximum(nk, np.finfo(np.float64).tiny)
        means, scatter = _weighted_moments(data, posterior.resp_t, posterior.moments, floored)
        prior_cov = prior_covariance(data, self.n_components, self.covariance_type)
        weights, means, covariances = map_parameters(
            nk, means, scatter, counts, prior_cov, self.covariance_type, self.reg_covar
        )
        return _checked_params(data, nk, weights, means, covariances)

    def log_prior(self, data, params: GaussianParams, counts: PriorCounts) -> float:
        """log p(θ) of the conjugate prior with these pseudo-counts, normalising constants and
        all (`emviz.models.gaussian_priors.gaussian_log_prior`)."""
        data = self.prepare(data)
        return gaussian_log_prior(
            self.covariance_type,
            params.weights,
            params.means - data.offset,
            params.covariances,
            counts,
            prior_covariance(data, self.n_components, self.covariance_type),
        )

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
        """Raise InvalidStart with a readable message unless ``params`` can start a run."""
        if params.n_components != self.n_components:
            raise InvalidStart(
                f"The parameters have {params.n_components} components, "
                f"the model {self.n_components}."
            )
        if params.n_features != n_features:
            raise InvalidStart(
                f"The means have {params.n_features} coordinates, the data {n_features}."
            )
        if not params.is_finite():
            raise InvalidStart("The initial parameters contain NaN or infinite values.")
        if np.any(params.weights <= 0) or abs(params.weights.sum() - 1.0) > 1e-8:
            raise InvalidStart("The initial weights must be positive and add up to 1.")
        if not np.allclose(params.covariances, np.swapaxes(params.covariances, 1, 2)):
            raise InvalidStart("The initial covariances must be symmetric.")
        try:
            _cholesky_factors(params.covariances)
        except SingularParameters as error:
            raise InvalidStart(f"Invalid initial parameters: {error}") from error

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
            raise InvalidStart(
                f"{self.n_components} components need at least {self.n_components} points; "
                f"the data has {data.n_samples}."
            )
        if method == "random_from_data":
            return self._init_random_from_data(data, rng)
        if method == "spread":
            return self._init_spread(data)
        n_lloyd = 1 if method == "kmeans++" else 50
        _check_distances_are_finite(data)
        with warnings.catch_warnings():
            # An empty group borrows the data's covariance in _params_from_labels.
            warnings.filterwarnings("ignore", "One of the clusters is empty", UserWarning)
            # k-means++ divides by the summed distance to its seeds, 0 once every point is a
            # seed (fewer distinct points than K): the remaining seeds then repeat a point.
            warnings.filterwarnings(
                "ignore", "invalid value encountered in divide", RuntimeWarning, r"scipy\.cluster"
            )
            centroids, labels = kmeans2(  # the data is finite: prepare checked it
                data.centred,
                self.n_components,
                iter=n_lloyd,
                minit="++",
                rng=rng,
                check_finite=False,
            )
        return self._params_from_labels(data, labels, centroids)

    def _family_covariance(self, data: GaussianData) -> np.ndarray:
        """The data's own covariance, projected onto this model's covariance family, (K, D, D)."""
        scatter = np.broadcast_to(data.covariance, (self.n_components, *data.covariance.shape))
        nk = np.ones(self.n_components)
        return _COVARIANCE_ESTIMATORS[self.covariance_type](scatter, nk, self.reg_covar)

    def _init_random_from_data(self, data: GaussianData, rng) -> GaussianParams:
        distinct = np.unique(data.centred, axis=0)
        if len(distinct) < self.n_components:
            raise InvalidStart(f"The data has fewer than {self.n_components} distinct points.")
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
        rows = self._params_from_label_rows(data, labels[None, :], np.asarray(centroids)[None])
        return rows[0]

    def init_params_batch(self, X, method: str, seeds) -> list[GaussianParams]:
        """``[init_params(X, method, seed=s) for s in seeds]``, with the k-means++ seeding and
        its one assignment step run for many seeds at once (`_kmeanspp_labels`): the same
        random draws from each seed's generator, the same arithmetic, the same starts.

        Parameters
        ----------
        X : array of shape (n_samples, n_features) or GaussianData
        method : one of INIT_METHODS (only 'kmeans++' is batched; the others loop)
        seeds : sequence of int
        """
        data = self.prepare(X)
        seeds = [int(s) for s in seeds]
        if method != "kmeans++" or data.n_samples < self.n_components:
            return [self.init_params(data, method, seed=s) for s in seeds]
        _check_distances_are_finite(data)
        starts = []
        chunk = max(1, _INIT_BATCH_ELEMENTS // data.n_samples)  # restarts per (R, N) array
        for first in range(0, len(seeds), chunk):
            some = seeds[first : first + chunk]
            centres, labels, drawn = _kmeanspp_labels(data.centred, self.n_components, some)
            batch = self._params_from_label_rows(data, labels, centres)
            # a row whose draws ran out of distinct points takes scipy's own path
            starts += [
                params if ok else self.init_params(data, method, seed=seed)
                for params, ok, seed in zip(batch, drawn, some)
            ]
        return starts

    def _params_from_label_rows(self, data, labels, centres) -> list[GaussianParams]:
        """M-steps from R hard assignments at once, labels (R, N): each group's weight, mean and
        scatter; an empty group keeps its centre (R, K, D) and, like a group too small for a
        covariance, borrows the data's covariance."""
        n_rows, n_samples = labels.shape
        n_components, n_features = self.n_components, data.centred.shape[1]
        # one bincount over all rows: row r's group k is bin r·K + k
        bins = (labels + n_components * np.arange(n_rows)[:, None]).ravel()
        size = n_rows * n_components

        def group_sums(values: np.ndarray) -> np.ndarray:  # (R, N) → Σ over each group (R, K)
            sums = np.bincount(bins, weights=values.ravel(), minlength=size)
            return sums.reshape(n_rows, n_components)

        counts = np.bincount(bins, minlength=size).reshape(n_rows, n_components).astype(float)
        nk = np.maximum(counts, 1.0)
        filled = counts > 0
        centred = np.broadcast_to(data.centred, (n_rows, n_samples, n_features))
        sums = np.stack([group_sums(centred[..., d]) for d in range(n_features)], axis=-1)
        means = np.where(filled[..., None], sums / nk[..., None], centres)
        diff = centred - np.take_along_axis(means, labels[..., None], axis=1)
        scatter = np.empty((n_rows, n_components, n_features, n_features))
        for i, j in combinations_with_replacement(range(n_features), 2):
            scatter[..., i, j] = scatter[..., j, i] = group_sums(diff[..., i] * diff[..., j]) / nk
        fallback = np.broadcast_to(self._family_covariance(data), scatter.shape)
        scatter[~filled] = fallback[~filled]
        covariances = _COVARIANCE_ESTIMATORS[self.covariance_type](scatter, nk, self.reg_covar)
        smallest = np.linalg.eigvalsh(covariances)[..., 0]
        degenerate = ~(smallest > 1e-6 * data.scale)
        if self.covariance_type != "tied":
            degenerate |= counts < 2
        covariances[degenerate] = fallback[degenerate]
        weights = nk / nk.sum(axis=1, keepdims=True)
        return [
            GaussianParams(w, m + data.offset, c) for w, m, c in zip(weights, means, covariances)
        ]

    # ---- capabilities (emviz.models.protocol) ----

    capabilities = frozenset(
        {
            Capability.MIXTURE,
            Capability.N_PARAMETERS,
            Capability.SETTABLE_Q,
            Capability.CONJUGATE_PRIOR,
        }
    )
    objective = "log_likelihood"

    def q_of(self, resp_t: np.ndarray, log_resp_t: np.ndarray) -> GaussianPosterior:
        """A q given by its arrays, both (n_components, n_samples); ``log_resp_t`` must be
        finite (a floor such as log(tiny) where q is 0), as `entropy` assumes."""
        return GaussianPosterior(log_resp_t=log_resp_t, resp_t=resp_t)

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
