"""How fast EM converges: the Jacobian of the EM map, and the rate seen in the iterates.

Near a maximum θ*, EM behaves like θ_{t+1} − θ* ≈ J (θ_t − θ*), J the Jacobian of the map
θ ↦ M-step(E-step(θ)). Its largest eigenvalue is the fraction of missing information
(Dempster, Laird & Rubin 1977): the linear rate. Works for any model of the protocol, given
how to flatten its parameters into a vector and back.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from emviz.models.protocol import LatentVariableModel


def em_map(model: LatentVariableModel, data, params):
    """One EM iteration: θ ↦ M-step(E-step(θ))."""
    return model.m_step(data, model.e_step(data, params))


def em_map_jacobian(
    model: LatentVariableModel,
    X,
    params,
    to_vector: Callable,
    from_vector: Callable,
    *,
    step: float = 1e-6,
) -> np.ndarray:
    """Central-difference Jacobian of the EM map at ``params``, shape (P, P).

    ``to_vector(params) -> (P,)`` and ``from_vector((P,)) -> params`` choose the coordinates
    (e.g. the free means of a two-mean mixture).
    """
    data = model.prepare(X)
    centre = np.asarray(to_vector(params), dtype=np.float64)
    columns = []
    for direction in np.eye(len(centre)):
        h = step * max(1.0, np.abs(centre).max())
        forward = to_vector(em_map(model, data, from_vector(centre + h * direction)))
        backward = to_vector(em_map(model, data, from_vector(centre - h * direction)))
        columns.append((np.asarray(forward) - np.asarray(backward)) / (2 * h))
    return np.column_stack(columns)


def em_rate(jacobian: np.ndarray) -> float:
    """The linear rate: the largest |eigenvalue| of the EM map's Jacobian at the optimum."""
    return float(np.abs(np.linalg.eigvals(jacobian)).max())


def observed_rate(iterates, limit, *, low: float = 1e-9, high: float = 1e-3) -> float:
    """Median of ‖θ_{t+1} − θ*‖ / ‖θ_t − θ*‖ over iterates whose error lies in [low, high].

    The window skips the start (not yet linear) and the end (rounding).
    """
    errors = np.linalg.norm(np.asarray(iterates) - np.asarray(limit), axis=1)
    ratios = [b / a for a, b in zip(errors[:-1], errors[1:]) if low <= b and a <= high]
    if not ratios:
        raise ValueError("No iterates in the linear window; run more iterations.")
    return float(np.median(ratios))
