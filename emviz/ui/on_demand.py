"""A page's sections as tabs, and details in expanders, drawn only while open.

A page of many charts is slow to show in a fresh browser: each chart costs the browser's main
thread 50–130 ms on first draw. Sections that stand alone (their own controls, their own
charts) are tabs instead, and only the open tab's section runs and draws; details a learner
asks for (the audit's table, the labels-known comparison) are expanders drawn once opened.
Which tab or expander is open is a setting like any other (`emviz.settings.FIELDS`): it holds
across pages and travels in the view's link.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from emviz.ui import state


def section_tabs(name: str, sections: Mapping[str, str]) -> tuple[str, DeltaGenerator]:
    """Tabs for ``sections`` (URL slug -> tab label), the open one kept as setting ``name``.

    Returns the open tab's slug and its container: draw that section, and only it, there.
    Opening another tab reruns the page with that tab's section.
    """
    labels = list(sections.values())
    slug_of = {label: slug for slug, label in sections.items()}
    tabs = st.tabs(
        labels,
        **state.bind(name, options=labels, to_widget=sections.get, from_widget=slug_of.get),
    )
    index = next((i for i, tab in enumerate(tabs) if tab.open), 0)
    return list(sections)[index], tabs[index]


def drawn_when_open(label: str, name: str) -> DeltaGenerator | None:
    """An expander ``label`` whose open state is setting ``name``: its container while open,
    else None (draw nothing in it then: opening it reruns the page)."""
    details = st.expander(label, **state.bind(name))
    return details if details.open else None
