"""The lower bound L(q, θ) and the log-likelihood ℓ(θ) away from the recorded steps.

For any q over the hidden variables, ℓ(θ) = L(q, θ) + KL(q ‖ p(Z | X, θ)) with
L(q, θ) = Q(θ, q) + H(q). Fixing q = p(Z | X, θ_old) gives Bishop's Fig. 9.14: a bound that
touches ℓ at θ_old (KL = 0 there) with the same slope, lies below it elsewhere (KL ≥ 0), and
is maximised by the M-step's θ_new.

Parameters move along straight lines θ_from + t·direction in the space of
`parameter_vector(params)`; everything here uses only the model protocol
(`emviz.models.protocol`: ``e_step``, ``expected_log_joint``, ``entropy``, ``check_params``,
``free_directions``, ``to_dict``/``params_from_dict``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import logsumexp, xlogy

from emviz.models.protocol import (
    LatentVariableModel,
    Posterior,
    SingularParameters,
    parameter_vector,
    params_from_vector,
)
from emviz.models.two_means import TwoMeanMixture

if TYPE_CHECKING:
    from emviz.history import History


def _valid(model: LatentVariableModel, params, n_features: int) -> bool:
    try:
        model.check_params(params, n_features)
    except ValueError:  # check_params's one signal: these parameters cannot be evaluated
        return False
    return True


def bound_along(
    model: LatentVariableModel, X, posterior: Posterior, params_from, direction, ts
) -> tuple[np.ndarray, np.ndarray]:
    """ℓ(θ) and L(q, θ) at θ = θ_from + t·direction for each t in ``ts``.

    Parameters
    ----------
    model : a model following `emviz.models.protocol`
    X : array of shape (n_samples, n_features)
    posterior : the model's posterior object, the fixed q of the bound
    params_from : parameters of ``model``, θ at t = 0
    direction : array of shape (n_parameters,), in the space of `parameter_vector`
    ts : array of shape (n_ts,)

    Returns
    -------
    log_likelihood, bound : arrays of shape (n_ts,)
        NaN where θ(t) is not a valid parameter (e.g. a negative weight or variance).
    """
    data = model.prepare(X)
    n_features = np.shape(data.X)[1]
    origin = parameter_vector(params_from)
    direction = np.asarray(direction, dtype=float)
    if direction.shape != origin.shape:
        raise ValueError(f"direction has shape {direction.shape}, expected {origin.shape}")
    entropy = model.entropy(posterior)
    ts = np.asarray(ts, dtype=float)
    log_likelihood = np.full(ts.shape, np.nan)
    bound = np.full(ts.shape, np.nan)
    for i, t in enumerate(ts):
        # Parameters at which the model cannot be evaluated (a negative weight, a covariance
        # not positive definite) give NaN on the slice: the curve simply has a gap there.
        params = params_from_vector(model, params_from, origin + t * direction)
        if not _valid(model, params, n_features):
            continue
        try:
            # far along the slice the quadratic forms overflow (inf, then inf − inf): such a
            # θ(t) is left NaN below, as undefined
            with np.errstate(over="ignore", invalid="ignore"):
                evaluated = model.e_step(data, params)
                # L(q, θ) = Q(θ, q) + H(q)
                value = model.expected_log_joint(posterior, evaluated) + entropy
        except SingularParameters:
            continue
        if np.isfinite(evaluated.log_likelihood) and np.isfinite(value):
            log_likelihood[i], bound[i] = evaluated.log_likelihood, value
    return log_likelihood, bound


# ---- directions ----


def m_step_iteration(history: History, cursor: int) -> tuple[int, int] | None:
    """(E-step index, M-step index) of the iteration shown at ``cursor``, or None.

    At an E-step that is the M-step after it; at an M-step the E-step before it; at the
    initial state the first iteration. A run that stopped in an M-step (a collapsed
    component) ends on an E-step without one: there, the last completed iteration.
    """
    phase = history[cursor].phase
    e_index = {"init": 1, "E": cursor, "M": cursor - 1}[phase]
    if e_index + 1 >= len(history):
        e_index -= 2  # the iteration before: the last one whose M-step was recorded
    if e_index < 1:
        return None
    return e_index, e_index + 1


def random_direction(
    model: LatentVariableModel, params, seed: int, length: float = 1.0
) -> np.ndarray:
    """A random combination of the model's ``free_directions``, scaled to ``length``."""
    basis = np.array(list(model.free_directions(params).values()))
    coefficients = np.random.default_rng(seed).standard_normal(len(basis))
    vector = coefficients @ basis
    return vector * (length / np.linalg.norm(vector))


M_STEP_DIRECTION = "the M-step's move θ_old → θ_new"
RANDOM_DIRECTION = "a random direction"


@dataclass(frozen=True)
class BoundSlice:
    """ℓ and the bound along θ(t) = θ_old + t·direction, for one iteration of a run.

    Attributes
    ----------
    label : str  what the direction is
    ts : array of shape (n_ts,)
    log_likelihood, bound : arrays of shape (n_ts,)  ℓ(θ(t)), L(q_old, θ(t)); NaN where invalid
    next_bound : array of shape (n_ts,) or None  L(q_new, θ(t)), along the M-step's move only
    t_new : float or None  t at θ_new (1 along the M-step's move)
    ll_at_old, ll_at_new : float  ℓ(θ_old), ℓ(θ_new)
    e_step, m_step : int  the indices of the iteration's two half-steps in the History
    """

    label: str
    ts: np.ndarray
    log_likelihood: np.ndarray
    bound: np.ndarray
    next_bound: np.ndarray | None
    t_new: float | None
    ll_at_old: float
    ll_at_new: float
    e_step: int
    m_step: int


def slice_directions(history: History) -> list[str]:
    """The directions `bound_slice` accepts for ``history``: the M-step's move first."""
    params = history[0].params
    return [M_STEP_DIRECTION, *history.model.free_directions(params), RANDOM_DIRECTION]


SLICE_POINTS = (41, 161)  # fewest and most values of t along a slice …
SLICE_BUDGET = 4_000_000  # … fewer on large data: (values of t) × n_samples stays about this


def slice_resolution(n_samples: int) -> int:
    """How many values of t a slice evaluates: 161 up to ~25 000 points, then fewer (each
    costs an E-step over all the data), never under 41 (the curves stay smooth)."""
    low, high = SLICE_POINTS
    return int(np.clip(SLICE_BUDGET // max(n_samples, 1), low, high))


def bound_slice(
    history: History,
    cursor: int,
    direction: str = M_STEP_DIRECTION,
    *,
    n_ts: int | None = None,
    seed: int = 0,
) -> BoundSlice | None:
    """Bishop's Fig. 9.14 for the iteration shown at ``cursor``, or None if there is none.

    ``n_ts`` values of t (default: `slice_resolution` of the data's size).

    Along the M-step's move t runs over [−0.6, 1.8] and the next bound (q at θ_new) is drawn
    too; t runs over [−1.5, 1.5] along the others, which are scaled so that t = 1 is as far
    as the M-step moved along them: a coordinate by its own change in the M-step (a tenth of
    its value, at least, when the M-step hardly moved it), a random direction by half the
    length of the whole move (covariances leave the positive-definite cone quickly).
    """
    iteration = m_step_iteration(history, cursor)
    if iteration is None:
        return None
    e_index, m_index = iteration
    model, X = history.model, history.X
    n_ts = slice_resolution(len(X)) if n_ts is None else n_ts
    old, new = history[e_index].params, history[m_index].params
    origin = parameter_vector(old)
    move = parameter_vector(new) - origin
    if direction == M_STEP_DIRECTION:
        vector, ts, t_new = move, np.linspace(-0.6, 1.8, n_ts), 1.0
    elif direction == RANDOM_DIRECTION:
        length = 0.5 * max(float(np.linalg.norm(move)), 0.01 * float(np.linalg.norm(origin)), 1e-6)
        vector, ts, t_new = random_direction(model, old, seed, length), None, None
    else:
        units = model.free_directions(old)
        if direction not in units:
            raise ValueError(f"Unknown direction {direction!r}; choose one of {list(units)}")
        unit = units[direction]
        # the M-step's change along this coordinate (unit's own coordinates: u·u ≠ 1 for π)
        along, value = (abs(float(v @ unit)) / float(unit @ unit) for v in (move, origin))
        vector, ts, t_new = unit * max(along, 0.1 * value, 1e-3), None, None
    if ts is None:
        ts = np.linspace(-1.5, 1.5, n_ts)
    ts = np.union1d(ts, [0.0] if t_new is None else [0.0, t_new])  # the touching points exactly
    log_likelihood, bound = bound_along(model, X, history.posterior(e_index), old, vector, ts)
    next_bound = None
    if t_new is not None:
        _, next_bound = bound_along(model, X, model.e_step(X, new), old, vector, ts)
    return BoundSlice(
        label=direction,
        ts=ts,
        log_likelihood=log_likelihood,
        bound=bound,
        next_bound=next_bound,
        t_new=t_new,
        ll_at_old=history[e_index].log_likelihood,
        ll_at_new=history[m_index].log_likelihood,
        e_step=e_index,
        m_step=m_index,
    )


# ---- the two-mean mixture: the bound as a surface ----


def two_mean_bound_grid(
    model: TwoMeanMixture, x, resp: np.ndarray, mu1_axis, mu2_axis
) -> np.ndarray:
    """L(q, μ1, μ2) on a grid, for q = ``resp`` (shape (n_samples, 2)); shape (n_mu2, n_mu1).

    Q separates, Q(μ1, μ2) = Q_1(μ1) + Q_2(μ2) with Q_k(μ) = Σ_n q_nk log(w_k N(x_n | μ, v_k)),
    and each Q_k is a parabola with its vertex at the q-weighted mean m_k = Σ_n q_nk x_n / N_k,
    N_k = Σ_n q_nk: Q_k(μ) = Q_k(m_k) − N_k (μ − m_k)² / (2 v_k). So the density is evaluated
    at m_k alone (one pass over the data per component), whatever the size of the grid.
    """
    x = np.asarray(x, dtype=float).ravel()
    resp = np.asarray(resp, dtype=float)
    entropy = -np.sum(xlogy(resp, resp))  # xlogy: 0·log 0 = 0

    # The density depends on x − μ only: work about the data's mean, so that the vertex m is
    # the weighted mean to a rounding of |x − x̄| rather than of |x| (the identity below drops
    # N·(m − μ)·Σ q (x − m), which is that rounding times N times the grid's reach).
    shift = x.mean()
    centred = x - shift

    def component_term(k: int, axis) -> np.ndarray:
        q, variance = resp[:, k], model.variances[k]
        nk = q.sum()
        # Σ q (x − μ)² = Σ q (x − m)² + N (μ − m)² for m the q-weighted mean; any m when N = 0
        vertex = q @ centred / nk if nk > 0 else 0.0
        at_vertex = model.log_joint_grid(centred, [vertex], k)[0] @ q
        distance = np.asarray(axis, dtype=float) - shift - vertex
        return at_vertex - nk * distance**2 / (2 * variance)

    # L = Q + H(q)
    return component_term(1, mu2_axis)[:, None] + component_term(0, mu1_axis)[None, :] + entropy


# ---- why the log: Jensen's inequality for one data point ----


@dataclass(frozen=True)
class JensenTerms:
    """log p(x) against Σ_z q(z) log(p(x, z)/q(z)) for one point x.

    With u_z = p(x, z | θ) / q(z), Jensen's inequality for the concave ln says
    ln E_q[u] ≥ E_q[ln u]. E_q[u] = Σ_{z: q(z) > 0} p(x, z | θ): that is p(x | θ) only when q
    leaves out no state the posterior gives weight to. So the gap between ln p(x) and the
    bound, KL(q ‖ p(z | x)), is the Jensen gap plus −ln Σ_{q(z) > 0} p(z | x), the posterior
    mass q leaves out; for a one-hot q the Jensen gap is 0 and the KL is all of the second.

    Attributes
    ----------
    log_joint : array of shape (n_components,)  log p(x, z = k | θ)
    q : array of shape (n_components,)  the chosen q(z), on the simplex
    posterior : array of shape (n_components,)  p(z | x, θ)
    log_evidence : float  log p(x | θ) = log Σ_z p(x, z | θ)
    log_mean_ratio : float  ln E_q[u] = log Σ_{z: q(z) > 0} p(x, z | θ)
    bound : float  E_q[ln u] = Σ_z q(z) log(p(x, z | θ) / q(z))
    jensen_gap : float  ln E_q[u] − E_q[ln u] ≥ 0
    gap : float  log_evidence − bound = KL(q ‖ p(z | x, θ)) ≥ jensen_gap
    """

    log_joint: np.ndarray
    q: np.ndarray
    posterior: np.ndarray
    log_evidence: float
    log_mean_ratio: float
    bound: float
    jensen_gap: float
    gap: float


def jensen_terms(model: LatentVariableModel, X, params, index: int, q) -> JensenTerms:
    """Both sides of Jensen's inequality for data point ``index`` under ``params``.

    ``q`` (shape (n_components,)) is normalised to sum to 1; it must be non-negative.
    """
    q = np.asarray(q, dtype=float)
    if np.any(q < 0) or not np.isfinite(q).all() or q.sum() <= 0:
        raise ValueError("q must be non-negative numbers that are not all 0.")
    q = q / q.sum()
    evaluated = model.e_step(np.asarray(X)[index : index + 1], params)
    log_evidence = float(evaluated.log_likelihood)
    # log p(x, z) = log p(z | x) + log p(x)
    log_joint = evaluated.log_resp[0] + log_evidence
    used = q > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        # 0 · log(p/0) = 0: a state q ignores adds nothing to the sum
        terms = np.where(used, q * (log_joint - np.log(q)), 0.0)
    bound = float(terms.sum())
    # the states q ignores add nothing to E_q[u] either; at most ln p(x) (rounding aside)
    log_mean_ratio = min(float(logsumexp(log_joint[used])), log_evidence)
    return JensenTerms(
        log_joint=log_joint,
        q=q,
        posterior=evaluated.resp[0].copy(),
        log_evidence=log_evidence,
        log_mean_ratio=log_mean_ratio,
        bound=bound,
        jensen_gap=max(log_mean_ratio - bound, 0.0),
        gap=max(log_evidence - bound, 0.0),
    )


def most_ambiguous_point(history: History) -> int:
    """The data point whose final responsibilities are most evenly split (highest entropy)."""
    last_e = max((step.index for step in history.steps if step.phase == "E"), default=0)
    resp = history.responsibilities(last_e)
    entropy = -np.sum(xlogy(resp, resp), axis=1)  # xlogy: 0·log 0 = 0
    return int(np.argmax(entropy))
