"""Bivariate normal samples with values removed, completely at random or at random.

- MCAR (missing completely at random): a random share of the rows loses one value, x1 or x2
  with equal chance, whatever the values are.
- MAR (missing at random): x1 is always observed and x2 goes missing with a probability that
  rises with x1 (a logistic curve in the standardised x1). Missingness depends on what is
  observed, so EM on the observed-data likelihood stays unbiased, while dropping incomplete
  rows (complete-case analysis) keeps mostly small x1 — and, x2 being correlated with x1,
  mostly small x2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit

MECHANISMS = ("MCAR", "MAR")
TRUE_MEAN = (2.0, 1.0)
TRUE_COVARIANCE = ((1.0, 1.05), (1.05, 2.25))  # σ1 = 1, σ2 = 1.5, correlation 0.7
MAR_SLOPE = 2.0
"""Log-odds of x2 missing per standard deviation of x1."""


@dataclass(frozen=True, eq=False)
class MissingSample:
    """A generated sample before and after values went missing.

    Attributes
    ----------
    complete : ndarray of shape (n_samples, 2)
        Every value as drawn.
    observed : ndarray of shape (n_samples, 2)
        The same with NaN where a value went missing.
    mean, covariance : ndarray
        The normal the rows were drawn from (the truth).
    """

    complete: np.ndarray
    observed: np.ndarray
    mean: np.ndarray
    covariance: np.ndarray


def missing_sample(
    n_samples: int = 200,
    share: float = 0.3,
    mechanism: str = "MAR",
    seed: int = 0,
    mean=TRUE_MEAN,
    covariance=TRUE_COVARIANCE,
) -> MissingSample:
    """Draw ``n_samples`` rows from N(mean, covariance) and remove values.

    Parameters
    ----------
    share : float in [0, 0.95]
        The share of rows with a missing value (MCAR: exactly that many rows; MAR: the
        expected share).
    mechanism : {"MCAR", "MAR"}
    seed : int

    Returns
    -------
    MissingSample
    """
    if mechanism not in MECHANISMS:
        raise ValueError(f"mechanism must be one of {MECHANISMS}, got {mechanism!r}")
    if not 0 <= share <= 0.95:
        raise ValueError(f"share must be between 0 and 0.95, got {share!r}")
    rng = np.random.default_rng(seed)
    mean, covariance = np.asarray(mean, float), np.asarray(covariance, float)
    complete = rng.multivariate_normal(mean, covariance, size=n_samples)
    observed = complete.copy()
    if mechanism == "MCAR":
        rows = rng.choice(n_samples, size=round(share * n_samples), replace=False)
        observed[rows, rng.integers(0, 2, size=rows.size)] = np.nan
    else:
        probability = mar_probability(complete[:, 0], share)
        observed[rng.random(n_samples) < probability, 1] = np.nan
    for array in (complete, observed, mean, covariance):
        array.setflags(write=False)
    return MissingSample(complete, observed, mean, covariance)


def mar_probability(x1: np.ndarray, share: float) -> np.ndarray:
    """P(x2 missing | x1) = expit(a + MAR_SLOPE · z1), z1 the standardised x1, with a chosen
    so that the probabilities average ``share``."""
    if share <= 0:
        return np.zeros_like(x1)
    z1 = (x1 - x1.mean()) / x1.std()
    intercept = brentq(lambda a: expit(a + MAR_SLOPE * z1).mean() - share, -50.0, 50.0)
    return expit(intercept + MAR_SLOPE * z1)
