"""How EM on a Gaussian mixture goes wrong, as plain functions: a component collapsing onto a
point (and restarting it), the linear rate of convergence measured two ways, and stopping early.

Free coordinates
----------------
A mixture's parameters, as stored, are not free: the weights add up to 1 and every covariance
is symmetric (and, for the diagonal, spherical and tied types, more constrained still). The
Jacobian of the EM map is taken in *free* coordinates (`free_vector`): the first K − 1
weights (π_K = 1 − Σ others), the means, and of the covariances only what the covariance type
lets vary (the lower triangle of each full matrix; each diagonal; one variance per component;
one shared lower triangle). There are exactly ``model.n_parameters(D)`` of them.

Why not `emviz.models.protocol.parameter_vector`, all the stored numbers? Moving all weights
together, or one side of a symmetric matrix, leaves the model where it was (the E-step
normalises the weights and reads one triangle), so that Jacobian has extra zero eigenvalues
and the wrong size; its non-zero eigenvalues are those of the free Jacobian (the map factors
through the free coordinates), which the tests check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emviz.analysis.rates import em_map, em_map_jacobian, em_rate
from emviz.engine import run_em
from emviz.history import History
from emviz.models import GaussianMixture, GaussianParams, SingularParameters

# ---- free coordinates of a Gaussian mixture ----


def _covariance_entries(model: GaussianMixture, n_features: int):
    """(components, rows, cols): the covariance entries that are free for ``model``'s type."""
    components = np.arange(model.n_components)
    rows, cols = np.tril_indices(n_features)
    diagonal = np.arange(n_features)
    if model.covariance_type == "full":
        k = np.repeat(components, len(rows))
        return k, np.tile(rows, len(components)), np.tile(cols, len(components))
    if model.covariance_type == "diag":
        k = np.repeat(components, n_features)
        return k, np.tile(diagonal, len(components)), np.tile(diagonal, len(components))
    if model.covariance_type == "spherical":
        zeros = np.zeros(len(components), dtype=int)
        return components, zeros, zeros
    return np.zeros(len(rows), dtype=int), rows, cols  # tied: one shared matrix


def free_vector(model: GaussianMixture, params: GaussianParams) -> np.ndarray:
    """The free coordinates of ``params`` (see the module's note), shape (n_parameters,)."""
    k, rows, cols = _covariance_entries(model, params.n_features)
    return np.concatenate(
        [params.weights[:-1], params.means.ravel(), params.covariances[k, rows, cols]]
    )


def params_from_free(model: GaussianMixture, vector, n_features: int) -> GaussianParams:
    """The inverse of `free_vector`: π_K = 1 − Σ others, symmetric covariances of the type."""
    vector = np.asarray(vector, dtype=np.float64)
    n_components = model.n_components
    weights = np.append(vector[: n_components - 1], 1.0 - vector[: n_components - 1].sum())
    start = n_components - 1
    means = vector[start : start + n_components * n_features].reshape(n_components, n_features)
    entries = vector[start + n_components * n_features :]
    k, rows, cols = _covariance_entries(model, n_features)
    covariances = np.zeros((n_components, n_features, n_features))
    covariances[k, rows, cols] = entries
    covariances[k, cols, rows] = entries
    if model.covariance_type == "spherical":
        covariances = covariances[:, :1, :1] * np.eye(n_features)
    elif model.covariance_type == "tied":
        covariances[:] = covariances[0]
    return GaussianParams(weights, means, covariances)


# ---- the EM map iterated: plainly, and accelerated to its fixed point ----


def _valid(params: GaussianParams) -> bool:
    """Weights in (0, 1) and covariances positive definite: a point EM's map may start from."""
    if not params.is_finite() or np.any(params.weights <= 0) or np.any(params.weights >= 1):
        return params.n_components == 1 and params.is_finite()
    return bool(np.all(np.linalg.eigvalsh(params.covariances)[:, 0] > 0))


def em_fixed_point(
    model: GaussianMixture,
    X,
    params: GaussianParams,
    *,
    xtol: float = 1e-13,
    max_evaluations: int = 1000,
) -> tuple[GaussianParams, bool]:
    """The fixed point of the EM map near ``params``, found by SQUAREM (Varadhan & Roland
    2008, scheme S3): (θ̂, whether the step ‖M(θ) − θ‖ fell below ``xtol`` · (1 + ‖θ‖)).

    Plain EM needs ~log(ε)/log(λ) iterations to get within ε, thousands when the rate λ is
    near 1; SQUAREM extrapolates along two EM steps and reaches the same fixed point in a few
    dozen. An extrapolated point that is not a valid mixture, or lowers ℓ below that of the
    plain double step, is replaced by the plain double step, so ℓ never falls.

    Raises
    ------
    SingularParameters
        When a plain EM step collapses a component (no fixed point to find).
    """
    data = model.prepare(X)
    n_features = params.n_features

    def step(theta: np.ndarray) -> np.ndarray:
        """M(θ), the EM map in free coordinates."""
        return free_vector(model, em_map(model, data, params_from_free(model, theta, n_features)))

    theta, evaluations = free_vector(model, params), 0
    while evaluations < max_evaluations:
        first = step(theta)
        second = step(first)
        evaluations += 2
        r, v = first - theta, second - 2 * first + theta
        if np.linalg.norm(r) <= xtol * (1 + np.linalg.norm(theta)):
            return params_from_free(model, first, n_features), True
        alpha = -np.linalg.norm(r) / max(np.linalg.norm(v), np.finfo(float).tiny)
        alpha = min(alpha, -1.0)  # α = −1 is the plain double step
        extrapolated = theta - 2 * alpha * r + alpha**2 * v
        theta = _stabilised(model, data, extrapolated, second, n_features, step)
        evaluations += 2
    return params_from_free(model, theta, n_features), False


def _stabilised(model, data, extrapolated, plain, n_features, step) -> np.ndarray:
    """One EM step from the extrapolated point, if it is valid and not below the plain double
    step in ℓ; else the plain double step."""
    if not _valid(params_from_free(model, extrapolated, n_features)):
        return plain
    try:
        moved = step(extrapolated)
        if not _valid(params_from_free(model, moved, n_features)):
            return plain
        level = model.log_likelihood(data, params_from_free(model, moved, n_features))
        floor = model.log_likelihood(data, params_from_free(model, plain, n_features))
    except SingularParameters:
        return plain
    return moved if level >= floor else plain


# ---- slow convergence: the rate seen in the iterates and the Jacobian's ----

RATE_WINDOW = (1e-9, 1e-4)
"""Errors ‖θ_t − θ̂‖ / (1 + ‖θ̂‖) between which the iterates are in their linear phase: above,
the start's transient; below, rounding."""
STILL = 1e-14
"""A relative step ‖θ_{t+1} − θ_t‖ / (1 + ‖θ_t‖) this small is rounding: the iterates have
arrived (the error is then below the window's floor unless the rate is within 1e-5 of 1)."""


@dataclass(frozen=True)
class RateStudy:
    """EM's iterates from one start, run on to their limit θ̂, and two measures of its rate.

    Attributes
    ----------
    errors : ndarray of shape (T + 1,)
        ‖θ_t − θ̂‖ in free coordinates, t = 0 … T.
    limit : GaussianParams
        θ̂, the fixed point (polished by `em_fixed_point`).
    eigenvalues : ndarray
        Those of the EM map's Jacobian at θ̂ in free coordinates, largest modulus first.
    jacobian_rate : float
        The largest modulus: the fraction of missing information.
    observed_rate : float or None
        The median of ‖θ_{t+1} − θ̂‖ / ‖θ_t − θ̂‖ over the linear phase (`RATE_WINDOW`); when
        the iterates never got that close within the iterations allowed (a rate near 1), over
        the last third of them; None when there is nothing to measure (EM arrived at once).
    window : tuple of int
        (first, last) t whose ratios ``observed_rate`` is the median of (0, 0 when None).
    in_window : bool
        Whether ``window`` lies in `RATE_WINDOW` (else it is the last third: an estimate).
    """

    errors: np.ndarray
    limit: GaussianParams
    eigenvalues: np.ndarray
    jacobian_rate: float
    observed_rate: float | None
    window: tuple[int, int]
    in_window: bool

    @property
    def n_iterations(self) -> int:
        return len(self.errors) - 1


JACOBIAN_STEP = 1e-4
"""Central-difference step, as a fraction of each coordinate's natural scale. The map's own
rounding can reach 10⁻¹² on a nearly flat component: a step of 10⁻⁴ keeps that noise below
10⁻⁸ of a derivative, and the O(step²) truncation error there too."""


def natural_scales(model: GaussianMixture, params: GaussianParams) -> np.ndarray:
    """How far each free coordinate of ``params`` (aligned with `free_vector`) may move before
    the model changes much: π_k for a weight; for component k's mean √λ_k and for its
    covariance entries λ_k, λ_k the smallest eigenvalue of Σ_k. A component that is nearly
    flat (points almost on a line) changes its density a lot when its thin direction moves by
    a little: steps scaled to the component's whole size would distort it."""
    n_features = params.n_features
    thinnest = np.linalg.eigvalsh(params.covariances)[:, 0]  # (K,)
    k, _, _ = _covariance_entries(model, n_features)
    means = np.repeat(np.sqrt(thinnest), n_features)
    return np.concatenate([params.weights[:-1], means, thinnest[k]])


def free_jacobian(model: GaussianMixture, X, params: GaussianParams) -> np.ndarray:
    """The EM map's Jacobian at ``params`` in free coordinates, (n_parameters, n_parameters).

    The central differences step each coordinate by `JACOBIAN_STEP` of its `natural_scales`
    (in the coordinates u = (θ − θ_params) / scale, where `em_map_jacobian` steps every u by
    that much), and the result is turned back: J = D J_u D⁻¹, the same eigenvalues.
    """
    n_features = params.n_features
    origin, scales = free_vector(model, params), natural_scales(model, params)
    in_units = em_map_jacobian(
        model,
        X,
        params,
        to_vector=lambda p: (free_vector(model, p) - origin) / scales,
        from_vector=lambda u: params_from_free(model, origin + u * scales, n_features),
        step=JACOBIAN_STEP,
    )
    return scales[:, None] * in_units / scales[None, :]


def rate_study(model: GaussianMixture, X, start: GaussianParams, *, max_iter: int) -> RateStudy:
    """EM from ``start`` until its iterates stop moving (at most ``max_iter`` iterations), the
    limit polished to a fixed point, the Jacobian there and the rate seen in the iterates.

    Raises
    ------
    SingularParameters
        When a component collapses on the way (there is no limit to converge to).
    """
    data = model.prepare(X)
    params, iterates, arrived = start, [free_vector(model, start)], False
    for _ in range(max_iter):
        params = em_map(model, data, params)
        iterates.append(free_vector(model, params))
        arrived = _still(iterates[-2], iterates[-1])
        if arrived:
            break
    # cut short by max_iter: SQUAREM takes the last iterate the rest of the way
    limit = params if arrived else em_fixed_point(model, data, params)[0]
    target = free_vector(model, limit)
    errors = np.linalg.norm(np.asarray(iterates) - target, axis=1)
    eigenvalues = np.linalg.eigvals(free_jacobian(model, data, limit))
    eigenvalues = eigenvalues[np.argsort(-np.abs(eigenvalues))]
    relative = errors / (1 + np.linalg.norm(target))
    in_window = _linear_phase(relative)
    steps = in_window or _last_third(relative)
    observed = float(np.median(relative[1:][steps] / relative[:-1][steps])) if steps else None
    window = (steps[0], steps[-1] + 1) if steps else (0, 0)
    rate = em_rate(np.diag(eigenvalues))
    return RateStudy(errors, limit, eigenvalues, rate, observed, window, bool(in_window))


def _still(before: np.ndarray, after: np.ndarray) -> bool:
    """Whether a step from ``before`` to ``after`` moves only the last bits (see `STILL`)."""
    return bool(np.linalg.norm(after - before) <= STILL * (1 + np.linalg.norm(after)))


def _linear_phase(relative_errors: np.ndarray) -> list[int]:
    """The t whose step θ_t → θ_{t+1} lies inside `RATE_WINDOW`."""
    low, high = RATE_WINDOW
    return [
        t
        for t in range(len(relative_errors) - 1)
        if relative_errors[t] <= high and relative_errors[t + 1] >= low
    ]


def _last_third(relative_errors: np.ndarray) -> list[int]:
    """The t of the last third of the steps, where the error is still above rounding: far
    from the start's transient, though not yet in `RATE_WINDOW`."""
    n_steps = len(relative_errors) - 1
    return [t for t in range(2 * n_steps // 3, n_steps) if relative_errors[t + 1] >= RATE_WINDOW[0]]


# ---- collapse onto a point, and restarting the collapsed component ----


def collapsed_component(history: History) -> int | None:
    """The component whose collapse stopped a 'singular' run (None for any other stop).

    The run stopped in the M-step after its last recorded E-step: that M-step is repeated on
    the recorded posterior, and the component it names is read from its error.
    """
    if history.stop_reason != "singular":
        return None
    last = len(history) - 1
    try:
        history.model.m_step(history.X, history.posterior(last))
    except SingularParameters as error:
        return error.component
    return None


def restart_component(model: GaussianMixture, X, params: GaussianParams, k: int) -> GaussianParams:
    """``params`` with component ``k`` started afresh where the rest of the fit is worst.

    Its new mean is the data point least well explained by the *other* components (their
    mixture, weights renormalised), leaving out the points ``k`` had taken (responsibility
    above ½: the point it collapsed onto would only pull it back). Its covariance is the
    weight-averaged covariance of the others — a typical cluster's size. (The data's covariance
    is too wide: it reaches the isolated point again and collapses onto it once more.) Its
    weight is 1/K, the others keep their proportions.
    """
    data = model.prepare(X)
    n_components = params.n_components
    others = np.array([j for j in range(n_components) if j != k])
    taken = model.e_step(data, params).resp[:, k] > 0.5
    share = params.weights[others] / params.weights[others].sum()
    rest = GaussianParams(share, params.means[others], params.covariances[others])
    fit_of_rest = GaussianMixture(len(others)).e_step(data, rest).log_norm
    worst = int(np.argmin(np.where(taken, np.inf, fit_of_rest)))
    weights = params.weights * (1 - 1 / n_components) / (1 - params.weights[k])
    weights[k] = 1 / n_components
    means, covariances = params.means.copy(), params.covariances.copy()
    means[k] = data.X[worst]
    covariances[k] = np.einsum("k,kij->ij", share, params.covariances[others])
    return GaussianParams(weights, means, covariances)


MAX_RESTARTS = 3


def run_with_restarts(
    model: GaussianMixture,
    X,
    start: GaussianParams,
    *,
    max_iter: int,
    tol: float,
    max_restarts: int = MAX_RESTARTS,
) -> tuple[History, ...]:
    """EM from ``start``; each time it stops 'singular', the collapsed component is restarted
    (`restart_component`, from the last recorded parameters) and EM continues, at most
    ``max_restarts`` times. Returns the runs in order: one, or one per restart more."""
    runs = [run_em(model, X, start, max_iter=max_iter, tol=tol)]
    while len(runs) <= max_restarts:
        k = collapsed_component(runs[-1])
        if k is None:
            break
        restarted = restart_component(model, X, runs[-1].final_params, k)
        runs.append(run_em(model, X, restarted, max_iter=max_iter, tol=tol))
    return tuple(runs)


def isolated_point_sample(position: float, n_per_cluster: int = 100, seed: int = 0) -> np.ndarray:
    """1-D data: two clusters N(−2, 1) and N(2, 1) of ``n_per_cluster`` points each (seeded),
    and one isolated point at ``position``; shape (2·n_per_cluster + 1, 1)."""
    rng = np.random.default_rng(seed)
    clusters = [rng.normal(centre, 1.0, n_per_cluster) for centre in (-2.0, 2.0)]
    return np.concatenate([*clusters, [position]])[:, None]


def isolated_point_start(X: np.ndarray, position: float) -> GaussianParams:
    """Three components with equal weights and the data's variance, their means at −2, 2
    and on the isolated point: the start 'random points from the data' makes when it draws
    a point of each cluster and the isolated one."""
    variance = float(np.var(X))
    return GaussianParams(
        np.full(3, 1 / 3), [[-2.0], [2.0], [position]], np.full((3, 1, 1), variance)
    )
