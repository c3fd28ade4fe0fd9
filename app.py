"""emviz: the entry script builds the navigation; every page lives in pages/.

The learner's settings are read from the link once per session, before the page runs, and the
view is written back to the address bar after it (emviz.ui.state).
"""

import streamlit as st

from emviz.ui import state

st.set_page_config(page_title="emviz — watch EM work", page_icon="📈", layout="wide")

PAGES = {
    "Start": [
        st.Page("pages/home.py", title="What is EM?", icon=":material/home:", default=True),
    ],
    "Watch EM": [
        st.Page(
            "pages/step_through.py",
            title="Step through EM",
            icon=":material/footprint:",
            url_path="step-through",
        ),
    ],
    "Why it works": [
        st.Page(
            "pages/why_em_works.py",
            title="Why EM works",
            icon=":material/functions:",
            url_path="why-em-works",
        ),
        st.Page(
            "pages/landscape.py",
            title="Likelihood landscape",
            icon=":material/landscape:",
            url_path="landscape",
        ),
        st.Page(
            "pages/em_vs_gradient.py",
            title="EM or gradient ascent?",
            icon=":material/compare_arrows:",
            url_path="em-vs-gradient",
        ),
    ],
}
page = st.navigation(PAGES)
state.open_link()
page.run()
state.publish(page.url_path)
