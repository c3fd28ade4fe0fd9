"""emviz: the entry script builds the navigation; every page lives in pages/."""

import streamlit as st

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
}
st.navigation(PAGES).run()
