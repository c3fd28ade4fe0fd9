"""Probabilistic PCA by EM: W turning onto the principal direction, σ² shrinking to σ²_ML."""

import streamlit as st

from emviz.ui import cache
from emviz.ui.navigation import enter_through_app
from emviz.ui.ppca_sections import bound_section, ppca_controls, run_section, why_em_section

enter_through_app()

st.title("Probabilistic PCA")
st.markdown(
    "EM is not only for mixtures. Probabilistic PCA (Tipping & Bishop 1999) explains each "
    "point by one hidden number z_n ~ N(0, 1): x_n = W z_n + μ + ε, with isotropic noise "
    "ε ~ N(0, σ² I). The **E-step** finds where each point sits on the line, the posterior "
    "N(M⁻¹Wᵀ(x_n − μ), σ² M⁻¹) with M = WᵀW + σ²; the **M-step** refits W and σ² by least "
    "squares on those positions (Bishop, PRML §12.2.4). Watch W turn onto the principal "
    "direction of the data while σ² shrinks to the variance the line leaves unexplained."
)
settings = ppca_controls()
run = cache.ppca_run(settings)
st.caption(settings.describe() + ". " + run.history.message)
cursor = run_section(run, settings)
why_em_section()
bound_section(run.history, cursor)
