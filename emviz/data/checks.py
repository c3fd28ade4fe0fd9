"""Data that reads fine but that EM cannot fit: say why, and what to change, before running.

A file can be perfectly readable and still stop a Gaussian mixture before its first step:
too few points or distinct points for K components, a column that never changes, points on
one line, or numbers so large or small that sums of squares overflow or underflow. Each has
its own fix, so each gets its own message (one or two sentences a student can act on) instead
of the linear-algebra error the fit would raise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Column ranges (max - min) outside this interval make squares and sums of squares overflow
# or underflow float64 (about 1e±308) somewhere in EM, with room to spare.
SAFE_RANGE = (1e-100, 1e100)
# A column this many times narrower than another has a variance below the 1e-12 relative
# tolerance at which the mixture calls a component collapsed (see SINGULAR_RTOL).
MAX_RANGE_RATIO = 1e6
# Below this ratio of the smallest to the largest spread across the data, the points lie on
# one line: a full 2-D covariance is flat.
FLAT_RTOL = 1e-12
STANDARDISE_FIX = (
    'Tick "Standardise columns" in the sidebar to rescale every column to mean 0 and '
    "standard deviation 1."
)


def standardise(X) -> np.ndarray:
    """A new array whose columns have mean 0 and standard deviation 1 (ddof=0).

    Each column is first divided by its largest absolute value, so values near 1e±300
    neither overflow nor underflow on the way. A constant column becomes all zeros.
    """
    X = np.asarray(X, dtype=np.float64)
    peak = np.abs(X).max(axis=0)
    scaled = X / np.where(peak > 0, peak, 1.0)
    centred = scaled - scaled.mean(axis=0)
    spread = centred.std(axis=0)
    return centred / np.where(spread > 0, spread, 1.0)


def fit_obstacle(
    X,
    n_components: int,
    covariance_type: str = "full",
    reg_covar: float = 0.0,
    names: Sequence[str] | None = None,
) -> str | None:
    """Why EM cannot fit ``n_components`` Gaussians to ``X`` (n_samples, n_features), in
    words with the fix; None when nothing stands in the way.

    ``names`` are the column names used in messages (default "column 1", ...). Problems that
    a positive ``reg_covar`` cures (zero width somewhere) are reported only when it is 0.
    """
    X = np.asarray(X, dtype=np.float64)
    names = list(names) if names else [f"column {j + 1}" for j in range(X.shape[1])]
    for check in (_too_few_points, _scale_problem):
        problem = check(X, n_components, names)
        if problem:
            return problem
    if reg_covar > 0:
        return None
    for check in (_constant_column, _too_few_distinct_points, _points_on_a_line):
        problem = check(X, n_components, names, covariance_type)
        if problem:
            return problem
    return None


def _too_few_points(X, k, names) -> str | None:
    if len(X) >= k:
        return None
    return (
        f"K = {k} components need at least {k} points, but this data has only {len(X)}. "
        f"Choose K ≤ {len(X)}, or add more rows."
    )


def _column_ranges(X) -> np.ndarray:
    with np.errstate(over="ignore"):
        return X.max(axis=0) - X.min(axis=0)  # inf when the difference overflows


def _scale_problem(X, k, names) -> str | None:
    ranges = _column_ranges(X)
    low, high = SAFE_RANGE
    for name, spread in zip(names, ranges):
        if spread > high:
            return (
                f'The values of column "{name}" span about {_order(spread)}, so large that '
                f"EM's sums of squares overflow. {STANDARDISE_FIX}"
            )
        if 0 < spread < low:
            return (
                f'The values of column "{name}" span only about {_order(spread)}, so small '
                f"that EM's variances underflow to 0. {STANDARDISE_FIX}"
            )
    varying = np.flatnonzero(ranges > 0)  # a constant column has its own message
    if len(varying) < 2:
        return None
    wide = varying[np.argmax(ranges[varying])]
    narrow = varying[np.argmin(ranges[varying])]
    ratio = ranges[wide] / ranges[narrow]
    if ratio <= MAX_RANGE_RATIO:
        return None
    return (
        f'Column "{names[wide]}" spreads about {_order(ratio)} times wider than column '
        f'"{names[narrow]}", so EM sees no width in "{names[narrow]}" and every component '
        f"looks collapsed. {STANDARDISE_FIX}"
    )


def _order(value: float) -> str:
    return "1e+308 or more" if not np.isfinite(value) else f"{value:.0e}"


def _constant_column(X, k, names, covariance_type) -> str | None:
    # A spherical covariance averages the variances, so one constant column does not stop it.
    if covariance_type == "spherical" or X.shape[1] < 2:
        return None
    for j, name in enumerate(names):
        if np.all(X[:, j] == X[0, j]):
            return (
                f'Column "{name}" has the same value ({X[0, j]:g}) in every row, so no '
                "Gaussian can have any width along it. Drop that column (keep only the "
                "other one), or raise reg_covar above 0."
            )
    return None


def _too_few_distinct_points(X, k, names, covariance_type) -> str | None:
    distinct = len(np.unique(X, axis=0))
    if distinct >= k:
        return None
    return (
        f"This data has only {distinct} distinct points (the other {len(X) - distinct} rows "
        f"repeat them), too few for K = {k} components. Choose K ≤ {distinct}."
    )


def _points_on_a_line(X, k, names, covariance_type) -> str | None:
    if covariance_type not in ("full", "tied") or X.shape[1] < 2:
        return None
    spread = np.linalg.eigvalsh(np.cov(standardise(X).T, bias=True))
    if spread[0] > FLAT_RTOL * spread[-1]:
        return None
    return (
        "All the points lie on one straight line, so every Gaussian fitted to them is flat "
        "(no width across the line). Use only one of the columns, choose the diagonal "
        "covariance type, or raise reg_covar above 0."
    )
