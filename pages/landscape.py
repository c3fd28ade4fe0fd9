"""Likelihood landscape: modes, a saddle, and EM beside gradient ascent and Newton."""

import pandas as pd
import streamlit as st

from emviz.analysis.explain import readable
from emviz.analysis.landscape import (
    GRADIENT_RTOL,
    N_STARTS,
    basin_caption,
    critical_point_table,
    describe_surface,
)
from emviz.analysis.paths import path_summary
from emviz.plots.landscape import (
    plot_coordinate_ascent,
    plot_gradient_norms,
    plot_landscape,
    plot_landscape_3d,
)
from emviz.settings import LEARNING_RATES, start_from
from emviz.ui import state
from emviz.ui.cache import (
    landscape_basins,
    landscape_critical_points,
    landscape_paths,
    landscape_saddle_stall,
    landscape_surface,
)
from emviz.ui.live_chart import live_chart
from emviz.ui.navigation import enter_through_app
from emviz.ui.pickers import landscape_data_picker, set_start, start_inputs

enter_through_app()

NUDGE = 1e-3

st.title("Likelihood landscape")
settings = landscape_data_picker()
mu1, mu2, grid = landscape_surface(settings)
points = landscape_critical_points(settings)
st.markdown(
    "Data from **w₁·N(μ₁, v₁) + w₂·N(μ₂, v₂)** with the weights and variances known: only the "
    "two means are unknown, so ℓ(μ₁, μ₂) is a surface you can see. " + describe_surface(points)
)
saddles = [p for p in points if p.kind == "saddle"]


def _clicked(click) -> None:
    if click and click.get("x") is not None:
        set_start((click["x"], click["y"]))


def _nudge() -> None:
    start = start_from(state.snapshot())
    set_start((start[0] + NUDGE, start[1]))


controls = st.columns([1, 1, 2, 2])  # the two buttons share a column: labels stay whole
start = start_inputs(controls[0], controls[1])
learning_rate = controls[2].select_slider(
    "Gradient-ascent learning rate η", LEARNING_RATES, **state.bind("lr", options=LEARNING_RATES)
)
if saddles:
    controls[3].button(
        "Start at the saddle",
        key="land_saddle",
        on_click=set_start,
        args=(saddles[0].location,),
        width="stretch",
    )
    controls[3].button(
        f"Nudge by ε = {NUDGE:g}", key="land_nudge", width="stretch", on_click=_nudge
    )
paths = landscape_paths(settings, start, float(learning_rate))

views = st.columns(2)
show_3d = views[0].toggle("3-D surface", **state.bind("v3d"))
show_basins = views[1].toggle(
    "Basins of attraction",
    disabled=show_3d,
    help="Colour every start of an 80 × 80 grid by where EM from it ends (all run at once): "
    "the colour says which critical point it reaches, the shade how many iterations it needs.",
    **state.bind("bas"),
)
if show_3d:
    live_chart(plot_landscape_3d(mu1, mu2, grid, points, paths), key="land_3d_chart")
else:
    basins = landscape_basins(settings) if show_basins else None
    live_chart(
        plot_landscape(mu1, mu2, grid, points, paths, start=start, basins=basins),
        key="land_chart",
        on_click=_clicked,
    )
    if basins is not None:
        st.caption(basin_caption(basins))

st.dataframe(pd.DataFrame(path_summary(paths, points)), hide_index=True, key="land_table")
with st.expander("Critical points of this surface (zeros of the gradient)", expanded=False):
    st.dataframe(pd.DataFrame(critical_point_table(points)), hide_index=True, key="land_points")
    st.caption(
        f"Found by root-finding from a {N_STARTS} × {N_STARTS} grid of starts; kept when "
        f"|∇ℓ| ≤ {GRADIENT_RTOL:g}·n; classified by the signs of the Hessian's eigenvalues."
    )
live_chart(plot_gradient_norms(paths), key="land_grad")
st.markdown(
    "**Stuck at a saddle.** EM is only guaranteed to reach a point where the gradient is zero. "
    "Start it exactly at the saddle and it stays there — the gradient norm above is already 0. "
    "Nudge the start by ε and it escapes to a mode. With equal variances the whole diagonal "
    "μ₁ = μ₂ is mapped by one EM step onto the saddle (x̄, x̄): on it both components see "
    "identical data, so every responsibility equals the weight. Newton–Raphson heads for the "
    "nearest zero of the gradient, saddles included, and from a poor start it can slide onto a "
    "flat plateau where one component has no data left (its gradient vanishes there too)."
)

stall = landscape_saddle_stall(settings)
if stall is not None:
    st.subheader("Coordinate ascent can stall where a joint move would climb")
    st.markdown(
        "EM is coordinate ascent on the lower bound L(q, θ): the E-step maximises over q with θ "
        "fixed, then the M-step over θ with q fixed. On the left, f(x, y) = x·y from (0, 0): "
        "changing x alone or y alone keeps f at 0, yet moving both together climbs (f(t, t) = "
        "t²). On the right, EM at the saddle: the E-step and the M-step each give back the "
        f"point (one iteration moves it by {readable(stall.m_step_move, 2)}), while ℓ rises "
        f"along the orange line — by {stall.gains[-1]:.3f} at a step of "
        f"{stall.ts[-1]:g} — because the Hessian there has a positive eigenvalue "
        f"({stall.curvature:.1f})."
    )
    live_chart(plot_coordinate_ascent(stall, mu1, mu2, grid), key="land_stall")
