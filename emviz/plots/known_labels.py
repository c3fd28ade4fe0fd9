"""The fit with the labels known beside EM's fit, on the same points coloured by true label."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy.stats import norm

from emviz.plots.mixture import drawn_points, ellipse_rings_xy, sample_note
from emviz.plots.palette import component_colour
from emviz.plots.theme import THEME


def _fit_traces_2d(X, labels, params, show_legend: bool) -> list[go.Scatter]:
    drawn = drawn_points(len(X))
    traces = [
        go.Scatter(
            x=X[drawn, 0],
            y=X[drawn, 1],
            mode="markers",
            marker={
                "color": [component_colour(k) for k in labels[drawn]],
                "size": 5,
                "opacity": 0.55,
            },
            name="data (colour = true label)",
            showlegend=show_legend,
            hoverinfo="skip",
        )
    ]
    for k in range(params.n_components):
        xy = ellipse_rings_xy(params.means[k], params.covariances[k])
        traces.append(
            go.Scatter(
                x=xy[:, 0],
                y=xy[:, 1],
                mode="lines",
                line={"color": component_colour(k), "width": 2.5},
                name=f"component {k + 1} (1σ, 2σ)",
                legendgroup=f"c{k}",
                showlegend=show_legend,
                hoverinfo="skip",
            )
        )
    traces.append(
        go.Scatter(
            x=params.means[:, 0],
            y=params.means[:, 1],
            mode="markers",
            marker={"symbol": "x-thin", "size": 14, "line": {"width": 4, "color": "#222"}},
            name="means",
            showlegend=show_legend,
            text=[f"π = {w:.3f}" for w in params.weights],
            hovertemplate="mean (%{x:.3f}, %{y:.3f})<br>%{text}<extra></extra>",
        )
    )
    return traces


def _fit_traces_1d(X, labels, params, show_legend: bool) -> list[go.Scatter]:
    x = X[:, 0]
    low, high = float(x.min()), float(x.max())
    grid = np.linspace(low - 0.1 * (high - low), high + 0.1 * (high - low), 300)
    sd = np.sqrt(params.covariances[:, 0, 0])
    densities = params.weights[:, None] * norm.pdf(grid, params.means[:, :1], sd[:, None])
    traces = [
        go.Scatter(
            x=grid,
            y=densities[k],
            mode="lines",
            line={"color": component_colour(k), "width": 2.5},
            name=f"π{k + 1}·N(μ{k + 1}, σ{k + 1}²)",
            legendgroup=f"c{k}",
            showlegend=show_legend,
        )
        for k in range(params.n_components)
    ]
    drawn = drawn_points(len(X))
    traces.append(
        go.Scatter(
            x=x[drawn],
            y=np.zeros(len(drawn)),
            mode="markers",
            marker={
                "symbol": "line-ns-open",
                "size": 12,
                "color": [component_colour(k) for k in labels[drawn]],
            },
            name="data (colour = true label)",
            showlegend=show_legend,
            hoverinfo="x",
        )
    )
    return traces


def plot_known_labels(X, labels, comparison) -> go.Figure:
    """Two panels on the same axes: the fit with the labels known, and EM's (its components
    matched to the true groups), each titled with both log-likelihoods."""
    X, labels = np.asarray(X), np.asarray(labels)
    fits = (
        ("labels known", comparison.labelled, comparison.labelled_complete),
        ("EM, labels hidden", comparison.em, comparison.em_complete),
    )
    fig = make_subplots(
        rows=1,
        cols=2,
        shared_xaxes=True,
        shared_yaxes=True,
        horizontal_spacing=0.04,
        subplot_titles=[
            f"{name}<br>log p(X, Z | θ) = {complete:.2f}" for name, _, complete in fits
        ],
    )
    traces_of = _fit_traces_2d if X.shape[1] >= 2 else _fit_traces_1d
    for col, (_, params, _) in enumerate(fits, start=1):
        for trace in traces_of(X, labels, params, show_legend=col == 1):
            fig.add_trace(trace, row=1, col=col)
    note = sample_note(len(X))
    fig.update_layout(
        template=THEME,
        height=460,
        margin={"t": 90},
        legend={"orientation": "h", "y": -0.12},
        title={"text": note, "font": {"size": 12, "color": "#555"}} if note else None,
    )
    if X.shape[1] >= 2:
        fig.update_yaxes(scaleanchor="x", scaleratio=1, row=1, col=1)
        fig.update_yaxes(scaleanchor="x2", scaleratio=1, row=1, col=2)
    return fig
