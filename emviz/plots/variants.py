"""Figures comparing a variant of EM with plain EM: the final fits with their assignment
boundaries, and ℓ per iteration of both."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from emviz.analysis.variants import assignment_grid
from emviz.plots.mixture import _axis_ranges, plot_mixture
from emviz.plots.theme import THEME

_COLOURS = {"plain EM": "#0072B2"}
_VARIANT_COLOUR = "#D55E00"


def _boundary_trace(params, x_range, y_range) -> go.Contour:
    """Lines where the most probable component changes (contours of the label between
    consecutive integers)."""
    xs, ys, labels = assignment_grid(params, x_range, y_range)
    n_components = params.n_components
    return go.Contour(
        x=xs,
        y=ys,
        z=labels.astype(float),
        contours={"coloring": "none", "start": 0.5, "end": n_components - 0.5, "size": 1},
        line={"color": "#222", "width": 1.5, "dash": "dot"},
        showscale=False,
        hoverinfo="skip",
        name="assignment boundary",
        showlegend=True,
    )


def plot_final_fit(history, title: str) -> go.Figure:
    """The run's last step, with the boundaries of hard assignment in 2-D."""
    index = len(history) - 1
    fig = plot_mixture(history, index)
    if history.X.shape[1] >= 2:
        x_range, y_range = _axis_ranges(history.X[:, :2])
        fig.add_trace(_boundary_trace(history[index].params, x_range, y_range))
    fig.update_layout(title={"text": title}, height=460, showlegend=False)
    return fig


def plot_objective_traces(histories: dict[str, object]) -> go.Figure:
    """ℓ after the start and after each M-step, per iteration, one line per run."""
    fig = go.Figure(layout={"template": THEME})
    for name, history in histories.items():
        steps = [s for s in history.steps if s.phase in ("init", "M")]
        fig.add_trace(
            go.Scatter(
                x=np.array([s.iteration for s in steps]),
                y=np.array([s.log_likelihood for s in steps]),
                mode="lines+markers",
                marker={"size": 4},
                line={"color": _COLOURS.get(name, _VARIANT_COLOUR), "width": 2},
                name=name,
                hovertemplate=f"{name}<br>iteration %{{x}}<br>ℓ %{{y:.4f}}<extra></extra>",
            )
        )
    fig.update_layout(
        title={"text": "Log-likelihood per iteration (each under its own model), same start"},
        xaxis_title="iteration",
        yaxis_title="log p(X | θ)",
        height=340,
        legend={"orientation": "h", "y": -0.25},
    )
    return fig
