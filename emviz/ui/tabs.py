"""A page's sections as tabs, only the open one drawn.

A page of many charts is slow to show in a fresh browser: each chart costs the browser's main
thread 50–130 ms on first draw. Sections that stand alone (their own controls, their own
charts) are tabs instead, and only the open tab's section runs and draws. Which tab is open is
a setting like any other (`emviz.settings.FIELDS`): it holds across pages and travels in the
view's link.
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
