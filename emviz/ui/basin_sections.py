"""The sections of the "Where EM ends up" page: the two-component basin map (Xu, Hsu &
Maleki) and the restarts of K spherical clusters (Jin et al.). Each section draws its own
controls (bound to their settings), figures (`emviz.plots.basins`) and numbers."""

from __future__ import annotations

import numpy as np
import streamlit as st

from emviz.analysis.explain import readable
from emviz.engine import counted
from emviz.runs import BEST, ELSEWHERE
from emviz.settings import (
    FAR_FACTOR,
    SEED_MAX,
    SPHERICAL_DIMENSIONS,
    SPHERICAL_K_RANGE,
    SPHERICAL_RESTARTS_RANGE,
    SPHERICAL_SEPARATIONS,
    SYMMETRIC_N_RANGE,
    SYMMETRIC_SEPARATIONS,
    spherical_restart_settings_from,
    symmetric_basin_settings_from,
)
from emviz.ui import cache, state
from emviz.ui.live_chart import live_chart

QUIET = {"delta_color": "off", "delta_arrow": "off"}  # a metric's second line: no trend
DIMENSION_LABELS = {1: "1-D: at −R, R and D = 10R", 2: "2-D: K on a polygon"}


def _grid_slider(column, label: str, name: str, values, help: str | None = None):
    """A slider over the evenly spaced ``values`` of setting ``name``."""
    bounds = (values[0], values[-1])
    return column.slider(
        label, *bounds, step=values[1] - values[0], help=help, **state.bind(name, bounds=bounds)
    )


def _seed_input(column, name: str):
    return column.number_input("Seed", 0, SEED_MAX, **state.bind(name, bounds=(0, SEED_MAX)))


def _vector(v) -> str:
    return f"({v[0]:.2f}, {v[1]:.2f})"


# ---- two components ----


def two_components_section() -> None:
    """Xu, Hsu & Maleki: every start not orthogonal to θ* ends at +θ̂ or −θ̂."""
    st.subheader("Two components: almost every start wins")
    st.markdown(
        "Data from **½N(θ\\*, I) + ½N(−θ\\*, I)** in 2-D; only θ is unknown, and EM is the map "
        "**θ ← (1/n) Σₙ xₙ tanh⟨θ, xₙ⟩**. Xu, Hsu & Maleki (NeurIPS 2016) prove that, with "
        "infinite data, EM goes from *every* start θ0 with ⟨θ0, θ\\*⟩ > 0 to θ\\* and from "
        "every start with ⟨θ0, θ\\*⟩ < 0 to −θ\\* — the same fit with the labels swapped. "
        "Below, EM on a sample from each start of a grid: it ends at the sample's ±θ̂."
    )
    controls = st.columns([2, 2, 1])
    _grid_slider(
        controls[0],
        "Distance between the centres 2|θ*|",
        "xsep",
        SYMMETRIC_SEPARATIONS,
        help="Small: the two clusters overlap and EM needs more iterations.",
    )
    low, high, step = SYMMETRIC_N_RANGE
    controls[1].slider(
        "Sample size n", low, high, step=step, **state.bind("xn", bounds=(low, high))
    )
    _seed_input(controls[2], "xseed")
    settings = symmetric_basin_settings_from(state.snapshot())
    basins = cache.symmetric_basin_map(settings)
    escape = cache.boundary_escape(settings)
    basin_figure, escape_figure = cache.symmetric_basin_figures(settings)
    live_chart(basin_figure, key="ends_basin_chart")
    _basin_numbers(basins)
    if escape is None:
        st.info("This sample's basin boundary could not be located, so no start is put on it.")
        return
    _escape_numbers(escape)
    live_chart(escape_figure, key="ends_escape_chart")


def _basin_numbers(basins) -> None:
    labels = basins.labels
    elsewhere = int((labels == ELSEWHERE).sum())
    off = np.linalg.norm(basins.theta_hat - basins.theta_star)
    # θ0 = 0 is a start of the grid: tanh 0 = 0 keeps EM there
    stuck = (
        " The start θ0 = 0 ends at neither: tanh 0 = 0, so EM never moves from it — a "
        "critical point of ℓ, a saddle."
    )
    if elsewhere > 1:
        stuck += (
            f" So do {counted(elsewhere - 1, 'other start')}: EM stopped near the saddle, "
            "where ℓ hardly changes from one iteration to the next."
        )
    st.markdown(
        f"θ\\* = {_vector(basins.theta_star)}, θ̂ = {_vector(basins.theta_hat)} "
        f"({off:.2f} from θ\\*). **{100 * basins.by_sign:.1f}%** of the starts end where the "
        "sign of ⟨θ0, θ\\*⟩ says. The few others lie next to the dashed line: the sample's own "
        f"boundary is a curve close to it, not the line itself.{stuck} Hover on the map for "
        "any start's end and iterations."
    )


def _escape_numbers(escape) -> None:
    left = escape.left_at()
    delay = float(np.mean(np.diff(left[1:])))  # each offset 1000× smaller than the last
    st.markdown(
        "**The line is the exception, and an unstable one.** With infinite data EM maps the "
        "line ⟨θ0, θ\\*⟩ = 0 onto itself: started on it, EM stays on it and converges to the "
        "saddle at 0, never to ±θ\\*. With a sample the boundary is a curve near the line; "
        "below, EM from a start on it (to the last digit of a float) and from starts ε off it "
        f"(black line on the map). Each 1000-fold smaller ε delays the escape by about "
        f"**{counted(round(delay), 'iteration')}** — but every start leaves, even the one on "
        f"the boundary (at iteration {left[0]}): rounding alone is an ε of 10⁻¹⁶. "
        "Numerically, only the two basins exist."
    )


# ---- three or more components ----


def three_or_more_section() -> None:
    """Jin et al.: random starts end at bad local maxima, more often the more clusters."""
    st.subheader("Three or more components: bad local maxima")
    st.markdown(
        "Jin, Zhang, Balakrishnan, Wainwright & Jordan (NeurIPS 2016): even the easiest "
        "mixture — equal weights, known variance σ² = 1, only the means unknown, clusters far "
        "apart — has local maxima of ℓ far below the best, and EM started from random data "
        "points lands in them with a probability that grows with K. In such a configuration "
        "one component covers two clusters while two split one."
    )
    controls = st.columns([2, 1, 2, 2, 1])
    dimension = controls[0].radio(
        "Clusters",
        SPHERICAL_DIMENSIONS,
        format_func=DIMENSION_LABELS.get,
        **state.bind("jdim", options=SPHERICAL_DIMENSIONS),
    )
    if dimension == 2:
        controls[1].slider("K", *SPHERICAL_K_RANGE, **state.bind("jk", bounds=SPHERICAL_K_RANGE))
    else:
        controls[1].markdown("K = 3")
    _grid_slider(
        controls[2],
        "Separation R",
        "jsep",
        SPHERICAL_SEPARATIONS,
        help=f"1-D: clusters at −R, R and {FAR_FACTOR}R. 2-D: neighbours 2R apart.",
    )
    low, high, step = SPHERICAL_RESTARTS_RANGE
    controls[3].slider("Restarts", low, high, step=step, **state.bind("jr", bounds=(low, high)))
    _seed_input(controls[4], "jseed")
    settings = spherical_restart_settings_from(state.snapshot())
    summary = cache.spherical_restart_summary(settings)
    ll_figure, configuration_figure, k_figure = cache.spherical_restart_figures(settings)
    st.caption(settings.describe() + "; each restart starts at K distinct random data points.")
    _restart_numbers(summary)
    left, right = st.columns(2, gap="medium")
    with left:
        live_chart(ll_figure, key="ends_restart_chart")
    with right:
        live_chart(configuration_figure, key="ends_config_chart")
    st.markdown(
        "**Failure grows with K.** The same separation, restarts and seed for 2-D clusters "
        f"with K = {SPHERICAL_K_RANGE[0]} … {SPHERICAL_K_RANGE[1]}: the more clusters, the "
        "likelier some get no start of their own."
    )
    live_chart(k_figure, key="ends_k_chart")


def _restart_numbers(summary) -> None:
    outcomes, n = summary.outcomes, len(summary.X)
    restarts = len(summary.kinds)
    bad = summary.shown_bad
    best = int((summary.kinds == BEST).sum())
    columns = st.columns(4)
    bad_count = int(outcomes.bad_local_maximum.sum())
    columns[0].metric(
        "Bad local maxima",
        f"{100 * bad_count / restarts:.1f}%",
        f"{bad_count} of {restarts} restarts",
        **QUIET,
    )
    if bad is None:
        columns[1].metric(
            "At the best ℓ", f"{100 * best / restarts:.1f}%", f"{best} of {restarts}", **QUIET
        )
        st.info(
            "No restart ended at a bad local maximum here: with clusters this close they "
            "blur together. Raise the separation R (or, in 2-D, K)."
        )
        return
    gap = outcomes.gaps[bad]
    columns[1].metric("Gap to the best ℓ", f"{gap:.1f}", f"{gap / n:.2f} per point", **QUIET)
    columns[2].metric(
        "|∇ℓ| at the bad end",
        readable(outcomes.gradient_norms[bad], 2),
        f"{readable(summary.start_gradient_norm, 2)} at its start",
        **QUIET,
    )
    columns[3].metric(
        "Largest curvature",
        readable(outcomes.largest_curvatures[bad], 3),
        help="The largest eigenvalue of the Hessian of ℓ at the bad end: below 0, so ℓ falls "
        "in every direction from there.",
    )
    st.markdown(
        f"{counted(best, 'restart')} reached the best ℓ. The drawn bad end has |∇ℓ| ≈ 0 and "
        "only negative curvature: a local maximum, a critical point where EM stops for good "
        "— not a slow run that more iterations would fix."
    )
