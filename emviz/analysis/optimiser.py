"""A real optimiser beside EM: scipy's L-BFGS-B with bounds on the 1-D two-component mixture.

Two problems. The full mixture θ = (π1, μ1, μ2, σ1², σ2²) with π1 ∈ [0, 1] and every variance
above a small floor: L-BFGS-B, a quasi-Newton method, against EM on the same data from the
same start. And the weight alone, the two components' shapes known, on data with one
component too many: ℓ(π1) = Σ_n log(π1 N1(x_n) + (1 − π1) N2(x_n)) is concave in π1, so when
its slope at π1 = 0 is negative the maximum is exactly there, on the boundary. EM's weight
falls geometrically and stays in [0, 1]; gradient ascent on a = logit π1 can only crawl
towards −∞; L-BFGS-B with the bound [0, 1] lands on π1 = 0.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, logsumexp
from scipy.stats import norm

try:  # optional: scikit-learn's helper, installed with the tests, not a runtime dependency
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - then BLAS keeps its threads and L-BFGS-B is slower
    threadpool_limits = None

from emviz import run_em
from emviz.analysis.gradient import params_from_theta, theta_from_params
from emviz.models.gaussian_mixture import GaussianMixture

VARIANCE_FLOOR = 1e-6  # L-BFGS-B's lower bound on σk²: ℓ is unbounded as a variance → 0


@dataclass(frozen=True)
class OptimiserRun:
    """One optimiser's iterates and cost.

    Attributes
    ----------
    method : str
    thetas : ndarray of shape (n_points, n_parameters)
        The start, then the parameters after each iteration.
    log_likelihoods : ndarray of shape (n_points,)
    evaluations : int
        L-BFGS-B: evaluations of ℓ and its gradient. EM: E-steps plus M-steps.
    seconds : float
        Wall-clock time of the whole run.
    stop_reason : str
    """

    method: str
    thetas: np.ndarray
    log_likelihoods: np.ndarray
    evaluations: int
    seconds: float
    stop_reason: str

    @property
    def iterations(self) -> int:
        return len(self.thetas) - 1


def _timed(call, repeats: int = 3):
    """(result of ``call()``, its shortest wall-clock time of ``repeats`` runs): the first
    run may pay for imports and warm caches, which is no property of the method."""
    best, result = np.inf, None
    for _ in range(repeats):
        began = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - began)
    return result, best


# ---- the full mixture ----


def full_log_likelihood_and_gradient(x, theta) -> tuple[float, np.ndarray]:
    """ℓ(θ) and ∂ℓ/∂(π1, μ1, μ2, σ1², σ2²), finite on the boundary π1 ∈ {0, 1}.

    ∂ℓ/∂π1 = Σ_n (N1(x_n) − N2(x_n)) / p(x_n) is written with the densities, not with
    r_n1/π1, so that it is defined at π1 = 0 where L-BFGS-B's bound puts it.
    """
    x = np.asarray(x, dtype=np.float64)
    pi1, means, variances = theta[0], np.asarray(theta[1:3]), np.asarray(theta[3:5])
    log_densities = norm.logpdf(x[:, None], means, np.sqrt(variances))  # (N, 2)
    with np.errstate(divide="ignore"):  # log 0 = −inf: a weight on its bound
        log_joint = log_densities + np.log([pi1, 1.0 - pi1])
    log_norm = logsumexp(log_joint, axis=1)
    resp = np.exp(log_joint - log_norm[:, None])
    d_pi1 = np.sum(np.exp(log_densities - log_norm[:, None]) @ [1.0, -1.0])
    d_mu = (resp * (x[:, None] - means)).sum(axis=0) / variances
    squared = (x[:, None] - means) ** 2
    d_var = (resp * (squared / (2 * variances**2) - 1 / (2 * variances))).sum(axis=0)
    return float(log_norm.sum()), np.concatenate([[d_pi1], d_mu, d_var])


def _one_blas_thread():
    """A context in which BLAS runs on one thread (when threadpoolctl is installed)."""
    if threadpool_limits is None:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _lbfgsb(objective, start, bounds, *, n_points: int, tol: float, max_iter: int):
    """Minimise ``objective`` = (−ℓ/N, its gradient) from ``start``, recording every iterate."""
    start = np.asarray(start, dtype=np.float64)
    iterates = []

    def solve():
        iterates[:] = [start]
        # scipy's L-BFGS-B calls BLAS on matrices of a few rows: handing those to several
        # threads costs more than it saves, and far more on a busy machine
        with _one_blas_thread():
            return minimize(
                objective,
                start,
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                callback=lambda intermediate_result: iterates.append(
                    np.array(intermediate_result.x)
                ),
                options={"maxiter": max_iter, "ftol": tol, "gtol": tol},
            )

    result, seconds = _timed(solve)
    thetas = np.array(iterates)
    lls = np.array([-n_points * objective(theta)[0] for theta in thetas])
    reason = "converged" if result.success else f"stopped: {result.message}"
    return OptimiserRun("L-BFGS-B", thetas, lls, int(result.nfev), seconds, reason)


def lbfgsb_full_mixture(x, start, *, tol: float = 1e-12, max_iter: int = 2000) -> OptimiserRun:
    """L-BFGS-B on −ℓ(θ)/N in the natural parameters, π1 ∈ [0, 1], σk² ≥ VARIANCE_FLOOR."""
    x = np.asarray(x, dtype=np.float64).ravel()

    def objective(theta):
        value, gradient = full_log_likelihood_and_gradient(x, theta)
        return -value / len(x), -gradient / len(x)  # per point: tolerances mean the same for any N

    bounds = [
        (0.0, 1.0),
        (None, None),
        (None, None),
        (VARIANCE_FLOOR, None),
        (VARIANCE_FLOOR, None),
    ]
    return _lbfgsb(objective, start, bounds, n_points=len(x), tol=tol, max_iter=max_iter)


def em_full_mixture(x, start, *, tol: float = 1e-8, max_iter: int = 2000) -> OptimiserRun:
    """emviz's EM (every half-step recorded) on the same mixture, timed."""
    x = np.asarray(x, dtype=np.float64).ravel()
    history, seconds = _timed(
        lambda: run_em(
            GaussianMixture(2), x[:, None], params_from_theta(start), max_iter=max_iter, tol=tol
        )
    )
    steps = [step for step in history.steps if step.phase in ("init", "M")]
    return OptimiserRun(
        "EM",
        np.array([theta_from_params(step.params) for step in steps]),
        np.array([step.log_likelihood for step in steps]),
        2 * history.n_iterations,
        seconds,
        history.stop_reason,
    )


# ---- the weight alone, on data with one component too many ----


@dataclass(frozen=True)
class KnownComponents:
    """Two 1-D Gaussians N(μk, σk²) whose shapes are known; only π1 is fitted."""

    means: tuple[float, float]
    variances: tuple[float, float]

    def log_densities(self, x) -> np.ndarray:
        """log Nk(x_n), shape (N, 2)."""
        x = np.asarray(x, dtype=np.float64).ravel()
        return norm.logpdf(x[:, None], self.means, np.sqrt(self.variances))


def _log_joint(log_densities, pi1: float) -> np.ndarray:
    """log πk Nk(x_n), shape (N, 2); −inf for a weight on its bound."""
    with np.errstate(divide="ignore"):
        return log_densities + np.log([pi1, 1.0 - pi1])


def weight_log_likelihood_and_slope(log_densities, pi1: float) -> tuple[float, float]:
    """ℓ(π1) = Σ_n log(π1 N1 + (1 − π1) N2) and dℓ/dπ1 = Σ_n (N1 − N2)/p, defined on [0, 1]."""
    log_norm = logsumexp(_log_joint(log_densities, pi1), axis=1)
    slope = np.sum(np.exp(log_densities - log_norm[:, None]) @ [1.0, -1.0])
    return float(log_norm.sum()), float(slope)


def _responsibilities(log_densities, pi1: float) -> np.ndarray:
    log_joint = _log_joint(log_densities, pi1)
    return np.exp(log_joint - logsumexp(log_joint, axis=1)[:, None])


def _weight_run(method, log_densities, weights, evaluations, seconds, reason) -> OptimiserRun:
    """A run whose iterates are the weights (π1, π2), shape (n_points, 2)."""
    weights = np.asarray(weights, dtype=np.float64)
    lls = np.array([weight_log_likelihood_and_slope(log_densities, w)[0] for w in weights[:, 0]])
    return OptimiserRun(method, weights, lls, evaluations, seconds, reason)


def weight_em(log_densities, start: float, n_iterations: int) -> OptimiserRun:
    """πk ← (1/N) Σ_n r_nk: each weight a share of the points, so in [0, 1] and summing to 1
    by construction (both are recorded as EM computes them, π2 not as 1 − π1)."""

    def iterate():
        weights = [(start, 1.0 - start)]
        for _ in range(n_iterations):
            weights.append(tuple(_responsibilities(log_densities, weights[-1][0]).mean(axis=0)))
        return weights

    weights, seconds = _timed(iterate)
    return _weight_run("EM", log_densities, weights, 2 * n_iterations, seconds, "max_iter")


def weight_logistic_ascent(
    log_densities, start: float, n_iterations: int, *, learning_rate: float
) -> OptimiserRun:
    """Gradient ascent on a = logit π1: a ← a + η (dℓ/da)/N, dℓ/da = Σ_n (r_n1 − π1)."""

    def iterate():
        a, weights = float(np.log(start / (1.0 - start))), [start]
        for _ in range(n_iterations):
            resp = _responsibilities(log_densities, weights[-1])
            a += learning_rate * float(np.mean(resp[:, 0] - weights[-1]))
            weights.append(float(expit(a)))
        return weights

    weights, seconds = _timed(iterate)
    weights = np.column_stack([weights, 1.0 - np.array(weights)])
    return _weight_run(
        "gradient ascent on logit π₁", log_densities, weights, n_iterations, seconds, "max_iter"
    )


def weight_lbfgsb(log_densities, start: float, *, max_iter: int = 200) -> OptimiserRun:
    """L-BFGS-B on −ℓ(π1)/N with the bound π1 ∈ [0, 1]."""
    n = len(log_densities)

    def objective(theta):
        value, slope = weight_log_likelihood_and_slope(log_densities, float(theta[0]))
        return -value / n, np.array([-slope / n])

    run = _lbfgsb(objective, [start], [(0.0, 1.0)], n_points=n, tol=1e-12, max_iter=max_iter)
    weights = np.column_stack([run.thetas[:, 0], 1.0 - run.thetas[:, 0]])
    return _weight_run(
        run.method, log_densities, weights, run.evaluations, run.seconds, run.stop_reason
    )


@dataclass(frozen=True)
class SurplusComparison:
    """EM, logistic gradient ascent and L-BFGS-B on the weight of a surplus component.

    Attributes
    ----------
    slope_at_zero : float
        dℓ/dπ1 at π1 = 0. ℓ is concave in π1, so a negative slope puts its maximum exactly
        at π1 = 0; a positive one puts it inside (0, 1).
    runs : tuple of OptimiserRun
        EM, gradient ascent on logit π1, L-BFGS-B; their ``thetas`` are (π1, π2).
    """

    slope_at_zero: float
    runs: tuple[OptimiserRun, ...]

    @property
    def maximum_on_boundary(self) -> bool:
        return self.slope_at_zero < 0


def settled_at_zero(weights) -> int | None:
    """The iteration from which ``weights`` are exactly 0 to the end; None if the last is not."""
    weights = np.asarray(weights)
    if weights[-1] != 0:
        return None
    nonzero = np.flatnonzero(weights != 0)
    return int(nonzero[-1]) + 1 if nonzero.size else 0


def surplus_comparison(
    x, components: KnownComponents, start: float, n_iterations: int, *, learning_rate: float
) -> SurplusComparison:
    """The three methods on the weight of ``components``' first one, from π1 = ``start``."""
    log_densities = components.log_densities(x)
    return SurplusComparison(
        weight_log_likelihood_and_slope(log_densities, 0.0)[1],
        (
            weight_em(log_densities, start, n_iterations),
            weight_logistic_ascent(log_densities, start, n_iterations, learning_rate=learning_rate),
            weight_lbfgsb(log_densities, start),
        ),
    )


EVALUATION_UNITS = {"EM": "E-step or M-step", "L-BFGS-B": "ℓ and its gradient"}


def cost_rows(runs) -> list[dict]:
    """One row per run: iterations, evaluations (and what one is), milliseconds, final ℓ."""
    return [
        {
            "method": run.method,
            "iterations": run.iterations,
            "evaluations": run.evaluations,
            "one evaluation": EVALUATION_UNITS.get(run.method, "ℓ and its gradient"),
            "time (ms)": 1000.0 * run.seconds,
            "final ℓ": float(run.log_likelihoods[-1]),
            "stopped": run.stop_reason,
        }
        for run in runs
    ]
