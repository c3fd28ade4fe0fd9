"""Figures of a Gaussian-mixture run: the data coloured by responsibility, ellipses, densities.

Every figure is built from a `History` and a step index; nothing here displays anything.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy.stats import norm

from emviz.plots.palette import component_colour, mixed_colours

WEBGL_THRESHOLD = 3000  # above this many points the scatter uses WebGL
_ELLIPSE_RADII = (1.0, 2.0)  # Mahalanobis radii drawn: 1σ and 2σ
_N_ELLIPSE_POINTS = 73


def _trace(trace_type):
    """A trace constructor without plotly's per-property validation.

    Validating N colour strings costs ~30 ms per trace and the animation builds hundreds of
    them; the tests validate every figure once by rebuilding it from its dict.
    """
    return lambda **props: trace_type(**props, _validate=False)


_scatter = _trace(go.Scatter)


def step_label(history, index: int) -> str:
    step = history[index]
    return {"init": "initial state", "E": "E-step", "M": "M-step"}[step.phase]


def step_title(history, index: int) -> str:
    step = history[index]
    if step.phase == "init":
        return f"Step 0 · initial state · log-likelihood {step.log_likelihood:.3f}"
    return (
        f"Step {index} · iteration {step.iteration}, {step_label(history, index)} · "
        f"log-likelihood {step.log_likelihood:.3f}"
    )


def ellipse_xy(mean: np.ndarray, covariance: np.ndarray, radius: float) -> np.ndarray:
    """Points (73, 2) on {x : (x-μ)ᵀ Σ⁻¹ (x-μ) = radius²}, via x = μ + radius · L u, |u| = 1."""
    angles = np.linspace(0.0, 2.0 * np.pi, _N_ELLIPSE_POINTS)
    circle = np.stack([np.cos(angles), np.sin(angles)])
    return mean + radius * (np.linalg.cholesky(covariance) @ circle).T


def _axis_ranges(X: np.ndarray, pad: float = 0.12) -> list[list[float]]:
    low, high = X.min(axis=0), X.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    return [[float(lo - pad * s), float(hi + pad * s)] for lo, hi, s in zip(low, high, span)]


# ---- 2-D ----


def _traces_2d(
    history, index: int, selected: int | None, webgl: bool | None = None
) -> list[go.BaseTraceType]:
    """Points, then per component its 1σ and 2σ ellipses, then all means, then the selection.

    The order and number of traces are the same at every step, so animation frames can
    replace them one for one.
    """
    X = history.X
    params = history[index].params
    webgl = len(X) > WEBGL_THRESHOLD if webgl is None else webgl
    scatter = _trace(go.Scattergl if webgl else go.Scatter)
    traces = [
        scatter(
            x=X[:, 0],
            y=X[:, 1],
            mode="markers",
            marker={
                "color": mixed_colours(history.responsibilities(index)),
                "size": 6,
                "line": {"width": 0},
            },
            name="data (colour = responsibilities)",
            customdata=np.arange(len(X)),
            hovertemplate="point %{customdata}<br>(%{x:.3f}, %{y:.3f})<extra></extra>",
        )
    ]
    for k in range(params.n_components):
        # both rings in one trace (a None breaks the line): fewer traces redraw faster
        rings = [ellipse_xy(params.means[k], params.covariances[k], r) for r in _ELLIPSE_RADII]
        gap = np.full((1, 2), np.nan)
        xy = np.concatenate([rings[0], gap, rings[1]])
        traces.append(
            _scatter(
                x=xy[:, 0],
                y=xy[:, 1],
                mode="lines",
                line={"color": component_colour(k), "width": 2.5},
                name=f"component {k + 1}: π = {params.weights[k]:.3f}",
                legendgroup=f"c{k}",
                connectgaps=False,
                hoverinfo="skip",
            )
        )
    labels = [f"π{k + 1}={w:.2f}" for k, w in enumerate(params.weights)]
    traces.append(
        _scatter(
            x=params.means[:, 0],
            y=params.means[:, 1],
            mode="markers+text",
            marker={
                "symbol": "x-thin",
                "size": 12 + 24 * params.weights,
                "color": [component_colour(k) for k in range(params.n_components)],
                "line": {
                    "width": 4,
                    "color": [component_colour(k) for k in range(params.n_components)],
                },
            },
            text=labels,
            textposition="top center",
            textfont={"size": 13, "color": "#222"},
            name="means (size ∝ weight)",
            customdata=np.column_stack([np.arange(1, params.n_components + 1), params.weights]),
            hovertemplate=(
                "component %{customdata[0]}<br>weight %{customdata[1]:.4f}<br>"
                "mean (%{x:.4f}, %{y:.4f})<extra></extra>"
            ),
        )
    )
    picked = [] if selected is None else [selected]
    traces.append(
        _scatter(
            x=X[picked, 0],
            y=X[picked, 1],
            mode="markers",
            marker={"symbol": "circle-open", "size": 18, "color": "#222", "line": {"width": 3}},
            name="selected point",
            showlegend=selected is not None,
            hoverinfo="skip",
        )
    )
    return traces


def _layout_2d(history, title: str) -> dict:
    x_range, y_range = _axis_ranges(history.X)
    return {
        "title": {"text": title, "font": {"size": 15}},
        "xaxis": {"range": x_range, "title": "x₁", "zeroline": False},
        "yaxis": {
            "range": y_range,
            "title": "x₂",
            "zeroline": False,
            "scaleanchor": "x",
            "scaleratio": 1,
        },
        "legend": {"orientation": "h", "y": -0.16, "x": 0},
        "margin": {"l": 50, "r": 10, "t": 50, "b": 40},
        "height": 580,
        "plot_bgcolor": "white",
        "uirevision": "keep-zoom",
    }


def plot_mixture_2d(
    history, index: int, *, selected: int | None = None, webgl: bool | None = None
) -> go.Figure:
    """The data coloured by responsibilities, with 1σ/2σ ellipses and means, at one step."""
    fig = go.Figure(_traces_2d(history, index, selected, webgl), _validate=False)
    fig.update_layout(_layout_2d(history, step_title(history, index)))
    fig.update_xaxes(showgrid=True, gridcolor="#eee")
    fig.update_yaxes(showgrid=True, gridcolor="#eee")
    return fig


# ---- 1-D ----


def _grid_1d(history, n_points: int = 400) -> np.ndarray:
    ((low, high),) = _axis_ranges(history.X[:, :1])
    return np.linspace(low, high, n_points)


def _component_densities(params, grid: np.ndarray) -> np.ndarray:
    """π_k N(x | μ_k, σ_k²) on the grid, shape (n_components, n_grid)."""
    sd = np.sqrt(params.covariances[:, 0, 0])
    return params.weights[:, None] * norm.pdf(grid[None, :], params.means[:, :1], sd[:, None])


def _traces_1d(history, index: int) -> list[tuple[go.BaseTraceType, int]]:
    """(trace, subplot row) pairs: densities on row 1, responsibilities strip on row 2."""
    params = history[index].params
    grid = _grid_1d(history)
    densities = _component_densities(params, grid)
    traces = []
    for k in range(params.n_components):
        traces.append(
            (
                _scatter(
                    x=grid,
                    y=densities[k],
                    mode="lines",
                    line={"color": component_colour(k), "width": 2.5},
                    name=f"π{k + 1}·N(x | μ{k + 1}, σ{k + 1}²), π{k + 1} = {params.weights[k]:.3f}",
                ),
                1,
            )
        )
    traces.append(
        (
            _scatter(
                x=grid,
                y=densities.sum(axis=0),
                mode="lines",
                line={"color": "#222", "width": 2, "dash": "dash"},
                name="mixture density",
            ),
            1,
        )
    )
    q_params = history.q_params(index)
    if q_params is None:
        strip = np.full((params.n_components, grid.size), 1.0 / params.n_components)
    else:
        joint = _component_densities(q_params, grid)
        strip = joint / np.maximum(joint.sum(axis=0), np.finfo(float).tiny)
    for k in range(params.n_components):
        traces.append(
            (
                _scatter(
                    x=grid,
                    y=strip[k],
                    mode="lines",
                    stackgroup="resp",
                    line={"color": component_colour(k), "width": 0.5},
                    fillcolor=component_colour(k),
                    name=f"q(z = {k + 1} | x)",
                    showlegend=False,
                    hovertemplate=(
                        f"x=%{{x:.3f}}<br>responsibility of {k + 1}: %{{y:.3f}}<extra></extra>"
                    ),
                ),
                2,
            )
        )
    traces.append(
        (
            _scatter(
                x=history.X[:, 0],
                y=np.zeros(len(history.X)),
                mode="markers",
                marker={
                    "symbol": "line-ns-open",
                    "size": 12,
                    "color": mixed_colours(history.responsibilities(index)),
                },
                name="data (colour = responsibilities)",
                hoverinfo="x",
            ),
            1,
        )
    )
    # Axes are set on the traces themselves so animation frames keep them.
    return [(_on_row(trace, row), row) for trace, row in traces]


def _on_row(trace, row: int):
    trace.update(xaxis="x" if row == 1 else "x2", yaxis="y" if row == 1 else "y2")
    return trace


def plot_mixture_1d(history, index: int) -> go.Figure:
    """Histogram, weighted component densities, the mixture, and responsibilities as a strip."""
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.78, 0.22], vertical_spacing=0.05
    )
    fig.add_trace(
        _trace(go.Histogram)(
            x=history.X[:, 0],
            histnorm="probability density",
            marker={"color": "#d9d9d9"},
            name="data (histogram)",
            nbinsx=min(60, max(10, len(history.X) // 10)),
        ),
        row=1,
        col=1,
    )
    for trace, _ in _traces_1d(history, index):
        fig.add_trace(trace)  # each trace names its own axes (see _on_row)
    ((low, high),) = _axis_ranges(history.X[:, :1])
    fig.update_layout(
        title={"text": step_title(history, index), "font": {"size": 15}},
        height=560,
        margin={"l": 50, "r": 10, "t": 50, "b": 40},
        plot_bgcolor="white",
        legend={"orientation": "h", "y": -0.12, "x": 0},
        bargap=0.02,
    )
    fig.update_xaxes(range=[low, high], showgrid=True, gridcolor="#eee")
    fig.update_xaxes(title="x", row=2, col=1)
    fig.update_yaxes(title="density", row=1, col=1, rangemode="tozero")
    fig.update_yaxes(title="q(z|x)", range=[0, 1], row=2, col=1)
    return fig


def plot_mixture(
    history, index: int, *, selected: int | None = None, webgl: bool | None = None
) -> go.Figure:
    """The step view for the data's dimension (1-D or 2-D; higher dimensions show x₁, x₂)."""
    if history.X.shape[1] == 1:
        return plot_mixture_1d(history, index)
    return plot_mixture_2d(history, index, selected=selected, webgl=webgl)


# ---- animation ----


def animation_steps(history, max_frames: int = 200) -> list[int]:
    """Step indices used as frames: all of them, or evenly thinned (always first and last)."""
    n_steps = len(history)
    if n_steps <= max_frames:
        return list(range(n_steps))
    return sorted(set(np.linspace(0, n_steps - 1, max_frames).round().astype(int).tolist()))


def make_em_animation(history, *, max_frames: int = 200, frame_ms: int = 30) -> go.Figure:
    """The whole recorded run as Plotly animation frames, with Play/Pause and a step slider.

    Playback runs entirely in the browser: no server round trip per frame. 2-D frames restyle
    the existing SVG traces (``redraw: False``, ~15–20 frames/s at 1 000 points; a full
    redraw per frame manages ~7); the slider's label names the step shown.
    """
    indices = animation_steps(history, max_frames)
    fig = plot_mixture(history, 0)
    fig.update_layout(title={"text": "The whole run — the slider shows the step"})
    # SVG traces can be restyled in place; WebGL and stacked-area traces need a redraw
    redraw = history.X.shape[1] == 1 or len(history.X) > WEBGL_THRESHOLD
    frames = []
    for index in indices:
        if history.X.shape[1] == 1:
            data = [trace for trace, _ in _traces_1d(history, index)]
            traces = list(range(1, 1 + len(data)))  # trace 0 is the (fixed) histogram
        else:
            data = _traces_2d(history, index, None)
            traces = list(range(len(data)))
        frames.append(
            go.Frame(
                data=data,
                traces=traces,
                name=str(index),
                _validate=False,
            )
        )
    _attach_frames(fig, frames)
    play_args = {
        "frame": {"duration": frame_ms, "redraw": redraw},
        "transition": {"duration": 0},
        "fromcurrent": True,
        "mode": "immediate",
    }
    pause_args = {
        "frame": {"duration": 0, "redraw": False},
        "mode": "immediate",
        "transition": {"duration": 0},
    }
    fig.update_layout(
        updatemenus=[
            {
                "type": "buttons",
                "direction": "left",
                "x": 0.0,
                "y": -0.08,
                "xanchor": "left",
                "yanchor": "top",
                "pad": {"t": 0, "r": 10},
                "showactive": False,
                "buttons": [
                    {"label": "▶ Play", "method": "animate", "args": [None, play_args]},
                    {"label": "❚❚ Pause", "method": "animate", "args": [[None], pause_args]},
                ],
            }
        ],
        sliders=[
            {
                "active": 0,
                "x": 0.2,
                "len": 0.8,
                "y": -0.05,
                "yanchor": "top",
                "currentvalue": {"prefix": "Step ", "font": {"size": 13}},
                "pad": {"t": 10},
                "steps": [
                    {
                        "label": f"{i} {history[i].phase}" if i else "0 start",
                        "method": "animate",
                        "args": [
                            [str(i)],
                            {
                                "frame": {"duration": 0, "redraw": redraw},
                                "mode": "immediate",
                                "transition": {"duration": 0},
                            },
                        ],
                    }
                    for i in indices
                ],
            }
        ],
        showlegend=False,  # the legend's redraw costs ~30 ms a frame; π labels sit at the means
        height=620,
        margin={"b": 120},
    )
    return fig


def _attach_frames(fig: go.Figure, frames: list[go.Frame]) -> None:
    """Give ``fig`` its frames without plotly re-validating every property of every frame.

    ``fig.frames = frames`` rebuilds each frame through the validators (~17 ms per frame of
    1 000 colour strings, seconds per run); the frames here are built by this module with
    known-valid values, and the tests validate a whole animation once through ``to_dict``.
    """
    fig._frame_objs = tuple(frames)


# ---- log-likelihood trace ----


_PHASE_MARKERS = {"init": "square", "E": "circle", "M": "diamond"}


def plot_log_likelihood_trace(history, index: int | None = None) -> go.Figure:
    """log p(X|θ) and the ELBO at every half-step, E- and M-steps told apart, cursor marked."""
    steps = np.arange(len(history))
    ll = history.column("log_likelihood")
    elbo = history.column("elbo")
    phases = [s.phase for s in history.steps]
    fig = go.Figure()
    fig.add_trace(
        _scatter(
            x=steps,
            y=elbo,
            mode="lines",
            name="ELBO (lower bound)",
            line={"color": "#999", "dash": "dash", "width": 1.5},
            hovertemplate="step %{x}<br>ELBO %{y:.4f}<extra></extra>",
        )
    )
    fig.add_trace(
        _scatter(
            x=steps,
            y=ll,
            mode="lines",
            line={"color": "#0072B2", "width": 2},
            name="log-likelihood",
            hoverinfo="skip",
            showlegend=False,
        )
    )
    for phase, colour, label in (
        ("init", "#444", "initial"),
        ("E", "#0072B2", "after E-step"),
        ("M", "#D55E00", "after M-step"),
    ):
        picked = [i for i, p in enumerate(phases) if p == phase]
        fig.add_trace(
            _scatter(
                x=steps[picked],
                y=ll[picked],
                mode="markers",
                name=f"ℓ {label}",
                marker={"symbol": _PHASE_MARKERS[phase], "size": 8, "color": colour},
                hovertemplate=f"step %{{x}} ({phase})<br>log-likelihood %{{y:.6f}}<extra></extra>",
            )
        )
    if index is not None:
        fig.add_vline(x=index, line={"color": "#222", "width": 1.5, "dash": "dot"})
        fig.add_trace(
            _scatter(
                x=[index],
                y=[ll[index]],
                mode="markers",
                name="shown step",
                marker={
                    "size": 15,
                    "symbol": "circle-open",
                    "color": "#222",
                    "line": {"width": 2.5},
                },
            )
        )
    # Scale to the log-likelihood: the initial ELBO (uniform q) can lie far below it.
    low, high = float(ll.min()), float(ll.max())
    pad = 0.08 * (high - low) if high > low else 1.0
    fig.update_layout(
        title={"text": "Log-likelihood per half-step", "font": {"size": 14}},
        xaxis={"title": "half-step", "showgrid": True, "gridcolor": "#eee"},
        yaxis={
            "title": "log p(X | θ)",
            "showgrid": True,
            "gridcolor": "#eee",
            "range": [low - pad, high + pad],
        },
        height=320,
        margin={"l": 60, "r": 10, "t": 40, "b": 40},
        plot_bgcolor="white",
        legend={"orientation": "h", "y": -0.3, "x": 0, "font": {"size": 11}},
    )
    return fig
