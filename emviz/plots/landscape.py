"""Figures of the two-mean log-likelihood surface: contour or 3-D, critical points, paths."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from emviz.engine import counted
from emviz.plots.theme import THEME

PATH_COLOURS = {
    "EM": "#D55E00",
    "gradient ascent": "#0072B2",
    "Newton–Raphson": "#009E73",
    "L-BFGS-B": "#CC79A7",
    "gradient ascent on logit π₁": "#0072B2",
}
_KIND_SYMBOLS = {"maximum": "star", "saddle": "x", "minimum": "circle-open"}


def _critical_label(point) -> str:
    return (
        f"{point.kind} ({point.location[0]:.3f}, {point.location[1]:.3f})<br>"
        f"ℓ = {point.log_likelihood:.3f}<br>Hessian eigenvalues "
        f"{point.hessian_eigenvalues[0]:.2f}, {point.hessian_eigenvalues[1]:.2f}"
    )


def _surface_values(mu1, mu2, grid) -> dict:
    """x, y, z and colours shared by the contour and the 3-D surface."""
    floor = np.percentile(grid, 5)  # the far corners fall steeply; keep the colours for the rest
    return {"x": mu1, "y": mu2, "z": np.maximum(grid, floor), "colorscale": "Viridis"}


def _plural(kind: str, count: int) -> str:
    if count == 1:
        return kind
    return {"maximum": "maxima", "minimum": "minima"}.get(kind, kind + "s")


def _critical_traces(points) -> list[go.Scatter]:
    traces = []
    for kind, symbol in _KIND_SYMBOLS.items():
        chosen = [p for p in points if p.kind == kind]
        if not chosen:
            continue
        traces.append(
            go.Scatter(
                x=[p.location[0] for p in chosen],
                y=[p.location[1] for p in chosen],
                mode="markers+text",
                name=_plural(kind, len(chosen)),
                marker={
                    "symbol": symbol,
                    "size": 16,
                    "color": "#111",
                    "line": {"width": 2, "color": "white"},
                },
                text=[f"{p.kind}<br>ℓ={p.log_likelihood:.1f}" for p in chosen],
                textposition="top right",
                textfont={"size": 12, "color": "#111"},
                hovertext=[_critical_label(p) for p in chosen],
                hoverinfo="text",
            )
        )
    return traces


def _region(mu1, mu2) -> tuple[tuple[float, float], tuple[float, float]]:
    """The drawn region: (μ1 range, μ2 range) of the surface's grid."""
    return (float(mu1[0]), float(mu1[-1])), (float(mu2[0]), float(mu2[-1]))


def path_on_map(path, region) -> tuple[int, tuple[float, float] | None]:
    """How many of ``path``'s points lie on the map before it first leaves ``region``, and
    where its line crosses the region's edge then (None if it never leaves)."""
    (x0, x1), (y0, y1) = region
    points = path.points
    inside = (
        (points[:, 0] >= x0) & (points[:, 0] <= x1) & (points[:, 1] >= y0) & (points[:, 1] <= y1)
    )
    if inside.all():
        return len(points), None
    kept = int(np.argmin(inside))
    if kept == 0:
        return 0, None
    a, b = points[kept - 1], points[kept]
    # the largest fraction t of the step a → b that stays inside, per edge it crosses
    fractions = [1.0]
    for axis, (low, high) in enumerate(((x0, x1), (y0, y1))):
        move = b[axis] - a[axis]
        if b[axis] > high:
            fractions.append((high - a[axis]) / move)
        elif b[axis] < low:
            fractions.append((low - a[axis]) / move)
    t = min(fractions)
    return kept, (float(a[0] + t * (b[0] - a[0])), float(a[1] + t * (b[1] - a[1])))


def path_label(path, kept: int) -> str:
    """The legend entry of ``path``: its iterations, and where it left the map if it did."""
    label = f"{path.method} ({counted(path.iterations, 'step')})"
    if kept == len(path.points):
        return label
    if kept == 0:
        return f"{label}: starts outside the map"
    return f"{path.method}: left the map at step {kept} of {path.iterations}"


def _path_traces(paths, region) -> list[go.Scatter]:
    traces = []
    for path in paths:
        kept, exit_point = path_on_map(path, region)
        colour = PATH_COLOURS.get(path.method, "#555")
        traces.append(
            go.Scatter(
                x=path.points[:kept, 0],
                y=path.points[:kept, 1],
                mode="lines+markers",
                name=path_label(path, kept),
                legendgroup=path.method,
                line={"color": colour, "width": 2},
                marker={"size": 5},
                customdata=np.column_stack([np.arange(kept), path.log_likelihoods[:kept]]),
                hovertemplate=(
                    f"{path.method}<br>iteration %{{customdata[0]}}<br>"
                    "μ = (%{x:.4f}, %{y:.4f})<br>ℓ = %{customdata[1]:.4f}<extra></extra>"
                ),
            )
        )
        if exit_point is not None:  # the step that leaves, dashed up to the map's edge
            last = path.points[kept - 1]
            traces.append(
                go.Scatter(
                    x=[last[0], exit_point[0]],
                    y=[last[1], exit_point[1]],
                    mode="lines",
                    name=f"{path.method} leaving the map",
                    legendgroup=path.method,
                    showlegend=False,
                    line={"color": colour, "width": 2, "dash": "dot"},
                    hoverinfo="skip",
                )
            )
    return traces


BASIN_COLOURS = ("#009E73", "#E69F00", "#56B4E9", "#CC79A7", "#F0E442", "#0072B2")
SADDLE_BASIN_COLOUR, NO_POINT_COLOUR = "#999999", "#222222"


def _basin_colours(points) -> list[str]:
    """One colour per critical point (maxima in order, saddles grey), then "no critical point"."""
    maxima = iter(BASIN_COLOURS)
    colours = [next(maxima, "#666") if p.kind == "maximum" else SADDLE_BASIN_COLOUR for p in points]
    return [*colours, NO_POINT_COLOUR]


def _lighter(colour: str, amount: float) -> str:
    """``colour`` mixed with ``amount`` of white."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    mixed = [round(c + (255 - c) * amount) for c in rgb]
    return f"rgb({mixed[0]},{mixed[1]},{mixed[2]})"


def _basin_traces(basins) -> list:
    """The basin map as one heatmap: the hue says which critical point a start ends at, the
    shade how many iterations it took (pale: few, deep: many); legend entries give shares."""
    colours = _basin_colours(basins.points)
    n_kinds = len(colours)
    kind = np.where(basins.labels >= 0, basins.labels, n_kinds - 1)
    iterations = basins.iterations.astype(float)
    fewest = iterations.min()
    shade = (iterations - fewest) / max(iterations.max() - fewest, 1.0)
    scale = []
    for k, colour in enumerate(colours):  # a pale-to-deep band of each colour on [k, k + 1)
        scale += [[k / n_kinds, _lighter(colour, 0.8)], [(k + 0.999) / n_kinds, colour]]
    scale[-1][0] = 1.0  # plotly.js ignores a colour scale that does not end at 1
    # float32 halves what the map sends to the browser; hover shows 3 decimals anyway
    customdata = np.dstack([basins.ends, basins.iterations]).astype(np.float32)
    traces = [
        go.Heatmap(
            x=basins.mu1,
            y=basins.mu2,
            z=(kind + 0.99 * shade).astype(np.float32),
            zmin=0,
            zmax=n_kinds,
            colorscale=scale,
            showscale=False,
            customdata=customdata,
            hovertemplate=(
                "start (%{x:.2f}, %{y:.2f})<br>ends at (%{customdata[0]:.3f}, "
                "%{customdata[1]:.3f})<br>after %{customdata[2]} iterations<extra></extra>"
            ),
            name="basins",
        )
    ]
    shares = basins.shares()
    named = [*basins.points, None]
    for k, colour in enumerate(colours):
        label = k if k < len(basins.points) else -1
        if label not in shares:
            continue
        point = named[k]
        where = (
            f"{point.kind} ({point.location[0]:.2f}, {point.location[1]:.2f})"
            if point
            else "no critical point"
        )
        traces.append(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                marker={"symbol": "square", "size": 12, "color": colour},
                name=f"ends at {where}: {shares[label]:.0%} of starts",
            )
        )
    return traces


def plot_landscape(mu1, mu2, grid, points=(), paths=(), *, start=None, basins=None) -> go.Figure:
    """Contour map of ℓ(μ1, μ2) with the critical points, the diagonal and method paths.

    ``grid`` has shape (len(mu2), len(mu1)), as `log_likelihood_grid` returns it. With
    ``basins`` (a `emviz.analysis.basins.BasinMap`) the map is coloured by where EM ends from
    each start, and ℓ is drawn as contour lines over it.
    """
    contour = go.Contour(
        **_surface_values(mu1, mu2, grid),
        ncontours=40,
        colorbar={"title": {"text": "ℓ(μ1, μ2)"}},
        name="log-likelihood",
        hovertemplate="μ1=%{x:.3f}<br>μ2=%{y:.3f}<br>ℓ=%{z:.3f}<extra></extra>",
        line={"width": 0.5},
    )
    if basins is not None:
        contour.update(
            contours={"coloring": "none"},
            line={"color": "rgba(0, 0, 0, 0.35)", "width": 0.8},
            showscale=False,
            hoverinfo="skip",
            hovertemplate=None,
        )
    fig = go.Figure(layout={"template": THEME})
    for trace in (*(_basin_traces(basins) if basins is not None else ()), contour):
        fig.add_trace(trace)
    low, high = min(mu1[0], mu2[0]), max(mu1[-1], mu2[-1])
    fig.add_trace(
        go.Scatter(
            x=[low, high],
            y=[low, high],
            mode="lines",
            name="μ1 = μ2",
            line={"color": "white", "dash": "dash", "width": 1.5},
            hoverinfo="skip",
        )
    )
    for trace in (*_critical_traces(points), *_path_traces(paths, _region(mu1, mu2))):
        fig.add_trace(trace)
    if start is not None:
        fig.add_trace(
            go.Scatter(
                x=[start[0]],
                y=[start[1]],
                mode="markers",
                name="start",
                marker={
                    "symbol": "circle",
                    "size": 12,
                    "color": "white",
                    "line": {"width": 2, "color": "#111"},
                },
            )
        )
    fig.update_layout(
        xaxis={"title": "μ1", "range": [mu1[0], mu1[-1]], "zeroline": False, "constrain": "domain"},
        yaxis={
            "title": "μ2",
            "range": [mu2[0], mu2[-1]],
            "scaleanchor": "x",
            "zeroline": False,
            "constrain": "domain",
        },
        height=620,
        margin={"l": 50, "t": 30},
        legend={"y": -0.12},
        title={"text": "Click the map to start all three methods there"},
    )
    return fig


def plot_landscape_3d(mu1, mu2, grid, points=(), paths=()) -> go.Figure:
    """The same surface in 3-D, with critical points and paths lifted to their ℓ.

    The axes keep to the surface's region: a path that leaves it (a diverging gradient
    ascent) is drawn up to its last point on the map, and its legend entry says so.
    """
    surface = _surface_values(mu1, mu2, grid)
    fig = go.Figure(
        go.Surface(**surface, opacity=0.9, name="ℓ(μ1, μ2)", showscale=False),
        layout={"template": THEME},
    )
    for point in points:
        fig.add_trace(
            go.Scatter3d(
                x=[point.location[0]],
                y=[point.location[1]],
                z=[point.log_likelihood],
                mode="markers",
                name=point.kind,
                marker={"size": 6, "color": "#111"},
                hovertext=_critical_label(point),
                hoverinfo="text",
            )
        )
    region = _region(mu1, mu2)
    low, high = float(np.min(surface["z"])), float(np.max(surface["z"]))
    for path in paths:
        kept, _ = path_on_map(path, region)
        heights = path.log_likelihoods[:kept]
        low = min(low, float(heights.min())) if kept else low
        fig.add_trace(
            go.Scatter3d(
                x=path.points[:kept, 0],
                y=path.points[:kept, 1],
                z=heights,
                mode="lines",
                name=path_label(path, kept),
                line={"color": PATH_COLOURS.get(path.method, "#555"), "width": 6},
            )
        )
    pad = 0.02 * (high - low) if high > low else 1.0
    fig.update_layout(
        height=620,
        margin={"l": 0, "r": 0, "t": 30, "b": 0},
        scene={
            "xaxis": {"title": {"text": "μ1"}, "range": list(region[0])},
            "yaxis": {"title": {"text": "μ2"}, "range": list(region[1])},
            "zaxis": {"title": {"text": "ℓ"}, "range": [low - pad, high + pad]},
        },
    )
    return fig


def plot_path_norms(paths, norm_of, *, title: str, y_title: str) -> go.Figure:
    """One positive quantity per iterate of each path, on a log scale.

    ``norm_of(path) -> (n_points,)`` gives the quantity (floored at 1e-17 for the log axis).
    """
    fig = go.Figure(layout={"template": THEME})
    for path in paths:
        fig.add_trace(
            go.Scatter(
                y=np.maximum(norm_of(path), 1e-17),
                mode="lines+markers",
                name=path.method,
                line={"color": PATH_COLOURS.get(path.method, "#555")},
            )
        )
    fig.update_layout(
        yaxis={"type": "log", "title": y_title},
        xaxis={"title": "iteration"},
        height=320,
        legend={"y": -0.25},
        title={"text": title},
    )
    return fig


def plot_gradient_norms(paths) -> go.Figure:
    """|∇ℓ| along each path: EM only promises to drive it to zero."""
    return plot_path_norms(
        paths,
        lambda path: path.gradient_norms,
        title="Gradient norm along each path",
        y_title="|∇ℓ|",
    )


def _segment(x, y, name: str, colour: str, dash: str = "solid", arrow: bool = False) -> go.Scatter:
    return go.Scatter(
        x=x,
        y=y,
        mode="lines+markers" if arrow else "lines",
        name=name,
        line={"color": colour, "width": 3, "dash": dash},
        marker={"symbol": "arrow", "angleref": "previous", "size": [0] * (len(x) - 1) + [14]},
        hoverinfo="name",
    )


def plot_coordinate_ascent(stall, mu1, mu2, grid, *, window: float = 0.6) -> go.Figure:
    """Coordinate ascent stalls where a joint move climbs: f(x, y) = x·y from (0, 0) beside EM
    at the two-mean saddle (``stall``, a `SaddleStall`), over ℓ (``grid`` on ``mu1`` × ``mu2``)
    within ``window`` of the saddle."""
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.12,
        subplot_titles=("f(x, y) = x·y from (0, 0)", "EM at the saddle of ℓ(μ1, μ2)"),
    )
    axis = np.linspace(-1, 1, 41)
    fig.add_trace(
        go.Contour(
            x=axis,
            y=axis,
            z=np.outer(axis, axis),
            colorscale="RdBu_r",
            showscale=False,
            contours={"coloring": "heatmap"},
            hovertemplate="x %{x:.2f}<br>y %{y:.2f}<br>f = %{z:.3f}<extra></extra>",
            name="f = x·y",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(_segment([-0.9, 0.9], [0, 0], "x alone: f stays 0", "#444", "dash"), 1, 1)
    fig.add_trace(_segment([0, 0], [-0.9, 0.9], "y alone: f stays 0", "#444", "dot"), 1, 1)
    fig.add_trace(
        _segment([0, 0.8], [0, 0.8], "joint move: f(t, t) = t²", "#D55E00", arrow=True), 1, 1
    )
    (s1, s2), step = stall.saddle, 0.8 * window * stall.direction
    inside_1 = np.abs(np.asarray(mu1) - s1) <= window
    inside_2 = np.abs(np.asarray(mu2) - s2) <= window
    fig.add_trace(
        go.Contour(
            x=np.asarray(mu1)[inside_1],
            y=np.asarray(mu2)[inside_2],
            z=np.asarray(grid)[np.ix_(inside_2, inside_1)],
            colorscale="Viridis",
            showscale=False,
            hovertemplate="μ1 %{x:.3f}<br>μ2 %{y:.3f}<br>ℓ = %{z:.3f}<extra></extra>",
            name="ℓ(μ1, μ2)",
        ),
        row=1,
        col=2,
    )
    fig.add_trace(
        _segment(
            [s1 - step[0], s1 + step[0]],
            [s2 - step[1], s2 + step[1]],
            "joint move: ℓ rises both ways",
            "#D55E00",
            arrow=True,
        ),
        1,
        2,
    )
    for col, (x0, y0), label in (
        (1, (0.0, 0.0), "start (0, 0)"),
        (2, (s1, s2), "saddle: EM stays"),
    ):
        fig.add_trace(
            go.Scatter(
                x=[x0],
                y=[y0],
                mode="markers",
                name=label,
                marker={"symbol": "x", "size": 14, "color": "#111", "line": {"width": 2}},
                hoverinfo="name",
            ),
            1,
            col,
        )
    fig.update_xaxes(title_text="x", row=1, col=1)
    fig.update_yaxes(title_text="y", row=1, col=1)
    fig.update_xaxes(title_text="μ1", row=1, col=2)
    fig.update_yaxes(title_text="μ2", row=1, col=2)
    fig.update_layout(template=THEME, height=380, legend={"y": -0.22}, margin={"b": 90})
    return fig
