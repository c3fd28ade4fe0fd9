"""Figures of the probabilistic PCA page: the data with the line along W at the shown step, and
the angle between W and the principal direction and σ² over the iterations."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from emviz.models.ppca import principal_angle_degrees
from emviz.plots.bound import _cursor_lines, _figure, _two_rows
from emviz.plots.failures import iteration_params
from emviz.plots.palette import component_colour
from emviz.plots.theme import THEME

W_COLOUR = component_colour(0)
ML_COLOUR = "#222222"
POINT_COLOUR = "#9e9e9e"
PROJECTION_COLOUR = component_colour(1)


def iteration_of(history, index: int) -> int:
    """The iteration whose θ step ``index`` shows: an E-step keeps the θ of the M-step before
    it (0 is the start)."""
    step = history[index]
    return step.iteration - 1 if step.phase == "E" else step.iteration


def angle_and_noise(history, principal) -> tuple[np.ndarray, np.ndarray]:
    """Per iteration (0 = the start): the angle in degrees between W and ``principal``, and σ²."""
    params = iteration_params(history)
    angles = np.array([principal_angle_degrees(p.W, principal) for p in params])
    return angles, np.array([p.noise_variance for p in params])


def _line_through(mean: np.ndarray, direction: np.ndarray, half_length: float) -> np.ndarray:
    """Two points, ``mean`` ± ``half_length`` along the unit vector of ``direction``."""
    unit = direction / np.linalg.norm(direction)
    return np.array([mean - half_length * unit, mean + half_length * unit])


def _reach(X: np.ndarray) -> float:
    """Half the length of a line through the data's mean that spans the data."""
    return float(np.max(np.linalg.norm(X - X.mean(axis=0), axis=1)))


def plot_ppca_data(run, index: int) -> go.Figure:
    """The data, the line through μ along W at step ``index`` and, for the q of that step,
    each point's reconstruction W E[z_n] + μ; the closed-form principal line dotted.
    2-D data: a plane figure with the band ±σ about the line; 3-D data: a 3-D scatter."""
    history = run.history
    params = history[index].params
    q = history.posterior(index)
    reconstructions = q.latent_means @ params.W.T + params.mean
    if history.X.shape[1] == 2:
        return _plane_figure(run, params, reconstructions)
    return _space_figure(run, params, reconstructions)


def _plane_figure(run, params, reconstructions) -> go.Figure:
    X = run.history.X
    reach = 1.1 * _reach(X)
    w = params.W[:, 0]
    line = _line_through(params.mean, w, reach)
    normal = np.array([-w[1], w[0]]) / np.linalg.norm(w)
    sigma = np.sqrt(params.noise_variance)
    band = [line + sign * sigma * normal for sign in (1.0, -1.0)]
    ml = run.closed_form
    ml_line = _line_through(ml.mean, ml.W[:, 0], reach)
    links = np.full((3 * len(X), 2), np.nan)  # point → reconstruction, None-separated segments
    links[0::3], links[1::3] = X, reconstructions
    traces = [
        _scatter(links, "lines", "E-step: x_n → W E[z_n] + μ", line={"color": "#f2c6a8"}),
        _scatter(X, "markers", "data", marker={"color": POINT_COLOUR, "size": 5}),
        _scatter(
            reconstructions,
            "markers",
            "W E[z_n] + μ",
            marker={"color": PROJECTION_COLOUR, "size": 4},
        ),
        _scatter(band[0], "lines", "±σ about the line", line={"color": W_COLOUR, "dash": "dash"}),
        _scatter(band[1], "lines", "", line={"color": W_COLOUR, "dash": "dash"}, showlegend=False),
        _scatter(line, "lines", "the line along W", line={"color": W_COLOUR, "width": 3}),
        _scatter(
            np.array([params.mean, params.mean + w]),
            "lines+markers",
            "W (from μ)",
            line={"color": W_COLOUR, "width": 6},
            marker={"size": [0, 10], "symbol": "arrow", "angleref": "previous"},
        ),
        _scatter(
            ml_line, "lines", "closed-form principal line", line={"color": ML_COLOUR, "dash": "dot"}
        ),
    ]
    layout = {
        "height": 520,
        "title": {"text": f"W = ({w[0]:.3f}, {w[1]:.3f}), σ² = {params.noise_variance:.4f}"},
        "xaxis": {"title": {"text": "x"}},
        "yaxis": {"title": {"text": "y"}, "scaleanchor": "x", "scaleratio": 1},
        "legend": {"y": -0.15},
    }
    return _figure(traces, layout)


def _scatter(points: np.ndarray, mode: str, name: str, **style) -> dict:
    trace = {"type": "scatter", "x": points[:, 0], "y": points[:, 1], "mode": mode, "name": name}
    return trace | style


def _space_figure(run, params, reconstructions) -> go.Figure:
    X = run.history.X
    reach = 1.1 * _reach(X)
    line = _line_through(params.mean, params.W[:, 0], reach)
    ml_line = _line_through(run.closed_form.mean, run.closed_form.W[:, 0], reach)
    fig = go.Figure(layout={"template": THEME})
    for points, name, style in (
        (X, "data", {"mode": "markers", "marker": {"size": 2.5, "color": POINT_COLOUR}}),
        (
            reconstructions,
            "W E[z_n] + μ",
            {"mode": "markers", "marker": {"size": 2, "color": PROJECTION_COLOUR}},
        ),
        (line, "the line along W", {"mode": "lines", "line": {"color": W_COLOUR, "width": 7}}),
        (
            ml_line,
            "closed-form principal line",
            {"mode": "lines", "line": {"color": ML_COLOUR, "width": 4, "dash": "dot"}},
        ),
    ):
        fig.add_trace(
            go.Scatter3d(x=points[:, 0], y=points[:, 1], z=points[:, 2], name=name, **style)
        )
    w = params.W[:, 0]
    fig.update_layout(
        height=560,
        title={
            "text": f"W = ({w[0]:.3f}, {w[1]:.3f}, {w[2]:.3f}), σ² = {params.noise_variance:.4f}"
        },
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
        scene={"aspectmode": "data", "camera": {"eye": {"x": 1.4, "y": -1.6, "z": 0.9}}},
        legend={"y": -0.05},
        uirevision="ppca-space",  # stepping keeps the learner's camera
    )
    return fig


def plot_ppca_trace(run, index: int) -> go.Figure:
    """Per iteration: the angle between W and the closed-form principal direction (top), and
    σ² with the closed-form σ²_ML (bottom); a dotted line at the shown step's iteration."""
    angles, noise = angle_and_noise(run.history, run.closed_form.W[:, 0])
    iterations = np.arange(len(angles))
    traces = [
        _series(iterations, angles, "angle(W, top eigenvector)", W_COLOUR, "", "angle %{y:.4g}°"),
        _series(iterations, noise, "σ²", PROJECTION_COLOUR, "2", "σ² %{y:.6g}"),
        _series(
            [0, iterations[-1]],
            [run.closed_form.noise_variance] * 2,
            "closed-form σ²_ML",
            ML_COLOUR,
            "2",
            "σ²_ML %{y:.6g}",
            mode="lines",
            line={"color": ML_COLOUR, "dash": "dot"},
        ),
    ]
    layout = _two_rows(0.5, 0.1, "iteration")
    layout["yaxis"].update(title={"text": "angle (°)"}, rangemode="tozero")
    layout["yaxis2"].update(title={"text": "σ²"}, rangemode="tozero")
    layout.update(
        height=480,
        title={"text": "Angle of W to the principal axis<br>and σ² (→ σ²_ML)"},
        legend={"y": -0.2},
        shapes=_cursor_lines(iteration_of(run.history, index), ("", "2")),
    )
    return _figure(traces, layout)


def _series(x, y, name: str, colour: str, axes: str, hover: str, **style) -> dict:
    """A line with markers over the iterations, on the subplot of axis suffix ``axes``."""
    return {
        "type": "scatter",
        "x": x,
        "y": y,
        "mode": "lines+markers",
        "name": name,
        "line": {"color": colour},
        "marker": {"size": 4},
        "xaxis": f"x{axes}",
        "yaxis": f"y{axes}",
        "hovertemplate": f"iteration %{{x}}<br>{hover}<extra></extra>",
    } | style
