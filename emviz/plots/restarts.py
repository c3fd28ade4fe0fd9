"""Figures of many restarts of one Gaussian mixture: final log-likelihoods and the solutions."""

from __future__ import annotations

import textwrap

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy.stats import norm

from emviz.analysis.restarts import FAILED
from emviz.plots.mixture import drawn_points, ellipse_xy
from emviz.plots.palette import component_colour
from emviz.plots.theme import THEME

GROUP_COLOURS = ("#009E73", "#E69F00", "#56B4E9", "#CC79A7", "#0072B2", "#D55E00")
NOT_CONVERGED_COLOUR, FAILED_COLOUR = "#999999", "#222222"
MAX_THUMBNAILS = 6


def group_label(restarts, group: int) -> str:
    """ "solution 1 (best)", "solution 3", "not converged 2" or "failed" for a group number."""
    if group == FAILED:
        return "failed (a component collapsed)"
    members = restarts.groups == group
    if not np.any(restarts.stop_reasons[members] == "converged"):
        return f"stopped at max_iter ({group + 1})"
    return f"solution {group + 1}" + (" (best)" if group == 0 else "")


def group_colour(restarts, group: int) -> str:
    if group == FAILED:
        return FAILED_COLOUR
    if not np.any(restarts.stop_reasons[restarts.groups == group] == "converged"):
        return NOT_CONVERGED_COLOUR
    return GROUP_COLOURS[group % len(GROUP_COLOURS)]


MAX_NAMED_SOLUTIONS = len(GROUP_COLOURS) - 1  # more converged solutions share one colour


def histogram_categories(restarts) -> list[tuple[str, str, np.ndarray]]:
    """(name, colour, members) of the histogram's stacks: the first converged solutions one
    by one, the rest together, every run stopped at max_iter together, the failed runs."""
    converged = (
        np.array(
            [
                bool(np.any(restarts.stop_reasons[restarts.groups == g] == "converged"))
                for g in range(int(restarts.groups.max()) + 1)
            ]
        )
        if restarts.groups.max() >= 0
        else np.zeros(0, dtype=bool)
    )
    solutions = np.flatnonzero(converged)
    categories = [
        (group_label(restarts, int(g)), group_colour(restarts, int(g)), restarts.groups == g)
        for g in solutions[:MAX_NAMED_SOLUTIONS]
    ]
    merged = [
        (
            "other solutions",
            GROUP_COLOURS[-1],
            np.isin(restarts.groups, solutions[MAX_NAMED_SOLUTIONS:]),
        ),
        (
            "stopped at max_iter (not converged)",
            NOT_CONVERGED_COLOUR,
            np.isin(restarts.groups, np.flatnonzero(~converged)),
        ),
        (group_label(restarts, FAILED), FAILED_COLOUR, restarts.groups == FAILED),
    ]
    return categories + [c for c in merged if c[2].any()]


def plot_restart_histogram(restarts, n_samples: int) -> go.Figure:
    """Final log-likelihood per point of every restart, stacked by solution (group)."""
    per_point = restarts.log_likelihoods / n_samples
    finite = np.isfinite(per_point)
    low, high = (per_point[finite].min(), per_point[finite].max()) if finite.any() else (0, 1)
    size = max((high - low) / 40, 1e-6)
    traces = [
        go.Histogram(
            x=per_point[members & finite],
            name=f"{name}: {np.mean(members):.0%}",
            marker={"color": colour},
            xbins={"start": low - size / 2, "end": high + size, "size": size},
            hovertemplate="ℓ/n %{x}<br>%{y} restarts<extra></extra>",
        )
        for name, colour, members in histogram_categories(restarts)
    ]
    return go.Figure(
        traces,
        layout={
            "template": THEME,
            "barmode": "stack",
            "height": 380,
            "title": {"text": f"Final log-likelihood of {restarts.n_restarts} restarts"},
            "xaxis": {"title": "log-likelihood per point, ℓ / n"},
            "yaxis": {"title": "restarts"},
            # below the axis title, in rows: beside the plot it would leave a phone's
            # histogram a sliver (Plotly pushes the bottom margin down to fit the rows)
            "legend": {
                "orientation": "h",
                "x": 0,
                "y": -0.3,
                "yanchor": "top",
                "traceorder": "normal",
            },
            "margin": {"r": 10},
        },
    )


def density_grid(x: np.ndarray, params=None, n_points: int = 200) -> np.ndarray:
    """Grid points over the 1-D data ``x`` (a little beyond it), with each component of
    ``params`` sampled across its own ±4σ and at its mean too: a narrow spike is drawn whole,
    its peak included."""
    pad = 0.05 * (x.max() - x.min())
    parts = [np.linspace(x.min() - pad, x.max() + pad, n_points)]
    if params is not None:
        across = np.linspace(-4.0, 4.0, 41)
        sd = np.sqrt(params.covariances[:, 0, 0])
        parts += [params.means[:, :1] + sd[:, None] * across, params.means[:, 0]]
    return np.unique(np.concatenate([np.ravel(part) for part in parts]))


def background_points(X, drawn) -> go.Scatter:
    """The points ``drawn`` (row indices) of 2-D data, small and grey, under a fit's outlines."""
    return go.Scatter(
        x=X[drawn, 0],
        y=X[drawn, 1],
        mode="markers",
        marker={"size": 3, "color": "#bbb"},
        hoverinfo="skip",
        showlegend=False,
    )


def _solution_traces(X, drawn, params) -> list[go.BaseTraceType]:
    """The data (a sample of it) and one fitted mixture: ellipses and means in 2-D, weighted
    component densities over a histogram in 1-D."""
    if X.shape[1] == 1:
        x = X[:, 0]
        grid = density_grid(x, params)
        counts, edges = np.histogram(x, bins=30, density=True)
        traces = [
            go.Bar(
                x=0.5 * (edges[:-1] + edges[1:]),
                y=counts,
                marker={"color": "#ddd"},
                hoverinfo="skip",
                showlegend=False,
            )
        ]
        for k, (w, mean, cov) in enumerate(zip(params.weights, params.means, params.covariances)):
            density = w * norm.pdf(grid, mean[0], np.sqrt(cov[0, 0]))
            traces.append(_line(grid, density, component_colour(k)))
        return traces
    traces = [background_points(X, drawn)]
    for k, (mean, cov) in enumerate(zip(params.means, params.covariances)):
        outline = ellipse_xy(mean[:2], cov[:2, :2], 2.0)
        traces.append(_line(outline[:, 0], outline[:, 1], component_colour(k)))
    traces.append(
        go.Scatter(
            x=params.means[:, 0],
            y=params.means[:, 1],
            mode="markers",
            marker={
                "size": 9,
                "symbol": "x",
                "color": [component_colour(k) for k in range(len(params.means))],
            },
            hovertext=[f"component {k + 1}, weight {w:.2f}" for k, w in enumerate(params.weights)],
            hoverinfo="text",
            showlegend=False,
        )
    )
    return traces


def _line(x, y, colour: str) -> go.Scatter:
    return go.Scatter(
        x=x,
        y=y,
        mode="lines",
        line={"color": colour, "width": 2},
        hoverinfo="skip",
        showlegend=False,
    )


def thumbnail_title(restarts, r: int) -> str:
    """Restart ``r``'s solution, number and ℓ, on two lines above its fit."""
    label = group_label(restarts, int(restarts.groups[r]))
    return f"{label}<br>restart {r}, ℓ{NBSP}={NBSP}{restarts.log_likelihoods[r]:.1f}"


def plot_solutions(restarts, X, indices, titles=None) -> go.Figure:
    """Side by side, the fits of the restarts ``indices`` (at most six) on the data ``X``
    (its first two columns), each under its title (by default its `thumbnail_title`)."""
    indices = list(indices)[:MAX_THUMBNAILS]
    if titles is None:
        titles = [thumbnail_title(restarts, r) for r in indices]
    return plot_fits(X, [restarts.params(r) for r in indices], list(titles)[: len(indices)])


TITLE_CHARS = 18  # about 110 px of 12 px text
NBSP = "\u00a0"  # joins what a wrapped title must keep on one line ("ℓ = -1941.2")
TITLE_LINE_PX = 15


def plot_fits(X, fits, titles, *, height: int = 260) -> go.Figure:
    """Side by side, the mixtures ``fits`` (parameters) on the data ``X`` (its first two
    columns; in 1-D a histogram under the weighted component densities), each under its
    title."""
    X = np.asarray(X)[:, :2]
    drawn = drawn_points(len(X), 600)
    titles = [_narrow_title(title) for title in titles]
    title_lines = max((title.count("<br>") + 1 for title in titles), default=1)
    fig = make_subplots(rows=1, cols=len(fits), subplot_titles=titles, horizontal_spacing=0.04)
    for column, params in enumerate(fits, start=1):
        for trace in _solution_traces(X, drawn, params):
            fig.add_trace(trace, row=1, col=column)
    for column in range(1, len(fits) + 1):
        # equal scales in 2-D (circles stay round) by shrinking a panel, never cropping it
        fig.update_xaxes(showticklabels=False, constrain="domain", row=1, col=column)
        fig.update_yaxes(showticklabels=False, constrain="domain", row=1, col=column)
        if X.shape[1] == 2:
            anchor = "x" if column == 1 else f"x{column}"
            fig.update_yaxes(scaleanchor=anchor, row=1, col=column)
    fig.update_layout(
        template=THEME,
        height=height + TITLE_LINE_PX * (title_lines - 2),
        margin={"l": 10, "r": 10, "t": 20 + TITLE_LINE_PX * title_lines, "b": 10},
        showlegend=False,
        bargap=0,
    )
    fig.update_annotations(font={"size": 12})
    return fig


def _narrow_title(title: str) -> str:
    """``title`` with each line wrapped to `TITLE_CHARS`: side-by-side panels on a phone are
    about 110 px wide, and Plotly does not wrap a subplot's title itself."""
    lines = title.split("<br>")
    return "<br>".join(part for line in lines for part in textwrap.wrap(line, TITLE_CHARS))
