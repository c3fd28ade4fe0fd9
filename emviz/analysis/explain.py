"""Words and tables about one recorded half-step: what changed, and the numbers behind it."""

from __future__ import annotations

import numpy as np
from scipy.stats import multivariate_normal

_CHANGE_ATOL = 1e-12


def _vector(values: np.ndarray) -> str:
    return (
        "(" + ", ".join(f"{v:.3f}" for v in values) + ")" if len(values) > 1 else f"{values[0]:.3f}"
    )


def component_table(params) -> list[dict]:
    """One row per component: weight, mean coordinates and covariance entries (upper triangle)."""
    flat = params.flat()
    rows = []
    for k in range(params.n_components):
        prefix = f"_{k + 1}"
        row = {"component": k + 1}
        for name, value in flat.items():
            kind, _, rest = name.partition("_")
            number, _, entry = rest.partition("_")
            if f"_{number}" == prefix:
                row[_column_name(kind, entry, params.n_features)] = value
        rows.append(row)
    return rows


def _column_name(kind: str, entry: str, n_features: int) -> str:
    if kind == "weight":
        return "weight π"
    if kind == "mean":
        return "mean μ" if n_features == 1 else f"mean μ_{entry}"
    if n_features == 1:
        return "variance σ²"
    return f"var {entry[0]}" if entry[0] == entry[1] else f"cov {entry}"


def parameter_changes(history, index: int) -> tuple[list[dict], list[dict]]:
    """The component table at ``index`` and, cell by cell, whether it changed since ``index-1``."""
    rows = component_table(history[index].params)
    if index == 0:
        return rows, [{key: False for key in row} for row in rows]
    before = component_table(history[index - 1].params)
    changed = [
        {key: key != "component" and abs(row[key] - old[key]) > _CHANGE_ATOL for key in row}
        for row, old in zip(rows, before)
    ]
    return rows, changed


def describe_step(history, index: int) -> str:
    """One sentence, in numbers, on what this half-step did."""
    step = history[index]
    if step.phase == "init":
        k = step.params.n_components
        return (
            f"Initial state: {k} component{'s' if k > 1 else ''}. Before any E-step q gives every "
            f"point probability 1/{k} for each component, so the lower bound "
            f"(ELBO = {step.elbo:.3f}) sits KL = {step.kl:.3f} below the log-likelihood "
            f"{step.log_likelihood:.3f}."
        )
    if step.phase == "E":
        return _describe_e_step(history, index)
    return _describe_m_step(history, index)


def _describe_e_step(history, index: int) -> str:
    step = history[index]
    new = history.responsibilities(index)
    old = history.responsibilities(index - 1)
    point, component = np.unravel_index(np.argmax(np.abs(new - old)), new.shape)
    return (
        f"E-step: with θ fixed, every point's responsibilities were recomputed from Bayes' rule. "
        f"The biggest change: point {point}'s responsibility for component {component + 1} went "
        f"from {old[point, component]:.3f} to {new[point, component]:.3f}. The bound now touches "
        f"the log-likelihood: KL = {step.kl:.2g}, ELBO = ℓ = {step.log_likelihood:.3f}."
    )


def _describe_m_step(history, index: int) -> str:
    step, before = history[index], history[index - 1]
    moves = np.linalg.norm(step.params.means - before.params.means, axis=1)
    k = int(np.argmax(moves))
    nk = history.responsibilities(index)[:, k].sum()
    gain = step.log_likelihood - before.log_likelihood
    return (
        f"M-step: component {k + 1}'s mean moved from {_vector(before.params.means[k])} to "
        f"{_vector(step.params.means[k])}, the average of the points weighted by their "
        f"responsibility for it (N_{k + 1} = {nk:.2f} points' worth); its weight became "
        f"N_{k + 1}/N = {step.params.weights[k]:.3f}. The log-likelihood rose by {gain:.4g} to "
        f"{step.log_likelihood:.3f}; the gap KL = {step.kl:.3g} opened again."
    )


def point_breakdown(history, index: int, point: int) -> list[dict]:
    """Why point ``point`` has its responsibilities at step ``index``: Bayes' rule, term by term.

    Returns one row per component with the weight π_k, the density N(x | μ_k, Σ_k), their
    product and the responsibility π_k N_k / Σ_j π_j N_j, all at the parameters the shown q
    was computed from (the previous θ after an M-step). At step 0, q is uniform.
    """
    x = history.X[point]
    q_params = history.q_params(index)
    resp = history.responsibilities(index)[point]
    if q_params is None:
        return [{"component": k + 1, "responsibility": float(r)} for k, r in enumerate(resp)]
    rows = []
    for k in range(q_params.n_components):
        density = multivariate_normal(q_params.means[k], q_params.covariances[k]).pdf(x)
        rows.append(
            {
                "component": k + 1,
                "weight π": float(q_params.weights[k]),
                "density N(x | μ, Σ)": float(density),
                "π · N": float(q_params.weights[k] * density),
                "responsibility": float(resp[k]),
            }
        )
    return rows
