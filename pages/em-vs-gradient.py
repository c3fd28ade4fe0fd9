"""EM or gradient ascent? Monotonicity, constraints, learning rates and speed."""

import pandas as pd
import streamlit as st

from emviz.plots.comparison import (
    plot_error_decay,
    plot_learning_rate_sweep,
    plot_log_likelihood_paths,
)
from emviz.runs import FULL_MIXTURE_START, OVERSHOOT_START
from emviz.settings import COMPARISON_RATES, LandscapeSettings
from emviz.ui import state
from emviz.ui.cache import full_mixture_runs, full_mixture_sweep, landscape_paths, two_mean_rates
from emviz.ui.live_chart import live_chart
from emviz.ui.navigation import enter_through_app
from emviz.ui.optimiser_sections import optimiser_section, surplus_section

enter_through_app()

st.title("EM or gradient ascent?")
st.markdown(
    "Why not just climb the log-likelihood with its gradient? Four differences, "
    "measured on the two-mean mixture and on a full two-component 1-D mixture — then a real "
    "optimiser beside EM, and a maximum on the boundary of the parameter space."
)

rate = st.select_slider(
    "Gradient-ascent learning rate η (for every comparison on this page)",
    COMPARISON_RATES,
    **state.bind("clr", options=COMPARISON_RATES),
)

st.header("1 · EM never goes downhill")
st.markdown(
    "Every EM iteration raises the lower bound and so ℓ — no step size to choose. A gradient "
    "step of fixed length can overshoot the ridge it was climbing and land lower; the red "
    "cross marks the first iteration where that happened."
)
paths = landscape_paths(LandscapeSettings(), OVERSHOOT_START, float(rate))
live_chart(plot_log_likelihood_paths(paths[:2]), key="cmp_monotone")

st.header("2 · EM stays inside the parameter space")
plain, reparam, em_theta, em_iterations = full_mixture_runs(float(rate))
st.markdown(
    "With free weights and variances, a plain gradient step can push π₁ outside [0, 1] or a "
    "variance below 0, where the likelihood is not even defined. The usual fix steps in "
    "π₁ = sigmoid(a) and σ² = exp(s) instead. EM's M-step is a weighted average and a "
    "weighted variance: always valid."
)
if plain.broken_step is not None:
    st.warning(
        f"Plain gradient ascent (η = {rate}) broke at iteration {plain.broken_step}: "
        f"{plain.broken_reason}."
    )
names = ["π₁", "μ₁", "μ₂", "σ₁²", "σ₂²"]
rows = {
    "start": FULL_MIXTURE_START,
    "plain, last step": plain.thetas[-1],
    f"reparametrised ({reparam.iterations} its, {reparam.stop_reason})": reparam.thetas[-1],
    f"EM ({em_iterations} its)": em_theta,
}
st.table(pd.DataFrame(rows, index=names).T.style.format("{:.4f}"))

st.header("3 · No learning rate to tune")
st.markdown(
    "Too small a learning rate crawls, too large a one oscillates or diverges. Each dot is "
    "one reparametrised gradient-ascent run; EM's count is the dashed line."
)
live_chart(plot_learning_rate_sweep(full_mixture_sweep(), em_iterations), key="cmp_sweep")

st.header("4 · Speed near the optimum")
em, newton, mode, jacobian_rate, seen_rate = two_mean_rates()
st.markdown(
    f"EM converges **linearly**: each iteration multiplies the error by about "
    f"**{seen_rate:.4f}** (measured from its iterates). The largest eigenvalue of the Jacobian "
    f"of the EM map at the mode — the fraction of missing information (Dempster, Laird & "
    f"Rubin 1977) — is **{jacobian_rate:.4f}**. Newton–Raphson converges **quadratically** "
    f"(the digits double each step) but only from a good start, and it heads for saddles "
    f"just as happily."
)
live_chart(plot_error_decay([em, newton], mode), key="cmp_rate")

st.header("5 · A real optimiser: L-BFGS-B")
optimiser_section()

st.header("6 · One component too many: a maximum on the boundary")
surplus_section(float(rate))
