"""Figures of a Gaussian-mixture run: the data coloured by responsibility, ellipses, densities.

Every figure is built from a `History` and a step index; nothing here displays anything.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy.stats import norm

from emviz.plots.palette import component_colour, mixed_colours
from emviz.plots.theme import THEME

# Above this many points a figure draws a seeded random sample of them (EM still uses all):
# an SVG scatter stays quick to restyle, what is sent to the browser stays bounded, and the
# ellipses, means and labels stay above the points (WebGL traces would draw over them).
MAX_DRAWN_POINTS = 2000
# Play's frames carry one colour per drawn point; their total is capped (~10 bytes each:
# 75 frames at 2 000 points, all of a 150-step run at 1 000).
ANIMATION_POINT_FRAMES = 150_000
_ELLIPSE_RADII = (1.0, 2.0)  # Mahalanobis radii drawn: 1σ and 2σ
_N_ELLIPSE_POINTS = 73
_STEP_VIEW_MARGIN = {"l": 50, "t": 85}  # a two-line title and a subtitle above the plot


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


def drawn_points(n_samples: int, max_points: int = MAX_DRAWN_POINTS) -> np.ndarray:
    """Indices of the points a figure draws: all of them, or a random sample of ``max_points``
    (seeded, sorted), the same at every step so that frames and clicks agree."""
    if n_samples <= max_points:
        return np.arange(n_samples)
    rng = np.random.default_rng(0)
    return np.sort(rng.choice(n_samples, max_points, replace=False))


def sample_note(n_samples: int) -> str:
    """What a figure drawing a sample says about it ('' when it draws every point)."""
    if n_samples <= MAX_DRAWN_POINTS:
        return ""
    return f"{MAX_DRAWN_POINTS:,} of {n_samples:,} points drawn (random) · EM uses all"


def _title(text: str, history, size: int = 15) -> dict:
    note = sample_note(len(history.X))
    title = {"text": text, "font": {"size": size}}
    if note:
        title["subtitle"] = {"text": note, "font": {"size": 12, "color": "#555"}}
    return title


def step_title(history, index: int) -> str:
    """Two short lines, so that the title stays whole in a narrow column (a projector)."""
    step = history[index]
    where = (
        "initial state"
        if step.phase == "init"
        else f"iteration {step.iteration}, {step_label(history, index)}"
    )
    return f"Step {index} · {where}<br>log-likelihood {step.log_likelihood:.3f}"


def ellipse_xy(mean: np.ndarray, covariance: np.ndarray, radius: float) -> np.ndarray:
    """Points (73, 2) on {x : (x-μ)ᵀ Σ⁻¹ (x-μ) = radius²}, via x = μ + radius · L u, |u| = 1."""
    angles = np.linspace(0.0, 2.0 * np.pi, _N_ELLIPSE_POINTS)
    circle = np.stack([np.cos(angles), np.sin(angles)])
    return mean + radius * (np.linalg.cholesky(covariance) @ circle).T


def ellipse_rings_xy(mean: np.ndarray, covariance: np.ndarray) -> np.ndarray:
    """The 1σ and 2σ ellipses in one array, a NaN row between them: one trace draws both
    (fewer traces redraw faster)."""
    rings = [ellipse_xy(mean, covariance, r) for r in _ELLIPSE_RADII]
    return np.concatenate([rings[0], np.full((1, 2), np.nan), rings[1]])


def _axis_ranges(X: np.ndarray, pad: float = 0.12) -> list[list[float]]:
    low, high = X.min(axis=0), X.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    return [[float(lo - pad * s), float(hi + pad * s)] for lo, hi, s in zip(low, high, span)]


# ---- 2-D ----


def _point_colours(history, index: int, drawn: np.ndarray) -> np.ndarray:
    """The drawn points' colours, as an array (plotly deep-copies a list item by item, ~30 ms
    for 3 000 strings per figure, and an array at once)."""
    rows = None if len(drawn) == len(history.X) else drawn
    return mixed_colours(history.responsibilities(index, rows))


def _points_2d(history, index: int, drawn: np.ndarray) -> go.Scatter:
    """The drawn points coloured by responsibility; customdata is each point's number."""
    X = history.X[drawn]
    return _scatter(
        x=X[:, 0],
        y=X[:, 1],
        mode="markers",
        marker={
            "color": _point_colours(history, index, drawn),
            "size": 6 if len(drawn) <= 1000 else 4,
            "line": {"width": 0},
        },
        name="data (colour = responsibilities)",
        customdata=drawn.astype(np.int32),  # half the bytes of int64 on every step
        hovertemplate="point %{customdata}<br>(%{x:.3f}, %{y:.3f})<extra></extra>",
    )


def _traces_2d(history, index: int, selected: int | None) -> list[go.BaseTraceType]:
    """Points, then per component its 1σ and 2σ ellipses, then all means, then the selection.

    The order and number of traces are the same at every step, so animation frames can
    replace them one for one; every trace is SVG, so later traces draw above the points.
    """
    X = history.X
    params = history[index].params
    traces = [_points_2d(history, index, drawn_points(len(X)))]
    for k in range(params.n_components):
        xy = ellipse_rings_xy(params.means[k], params.covariances[k])
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
        "template": THEME,
        "title": _title(title, history),
        "xaxis": {"range": x_range, "title": "x₁", "zeroline": False},
        "yaxis": {
            "range": y_range,
            "title": "x₂",
            "zeroline": False,
            "scaleanchor": "x",
            "scaleratio": 1,
        },
        "legend": {"y": -0.16},
        "margin": _STEP_VIEW_MARGIN,
        "height": 580,
        "uirevision": "keep-zoom",
    }


def plot_mixture_2d(history, index: int, *, selected: int | None = None) -> go.Figure:
    """The data coloured by responsibilities, with 1σ/2σ ellipses and means, at one step.

    Above `MAX_DRAWN_POINTS` points a seeded random sample is drawn, and the title says so.
    """
    # one constructor call: update_layout and update_axes cost more than the traces
    return go.Figure(
        _traces_2d(history, index, selected),
        _layout_2d(history, step_title(history, index)),
        _validate=False,
    )


# ---- 1-D ----

# the two subplots of the 1-D view: densities above, responsibilities below
_UPPER = {"xaxis": "x", "yaxis": "y"}
_LOWER = {"xaxis": "x2", "yaxis": "y2"}


def _grid_1d(history, n_points: int = 400) -> np.ndarray:
    ((low, high),) = _axis_ranges(history.X[:, :1])
    return np.linspace(low, high, n_points)


def _component_densities(params, grid: np.ndarray) -> np.ndarray:
    """π_k N(x | μ_k, σ_k²) on the grid, shape (n_components, n_grid)."""
    sd = np.sqrt(params.covariances[:, 0, 0])
    return params.weights[:, None] * norm.pdf(grid[None, :], params.means[:, :1], sd[:, None])


def _traces_1d(history, index: int) -> list[go.BaseTraceType]:
    """Densities and the rug on the upper subplot, the responsibilities strip on the lower.

    Each trace names its own axes, so that animation frames keep them.
    """
    params = history[index].params
    grid = _grid_1d(history)
    densities = _component_densities(params, grid)
    traces = [
        _scatter(
            x=grid,
            y=densities[k],
            mode="lines",
            line={"color": component_colour(k), "width": 2.5},
            name=f"π{k + 1}·N(μ{k + 1}, σ{k + 1}²), π{k + 1} = {params.weights[k]:.3f}",
            **_UPPER,
        )
        for k in range(params.n_components)
    ]
    traces.append(
        _scatter(
            x=grid,
            y=densities.sum(axis=0),
            mode="lines",
            line={"color": "#222", "width": 2, "dash": "dash"},
            name="mixture density",
            **_UPPER,
        )
    )
    q_params = history.q_params(index)
    if q_params is None:
        strip = np.full((params.n_components, grid.size), 1.0 / params.n_components)
    else:
        joint = _component_densities(q_params, grid)
        strip = joint / np.maximum(joint.sum(axis=0), np.finfo(float).tiny)
    traces += [
        _scatter(
            x=grid,
            y=strip[k],
            mode="lines",
            stackgroup="resp",
            line={"color": component_colour(k), "width": 0.5},
            fillcolor=component_colour(k),
            name=f"q(z = {k + 1} | x)",
            showlegend=False,
            hovertemplate=f"x=%{{x:.3f}}<br>responsibility of {k + 1}: %{{y:.3f}}<extra></extra>",
            **_LOWER,
        )
        for k in range(params.n_components)
    ]
    drawn = drawn_points(len(history.X))
    traces.append(
        _scatter(
            x=history.X[drawn, 0],
            y=np.zeros(len(drawn)),
            mode="markers",
            marker={
                "symbol": "line-ns-open",
                "size": 12,
                "color": _point_colours(history, index, drawn),
            },
            name="data (colour = responsibilities)",
            hoverinfo="x",
            **_UPPER,
        )
    )
    return traces


def _histogram(x: np.ndarray) -> go.Bar:
    """A density histogram of every point, binned here: the browser gets the bars, not N
    values (so its size does not grow with N)."""
    density, edges = np.histogram(x, bins=min(60, max(10, len(x) // 10)), density=True)
    return _trace(go.Bar)(
        x=(edges[:-1] + edges[1:]) / 2,
        y=density,
        width=np.diff(edges),
        marker={"color": "#d9d9d9", "line": {"width": 0}},
        name="data (histogram)",
        hovertemplate="x %{x:.3f}<br>density %{y:.4f}<extra></extra>",
    )


def plot_mixture_1d(history, index: int) -> go.Figure:
    """Histogram, weighted component densities, the mixture, and responsibilities as a strip."""
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.78, 0.22], vertical_spacing=0.05
    )
    fig.add_trace(_histogram(history.X[:, 0]), row=1, col=1)
    for trace in _traces_1d(history, index):
        fig.add_trace(trace)  # each trace names its own axes
    ((low, high),) = _axis_ranges(history.X[:, :1])
    fig.update_layout(
        template=THEME,
        title=_title(step_title(history, index), history),
        height=560,
        margin=_STEP_VIEW_MARGIN,
        legend={"y": -0.17},  # below the x axis title
    )
    fig.update_xaxes(range=[low, high])
    fig.update_xaxes(title="x", row=2, col=1)
    fig.update_yaxes(title="density", row=1, col=1, rangemode="tozero")
    fig.update_yaxes(title="q(z|x)", range=[0, 1], row=2, col=1)
    return fig


def plot_mixture(history, index: int, *, selected: int | None = None) -> go.Figure:
    """The step view for the data's dimension (1-D or 2-D; higher dimensions show x₁, x₂)."""
    if history.X.shape[1] == 1:
        return plot_mixture_1d(history, index)
    return plot_mixture_2d(history, index, selected=selected)


# ---- animation ----


def animation_steps(history, max_frames: int = 200) -> list[int]:
    """Step indices used as frames: all of them, or evenly thinned (always first and last).

    Fewer when many points are drawn: the frames' total size stays under
    `ANIMATION_POINT_FRAMES` point colours whatever the data's size.
    """
    n_drawn = min(len(history.X), MAX_DRAWN_POINTS)
    max_frames = max(2, min(max_frames, ANIMATION_POINT_FRAMES // n_drawn))
    n_steps = len(history)
    if n_steps <= max_frames:
        return list(range(n_steps))
    return sorted(set(np.linspace(0, n_steps - 1, max_frames).round().astype(int).tolist()))


PLAY_SECONDS = 6.0  # "▶ Play" shows a whole run in about this long …
PLAY_FRAME_MS = (30, 400)  # … within these frame durations; "▶▶ Fast" uses the shortest


def play_frame_ms(n_frames: int) -> int:
    """The frame duration of "▶ Play": a short run is not over in a blink, a long one does
    not drag (each frame 30–400 ms)."""
    low, high = PLAY_FRAME_MS
    return int(np.clip(1000 * PLAY_SECONDS / max(n_frames - 1, 1), low, high))


def _frame(history, index: int) -> dict:
    """One animation frame, as a Plotly frame dict: a 1-D frame replaces every trace but the
    histogram (trace 0); a 2-D frame only recolours the points (their positions never change)
    and replaces the ellipses and means."""
    if history.X.shape[1] == 1:
        data = _traces_json(_traces_1d(history, index))
        first = 1  # trace 0 is the (fixed) histogram
    else:
        points, *rest = _traces_2d(history, index, None)
        data = [{"marker": {"color": points.marker.color}}, *_traces_json(rest)]
        first = 0
    return {"data": data, "traces": list(range(first, first + len(data))), "name": str(index)}


def _traces_json(traces: list[go.BaseTraceType]) -> list[dict]:
    """``traces`` as a figure's dict holds them: numeric arrays base64-encoded, as plotly.js
    takes them (half the bytes of decimal text). The template keeps plotly's default one from
    being copied in."""
    return go.Figure(traces, {"template": THEME}, _validate=False).to_dict()["data"]


def _animate_args(frame_ms: int, redraw: bool) -> dict:
    return {
        "frame": {"duration": frame_ms, "redraw": redraw},
        "transition": {"duration": 0},
        "fromcurrent": True,
        "mode": "immediate",
    }


def make_em_animation(history, *, max_frames: int = 200) -> dict:
    """The whole recorded run as Plotly animation frames, with Play, Fast, Pause and a slider.

    Playback runs entirely in the browser: no server round trip per frame. 2-D frames restyle
    the existing SVG traces (``redraw: False``, ~15–20 frames/s at 1 000 points; a full
    redraw per frame manages ~7); the slider's label names the step shown. The title says
    when the frames skip steps or the points are a sample.

    Returns
    -------
    dict
        The figure as a Plotly figure dict ("data", "layout", "frames"), for
        ``plotly.io.to_json(figure, validate=False)`` or ``go.Figure(figure)``. Not a
        ``go.Figure``: plotly.py validates every property of every frame a figure is given
        (~17 ms a frame of 1 000 point colours, seconds a run); the frames here are built
        from this module's traces, and the tests validate a whole animation once.
    """
    indices = animation_steps(history, max_frames)
    fig = plot_mixture(history, 0)
    title = "The whole run — the slider shows the step"
    if len(indices) < len(history):
        title += f" ({len(indices)} of its {len(history)} steps)"
    fig.update_layout(title=_title(title, history))
    redraw = history.X.shape[1] == 1  # stacked areas need a redraw; SVG points restyle in place
    pause_args = {k: v for k, v in _animate_args(0, False).items() if k != "fromcurrent"}
    buttons = [
        ("▶ Play", [None, _animate_args(play_frame_ms(len(indices)), redraw)]),
        ("▶▶ Fast", [None, _animate_args(PLAY_FRAME_MS[0], redraw)]),
        ("❚❚ Pause", [[None], pause_args]),
    ]
    fig.update_layout(
        updatemenus=[
            {
                "type": "buttons",
                "direction": "left",
                "x": 0.0,
                "y": -0.12,  # below the x axis's title
                "xanchor": "left",
                "yanchor": "top",
                "pad": {"t": 0, "r": 6},
                "showactive": False,
                "buttons": [
                    {"label": label, "method": "animate", "args": args} for label, args in buttons
                ],
            }
        ],
        sliders=[_step_slider(history, indices, redraw)],
        showlegend=False,  # the legend's redraw costs ~30 ms a frame; π labels sit at the means
        height=660,
        margin={"b": 175},
    )
    return {**fig.to_dict(), "frames": [_frame(history, index) for index in indices]}


def _step_slider(history, indices: list[int], redraw: bool) -> dict:
    """The slider under the buttons, full width; the shown step is named at its right end so
    the buttons never cover it, even on a phone."""
    return {
        "active": 0,
        "x": 0.0,
        "len": 1.0,
        "y": -0.2,
        "yanchor": "top",
        "currentvalue": {"prefix": "Step ", "font": {"size": 13}, "xanchor": "right"},
        "pad": {"t": 10},
        "steps": [
            {
                "label": f"{i} {history[i].phase}" if i else "0 start",
                "method": "animate",
                "args": [[str(i)], {**_animate_args(0, redraw), "fromcurrent": False}],
            }
            for i in indices
        ],
    }


# ---- log-likelihood trace ----


_PHASE_MARKERS = {"init": "square", "E": "circle", "M": "diamond"}


def plot_log_likelihood_trace(history, index: int | None = None) -> go.Figure:
    """log p(X|θ) and the ELBO at every half-step, E- and M-steps told apart, cursor marked."""
    steps = np.arange(len(history))
    ll = history.column("log_likelihood")
    elbo = history.column("elbo")
    phases = [s.phase for s in history.steps]
    fig = go.Figure(layout={"template": THEME})
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
    # Scale to the log-likelihood: the initial ELBO (uniform q) can lie far below it. A run
    # whose ℓ barely changes still gets a span its tick labels can tell apart (ℓ·10⁻⁵), and
    # the ticks are chosen here (1, 2 or 5 × 10^e apart) with just enough decimals: plotly's
    # own choice on a tiny span around a large ℓ prints labels like "806903142".
    low, high = float(ll.min()), float(ll.max())
    centre, half = (low + high) / 2, max(high - low, 1e-5 * max(abs(low), abs(high)), 1e-6) / 2
    low, high = centre - 1.16 * half, centre + 1.16 * half
    exponent = int(np.floor(np.log10((high - low) / 5)))
    tick = min(b * 10.0**exponent for b in (1, 2, 5, 10) if b * 10.0**exponent >= (high - low) / 5)
    decimals = max(0, -int(np.floor(np.log10(tick))))
    fig.update_layout(
        title={"text": "Log-likelihood per half-step"},
        xaxis={  # no axis title: the chart's title names the half-steps, and a narrow
            # column's legend (below the axis) would run into it
            "dtick": 1 if len(history) <= 12 else None,  # whole half-steps, never "0.5"
        },
        yaxis={
            "title": {"text": "log p(X | θ)", "standoff": 8},
            "range": [low, high],
            "tick0": 0.0,
            "dtick": tick,
            "tickformat": f",.{decimals}f",
            "automargin": True,
        },
        height=320,
        margin={"l": 60},
        legend={"y": -0.3},
    )
    return fig
