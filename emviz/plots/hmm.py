"""Figures of a Baum–Welch run: the series over its state probabilities, the transition matrix,
the emission densities.

Every figure is built from a `History` of `emviz.models.GaussianHMM` and a step index. The q
shown at a step is the posterior of the E-step before it (uniform at the start), as everywhere.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy.stats import norm

from emviz.plots.mixture import _histogram, _scatter, step_title
from emviz.plots.palette import component_colour, mixed_colours
from emviz.plots.theme import THEME

MAX_DRAWN_STEPS = 2000
"""A longer series is drawn at every k-th step (EM uses every step)."""


def drawn_steps(n_samples: int) -> np.ndarray:
    """The time steps a figure draws: all, or every k-th so that at most MAX_DRAWN_STEPS."""
    return np.arange(0, n_samples, max(1, math.ceil(n_samples / MAX_DRAWN_STEPS)))


def thinning_note(n_samples: int) -> str:
    """What the series figure says about its thinning ('' when it draws every step)."""
    every = math.ceil(n_samples / MAX_DRAWN_STEPS)
    return "" if every <= 1 else f"every {every}th of {n_samples:,} steps drawn · EM uses all"


def plot_series_states(history, index: int) -> go.Figure:
    """The series, coloured by q(z_t), above q(z_t = s) stacked over time (the E-step's γ)."""
    resp = history.responsibilities(index)
    n_states = resp.shape[1]
    shown = drawn_steps(len(history.X))
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.6, 0.4], vertical_spacing=0.06
    )
    fig.add_trace(
        _scatter(
            x=shown,
            y=history.X[shown, 0],
            mode="lines+markers",
            line={"color": "#bbb", "width": 1},
            marker={"color": mixed_colours(resp[shown]), "size": 5},
            name="series (colour = q(z_t))",
            hovertemplate="t %{x}<br>x %{y:.3f}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    for state in range(n_states):
        fig.add_trace(
            _scatter(
                x=shown,
                y=resp[shown, state],
                mode="lines",
                stackgroup="gamma",
                line={"color": component_colour(state), "width": 0.5},
                fillcolor=component_colour(state),
                name=f"q(z_t = {state + 1})",
                hovertemplate=f"t %{{x}}<br>q(z_t = {state + 1}) %{{y:.3f}}<extra></extra>",
            ),
            row=2,
            col=1,
        )
    fig.update_layout(
        template=THEME,
        height=430,
        title=step_title(history, index),
        legend={"y": -0.18},
        margin={"t": 60},
    )
    fig.update_yaxes(title_text="x_t", row=1, col=1)
    fig.update_yaxes(title_text="state probability", range=[0, 1], row=2, col=1)
    fig.update_xaxes(title_text="time step t", row=2, col=1)
    return fig


def plot_transmat(params) -> go.Figure:
    """A_ij = p(z_{t+1} = j | z_t = i) as a heat map, each cell with its value."""
    n_states = params.n_states
    labels = [str(state + 1) for state in range(n_states)]
    fig = go.Figure(
        go.Heatmap(
            z=params.transmat,
            x=labels,
            y=labels,
            zmin=0.0,
            zmax=1.0,
            colorscale="Blues",
            texttemplate="%{z:.3f}",
            hovertemplate="from %{y} to %{x}: %{z:.4f}<extra></extra>",
            colorbar={"title": {"text": "A_ij"}},
        ),
        layout={"template": THEME},
    )
    fig.update_layout(
        height=320,
        title="Transition matrix A",
        xaxis={"title": "to state j", "type": "category"},
        yaxis={"title": "from state i", "type": "category", "autorange": "reversed"},
    )
    return fig


def _weighted_densities(params, occupancy: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """occupancy_s · N(x | μ_s, σ²_s) on the grid, shape (S, n_grid)."""
    sds = np.sqrt(params.variances)
    return occupancy[:, None] * norm.pdf(grid[None, :], params.means[:, None], sds[:, None])


def plot_emissions(history, index: int) -> go.Figure:
    """Each state's emission density N(μ_s, σ²_s), weighted by the share of time q gives the
    state, over the histogram of the series; the initial ones dotted."""
    x = history.X[:, 0]
    spread = x.max() - x.min() or 1.0
    grid = np.linspace(x.min() - 0.1 * spread, x.max() + 0.1 * spread, 300)
    params = history[index].params
    occupancy = history.responsibilities(index).mean(axis=0)
    start = history[0].params
    start_densities = _weighted_densities(start, np.full(start.n_states, 1 / start.n_states), grid)
    densities = _weighted_densities(params, occupancy, grid)
    fig = go.Figure(layout={"template": THEME})
    fig.add_trace(_histogram(x))
    for state in range(params.n_states):
        colour = component_colour(state)
        fig.add_trace(
            _scatter(
                x=grid,
                y=start_densities[state],
                mode="lines",
                line={"color": colour, "width": 1, "dash": "dot"},
                name=f"start of state {state + 1}",
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            _scatter(
                x=grid,
                y=densities[state],
                mode="lines",
                line={"color": colour, "width": 2.5},
                name=(
                    f"state {state + 1}: μ = {params.means[state]:.3f}, "
                    f"σ² = {params.variances[state]:.3f}"
                ),
                hovertemplate="x %{x:.3f}<br>density %{y:.4f}<extra></extra>",
            )
        )
    fig.update_layout(
        height=320,
        title="Emission densities (× time share; dotted: the start)",
        xaxis={"title": "x"},
        yaxis={"title": "density"},
        legend={"y": -0.25},
        bargap=0,
    )
    return fig
