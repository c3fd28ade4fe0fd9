"""Figures of where EM ends up: the two-component basin map, and restarts of K clusters.

Inputs are the results of `emviz.runs` (`SymmetricBasinMap`, `BoundaryEscape`,
`RestartSummary`); each factory returns a Plotly figure with the shared `THEME`.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from emviz.analysis.explain import readable
from emviz.plots.palette import component_colour
from emviz.plots.theme import THEME
from emviz.runs import BAD, BEST, ELSEWHERE, MINUS, OTHER, PLUS

PLUS_COLOUR, MINUS_COLOUR, ELSEWHERE_COLOUR = component_colour(0), component_colour(1), "#777777"
# the basins' pale fills: the data, θ* and ±θ̂ stay readable on top of them
_BASIN_FILLS = {PLUS: "#b9d3ea", MINUS: "#f2c7ad", ELSEWHERE: "#8a8a8a"}
END_NAMES = {PLUS: "+θ̂", MINUS: "−θ̂", ELSEWHERE: "neither"}
KIND_COLOURS = {BEST: PLUS_COLOUR, BAD: MINUS_COLOUR, OTHER: ELSEWHERE_COLOUR}
KIND_NAMES = {
    BEST: "the best ℓ",
    BAD: "a bad local maximum",
    OTHER: "elsewhere (a saddle or an empty component)",
}


def _discrete_colourscale(colours: list[str]) -> list[list]:
    """A colourscale giving each integer 0 … m−1 (zmin 0, zmax m−1) one flat colour."""
    scale, m = [], len(colours)
    for index, colour in enumerate(colours):
        scale += [[index / m, colour], [(index + 1) / m, colour]]
    return scale


def _legend_square(name: str, colour: str) -> go.Scatter:
    """A legend entry for a filled region (a heatmap has none of its own)."""
    return go.Scatter(
        x=[None],
        y=[None],
        mode="markers",
        name=name,
        marker={"symbol": "square", "size": 12, "color": colour},
    )


def plot_symmetric_basins(basins, escape=None) -> go.Figure:
    """The basin map over θ0: each start coloured by where EM ended (+θ̂, −θ̂, neither).

    Drawn on top: the data (faint), the line through 0 orthogonal to θ*, θ*, ±θ̂, and, when
    ``escape`` (a `BoundaryEscape`) is given, the path of EM from its start on the boundary.
    Hover on the map gives the start, the end and the iterations.
    """
    axis, labels = basins.axis, basins.labels
    names = np.array([END_NAMES[PLUS], END_NAMES[MINUS], END_NAMES[ELSEWHERE]])[labels]
    fig = go.Figure(
        go.Heatmap(
            x=axis,
            y=axis,
            z=labels,
            zmin=0,
            zmax=2,
            colorscale=_discrete_colourscale([_BASIN_FILLS[k] for k in (PLUS, MINUS, ELSEWHERE)]),
            showscale=False,
            customdata=np.dstack([basins.ends, basins.iterations]),
            text=names,
            hovertemplate=(
                "start θ0 = (%{x:.2f}, %{y:.2f})<br>end %{text} = "
                "(%{customdata[0]:.3f}, %{customdata[1]:.3f})<br>"
                "%{customdata[2]} iterations<extra></extra>"
            ),
            name="basins",
        )
    )
    for label in (PLUS, MINUS, ELSEWHERE):
        fig.add_trace(_legend_square(f"ends at {END_NAMES[label]}", _BASIN_FILLS[label]))
    fig.add_trace(
        go.Scatter(
            x=basins.X[:, 0],
            y=basins.X[:, 1],
            mode="markers",
            name="data",
            marker={"size": 3, "color": "#333", "opacity": 0.25},
            hoverinfo="skip",
        )
    )
    fig.add_trace(_orthogonal_line(basins))
    if escape is not None:
        fig.add_trace(
            go.Scatter(
                x=escape.paths[0, :, 0],
                y=escape.paths[0, :, 1],
                mode="lines+markers",
                name="EM from a start<br>on the boundary",
                line={"color": "#111", "width": 1.5},
                marker={"size": 4, "color": "#111"},
                hovertemplate="iteration %{customdata}<br>θ = (%{x:.3f}, %{y:.3f})<extra></extra>",
                customdata=np.arange(escape.paths.shape[1]),
            )
        )
    fig.add_trace(_points("+θ̂", [basins.theta_hat], "circle", PLUS_COLOUR, "bottom right"))
    fig.add_trace(_points("−θ̂", [-basins.theta_hat], "circle", MINUS_COLOUR, "bottom right"))
    fig.add_trace(_points("θ*", [basins.theta_star], "star", "#111", None))  # beside +θ̂
    extent = [axis[0], axis[-1]]
    fig.update_layout(
        template=THEME,
        height=640,
        title=f"Where EM ends from each start θ0 ({len(basins.X)} points)",
        xaxis={"title": "θ0, first coordinate", "range": extent, "constrain": "domain"},
        yaxis={
            "title": "θ0, second coordinate",
            "range": extent,
            "scaleanchor": "x",
            "constrain": "domain",
        },
        legend={"y": -0.12, "yanchor": "top"},  # below: the map keeps the full width
        margin={"b": 20},
    )
    return fig


def _orthogonal_line(basins) -> go.Scatter:
    """The line through 0 orthogonal to θ*, across the map."""
    normal = np.array([-basins.theta_star[1], basins.theta_star[0]])
    normal /= np.linalg.norm(normal)
    reach = basins.axis[-1] * np.sqrt(2)
    ends = np.array([-reach, reach])[:, None] * normal
    return go.Scatter(
        x=ends[:, 0],
        y=ends[:, 1],
        mode="lines",
        name="the line ⟨θ0, θ*⟩ = 0",
        line={"color": "#111", "dash": "dash", "width": 1.5},
        hoverinfo="skip",
    )


def _points(name: str, points, symbol: str, colour: str, where: str | None) -> go.Scatter:
    """Marked points named ``name`` in the legend, and beside them at ``where`` (if given)."""
    points = np.asarray(points)
    return go.Scatter(
        x=points[:, 0],
        y=points[:, 1],
        mode="markers" if where is None else "markers+text",
        name=name,
        text=[name],
        textposition="top right",
        textfont={"size": 13, "color": "#111"},
        marker={
            "symbol": symbol,
            "size": 14,
            "color": colour,
            "line": {"width": 2, "color": "white"},
        },
        hovertemplate=f"{name} = (%{{x:.3f}}, %{{y:.3f}})<extra></extra>",
    )


def _offset_name(offset: float) -> str:
    if offset == 0:
        return "ε = 0: on the boundary"
    return f"ε = {'+' if offset > 0 else '−'}{readable(abs(offset), 1)}"


def plot_boundary_escape(escape) -> go.Figure:
    """How far each start of ``escape`` has gone towards +θ̂ (1) or −θ̂ (−1), per iteration."""
    fig = go.Figure()
    left = escape.left_at()
    for index, offset in enumerate(escape.offsets):
        progress = escape.progress[index]
        colour = PLUS_COLOUR if progress[-1] > 0 else MINUS_COLOUR
        fig.add_trace(
            go.Scatter(
                x=np.arange(len(progress)),
                y=progress,
                mode="lines",
                name=f"{_offset_name(offset)} (leaves at iteration {left[index]})",
                line={"color": "#111" if offset == 0 else colour, "width": 3 if offset == 0 else 2},
                hovertemplate="iteration %{x}<br>⟨θ, θ̂⟩/|θ̂|² = %{y:.3f}<extra></extra>",
            )
        )
    for level, name, colour in ((1, "+θ̂", PLUS_COLOUR), (-1, "−θ̂", MINUS_COLOUR)):
        fig.add_hline(
            y=level,
            line={"color": colour, "dash": "dot", "width": 1},
            annotation_text=name,
            annotation_position="right",
        )
    fig.update_layout(
        template=THEME,
        height=380,
        title="Starts on the boundary and ε off it (along θ̂)",
        xaxis={"title": "iteration"},
        yaxis={"title": "⟨θ, θ̂⟩ / |θ̂|²", "range": [-1.15, 1.15]},
        legend={"y": -0.25},
        margin={"b": 110, "r": 40},
    )
    return fig


# ---- three or more components ----


def plot_restart_log_likelihoods(summary) -> go.Figure:
    """A histogram of the final ℓ per point of every restart, by where it ended."""
    n = len(summary.X)
    per_point = summary.run.log_likelihoods / n
    low, high = per_point.min(), per_point.max()
    size = max((high - low) / 40, 1e-3)
    bins = {"start": low - size / 2, "end": high + size, "size": size}
    fig = go.Figure()
    for kind in (BEST, BAD, OTHER):
        chosen = per_point[summary.kinds == kind]
        if not len(chosen):
            continue
        fig.add_trace(
            go.Histogram(
                x=chosen,
                xbins=bins,
                autobinx=False,
                name=f"{KIND_NAMES[kind]} ({len(chosen)})",
                marker={"color": KIND_COLOURS[kind]},
                hovertemplate="ℓ per point %{x}<br>%{y} restarts<extra></extra>",
            )
        )
    restarts = len(per_point)
    fig.update_layout(
        template=THEME,
        height=400,
        barmode="stack",
        title=f"Final ℓ per point of {restarts} restarts",
        xaxis={"title": "ℓ / n at the end"},
        yaxis={"title": "restarts"},
        legend={"y": -0.25},
        margin={"b": 110},
    )
    return fig


def plot_restart_configuration(summary) -> go.Figure:
    """The data with the best means and the drawn bad configuration's means; the gap in the
    title. 1-D: a histogram of the data with the means as vertical lines; 2-D: a scatter
    with the means as markers."""
    bad = summary.shown_bad
    configurations = [("best", summary.best_means, PLUS_COLOUR)]
    if bad is not None:
        configurations.append(("bad local maximum", summary.means(bad), MINUS_COLOUR))
    if summary.X.shape[1] == 1:
        fig = _one_dimensional_configuration(summary.X[:, 0], configurations)
    else:
        fig = _two_dimensional_configuration(summary.X, configurations)
    n = len(summary.X)
    if bad is None:
        title = "The best means (no restart ended at a bad local maximum)"
    else:
        gap = summary.outcomes.gaps[bad]
        title = f"A bad end: ℓ lower by {gap:.1f} ({gap / n:.2f} per point)"
    fig.update_layout(template=THEME, height=400, title=title, legend={"y": -0.25})
    return fig


def _one_dimensional_configuration(x, configurations) -> go.Figure:
    counts, edges = np.histogram(x, bins=80)
    fig = go.Figure(
        go.Bar(
            x=0.5 * (edges[:-1] + edges[1:]),
            y=counts,
            width=np.diff(edges),
            name="data",
            marker={"color": "#bbbbbb"},
            hovertemplate="x ≈ %{x:.2f}<br>%{y} points<extra></extra>",
        )
    )
    top = counts.max() * 1.1
    for index, (name, means, colour) in enumerate(configurations):
        means = np.sort(means[:, 0])
        xs = np.repeat(means, 3)
        ys = np.tile([0.0, top, np.nan], len(means))
        xs[2::3] = np.nan
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name=f"{name} means: " + ", ".join(f"{m:.2f}" for m in means),
                line={"color": colour, "width": 3, "dash": "solid" if index == 0 else "dash"},
                hoverinfo="skip",
            )
        )
    fig.update_layout(
        xaxis={"title": "x"}, yaxis={"title": "points", "range": [0, top]}, margin={"b": 110}
    )
    return fig


def _two_dimensional_configuration(X, configurations) -> go.Figure:
    fig = go.Figure(
        go.Scatter(
            x=X[:, 0],
            y=X[:, 1],
            mode="markers",
            name="data",
            marker={"size": 4, "color": "#999", "opacity": 0.5},
            hoverinfo="skip",
        )
    )
    symbols = ("x", "diamond-open")
    for index, (name, means, colour) in enumerate(configurations):
        fig.add_trace(
            go.Scatter(
                x=means[:, 0],
                y=means[:, 1],
                mode="markers",
                name=f"{name} means",
                marker={
                    "symbol": symbols[index],
                    "size": 15 if index == 0 else 18,
                    "color": colour,
                    "line": {"width": 3, "color": colour},
                },
                hovertemplate=f"{name} mean (%{{x:.2f}}, %{{y:.2f}})<extra></extra>",
            )
        )
    fig.update_layout(
        xaxis={"title": "x₁", "constrain": "domain"},
        yaxis={"title": "x₂", "scaleanchor": "x", "constrain": "domain"},
        margin={"b": 90},
    )
    return fig


def plot_bad_share_by_components(shares, separation: float, current: int | None = None):
    """The share of restarts at a bad local maximum for each K (2-D clusters, the same R).

    Parameters
    ----------
    shares : mapping K -> share in [0, 1]
    separation : float
        R, for the title.
    current : int, optional
        The K shown above, drawn in a stronger colour.
    """
    ks = sorted(shares)
    values = np.array([100 * shares[k] for k in ks])
    colours = [MINUS_COLOUR if k == current else "#e8a27a" for k in ks]
    fig = go.Figure(
        go.Bar(
            x=ks,
            y=values,
            marker={"color": colours},
            text=[f"{v:.0f}%" for v in values],
            textposition="outside",
            name="bad local maxima",
            hovertemplate="K = %{x}<br>%{y:.1f}% of restarts<extra></extra>",
        )
    )
    fig.update_layout(
        template=THEME,
        height=320,
        title=f"Bad local maxima by K (2-D, R = {separation:g})",
        xaxis={"title": "number of clusters and components K", "tickmode": "array", "tickvals": ks},
        yaxis={"title": "% of restarts", "range": [0, max(100.0, values.max() * 1.15)]},
        showlegend=False,
    )
    return fig
