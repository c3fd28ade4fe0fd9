"""The table of Dempster, Laird & Rubin (1977): EM's iterates on the linkage counts, their
errors, the ratios of successive errors, and the rate those ratios settle at."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RATIO_FLOOR = 1e-11
"""Below this |θ_t − θ̂| a ratio of errors is rounding noise (θ itself is rounded at ~1e-16,
a relative 1e-5 of such an error): it is left out of the table."""


@dataclass(frozen=True)
class IterateTable:
    """EM's iterates from the start, against the maximum-likelihood θ̂.

    Attributes
    ----------
    thetas : ndarray of shape (T + 1,)
        θ_0 (the start), θ_1, …, θ_T (after each M-step).
    errors : ndarray of shape (T + 1,)
        θ_t − θ̂.
    ratios : tuple of (float or None), length T + 1
        (θ_t − θ̂) / (θ_{t−1} − θ̂); None at t = 0 and where an error is below `RATIO_FLOOR`.
    mle : float
        θ̂ (closed form, `GeneticLinkage.mle`).
    missing_fraction, observed_information, complete_information : float
        At θ̂: I_miss / I_comp (EM's rate), I_obs and I_comp.
    """

    thetas: np.ndarray
    errors: np.ndarray
    ratios: tuple[float | None, ...]
    mle: float
    missing_fraction: float
    observed_information: float
    complete_information: float

    @property
    def measured_rate(self) -> float | None:
        """The last ratio of errors the rounding leaves meaningful (None if there is none)."""
        defined = [ratio for ratio in self.ratios if ratio is not None]
        return defined[-1] if defined else None

    def rows(self) -> dict[str, list]:
        """The table's columns by heading, one row per iteration t = 0 … T."""
        return {
            "t": list(range(len(self.thetas))),
            "θ_t": self.thetas.tolist(),
            "θ_t − θ̂": self.errors.tolist(),
            "(θ_t − θ̂) / (θ_{t−1} − θ̂)": list(self.ratios),
        }


def iterate_table(history) -> IterateTable:
    """The iterates of a `GeneticLinkage` run (its start and every M-step) against θ̂."""
    model = history.model
    thetas = np.array([s.params.theta for s in history.steps if s.phase in ("init", "M")])
    mle = model.mle()
    errors = thetas - mle
    ratios = (None,) + tuple(
        float(after / before) if min(abs(before), abs(after)) > RATIO_FLOOR else None
        for before, after in zip(errors[:-1], errors[1:])
    )
    return IterateTable(
        thetas=thetas,
        errors=errors,
        ratios=ratios,
        mle=mle,
        missing_fraction=model.missing_fraction(mle),
        observed_information=model.observed_information(mle),
        complete_information=model.complete_information(mle),
    )
