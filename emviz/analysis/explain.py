"""Words and tables about one recorded half-step: what changed, and the numbers behind it."""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import multivariate_normal

from emviz.convergence import ConvergenceMonitor

_CHANGE_ATOL = 1e-12


def _vector(values: np.ndarray, decimals: int = 3) -> str:
    numbers = [f"{v:.{decimals}f}" for v in values]
    return "(" + ", ".join(numbers) + ")" if len(values) > 1 else numbers[0]


def _decimals_to_show(move: float) -> int:
    """Enough decimals (3 to 8) that a move of this size shows between two positions."""
    return int(np.clip(math.ceil(-math.log10(move)) + 1, 3, 8)) if move > 0 else 3


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


def readable(value: float, digits: int = 3, *, latex: bool = False) -> str:
    """``value`` to ``digits`` significant digits, never in e-notation: large numbers in full
    (18010), small ones as "1.4 × 10⁻⁷" (``latex``: "1.4 \\times 10^{-7}", no italic e)."""
    if value == 0 or not np.isfinite(value):
        return f"{value:g}"
    if abs(value) >= 1e-3:
        decimals = max(digits - 1 - math.floor(math.log10(abs(value))), 0)
        text = f"{value:.{decimals}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    if latex:
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return f"{mantissa} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}"


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
# a move or a change smaller than this is below every number the step text and table show
_SHOWN_PRECISION = 5e-4


def change_phrase(change: float, scale: float = 0.0) -> str:
    """A change of ℓ as words: "rose by 0.0312", "fell by 0.0288", "did not change".

    A change within rounding of a value of size ``scale`` (`ConvergenceMonitor.negligible`)
    did not change it: at a fixed point ℓ wobbles in its last bits.
    """
    if ConvergenceMonitor.negligible(change, scale):
        return "did not change (beyond rounding)" if change else "did not change"
    return f"{'rose' if change > 0 else 'fell'} by {readable(abs(change))}"


def step_view_caption(n_features: int) -> str:
    """What the step view draws for data of ``n_features`` dimensions, in one caption."""
    if n_features == 1:
        moves = (
            "each M-step moves the Gaussians (one weighted density curve per component over "
            "the histogram, and their sum, the mixture)"
        )
        colours = "the responsibilities (the stacked bands q(z | x) below, and each point's colour)"
    else:
        where = "" if n_features == 2 else f" in the first two of the {n_features} coordinates"
        moves = f"each M-step moves the Gaussians (ellipses at 1σ and 2σ{where}, × at each mean)"
        colours = "the responsibilities (colours)"
    return f"Each E-step recomputes {colours}; {moves}. Step, scrub, or play the whole run."


def describe_step(history, index: int) -> str:
    """One sentence, in numbers, on what this half-step did."""
    step = history[index]
    if step.phase == "init":
        return _describe_initial_state(step)
    if step.phase == "E":
        return _describe_e_step(history, index)
    return _describe_m_step(history, index)


def _describe_initial_state(step) -> str:
    k = step.params.n_components
    if k == 1:
        return (
            "Initial state: 1 component. With one component every point surely belongs to it: "
            "q = 1 is already the posterior, so the lower bound equals the log-likelihood "
            f"(ELBO = ℓ = {step.log_likelihood:.3f}, KL = {readable(step.kl)})."
        )
    return (
        f"Initial state: {k} components. Before any E-step q gives every point probability "
        f"1/{k} for each component, so the lower bound (ELBO = {step.elbo:.3f}) sits "
        f"KL = {readable(step.kl)} below the log-likelihood {step.log_likelihood:.3f}."
    )


def _describe_e_step(history, index: int) -> str:
    step = history[index]
    touches = (
        f"The bound now touches the log-likelihood: KL = {readable(step.kl, 2)}, "
        f"ELBO = ℓ = {step.log_likelihood:.3f}."
    )
    if step.params.n_components == 1:
        return (
            "E-step: with one component every point's responsibility is 1, so there is "
            f"nothing to recompute. {touches}"
        )
    new = history.responsibilities(index)
    old = history.responsibilities(index - 1)
    changes = np.abs(new - old)
    point, component = np.unravel_index(np.argmax(changes), new.shape)
    if changes[point, component] < _SHOWN_PRECISION:
        return (
            "E-step: with θ fixed, every point's responsibilities were recomputed from Bayes' "
            f"rule, and none changed by more than {readable(changes[point, component], 2)}: "
            f"q already was the posterior of this θ. {touches}"
        )
    return (
        f"E-step: with θ fixed, every point's responsibilities were recomputed from Bayes' rule. "
        f"The biggest change: point {point}'s responsibility for component {component + 1} went "
        f"from {old[point, component]:.3f} to {new[point, component]:.3f}. {touches}"
    )


def _largest_parameter_change(before, after) -> float:
    return max(
        float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
        for a, b in zip(after.to_dict().values(), before.to_dict().values())
    )


def _describe_m_step(history, index: int) -> str:
    step, before = history[index], history[index - 1]
    change = step.log_likelihood - before.log_likelihood
    gap = (
        f"the gap KL = {readable(step.kl)} opened again"
        if step.kl >= _SHOWN_PRECISION
        else f"the gap stays closed (KL = {readable(step.kl, 2)})"
    )
    caveat = history.model.inexact_m_step
    changed = change_phrase(change, step.log_likelihood)
    falls = ConvergenceMonitor.fell(before.log_likelihood, step.log_likelihood)
    why = f" ({caveat}, and then ℓ can fall)" if falls and caveat else ""
    moved = _largest_parameter_change(before.params, step.params)
    if moved < _SHOWN_PRECISION:
        return (
            f"M-step: the parameters no longer change (the largest move is "
            f"{readable(moved, 2)}): EM has reached a fixed point, where the M-step gives back "
            f"the θ the E-step started from. The log-likelihood {changed}{why}, "
            f"ℓ = {step.log_likelihood:.3f}; {gap}."
        )
    moves = np.linalg.norm(step.params.means - before.params.means, axis=1)
    k = int(np.argmax(moves))
    decimals = _decimals_to_show(moves[k])
    nk = history.responsibilities(index)[:, k].sum()
    mean = (
        f"component {k + 1}'s mean moved from {_vector(before.params.means[k], decimals)} to "
        f"{_vector(step.params.means[k], decimals)}, the average of the points weighted by their "
        f"responsibility for it (N_{k + 1} = {nk:.2f} points' worth)"
        if moves[k] >= _SHOWN_PRECISION
        else f"no mean moved by more than {readable(moves[k], 2)}"
    )
    weight = (
        f"its weight became N_{k + 1}/N = {step.params.weights[k]:.3f}"
        if step.params.n_components > 1
        else "the variances were re-fitted around it"
    )
    return (
        f"M-step: {mean}; {weight}. The log-likelihood {changed}{why} to "
        f"{step.log_likelihood:.3f}; {gap}."
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
