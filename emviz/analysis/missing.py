"""The quick answers EM is compared with on data with missing values.

- Complete-case analysis (listwise deletion): drop every row with a missing value and take
  the moments of the rest. Unbiased under MCAR (only fewer rows); biased under MAR, where the
  dropped rows differ systematically from the kept ones.
- Mean imputation: fill each missing value with its column's observed mean, then take the
  moments. Every filled value sits at the centre, so variances shrink and correlations fade,
  and under MAR the means are those of the biased observed values.
"""

from __future__ import annotations

import numpy as np

from emviz.models.missing import NormalParams, sample_moments


def complete_case_estimate(X: np.ndarray) -> NormalParams | None:
    """The moments (ML, over N) of the rows with nothing missing; None when they are fewer
    than the number of columns plus one."""
    complete = X[~np.isnan(X).any(axis=1)]
    if complete.shape[0] <= X.shape[1]:
        return None
    return sample_moments(complete)


def mean_imputation_estimate(X: np.ndarray) -> NormalParams:
    """The moments (ML, over N) of the data with each missing value set to its column's
    observed mean."""
    filled = np.where(np.isnan(X), np.nanmean(X, axis=0), X)
    return sample_moments(filled)


def summary_row(params: NormalParams | None) -> dict[str, float | None]:
    """Means, variances and correlation of a bivariate normal (None entries: no estimate)."""
    names = ("mean x₁", "mean x₂", "var x₁", "var x₂", "correlation")
    if params is None:
        return dict.fromkeys(names)
    values = (*params.mean, *np.diag(params.covariance), params.correlation()[0, 1])
    return {name: float(value) for name, value in zip(names, values)}
