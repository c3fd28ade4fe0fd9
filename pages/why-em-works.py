"""Why EM works: the lower bound, the KL gap and the log, live from the learner's own run."""

import streamlit as st

from emviz.analysis.bound import RANDOM_DIRECTION, slice_directions
from emviz.plots.bound import (
    plot_bound_slice,
    plot_bound_surface,
    plot_decomposition,
    plot_q_and_entropy,
)
from emviz.settings import (
    FACTOR_RANGE,
    SEED_MAX,
    BreakMode,
    Family,
    bound_run_from,
    landscape_settings_from,
)
from emviz.ui import state
from emviz.ui.bound_panels import (
    audit_panel,
    decomposition_numbers,
    jensen_panel,
    q_entropy_numbers,
    slice_caption,
    slice_summary,
)
from emviz.ui.cache import bound_history, bound_slice_of, two_mean_bound_surfaces
from emviz.ui.live_chart import live_chart
from emviz.ui.navigation import enter_through_app
from emviz.ui.pickers import pick_and_fit, start_inputs
from emviz.ui.step_controls import stepper_controls
from emviz.ui.variant_panels import restricted_q_note

enter_through_app()

st.title("Why EM works")
st.caption(
    "For any q over the hidden labels, ln p(X|θ) = ELBO(q, θ) + KL(q ‖ p(Z|X, θ)). The E-step "
    "sets q to the posterior and closes the gap; the M-step raises the ELBO, and the gap opens "
    "again. Step through your own run and watch both happen (Bishop PRML §9.4)."
)

families = list(Family)
family = st.sidebar.radio(
    "Model", families, format_func=lambda f: f.label, **state.bind("fam", options=families)
)
if family is Family.GAUSSIAN:
    source = pick_and_fit().source
else:
    source = None
    st.sidebar.caption(
        "The landscape page's sample: "
        f"{landscape_settings_from(state.snapshot()).describe()}. Start of EM:"
    )
    start_inputs(*st.sidebar.columns(2))
# the audit's "break it" controls sit at the bottom; the run they choose is shown from the top
run = bound_run_from(state.snapshot(), source)
history, error = bound_history(run)

if history is None:
    st.error(f"Cannot start EM with these settings: {error}")
else:
    shares_step_page = family is Family.GAUSSIAN and run.broken is BreakMode.NONE
    cursor = stepper_controls(
        history,
        (run.source, run.settings) if shares_step_page else run,
        "step" if shares_step_page else "wstep",  # the step page's run: the same shown step
    )

    st.header("1 · ln p(X | θ) = ELBO + KL, step by step")
    restricted_q_note(run.settings)
    decomposition_numbers(history, cursor)
    live_chart(plot_decomposition(history, cursor), key="decomposition_chart")

    st.header("2 · Bishop's Fig. 9.14, from this run")
    st.markdown(
        "Hold q at the posterior of θ_old and move θ along a line. The bound L(q, θ) touches "
        "ln p(X|θ) at θ_old with the same slope and stays below it; the M-step jumps to its "
        "maximum θ_new, where the next bound (q from θ_new) touches in turn."
    )
    choice, seed_column = st.columns([3, 1])
    directions = slice_directions(history)
    indices = list(range(len(directions)))
    direction = directions[
        choice.selectbox(
            "Direction of the slice",
            indices,
            format_func=directions.__getitem__,
            **state.bind("dir", options=indices),
        )
    ]
    seed = 0
    if direction == RANDOM_DIRECTION:
        seed = int(
            seed_column.number_input(
                "Direction seed", 0, SEED_MAX, **state.bind("dseed", bounds=(0, SEED_MAX))
            )
        )
    bound_slice = bound_slice_of(run, cursor, direction, seed)
    if bound_slice is None:
        st.info(f"This run has no completed iteration, so no M-step to draw: {history.message}")
    else:
        st.caption(slice_caption(bound_slice, history, cursor))
        live_chart(plot_bound_slice(bound_slice), key="slice_chart")
        slice_summary(bound_slice, history.model.inexact_m_step)
        if run.family is Family.TWO_MEANS:
            mu1, mu2, log_likelihood, bound, old, new = two_mean_bound_surfaces(run, cursor)
            live_chart(
                plot_bound_surface(mu1, mu2, log_likelihood, bound, theta_old=old, theta_new=new),
                key="surface_chart",
            )

    st.header("3 · Q and the entropy of q")
    q_entropy_numbers(history, cursor)
    live_chart(plot_q_and_entropy(history, cursor), key="q_entropy_chart")

    st.header("4 · Why the log? Jensen's inequality for one point")
    st.markdown(
        "ln is concave, so for any q: ln Σ_z q(z)·(p(x, z)/q(z)) ≥ Σ_z q(z) ln(p(x, z)/q(z)). "
        "Move the sliders: the two sides meet exactly when q is the posterior p(z | x, θ) "
        "(at the parameters of the shown step)."
    )
    jensen_panel(history, cursor)

    st.header("5 · Monotonicity audit")
    st.markdown(
        "With exact E- and M-steps (reg_covar = 0), EM promises ln p(X|θ_new) ≥ "
        "ln p(X|θ_old) in every iteration, through a chain: the "
        "E-step closes the gap (ℓ = L), the M-step raises the bound, and the bound stays below "
        "ℓ. Break a link and the audit says where ℓ fell and which link gave way. The whole "
        "page then shows the broken run, from the same start."
    )
    if st.toggle("Break it", **state.bind("bk")):
        how, how_far = st.columns(2)
        modes = [BreakMode.OVERSHOOT, BreakMode.FORGET_WEIGHTS]
        mode = how.radio(
            "What to break",
            modes,
            format_func=lambda m: m.label,
            **state.bind("brk", options=modes),
        )
        if mode is BreakMode.OVERSHOOT:
            how_far.slider(
                "The means move this many times as far as the M-step's (> 2 lowers the bound)",
                *FACTOR_RANGE,
                step=0.1,
                **state.bind("f", bounds=FACTOR_RANGE),
            )
    audit_panel(history)
