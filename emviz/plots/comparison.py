"""Figures for "EM or gradient ascent?": ℓ per iteration, learning-rate sweep, error decay."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from emviz.plots.landscape import PATH_COLOURS, plot_path_norms
from emviz.plots.theme import THEME

_LAYOUT = {"template": THEME, "height": 340, "legend": {"y": -0.25}}


def plot_log_likelihood_paths(paths) -> go.Figure:
    """ℓ after each iteration of each path, with the first decrease marked."""
    fig = go.Figure()
    for path in paths:
        colour = PATH_COLOURS.get(path.method, "#555")
        fig.add_trace(
            go.Scatter(
                y=path.log_likelihoods,
                mode="lines+markers",
                name=path.method,
                line={"color": colour},
                marker={"size": 4},
            )
        )
        drop = path.first_decrease()
        if drop is not None:
            fig.add_trace(
                go.Scatter(
                    x=[drop],
                    y=[path.log_likelihoods[drop]],
                    mode="markers+text",
                    name=f"{path.method}: ℓ falls",
                    text=[f"ℓ falls at {drop}"],
                    textposition="bottom right",
                    marker={"symbol": "x", "size": 14, "color": "#CC0000"},
                )
            )
    fig.update_layout(
        title={"text": "Log-likelihood per iteration"},
        xaxis={"title": "iteration"},
        yaxis={"title": "log-likelihood ℓ"},  # a lone rotated ℓ reads as "~"
        **_LAYOUT,
    )
    return fig


def plot_learning_rate_sweep(rows, em_iterations: int) -> go.Figure:
    """Iterations to converge against η (log axis); EM, which has no η, as a line."""
    fig = go.Figure()
    for outcome, colour in (
        ("converged", "#0072B2"),
        ("max_iter", "#E69F00"),
        ("diverged", "#CC0000"),
    ):
        chosen = [r for r in rows if r["stopped"] == outcome]
        if chosen:
            fig.add_trace(
                go.Scatter(
                    x=[r["learning_rate"] for r in chosen],
                    y=[r["iterations"] for r in chosen],
                    mode="markers",
                    name=f"gradient ascent: {outcome}",
                    marker={"size": 11, "color": colour},
                )
            )
    fig.add_hline(
        y=em_iterations,
        line={"color": PATH_COLOURS["EM"], "dash": "dash"},
        annotation_text=f"EM: {em_iterations} iterations, no learning rate",
    )
    fig.update_layout(
        title={"text": "Learning rate against iterations"},
        xaxis={"title": "learning rate η", "type": "log"},
        yaxis={"title": "iterations"},
        **_LAYOUT,
    )
    return fig


def plot_error_decay(paths, limit) -> go.Figure:
    """‖θ_t − θ*‖ per iteration on a log scale: straight for EM (linear), bending for Newton."""
    return plot_path_norms(
        paths,
        lambda path: np.linalg.norm(path.points - np.asarray(limit), axis=1),
        title="Distance to the mode",
        y_title="‖θ − θ*‖",
    )
