"""Where EM ends up: EM climbs to *a* critical point, and which one depends on the start."""

import streamlit as st

from emviz.settings import ENDS_SECTIONS
from emviz.ui.basin_sections import three_or_more_section, two_components_section
from emviz.ui.navigation import enter_through_app
from emviz.ui.on_demand import section_tabs
from emviz.ui.pickers import pick_and_fit
from emviz.ui.restart_sections import restart_explorer_section

enter_through_app()

st.title("Where EM ends up")
st.markdown(
    "EM climbs until the gradient of ℓ is zero — at *a* critical point, and which one depends "
    "on where it starts. For two components almost every start reaches a good fit; with three "
    "or more, random starts end at bad local maxima with a substantial probability. The last "
    "tab restarts the mixture of the sidebar."
)
fitted = pick_and_fit()  # the sidebar's mixture, whichever tab is open
section, tab = section_tabs("etab", ENDS_SECTIONS)
sections = {
    "two": two_components_section,
    "more": three_or_more_section,
    "restarts": lambda: restart_explorer_section(fitted),
}
with tab:
    sections[section]()
