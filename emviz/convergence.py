"""One convergence monitor: when an iterative fit stops, and whether its objective fell.

hmmlearn's ``ConvergenceMonitor`` is the model: one small object owns the stopping rule and
the "did the objective go down?" decision, and decides both from the recorded values alone.
EM, gradient ascent and Newton's method, the monotonicity audit, the learning-rate sweep and
the lower-bound panels all ask it, so they all agree on what counts as a fall.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from emviz.models.protocol import OBJECTIVES

FALL_RTOL = 1e-10
"""The one tolerance for "did it change": a change of at most FALL_RTOL·|value| is rounding.

A log-likelihood is a sum over n points, each term carrying a relative rounding error of a
few ε ≈ 2e-16; over long runs and large n its total stays far below 1e-10 of |ℓ|, while any
real fall EM's guarantee forbids (a broken step, a regularised M-step) is far above it.
"""


@dataclass(frozen=True)
class ConvergenceMonitor:
    """The stopping rule and the fall test for one run.

    Parameters
    ----------
    tol : float
        Stop when one iteration changes the objective per sample by less than ``tol`` (the
        rule of scikit-learn and hmmlearn); 0 never stops early.
    n_samples : int
        Number of data points: ``tol`` is per point so it means the same for any data size.
    objective : str
        What the run climbs, one of `emviz.models.protocol.OBJECTIVES` ("log_likelihood",
        or "log_posterior" for MAP-EM).
    """

    tol: float
    n_samples: int
    objective: str = "log_likelihood"
    rtol: ClassVar[float] = FALL_RTOL

    def __post_init__(self):
        if not (self.tol >= 0 and np.isfinite(self.tol)):
            raise ValueError(f"tol must be a finite number >= 0, got {self.tol}")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"Unknown objective {self.objective!r}; one of {OBJECTIVES}")

    def converged(self, values: Sequence[float]) -> bool:
        """Whether the last of ``values`` (the objective after each iteration, the start
        first) changed by less than ``tol`` per sample."""
        if len(values) < 2:
            return False
        return bool(self.settled(values[-2], values[-1]))

    def settled(self, before, after):
        """The stopping rule elementwise: whether each change from ``before`` to ``after``
        (the objective one iteration apart; arrays for many runs at once) is below ``tol``
        per sample."""
        return np.abs(np.subtract(after, before)) / max(self.n_samples, 1) < self.tol

    @classmethod
    def negligible(cls, amount: float, scale: float) -> bool:
        """Whether ``amount`` is rounding next to a value of size ``scale``."""
        return abs(amount) <= cls.rtol * abs(scale)

    @classmethod
    def fell(cls, before: float, after: float, scale: float | None = None) -> bool:
        """Whether ``after`` is lower than ``before`` by more than rounding (of ``scale``,
        default ``before``)."""
        return before - after > cls.rtol * abs(before if scale is None else scale)

    @classmethod
    def falls(cls, values) -> np.ndarray:
        """For each consecutive pair of ``values``, whether the objective fell, shape (n − 1,)."""
        values = np.asarray(values, dtype=float)
        return values[:-1] - values[1:] > cls.rtol * np.abs(values[:-1])

    @classmethod
    def first_fall(cls, values) -> int | None:
        """The position in ``values`` of the first value below its predecessor (None if none)."""
        falls = cls.falls(values)
        return int(np.argmax(falls)) + 1 if falls.any() else None

    def value(self, step) -> float:
        """The objective recorded at ``step`` (an `emviz.history.Step`): its
        ``log_likelihood``, or for any other objective (the log posterior) its ``objective``."""
        if self.objective == "log_likelihood":
            return float(step.log_likelihood)
        return float(step.objective)

    def bound(self, step) -> float:
        """The lower bound on `value` at ``step`` that the M-step raises.

        For ℓ it is the ELBO (ℓ = ELBO + KL). An objective ℓ + log p(θ) adds to both sides
        what does not depend on q: ℓ + log p(θ) = (ELBO + log p(θ)) + KL, so its bound is
        ELBO + log p(θ), with log p(θ) = objective − ℓ.
        """
        return float(step.elbo) + (self.value(step) - float(step.log_likelihood))

    @property
    def symbol(self) -> str:
        """The objective as a learner reads it in a sentence: "ℓ" or "ℓ + log p(θ)"."""
        return "ℓ" if self.objective == "log_likelihood" else "ℓ + log p(θ)"

    @property
    def formula(self) -> str:
        """The objective as a chart's title writes it."""
        return "ln p(X | θ)" if self.objective == "log_likelihood" else "ln p(X | θ) + ln p(θ)"

    @property
    def maximised(self) -> str:
        """What an exact M-step maximises for this objective, for messages."""
        return "Q" if self.objective == "log_likelihood" else "Q + log p(θ)"
