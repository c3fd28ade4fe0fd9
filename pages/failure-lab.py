"""Failure lab: EM's failure modes, each live: collapse, slow convergence, an early stop, the
wrong K."""

import streamlit as st

from emviz.settings import FAILURE_SECTIONS
from emviz.ui.failure_sections import (
    collapse_section,
    early_stop_section,
    slow_convergence_section,
    wrong_k_section,
)
from emviz.ui.navigation import enter_through_app
from emviz.ui.on_demand import section_tabs
from emviz.ui.pickers import pick_and_fit

enter_through_app()

st.title("Failure lab")
st.markdown(
    "EM always climbs, but it can climb into trouble, one kind per tab. Tabs 2–4 use your "
    "data and mixture from the sidebar."
)
source, settings, history, error = pick_and_fit()
settings = settings.plain()  # the failure modes of plain EM, whatever the sidebar's variant
section, tab = section_tabs("ftab", FAILURE_SECTIONS)
with tab:
    if section == "collapse":
        collapse_section()
    elif history is None:
        st.error(f"Cannot start EM on your data with these settings: {error}")
    else:
        sections = {
            "slow": slow_convergence_section,
            "early": early_stop_section,
            "wrongk": wrong_k_section,
        }
        sections[section](source, settings)
