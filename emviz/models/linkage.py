"""The genetic-linkage example with which Dempster, Laird & Rubin (1977) named EM (from Rao 1973).

n = 197 animals fall into four phenotype cells with counts y = (y1, y2, y3, y4) =
(125, 18, 20, 34) and probabilities p(θ) = (1/2 + θ/4, (1 − θ)/4, (1 − θ)/4, θ/4), 0 < θ < 1.

The hidden variable: each of the y1 animals of cell 1 came from one of two sub-cells, one of
probability 1/2 and one of probability θ/4. Given the cell, which sub-cell is a Bernoulli
draw, independently per animal; the posterior puts π(θ) = (θ/4) / (1/2 + θ/4) = θ / (2 + θ)
on the θ/4 part. Knowing the split (x11 + x12 = y1), θ would be a binomial proportion:

- E-step: x12 = y1 π(θ), the expected count of the θ/4 part;
- M-step: θ = (x12 + y4) / (x12 + y2 + y3 + y4), the exact maximiser of Q.

The log-likelihood is the multinomial one, with its coefficient:
ℓ(θ) = log C(y) + Σ_i y_i log p_i(θ), C(y) = n! / (y1! y2! y3! y4!). The complete data is
the counts with each cell-1 animal's sub-cell, p(y, z | θ) = C(y) Π_{cell 1} p(z_n | θ)
Π_{cells 2–4} p_i(θ)^{y_i}, which sums over z to p(y | θ); so the same log C(y) is in Q, and

- Q(θ; q) = log C(y) + y1 [q_a log ½ + q_b log(θ/4)] + (y2 + y3) log((1 − θ)/4) + y4 log(θ/4),
- H(q) = y1 H(Bernoulli(q_b)),
- KL(q ‖ p(z | y, θ)) = y1 KL(Bernoulli(q_b) ‖ Bernoulli(π(θ))),

with (q_a, q_b) the split of every cell-1 animal; ℓ = Q + H + KL holds exactly.

The data given to `run_em` is the counts as one row, ``model.X`` of shape (1, 4): one
multinomial observation. So n_samples is 1 (the engine's tolerance is per data set) and a
posterior's ``resp`` is the one split shared by every animal of cell 1, shape (1, 2):
column 0 the 1/2 part, column 1 the θ/4 part.

The rate of convergence (DLR §3) is the fraction of missing information at θ̂:

- observed information I_obs(θ) = −ℓ''(θ) = y1 / (2 + θ)² + (y2 + y3) / (1 − θ)² + y4 / θ²;
- complete information I_comp(θ) = E[−∂²_θ log p(y, z | θ) | y, θ]
  = (y1 π(θ) + y4) / θ² + (y2 + y3) / (1 − θ)²;
- missing information I_miss = I_comp − I_obs = 2 y1 / (θ (2 + θ)²) (the variance of the
  complete-data score given y: y1 π (1 − π) / θ²);
- rate = I_miss / I_comp = 1 − I_obs / I_comp, the derivative of the EM map at θ̂: the
  errors θ_t − θ̂ shrink by that factor per iteration (≈ 0.1328 for these counts).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from emviz.models.protocol import Capability, InvalidStart, SingularParameters, unit_vector

DLR_COUNTS = (125, 18, 20, 34)
"""Rao's (1973) counts, the example of Dempster, Laird & Rubin (1977)."""

LINKAGE_INIT_METHODS = ("half", "random")
LOG_HALF = math.log(0.5)


def check_counts(counts) -> tuple[int, int, int, int]:
    """The four cell counts as whole numbers, or `InvalidStart` saying what is wrong.

    The maximum-likelihood θ lies strictly inside (0, 1) only when some animal is in cell 2
    or 3 (else θ̂ = 1) and cell 4 is not empty or cell 1 holds more than twice cells 2 and 3
    together (else the score is negative at θ = 0 and θ̂ = 0).
    """
    values = np.asarray(counts, dtype=np.float64).ravel()
    if values.size != 4:
        raise InvalidStart(f"Give four cell counts, not {values.size}.")
    if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
        raise InvalidStart("The counts must be whole numbers.")
    if np.any(values < 0):
        raise InvalidStart("The counts cannot be negative.")
    y1, y2, y3, y4 = (int(v) for v in values)
    if y1 + y2 + y3 + y4 == 0:
        raise InvalidStart("All four counts are 0: there is nothing to estimate θ from.")
    if y2 + y3 == 0:
        raise InvalidStart(
            "Cells 2 and 3 are both empty: the likelihood keeps rising up to θ = 1, so the "
            "maximum-likelihood θ is not inside (0, 1)."
        )
    if y4 == 0 and y1 <= 2 * (y2 + y3):
        raise InvalidStart(
            "Cell 4 is empty and cell 1 holds at most twice cells 2 and 3 together: the "
            "likelihood is largest at θ = 0, outside (0, 1)."
        )
    return y1, y2, y3, y4


@dataclass(frozen=True)
class LinkageParams:
    """θ, the linkage parameter, a float in (0, 1)."""

    theta: float

    def __post_init__(self):
        object.__setattr__(self, "theta", float(self.theta))

    n_components = 2  # the two sub-cells of cell 1, the hidden states (generic panels read it)

    def is_finite(self) -> bool:
        return math.isfinite(self.theta)

    def to_dict(self) -> dict:
        return {"theta": self.theta}

    @classmethod
    def from_dict(cls, d: dict) -> LinkageParams:
        return cls(d["theta"])


@dataclass(frozen=True, eq=False)
class LinkageData:
    """The counts, as ``X`` of shape (1, 4) and as the integers y1…y4."""

    X: np.ndarray
    counts: tuple[int, int, int, int]


@dataclass(frozen=True, eq=False)
class LinkagePosterior:
    """q over the sub-cell of every cell-1 animal, the same for each.

    Attributes
    ----------
    resp, log_resp : ndarray of shape (1, 2)
        (q(1/2 part), q(θ/4 part)) and their logarithms.
    counts : (y1, y2, y3, y4)
    log_likelihood : float or None
        ℓ(θ) at the θ of an E-step; None for the uniform q.
    log_cells : ndarray of shape (5,) or None
        log of the complete-data cell probabilities (1/2, θ/4, (1 − θ)/4, (1 − θ)/4, θ/4) at
        that θ (None for the uniform q): Q and the KL read them.
    """

    resp: np.ndarray
    log_resp: np.ndarray
    counts: tuple[int, int, int, int]
    log_likelihood: float | None = None
    log_cells: np.ndarray | None = None

    def expected_counts(self) -> np.ndarray:
        """The complete-data counts q expects: (y1 q_a, y1 q_b, y2, y3, y4)."""
        y1, y2, y3, y4 = self.counts
        return np.array([y1 * self.resp[0, 0], y1 * self.resp[0, 1], y2, y3, y4])


def split_probability(theta: float) -> float:
    """π(θ) = (θ/4) / (1/2 + θ/4) = θ / (2 + θ): the posterior chance of the θ/4 part."""
    return theta / (2.0 + theta)


def log_multinomial_coefficient(counts) -> float:
    """log C(y) = log n! − Σ log y_i!."""
    return math.lgamma(sum(counts) + 1) - sum(math.lgamma(y + 1) for y in counts)


@dataclass(frozen=True)
class GeneticLinkage:
    """Multinomial counts with cell probabilities (1/2 + θ/4, (1 − θ)/4, (1 − θ)/4, θ/4).

    Parameters
    ----------
    counts : four whole numbers
        The observed cell counts y (default Rao's (125, 18, 20, 34)); `check_counts` rejects
        counts whose maximum-likelihood θ is not inside (0, 1). They are the model's data:
        run it on ``model.X``.
    """

    counts: tuple[int, int, int, int] = DLR_COUNTS

    def __post_init__(self):
        object.__setattr__(self, "counts", check_counts(self.counts))

    n_components = 2  # cell 1 is a mixture of two sub-cells: the hidden variable's states
    inexact_m_step = None  # the M-step is the exact maximiser of Q (protocol)
    capabilities = frozenset({Capability.N_PARAMETERS})
    objective = "log_likelihood"

    @property
    def X(self) -> np.ndarray:
        """The counts as the engine's data: one row of four, shape (1, 4)."""
        X = np.array([self.counts], dtype=np.float64)
        X.setflags(write=False)
        return X

    # ---- closed forms ----

    def cell_probabilities(self, theta: float) -> np.ndarray:
        """p(θ) = (1/2 + θ/4, (1 − θ)/4, (1 − θ)/4, θ/4)."""
        return np.array([0.5 + theta / 4, (1 - theta) / 4, (1 - theta) / 4, theta / 4])

    def log_likelihood_at(self, theta) -> np.ndarray:
        """ℓ(θ) for every θ of an array in (0, 1), multinomial coefficient included."""
        theta = np.asarray(theta, dtype=np.float64)
        y1, y2, y3, y4 = self.counts
        return (
            log_multinomial_coefficient(self.counts)
            + y1 * np.log(0.5 + theta / 4)
            + (y2 + y3) * np.log((1 - theta) / 4)
            + y4 * np.log(theta / 4)
        )

    def score(self, theta: float) -> float:
        """ℓ'(θ) = y1 / (2 + θ) − (y2 + y3) / (1 − θ) + y4 / θ."""
        y1, y2, y3, y4 = self.counts
        return y1 / (2 + theta) - (y2 + y3) / (1 - theta) + y4 / theta

    def mle(self) -> float:
        """θ̂, the root in (0, 1) of the score: θ(1 − θ)(2 + θ) ℓ'(θ) = 0 is the quadratic
        n θ² − b θ − 2 y4 = 0 with b = y1 − 2 (y2 + y3) − y4 (ℓ is strictly concave)."""
        y1, y2, y3, y4 = self.counts
        n = y1 + y2 + y3 + y4
        b = y1 - 2 * (y2 + y3) - y4
        discriminant = math.sqrt(b * b + 8 * n * y4)
        # the positive root, written without cancellation for either sign of b
        return (b + discriminant) / (2 * n) if b >= 0 else 4 * y4 / (discriminant - b)

    def em_map(self, theta: float) -> float:
        """One EM iteration, θ → M(θ) (E-step then M-step)."""
        y1, y2, y3, y4 = self.counts
        x12 = y1 * split_probability(theta)
        return (x12 + y4) / (x12 + y2 + y3 + y4)

    def observed_information(self, theta: float) -> float:
        """I_obs(θ) = −ℓ''(θ) = y1 / (2 + θ)² + (y2 + y3) / (1 − θ)² + y4 / θ²."""
        y1, y2, y3, y4 = self.counts
        return y1 / (2 + theta) ** 2 + (y2 + y3) / (1 - theta) ** 2 + y4 / theta**2

    def complete_information(self, theta: float) -> float:
        """I_comp(θ) = (y1 π(θ) + y4) / θ² + (y2 + y3) / (1 − θ)²: the complete-data
        information, its counts x12 replaced by their expectation given y at θ."""
        y1, y2, y3, y4 = self.counts
        return (y1 * split_probability(theta) + y4) / theta**2 + (y2 + y3) / (1 - theta) ** 2

    def missing_fraction(self, theta: float | None = None) -> float:
        """I_miss / I_comp = 1 − I_obs / I_comp at θ (default θ̂): EM's rate of convergence."""
        theta = self.mle() if theta is None else theta
        return 1.0 - self.observed_information(theta) / self.complete_information(theta)

    # ---- protocol ----

    def prepare(self, X) -> LinkageData:
        """``X`` must be this model's counts, shape (1, 4) (``model.X``)."""
        if isinstance(X, LinkageData):
            return X
        X = np.array(X, dtype=np.float64)
        if X.shape != (1, 4) or not np.array_equal(X[0], self.counts):
            raise ValueError(
                f"The data of GeneticLinkage{self.counts} is its counts as one row, "
                f"shape (1, 4); got {X.tolist() if X.size <= 8 else X.shape}."
            )
        X.setflags(write=False)
        return LinkageData(X=X, counts=self.counts)

    def init_params(self, X, method: str = "half", seed=0) -> LinkageParams:
        """``half``: θ = 0.5, DLR's start; ``random``: θ uniform on (0.05, 0.95), seeded."""
        self.prepare(X)
        if method == "half":
            return LinkageParams(0.5)
        if method == "random":
            return LinkageParams(np.random.default_rng(seed).uniform(0.05, 0.95))
        raise ValueError(f"Unknown initialisation {method!r}; choose 'half' or 'random'")

    def check_params(self, params: LinkageParams, n_features: int) -> None:
        if n_features != 4:
            raise InvalidStart(f"The linkage model reads four counts, not {n_features}.")
        if not params.is_finite() or not 0 < params.theta < 1:
            raise InvalidStart(f"θ must lie strictly between 0 and 1, not {params.theta:g}.")

    def e_step(self, data, params: LinkageParams) -> LinkagePosterior:
        data = self.prepare(data)
        theta = params.theta
        log_cells = np.log([0.5, theta / 4, (1 - theta) / 4, (1 - theta) / 4, theta / 4])
        # log q = log p(sub-cell) − log p(cell 1): written with log(2 + θ) so both are finite
        log_resp = np.array([[math.log(2.0), math.log(theta)]]) - math.log(2.0 + theta)
        resp = np.array([[2.0, theta]]) / (2.0 + theta)
        log_likelihood = float(self.log_likelihood_at(theta))
        return LinkagePosterior(resp, log_resp, data.counts, log_likelihood, log_cells)

    def m_step(self, data, posterior: LinkagePosterior) -> LinkageParams:
        """θ = (x12 + y4) / (x12 + y2 + y3 + y4), the exact maximiser of Q."""
        _, x12, y2, y3, y4 = posterior.expected_counts()
        theta = (x12 + y4) / (x12 + y2 + y3 + y4)
        if not 0 < theta < 1:
            raise SingularParameters(f"The M-step put θ at {theta:g}, on the boundary of (0, 1).")
        return LinkageParams(theta)

    def uniform_posterior(self, data, params: LinkageParams) -> LinkagePosterior:
        data = self.prepare(data)
        return LinkagePosterior(np.full((1, 2), 0.5), np.full((1, 2), LOG_HALF), data.counts)

    def expected_log_joint(self, q: LinkagePosterior, evaluated: LinkagePosterior) -> float:
        """Q = log C(y) + Σ (expected complete counts) × log (complete-data cell probability)."""
        constant = log_multinomial_coefficient(q.counts)
        return float(constant + q.expected_counts() @ evaluated.log_cells)

    def entropy(self, q: LinkagePosterior) -> float:
        """y1 × the entropy of the Bernoulli split."""
        return float(-q.counts[0] * np.sum(q.resp * q.log_resp))

    def kl_divergence(self, q: LinkagePosterior, evaluated: LinkagePosterior) -> float:
        """y1 × KL(q's split ‖ the posterior split at the evaluated θ), from the definition."""
        gap = q.log_resp - evaluated.log_resp
        return float(q.counts[0] * np.sum(q.resp * gap))

    def free_directions(self, params: LinkageParams) -> dict[str, np.ndarray]:
        return {"θ": unit_vector(params, "theta", 0)}

    def n_parameters(self, n_features: int = 4) -> int:
        return 1

    def log_likelihood(self, X, params: LinkageParams) -> float:
        self.prepare(X)
        return float(self.log_likelihood_at(params.theta))

    def expected_complete_log_likelihood(self, X, q, params: LinkageParams) -> float:
        return self.expected_log_joint(q, self.e_step(X, params))

    def to_dict(self) -> dict:
        return {"model": "GeneticLinkage", "counts": list(self.counts)}

    def params_from_dict(self, d: dict) -> LinkageParams:
        return LinkageParams.from_dict(d)
