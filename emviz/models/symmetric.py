"""The symmetric two-component mixture ½N(θ, I) + ½N(−θ, I): only θ unknown.

Xu, Hsu & Maleki (NeurIPS 2016, "Global analysis of Expectation Maximization for mixtures of
two Gaussians") study it: EM's M-step is θ ← (1/n) Σ_n tanh(⟨θ, x_n⟩) x_n, and from every
start not orthogonal to θ* it reaches +θ̂ or −θ̂, by the sign of ⟨θ0, θ*⟩.

The hidden label z_n = ±1 picks the component; with a_n = ⟨θ, x_n⟩,
log N(x | θ, I) − log N(x | −θ, I) = 2 a_n, so q(z_n = +1) = σ(2 a_n), q(+1) − q(−1) = tanh a_n,
and the M-step θ = (1/n) Σ_n (q_n(+1) − q_n(−1)) x_n maximises Q exactly. No data is centred:
the model is symmetric about the origin by definition.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emviz.models.batch import (
    BatchedMixture,
    BatchPosterior,
    inner_products,
    squared_distances,
    two_state_posterior,
)
from emviz.models.gaussian_kernels import LOG_2PI, prepare_gaussian_data
from emviz.models.protocol import Capability, InvalidStart, axis_names, unit_vector


@dataclass(frozen=True, eq=False)
class SymmetricParams:
    """θ, the mean of the + component (the − component's mean is −θ).

    Parameters
    ----------
    theta : array-like of shape (n_features,)
    """

    theta: np.ndarray

    def __post_init__(self):
        theta = np.array(self.theta, dtype=np.float64)
        if theta.ndim != 1 or theta.size == 0:
            raise ValueError(f"theta must be a non-empty vector, got shape {theta.shape}")
        theta.setflags(write=False)
        object.__setattr__(self, "theta", theta)

    n_components = 2

    @property
    def n_features(self) -> int:
        return self.theta.size

    def is_finite(self) -> bool:
        return bool(np.isfinite(self.theta).all())

    def to_dict(self) -> dict:
        return {"theta": self.theta.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> SymmetricParams:
        return cls(d["theta"])


@dataclass(frozen=True)
class SymmetricMixture(BatchedMixture):
    """½N(θ, I) + ½N(−θ, I) in any dimension; EM estimates θ alone."""

    n_components = 2
    inexact_m_step = None  # the M-step is the exact maximiser of Q (protocol)
    capabilities = frozenset({Capability.N_PARAMETERS})
    objective = "log_likelihood"

    # ---- protocol ----

    def prepare(self, X):
        return prepare_gaussian_data(X)

    def init_params(self, X, method: str = "random_from_data", seed=0) -> SymmetricParams:
        """``random_from_data``: θ is a data point; ``spread``: one standard deviation along
        the data's first axis."""
        data = self.prepare(X)
        if method == "random_from_data":
            return SymmetricParams(data.X[np.random.default_rng(seed).integers(data.n_samples)])
        if method == "spread":
            theta = np.zeros(data.X.shape[1])
            theta[0] = data.X[:, 0].std()
            return SymmetricParams(theta)
        raise ValueError(
            f"Unknown initialisation {method!r}; choose 'random_from_data' or 'spread'"
        )

    def check_params(self, params: SymmetricParams, n_features: int) -> None:
        if params.n_features != n_features:
            raise InvalidStart(f"θ has {params.n_features} coordinates, the data {n_features}.")
        if not params.is_finite():
            raise InvalidStart("The initial θ must be finite numbers.")

    def free_directions(self, params: SymmetricParams) -> dict[str, np.ndarray]:
        """ "θ (x)", "θ (y)", …: one unit move per coordinate of θ."""
        axes = axis_names(params.n_features)
        return {f"θ ({axis})": unit_vector(params, "theta", d) for d, axis in enumerate(axes)}

    def n_parameters(self, n_features: int = 1) -> int:
        return n_features

    def to_dict(self) -> dict:
        return {"model": "SymmetricMixture"}

    def params_from_dict(self, d: dict) -> SymmetricParams:
        return SymmetricParams.from_dict(d)

    # ---- many starts at once (emviz.models.batch) ----

    def free_parameters(self, params: SymmetricParams) -> np.ndarray:
        return np.array(params.theta)

    def params_from_free(self, vector) -> SymmetricParams:
        return SymmetricParams(vector)

    def batch_e_step(self, data, thetas, *, log_resp: bool = True) -> BatchPosterior:
        """q(z_n = +1) = σ(2⟨θ, x_n⟩) (row 0) and q(z_n = −1) (row 1) for every θ in
        ``thetas`` (S, D)."""
        thetas = np.asarray(thetas, dtype=np.float64)
        # log p(x_n, −) − log p(x_n, +) = log N(x_n | −θ, I) − log N(x_n | θ, I) = −2⟨θ, x_n⟩
        log_odds = inner_products(data.X, thetas)
        log_odds *= -2.0
        # log p(x_n, +) = log ½ − (D/2) log 2π − |x_n − θ|² / 2
        log_first = squared_distances(data.X, thetas)
        log_first *= -0.5
        log_first -= np.log(2.0) + 0.5 * data.X.shape[1] * LOG_2PI
        return two_state_posterior(log_odds, log_first, log_resp=log_resp)

    def batch_m_step(self, data, posterior: BatchPosterior):
        """θ per start, shape (S, D); no component can lose its points (shape (S, 0))."""
        signs = posterior.resp_t[:, 0] - posterior.resp_t[:, 1]  # tanh⟨θ, x_n⟩, (S, N)
        # a stack of (1, N) @ (N, D) products: each start's sum runs the same whatever S is
        thetas = (signs[:, None, :] @ data.X)[:, 0] / data.n_samples
        return thetas, np.zeros((len(thetas), 0), dtype=bool)
