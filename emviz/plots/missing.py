"""The figure of "Missing data": the rows, each missing value filled in by the shown E-step,
and the ellipses of EM, complete-case analysis, mean imputation and (generated data) the truth.

A row missing x₂ is drawn as a tick on a strip under the plot at its x₁, a row missing x₁ as a
tick on a strip left of the plot at its x₂; a faint line joins the tick to the row's fill-in
E_q[x_mis], which moves with the steps.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from emviz.plots.mixture import drawn_points, ellipse_rings_xy, ellipse_xy, sample_note, step_title
from emviz.plots.palette import component_colour
from emviz.plots.theme import THEME

_PAD, _STRIP = 0.08, 0.1  # of each axis' span: padding, then the strip of missing-value ticks
EM_COLOUR = "#000000"
FILL_COLOUR = component_colour(1)  # vermillion: the filled-in values
ROW_COLOUR = component_colour(0)  # blue: complete rows
COMPARED = {  # name in `estimates` → (legend label, colour, dash)
    "complete_case": ("complete cases only", component_colour(2), "dash"),
    "mean_imputed": ("mean imputation", component_colour(3), "dot"),
    "truth": ("truth", "#888888", "longdash"),
}


def axis_ranges(X: np.ndarray, filled_values: list[np.ndarray]) -> list[list[float]]:
    """Per axis [low, high]: the observed values and every fill-in, padded, plus a strip at the
    low end where the rows missing the other coordinate are ticked."""
    stacked = np.vstack([X, *filled_values])
    low, high = np.nanmin(stacked, axis=0), np.nanmax(stacked, axis=0)
    span = np.where(high > low, high - low, 1.0)
    return [
        [float(lo - (_PAD + _STRIP) * s), float(hi + _PAD * s)]
        for lo, hi, s in zip(low, high, span)
    ]


def _strip_position(axis_range: list[float]) -> float:
    """Where a strip's ticks sit: the middle of the strip at the low end of the axis."""
    low, high = axis_range
    span = (high - low) / (1 + 2 * _PAD + _STRIP)
    return low + 0.5 * _STRIP * span


def _segments(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Line segments start→end in one array, a NaN row after each (one trace draws all)."""
    gaps = np.full_like(start, np.nan)
    return np.stack([start, end, gaps], axis=1).reshape(-1, 2)


def _row_traces(X: np.ndarray, filled: np.ndarray, ranges, drawn: np.ndarray) -> list[dict]:
    X, filled = X[drawn], filled[drawn]
    holes = np.isnan(X)
    complete = ~holes.any(axis=1)
    ticks = X.copy()  # the observed coordinate, and the missing one on its strip
    for axis in (0, 1):
        ticks[holes[:, axis], axis] = _strip_position(ranges[axis])
    missing = ~complete
    links = _segments(ticks[missing], filled[missing])
    size = 6 if len(drawn) <= 1000 else 4
    return [
        {
            "type": "scatter",
            "x": X[complete, 0],
            "y": X[complete, 1],
            "mode": "markers",
            "marker": {"color": ROW_COLOUR, "size": size, "opacity": 0.7},
            "name": f"complete rows ({int(complete.sum())})",
            "hovertemplate": "(%{x:.3f}, %{y:.3f})<extra>complete row</extra>",
        },
        {
            "type": "scatter",
            "x": ticks[missing, 0],
            "y": ticks[missing, 1],
            "mode": "markers",
            "marker": {
                "color": FILL_COLOUR,
                "size": 9,
                "symbol": np.where(holes[missing, 1], "line-ns", "line-ew").tolist(),
                "line": {"width": 1.5, "color": FILL_COLOUR},
            },
            "name": f"rows with a value missing ({int(missing.sum())}), on the strips",
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "x": links[:, 0],
            "y": links[:, 1],
            "mode": "lines",
            "line": {"color": FILL_COLOUR, "width": 0.8},
            "opacity": 0.35,
            "showlegend": False,
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "x": filled[missing, 0],
            "y": filled[missing, 1],
            "mode": "markers",
            "marker": {
                "color": "white",
                "size": size + 1,
                "line": {"color": FILL_COLOUR, "width": 1.5},
            },
            "name": "missing value filled in: E[x_mis | x_obs, θ]",
            "hovertemplate": "filled in: (%{x:.3f}, %{y:.3f})<extra></extra>",
        },
    ]


def _ellipse_trace(params, name: str, colour: str, dash: str, *, rings: bool) -> dict:
    xy = (
        ellipse_rings_xy(params.mean, params.covariance)
        if rings
        else ellipse_xy(params.mean, params.covariance, 2.0)
    )
    return {
        "type": "scatter",
        "x": xy[:, 0],
        "y": xy[:, 1],
        "mode": "lines",
        "line": {"color": colour, "width": 2.5 if rings else 1.8, "dash": dash},
        "name": name,
        "legendgroup": name,
        "connectgaps": False,
        "hoverinfo": "skip",
    }


def _mean_trace(params, name: str, colour: str) -> dict:
    return {
        "type": "scatter",
        "x": [params.mean[0]],
        "y": [params.mean[1]],
        "mode": "markers",
        "marker": {"symbol": "x-thin", "size": 14, "line": {"width": 3, "color": colour}},
        "name": name,
        "legendgroup": name,
        "showlegend": False,
        "hovertemplate": f"{name}: mean (%{{x:.3f}}, %{{y:.3f}})<extra></extra>",
    }


def plot_missing_fit(fit, index: int) -> go.Figure:
    """The rows, the fill-ins of the q shown at step ``index`` and the four ellipses (2σ; EM's
    also 1σ). ``fit`` is a `emviz.runs.MissingDataFit`."""
    history = fit.history
    filled = history.posterior(index).filled
    # fixed over the steps: the fill-ins of the first and the last q bound where they go
    ranges = axis_ranges(history.X, [history.posterior(0).filled, history.posterior(-1).filled])
    traces = _row_traces(history.X, filled, ranges, drawn_points(len(history.X)))
    for key, (label, colour, dash) in COMPARED.items():
        params = getattr(fit, key)
        if params is not None:
            traces.append(_ellipse_trace(params, label, colour, dash, rings=False))
            traces.append(_mean_trace(params, label, colour))
    params = history[index].params
    traces.append(
        _ellipse_trace(params, "EM at this step (1σ, 2σ)", EM_COLOUR, "solid", rings=True)
    )
    traces.append(_mean_trace(params, "EM at this step (1σ, 2σ)", EM_COLOUR))
    x_name, y_name = fit.names
    title = {"text": step_title(history, index), "font": {"size": 15}}
    note = sample_note(len(history.X))
    if note:
        title["subtitle"] = {"text": note, "font": {"size": 12, "color": "#555"}}
    layout = {
        "template": THEME,
        "title": title,
        "xaxis": {"range": ranges[0], "title": x_name, "zeroline": False},
        "yaxis": {"range": ranges[1], "title": y_name, "zeroline": False},
        "legend": {"y": -0.14},
        "margin": {"l": 50, "t": 85},
        "height": 620,
        "uirevision": "keep-zoom",
        "shapes": [_strip_shape("x", ranges[0]), _strip_shape("y", ranges[1])],
    }
    return go.Figure({"data": traces, "layout": layout})


def _strip_shape(axis: str, axis_range: list[float]) -> dict:
    """A light band marking the strip of ticks at the low end of ``axis``."""
    low, high = axis_range
    span = (high - low) / (1 + 2 * _PAD + _STRIP)
    other = "y" if axis == "x" else "x"
    return {
        "type": "rect",
        f"{axis}0": low,
        f"{axis}1": low + _STRIP * span,
        f"{axis}ref": axis,
        f"{other}0": 0,
        f"{other}1": 1,
        f"{other}ref": "paper",
        "fillcolor": "#f3f3f3",
        "line": {"width": 0},
        "layer": "below",
    }
