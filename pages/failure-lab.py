"""Failure lab: EM's failure modes, each live: collapse, slow convergence, an early stop, the
wrong K."""

import streamlit as st

from emviz.ui.failure_sections import (
    collapse_section,
    early_stop_section,
    slow_convergence_section,
    wrong_k_section,
)
from emviz.ui.navigation import enter_through_app
from emviz.ui.pickers import pick_and_fit

enter_through_app()

st.title("Failure lab")
st.markdown(
    "EM always climbs, but it can climb into trouble: a component that collapses onto a "
    "single point, convergence so slow it looks finished, a stop before the top, and a "
    "number of components that does not fit the data. Sections 2–4 use your data and mixture "
    "from the sidebar."
)
source, settings, history, error = pick_and_fit()
settings = settings.plain()  # the failure modes of plain EM, whatever the sidebar's variant
collapse_section()
if history is None:
    st.error(f"Cannot start EM on your data with these settings: {error}")
else:
    slow_convergence_section(source, settings)
    early_stop_section(source, settings)
    wrong_k_section(source, settings)
