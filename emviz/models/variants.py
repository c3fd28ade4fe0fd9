"""EM's variants: wrappers of a protocol model that change one phase.

Deliberately broken variants, for the monotonicity audit to catch:

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

EM's relatives, each a different q in the E-step (the M-step stays the exact maximiser of Q
for that q); they wrap a plain mixture that can take a q (`Capability.SETTABLE_Q`):

`TemperedEStep` — q_nk ∝ (π_k N(x_n | μ_k, Σ_k))^(1/T). T = 1 is EM; T → 0 gives hard
(classification) EM, T = 0 exactly: each point wholly to its most probable component. Any
T ≠ 1 is a restricted q: it cannot equal the posterior, KL(q ‖ p) > 0 after every E-step,
and EM then climbs the lower bound L(q, θ), not ℓ — the step from EM to variational EM.

`StochasticEStep` — each point's label drawn from its posterior (Celeux & Diebolt's SEM):
q one-hot at the draw, reproducible from ``seed`` and the iteration.

`AnnealedEStep` — deterministic annealing (Ueda & Nakano 1998): the tempered q with a
temperature falling from ``start_temperature`` to 1 over ``n_steps`` iterations, then EM:
early, flat responsibilities let the means settle before they commit.

`MapMStep` is not broken: MAP-EM, whose M-step adds a conjugate prior's log density to Q. It
keeps the chain for the log posterior ℓ + log p(θ) (the objective it declares), with the bound
ELBO + log p(θ) in the middle.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import logsumexp

from emviz.models.protocol import Capability, PriorCounts, e_step_for

LOG_TINY = float(np.log(np.finfo(np.float64).tiny))
"""log q where q is 0: finite, so that 0 · log q = 0 in H(q) and KL (see `GaussianMixture.q_of`)."""


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
        # a wrapper's q is its own: it cannot be handed one (SETTABLE_Q); the base's MAP
        # M-step would skip this wrapper's change: a prior goes innermost
        return self.base.capabilities - {Capability.SETTABLE_Q, Capability.CONJUGATE_PRIOR}

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
        return self.e_step_at(data, params, None)

    def e_step_at(self, data, params, iteration: int | None) -> _Posterior:
        """The E-step serving ``iteration`` (`emviz.models.protocol.e_step_for`)."""
        posterior = e_step_for(self.base, data, params, iteration)
        return _Posterior(posterior, params, self._q(data, params, posterior, iteration))

    def _q(self, data, params, posterior, iteration):
        """The q this variant uses in place of ``posterior``; None keeps the posterior."""
        return None

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

    def _q(self, data, params, posterior, iteration):
        forgetful, equal_params = self.base.with_equal_weights(params)
        return e_step_for(forgetful, data, equal_params, iteration)


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


# ---- EM's relatives: another q in the E-step ----


@dataclass(frozen=True)
class _QVariant(_Variant):
    """A variant whose E-step hands the base's M-step a q of its own making."""

    def __post_init__(self):
        super().__post_init__()
        if Capability.SETTABLE_Q not in self.base.capabilities:
            raise ValueError(
                f"{type(self).__name__} sets q, which {self.base!r} cannot take: wrap a plain "
                "mixture, not another variant."
            )


def tempered_q(model, posterior, temperature: float):
    """q_nk ∝ p(z_n = k | x_n)^(1/T) = (π_k N_k)^(1/T) / Σ_j (π_j N_j)^(1/T) (p(x_n) cancels).

    T = 1 returns ``posterior`` itself; T = 0 the one-hot q at each point's most probable
    component (the first on a tie, as k-means assigns).
    """
    if temperature == 1:
        return posterior
    log_resp_t = np.asarray(posterior.log_resp).T  # (n_components, n_samples)
    if temperature == 0:
        return one_hot_q(model, np.argmax(log_resp_t, axis=0), log_resp_t.shape[0])
    scaled = log_resp_t / temperature
    log_q = np.maximum(scaled - logsumexp(scaled, axis=0), LOG_TINY)
    return model.q_of(np.exp(log_q), log_q)


def one_hot_q(model, labels: np.ndarray, n_components: int):
    """The q putting each point n wholly on component ``labels[n]``, labels (n_samples,)."""
    resp_t = np.zeros((n_components, len(labels)))
    resp_t[labels, np.arange(len(labels))] = 1.0
    return model.q_of(resp_t, np.where(resp_t > 0, 0.0, LOG_TINY))


@dataclass(frozen=True)
class TemperedEStep(_QVariant):
    """``base`` with q ∝ (π_k N_k)^(1/T): ``temperature`` T ≥ 0 (0: hard EM, 1: EM)."""

    temperature: float = 0.5

    def __post_init__(self):
        super().__post_init__()
        if not (np.isfinite(self.temperature) and self.temperature >= 0):
            raise ValueError(f"temperature must be a number >= 0, got {self.temperature}")

    def _q(self, data, params, posterior, iteration):
        return tempered_q(self.base, posterior, self.temperature)


@dataclass(frozen=True)
class StochasticEStep(_QVariant):
    """``base`` with each label drawn from its posterior, one draw per iteration.

    The draw of iteration t comes from ``numpy.random.default_rng([seed, t])``: the same seed
    gives the same run, and a recorded E-step can be drawn again exactly (outside a run, t = 0).
    """

    seed: int = 0
    steady_from = None  # a new draw every iteration: the run goes on to max_iter

    @property
    def capabilities(self) -> frozenset:
        return super().capabilities | {Capability.ITERATION_E_STEP}

    def _q(self, data, params, posterior, iteration):
        resp_t = np.asarray(posterior.resp).T
        uniforms = np.random.default_rng([int(self.seed), iteration or 0]).random(resp_t.shape[1])
        # inverse CDF: the first k whose cumulative responsibility passes u
        labels = (np.cumsum(resp_t, axis=0) < uniforms).sum(axis=0)
        n_components = resp_t.shape[0]
        return one_hot_q(self.base, np.minimum(labels, n_components - 1), n_components)


@dataclass(frozen=True)
class AnnealedEStep(_QVariant):
    """``base`` with the tempered q at T_t = T0^(1 − (t − 1)/n) for iterations t ≤ n, then EM.

    The temperature falls geometrically from ``start_temperature`` T0 ≥ 1 at the first
    iteration to 1 at iteration ``n_steps`` + 1.
    """

    start_temperature: float = 4.0
    n_steps: int = 20

    def __post_init__(self):
        super().__post_init__()
        if not (np.isfinite(self.start_temperature) and self.start_temperature >= 1):
            raise ValueError(f"start_temperature must be >= 1, got {self.start_temperature}")
        if int(self.n_steps) != self.n_steps or self.n_steps < 1:
            raise ValueError(f"n_steps must be a whole number >= 1, got {self.n_steps}")

    @property
    def capabilities(self) -> frozenset:
        return super().capabilities | {Capability.ITERATION_E_STEP}

    @property
    def steady_from(self) -> int:
        """From iteration n_steps + 1 on, T = 1: plain EM; from the iteration after it, two
        iterations of it can be compared, and the run may stop when it converges."""
        return self.n_steps + 2

    def temperature_at(self, iteration: int | None) -> float:
        """T of ``iteration`` (None, outside a run: 1)."""
        if iteration is None:
            return 1.0
        remaining = max(0.0, 1.0 - (iteration - 1) / self.n_steps)
        return float(self.start_temperature**remaining)

    def _q(self, data, params, posterior, iteration):
        return tempered_q(self.base, posterior, self.temperature_at(iteration))


VARIANTS = {
    "OvershootingMStep": OvershootingMStep,
    "WeightlessEStep": WeightlessEStep,
    "TemperedEStep": TemperedEStep,
    "StochasticEStep": StochasticEStep,
    "AnnealedEStep": AnnealedEStep,
    "MapMStep": MapMStep,
}
