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
from emviz.ui.live_chart import preload_plotly
from emviz.ui.style import apply_style

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
        "Where EM ends up": [
            st.Page("pages/where-em-ends-up.py", title="Where EM ends up", icon=":material/flag:"),
        ],
        "When EM goes wrong": [
            st.Page("pages/failure-lab.py", title="Failure lab", icon=":material/science:"),
            st.Page("pages/choosing-k.py", title="Choosing K", icon=":material/query_stats:"),
        ],
        "Beyond mixtures": [
            st.Page(
                "pages/genetic-linkage.py",
                title="Genetic linkage (1977)",
                icon=":material/genetics:",
            ),
            st.Page(
                "pages/hidden-markov.py", title="Hidden Markov model", icon=":material/timeline:"
            ),
            st.Page("pages/missing-data.py", title="Missing data", icon=":material/grid_off:"),
            st.Page("pages/ppca.py", title="Probabilistic PCA", icon=":material/scatter_plot:"),
        ],
    }


def run_app() -> None:
    """Navigation, then the chosen page: settings read from the link before it, the view
    written back to the address bar after it (`emviz.ui.state`), and the menu."""
    st.set_page_config(page_title=PAGE_TITLE, page_icon="📈", layout="wide")
    apply_style()
    sections = pages()
    page = st.navigation(sections, position="hidden")
    state.open_link()
    menu = st.sidebar.container(key="menu")  # at the top; filled once the page has run
    with menu:
        preload_plotly()  # fetched and evaluated while the page's script runs
    token = _IN_APP.set(True)
    try:
        page.run()
    finally:
        _IN_APP.reset(token)
    state.publish(page.url_path)
    _draw_menu(menu, sections, page)


def _draw_menu(menu, sections: dict[str, list], current) -> None:
    """The sidebar menu. Its links carry the view's query string, so that moving to a page
    is one entry in the browser's history (Streamlit's own menu drops the query, and writing
    it back would add a second entry, which Back would then have to step over)."""
    query = state.view_query()
    with menu:
        for section, section_pages in sections.items():
            st.caption(section)
            for page in section_pages:
                here = page.url_path == current.url_path
                with st.container(key=f"menu-{'current' if here else page.url_path or 'home'}"):
                    st.page_link(page, query_params=query, width="stretch")
        st.divider()


def page_link(script: str, label: str, icon: str) -> None:
    """A link to another page of the app in the page's text, carrying the view."""
    st.page_link(script, label=label, icon=icon, query_params=state.view_query())


def enter_through_app() -> None:
    """First line of every page: a page run alone (see the module's note) runs the app
    instead, which runs this page within it, then stops the lone run."""
    if not _IN_APP.get():
        run_app()
        st.stop()
