"""Likelihood landscape: modes, a saddle, and EM beside gradient ascent and Newton."""

import pandas as pd
import streamlit as st

from emviz.analysis.landscape import critical_point_table
from emviz.analysis.paths import path_summary
from emviz.plots.landscape import plot_gradient_norms, plot_landscape, plot_landscape_3d
from emviz.ui.cache import (
    LandscapeSettings,
    landscape_critical_points,
    landscape_paths,
    landscape_surface,
)
from emviz.ui.live_chart import live_chart

st.title("Likelihood landscape")
st.markdown(
    "Data from **w₁·N(μ₁, v₁) + w₂·N(μ₂, v₂)** with the weights and variances known: only the "
    "two means are unknown, so ℓ(μ₁, μ₂) is a surface you can see. Swapping the labels "
    "(μ₁ ↔ μ₂) gives a second, lower mode — the components are not interchangeable because "
    "their weights and variances differ — and between the modes lies a **saddle**."
)

side = st.sidebar
side.header("Data")
settings = LandscapeSettings(
    n_samples=int(side.slider("Number of points n", 10, 2000, 92, key="land_n")),
    true_means=(
        side.slider("True μ₁", -3.0, 5.0, 0.0, 0.1, key="land_mu1"),
        side.slider("True μ₂", -3.0, 5.0, 2.5, 0.1, key="land_mu2"),
    ),
    weight=side.slider("Weight w₁", 0.05, 0.95, 0.3, 0.05, key="land_w1"),
    variances=(
        side.slider("Variance v₁", 0.1, 3.0, 1.0, 0.1, key="land_v1"),
        side.slider("Variance v₂", 0.1, 3.0, 0.5, 0.1, key="land_v2"),
    ),
    seed=int(side.number_input("Seed", 0, 10**6, 0, key="land_seed")),
)
mu1, mu2, grid = landscape_surface(settings)
points = landscape_critical_points(settings)
saddles = [p for p in points if p.kind == "saddle"]

if "land_start" not in st.session_state:
    st.session_state["land_start"] = (float(mu1[-1] - 0.5), float(mu2[0] + 0.5))


def _set_start(start) -> None:
    st.session_state["land_start"] = (float(start[0]), float(start[1]))


def _clicked() -> None:
    click = st.session_state.get("land_chart")
    if click and click.get("x") is not None:
        _set_start((click["x"], click["y"]))


controls = st.columns([1, 1, 2, 1, 1])
start = st.session_state["land_start"]
typed = (
    controls[0].number_input("Start μ₁", value=start[0], step=0.1, format="%.3f"),
    controls[1].number_input("Start μ₂", value=start[1], step=0.1, format="%.3f"),
)
if typed != start:
    _set_start(typed)
learning_rate = controls[2].select_slider(
    "Gradient-ascent learning rate η",
    [0.01, 0.03, 0.1, 0.3, 1.0, 2.0, 3.0, 5.0],
    0.3,
    key="land_lr",
)
if saddles:
    controls[3].button(
        "Start at the saddle",
        key="land_saddle",
        on_click=_set_start,
        args=(saddles[0].location,),
        width="stretch",
    )
    controls[4].button(
        "Nudge by ε = 0.001",
        key="land_nudge",
        width="stretch",
        on_click=lambda: _set_start(
            (st.session_state["land_start"][0] + 1e-3, st.session_state["land_start"][1])
        ),
    )
start = st.session_state["land_start"]
paths = landscape_paths(settings, start, float(learning_rate))

view_3d = st.toggle("3-D surface", key="land_3d")
if view_3d:
    st.plotly_chart(plot_landscape_3d(mu1, mu2, grid, points, paths), key="land_3d_chart")
else:
    live_chart(
        plot_landscape(mu1, mu2, grid, points, paths, start=start),
        key="land_chart",
        on_change=_clicked,
    )

st.dataframe(pd.DataFrame(path_summary(paths, points)), hide_index=True, key="land_table")
with st.expander("Critical points of this surface (zeros of the gradient)", expanded=False):
    st.dataframe(pd.DataFrame(critical_point_table(points)), hide_index=True, key="land_points")
    st.caption(
        "Found by root-finding from a 15 × 15 grid of starts; kept when |∇ℓ| ≤ 1e-6·n; "
        "classified by the signs of the Hessian's eigenvalues."
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
