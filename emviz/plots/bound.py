"""Figures of the lower bound: ℓ = ELBO + KL per step, Bishop's Fig. 9.14 along a slice,
Q and H(q), Jensen's inequality for one point, the bound under the two-mean surface, the audit.

Every function returns a `go.Figure` and displays nothing.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from emviz.plots.palette import component_colour

LL_COLOUR = "#222222"
ELBO_COLOUR = "#0072B2"
KL_COLOUR = "#D55E00"
Q_COLOUR = "#009E73"
ENTROPY_COLOUR = "#CC79A7"
NEXT_BOUND_COLOUR = "#E69F00"
_GRID = {"showgrid": True, "gridcolor": "#eee"}


def _padded(values, pad_fraction: float = 0.08) -> list[float]:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    low, high = float(values.min()), float(values.max())
    pad = pad_fraction * (high - low) if high > low else max(1e-3 * abs(high), 1e-6)
    return [low - pad, high + pad]


def _later(values: np.ndarray) -> np.ndarray:
    """Values from step 1 on when there are any: the uniform q of step 0 is far off."""
    return values[1:] if len(values) > 1 else values


def plot_decomposition(history, index: int) -> go.Figure:
    """ln p(X|θ) = ELBO + KL at every half-step as stacked bars, and KL alone below.

    The ELBO bar rises from the bottom of the axis, the KL bar sits on it and ends at ℓ
    (a black tick). After an E-step KL = 0 and the bound touches ℓ. The axes are scaled to
    steps 1 onward; step 0's bars (q uniform) may be cut, their hover gives the numbers.
    """
    steps = np.arange(len(history))
    ll, elbo, kl = (history.column(name) for name in ("log_likelihood", "elbo", "kl"))
    phases = [step.phase for step in history.steps]
    y_range = _padded(np.concatenate([_later(ll), _later(elbo)]), 0.15)
    floor = y_range[0]
    opacity = np.where(steps == index, 1.0, 0.5)
    hover = [
        f"step {i} ({p})<br>ln p(X|θ) = {a:.6f}<br>ELBO = {b:.6f}<br>KL = {c:.6g}"
        for i, p, a, b, c in zip(steps, phases, ll, elbo, kl)
    ]
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.68, 0.32], vertical_spacing=0.08
    )
    bars = (  # (row, heights, bottoms, name, colour)
        (1, np.maximum(elbo - floor, 0.0), floor, "ELBO  L(q, θ)", ELBO_COLOUR),
        # ends at ℓ even when the ELBO bar is cut at the axis (then it is shorter than KL)
        (1, ll - np.maximum(elbo, floor), np.maximum(elbo, floor), "KL(q ‖ p(Z|X,θ))", KL_COLOUR),
        (2, kl, 0.0, "KL", KL_COLOUR),
    )
    for row, heights, bottoms, name, colour in bars:
        fig.add_trace(
            go.Bar(
                x=steps,
                y=heights,
                base=bottoms,
                name=name,
                showlegend=row == 1,
                marker={"color": colour, "opacity": opacity},
                hovertext=hover,
                hoverinfo="text",
            ),
            row=row,
            col=1,
        )
    fig.add_trace(
        go.Scatter(
            x=steps,
            y=ll,
            mode="markers",
            name="ln p(X | θ)",
            marker={"symbol": "line-ew-open", "size": 16, "color": LL_COLOUR, "line": {"width": 2}},
            hovertext=hover,
            hoverinfo="text",
        ),
        row=1,
        col=1,
    )
    kl_top = float(np.max(_later(kl))) if np.max(_later(kl)) > 0 else 1.0
    fig.update_layout(
        barmode="overlay",
        bargap=0.15,
        height=430,
        margin={"l": 70, "r": 10, "t": 40, "b": 40},
        plot_bgcolor="white",
        title={"text": "ln p(X | θ) = ELBO + KL at every half-step", "font": {"size": 14}},
        legend={"orientation": "h", "y": -0.18, "x": 0, "font": {"size": 11}},
    )
    fig.update_yaxes(title="nats", range=y_range, row=1, col=1, **_GRID)
    fig.update_yaxes(title="KL", range=[0, 1.1 * kl_top], row=2, col=1, **_GRID)
    for step in np.flatnonzero(elbo < floor):  # cut bars: say so, with the true numbers
        fig.add_annotation(
            x=step,
            y=floor,
            yref="y",
            text=f"step {step}: ELBO {elbo[step]:.1f}<br>(below the axis), KL {kl[step]:.4g}",
            showarrow=True,
            arrowhead=2,
            ax=40,
            ay=-40,
            font={"size": 10},
            bgcolor="rgba(255,255,255,0.85)",
        )
    fig.update_xaxes(title="half-step", row=2, col=1, **_GRID)
    fig.add_vline(x=index, line={"color": "#222", "width": 1, "dash": "dot"})
    return fig


def plot_bound_slice(bound_slice) -> go.Figure:
    """Bishop PRML Fig. 9.14 from the run: ℓ(θ(t)) and the bound(s) along a 1-D slice.

    ``bound_slice`` is an `emviz.analysis.bound.BoundSlice`.
    """
    s = bound_slice
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=s.ts,
            y=s.log_likelihood,
            mode="lines",
            name="ln p(X | θ)",
            line={"color": LL_COLOUR, "width": 3},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=s.ts,
            y=s.bound,
            mode="lines",
            name="L(q, θ), q = p(Z | X, θ_old)",
            line={"color": ELBO_COLOUR, "width": 2.5},
        )
    )
    if s.next_bound is not None:
        fig.add_trace(
            go.Scatter(
                x=s.ts,
                y=s.next_bound,
                mode="lines",
                name="next bound, q = p(Z | X, θ_new)",
                line={"color": NEXT_BOUND_COLOUR, "width": 2, "dash": "dash"},
            )
        )
    best = int(np.nanargmax(s.bound))
    fig.add_trace(
        go.Scatter(
            x=[s.ts[best]],
            y=[s.bound[best]],
            mode="markers",
            name="maximum of the bound",
            marker={"symbol": "star", "size": 14, "color": ELBO_COLOUR},
        )
    )
    markers = [(0.0, "θ_old", s.ll_at_old)]
    if s.t_new is not None:
        markers.append((s.t_new, "θ_new", s.ll_at_new))
    for t, label, value in markers:
        fig.add_vline(x=t, line={"color": "#888", "width": 1, "dash": "dot"})
        fig.add_annotation(x=t, y=value, text=label, showarrow=True, arrowhead=2, ax=0, ay=-30)
    finite = np.concatenate([s.log_likelihood, s.bound])
    top = float(np.nanmax(finite))
    gain = max(top - s.ll_at_old, 1e-6 * abs(s.ll_at_old), 1e-9)
    fig.update_layout(
        height=420,
        margin={"l": 70, "r": 10, "t": 40, "b": 40},
        plot_bgcolor="white",
        title={"text": f"Along {s.label}: θ(t) = θ_old + t · direction", "font": {"size": 14}},
        xaxis={"title": "t", **_GRID},
        yaxis={"title": "nats", "range": [top - 5 * gain, top + 0.5 * gain], **_GRID},
        legend={"orientation": "h", "y": -0.2, "x": 0, "font": {"size": 11}},
    )
    return fig


def plot_q_and_entropy(history, index: int) -> go.Figure:
    """Q(θ, q) and H(q) over the half-steps, with ELBO = Q + H and ℓ above them."""
    steps = np.arange(len(history))
    columns = {
        name: history.column(name)
        for name in ("log_likelihood", "elbo", "expected_log_joint", "entropy")
    }
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.6, 0.4], vertical_spacing=0.1
    )
    for name, label, colour, dash in (
        ("log_likelihood", "ln p(X | θ)", LL_COLOUR, "solid"),
        ("elbo", "ELBO = Q + H", ELBO_COLOUR, "dash"),
        ("expected_log_joint", "Q(θ, q) = E_q[ln p(X, Z | θ)]", Q_COLOUR, "solid"),
    ):
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=columns[name],
                mode="lines+markers",
                name=label,
                line={"color": colour, "dash": dash, "width": 2},
                marker={"size": 5},
            ),
            row=1,
            col=1,
        )
    fig.add_trace(
        go.Scatter(
            x=steps,
            y=columns["entropy"],
            mode="lines+markers",
            name="H(q) = −E_q[ln q(Z)]",
            line={"color": ENTROPY_COLOUR, "width": 2},
            marker={"size": 5},
        ),
        row=2,
        col=1,
    )
    top = np.concatenate([_later(columns[n]) for n in ("log_likelihood", "expected_log_joint")])
    fig.update_yaxes(title="nats", range=_padded(top), row=1, col=1, **_GRID)
    fig.update_yaxes(title="H(q)", range=_padded(_later(columns["entropy"])), row=2, col=1, **_GRID)
    fig.update_xaxes(title="half-step", row=2, col=1, **_GRID)
    fig.add_vline(x=index, line={"color": "#222", "width": 1, "dash": "dot"})
    fig.update_layout(
        height=420,
        margin={"l": 70, "r": 10, "t": 40, "b": 40},
        plot_bgcolor="white",
        title={"text": "Q and the entropy of q: ELBO = Q + H", "font": {"size": 14}},
        legend={"orientation": "h", "y": -0.2, "x": 0, "font": {"size": 11}},
    )
    return fig


def plot_jensen(terms) -> go.Figure:
    """Jensen for one point: ln E_q[u] ≥ E_q[ln u] with u_z = p(x, z | θ) / q(z).

    ``terms`` is an `emviz.analysis.bound.JensenTerms`. Above E_q[u] the curve gives
    ln E_q[u]; the q-weighted average of the ln u_z, E_q[ln u], is the bound; the vertical
    line between them is the Jensen gap. E_q[u] = p(x) when q covers every state; when q
    leaves some out (a one-hot q, say), ln p(x) lies further right on the curve and the KL
    (ln p(x) − E_q[ln u]) is drawn there, beside the Jensen gap.
    """
    used = np.flatnonzero(terms.q > 0)
    log_ratios = terms.log_joint[used] - np.log(terms.q[used])  # exact even where u underflows
    ratios = np.exp(log_ratios)
    mean_ratio, evidence = float(np.exp(terms.log_mean_ratio)), float(np.exp(terms.log_evidence))
    # a collapsed component can make a ratio (or all of them) underflow to 0: keep the axis
    # inside the positive floats
    tiny = np.finfo(float).tiny
    right = max(1.25 * max(float(ratios.max()), evidence), 800 * tiny)
    # log-spaced so the curve reaches down to the smallest ratio (ln u → −∞ as u → 0)
    u = np.geomspace(max(min(float(ratios.min()), right / 400) / 2, tiny), right, 400)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=u,
            y=np.log(u),
            mode="lines",
            name="ln u",
            line={"color": "#888", "width": 2},
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=ratios,
            y=log_ratios,
            mode="markers",
            name="u_z = p(x, z) / q(z)",
            marker={
                "size": 10 + 30 * terms.q[used],
                "color": [component_colour(k) for k in used],
                "line": {"color": "#222", "width": 1},
            },
            hovertext=[
                f"z = {k + 1}: q = {terms.q[k]:.3f}, ln u = {log_ratio:.4f}"
                for k, log_ratio in zip(used, log_ratios)
            ],
            hoverinfo="text",
        )
    )
    covers = terms.log_evidence - terms.log_mean_ratio <= 1e-12 * max(1.0, abs(terms.log_evidence))
    mean_name = "ln p(x) = ln E_q[u]" if covers else "ln E_q[u]"
    for x, value, name, symbol, size, colour in (
        (mean_ratio, terms.log_mean_ratio, mean_name, "star", 16, LL_COLOUR),
        (mean_ratio, terms.bound, "E_q[ln u]", "diamond", 13, ELBO_COLOUR),
    ):
        fig.add_trace(_marker(x, value, f"{name} = {value:.4f}", symbol, size, colour))
    gap_name = "Jensen gap = KL" if covers else "Jensen gap ln E_q[u] − E_q[ln u]"
    fig.add_trace(
        _gap_line(
            mean_ratio, terms.bound, terms.log_mean_ratio, f"{gap_name} = {terms.jensen_gap:.4g}"
        )
    )
    if not covers:
        fig.add_trace(
            _marker(
                evidence,
                terms.log_evidence,
                f"ln p(x) = {terms.log_evidence:.4f} (q leaves out part of the posterior)",
                "star",
                16,
                "#555",
            )
        )
        fig.add_trace(
            _gap_line(
                evidence,
                terms.bound,
                terms.log_evidence,
                f"KL = ln p(x) − E_q[ln u] = {terms.gap:.4g}",
                dash="dot",
            )
        )
    low = min(terms.bound, float(log_ratios.min()))
    high = float(np.log(right))
    pad = 0.1 * (high - low) if high > low else 1.0
    fig.update_layout(
        height=400,
        margin={"l": 60, "r": 10, "t": 40, "b": 40},
        plot_bgcolor="white",
        title={
            "text": "ln is concave: the average of the logs lies below the log of the average",
            "font": {"size": 14},
        },
        xaxis={"title": "u", "range": [-0.03 * right, right], **_GRID},
        yaxis={"title": "ln u", "range": [low - pad, high + pad], **_GRID},
        legend={"orientation": "h", "y": -0.22, "x": 0, "font": {"size": 11}},
    )
    return fig


def _marker(x: float, y: float, name: str, symbol: str, size: int, colour: str) -> go.Scatter:
    return go.Scatter(
        x=[x],
        y=[y],
        mode="markers",
        name=name,
        marker={"symbol": symbol, "size": size, "color": colour},
    )


def _gap_line(x: float, low: float, high: float, name: str, dash: str = "solid") -> go.Scatter:
    return go.Scatter(
        x=[x, x],
        y=[low, high],
        mode="lines",
        name=name,
        line={"color": KL_COLOUR, "width": 4, "dash": dash},
    )


def plot_bound_surface(mu1, mu2, log_likelihood, bound, theta_old, theta_new=None):
    """ℓ(μ1, μ2) and, under it, the bound L(q, μ1, μ2) for q = p(Z | X, θ_old), in 3-D.

    Values far below the interesting region are left out (NaN) so both surfaces keep a
    readable scale. ``theta_old``/``theta_new`` are (μ1, μ2, ℓ) triples.
    """
    log_likelihood, bound = np.asarray(log_likelihood), np.asarray(bound)
    floor = float(np.quantile(log_likelihood, 0.35))
    surfaces = (
        (log_likelihood, "ln p(X | μ1, μ2)", "Greys", 0.75),
        (bound, "L(q, μ1, μ2), q at θ_old", "Blues", 0.85),
    )
    fig = go.Figure()
    for values, name, colours, opacity in surfaces:
        fig.add_trace(
            go.Surface(
                x=mu1,
                y=mu2,
                z=np.where(values >= floor, values, np.nan),
                name=name,
                colorscale=colours,
                showscale=False,
                opacity=opacity,
                showlegend=True,
                hovertemplate=f"μ1 %{{x:.3f}}<br>μ2 %{{y:.3f}}<br>%{{z:.4f}}<extra>{name}</extra>",
            )
        )
    for point, label, colour in ((theta_old, "θ_old", KL_COLOUR), (theta_new, "θ_new", "#009E73")):
        if point is not None:
            fig.add_trace(
                go.Scatter3d(
                    x=[point[0]],
                    y=[point[1]],
                    z=[point[2]],
                    mode="markers+text",
                    text=[label],
                    name=label,
                    marker={"size": 6, "color": colour},
                )
            )
    fig.update_layout(
        height=560,
        margin={"l": 0, "r": 0, "t": 30, "b": 0},
        scene={
            "xaxis_title": "μ1",
            "yaxis_title": "μ2",
            "zaxis_title": "nats",
            "zaxis": {
                "range": [
                    floor,
                    float(np.nanmax(log_likelihood))
                    + 0.05 * abs(float(np.nanmax(log_likelihood)) - floor),
                ]
            },
        },
        legend={"orientation": "h", "y": 0, "x": 0},
    )
    return fig


def plot_audit(rows) -> go.Figure:
    """ℓ after every iteration; iterations where it fell in red with their cause."""
    if not rows:
        return go.Figure(layout={"title": {"text": "No completed iteration to audit"}})
    iterations = [0, *[row.iteration for row in rows]]
    values = [rows[0].before, *[row.after for row in rows]]
    fig = go.Figure(
        go.Scatter(
            x=iterations,
            y=values,
            mode="lines",
            name="ln p(X | θ)",
            line={"color": "#999", "width": 1.5},
            hoverinfo="skip",
        )
    )
    for ok, colour, label, symbol in (
        (True, Q_COLOUR, "did not fall", "circle"),
        (False, KL_COLOUR, "FELL", "x"),
    ):
        picked = [row for row in rows if row.ok == ok]
        fig.add_trace(
            go.Scatter(
                x=[row.iteration for row in picked],
                y=[row.after for row in picked],
                mode="markers",
                name=f"ℓ {label}",
                marker={"color": colour, "size": 9 if ok else 13, "symbol": symbol},
                hovertext=[
                    f"iteration {row.iteration}: change {row.change:+.6g}"
                    + (f"<br>{row.cause}" if row.cause else "")
                    for row in picked
                ],
                hoverinfo="text",
            )
        )
    fig.update_layout(
        height=320,
        margin={"l": 70, "r": 10, "t": 40, "b": 40},
        plot_bgcolor="white",
        title={"text": "ln p(X | θ) after each iteration", "font": {"size": 14}},
        xaxis={"title": "iteration", **_GRID},
        yaxis={
            "title": "nats",
            "range": _padded(values[1:] if len(values) > 2 else values),
            **_GRID,
        },
        legend={"orientation": "h", "y": -0.3, "x": 0, "font": {"size": 11}},
    )
    return fig
