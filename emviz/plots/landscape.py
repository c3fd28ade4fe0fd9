"""Figures of the two-mean log-likelihood surface: contour or 3-D, critical points, paths."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

PATH_COLOURS = {"EM": "#D55E00", "gradient ascent": "#0072B2", "Newton–Raphson": "#009E73"}
_KIND_SYMBOLS = {"maximum": "star", "saddle": "x", "minimum": "circle-open"}


def _critical_label(point) -> str:
    return (
        f"{point.kind} ({point.location[0]:.3f}, {point.location[1]:.3f})<br>"
        f"ℓ = {point.log_likelihood:.3f}<br>Hessian eigenvalues "
        f"{point.hessian_eigenvalues[0]:.2f}, {point.hessian_eigenvalues[1]:.2f}"
    )


def _surface_values(mu1, mu2, grid) -> dict:
    """x, y, z and colours shared by the contour and the 3-D surface."""
    floor = np.percentile(grid, 5)  # the far corners fall steeply; keep the colours for the rest
    return {"x": mu1, "y": mu2, "z": np.maximum(grid, floor), "colorscale": "Viridis"}


def _plural(kind: str, count: int) -> str:
    if count == 1:
        return kind
    return {"maximum": "maxima", "minimum": "minima"}.get(kind, kind + "s")


def _critical_traces(points) -> list[go.Scatter]:
    traces = []
    for kind, symbol in _KIND_SYMBOLS.items():
        chosen = [p for p in points if p.kind == kind]
        if not chosen:
            continue
        traces.append(
            go.Scatter(
                x=[p.location[0] for p in chosen],
                y=[p.location[1] for p in chosen],
                mode="markers+text",
                name=_plural(kind, len(chosen)),
                marker={
                    "symbol": symbol,
                    "size": 16,
                    "color": "#111",
                    "line": {"width": 2, "color": "white"},
                },
                text=[f"{p.kind}<br>ℓ={p.log_likelihood:.1f}" for p in chosen],
                textposition="top right",
                textfont={"size": 12, "color": "#111"},
                hovertext=[_critical_label(p) for p in chosen],
                hoverinfo="text",
            )
        )
    return traces


def _path_traces(paths) -> list[go.Scatter]:
    return [
        go.Scatter(
            x=path.points[:, 0],
            y=path.points[:, 1],
            mode="lines+markers",
            name=f"{path.method} ({path.iterations} its)",
            line={"color": PATH_COLOURS.get(path.method, "#555"), "width": 2},
            marker={"size": 5},
            customdata=np.column_stack([np.arange(len(path.points)), path.log_likelihoods]),
            hovertemplate=(
                f"{path.method}<br>iteration %{{customdata[0]}}<br>"
                "μ = (%{x:.4f}, %{y:.4f})<br>ℓ = %{customdata[1]:.4f}<extra></extra>"
            ),
        )
        for path in paths
    ]


def plot_landscape(mu1, mu2, grid, points=(), paths=(), *, start=None) -> go.Figure:
    """Contour map of ℓ(μ1, μ2) with the critical points, the diagonal and method paths.

    ``grid`` has shape (len(mu2), len(mu1)), as `log_likelihood_grid` returns it.
    """
    fig = go.Figure(
        go.Contour(
            **_surface_values(mu1, mu2, grid),
            ncontours=40,
            colorbar={"title": {"text": "ℓ(μ1, μ2)"}},
            name="log-likelihood",
            hovertemplate="μ1=%{x:.3f}<br>μ2=%{y:.3f}<br>ℓ=%{z:.3f}<extra></extra>",
            line={"width": 0.5},
        )
    )
    low, high = min(mu1[0], mu2[0]), max(mu1[-1], mu2[-1])
    fig.add_trace(
        go.Scatter(
            x=[low, high],
            y=[low, high],
            mode="lines",
            name="μ1 = μ2",
            line={"color": "white", "dash": "dash", "width": 1.5},
            hoverinfo="skip",
        )
    )
    for trace in (*_critical_traces(points), *_path_traces(paths)):
        fig.add_trace(trace)
    if start is not None:
        fig.add_trace(
            go.Scatter(
                x=[start[0]],
                y=[start[1]],
                mode="markers",
                name="start",
                marker={
                    "symbol": "circle",
                    "size": 12,
                    "color": "white",
                    "line": {"width": 2, "color": "#111"},
                },
            )
        )
    fig.update_layout(
        xaxis={"title": "μ1", "range": [mu1[0], mu1[-1]], "zeroline": False, "constrain": "domain"},
        yaxis={
            "title": "μ2",
            "range": [mu2[0], mu2[-1]],
            "scaleanchor": "x",
            "zeroline": False,
            "constrain": "domain",
        },
        height=620,
        margin={"l": 50, "r": 10, "t": 30, "b": 40},
        legend={"orientation": "h", "y": -0.12},
        title={"text": "Click the map to start all three methods there", "font": {"size": 14}},
    )
    return fig


def plot_landscape_3d(mu1, mu2, grid, points=(), paths=()) -> go.Figure:
    """The same surface in 3-D, with critical points and paths lifted to their ℓ."""
    fig = go.Figure(
        go.Surface(
            **_surface_values(mu1, mu2, grid),
            opacity=0.9,
            name="ℓ(μ1, μ2)",
            showscale=False,
        )
    )
    for point in points:
        fig.add_trace(
            go.Scatter3d(
                x=[point.location[0]],
                y=[point.location[1]],
                z=[point.log_likelihood],
                mode="markers",
                name=point.kind,
                marker={"size": 6, "color": "#111"},
                hovertext=_critical_label(point),
                hoverinfo="text",
            )
        )
    for path in paths:
        fig.add_trace(
            go.Scatter3d(
                x=path.points[:, 0],
                y=path.points[:, 1],
                z=path.log_likelihoods,
                mode="lines",
                name=path.method,
                line={"color": PATH_COLOURS.get(path.method, "#555"), "width": 6},
            )
        )
    fig.update_layout(
        height=620,
        margin={"l": 0, "r": 0, "t": 30, "b": 0},
        scene={"xaxis_title": "μ1", "yaxis_title": "μ2", "zaxis_title": "ℓ"},
    )
    return fig


def plot_path_norms(paths, norm_of, *, title: str, y_title: str) -> go.Figure:
    """One positive quantity per iterate of each path, on a log scale.

    ``norm_of(path) -> (n_points,)`` gives the quantity (floored at 1e-17 for the log axis).
    """
    fig = go.Figure()
    for path in paths:
        fig.add_trace(
            go.Scatter(
                y=np.maximum(norm_of(path), 1e-17),
                mode="lines+markers",
                name=path.method,
                line={"color": PATH_COLOURS.get(path.method, "#555")},
            )
        )
    fig.update_layout(
        yaxis={"type": "log", "title": y_title},
        xaxis={"title": "iteration"},
        height=320,
        margin={"l": 60, "r": 10, "t": 40, "b": 40},
        legend={"orientation": "h", "y": -0.25},
        title={"text": title, "font": {"size": 14}},
    )
    return fig


def plot_gradient_norms(paths) -> go.Figure:
    """|∇ℓ| along each path: EM only promises to drive it to zero."""
    return plot_path_norms(
        paths,
        lambda path: path.gradient_norms,
        title="Gradient norm along each path",
        y_title="|∇ℓ|",
    )
