"""The two-mean mixture: 0.3·N(μ1, 1) + 0.7·N(μ2, 1/2), only the means unknown.

Statisticians use it to show that a smooth log-likelihood ℓ(μ1, μ2) can have a global mode
near the truth, a lower label-swapped mode and a saddle between them. It is a Gaussian mixture
whose weights and variances are fixed, so its parameters are `GaussianParams` (drawn by the same
code); its M-step re-estimates the means alone. Its log joint log w_k N(x | m, v_k) is written
once, `TwoMeanMixture.log_joint_grid`, for any number of candidate means m: the E-step, the
ℓ(μ1, μ2) grid, the bound surface and the paths' derivatives all use it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emviz.models.batch import (
    BatchedMixture,
    BatchPosterior,
    lost_components,
    two_state_posterior,
)
from emviz.models.gaussian_kernels import prepare_gaussian_data
from emviz.models.gaussian_mixture import GaussianParams
from emviz.models.protocol import Capability, InvalidStart, mean_directions


@dataclass(frozen=True)
class TwoMeanMixture(BatchedMixture):
    """w1·N(x | μ1, v1) + w2·N(x | μ2, v2) on 1-D data with w and v fixed.

    Parameters
    ----------
    weights : (float, float)
        Fixed mixing weights, summing to 1 (default 0.3, 0.7).
    variances : (float, float)
        Fixed component variances (default 1 and 1/2).
    """

    weights: tuple[float, float] = (0.3, 0.7)
    variances: tuple[float, float] = (1.0, 0.5)

    def __post_init__(self):
        w, v = np.asarray(self.weights, float), np.asarray(self.variances, float)
        if w.shape != (2,) or np.any(w <= 0) or abs(w.sum() - 1) > 1e-12:
            raise ValueError(
                f"weights must be two positive numbers adding to 1, got {self.weights}"
            )
        if v.shape != (2,) or not np.all(np.isfinite(v)) or np.any(v <= 0):
            raise ValueError(f"variances must be two positive numbers, got {self.variances}")
        object.__setattr__(self, "weights", tuple(float(a) for a in w))
        object.__setattr__(self, "variances", tuple(float(a) for a in v))

    n_components = 2
    inexact_m_step = None  # the M-step is the exact maximiser of Q (protocol)

    def params(self, mu1: float, mu2: float) -> GaussianParams:
        """The full parameters at means (μ1, μ2)."""
        return GaussianParams(self.weights, [[mu1], [mu2]], np.array(self.variances)[:, None, None])

    # ---- protocol ----

    def prepare(self, X):
        data = prepare_gaussian_data(X)
        if data.X.shape[1] != 1:
            raise ValueError("The two-mean mixture is one-dimensional: X must have one column.")
        return data

    def init_params(self, X, method: str = "spread", seed=0) -> GaussianParams:
        """``spread``: mean ∓ one standard deviation; ``random_from_data``: two data points."""
        data = self.prepare(X)
        x = data.X[:, 0]
        if method == "spread":
            return self.params(x.mean() - x.std(), x.mean() + x.std())
        if method == "random_from_data":
            first, second = np.random.default_rng(seed).choice(x, 2, replace=False)
            return self.params(first, second)
        raise ValueError(
            f"Unknown initialisation {method!r}; choose 'spread' or 'random_from_data'"
        )

    def log_joint_grid(self, x, means, component, *, weighted: bool = True) -> np.ndarray:
        """log w_k + log N(x_n | m, v_k) for every candidate mean m and every point x_n.

        The one place the mixture's density is written: the E-step, the ℓ(μ1, μ2) grid, the
        bound surface and the derivatives along the paths all take it from here.

        Parameters
        ----------
        x : array of shape (n_samples,)
            The data (or the data less an offset, with the means less the same offset: the
            density depends on x − m only).
        means : array of shape (n_means,)
            The candidate means m.
        component : int or array of shape (n_means,)
            The component k of each row: one k for a whole axis of means, or ``[0, 1]`` with
            ``means = (μ1, μ2)`` for both terms at one θ.
        weighted : bool
            False leaves out log w_k: log N(x_n | m, v_k) alone.

        Returns
        -------
        ndarray of shape (n_means, n_samples)
        """
        x = np.asarray(x, dtype=np.float64)
        means = np.atleast_1d(np.asarray(means, dtype=np.float64))
        variances = np.broadcast_to(np.asarray(self.variances)[component], means.shape)
        # log N(x | m, v) = −½ log(2π v) − (x − m)² / (2 v), built in place in one
        # (n_means, n_samples) array: the grids hold hundreds of means × all the data
        out = np.subtract(x[None, :], means[:, None])
        np.square(out, out=out)
        out /= -2 * variances[:, None]
        constant = -0.5 * np.log(2 * np.pi * variances)
        if weighted:
            # log(w N) = log w + log N
            constant = constant + np.broadcast_to(np.log(self.weights)[component], means.shape)
        out += constant[:, None]
        return out

    # ---- many starts at once (emviz.models.batch) ----

    def free_parameters(self, params: GaussianParams) -> np.ndarray:
        """(μ1, μ2)."""
        return np.array(params.means[:, 0], dtype=np.float64)

    def params_from_free(self, vector) -> GaussianParams:
        return self.params(*vector)

    def batch_e_step(self, data, means, *, log_resp: bool = True) -> BatchPosterior:
        """Responsibilities from the log-odds of component 2 against component 1, for every
        row (μ1, μ2) of ``means`` (S, 2).

        The density difference is taken before the weights are added, so when the two
        Gaussians coincide it is exactly 0 and every r_nk is exactly the same number: the
        symmetric saddle stays an exact fixed point of EM instead of rounding apart.
        """
        x = data.centred[:, 0]
        centred_means = np.asarray(means, dtype=np.float64) - data.offset[0]
        log_weights = np.log(np.asarray(self.weights))
        log_first = self.log_joint_grid(x, centred_means[:, 0], 0, weighted=False)  # (S, N)
        log_odds = self.log_joint_grid(x, centred_means[:, 1], 1, weighted=False)
        log_odds -= log_first
        log_odds += log_weights[1] - log_weights[0]
        log_first += log_weights[0]
        return two_state_posterior(log_odds, log_first, log_resp=log_resp)

    def batch_m_step(self, data, posterior: BatchPosterior):
        """(μ1, μ2) per start, shape (S, 2), and the components that lost their points."""
        nk = posterior.resp_t.sum(axis=2)
        lost = lost_components(nk, data.n_samples)
        # Centred: on the diagonal μ1 = μ2 (equal variances) every r_nk = w_k, and both means
        # come out as x̄ plus a residual far below one ulp, i.e. exactly x̄ — the saddle stays
        # an exact fixed point instead of rounding apart.
        with np.errstate(divide="ignore", invalid="ignore"):  # a lost component: marked
            means = posterior.resp_t @ data.centred[:, 0] / nk
        return means + data.offset[0], lost

    def check_params(self, params: GaussianParams, n_features: int) -> None:
        if params.n_components != 2 or params.n_features != 1 or n_features != 1:
            raise InvalidStart("The two-mean mixture has two 1-D components.")
        if not params.is_finite():
            raise InvalidStart("The initial means must be finite numbers.")

    def to_dict(self) -> dict:
        return {
            "model": "TwoMeanMixture",
            "weights": list(self.weights),
            "variances": list(self.variances),
        }

    def params_from_dict(self, d: dict) -> GaussianParams:
        return GaussianParams.from_dict(d)

    # ---- capabilities (emviz.models.protocol) ----

    capabilities = frozenset({Capability.MIXTURE, Capability.N_PARAMETERS, Capability.SETTABLE_Q})
    objective = "log_likelihood"

    def n_parameters(self, n_features: int = 1) -> int:
        """The two means: the weights and variances are fixed settings, not parameters."""
        return 2

    def free_directions(self, params: GaussianParams) -> dict[str, np.ndarray]:
        """The two means only: along a weight or a variance this model cannot move."""
        return mean_directions(params)

    def with_equal_weights(self, params: GaussianParams):
        """The same mixture with weights ½, ½: here the weights are the model's settings."""
        halves = TwoMeanMixture((0.5, 0.5), self.variances)
        return halves, halves.params(*params.means[:, 0])
