"""Figures for "EM or gradient ascent?": ℓ per iteration, learning-rate sweep, error decay,
EM beside L-BFGS-B, and a surplus component's weight."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from emviz.analysis.optimiser import settled_at_zero
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


def plot_optimiser_gaps(runs) -> go.Figure:
    """How far below the best ℓ either run found each iterate is, on a log scale (an iterate
    at the best itself is drawn at the floor, 1e-17)."""
    best = max(float(run.log_likelihoods[-1]) for run in runs)
    fig = plot_path_norms(
        runs,
        lambda run: best - run.log_likelihoods,
        title="Distance below the best log-likelihood found",
        y_title="ℓ* − ℓ",
    )
    return fig.update_yaxes(exponentformat="power")


WEIGHT_FLOOR = 1e-16  # the bottom of the weight axis; a weight of exactly 0 is marked there


def plot_surplus_weights(comparison) -> go.Figure:
    """π1 of the surplus component per iteration, log scale; a weight of exactly 0 (only
    L-BFGS-B's bound gives one) as a marker on the axis floor, a weight below the floor runs
    off the bottom."""
    fig = go.Figure()
    for run in comparison.runs:
        weights = run.thetas[:, 0]
        colour = PATH_COLOURS.get(run.method, "#555")
        fig.add_trace(
            go.Scatter(
                y=np.where(weights > 0, weights, np.nan),
                mode="lines+markers",
                name=run.method,
                line={"color": colour},
                marker={"size": 4},
            )
        )
        zeros = np.flatnonzero(weights == 0)
        settled = settled_at_zero(weights)
        if zeros.size:
            fig.add_trace(
                go.Scatter(
                    x=zeros,
                    y=np.full(zeros.size, WEIGHT_FLOOR),
                    mode="markers+text",
                    name=f"{run.method}: π₁ = 0 exactly",
                    text=[
                        f"π₁ = 0 from iteration {settled}" if i == settled else "" for i in zeros
                    ],
                    textposition="top right",
                    marker={"symbol": "triangle-down", "size": 13, "color": colour},
                )
            )
    fig.update_layout(
        title={"text": "Weight of the surplus component per iteration"},
        xaxis={"title": "iteration"},
        yaxis={
            "title": "π₁ (log scale)",
            "type": "log",
            "range": [np.log10(WEIGHT_FLOOR) - 0.5, 0.1],
            "exponentformat": "power",
        },
        **_LAYOUT,
    )
    return fig
