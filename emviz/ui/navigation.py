"""The app's navigation: its pages, and running one of them with the learner's settings.

A first visitor's deep link on a freshly started server: while a `pages/` folder sits next to
the entry script, Streamlit routes a new server's first runs the old way, by file name,
*before* app.py has called `st.navigation` (which switches that off for the process). So each
page module is named after its URL path (pages/step-through.py serves /step-through), and
begins with `enter_through_app()`: run that way, alone, it hands over to the app's
navigation, which shows the page with the sidebar, settings and link of every other visit.
"""

from __future__ import annotations

import contextvars

import streamlit as st

from emviz.ui import state

PAGE_TITLE = "emviz — watch EM work"
_IN_APP = contextvars.ContextVar("emviz_page_run_by_the_app", default=False)


def pages() -> dict[str, list]:
    """The pages, in sections; each module's file name is its URL path."""
    return {
        "Start": [
            st.Page("pages/home.py", title="What is EM?", icon=":material/home:", default=True),
        ],
        "Watch EM": [
            st.Page("pages/step-through.py", title="Step through EM", icon=":material/footprint:"),
        ],
        "Why it works": [
            st.Page("pages/why-em-works.py", title="Why EM works", icon=":material/functions:"),
            st.Page(
                "pages/landscape.py", title="Likelihood landscape", icon=":material/landscape:"
            ),
            st.Page(
                "pages/em-vs-gradient.py",
                title="EM or gradient ascent?",
                icon=":material/compare_arrows:",
            ),
        ],
    }


def run_app() -> None:
    """Navigation, then the chosen page: settings read from the link before it, the view
    written back to the address bar after it (`emviz.ui.state`)."""
    st.set_page_config(page_title=PAGE_TITLE, page_icon="📈", layout="wide")
    page = st.navigation(pages())
    state.open_link()
    token = _IN_APP.set(True)
    try:
        page.run()
    finally:
        _IN_APP.reset(token)
    state.publish(page.url_path)


def enter_through_app() -> None:
    """First line of every page: a page run alone (see the module's note) runs the app
    instead, which runs this page within it, then stops the lone run."""
    if not _IN_APP.get():
        run_app()
        st.stop()
