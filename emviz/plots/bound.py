"""Figures of the lower bound: ℓ = ELBO + KL per step, Bishop's Fig. 9.14 along a slice,
Q and H(q), Jensen's inequality for one point, the bound under the two-mean surface, the audit.

Every function returns a `go.Figure` and displays nothing.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from emviz.analysis.explain import readable
from emviz.convergence import ConvergenceMonitor
from emviz.plots.palette import component_colour
from emviz.plots.theme import THEME

LL_COLOUR = "#222222"
ELBO_COLOUR = "#0072B2"
KL_COLOUR = "#D55E00"
Q_COLOUR = "#009E73"
ENTROPY_COLOUR = "#CC79A7"
NEXT_BOUND_COLOUR = "#E69F00"


def _padded(values, pad_fraction: float = 0.08) -> list[float]:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    low, high = float(values.min()), float(values.max())
    pad = pad_fraction * (high - low) if high > low else max(1e-3 * abs(high), 1e-6)
    return [low - pad, high + pad]


def _later(values: np.ndarray) -> np.ndarray:
    """Values from step 1 on when there are any: the uniform q of step 0 is far off."""
    return values[1:] if len(values) > 1 else values


def _figure(traces: list[dict], layout: dict) -> go.Figure:
    """One constructor call from plain dicts: plotly's per-property validation (every
    add_trace, update_layout, make_subplots) costs more than the figure's data."""
    return go.Figure({"data": traces, "layout": {"template": THEME, **layout}}, _validate=False)


def _two_rows(top_share: float, spacing: float, x_title: str) -> dict:
    """Layout axes of two rows sharing the x axis (what make_subplots builds): traces of the
    lower row use ``xaxis="x2", yaxis="y2"``."""
    lower = (1.0 - spacing) * (1.0 - top_share)
    return {
        "xaxis": {"anchor": "y", "domain": [0, 1], "matches": "x2", "showticklabels": False},
        "xaxis2": {"anchor": "y2", "domain": [0, 1], "title": {"text": x_title}},
        "yaxis": {"anchor": "x", "domain": [lower + spacing, 1.0]},
        "yaxis2": {"anchor": "x2", "domain": [0.0, lower]},
    }


def _cursor_lines(index: int, axes: tuple[str, ...] = ("",)) -> list[dict]:
    """A dotted vertical line at step ``index`` across each subplot (x/y axis suffixes)."""
    return [
        {
            "type": "line",
            "xref": f"x{axis}",
            "yref": f"y{axis} domain",
            "x0": index,
            "x1": index,
            "y0": 0,
            "y1": 1,
            "line": {"color": "#222", "width": 1, "dash": "dot"},
        }
        for axis in axes
    ]


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
    bars = (  # (axes suffix, heights, bottoms, name, colour)
        ("", np.maximum(elbo - floor, 0.0), floor, "ELBO  L(q, θ)", ELBO_COLOUR),
        # ends at ℓ even when the ELBO bar is cut at the axis (then it is shorter than KL)
        ("", ll - np.maximum(elbo, floor), np.maximum(elbo, floor), "KL(q ‖ p(Z|X,θ))", KL_COLOUR),
        ("2", kl, 0.0, "KL", KL_COLOUR),
    )
    traces = [
        {
            "type": "bar",
            "x": steps,
            "y": heights,
            "base": bottoms,
            "name": name,
            "showlegend": axes == "",
            "marker": {"color": colour, "opacity": opacity},
            "hovertext": hover,
            "hoverinfo": "text",
            "xaxis": f"x{axes}",
            "yaxis": f"y{axes}",
        }
        for axes, heights, bottoms, name, colour in bars
    ]
    traces.append(
        {
            "type": "scatter",
            "x": steps,
            "y": ll,
            "mode": "markers",
            "name": "ln p(X | θ)",
            "marker": {
                "symbol": "line-ew-open",
                "size": 16,
                "color": LL_COLOUR,
                "line": {"width": 2},
            },
            "hovertext": hover,
            "hoverinfo": "text",
        }
    )
    kl_top = float(np.max(_later(kl))) if np.max(_later(kl)) > 0 else 1.0
    layout = _two_rows(0.68, 0.08, "half-step")
    layout["yaxis"].update(title={"text": "nats"}, range=y_range)
    layout["yaxis2"].update(title={"text": "KL"}, range=[0, 1.1 * kl_top])
    layout.update(
        barmode="overlay",
        bargap=0.15,
        height=430,
        title={"text": "ln p(X | θ) = ELBO + KL at every half-step"},
        legend={"y": -0.18},
        shapes=_cursor_lines(index, ("", "2")),
        annotations=[  # cut bars: say so, with the true numbers
            {
                "x": step,
                "y": floor,
                "xref": "x",
                "yref": "y",
                "text": f"step {step}: ELBO {elbo[step]:.1f}<br>(below the axis), "
                f"KL {readable(kl[step], 4)}",
                "showarrow": True,
                "arrowhead": 2,
                "ax": 40,
                "ay": -40,
                "font": {"size": 10},
                "bgcolor": "rgba(255,255,255,0.85)",
            }
            for step in np.flatnonzero(elbo < floor)
        ],
    )
    return _figure(traces, layout)


def _line(x, y, name: str, colour: str, width: float, dash: str = "solid", **extra) -> dict:
    return {
        "type": "scatter",
        "x": x,
        "y": y,
        "mode": "lines",
        "name": name,
        "line": {"color": colour, "width": width, "dash": dash},
        **extra,
    }


def plot_bound_slice(bound_slice) -> go.Figure:
    """Bishop PRML Fig. 9.14 from the run: ℓ(θ(t)) and the bound(s) along a 1-D slice.

    ``bound_slice`` is an `emviz.analysis.bound.BoundSlice`.
    """
    s = bound_slice
    traces = [
        _line(s.ts, s.log_likelihood, "ln p(X | θ)", LL_COLOUR, 3),
        _line(s.ts, s.bound, "L(q, θ), q = p(Z | X, θ_old)", ELBO_COLOUR, 2.5),
    ]
    if s.next_bound is not None:
        traces.append(
            _line(
                s.ts, s.next_bound, "next bound, q = p(Z | X, θ_new)", NEXT_BOUND_COLOUR, 2, "dash"
            )
        )
    best = int(np.nanargmax(s.bound))
    traces.append(
        {
            "type": "scatter",
            "x": [s.ts[best]],
            "y": [s.bound[best]],
            "mode": "markers",
            "name": "maximum of the bound",
            "marker": {"symbol": "star", "size": 14, "color": ELBO_COLOUR},
        }
    )
    markers = [(0.0, "θ_old", s.ll_at_old)]
    if s.t_new is not None:
        markers.append((s.t_new, "θ_new", s.ll_at_new))
    finite = np.concatenate([s.log_likelihood, s.bound])
    top = float(np.nanmax(finite))
    gain = max(top - s.ll_at_old, 1e-6 * abs(s.ll_at_old), 1e-9)
    lines = [
        {**line, "line": {"color": "#888", "width": 1, "dash": "dot"}}
        for t, _, _ in markers
        for line in _cursor_lines(t)
    ]
    layout = {
        "height": 420,
        "title": {"text": f"Along {s.label}: θ(t) = θ_old + t · direction"},
        "xaxis": {"title": {"text": "t"}},
        "yaxis": {"title": {"text": "nats"}, "range": [top - 5 * gain, top + 0.5 * gain]},
        "legend": {"y": -0.2},
        "shapes": lines,
        "annotations": [
            {
                "x": t,
                "y": value,
                "text": label,
                "showarrow": True,
                "arrowhead": 2,
                "ax": 0,
                "ay": -30,
            }
            for t, label, value in markers
        ],
    }
    return _figure(traces, layout)


def plot_q_and_entropy(history, index: int) -> go.Figure:
    """Q(θ, q) and H(q) over the half-steps, with ELBO = Q + H and ℓ above them."""
    steps = np.arange(len(history))
    columns = {
        name: history.column(name)
        for name in ("log_likelihood", "elbo", "expected_log_joint", "entropy")
    }
    traces = [
        _line(
            steps,
            columns[name],
            label,
            colour,
            2,
            dash,
            mode="lines+markers",
            marker={"size": 5},
            xaxis=f"x{axes}",
            yaxis=f"y{axes}",
        )
        for name, label, colour, dash, axes in (
            ("log_likelihood", "ln p(X | θ)", LL_COLOUR, "solid", ""),
            ("elbo", "ELBO = Q + H", ELBO_COLOUR, "dash", ""),
            ("expected_log_joint", "Q(θ, q) = E_q[ln p(X, Z | θ)]", Q_COLOUR, "solid", ""),
            ("entropy", "H(q) = −E_q[ln q(Z)]", ENTROPY_COLOUR, "solid", "2"),
        )
    ]
    top = np.concatenate([_later(columns[n]) for n in ("log_likelihood", "expected_log_joint")])
    layout = _two_rows(0.6, 0.1, "half-step")
    layout["yaxis"].update(title={"text": "nats"}, range=_padded(top))
    layout["yaxis2"].update(title={"text": "H(q)"}, range=_padded(_later(columns["entropy"])))
    layout.update(
        height=420,
        title={"text": "Q and the entropy of q: ELBO = Q + H"},
        legend={"y": -0.2},
        shapes=_cursor_lines(index, ("", "2")),
    )
    return _figure(traces, layout)


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
    traces = [
        _line(u, np.log(u), "ln u", "#888", 2, hoverinfo="skip"),
        {
            "type": "scatter",
            "x": ratios,
            "y": log_ratios,
            "mode": "markers",
            "name": "u_z = p(x, z) / q(z)",
            "marker": {
                "size": 10 + 30 * terms.q[used],
                "color": [component_colour(k) for k in used],
                "line": {"color": "#222", "width": 1},
            },
            "hovertext": [
                f"z = {k + 1}: q = {terms.q[k]:.3f}, ln u = {log_ratio:.4f}"
                for k, log_ratio in zip(used, log_ratios)
            ],
            "hoverinfo": "text",
        },
    ]
    # q covers every state the posterior weighs (one point's ℓ can be near 0: scale ≥ 1 nat)
    covers = ConvergenceMonitor.negligible(
        terms.log_evidence - terms.log_mean_ratio, max(1.0, abs(terms.log_evidence))
    )
    mean_name = "ln p(x) = ln E_q[u]" if covers else "ln E_q[u]"
    for x, value, name, symbol, size, colour in (
        (mean_ratio, terms.log_mean_ratio, mean_name, "star", 16, LL_COLOUR),
        (mean_ratio, terms.bound, "E_q[ln u]", "diamond", 13, ELBO_COLOUR),
    ):
        traces.append(_marker(x, value, f"{name} = {value:.4f}", symbol, size, colour))
    gap_name = "Jensen gap = KL" if covers else "Jensen gap ln E_q[u] − E_q[ln u]"
    traces.append(
        _gap_line(
            mean_ratio, terms.bound, terms.log_mean_ratio, f"{gap_name} = {terms.jensen_gap:.4g}"
        )
    )
    if not covers:
        traces.append(
            _marker(
                evidence,
                terms.log_evidence,
                f"ln p(x) = {terms.log_evidence:.4f} (q leaves out part of the posterior)",
                "star",
                16,
                "#555",
            )
        )
        traces.append(
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
    layout = {
        "height": 400,
        "margin": {"l": 60},  # a half-width column
        "title": {
            "text": "ln is concave: the average of the logs lies below the log of the average"
        },
        "xaxis": {"title": {"text": "u"}, "range": [-0.03 * right, right]},
        "yaxis": {"title": {"text": "ln u"}, "range": [low - pad, high + pad]},
        "legend": {"y": -0.22},
    }
    return _figure(traces, layout)


def _marker(x: float, y: float, name: str, symbol: str, size: int, colour: str) -> dict:
    return {
        "type": "scatter",
        "x": [x],
        "y": [y],
        "mode": "markers",
        "name": name,
        "marker": {"symbol": symbol, "size": size, "color": colour},
    }


def _gap_line(x: float, low: float, high: float, name: str, dash: str = "solid") -> dict:
    return _line([x, x], [low, high], name, KL_COLOUR, 4, dash)


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
    fig = go.Figure(layout={"template": THEME})
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
        legend={"y": 0},
    )
    return fig


def plot_audit(rows, symbol: str = "ℓ", formula: str = "ln p(X | θ)") -> go.Figure:
    """The objective (ℓ, named ``symbol`` and ``formula``) after every iteration; iterations
    where it fell in red with their cause."""
    if not rows:
        return _figure([], {"title": {"text": "No completed iteration to audit"}})
    iterations = [0, *[row.iteration for row in rows]]
    values = [rows[0].before, *[row.after for row in rows]]
    traces = [_line(iterations, values, formula, "#999", 1.5, hoverinfo="skip")]
    for ok, colour, label, marker in (
        (True, Q_COLOUR, "did not fall", "circle"),
        (False, KL_COLOUR, "FELL", "x"),
    ):
        picked = [row for row in rows if row.ok == ok]
        traces.append(
            {
                "type": "scatter",
                "x": [row.iteration for row in picked],
                "y": [row.after for row in picked],
                "mode": "markers",
                "name": f"{symbol} {label}",
                "marker": {"color": colour, "size": 9 if ok else 13, "symbol": marker},
                "hovertext": [
                    f"iteration {row.iteration}: change {row.change:+.6g}"
                    + (f"<br>{row.cause}" if row.cause else "")
                    for row in picked
                ],
                "hoverinfo": "text",
            }
        )
    layout = {
        "height": 320,
        "title": {"text": f"{formula} after each iteration"},
        "xaxis": {"title": {"text": "iteration"}, "dtick": 1 if len(rows) <= 12 else None},
        "yaxis": {
            "title": {"text": "nats"},
            "range": _padded(values[1:] if len(values) > 2 else values),
        },
        "legend": {"y": -0.3},
    }
    return _figure(traces, layout)
