"""Why EM works: the lower bound, the KL gap and the log, live from the learner's own run."""

import streamlit as st

from emviz.analysis.bound import RANDOM_DIRECTION, slice_directions
from emviz.plots.bound import (
    plot_bound_slice,
    plot_bound_surface,
    plot_decomposition,
    plot_q_and_entropy,
)
from emviz.ui.bound_panels import (
    audit_panel,
    decomposition_numbers,
    jensen_panel,
    q_entropy_numbers,
    slice_summary,
)
from emviz.ui.cache import (
    BREAK_OVERSHOOT,
    BREAK_WEIGHTS,
    BoundRun,
    bound_history,
    bound_slice_of,
    two_mean_bound_surfaces,
)
from emviz.ui.pickers import data_picker, model_picker
from emviz.ui.stepper import stepper_controls

GAUSSIAN, TWO_MEANS = "Gaussian mixture", "Two-mean mixture (1-D)"

st.title("Why EM works")
st.caption(
    "For any q over the hidden labels, ln p(X|θ) = ELBO(q, θ) + KL(q ‖ p(Z|X, θ)). The E-step "
    "sets q to the posterior and closes the gap; the M-step raises the ELBO, and the gap opens "
    "again. Step through your own run and watch both happen (Bishop PRML §9.4)."
)

family = st.sidebar.radio("Model", [GAUSSIAN, TWO_MEANS], key="bound_family")
# the audit's "break it" widgets sit at the bottom; the run they choose is needed from the top
broken = (
    st.session_state.get("break_how", BREAK_OVERSHOOT) if st.session_state.get("break_it") else ""
)
factor = st.session_state.get("break_factor", 2.5) if broken == BREAK_OVERSHOOT else 2.5
breaking = {"broken": broken, "factor": factor}
if family == GAUSSIAN:
    source, _ = data_picker()
    run = BoundRun("gaussian", source, model_picker(), **breaking)
else:
    st.sidebar.caption("The landscape page's sample: 92 points, w = (0.3, 0.7), v = (1, 0.5).")
    start = (
        st.sidebar.slider("Start μ1", -3.0, 5.0, -1.0, 0.1, key="bound_mu1"),
        st.sidebar.slider("Start μ2", -3.0, 5.0, 4.0, 0.1, key="bound_mu2"),
    )
    run = BoundRun("two-mean", start=start, **breaking)
history, error = bound_history(run)
if history is None:
    st.error(f"Cannot start EM with these settings: {error}")
    st.stop()

cursor = stepper_controls(history, run)

st.header("1 · ln p(X | θ) = ELBO + KL, step by step")
decomposition_numbers(history, cursor)
st.plotly_chart(plot_decomposition(history, cursor), key="decomposition_chart")

st.header("2 · Bishop's Fig. 9.14, from this run")
st.markdown(
    "Hold q at the posterior of θ_old and move θ along a line. The bound L(q, θ) touches "
    "ln p(X|θ) at θ_old with the same slope and stays below it; the M-step jumps to its "
    "maximum θ_new, where the next bound (q from θ_new) touches in turn."
)
choice, seed_column = st.columns([3, 1])
direction = choice.selectbox("Direction of the slice", slice_directions(history), key="direction")
seed = 0
if direction == RANDOM_DIRECTION:
    seed = int(seed_column.number_input("Direction seed", 0, 10**6, 0, key="direction_seed"))
bound_slice = bound_slice_of(run, cursor, direction, seed)
if bound_slice is None:
    st.info("This run has no completed iteration: there is no M-step to draw.")
else:
    st.caption(f"Iteration of steps {bound_slice.e_step}–{bound_slice.m_step}.")
    st.plotly_chart(plot_bound_slice(bound_slice), key="slice_chart")
    slice_summary(bound_slice)
    if run.family == "two-mean":
        mu1, mu2, log_likelihood, bound, old, new = two_mean_bound_surfaces(run, cursor)
        st.plotly_chart(
            plot_bound_surface(mu1, mu2, log_likelihood, bound, theta_old=old, theta_new=new),
            key="surface_chart",
        )

st.header("3 · Q and the entropy of q")
q_entropy_numbers(history, cursor)
st.plotly_chart(plot_q_and_entropy(history, cursor), key="q_entropy_chart")

st.header("4 · Why the log? Jensen's inequality for one point")
st.markdown(
    "ln is concave, so for any q: ln Σ_z q(z)·(p(x, z)/q(z)) ≥ Σ_z q(z) ln(p(x, z)/q(z)). "
    "Move the sliders: the two sides meet exactly when q is the posterior p(z | x, θ) "
    "(at the parameters of the shown step)."
)
jensen_panel(history, cursor)

st.header("5 · Monotonicity audit")
st.markdown(
    "EM promises ln p(X|θ_new) ≥ ln p(X|θ_old) in every iteration, through a chain: the E-step "
    "closes the gap (ℓ = L), the M-step raises the bound, and the bound stays below ℓ. Break a "
    "link and the audit says where ℓ fell and which link gave way. The whole page then shows "
    "the broken run, from the same start."
)
toggle, how, how_far = st.columns([1, 2, 2])
toggle.toggle("Break it", key="break_it")
if st.session_state.get("break_it"):
    how.radio("What to break", [BREAK_OVERSHOOT, BREAK_WEIGHTS], key="break_how")
    if st.session_state.get("break_how") == BREAK_OVERSHOOT:
        how_far.slider(
            "The means move this many times as far as the M-step's (> 2 lowers the bound)",
            0.5,
            3.5,
            2.5,
            0.1,
            key="break_factor",
        )
audit_panel(history)
