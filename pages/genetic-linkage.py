"""Genetic linkage (1977): the example with which Dempster, Laird & Rubin named EM."""

import streamlit as st

from emviz.analysis.linkage import iterate_table
from emviz.plots.bound import plot_decomposition
from emviz.plots.linkage import plot_linkage_likelihood
from emviz.ui import cache
from emviz.ui.bound_panels import audit_panel, decomposition_numbers
from emviz.ui.linkage_sections import counts_section, iterate_section, start_input
from emviz.ui.live_chart import live_chart
from emviz.ui.navigation import enter_through_app
from emviz.ui.step_controls import stepper_controls

enter_through_app()

st.title("Genetic linkage (1977)")
st.markdown(
    "Dempster, Laird & Rubin's 1977 paper gave the EM algorithm its name and its general "
    "theory, and it opened with this example from Rao (1973): 197 animals in four phenotype "
    "cells with probabilities (1/2 + θ/4, (1 − θ)/4, (1 − θ)/4, θ/4). Split the first cell "
    "into an unseen 1/2 part and a θ/4 part, and θ becomes a plain proportion: the **E-step** "
    "expects x₁₂ = y₁ · (θ/4) / (1/2 + θ/4) animals in the θ/4 part, the **M-step** sets "
    "θ = (x₁₂ + y₄) / (x₁₂ + y₂ + y₃ + y₄)."
)
model = counts_section()
history = cache.linkage_run(model.counts, start_input())
table = iterate_table(history)
chart = st.container()  # drawn once the step controls below have said which step is shown

st.subheader("The iterates, their errors and the rate")
iterate_section(table)

st.subheader("Step through the run")
cursor = stepper_controls(history, (model.counts, table.thetas[0]), "gstep")
with chart:
    shown_theta = history[cursor].params.theta
    live_chart(plot_linkage_likelihood(model, table.thetas, shown_theta), key="linkage_chart")
st.markdown(
    "Every animal of cell 1 has a hidden label, the part it came from, so q is a split "
    "(1/2 part, θ/4 part) and ℓ(θ) = ELBO + KL, the KL that of the y₁ splits against the "
    "posterior split θ / (2 + θ). The ringed point on the chart above is the shown step's θ."
)
decomposition_numbers(history, cursor)
live_chart(plot_decomposition(history, cursor), key="decomposition_chart", step=cursor)

st.subheader("Does ℓ ever fall?")
audit_panel(history)
