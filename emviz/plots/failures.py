"""Figures of the failure lab: a component collapsing, EM's linear rate, an early stop, the
wrong number of components."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy.stats import norm

from emviz.engine import counted
from emviz.plots.mixture import drawn_points, ellipse_xy
from emviz.plots.palette import component_colour
from emviz.plots.restarts import NBSP, background_points, density_grid, plot_fits
from emviz.plots.theme import THEME

STOP_COLOUR = "#C00000"
STOP_WORDS = {
    "converged": "converged",
    "max_iter": "stopped at max_iter",
    "singular": "stopped: singular",
    "non_finite": "stopped: non-finite",
}


def iteration_params(history) -> list:
    """The parameters after each iteration: the start, then every M-step's."""
    return [step.params for step in history.steps if step.phase in ("init", "M")]


def _densities(params, grid: np.ndarray) -> np.ndarray:
    """π_k N(x | μ_k, σ_k²) on ``grid``, shape (K, G)."""
    sd = np.sqrt(params.covariances[:, 0, 0])
    return params.weights[:, None] * norm.pdf(grid[None, :], params.means[:, :1], sd[:, None])


def _histogram(x: np.ndarray, bins: int = 40) -> go.Bar:
    density, edges = np.histogram(x, bins=bins, density=True)
    return go.Bar(
        x=(edges[:-1] + edges[1:]) / 2,
        y=density,
        width=np.diff(edges),
        marker={"color": "#d9d9d9", "line": {"width": 0}},
        name="data (histogram)",
        hovertemplate="x %{x:.2f}<br>density %{y:.3f}<extra></extra>",
    )


# ---- a component collapsing onto one point ----


def plot_collapse_fit(history, iteration: int) -> go.Figure:
    """The 1-D data and the weighted component densities after ``iteration``; the y axis is
    held at the data's scale, so a spike taller than that is cut and its height written."""
    params = iteration_params(history)[iteration]
    x = history.X[:, 0]
    histogram = _histogram(x)
    grid = density_grid(x, params, 600)
    densities = _densities(params, grid)
    top = 1.6 * float(np.max(histogram.y))
    fig = go.Figure([histogram], layout={"template": THEME})
    for k, density in enumerate(densities):
        fig.add_trace(
            go.Scatter(
                x=grid,
                y=density,
                mode="lines",
                line={"color": component_colour(k), "width": 2.5},
                name=f"component {k + 1}: σ² = {params.covariances[k, 0, 0]:.3g}",
            )
        )
    for k in np.flatnonzero(densities.max(axis=1) > top):
        fig.add_annotation(
            x=float(params.means[k, 0]),
            y=top,
            text=f"peak {densities[k].max():.3g} ↑",
            showarrow=False,
            yanchor="bottom",
            font={"color": component_colour(int(k))},
        )
    step = history[2 * iteration]
    fig.update_layout(
        title={"text": f"After iteration {iteration}: ℓ = {step.log_likelihood:.2f}"},
        height=360,
        xaxis={"title": "x"},
        yaxis={"title": "density", "range": [0, 1.12 * top]},
        legend={"y": -0.25},
        bargap=0,
    )
    return fig


def plot_collapse_trace(history, iteration: int) -> go.Figure:
    """ℓ, N_k = n·π_k and each component's smallest variance (log scale) per iteration, the
    'singular' stop marked, a line at ``iteration``."""
    fits = iteration_params(history)
    t = np.arange(len(fits))
    n_samples = len(history.X)
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        subplot_titles=(
            "log-likelihood ℓ",
            "N_k = n·π_k: points per component",
            "smallest variance of each component",
        ),
    )
    levels = [history[0].log_likelihood, *(s.log_likelihood for s in history if s.phase == "M")]
    fig.add_trace(
        go.Scatter(x=t, y=levels, mode="lines+markers", line={"color": "#333"}, name="ℓ"),
        row=1,
        col=1,
    )
    if history.stop_reason != "converged":
        fig.add_trace(
            go.Scatter(
                x=[t[-1] + 1],
                y=[levels[-1]],
                mode="markers+text",
                marker={"symbol": "x", "size": 12, "color": STOP_COLOUR},
                text=[history.stop_reason],
                textposition="bottom left",
                name=f"stop: {history.stop_reason}",
            ),
            row=1,
            col=1,
        )
    for k in range(fits[0].n_components):
        colour = component_colour(k)
        counts = [n_samples * p.weights[k] for p in fits]
        smallest = [np.linalg.eigvalsh(p.covariances[k])[0] for p in fits]
        for row, values in ((2, counts), (3, smallest)):
            fig.add_trace(
                go.Scatter(
                    x=t,
                    y=values,
                    mode="lines+markers",
                    line={"color": colour},
                    name=f"component {k + 1}",
                    showlegend=row == 2,
                    legendgroup=str(k),
                ),
                row=row,
                col=1,
            )
    fig.add_vline(x=iteration, line={"color": "#888", "dash": "dot"}, row="all", col=1)
    fig.update_yaxes(type="log", exponentformat="power", row=3, col=1)
    fig.update_xaxes(title="iteration", row=3, col=1)
    fig.update_layout(template=THEME, height=560, legend={"y": -0.12})
    fig.update_annotations(font={"size": 12})
    return fig


def _stop_title(name: str, runs) -> str:
    """Two lines: the remedy, and how its (last) run stopped."""
    last = runs[-1]
    iterations = sum(run.n_iterations for run in runs)
    restarts = f", {counted(len(runs) - 1, 'restart')}" if len(runs) > 1 else ""
    return (
        f"{name}<br>{STOP_WORDS[last.stop_reason]} after {counted(iterations, 'iteration')}"
        f"{restarts}, "
        f"ℓ{NBSP}={NBSP}{last[-1].log_likelihood:.2f}"
    )


def plot_remedies(remedies: dict) -> go.Figure:
    """Each remedy's final fit side by side (``remedies``: name → its runs, in order)."""
    names = list(remedies)
    X = remedies[names[0]][-1].X
    finals = [remedies[name][-1].final_params for name in names]
    return plot_fits(X, finals, [_stop_title(name, remedies[name]) for name in names], height=300)


# ---- slow convergence ----


def plot_log_error(study, title: str) -> go.Figure:
    """log ‖θ_t − θ̂‖ against t: a straight line of slope log λ in EM's linear phase; the
    Jacobian's λ drawn through the middle of that phase."""
    t = np.arange(len(study.errors))
    positive = study.errors > 0
    fig = go.Figure(
        go.Scatter(
            x=t[positive],
            y=study.errors[positive],
            mode="lines",
            line={"color": component_colour(0), "width": 2.5},
            name="‖θ_t − θ̂‖ of the run",
        ),
        layout={"template": THEME},
    )
    first, last = study.window
    if last > first:
        middle = (first + last) // 2
        span = np.array([first, last])
        fig.add_trace(
            go.Scatter(
                x=span,
                y=study.errors[middle] * study.jacobian_rate ** (span - middle),
                mode="lines",
                line={"color": "#222", "dash": "dash"},
                name=f"slope log λ, λ = {study.jacobian_rate:.4f} (Jacobian)",
            )
        )
        fig.add_vrect(x0=first, x1=last, fillcolor="#eee", line={"width": 0}, layer="below")
    fig.update_layout(
        title={"text": title},
        height=360,
        xaxis={"title": "iteration t"},
        yaxis={"title": "‖θ_t − θ̂‖", "type": "log", "exponentformat": "power", "dtick": 1},
        legend={"y": -0.25},
    )
    return fig


def plot_separation_rates(separations, rates, selected: float, X, params) -> go.Figure:
    """Left: the rate at θ̂ against the distance of the two centres, ``selected`` marked.
    Right: the data of ``selected`` and its fit ``params``."""
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.5, 0.5],
        horizontal_spacing=0.12,
        subplot_titles=("EM's rate λ at the maximum", f"the data at distance {selected:g}"),
    )
    fig.add_trace(
        go.Scatter(
            x=list(separations),
            y=rates,
            mode="lines+markers",
            line={"color": "#333"},
            name="λ",
            showlegend=False,
            hovertemplate="distance %{x}<br>λ = %{y:.4f}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    chosen = int(np.argmin(np.abs(np.asarray(separations) - selected)))
    fig.add_trace(
        go.Scatter(
            x=[separations[chosen]],
            y=[rates[chosen]],
            mode="markers",
            marker={"size": 14, "color": STOP_COLOUR},
            name=f"λ = {rates[chosen]:.4f}",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    x = X[:, 0]
    fig.add_trace(_histogram(x), row=1, col=2)
    grid = density_grid(x, params, 400)
    for k, density in enumerate(_densities(params, grid)):
        fig.add_trace(
            go.Scatter(
                x=grid,
                y=density,
                mode="lines",
                line={"color": component_colour(k), "width": 2.5},
                showlegend=False,
                hoverinfo="skip",
            ),
            row=1,
            col=2,
        )
    fig.add_hline(y=1, line={"color": "#888", "dash": "dot"}, row=1, col=1)
    fig.update_xaxes(title="distance between the centres (in σ)", row=1, col=1)
    fig.update_yaxes(title="λ", range=[0, 1.05], row=1, col=1)
    fig.update_xaxes(title="x", row=1, col=2)
    fig.update_layout(template=THEME, height=340, bargap=0, showlegend=False)
    fig.update_annotations(font={"size": 12})
    return fig


# ---- stopping too early ----


def _fit_outline(params, k: int, dash: str, name: str, X) -> go.Scatter:
    """Component ``k`` of ``params``: its 2σ ellipse (2-D) or weighted density (1-D)."""
    if X.shape[1] == 1:
        grid = density_grid(X[:, 0], params, 400)
        y = _densities(params, grid)[k]
        x = grid
    else:
        outline = ellipse_xy(params.means[k, :2], params.covariances[k, :2, :2], 2.0)
        x, y = outline[:, 0], outline[:, 1]
    return go.Scatter(
        x=x,
        y=y,
        mode="lines",
        line={"color": component_colour(k), "width": 2.5, "dash": dash},
        name=name,
        legendgroup=name,
        showlegend=k == 0,
        hoverinfo="skip",
    )


def plot_early_stop(early) -> go.Figure:
    """The fit where a loose tol stops (dashed) over the fit at the tight tol (solid), same
    start; in 2-D an arrow from each loose mean to its tight one."""
    X = early.tight.X[:, :2]
    loose, tight = early.loose_params, early.tight.final_params
    loose_name = f"tol = {early.loose_tol:g}: iteration {early.loose_iteration}"
    tight_name = f"tol = {early.tight.tol:g}: iteration {early.tight.n_iterations}"
    if X.shape[1] == 1:
        traces = [_histogram(X[:, 0])]
    else:
        traces = [background_points(X, drawn_points(len(X), 600))]
    for k in range(tight.n_components):
        traces.append(_fit_outline(tight, k, "solid", tight_name, X))
        traces.append(_fit_outline(loose, k, "dash", loose_name, X))
    fig = go.Figure(traces, layout={"template": THEME})
    if X.shape[1] == 2:
        for k in range(tight.n_components):
            fig.add_annotation(
                x=tight.means[k, 0],
                y=tight.means[k, 1],
                ax=loose.means[k, 0],
                ay=loose.means[k, 1],
                xref="x",
                yref="y",
                axref="x",
                ayref="y",
                showarrow=True,
                arrowhead=2,
                arrowcolor=component_colour(k),
            )
        fig.update_yaxes(scaleanchor="x", constrain="domain")
    fig.update_layout(
        title={"text": f"ℓ rises by {early.log_likelihood_gain:.4g} after the early stop"},
        height=420,
        legend={"y": -0.12},
        bargap=0,
    )
    return fig


# ---- the wrong number of components ----


def plot_component_counts(fits) -> go.Figure:
    """Side by side, the fits of ``fits`` (a list of (K, History)), each titled with K, ℓ and
    how it stopped."""
    X = fits[0][1].X
    titles = [
        f"K = {k}<br>ℓ{NBSP}={NBSP}{history[-1].log_likelihood:.1f}, "
        f"{STOP_WORDS[history.stop_reason]}"
        for k, history in fits
    ]
    return plot_fits(X, [history.final_params for _, history in fits], titles, height=300)
