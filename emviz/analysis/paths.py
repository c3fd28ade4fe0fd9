"""Paths of EM, gradient ascent and Newton–Raphson on the two-mean surface ℓ(μ1, μ2)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emviz.analysis.landscape import _as_1d, evaluate, gradient, hessian
from emviz.convergence import ConvergenceMonitor
from emviz.engine import run_em

_DIVERGED = 1e6  # |μ| beyond this is called divergence


@dataclass(frozen=True)
class Path:
    """Iterates of one method from one start.

    Attributes
    ----------
    method : str
    points : ndarray of shape (n_points, 2)
        (μ1, μ2) at the start and after every iteration.
    log_likelihoods : ndarray of shape (n_points,)
    stop_reason : {'converged', 'max_iter', 'diverged', 'singular'}
    gradient_norms : ndarray of shape (n_points,)
        |∇ℓ| at each point.
    """

    method: str
    points: np.ndarray
    log_likelihoods: np.ndarray
    stop_reason: str
    gradient_norms: np.ndarray

    @property
    def iterations(self) -> int:
        return len(self.points) - 1

    @property
    def end(self) -> tuple[float, float]:
        return tuple(float(v) for v in self.points[-1])

    def first_decrease(self) -> int | None:
        """The first iteration at which ℓ went down (beyond rounding), or None if it never did."""
        return ConvergenceMonitor.first_fall(self.log_likelihoods)


PATH_TOL = 1e-10
"""Every path stops when an iteration changes ℓ per point by less than this (one rule for
EM, gradient ascent and Newton's method, so their iteration counts compare)."""


def em_path(model, x, start, *, max_iter: int = 500, tol: float = PATH_TOL) -> Path:
    """EM's M-step iterates (θ after each full iteration) from ``start``."""
    x = _as_1d(x)
    history = run_em(model, x[:, None], model.params(*start), max_iter=max_iter, tol=tol)
    steps = [s for s in history.steps if s.phase in ("init", "M")]
    points = np.array([s.params.means[:, 0] for s in steps])
    return Path(
        "EM",
        points,
        np.array([s.log_likelihood for s in steps]),
        history.stop_reason,
        np.array([np.linalg.norm(gradient(model, x, p)) for p in points]),
    )


def gradient_ascent_path(
    model, x, start, *, learning_rate: float, max_iter: int = 500, tol: float = PATH_TOL
) -> Path:
    """μ ← μ + η ∇(ℓ/n): gradient ascent on the average log-likelihood."""
    x = _as_1d(x)
    return _iterate(
        "gradient ascent",
        model,
        x,
        start,
        lambda mu, grad: mu + learning_rate * grad / len(x),
        max_iter,
        tol,
    )


def newton_path(model, x, start, *, max_iter: int = 100, tol: float = PATH_TOL) -> Path:
    """μ ← μ − H⁻¹ ∇ℓ: finds the nearest zero of the gradient, whatever its kind."""
    x = _as_1d(x)

    def step(mu, grad):
        return mu - np.linalg.solve(hessian(model, x, mu), grad)

    return _iterate("Newton–Raphson", model, x, start, step, max_iter, tol)


def _iterate(method, model, x, start, step, max_iter, tol) -> Path:
    """Apply ``step(μ, ∇ℓ(μ))`` until the monitor says ℓ has converged (``tol`` per point, as
    for EM); ℓ and ∇ℓ come from one pass."""
    monitor = ConvergenceMonitor(tol, len(x))
    points = [np.asarray(start, dtype=np.float64)]
    ll, grad = evaluate(model, x, points[0])
    lls, grads = [ll], [grad]
    reason = "max_iter"
    for _ in range(max_iter):
        try:
            new = step(points[-1], grads[-1])
        except np.linalg.LinAlgError:
            reason = "singular"
            break
        if not np.all(np.isfinite(new)) or np.abs(new).max() > _DIVERGED:
            reason = "diverged"
            break
        ll, grad = evaluate(model, x, new)
        if not np.isfinite(ll):
            reason = "diverged"
            break
        points.append(new)
        lls.append(ll)
        grads.append(grad)
        if monitor.converged(lls):
            reason = "converged"
            break
    norms = np.linalg.norm(np.array(grads), axis=1)
    return Path(method, np.array(points), np.array(lls), reason, norms)


def nearest_critical_point(points, location, *, atol: float = 1e-3):
    """The critical point within ``atol`` of ``location`` (None if there is none)."""
    for point in points:
        if np.hypot(*(np.asarray(location) - point.location)) <= atol:
            return point
    return None


def path_summary(paths, points) -> list[dict]:
    """One row per path: iterations, why it stopped, where it ended, whether ℓ ever fell."""
    rows = []
    for path in paths:
        ended = nearest_critical_point(points, path.end, atol=1e-3)
        where = f"({path.end[0]:.3f}, {path.end[1]:.3f})"
        drop = path.first_decrease()
        rows.append(
            {
                "method": path.method,
                "iterations": path.iterations,
                "stopped": path.stop_reason,
                "ended at": f"{ended.kind} {where}" if ended else f"no critical point {where}",
                "final ℓ": float(path.log_likelihoods[-1]),
                "ℓ decreased?": f"yes, at iteration {drop}" if drop else "never",
            }
        )
    return rows
