"""The genetic-linkage page's figure: ℓ(θ) over (0, 1) with EM's iterates on it."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from emviz.plots.theme import THEME

CURVE_COLOUR = "#0072B2"
ITERATE_COLOUR = "#D55E00"
SHOWN_COLOUR = "#222222"
GRID = np.linspace(0.001, 0.999, 999)
MIN_DEPTH = 15.0  # nats below the maximum the ℓ(θ) panel shows at least


def _y_range(curve: np.ndarray, iterate_values: np.ndarray, top: float) -> list[float]:
    """From a little below the lowest iterate (but no lower than the curve goes on
    (0.02, 0.98)) to a little above the maximum: ℓ falls to −∞ at the ends, and a range
    reaching that far would flatten the curve where EM moves."""
    inner = curve[(GRID >= 0.02) & (GRID <= 0.98)]
    depth = max(top - float(np.min(iterate_values)), MIN_DEPTH / 3)
    low = max(top - 3 * depth, float(np.min(inner)))
    return [low, top + 0.12 * (top - low)]


def plot_linkage_likelihood(model, thetas, shown_theta: float | None = None) -> go.Figure:
    """Left: ℓ(θ) of ``model`` (a `GeneticLinkage`) over θ ∈ (0, 1), the iterates ``thetas``
    (θ_0, θ_1, …) marked and numbered on it, θ̂ as a dashed line and ``shown_theta`` (the
    θ of the step the page shows) ringed. Right: |θ_t − θ̂| on a log axis beside a line
    falling by the fraction of missing information per iteration."""
    thetas = np.asarray(thetas, dtype=np.float64)
    curve = model.log_likelihood_at(GRID)
    values = model.log_likelihood_at(thetas)
    mle = model.mle()
    rate = model.missing_fraction(mle)
    top = float(model.log_likelihood_at(mle))
    traces = [
        go.Scatter(
            x=GRID,
            y=curve,
            mode="lines",
            name="ℓ(θ)",
            line={"color": CURVE_COLOUR, "width": 2},
            hovertemplate="θ = %{x:.3f}<br>ℓ = %{y:.4f}<extra></extra>",
        ),
        go.Scatter(
            x=thetas,
            y=values,
            mode="markers+text",
            name="EM's iterates θ_t",
            text=[str(t) if t < 4 else "" for t in range(len(thetas))],
            textposition="top left",
            marker={"color": ITERATE_COLOUR, "size": 9, "line": {"color": "white", "width": 1}},
            customdata=np.arange(len(thetas)),
            hovertemplate="θ_%{customdata} = %{x:.9f}<br>ℓ = %{y:.6f}<extra></extra>",
        ),
    ]
    if shown_theta is not None:
        traces.append(
            go.Scatter(
                x=[shown_theta],
                y=[float(model.log_likelihood_at(shown_theta))],
                mode="markers",
                name="θ at the shown step",
                marker={
                    "color": "rgba(0,0,0,0)",
                    "size": 18,
                    "line": {"color": SHOWN_COLOUR, "width": 2},
                },
                hovertemplate="shown: θ = %{x:.9f}<extra></extra>",
            )
        )
    figure = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.62, 0.38],
        horizontal_spacing=0.12,
        subplot_titles=("ℓ(θ) and EM's iterates", "|θ_t − θ̂| (log scale)"),
    )
    for trace in traces:
        figure.add_trace(trace, row=1, col=1)
    for trace in _error_traces(thetas, mle, rate):
        figure.add_trace(trace, row=1, col=2)
    figure.add_vline(
        x=mle,
        line={"color": SHOWN_COLOUR, "dash": "dash", "width": 1},
        annotation_text=f"θ̂ = {mle:.6f}",
        annotation_position="bottom right",
        row=1,
        col=1,
    )
    figure.update_layout(template=THEME, height=440, legend={"y": -0.22})
    figure.update_xaxes(title_text="θ", range=[0, 1], row=1, col=1)
    figure.update_yaxes(title_text="ℓ(θ)", range=_y_range(curve, values, top), row=1, col=1)
    figure.update_xaxes(title_text="iteration t", row=1, col=2)
    figure.update_yaxes(title_text="|θ_t − θ̂|", type="log", exponentformat="power", row=1, col=2)
    return figure


def _error_traces(thetas: np.ndarray, mle: float, rate: float) -> list[go.Scatter]:
    """|θ_t − θ̂| against t on a log axis (errors of 0, as at θ̂ itself, left out), and the
    line of slope ``rate`` per iteration through the last of them: a straight line is linear
    convergence."""
    errors = np.abs(thetas - mle)
    steps = np.flatnonzero(errors > 0)
    traces = [
        go.Scatter(
            x=steps,
            y=errors[steps],
            mode="markers+lines",
            name="|θ_t − θ̂|",
            line={"color": ITERATE_COLOUR, "width": 1},
            marker={"color": ITERATE_COLOUR, "size": 7},
            hovertemplate="t = %{x}<br>|θ_t − θ̂| = %{y:.3e}<extra></extra>",
        )
    ]
    if len(steps) >= 2 and rate > 0:
        last = steps[-1]
        traces.append(
            go.Scatter(
                x=steps,
                y=errors[last] * rate ** (steps - last).astype(float),
                mode="lines",
                name=f"× {rate:.4f} per iteration",
                line={"color": CURVE_COLOUR, "width": 1.5, "dash": "dot"},
                hoverinfo="skip",
            )
        )
    return traces
