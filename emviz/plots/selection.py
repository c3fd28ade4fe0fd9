"""Figures of "Choosing K": a criterion against K per covariance type, training against
held-out log-likelihood, and the chosen mixture."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from emviz.plots.mixture import plot_mixture
from emviz.plots.theme import THEME

# one colour and marker per covariance type (Okabe–Ito): the marker tells them apart in grey
TYPE_STYLES = {
    "full": ("#0072B2", "circle"),
    "diag": ("#D55E00", "square"),
    "spherical": ("#009E73", "diamond"),
    "tied": ("#CC79A7", "triangle-up"),
}
CRITERION_NAMES = {"bic": "BIC", "aic": "AIC", "icl": "ICL"}
CHOSEN_COLOUR = "#222222"


def _values(fits, name: str) -> np.ndarray:
    """``name`` of each fit; NaN where there is none, which plotly leaves as a gap."""
    return np.array([np.nan if getattr(f, name) is None else getattr(f, name) for f in fits])


def _ks(fits) -> np.ndarray:
    return np.array([f.n_components for f in fits])


def _shown(selection, covariance_types) -> list[str]:
    types = selection.covariance_types if covariance_types is None else covariance_types
    return [t for t in selection.covariance_types if t in types]


def plot_criterion(selection, criterion: str = "bic", covariance_types=None) -> go.Figure:
    """``criterion`` ('bic', 'aic' or 'icl') against K, one line per covariance type, each
    type's lowest value ringed and the lowest of all (the chosen model) starred. A fit that
    failed leaves a gap."""
    label = CRITERION_NAMES[criterion]
    traces = []
    for covariance_type in _shown(selection, covariance_types):
        fits = selection.of_type(covariance_type)
        colour, symbol = TYPE_STYLES[covariance_type]
        values = _values(fits, criterion)
        traces.append(
            go.Scatter(
                x=_ks(fits),
                y=values,
                mode="lines+markers",
                name=covariance_type,
                line={"color": colour, "width": 2},
                marker={"color": colour, "symbol": symbol, "size": 8},
                legendgroup=covariance_type,
                hovertemplate=f"{covariance_type}, K = %{{x}}<br>{label} %{{y:.1f}}<extra></extra>",
            )
        )
        if np.isfinite(values).any():
            k = int(np.nanargmin(values))
            traces.append(_ring(fits[k].n_components, values[k], colour, covariance_type))
    chosen = selection.chosen(criterion, _shown(selection, covariance_types))
    if chosen is not None:
        traces.append(
            go.Scatter(
                x=[chosen.n_components],
                y=[chosen.criterion(criterion)],
                mode="markers",
                name=f"chosen: {chosen.covariance_type}, K = {chosen.n_components}",
                marker={"symbol": "star", "size": 18, "color": CHOSEN_COLOUR},
                hoverinfo="skip",
            )
        )
    return go.Figure(
        traces,
        layout={
            "template": THEME,
            "height": 380,
            "title": {"text": f"{label} against K (lower is better)"},
            "xaxis": {"title": "components K", "dtick": 1},
            "yaxis": {"title": label},
            "legend": {"y": -0.2},
        },
    )


def _ring(k: int, value: float, colour: str, group: str) -> go.Scatter:
    """An open circle around a type's lowest value (no legend entry of its own)."""
    return go.Scatter(
        x=[k],
        y=[value],
        mode="markers",
        marker={"symbol": "circle-open", "size": 20, "color": colour, "line": {"width": 2}},
        legendgroup=group,
        showlegend=False,
        hoverinfo="skip",
    )


def plot_held_out(selection, covariance_types=None) -> go.Figure:
    """ℓ per point of each training fit against K: on the training points (solid) and on the
    held-out points (dashed), one colour per covariance type, each held-out maximum ringed."""
    traces = []
    for covariance_type in _shown(selection, covariance_types):
        fits = selection.of_type(covariance_type)
        colour, symbol = TYPE_STYLES[covariance_type]
        for part, name, dash in (
            ("train_per_point", "training", "solid"),
            ("test_per_point", "held out", "dash"),
        ):
            traces.append(
                go.Scatter(
                    x=_ks(fits),
                    y=_values(fits, part),
                    mode="lines+markers",
                    name=f"{covariance_type}, {name}",
                    line={"color": colour, "width": 2, "dash": dash},
                    marker={"color": colour, "symbol": symbol, "size": 7},
                    legendgroup=covariance_type,
                    hovertemplate=(
                        f"{covariance_type}, K = %{{x}}<br>ℓ / n on the {name} points "
                        "%{y:.4f}<extra></extra>"
                    ),
                )
            )
        held_out = _values(fits, "test_per_point")
        if np.isfinite(held_out).any():
            k = int(np.nanargmax(held_out))
            traces.append(_ring(fits[k].n_components, held_out[k], colour, covariance_type))
    return go.Figure(
        traces,
        layout={
            "template": THEME,
            "height": 400,
            "title": {
                "text": f"Log-likelihood per point: {selection.n_train} training points, "
                f"{selection.n_test} held out"
            },
            "xaxis": {"title": "components K", "dtick": 1},
            "yaxis": {"title": "ℓ / n"},
            "legend": {"y": -0.2},
        },
    )


def plot_chosen(history, fit, criterion: str = "bic") -> go.Figure:
    """The chosen mixture drawn as the step page draws a step: ``history`` is a run started
    at ``fit.params`` (`emviz.runs.chosen_history`), shown at its first E-step, where the
    parameters are still the fit's and the colours are their responsibilities."""
    figure = plot_mixture(history, 1)
    name = CRITERION_NAMES[criterion]
    figure.update_layout(
        # four short lines: the figure sits in a narrow column beside the criterion chart
        title_text=(
            f"Chosen by {name}:<br>K = {fit.n_components}, {fit.covariance_type} covariances"
            f"<br>{name} = {fit.criterion(criterion):.1f}<br>ℓ = {fit.log_likelihood:.1f}"
        ),
        title_font_size=13,
        title_subtitle_text="",  # a sample's note is too wide for the column: said below it
        margin_t=100,
        showlegend=False,  # the step page's legend: colours are components, mixed by q
        height=440,
    )
    return figure
