"""Deliberately broken EM variants, for the monotonicity audit to catch.

EM's guarantee is a chain, ℓ(θ_old) = L(q, θ_old) ≤ L(q, θ_new) ≤ ℓ(θ_new); each variant
breaks one link:

`OvershootingMStep` — the M-step computes the true maximiser and then moves the means
``factor`` times as far from their old values. For fixed q and covariances, Q is a concave
quadratic in the means with its maximum at the M-step's means, so a factor s scales the gain
by (2s − s²): positive for s in (0, 2), negative above 2 — the bound falls, and usually ℓ.

`WeightlessEStep` — the E-step forgets the mixing weights (a classic slip):
q(z_n = k) ∝ N(x_n | μ_k, Σ_k) instead of π_k N(x_n | μ_k, Σ_k). q is then not the
posterior, the gap stays open after the E-step, L(q, θ_old) = ℓ(θ_old) − KL < ℓ(θ_old), and
the M-step's rise may not make up for it.

Both wrap any mixture (a model declaring `Capability.MIXTURE`: the Gaussian and the two-mean
mixtures).

`MapMStep` is not broken: MAP-EM, whose M-step adds a conjugate prior's log density to Q. It
keeps the chain for the log posterior ℓ + log p(θ) (the objective it declares), with the bound
ELBO + log p(θ) in the middle.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from emviz.models.protocol import Capability, PriorCounts


@dataclass(frozen=True)
class _Posterior:
    """What a variant's E-step returns (a `emviz.models.protocol.Posterior`).

    ``posterior`` is the wrapped model's true posterior at ``params`` (it gives ℓ); ``q`` is
    the distribution the variant uses as q (the posterior itself unless the E-step is broken).
    ``resp`` and ``log_resp`` are those of ``q``: what the variant works with.
    """

    posterior: Any
    params: Any
    q: Any = None

    def __post_init__(self):
        if self.q is None:
            object.__setattr__(self, "q", self.posterior)

    @property
    def log_likelihood(self) -> float | None:
        return self.posterior.log_likelihood

    @property
    def resp(self) -> np.ndarray:
        return self.q.resp

    @property
    def log_resp(self) -> np.ndarray:
        return self.q.log_resp


@dataclass(frozen=True)
class _Variant:
    """Forwards the whole protocol to ``base``; subclasses change the E-step or the M-step.

    Every protocol member is forwarded by name, so a wrapped model is the base model wherever
    the variant does not change it: same capabilities, parameters, directions and checks.
    """

    base: Any

    def __post_init__(self):
        if Capability.MIXTURE not in self.base.capabilities:
            raise ValueError(f"{type(self).__name__} changes a mixture; {self.base!r} is not one.")

    @property
    def capabilities(self) -> frozenset:
        # the base's MAP M-step would skip this wrapper's change: a prior goes innermost
        return self.base.capabilities - {Capability.CONJUGATE_PRIOR}

    @property
    def objective(self) -> str:
        return self.base.objective

    @property
    def inexact_m_step(self) -> str | None:
        return self.base.inexact_m_step

    @property
    def n_components(self) -> int:
        return self.base.n_components

    def prepare(self, X):
        return self.base.prepare(X)

    def init_params(self, X, method="kmeans++", seed=0):
        return self.base.init_params(X, method, seed)

    def check_params(self, params, n_features: int) -> None:
        self.base.check_params(params, n_features)

    def e_step(self, data, params) -> _Posterior:
        return _Posterior(self.base.e_step(data, params), params)

    def m_step(self, data, posterior: _Posterior):
        return self.base.m_step(data, posterior.q)

    def uniform_posterior(self, data, params) -> _Posterior:
        return _Posterior(self.base.uniform_posterior(data, params), params)

    def expected_log_joint(self, q: _Posterior, evaluated: _Posterior) -> float:
        return self.base.expected_log_joint(q.q, evaluated.posterior)

    def entropy(self, q: _Posterior) -> float:
        return self.base.entropy(q.q)

    def kl_divergence(self, q: _Posterior, evaluated: _Posterior) -> float:
        return self.base.kl_divergence(q.q, evaluated.posterior)

    def free_directions(self, params) -> dict[str, np.ndarray]:
        return self.base.free_directions(params)

    def log_likelihood(self, X, params) -> float:
        return self.base.log_likelihood(X, params)

    def expected_complete_log_likelihood(self, X, q: _Posterior, params) -> float:
        return self.expected_log_joint(q, self.e_step(X, params))

    def n_parameters(self, n_features: int) -> int:
        return self.base.n_parameters(n_features)

    def log_prior(self, data, params) -> float:
        return self.base.log_prior(data, params)

    def with_equal_weights(self, params):
        equal_base, equal_params = self.base.with_equal_weights(params)
        return dataclasses.replace(self, base=equal_base), equal_params

    def to_dict(self) -> dict:
        settings = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {"model": type(self).__name__, **settings, "base": self.base.to_dict()}

    def params_from_dict(self, d: dict):
        return self.base.params_from_dict(d)


@dataclass(frozen=True)
class OvershootingMStep(_Variant):
    """``base`` with an M-step that moves the means ``factor`` × as far as the maximiser."""

    factor: float = 2.5

    def __post_init__(self):
        super().__post_init__()
        if not self.factor > 0:
            raise ValueError(f"factor must be > 0, got {self.factor}")

    @property
    def inexact_m_step(self) -> str | None:
        if self.factor == 1:
            return self.base.inexact_m_step
        overshoot = (
            f"it moves the means {self.factor:g} × as far as the maximiser of Q, so it is no "
            "longer that maximiser"
        )
        return "; ".join(filter(None, (overshoot, self.base.inexact_m_step)))

    def m_step(self, data, posterior: _Posterior):
        best = self.base.m_step(data, posterior.q)
        old = posterior.params.means
        return dataclasses.replace(best, means=old + self.factor * (best.means - old))


@dataclass(frozen=True)
class WeightlessEStep(_Variant):
    """``base`` with an E-step that leaves out the mixing weights: q ∝ N(x | μ_k, Σ_k)."""

    def e_step(self, data, params) -> _Posterior:
        forgetful, equal_params = self.base.with_equal_weights(params)
        q = forgetful.e_step(data, equal_params)
        return _Posterior(self.base.e_step(data, params), params, q)


@dataclass(frozen=True)
class MapMStep(_Variant):
    """MAP-EM: ``base`` with an M-step maximising Q(θ, q) + log p(θ) under its conjugate prior.

    The prior (for `emviz.models.GaussianMixture`: a symmetric Dirichlet on the weights, a
    Normal-inverse-Wishart on each component, scaled to the data; formulas in
    `emviz.models.gaussian_priors`) adds pseudo-points: ``strength`` × ``weight_counts`` to
    every N_k (Dirichlet α = 1 + strength · weight_counts), ``strength`` × ``mean_counts`` at the
    data's mean to every mean (κ), ``strength`` × ``covariance_counts`` with the prior's
    covariance to every covariance (n0). ``strength`` → 0 is plain EM; strength 1 adds one
    pseudo-point to every weight and covariance, enough to keep a component from collapsing
    onto a point: ``MapMStep(GaussianMixture(K, type, reg_covar=0))`` is the remedy for the
    singularity.

    The run climbs the log posterior ℓ(θ) + log p(θ) (``objective`` "log_posterior", recorded
    per step), whose lower bound is ELBO + log p(θ): EM's chain holds for it as for ℓ.

    Parameters
    ----------
    base : a model declaring `Capability.CONJUGATE_PRIOR`
    strength : float > 0
        Scales every pseudo-count: the one control a learner needs.
    weight_counts : float >= 0
        α − 1 at strength 1 (α ≥ 1: a Dirichlet with α < 1 has no maximum inside the simplex).
    mean_counts : float > 0
        κ at strength 1 (Fraley & Raftery's 0.01: the means move little).
    covariance_counts : float > 0
        n0 at strength 1.
    """

    strength: float = 1.0
    weight_counts: float = 1.0
    mean_counts: float = 0.01
    covariance_counts: float = 1.0

    def __post_init__(self):
        super().__post_init__()
        if Capability.CONJUGATE_PRIOR not in self.base.capabilities:
            raise ValueError(f"MapMStep needs a conjugate prior; {self.base!r} has none.")
        for name in ("strength", "mean_counts", "covariance_counts"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {value}")
        if not (np.isfinite(self.weight_counts) and self.weight_counts >= 0):
            raise ValueError(f"weight_counts must be finite and >= 0, got {self.weight_counts}")

    @property
    def capabilities(self) -> frozenset:
        return super().capabilities | {Capability.LOG_PRIOR}

    @property
    def objective(self) -> str:
        return "log_posterior"

    @property
    def counts(self) -> PriorCounts:
        """The prior's pseudo-counts at this strength."""
        return PriorCounts(
            weights=self.strength * self.weight_counts,
            means=self.strength * self.mean_counts,
            covariances=self.strength * self.covariance_counts,
        )

    def m_step(self, data, posterior: _Posterior):
        return self.base.map_m_step(data, posterior.q, self.counts)

    def log_prior(self, data, params) -> float:
        """log p(θ), normalising constants included (`Capability.LOG_PRIOR`)."""
        return self.base.log_prior(data, params, self.counts)


VARIANTS = {
    "OvershootingMStep": OvershootingMStep,
    "WeightlessEStep": WeightlessEStep,
    "MapMStep": MapMStep,
}
