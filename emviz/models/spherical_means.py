"""K equal-weight spherical Gaussians with a known variance: EM estimates the means alone.

Jin, Zhang, Balakrishnan, Wainwright & Jordan (NeurIPS 2016, "Local maxima in the likelihood
of Gaussian mixture models") prove that even this easiest mixture, (1/K) Σ_k N(μ_k, σ² I) with
well-separated clusters and infinite data, has bad local maxima — one component covering two
clusters while two split one — and that EM from random data points falls into them with a
probability that grows with K.

The parameters are `GaussianParams` (weights 1/K, covariances σ² I: fixed settings) so the
mixture figures draw them; the E-step reads the means and the model's settings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emviz.models.batch import BatchedMixture, BatchPosterior, lost_components, squared_distances
from emviz.models.gaussian_kernels import LOG_2PI, prepare_gaussian_data
from emviz.models.gaussian_mixture import GaussianParams
from emviz.models.protocol import Capability, InvalidStart, mean_directions


def random_data_means(X: np.ndarray, n_components: int, n_starts: int, rng) -> np.ndarray:
    """``n_starts`` sets of ``n_components`` distinct data points (by row), (S, K, D).

    Each start's K rows are a uniformly random K-subset of the rows of ``X``, drawn for all
    starts at once (the K smallest of N uniform keys per start).
    """
    keys = rng.random((n_starts, X.shape[0]))
    rows = np.argpartition(keys, n_components - 1, axis=1)[:, :n_components]
    return X[rows]


@dataclass(frozen=True)
class SphericalMeansMixture(BatchedMixture):
    """(1/K) Σ_k N(x | μ_k, σ² I) with K and σ² fixed.

    Parameters
    ----------
    n_components : int
        K.
    variance : float
        σ², the known variance of every component along every axis.
    """

    n_components: int
    variance: float = 1.0

    def __post_init__(self):
        if int(self.n_components) != self.n_components or self.n_components < 1:
            raise ValueError(f"n_components must be a positive integer, got {self.n_components}")
        if not (np.isfinite(self.variance) and self.variance > 0):
            raise ValueError(f"variance must be a positive number, got {self.variance}")
        object.__setattr__(self, "n_components", int(self.n_components))
        object.__setattr__(self, "variance", float(self.variance))

    inexact_m_step = None  # the M-step is the exact maximiser of Q (protocol)
    capabilities = frozenset({Capability.MIXTURE, Capability.N_PARAMETERS, Capability.SETTABLE_Q})
    objective = "log_likelihood"

    def params(self, means) -> GaussianParams:
        """The full parameters at ``means`` (K, D)."""
        means = np.asarray(means, dtype=np.float64)
        k, d = means.shape
        covariances = np.broadcast_to(self.variance * np.eye(d), (k, d, d))
        return GaussianParams(np.full(k, 1.0 / k), means, covariances)

    # ---- protocol ----

    def prepare(self, X):
        return prepare_gaussian_data(X)

    def init_params(self, X, method: str = "random_from_data", seed=0) -> GaussianParams:
        """``random_from_data``: K distinct data points as the means (the paper's start)."""
        data = self.prepare(X)
        if method != "random_from_data":
            raise ValueError(f"Unknown initialisation {method!r}; choose 'random_from_data'")
        if data.n_samples < self.n_components:
            raise InvalidStart(
                f"{self.n_components} components need at least {self.n_components} points."
            )
        rng = np.random.default_rng(seed)
        return self.params(random_data_means(data.X, self.n_components, 1, rng)[0])

    def check_params(self, params: GaussianParams, n_features: int) -> None:
        if params.n_components != self.n_components or params.n_features != n_features:
            raise InvalidStart(
                f"The model has {self.n_components} means of {n_features} coordinates; the "
                f"parameters have {params.n_components} of {params.n_features}."
            )
        if not params.is_finite():
            raise InvalidStart("The initial means must be finite numbers.")

    def free_directions(self, params: GaussianParams) -> dict[str, np.ndarray]:
        """The means only: the weights and the variance are settings, not parameters."""
        return mean_directions(params)

    def n_parameters(self, n_features: int = 1) -> int:
        return self.n_components * n_features

    def with_equal_weights(self, params: GaussianParams):
        """The weights are already 1/K."""
        return self, params

    def to_dict(self) -> dict:
        return {
            "model": "SphericalMeansMixture",
            "n_components": self.n_components,
            "variance": self.variance,
        }

    def params_from_dict(self, d: dict) -> GaussianParams:
        return GaussianParams.from_dict(d)

    # ---- many starts at once (emviz.models.batch) ----

    def free_parameters(self, params: GaussianParams) -> np.ndarray:
        """The means, row by row: (μ1, μ2, …) in 1-D, (μ1x, μ1y, μ2x, …) in 2-D."""
        return np.array(params.means, dtype=np.float64).ravel()

    def params_from_free(self, vector) -> GaussianParams:
        return self.params(np.reshape(vector, (self.n_components, -1)))

    def batch_e_step(self, data, means, *, log_resp: bool = True) -> BatchPosterior:
        """Responsibilities for every row of ``means`` (S, K·D), the means flattened (log q
        costs nothing extra here: ``log_resp`` is accepted for the common signature)."""
        n_starts = len(means)
        n_features = data.X.shape[1]
        centred_means = np.reshape(means, (-1, n_features)) - data.offset  # (S·K, D)
        log_resp_t = squared_distances(data.centred, centred_means)
        log_resp_t = log_resp_t.reshape(n_starts, self.n_components, -1)
        # log(π N(x | μ, σ² I)) = −log K − (D/2) log(2π σ²) − |x − μ|² / (2σ²)
        log_resp_t *= -0.5 / self.variance
        log_resp_t -= np.log(self.n_components) + 0.5 * n_features * (
            LOG_2PI + np.log(self.variance)
        )
        # normalise over the components: log r = l − log Σ_k e^l, shifted by the largest l
        log_max = log_resp_t.max(axis=1)
        log_resp_t -= log_max[:, None]
        resp_t = np.exp(log_resp_t)
        total = resp_t.sum(axis=1)
        resp_t /= total[:, None]
        log_total = np.log(total)
        log_resp_t -= log_total[:, None]
        return BatchPosterior(resp_t, log_max + log_total, log_resp_t)

    def batch_m_step(self, data, posterior: BatchPosterior):
        """The means per start, shape (S, K·D), and the components that lost their points."""
        nk = posterior.resp_t.sum(axis=2)  # (S, K)
        lost = lost_components(nk, data.n_samples)
        # a stack of (K, N) @ (N, D) products: each start's sums run the same whatever S is
        with np.errstate(divide="ignore", invalid="ignore"):  # a lost component: marked
            means = posterior.resp_t @ data.centred / nk[:, :, None]
        return (means + data.offset).reshape(len(nk), -1), lost
