"""Basins of attraction: EM from many starts at once, and where each start ends.

Every function here runs EM on arrays with a leading *start* axis — one E-step and one M-step
per iteration for all the starts still running (`emviz.models.batch`), not a Python loop over
`run_em`. Each start stops by the engine's own rule (`ConvergenceMonitor.settled`, the change
of ℓ per point below ``tol``), at its own iteration, or when a component loses its points
('singular': the start is marked and the others go on); so a start's row equals what
``run_em(model, X, model.params_from_free(start), max_iter=…, tol=…)`` records.

API
---
``BatchedRun``
    ``starts`` (S, P) and ``ends`` (S, P): the P free numbers per start (μ1, μ2; θ; the K
    means flattened row by row) before and after; ``log_likelihoods`` (S,) ℓ at the end;
    ``iterations`` (S,) completed iterations as `History.n_iterations` counts them;
    ``stop_reasons`` (S,) 'converged' | 'max_iter' | 'singular' | 'non_finite';
    ``grid_shape``: (rows, columns) for grid starts (`BatchedRun.on_grid` reshapes any
    per-start array to it), (S,) otherwise.
``run_batch(model, X, starts, *, max_iter, tol)``
    The engine: any model offering the batch steps of `emviz.models.batch`.
``two_mean_basins(model, x, mu1_axis, mu2_axis, *, max_iter, tol)``
    Every start of the (μ1, μ2) grid; starts row-major with μ2 rows and μ1 columns (the
    order of plotly's contour and heatmap ``z``).
``label_ends(ends, locations, *, atol)``
    Which of ``locations`` (e.g. the critical points' ``location``) each end is within
    ``atol`` of (the nearest), −1 for none.
``symmetric_em_map(thetas, X)``, ``symmetric_fixed_point(X, start)``,
``symmetric_basins(X, axis1, axis2, *, max_iter, tol)``
    The Xu–Hsu–Maleki model: the sample EM map θ ← (1/n) Σ x_n tanh⟨θ, x_n⟩ for many θ, its
    fixed point θ̂ (to ~1e-15), and the grid of starts over θ (θ_y rows, θ_x columns).
``spherical_restarts(X, n_components, variance, n_restarts, seed, *, max_iter, tol)``
    The Jin et al. model: EM for the means of K equal-weight spherical Gaussians of known
    variance from ``n_restarts`` random-from-data starts.
``spherical_derivatives(model, X, means)``, ``classify_restarts(model, X, run, *, …)``
    ∇ℓ and the Hessian of ℓ at many mean settings; each restart's gap to the best ℓ and
    whether it ended at a bad local maximum (`RestartOutcomes`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emviz.analysis.paths import PATH_TOL
from emviz.convergence import ConvergenceMonitor
from emviz.models import SphericalMeansMixture, SymmetricMixture
from emviz.models.spherical_means import random_data_means

CHUNK_BYTES = 4 * 2**20
"""Memory for one chunk of starts' E-step arrays: small enough to stay in cache, and it keeps
memory flat for any number of starts and points."""

_ARRAYS_PER_ENTRY = 6  # (S, K, N) arrays alive at once in an iteration, a generous count
_REASON_DTYPE = "<U10"  # the longest stop reason, 'non_finite'


@dataclass(frozen=True)
class BatchedRun:
    """EM from S starts (see the module docstring for the arrays)."""

    starts: np.ndarray
    ends: np.ndarray
    log_likelihoods: np.ndarray
    iterations: np.ndarray
    stop_reasons: np.ndarray
    grid_shape: tuple[int, ...]

    def on_grid(self, values) -> np.ndarray:
        """A per-start array (S, …) reshaped to the grid: (rows, columns, …)."""
        values = np.asarray(values)
        return values.reshape(*self.grid_shape, *values.shape[1:])


def run_batch(
    model,
    X,
    starts,
    *,
    max_iter: int = 200,
    tol: float = 1e-8,
    grid_shape: tuple[int, ...] | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> BatchedRun:
    """EM from every row of ``starts`` (S, P), by the rules of `emviz.engine.run_em`.

    Parameters
    ----------
    model : a model with the batch steps of `emviz.models.batch`
    X : array of shape (n_samples, n_features)
    starts : array of shape (S, P)
        The free parameters of each start (``model.free_parameters`` order).
    max_iter, tol : as for `run_em`
    grid_shape : tuple, optional
        The shape the starts form (rows, columns); default (S,).
    chunk_bytes : int
        Starts run in chunks whose E-step arrays take about this much memory.

    Returns
    -------
    BatchedRun
        Its arrays are read-only.

    Raises
    ------
    ValueError
        For starts that are not finite or do not fit the model and the data (the model's
        ``check_params``).
    """
    if int(max_iter) != max_iter or max_iter < 0:
        raise ValueError(f"max_iter must be a whole number >= 0, got {max_iter}")
    data = model.prepare(X)
    monitor = ConvergenceMonitor(tol, data.n_samples, model.objective)
    starts = np.array(starts, dtype=np.float64)
    if starts.ndim != 2 or not np.isfinite(starts).all():
        raise ValueError(f"starts must be a (S, P) array of finite numbers, got {starts.shape}")
    n_starts = len(starts)
    if n_starts:
        model.check_params(model.params_from_free(starts[0]), data.X.shape[1])
    run = BatchedRun(
        starts=starts,
        ends=starts.copy(),
        log_likelihoods=np.empty(n_starts),
        iterations=np.zeros(n_starts, dtype=np.int64),
        stop_reasons=np.full(n_starts, "max_iter", dtype=_REASON_DTYPE),
        grid_shape=(n_starts,) if grid_shape is None else tuple(grid_shape),
    )
    per_start = 8 * _ARRAYS_PER_ENTRY * model.n_components * data.n_samples
    for chunk in _chunks(n_starts, per_start, chunk_bytes):
        _run_chunk(model, data, monitor, run, np.arange(chunk.start, chunk.stop), max_iter)
    for values in (run.starts, run.ends, run.log_likelihoods, run.iterations, run.stop_reasons):
        values.setflags(write=False)
    return run


def _chunks(n_starts: int, bytes_per_start: int, chunk_bytes: int) -> list[slice]:
    """Consecutive blocks of starts whose arrays take about ``chunk_bytes`` each."""
    rows = max(1, int(chunk_bytes // bytes_per_start))
    return [slice(first, min(first + rows, n_starts)) for first in range(0, n_starts, rows)]


def _run_chunk(model, data, monitor, run: BatchedRun, active: np.ndarray, max_iter: int) -> None:
    """EM for the starts ``active`` (indices into ``run``), writing their rows of ``run``.

    Each iteration works on the starts still running only: a start that stops leaves the
    arrays (its row of the posterior is dropped), so late iterations cost what they need.
    """
    posterior = model.batch_e_step(data, run.starts[active], log_resp=False)
    log_likelihoods = posterior.log_likelihoods
    run.log_likelihoods[active] = log_likelihoods
    for iteration in range(1, max_iter + 1):
        thetas, lost = model.batch_m_step(data, posterior)
        # a component lost its points: run_em stops in this M-step, keeping the previous θ
        singular = lost.any(axis=1)
        if singular.any():
            run.stop_reasons[active[singular]] = "singular"
            active, thetas = active[~singular], thetas[~singular]
            log_likelihoods = log_likelihoods[~singular]
        with np.errstate(all="ignore"):  # a start whose numbers overflow is marked below
            posterior = model.batch_e_step(data, thetas, log_resp=False)
        after = posterior.log_likelihoods
        broken = ~(np.isfinite(after) & np.isfinite(thetas).all(axis=1))
        if broken.any():  # run_em stops before recording such an M-step
            run.stop_reasons[active[broken]] = "non_finite"
            active, thetas, after = active[~broken], thetas[~broken], after[~broken]
            log_likelihoods = log_likelihoods[~broken]
            posterior = posterior.rows(~broken)
        run.ends[active] = thetas
        run.log_likelihoods[active] = after
        run.iterations[active] = iteration
        done = monitor.settled(log_likelihoods, after)
        if done.all():
            run.stop_reasons[active] = "converged"
            return
        if done.any():
            run.stop_reasons[active[done]] = "converged"
            active, after, posterior = active[~done], after[~done], posterior.rows(~done)
        log_likelihoods = after


def grid_starts(axis1, axis2) -> np.ndarray:
    """Every (a1, a2) of the grid, shape (len(axis2) · len(axis1), 2): row-major, axis2 along
    the rows and axis1 along the columns (plotly's ``z[row][column]``)."""
    first, second = np.meshgrid(np.asarray(axis1, float), np.asarray(axis2, float))
    return np.column_stack([first.ravel(), second.ravel()])


def two_mean_basins(
    model, x, mu1_axis, mu2_axis, *, max_iter: int = 200, tol: float = 1e-8
) -> BatchedRun:
    """EM of the two-mean mixture from every (μ1, μ2) of the grid ``mu1_axis`` × ``mu2_axis``.

    Returns
    -------
    BatchedRun
        ``grid_shape`` = (len(mu2_axis), len(mu1_axis)); ``ends[:, 0]`` is μ1.
    """
    X = np.asarray(x, dtype=np.float64).reshape(-1, 1)
    starts = grid_starts(mu1_axis, mu2_axis)
    shape = (len(mu2_axis), len(mu1_axis))
    return run_batch(model, X, starts, max_iter=max_iter, tol=tol, grid_shape=shape)


def label_ends(ends, locations, *, atol: float) -> np.ndarray:
    """For each end, the index of the nearest of ``locations`` within ``atol`` (Euclidean),
    −1 if none is that close.

    Parameters
    ----------
    ends : array of shape (S, P)
    locations : array-like of shape (M, P)
        E.g. ``[p.location for p in critical_points(model, x)]``.
    atol : float
    """
    ends = np.asarray(ends, dtype=np.float64)
    locations = np.asarray(locations, dtype=np.float64).reshape(-1, ends.shape[1])
    if len(locations) == 0:
        return np.full(len(ends), -1)
    distances = np.linalg.norm(ends[:, None, :] - locations[None, :, :], axis=2)  # (S, M)
    nearest = distances.argmin(axis=1)
    close = distances[np.arange(len(ends)), nearest] <= atol
    return np.where(close, nearest, -1)


# ---- the symmetric two-component model (Xu, Hsu & Maleki 2016) ----


def symmetric_em_map(thetas, X) -> np.ndarray:
    """The sample EM map θ ← (1/n) Σ_n x_n tanh⟨θ, x_n⟩ for every row of ``thetas`` (S, D)."""
    model = SymmetricMixture()
    data = model.prepare(X)
    thetas = np.atleast_2d(np.asarray(thetas, dtype=np.float64))
    posterior = model.batch_e_step(data, thetas, log_resp=False)
    return model.batch_m_step(data, posterior)[0]


def symmetric_fixed_point(X, start, *, max_iter: int = 10_000) -> np.ndarray:
    """θ̂: the fixed point of the sample EM map that EM reaches from ``start``, shape (D,).

    EM's iterations first (they converge from anywhere off the basin boundary), then two
    Newton steps on M(θ) − θ = 0, whose Jacobian is (1/n) Σ (1 − tanh²⟨θ, x_n⟩) x_n x_nᵀ − I,
    to close the last linear-rate digits.
    """
    X = np.asarray(X, dtype=np.float64)
    theta = np.asarray(start, dtype=np.float64)
    for _ in range(max_iter):
        new = symmetric_em_map(theta, X)[0]
        settled = np.abs(new - theta).max() <= 1e-15 * (1.0 + np.abs(theta).max())
        theta = new
        if settled:
            break
    for _ in range(2):
        slopes = 1.0 - np.tanh(X @ theta) ** 2
        jacobian = (X.T * slopes) @ X / len(X) - np.eye(len(theta))
        theta = theta - np.linalg.solve(jacobian, symmetric_em_map(theta, X)[0] - theta)
    return theta


def symmetric_basins(X, axis1, axis2, *, max_iter: int = 200, tol: float = 1e-8) -> BatchedRun:
    """EM of ½N(θ, I) + ½N(−θ, I) from every θ0 = (a1, a2) of the grid ``axis1`` × ``axis2``.

    Label the ends with ``label_ends(run.ends, [θ̂, −θ̂], atol=…)``, θ̂ from
    `symmetric_fixed_point`. ``grid_shape`` = (len(axis2), len(axis1)).
    """
    starts = grid_starts(axis1, axis2)
    shape = (len(axis2), len(axis1))
    return run_batch(SymmetricMixture(), X, starts, max_iter=max_iter, tol=tol, grid_shape=shape)


# ---- K equal spherical clusters, means only (Jin, Zhang, Balakrishnan, Wainwright & Jordan) ----


def spherical_restarts(
    X,
    n_components: int,
    variance: float,
    n_restarts: int,
    seed=0,
    *,
    max_iter: int = 500,
    tol: float = 1e-8,
) -> BatchedRun:
    """EM for the means of (1/K) Σ N(μ_k, σ² I) from ``n_restarts`` random-from-data starts.

    Each start takes K distinct data points as the means (`random_data_means`), as in the
    paper. ``ends[s].reshape(K, D)`` are start s's final means.
    """
    model = SphericalMeansMixture(n_components, variance)
    data = model.prepare(X)
    rng = np.random.default_rng(seed)
    starts = random_data_means(data.X, n_components, n_restarts, rng).reshape(n_restarts, -1)
    return run_batch(model, data, starts, max_iter=max_iter, tol=tol)


def spherical_derivatives(
    model, X, means, *, chunk_bytes: int = CHUNK_BYTES
) -> tuple[np.ndarray, np.ndarray]:
    """∇ℓ (S, P) and the Hessian of ℓ (S, P, P) with respect to the means, at every row of
    ``means`` (S, P = K·D, flattened row by row).

    With s_nk = (x_n − μ_k)/σ²: ∂ℓ/∂μ_k = Σ_n r_nk s_nk and
    ∂²ℓ/∂μ_k∂μ_lᵀ = δ_kl Σ_n r_nk (s_nk s_nkᵀ − I/σ²) − Σ_n r_nk r_nl s_nk s_nlᵀ
    (from ∂r_nk/∂μ_l = r_nk (δ_kl − r_nl) s_nl). Computed in chunks of starts, so the
    (S, K, N, D) arrays stay within ``chunk_bytes``.
    """
    data = model.prepare(X)
    means = np.atleast_2d(np.asarray(means, dtype=np.float64))
    n_starts, n_params = means.shape
    gradients = np.empty((n_starts, n_params))
    hessians = np.empty((n_starts, n_params, n_params))
    per_start = 8 * 4 * n_params * data.n_samples  # the four (K, N, D) arrays below
    for chunk in _chunks(n_starts, per_start, chunk_bytes):
        gradients[chunk], hessians[chunk] = _spherical_derivatives(model, data, means[chunk])
    return gradients, hessians


def _spherical_derivatives(model, data, means):
    n_starts, n_params = means.shape
    k, d = model.n_components, data.X.shape[1]
    resp = model.batch_e_step(data, means, log_resp=False).resp_t  # (S, K, N)
    centred = means.reshape(n_starts, k, 1, d) - data.offset
    scaled = (data.centred - centred) / model.variance  # s_nk, (S, K, N, D)
    weighted = resp[..., None] * scaled  # r_nk s_nk
    gradients = weighted.sum(axis=2).reshape(n_starts, n_params)
    per_point = weighted.transpose(0, 2, 1, 3).reshape(n_starts, -1, n_params)  # (S, N, P)
    hessians = -np.einsum("snp,snq->spq", per_point, per_point)
    blocks = np.einsum("sknd,skne->skde", weighted, scaled)
    blocks -= resp.sum(axis=2)[:, :, None, None] * np.eye(d) / model.variance
    for component in range(k):  # K diagonal blocks, each for every start at once
        block = slice(component * d, (component + 1) * d)
        hessians[:, block, block] += blocks[:, component]
    return gradients, hessians


GAP_MARGIN = 0.05
"""A restart is worse than the best when its ℓ is lower by more than this many nats per
point: far above the rounding and the convergence slack (tol per point), far below the cost
of a cluster left without a component in a well-separated mixture."""

GRADIENT_TOL = 1e-4
"""|∇ℓ| per point below which an end counts as a critical point. EM stopped by tol = 1e-8 per
point leaves |∇ℓ|/n of a few 1e-5 (it shrinks like √tol); a point that is not critical has
|∇ℓ|/n of order one or more."""


@dataclass(frozen=True)
class RestartOutcomes:
    """Where the restarts of `spherical_restarts` ended, compared with the best of them.

    Attributes
    ----------
    best_log_likelihood : float
        The highest final ℓ (or the one given to `classify_restarts`).
    gaps : ndarray (S,)
        best − ℓ of each restart's end, ≥ 0 when the best is the best restart.
    gradient_norms : ndarray (S,)
        |∇ℓ| at each end.
    largest_curvatures : ndarray (S,)
        The largest eigenvalue of the Hessian at each end (< 0: a local maximum).
    bad_local_maximum : ndarray (S,) of bool
        Converged, gap above the margin, |∇ℓ| ≈ 0 and a negative definite Hessian: a local
        maximum of ℓ strictly worse than the best, not a slow run nor a saddle.
    margin : float
        The gap (nats per point) that counts as worse.
    """

    best_log_likelihood: float
    gaps: np.ndarray
    gradient_norms: np.ndarray
    largest_curvatures: np.ndarray
    bad_local_maximum: np.ndarray
    margin: float

    @property
    def share_bad(self) -> float:
        """The fraction of restarts that ended at a bad local maximum."""
        return float(self.bad_local_maximum.mean())


def classify_restarts(
    model,
    X,
    run: BatchedRun,
    *,
    margin: float = GAP_MARGIN,
    gradient_tol: float = GRADIENT_TOL,
    best: float | None = None,
) -> RestartOutcomes:
    """Each restart's gap to the best ℓ and whether it ended at a bad local maximum.

    Parameters
    ----------
    model : SphericalMeansMixture
    X : array of shape (n_samples, n_features)
    run : BatchedRun from `spherical_restarts`
    margin : float
        A gap above ``margin`` nats per point is "worse than the best".
    gradient_tol : float
        |∇ℓ| per point below this is "zero".
    best : float, optional
        The ℓ to compare with (e.g. EM started at the true centres); default the best end.
    """
    n_samples = len(np.asarray(X))
    best = float(run.log_likelihoods.max()) if best is None else float(best)
    gaps = best - run.log_likelihoods
    gradients, hessians = spherical_derivatives(model, X, run.ends)
    gradient_norms = np.linalg.norm(gradients, axis=1)
    largest = np.linalg.eigvalsh(hessians)[:, -1]
    bad = (
        (run.stop_reasons == "converged")
        & (gaps > margin * n_samples)
        & (gradient_norms <= gradient_tol * n_samples)
        & (largest < 0)
    )
    return RestartOutcomes(best, gaps, gradient_norms, largest, bad, margin)


# ---- the basin map of the two-mean landscape ----


@dataclass(frozen=True)
class BasinMap:
    """Where EM ends from every start of a (μ1, μ2) grid, for the landscape's basin map.

    Attributes
    ----------
    mu1, mu2 : ndarray of shape (n1,), (n2,)  the grid's axes
    labels : ndarray of shape (n2, n1)  index into ``points`` of the critical point the start
        ends at, −1 for none (a singular run, or one stopped at ``max_iter``)
    iterations : ndarray of shape (n2, n1)  EM iterations the start needed
    ends : ndarray of shape (n2, n1, 2)  (μ1, μ2) where it stopped
    points : tuple of CriticalPoint  the surface's critical points, highest ℓ first
    """

    mu1: np.ndarray
    mu2: np.ndarray
    labels: np.ndarray
    iterations: np.ndarray
    ends: np.ndarray
    points: tuple

    def shares(self) -> dict[int, float]:
        """The share of starts ending at each label (−1 included when it occurs)."""
        values, counts = np.unique(self.labels, return_counts=True)
        return {int(v): float(c) / self.labels.size for v, c in zip(values, counts)}


BASIN_TOL = PATH_TOL  # per point: the basin map's runs stop as the landscape's paths do
BASIN_MAX_ITER = 500


def two_mean_basin_map(model, x, points, mu1_axis, mu2_axis) -> BasinMap:
    """`BasinMap` of ``model`` on ``x`` over the grid ``mu1_axis`` × ``mu2_axis``: one batch
    of EM runs, each end matched to the nearest of ``points`` within 1e-2 of the data's span
    (the ends stop within ~1e-4 of a critical point at this tolerance)."""
    run = two_mean_basins(model, x, mu1_axis, mu2_axis, max_iter=BASIN_MAX_ITER, tol=BASIN_TOL)
    x = np.asarray(x, dtype=np.float64).ravel()
    span = max(float(np.ptp(x)), 1.0)
    labels = label_ends(run.ends, [p.location for p in points], atol=1e-2 * span)
    labels = np.where(run.stop_reasons == "converged", labels, -1)
    return BasinMap(
        mu1=np.asarray(mu1_axis, dtype=float),
        mu2=np.asarray(mu2_axis, dtype=float),
        labels=run.on_grid(labels),
        iterations=run.on_grid(run.iterations),
        ends=run.on_grid(run.ends),
        points=tuple(points),
    )
