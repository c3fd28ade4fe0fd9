"""Missing data: a normal fitted by EM to rows with blanks, against the quick answers."""

import streamlit as st

from emviz.plots.bound import plot_decomposition
from emviz.ui.bound_panels import audit_panel, decomposition_numbers
from emviz.ui.live_chart import live_chart
from emviz.ui.missing_sections import (
    comparison_section,
    data_notes,
    fill_in_view,
    fitted,
    missing_settings,
)
from emviz.ui.navigation import enter_through_app
from emviz.ui.step_controls import stepper_controls

enter_through_app()

st.title("Missing data")
st.markdown(
    "Some rows miss a value. EM treats the missing values as the hidden variables: the "
    "**E-step** fills each one in with its expected value given the row's observed value, "
    "E[x_mis | x_obs, θ], and keeps its conditional variance; the **M-step** takes the mean "
    "and covariance of the filled-in data plus those variances. Each iteration raises ℓ, the "
    "log-likelihood of what was observed."
)
settings = missing_settings()
fit = fitted(settings)
if fit is not None:
    data_notes(fit)
    history = fit.history
    cursor = stepper_controls(history, settings, "mistep")
    fill_in_view(fit, cursor)

    st.subheader("EM against the quick answers")
    comparison_section(fit, cursor)

    st.subheader("ln p(X_obs | θ) = ELBO + KL, step by step")
    st.markdown(
        "The hidden variables are continuous here: q gives each row's missing value a normal "
        "distribution, H(q) is its differential entropy and KL compares it with the posterior "
        "p(x_mis | x_obs, θ). The initial q is each missing value's marginal N(μ_m, Σ_mm), "
        "which ignores the row's observed value."
    )
    decomposition_numbers(history, cursor)
    live_chart(plot_decomposition(history, cursor), key="decomposition_chart")

    st.subheader("Monotonicity audit")
    audit_panel(history)
