"""Gradient ascent on a full 1-D two-component mixture (weights, means, variances all free).

Plain steps on (π1, μ1, μ2, σ1², σ2²) can leave the parameter space: a weight outside [0, 1]
or a variance below 0. The usual fix reparametrises, π1 = sigmoid(a) and σk² = exp(sk), so
every step lands inside. EM needs neither a learning rate nor a fix: its M-step is a weighted
average, always inside.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emviz.convergence import ConvergenceMonitor
from emviz.models.gaussian_mixture import GaussianMixture, GaussianParams

_MODEL = GaussianMixture(2)


@dataclass(frozen=True)
class AscentResult:
    """Iterates θ = (π1, μ1, μ2, σ1², σ2²) of one gradient-ascent run.

    Attributes
    ----------
    method : str
    thetas : ndarray of shape (n_points, 5)
    log_likelihoods : ndarray of shape (n_points,)
    stop_reason : {'converged', 'max_iter', 'left the parameter space', 'diverged'}
    broken_step : int or None
        The iteration whose step left the parameter space (that θ is the last row).
    broken_reason : str or None
    """

    method: str
    thetas: np.ndarray
    log_likelihoods: np.ndarray
    stop_reason: str
    broken_step: int | None = None
    broken_reason: str | None = None

    @property
    def iterations(self) -> int:
        return len(self.thetas) - 1


def params_from_theta(theta) -> GaussianParams:
    pi1, mu1, mu2, var1, var2 = theta
    return GaussianParams([pi1, 1.0 - pi1], [[mu1], [mu2]], [[[var1]], [[var2]]])


def theta_from_params(params: GaussianParams) -> np.ndarray:
    return np.array([params.weights[0], *params.means[:, 0], *params.covariances[:, 0, 0]])


def _posterior_terms(x, theta):
    """(log-likelihood, resp (N, 2), (x − μ)² (N, 2)) at θ."""
    posterior = _MODEL.e_step(x[:, None], params_from_theta(theta))
    squared = (x[:, None] - np.asarray(theta[1:3])[None, :]) ** 2
    return posterior.log_likelihood, posterior.resp, squared


def plain_gradient(x, theta) -> np.ndarray:
    """∂ℓ/∂(π1, μ1, μ2, σ1², σ2²), with π2 = 1 − π1."""
    _, resp, squared = _posterior_terms(x, theta)
    pi = np.array([theta[0], 1.0 - theta[0]])
    mu, var = np.asarray(theta[1:3]), np.asarray(theta[3:5])
    d_pi1 = np.sum(resp[:, 0] / pi[0] - resp[:, 1] / pi[1])  # ∂ log p / ∂π1 = (N1 − N2)/p
    d_mu = (resp * (x[:, None] - mu)).sum(axis=0) / var
    d_var = (resp * (squared / (2 * var**2) - 1 / (2 * var))).sum(axis=0)
    return np.concatenate([[d_pi1], d_mu, d_var])


def _leaves_space(theta) -> str | None:
    if not 0.0 < theta[0] < 1.0:
        return f"weight π1 = {theta[0]:.3g} is outside (0, 1)"
    if min(theta[3], theta[4]) <= 0.0:
        return f"a variance became {min(theta[3], theta[4]):.3g} ≤ 0"
    return None


def plain_gradient_ascent(
    x, start: GaussianParams, *, learning_rate: float, max_iter: int = 500, tol: float = 1e-8
) -> AscentResult:
    """θ ← θ + η ∇ℓ/n on the raw parameters, stopped at the first step that leaves them."""
    x = np.asarray(x, dtype=np.float64).ravel()
    monitor = ConvergenceMonitor(tol, len(x))
    thetas = [theta_from_params(start)]
    lls = [_posterior_terms(x, thetas[0])[0]]
    for iteration in range(1, max_iter + 1):
        new = thetas[-1] + learning_rate * plain_gradient(x, thetas[-1]) / len(x)
        broken = _leaves_space(new)
        thetas.append(new)
        if broken:
            lls.append(np.nan)  # ℓ is undefined there
            return AscentResult(
                "plain gradient ascent",
                np.array(thetas),
                np.array(lls),
                "left the parameter space",
                iteration,
                broken,
            )
        lls.append(_posterior_terms(x, new)[0])
        if monitor.converged(lls):
            return AscentResult(
                "plain gradient ascent", np.array(thetas), np.array(lls), "converged"
            )
    return AscentResult("plain gradient ascent", np.array(thetas), np.array(lls), "max_iter")


def reparametrised_gradient_ascent(
    x, start: GaussianParams, *, learning_rate: float, max_iter: int = 500, tol: float = 1e-8
) -> AscentResult:
    """Gradient ascent on (a, μ1, μ2, s1, s2) with π1 = sigmoid(a), σk² = exp(sk)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    monitor = ConvergenceMonitor(tol, len(x))
    theta = theta_from_params(start)
    free = np.array(
        [np.log(theta[0] / (1 - theta[0])), theta[1], theta[2], np.log(theta[3]), np.log(theta[4])]
    )
    thetas, lls = [theta], [_posterior_terms(x, theta)[0]]
    reason = "max_iter"
    for _ in range(max_iter):
        _, resp, squared = _posterior_terms(x, thetas[-1])
        var = thetas[-1][3:5]
        d_a = np.sum(resp[:, 0] - thetas[-1][0])  # chain rule through the sigmoid
        d_mu = (resp * (x[:, None] - thetas[-1][1:3])).sum(axis=0) / var
        d_s = (resp * (squared / (2 * var) - 0.5)).sum(axis=0)  # σ² ∂ℓ/∂σ²
        step = learning_rate * np.concatenate([[d_a], d_mu, d_s]) / len(x)
        free = free + step
        with np.errstate(over="ignore"):  # an overflow is reported as divergence below
            theta = np.array(
                [1 / (1 + np.exp(-free[0])), free[1], free[2], np.exp(free[3]), np.exp(free[4])]
            )
        if not np.all(np.isfinite(theta)):
            reason = "diverged"
            break
        thetas.append(theta)
        lls.append(_posterior_terms(x, theta)[0])
        if monitor.converged(lls):
            reason = "converged"
            break
    return AscentResult("reparametrised gradient ascent", np.array(thetas), np.array(lls), reason)


def learning_rate_sweep(
    x, start: GaussianParams, learning_rates, *, max_iter: int = 1000, tol: float = 1e-8
) -> list[dict]:
    """Iterations to converge (or how it failed) for each η, reparametrised ascent."""
    rows = []
    for rate in learning_rates:
        result = reparametrised_gradient_ascent(
            x, start, learning_rate=rate, max_iter=max_iter, tol=tol
        )
        rows.append(
            {
                "learning_rate": float(rate),
                "iterations": result.iterations,
                "stopped": result.stop_reason,
                "ℓ fell": ConvergenceMonitor.first_fall(result.log_likelihoods) is not None,
                "final ℓ": float(result.log_likelihoods[-1]),
            }
        )
    return rows
