"""R restarts of a Gaussian mixture as one batch: where they end, how the ends group, and three
pitfalls of comparing runs.

Restart r of initialisation ``method`` is exactly
``run_em(model, X, model.init_params(X, method, seed=seed + r), max_iter=max_iter, tol=tol)``,
so "open restart r in the step page" means setting ``init = method`` and
``init_seed = seed + r`` there. The starts are drawn one by one (each is its own randomness);
the EM iterations are not a loop over `run_em`: all restarts move together, as arrays with a
leading restart axis R — weights (R, K), means (R, K, D), covariances (R, K, D, D) — on the
data centred on its mean as the engine centres it. A restart leaves the batch when it
converges (the rule of `emviz.convergence.ConvergenceMonitor`), when a component loses its
points or collapses ('singular', as the engine's M-step decides it) or when a value stops
being finite; the others go on. Its final parameters are those the engine's History ends
with: the last complete iteration's.

API
---
``run_restarts(X, model, method, n_restarts, *, seed=0, max_iter=100, tol=1e-6, atol) -> Restarts``
    ``Restarts`` holds, for restart r: ``seeds[r]``; final ``weights[r]`` (K,), ``means[r]``
    (K, D), ``covariances[r]`` (K, D, D); ``log_likelihoods[r]``; ``iterations[r]``
    (completed iterations, as ``History.n_iterations``); ``stop_reasons[r]`` (one of
    ``STOP_REASONS``, as ``History.stop_reason``); ``groups[r]`` (its solution, see below);
    ``elapsed`` seconds for the whole batch. ``params(r)`` is a `GaussianParams`; ``best``
    and ``worst`` are restart indices to draw side by side.
``batched_em(model, data, starts, *, max_iter, tol) -> dict``
    The batch itself, from any list of starting `GaussianParams` (the arrays above).
``group_table(restarts) -> list[dict]``
    One row per group: share of restarts, ℓ, mean iterations, representative restart.
``compare_initialisations(X, model, methods, n_restarts, *, seed, max_iter, tol) -> list[dict]``
    Per method: share of restarts reaching the best solution any method found, mean
    iterations, seconds.
``label_switch(params_a, params_b, scale) -> ndarray``, ``solution_distance``, ``permuted``
    The matching of components between two fits, and the distance after it.
``group_solutions(fit, scale, atol) -> ndarray``
    The groups, for `Restarts` or any dict of the same arrays.

Groups ("solutions up to label switching"): two fits are the same solution when, after the
best matching of their components, every matched weight, mean coordinate and covariance
entry agree within ``GROUP_ATOL`` (means in units of the data's standard deviation,
covariances of its variance). Converged restarts are grouped among themselves, group 0 the
highest ℓ; restarts stopped at ``max_iter`` form their own groups after those (a solution
that was not reached is not merged with one that was); singular and non-finite runs get
``FAILED`` (-1).

Pitfalls (the numbers a page shows):
``identical_start_run(X, model, *, nudge=0.0) -> IdenticalStart`` (all means at one point
stay identical: ``max_spread`` is 0), ``premature_ranking(X, model, method, n_restarts, *,
loose_tol, tight_tol) -> PrematureRanking`` (``discordant`` pairs of restarts that a loose
``tol`` ranks the wrong way round, ``winner_changes``), ``label_switch_example(restarts)``
(two restarts that found the same solution under different component numbers, and the
permutation between them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy.optimize import linear_sum_assignment

from emviz.convergence import ConvergenceMonitor
from emviz.engine import run_em
from emviz.history import History
from emviz.models.gaussian_kernels import (
    _COVARIANCE_ESTIMATORS,
    _EXPANSION_ERROR_BUDGET,
    EPS,
    LOG_2PI,
    SINGULAR_RTOL,
    _feature_pairs,
    _inverse_cholesky,
    _quadratic_coefficients,
)
from emviz.models.gaussian_mixture import INIT_METHODS, GaussianMixture, GaussianParams

STOP_REASONS = ("converged", "max_iter", "singular", "non_finite")
FAILED = -1
"""The group of a restart that ended singular or non-finite."""
GROUP_ATOL = 0.25
"""Two fits are one solution when matched parameters agree within this (weights as they are,
means in data standard deviations, covariances in data variances). Runs stopped by
tol = 1e-6 on a flat ridge of ℓ (overlapping clusters) stop up to about 0.2 apart on their way
to one maximum; distinct maxima measured 0.5 and more apart."""
MAX_RESTARTS = 500

# The engine's rounding budget for the expanded quadratic forms, in nats per point, and for
# E[x xᵀ] − μ μᵀ relative to the smallest variance (emviz.models.gaussian_mixture).
_SCATTER_RTOL = 1e-9
# The parameter algebra (Cholesky factors, eigenvalues, checks) runs over all restarts at
# once; the (R, K, N) work of the E-step runs over blocks of restarts whose arrays stay in
# cache (2**18 doubles = 2 MiB). Responsibilities are kept only where the M-step needs them
# (D > 3): then at most _CHUNK_ELEMENTS of them per chunk of restarts.
_BLOCK_ELEMENTS = 2**18
_CHUNK_ELEMENTS = 2 * 10**7


@dataclass(frozen=True, eq=False)
class Restarts:
    """Where R restarts of one initialisation method ended.

    Attributes
    ----------
    method : str
        The initialisation (`GaussianMixture.init_params`).
    seeds : ndarray of shape (R,)
        Restart r started from ``model.init_params(X, method, seed=seeds[r])``.
    weights : ndarray of shape (R, K)
    means : ndarray of shape (R, K, D)
    covariances : ndarray of shape (R, K, D, D)
        Final parameters (the last complete iteration's, as `History.final_params`).
    log_likelihoods : ndarray of shape (R,)
        log p(X | final parameters).
    iterations : ndarray of shape (R,), int
        Completed iterations (`History.n_iterations`).
    stop_reasons : ndarray of shape (R,), str
        One of `STOP_REASONS` (`History.stop_reason`).
    groups : ndarray of shape (R,), int
        Solution up to label switching: 0 the converged solution of highest ℓ, then the
        others by ℓ, then the groups of runs stopped at max_iter; `FAILED` (-1) for singular
        and non-finite runs.
    elapsed : float
        Seconds for the whole batch, initialisations included.
    model : GaussianMixture
    scale : float
        The data's average per-feature variance: the unit of the grouping tolerance.
    tol, max_iter : the stopping settings
    atol : float
        The tolerance of "the same solution" the groups were made with.
    """

    method: str
    seeds: np.ndarray
    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    log_likelihoods: np.ndarray
    iterations: np.ndarray
    stop_reasons: np.ndarray
    groups: np.ndarray
    elapsed: float
    model: GaussianMixture
    scale: float
    tol: float
    max_iter: int
    atol: float = GROUP_ATOL

    @property
    def n_restarts(self) -> int:
        return len(self.seeds)

    def params(self, r: int) -> GaussianParams:
        """Final parameters of restart ``r``."""
        return GaussianParams(self.weights[r], self.means[r], self.covariances[r])

    @property
    def best(self) -> int:
        """The restart of highest ℓ among the best group's (or among all when none converged)."""
        return _best_of(self.log_likelihoods, self.groups == 0)

    @property
    def worst(self) -> int:
        """The converged restart of lowest ℓ (or of all runs with a group when none converged)."""
        converged = self.stop_reasons == "converged"
        pool = converged if converged.any() else self.groups != FAILED
        return _best_of(-self.log_likelihoods, pool)


def _best_of(values: np.ndarray, pool: np.ndarray) -> int:
    candidates = np.flatnonzero(pool) if pool.any() else np.arange(len(values))
    return int(candidates[np.argmax(values[candidates])])


# ---- the batch ---------------------------------------------------------------------------


def run_restarts(
    X,
    model: GaussianMixture,
    method: str,
    n_restarts: int,
    *,
    seed: int = 0,
    max_iter: int = 100,
    tol: float = 1e-6,
    atol: float = GROUP_ATOL,
) -> Restarts:
    """Run EM from ``n_restarts`` starts of ``method`` (seeds ``seed``, ``seed + 1``, …) at once.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
    model : GaussianMixture
    method : one of ``INIT_METHODS``
    n_restarts : int
        R, between 1 and ``MAX_RESTARTS``.
    seed : int
        Seed of restart 0.
    max_iter, tol : as for `run_em`.
    atol : float
        Tolerance of "the same solution" (`GROUP_ATOL`).

    Returns
    -------
    Restarts
    """
    if method not in INIT_METHODS:
        raise ValueError(f"Unknown initialisation {method!r}; choose one of {INIT_METHODS}")
    if int(n_restarts) != n_restarts or not 1 <= n_restarts <= MAX_RESTARTS:
        raise ValueError(f"n_restarts must be a whole number from 1 to {MAX_RESTARTS}")
    if int(max_iter) != max_iter or max_iter < 0:
        raise ValueError(f"max_iter must be a whole number >= 0, got {max_iter}")
    started = time.perf_counter()
    data = model.prepare(X)
    seeds = np.arange(seed, seed + n_restarts, dtype=np.int64)
    starts = model.init_params_batch(data, method, seeds)  # = init_params per seed
    fit = batched_em(model, data, starts, max_iter=int(max_iter), tol=tol)
    groups = group_solutions(fit, data.scale, atol)
    return Restarts(
        method=method,
        seeds=seeds,
        **fit,
        groups=groups,
        elapsed=time.perf_counter() - started,
        model=model,
        scale=data.scale,
        tol=float(tol),
        max_iter=int(max_iter),
        atol=float(atol),
    )


def batched_em(model: GaussianMixture, data, starts, *, max_iter: int, tol: float) -> dict:
    """EM from every start in ``starts`` at once; what `run_em` ends with, for each start.

    Parameters
    ----------
    model : GaussianMixture
    data : the model's prepared data (``model.prepare(X)``)
    starts : sequence of GaussianParams
    max_iter, tol : as for `run_em`.

    Returns
    -------
    dict
        ``weights`` (R, K), ``means`` (R, K, D), ``covariances`` (R, K, D, D),
        ``log_likelihoods`` (R,), ``iterations`` (R,), ``stop_reasons`` (R,), the arrays of
        `Restarts` of the same names.
    """
    n_components, n_features = model.n_components, data.centred.shape[1]
    # without quadratic features the responsibilities are kept for the M-step: in chunks
    chunk = (
        len(starts)
        if data.features is not None
        else _CHUNK_ELEMENTS // (n_components * data.n_samples)
    )
    chunk = max(1, chunk)
    parts = [
        _Fit.run(model, data, _Batch.stack(starts[i : i + chunk], data.offset), max_iter, tol)
        for i in range(0, len(starts), chunk)
    ]
    final = _Batch.concatenate([part.params for part in parts])
    means = final.means + data.offset
    shapes = (n_components, n_features)
    return {
        "weights": _read_only(final.weights.reshape(-1, n_components)),
        "means": _read_only(means.reshape(-1, *shapes)),
        "covariances": _read_only(final.covariances.reshape(-1, *shapes, n_features)),
        "log_likelihoods": _read_only(np.concatenate([p.log_likelihoods for p in parts])),
        "iterations": _read_only(np.concatenate([p.iterations for p in parts])),
        "stop_reasons": _read_only(np.concatenate([p.stop_reasons for p in parts])),
    }


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class _Batch:
    """Parameters of R mixtures on the centred data: weights (R, K), means (R, K, D),
    covariances (R, K, D, D)."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    @classmethod
    def stack(cls, params, offset) -> _Batch:
        return cls(
            np.stack([p.weights for p in params]),
            np.stack([p.means for p in params]) - offset,
            np.stack([p.covariances for p in params]),
        )

    @classmethod
    def concatenate(cls, batches) -> _Batch:
        return cls(*(np.concatenate(arrays) for arrays in zip(*(b.fields() for b in batches))))

    def fields(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.weights, self.means, self.covariances

    def take(self, rows) -> _Batch:
        return _Batch(*(array[rows] for array in self.fields()))

    def put(self, rows, values: _Batch) -> None:
        for array, new in zip(self.fields(), values.fields()):
            array[rows] = new

    def is_finite(self) -> np.ndarray:
        return np.all([np.isfinite(a).all(axis=tuple(range(1, a.ndim))) for a in self.fields()], 0)


@dataclass
class _Fit:
    """The final state of every restart of a chunk, filled in as restarts stop."""

    params: _Batch
    log_likelihoods: np.ndarray
    iterations: np.ndarray
    stop_reasons: np.ndarray

    @classmethod
    def run(cls, model, data, start: _Batch, max_iter: int, tol: float) -> _Fit:
        """EM for every restart of ``start``, iterations in lock step, stopped ones dropped.

        Mirrors `run_em`: an M-step that raises SingularParameters there, or an E-step whose
        Cholesky factorisation fails, stops the restart as 'singular' with the previous
        iteration's parameters; non-finite values stop it as 'non_finite'.
        """
        n_restarts = len(start.weights)
        fit = cls(
            params=_Batch(*(array.copy() for array in start.fields())),
            log_likelihoods=np.full(n_restarts, np.nan),
            iterations=np.zeros(n_restarts, dtype=np.int64),
            stop_reasons=np.full(n_restarts, "max_iter", dtype="<U10"),
        )
        monitor = ConvergenceMonitor(tol, data.n_samples)
        live = _Live.evaluate(data, np.arange(n_restarts), start)
        # a start whose density is undefined would be refused by run_em: it never moves
        live = fit.stop(live, ~live.valid, "singular")
        fit.record(live, 0)
        for iteration in range(1, max_iter + 1):
            if len(live.rows) == 0:
                break
            params, has_density = _m_step(model, data, live)
            live = fit.stop(live, ~has_density, "singular")
            live = _Live.evaluate(data, live.rows, params.take(has_density))
            live = fit.stop(live, ~live.valid, "singular")
            live = fit.stop(live, ~live.is_finite(), "non_finite")
            previous = fit.log_likelihoods[live.rows]
            fit.record(live, iteration)
            live = fit.stop(live, monitor.settled(previous, live.log_likelihoods), "converged")
        return fit

    def stop(self, live: _Live, stopping: np.ndarray, reason: str) -> _Live:
        """Mark the restarts of ``live`` where ``stopping`` as stopped for ``reason``; the
        others go on. Their recorded state stays that of their last complete iteration."""
        if not stopping.any():
            return live
        self.stop_reasons[live.rows[stopping]] = reason
        return live.take(~stopping)

    def record(self, live: _Live, iteration: int) -> None:
        """``live`` completed ``iteration``: its parameters and ℓ become the final ones."""
        self.params.put(live.rows, live.params)
        self.log_likelihoods[live.rows] = live.log_likelihoods
        self.iterations[live.rows] = iteration


@dataclass(frozen=True)
class _Live:
    """The restarts still iterating: their rows in the chunk, parameters and E-step there.

    ``moments`` (R, K, F) are the sufficient statistics Σ_n r_nk φ(x_n) (None without
    quadratic features); ``resp`` (R, K, N) the responsibilities, kept only without features.
    ``valid`` is False where a covariance has no Cholesky factor (the density is undefined).
    """

    rows: np.ndarray
    params: _Batch
    log_likelihoods: np.ndarray
    moments: np.ndarray | None
    resp: np.ndarray | None
    valid: np.ndarray

    @classmethod
    def evaluate(cls, data, rows, params: _Batch) -> _Live:
        return cls(rows, params, *_e_step(data, params, keep_resp=data.features is None))

    def take(self, keep: np.ndarray) -> _Live:
        return _Live(
            self.rows[keep],
            self.params.take(keep),
            self.log_likelihoods[keep],
            None if self.moments is None else self.moments[keep],
            None if self.resp is None else self.resp[keep],
            self.valid[keep],
        )

    def resp_of(self, data, keep: np.ndarray) -> np.ndarray:
        """Responsibilities of the restarts ``keep``, recomputed when they were not kept."""
        if self.resp is not None:
            return self.resp[keep]
        return _e_step(data, self.params.take(keep), keep_resp=True)[2]

    def is_finite(self) -> np.ndarray:
        return self.params.is_finite() & np.isfinite(self.log_likelihoods)


# ---- batched E-step and M-step (the engine's arithmetic with a leading restart axis) ------


def _e_step(data, batch: _Batch, *, keep_resp: bool):
    """(log_likelihoods (R,), moments (R, K, F) or None, resp (R, K, N) or None, valid (R,)).

    Restarts whose covariances have no Cholesky factor (``valid`` False) get placeholder
    values. ``resp`` is returned only when ``keep_resp``.
    """
    chol, valid = _cholesky_factors(batch.covariances)
    log_joint = _LogJoint.of(data, batch, chol)
    n_restarts, n_components = batch.weights.shape
    shape = (n_restarts, n_components, data.n_samples)
    log_likelihoods = np.empty(n_restarts)
    n_moments = 0 if data.features is None else len(data.features)
    moments = np.empty((n_restarts, n_components, n_moments)) if n_moments else None
    resp = np.empty(shape) if keep_resp else None
    # the exact quadratic holds (K, N, D) differences per restart
    blocks = _blocks(n_restarts, shape[1] * shape[2] * (1 if n_moments else data.X.shape[1]))
    largest = max((rows.stop - rows.start for rows in blocks), default=0)
    buffer = None if keep_resp else np.empty((largest, *shape[1:]))
    for rows in blocks:
        out = resp[rows] if keep_resp else buffer[: rows.stop - rows.start]
        log_joint.fill(data, rows, out, relative=True)
        log_likelihoods[rows] = _normalise(
            out, lambda some, first=rows.start: log_joint.fill(data, some + first)
        )
        if moments is not None:
            np.matmul(out, data.features.T, out=moments[rows])
    return log_likelihoods, moments, resp, valid


@dataclass(frozen=True)
class _LogJoint:
    """log π_k + log N(x_n | μ_k, Σ_k) of a batch, computed for any restarts on demand.

    Attributes
    ----------
    const : (R, K) log π_k − ½ (D log 2π + log|Σ_k|)
    means : (R, K, D) on the centred data
    inv_chol : (R, K, D, D) L⁻¹ for Σ = L Lᵀ
    expand : (R,) whether the expanded quadratic is accurate enough for that restart
    coefficients : (R, K, F) or None, the log-joint as a linear function of the features
    relative : (R, K, F) or None, the same for the relative form (see `fill`)
    """

    const: np.ndarray
    means: np.ndarray
    inv_chol: np.ndarray
    expand: np.ndarray
    coefficients: np.ndarray | None
    relative: np.ndarray | None

    @classmethod
    def of(cls, data, batch: _Batch, chol: np.ndarray) -> _LogJoint:
        # log|Σ| = 2 Σ_i log L_ii for Σ = L Lᵀ
        log_det = 2.0 * np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(axis=-1)
        with np.errstate(divide="ignore"):
            log_weights = np.log(batch.weights)
        const = log_weights - 0.5 * (batch.means.shape[-1] * LOG_2PI + log_det)
        inv_chol = _inverse_cholesky(chol)  # a triangular solve, not a general inverse
        expand = _expansion_is_accurate(data, batch.means, inv_chol)
        coefficients = relative = None
        if expand.any():
            precisions = np.swapaxes(inv_chol, -1, -2) @ inv_chol
            coefficients = -0.5 * _quadratic_coefficients(precisions, batch.means)
            coefficients[..., -1] += const  # the last feature is the constant 1
            relative = coefficients.copy()
            relative[:, :-1] -= coefficients[:, -1:]
        return cls(const, batch.means, inv_chol, expand, coefficients, relative)

    def fill(self, data, rows, out=None, *, relative: bool = False) -> np.ndarray:
        """The log-joint l_nk of restarts ``rows`` (a slice or indices), shape (R', K, N), in
        ``out``; ``relative``: l_nk − l_nK for k < K and l_nK in the last row."""
        if out is None:
            out = np.empty((*self.const[rows].shape, data.n_samples))
        expand = self.expand[rows]
        if expand.any():
            # a stack of small products, one per restart: a single large product would be
            # split across threads by BLAS, which is slower on a busy machine
            coefficients = self.relative if relative else self.coefficients
            np.matmul(coefficients[rows], data.features, out=out)
        if not expand.all():
            exact = np.arange(len(self.const))[rows][~expand]
            quadratic = _exact_quadratic(data.centred, self.means[exact], self.inv_chol[exact])
            log_joint = self.const[exact][..., None] - 0.5 * quadratic
            if relative:
                log_joint[:, :-1] -= log_joint[:, -1:]
            out[~expand] = log_joint
        return out


def _cholesky_factors(covariances: np.ndarray):
    try:
        return np.linalg.cholesky(covariances), np.ones(len(covariances), dtype=bool)
    except np.linalg.LinAlgError:
        pass
    # some restart's covariance is not positive definite: find which, one restart at a time
    chol = np.empty_like(covariances)
    valid = np.ones(len(covariances), dtype=bool)
    for r, stack in enumerate(covariances):
        try:
            chol[r] = np.linalg.cholesky(stack)
        except np.linalg.LinAlgError:
            chol[r] = np.eye(stack.shape[-1])
            valid[r] = False
    return chol, valid


def _expansion_is_accurate(data, means, inv_chol) -> np.ndarray:
    """Per restart: whether the expanded quadratic keeps within the rounding budget.

    The engine bounds the rounding by |x|² λ_max(Σ⁻¹); here λ_max is bounded by the trace
    of Σ⁻¹ = |L⁻¹|²_F, cheaper and never smaller, so this test is at least as strict.
    """
    if data.features is None:
        return np.zeros(len(means), dtype=bool)
    largest_precision = np.einsum("rkij,rkij->rk", inv_chol, inv_chol)
    sq_norms = np.einsum("rkd,rkd->rk", means, means)
    magnitude = (data.max_sq_norm + sq_norms) * largest_precision
    return 8 * EPS * magnitude.max(axis=-1) <= _EXPANSION_ERROR_BUDGET


def _exact_quadratic(centred, means, inv_chol) -> np.ndarray:
    """(x - μ)ᵀ Σ⁻¹ (x - μ) = |L⁻¹(x - μ)|², shape (R, K, N), from centred differences."""
    diff = centred - means[..., None, :]  # (R, K, N, D)
    whitened = diff @ np.swapaxes(inv_chol, -1, -2)
    return np.einsum("...nd,...nd->...n", whitened, whitened)


def _blocks(n_restarts: int, elements_per_restart: int):
    """Slices of consecutive restarts whose arrays hold about _BLOCK_ELEMENTS numbers."""
    size = max(1, _BLOCK_ELEMENTS // elements_per_restart)
    return [slice(i, min(i + size, n_restarts)) for i in range(0, n_restarts, size)]


def _normalise(relative: np.ndarray, recompute) -> np.ndarray:
    """Turn the relative log-joint (`_LogJoint.fill`, shape (R, K, N)) into the
    responsibilities in place; return each restart's log-likelihood Σ_n log p(x_n), (R,).

    The engine subtracts each point's largest log-joint before exponentiating. Here the last
    component's is subtracted instead, inside the matrix product: with d_k = l_k − l_K,
    p(x) = e^{l_K} (1 + Σ_{k<K} e^{d_k}) and r_k = e^{d_k} / (1 + Σ_j e^{d_j}), r_K =
    1 / (1 + Σ_j e^{d_j}) — one exponential fewer per point, and no pass to find the maximum.
    The sum is at least 1, so it cannot underflow; where it overflows (a point very much
    closer to another component than to the last), those restarts get the engine's shifted
    sums, from their log-joint again (``recompute(indices)``).
    """
    others, last = relative[:, :-1], relative[:, -1]
    with np.errstate(over="ignore", invalid="ignore"):
        np.exp(others, out=others)
        total = others.sum(axis=1)
        total += 1.0
        log_likelihoods = last.sum(axis=-1) + np.log(total).sum(axis=-1)
        inverse = 1.0 / total
        for k in range(others.shape[1]):  # one component at a time: faster than broadcasting
            others[:, k] *= inverse
    last[...] = inverse
    unsafe = np.flatnonzero(~np.isfinite(log_likelihoods))  # NaN stays NaN below
    if len(unsafe):
        shifted = recompute(unsafe)
        log_max = shifted.max(axis=1)
        shifted -= log_max[:, None]
        np.exp(shifted, out=shifted)
        total = shifted.sum(axis=1)
        shifted /= total[:, None]
        relative[unsafe] = shifted
        log_likelihoods[unsafe] = (log_max + np.log(total)).sum(axis=-1)
    return log_likelihoods


def _m_step(model: GaussianMixture, data, live: _Live):
    """(new parameters, has_density (R,)): the engine's M-step for every restart of ``live``.

    ``has_density`` is False where the engine raises SingularParameters: a component with no
    responsibility left, or a covariance whose smallest eigenvalue is below SINGULAR_RTOL of
    the data's variance (NaN counts as collapsed, as there).
    """
    if live.moments is not None:
        nk = live.moments[..., -1]
    else:
        nk = live.resp.sum(axis=-1)
    has_points = (nk > 10 * EPS * data.n_samples).all(axis=-1)
    nk = np.where(has_points[:, None], nk, 1.0)  # placeholders: those restarts stop here
    means, scatter = _weighted_moments(data, live, nk)
    covariances = _COVARIANCE_ESTIMATORS[model.covariance_type](scatter, nk, model.reg_covar)
    covariances = 0.5 * (covariances + np.swapaxes(covariances, -1, -2))
    smallest = np.linalg.eigvalsh(covariances)[..., 0]
    not_collapsed = (smallest > SINGULAR_RTOL * data.scale).all(axis=-1)
    weights = nk / nk.sum(axis=-1, keepdims=True)
    return _Batch(weights, means, covariances), has_points & not_collapsed


def _weighted_moments(data, live: _Live, nk):
    """Weighted means (R, K, D) and scatter matrices (R, K, D, D) of the centred data."""
    n_features = data.centred.shape[1]
    if live.moments is None:
        means = (live.resp @ data.centred) / nk[..., None]
        return means, _exact_scatter(data.centred, live.resp, nk, means)
    scaled = live.moments / nk[..., None]
    rows, cols = np.array(_feature_pairs(n_features)).T
    n_pairs = len(rows)
    means = scaled[..., n_pairs : n_pairs + n_features]
    scatter = np.empty((*means.shape, n_features))
    scatter[..., rows, cols] = scaled[..., :n_pairs]
    scatter[..., cols, rows] = scaled[..., :n_pairs]
    scatter -= means[..., :, None] * means[..., None, :]
    # E[x xᵀ] − μ μᵀ loses about eps·E|x|²: keep it only where that is tiny next to the
    # smallest variance, as the engine does; recompute the others from differences
    smallest = np.linalg.eigvalsh(scatter)[..., 0]
    second_trace = np.trace(scatter, axis1=-2, axis2=-1) + np.einsum("...d,...d->...", means, means)
    accurate = (smallest > 0) & (8 * EPS * second_trace <= _SCATTER_RTOL * smallest)
    cancelled = ~accurate.all(axis=-1)
    if cancelled.any():
        resp = live.resp_of(data, cancelled)
        scatter[cancelled] = _exact_scatter(data.centred, resp, nk[cancelled], means[cancelled])
    return means, scatter


def _exact_scatter(centred, resp, nk, means) -> np.ndarray:
    """Σ_n r_nk (x_n − μ_k)(x_n − μ_k)ᵀ / N_k, shape (R, K, D, D), from differences."""
    n_restarts, n_components, n_samples = resp.shape
    scatter = np.empty((*means.shape, means.shape[-1]))
    for rows in _blocks(n_restarts, n_components * n_samples * means.shape[-1]):
        diff = centred - means[rows, :, None, :]  # (R, K, N, D)
        weighted = resp[rows, ..., None] * diff
        scatter[rows] = np.swapaxes(weighted, -1, -2) @ diff / nk[rows, :, None, None]
    return scatter


# ---- solutions up to label switching ------------------------------------------------------


def label_switch(params_a: GaussianParams, params_b: GaussianParams, scale: float = 1.0):
    """The matching of components between two fits: component ``perm[k]`` of ``params_b`` is
    component k of ``params_a`` (the assignment of least total `component distance`).

    Parameters
    ----------
    params_a, params_b : GaussianParams with the same K and D
    scale : float
        The data's variance: means are compared in units of its square root, covariances in
        its units.

    Returns
    -------
    ndarray of shape (K,), int
        ``permuted(params_b, perm)`` numbers its components as ``params_a`` does.
    """
    return _matching(_component_costs(_fields(params_a), _fields(params_b), scale))[0]


def solution_distance(params_a: GaussianParams, params_b: GaussianParams, scale: float = 1.0):
    """Largest disagreement of matched components: weights, mean coordinates (in data
    standard deviations) and covariance entries (in data variances); 0 for a relabelling."""
    return _matching(_component_costs(_fields(params_a), _fields(params_b), scale))[1]


def permuted(params: GaussianParams, perm) -> GaussianParams:
    """``params`` with its components renumbered: new component k is old ``perm[k]``."""
    perm = np.asarray(perm)
    return GaussianParams(params.weights[perm], params.means[perm], params.covariances[perm])


def _fields(params: GaussianParams):
    return params.weights, params.means, params.covariances


def _component_costs(a, b, scale: float) -> np.ndarray:
    """Cost of matching component i of ``a`` with j of ``b``, shape (..., K, K).

    ``a`` and ``b`` are (weights, means, covariances) with any leading axes that broadcast.
    """
    (wa, ma, ca), (wb, mb, cb) = a, b
    weights = np.abs(wa[..., :, None] - wb[..., None, :])
    means = np.abs(ma[..., :, None, :] - mb[..., None, :, :]).max(axis=-1) / np.sqrt(scale)
    covariances = np.abs(ca[..., :, None, :, :] - cb[..., None, :, :, :]).max(axis=(-2, -1))
    return np.maximum(np.maximum(weights, means), covariances / scale)


def _matching(costs: np.ndarray):
    """(perm, distance): the assignment of least total cost and its largest matched cost."""
    rows, perm = linear_sum_assignment(costs)
    return perm, float(costs[rows, perm].max())


def group_solutions(fit, scale: float, atol: float = GROUP_ATOL) -> np.ndarray:
    """Group number of each restart (see `Restarts.groups`).

    Restarts are taken best ℓ first; each joins the closest existing group whose first (best)
    member it matches within ``atol`` up to a permutation, or opens a new group. Converged
    restarts are grouped first, then those stopped at max_iter, each among themselves.

    Parameters
    ----------
    fit : Restarts or the dict `batched_em` returns
    scale : float
        The data's average per-feature variance.
    """
    get = fit.__getitem__ if isinstance(fit, dict) else fit.__getattribute__
    weights, means, covariances = get("weights"), get("means"), get("covariances")
    log_likelihoods, stop_reasons = get("log_likelihoods"), get("stop_reasons")
    groups = np.full(len(log_likelihoods), FAILED, dtype=np.int64)
    # permutation-invariant summaries: sorted weights and sorted mean coordinates differ by no
    # more than the matched parameters do, so they rule most groups out without a matching
    summaries = np.concatenate(
        [np.sort(weights, axis=1), np.sort(means, axis=1).reshape(len(means), -1) / np.sqrt(scale)],
        axis=1,
    )
    n_groups = 0
    for reason in ("converged", "max_iter"):
        members = np.flatnonzero(stop_reasons == reason)
        leaders: list[int] = []
        for r in members[np.argsort(-log_likelihoods[members], kind="stable")]:
            gaps = np.abs(summaries[leaders] - summaries[r]).max(axis=-1, initial=0.0)
            near = np.asarray(leaders, dtype=np.int64)[gaps <= atol]
            costs = _component_costs(
                (weights[near], means[near], covariances[near]),
                (weights[r], means[r], covariances[r]),
                scale,
            )
            distances = [_matching(cost)[1] for cost in costs]
            if distances and min(distances) <= atol:
                groups[r] = groups[near[int(np.argmin(distances))]]
            else:
                groups[r] = n_groups + len(leaders)
                leaders.append(int(r))
        n_groups += len(leaders)
    return groups


def group_table(restarts: Restarts) -> list[dict]:
    """One row per group of `Restarts.groups`, best first; failed runs last, one row per reason.

    Returns
    -------
    list of dict
        ``group`` (-1 for failed runs), ``stop_reason`` ('converged', 'max_iter', 'singular'
        or 'non_finite'), ``runs``, ``share`` of all restarts, ``log_likelihood`` of the
        representative, ``mean_iterations``, ``representative`` (the member of highest ℓ;
        for failed runs the first) and its ``seed``.
    """
    rows = []
    keys = [(int(g), None) for g in np.unique(restarts.groups) if g != FAILED]
    keys += [(FAILED, reason) for reason in STOP_REASONS[2:] if reason in restarts.stop_reasons]
    for group, reason in keys:
        members = restarts.groups == group
        if reason is not None:
            members &= restarts.stop_reasons == reason
        indices = np.flatnonzero(members)
        representative = indices[0] if reason else _best_of(restarts.log_likelihoods, members)
        rows.append(
            {
                "group": group,
                "stop_reason": str(restarts.stop_reasons[representative]),
                "runs": len(indices),
                "share": len(indices) / restarts.n_restarts,
                "log_likelihood": float(restarts.log_likelihoods[representative]),
                "mean_iterations": float(restarts.iterations[indices].mean()),
                "representative": int(representative),
                "seed": int(restarts.seeds[representative]),
            }
        )
    return rows


def compare_initialisations(
    X,
    model: GaussianMixture,
    methods=INIT_METHODS,
    n_restarts: int = 100,
    *,
    seed: int = 0,
    max_iter: int = 100,
    tol: float = 1e-6,
    atol: float = GROUP_ATOL,
) -> list[dict]:
    """The initialisation methods on the same data: how often each reaches the best solution.

    The best solution is the converged fit of highest ℓ over every method's restarts; a
    restart reaches it when it converged within ``atol`` of it up to label switching.

    Returns
    -------
    list of dict, one per method
        ``method``, ``restarts``, ``share_best``, ``share_converged``, ``share_failed``
        (singular or non-finite), ``mean_iterations``, ``best_log_likelihood`` (of the
        method's own converged restarts; None when none converged), ``seconds``.
    """
    runs = [
        run_restarts(X, model, m, n_restarts, seed=seed, max_iter=max_iter, tol=tol, atol=atol)
        for m in methods
    ]
    best = _overall_best(runs)
    rows = []
    for run in runs:
        converged = run.stop_reasons == "converged"
        reached = [
            best is not None and solution_distance(best, run.params(r), run.scale) <= atol
            for r in np.flatnonzero(converged)
        ]
        rows.append(
            {
                "method": run.method,
                "restarts": run.n_restarts,
                "share_best": sum(reached) / run.n_restarts,
                "share_converged": float(converged.mean()),
                "share_failed": float((run.groups == FAILED).mean()),
                "mean_iterations": float(run.iterations.mean()),
                "best_log_likelihood": (
                    float(run.log_likelihoods[converged].max()) if converged.any() else None
                ),
                "seconds": run.elapsed,
            }
        )
    return rows


def _overall_best(runs: list[Restarts]) -> GaussianParams | None:
    candidates = [
        (run.log_likelihoods[r], run.params(r))
        for run in runs
        for r in np.flatnonzero(run.stop_reasons == "converged")
    ]
    return max(candidates, key=lambda pair: pair[0])[1] if candidates else None


# ---- pitfalls ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class IdenticalStart:
    """EM from a start whose means all sit at one point.

    Attributes
    ----------
    history : History
        The run (`run_em`).
    spreads : ndarray of shape (n_iterations + 1,)
        The largest distance between two means at the start and after each iteration.
    nudge : float
        How far component 1's mean was moved off the common point, in data standard
        deviations (0: all means identical).
    """

    history: History
    spreads: np.ndarray
    nudge: float

    @property
    def max_spread(self) -> float:
        """0 exactly when the means never separate."""
        return float(self.spreads.max())


def identical_start_run(
    X, model: GaussianMixture, *, nudge: float = 0.0, max_iter: int = 100, tol: float = 1e-6
) -> IdenticalStart:
    """EM with every mean at the data mean, equal weights and the data's covariance for each
    component: every component gets the same responsibilities, so the M-step gives them the
    same parameters again and the symmetry is never broken (the fit is one Gaussian K times).

    The run stops as "converged" after two iterations: ℓ no longer changes at this saddle
    point. ``nudge`` moves component 1's mean by that many data standard deviations along the
    first axis, which lets the components separate (given a small enough ``tol`` to get
    going: the climb away from the saddle starts slowly).
    """
    data = model.prepare(X)
    # equal weights and the data's covariance in the model's family, from a standard start
    template = model.init_params(data, "spread")
    means = np.tile(data.offset, (model.n_components, 1))
    means[0, 0] += nudge * np.sqrt(data.scale)
    start = GaussianParams(template.weights, means, template.covariances)
    history = run_em(model, data.X, start, max_iter=max_iter, tol=tol)
    spreads = np.array(
        [_largest_gap(step.params.means) for step in history.steps if step.phase != "E"]
    )
    return IdenticalStart(history=history, spreads=spreads, nudge=float(nudge))


def _largest_gap(means: np.ndarray) -> float:
    return float(np.linalg.norm(means[:, None] - means[None], axis=-1).max())


@dataclass(frozen=True, eq=False)
class PrematureRanking:
    """The same restarts stopped by a loose and by a tight ``tol``, ranked by ℓ.

    Attributes
    ----------
    loose, tight : Restarts
        Same starts; ``tight`` runs on from where ``loose`` stopped (same arithmetic), so its
        ℓ is at least as high for every restart.
    discordant : list of (int, int)
        Pairs (a, b) of restarts that the tight run finds at different solutions with
        ℓ_a > ℓ_b, but that the loose run ranked the other way round.
    """

    loose: Restarts
    tight: Restarts
    discordant: list

    @property
    def best_loose(self) -> int:
        return int(np.argmax(self.loose.log_likelihoods))

    @property
    def best_tight(self) -> int:
        return int(np.argmax(self.tight.log_likelihoods))

    @property
    def winner_changes(self) -> bool:
        """Whether the restart the loose ranking picks ends at a worse solution than the best."""
        return self.tight.groups[self.best_loose] != self.tight.groups[self.best_tight]


def premature_ranking(
    X,
    model: GaussianMixture,
    method: str = "random_from_data",
    n_restarts: int = 20,
    *,
    seed: int = 0,
    loose_tol: float = 1e-2,
    tight_tol: float = 1e-8,
    max_iter: int = 1000,
) -> PrematureRanking:
    """Rank ``n_restarts`` restarts by ℓ after a loose and after a tight stopping rule."""
    loose, tight = (
        run_restarts(X, model, method, n_restarts, seed=seed, max_iter=max_iter, tol=t)
        for t in (loose_tol, tight_tol)
    )
    return PrematureRanking(loose, tight, _discordant_pairs(loose, tight))


def _discordant_pairs(loose: Restarts, tight: Restarts) -> list:
    pairs = []
    for a, b in combinations(range(tight.n_restarts), 2):
        if tight.groups[a] == tight.groups[b] or FAILED in (tight.groups[a], tight.groups[b]):
            continue
        if tight.log_likelihoods[a] < tight.log_likelihoods[b]:
            a, b = b, a
        if loose.log_likelihoods[a] < loose.log_likelihoods[b]:
            pairs.append((a, b))
    return pairs


def label_switch_example(restarts: Restarts) -> tuple[int, int, np.ndarray] | None:
    """Two restarts of the best group whose components are numbered differently:
    (best restart, other restart, `label_switch` permutation), or None if all agree."""
    best = restarts.best
    for r in np.flatnonzero(restarts.groups == restarts.groups[best]):
        perm = label_switch(restarts.params(best), restarts.params(r), restarts.scale)
        if np.any(perm != np.arange(len(perm))):
            return best, int(r), perm
    return None
