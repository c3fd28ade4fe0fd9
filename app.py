"""emviz: the entry script builds the navigation; every page lives in pages/."""

import streamlit as st

st.set_page_config(page_title="emviz — watch EM work", page_icon="📈", layout="wide")

pages = {
    "Start": [st.Page("pages/home.py", title="What is EM?", icon="🏠", default=True)],
}
st.navigation(pages).run()
