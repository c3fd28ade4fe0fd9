"""Deliberately broken EM variants, for the monotonicity audit to catch.

`OvershootingMStep` wraps any model whose parameters have ``means``: its M-step computes the
true maximiser and then moves the means ``factor`` times as far from their old values. For a
fixed q, Q is a concave quadratic in the means, Q(θ_old + s·Δ) = Q(θ_old) + c·(2s − s²) with
c ≥ 0, so any factor in (0, 2) still raises the bound and any factor above 2 lowers it — and
with it, usually, the log-likelihood.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class _Posterior:
    """The wrapped model's posterior, plus the parameters it was computed at (θ_old)."""

    posterior: Any
    params: Any

    def __getattr__(self, name: str):
        if name.startswith("__") or name in ("posterior", "params"):
            raise AttributeError(name)  # keeps copy/pickle from recursing
        return getattr(self.posterior, name)


@dataclass(frozen=True)
class OvershootingMStep:
    """``base`` with an M-step that moves the means ``factor`` × as far as the maximiser."""

    base: Any
    factor: float = 2.5

    def __post_init__(self):
        if not self.factor > 0:
            raise ValueError(f"factor must be > 0, got {self.factor}")

    def prepare(self, X):
        return self.base.prepare(X)

    def init_params(self, X, method="kmeans++", seed=0):
        return self.base.init_params(X, method, seed)

    def e_step(self, data, params) -> _Posterior:
        return _Posterior(self.base.e_step(data, params), params)

    def m_step(self, data, posterior: _Posterior):
        best = self.base.m_step(data, posterior.posterior)
        old = posterior.params.means
        return dataclasses.replace(best, means=old + self.factor * (best.means - old))

    def uniform_posterior(self, data, params) -> _Posterior:
        return _Posterior(self.base.uniform_posterior(data, params), params)

    def expected_log_joint(self, q: _Posterior, evaluated: _Posterior) -> float:
        return self.base.expected_log_joint(q.posterior, evaluated.posterior)

    def entropy(self, q: _Posterior) -> float:
        return self.base.entropy(q.posterior)

    def kl_divergence(self, q: _Posterior, evaluated: _Posterior) -> float:
        if q is evaluated:
            return 0.0
        return self.base.kl_divergence(q.posterior, evaluated.posterior)

    def log_likelihood(self, X, params) -> float:
        return self.base.log_likelihood(X, params)

    def expected_complete_log_likelihood(self, X, q: _Posterior, params) -> float:
        return self.base.expected_complete_log_likelihood(X, q.posterior, params)

    def check_params(self, params, n_features: int) -> None:
        if hasattr(self.base, "check_params"):
            self.base.check_params(params, n_features)

    def to_dict(self) -> dict:
        return {"model": "OvershootingMStep", "base": self.base.to_dict(), "factor": self.factor}

    def params_from_dict(self, d: dict):
        return self.base.params_from_dict(d)

    def __getattr__(self, name: str):
        # settings of the wrapped model (n_components, covariance_type, …) read through
        if name.startswith("__") or name in ("base", "factor"):
            raise AttributeError(name)
        return getattr(self.base, name)
