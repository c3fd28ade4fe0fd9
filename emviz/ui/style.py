"""The app's few CSS rules: a compact page top and labels and formulas that fit small screens.

Projectors (1024×768, 1280×720) leave little room above the fold, and a phone (390 px) little
room across. Streamlit's defaults spend ~6 rem above the title, cut button labels with an
ellipsis, and let a formula run past the screen's edge. The rules target Streamlit's stable
hooks only: ``data-testid`` attributes, the ``st-key-<key>`` class of a keyed element, and
KaTeX's own classes.
"""

from __future__ import annotations

import streamlit as st

# Streamlit 1.67's header bar is 3.75 rem tall; the content starts just below it.
STYLE = """
<style>
[data-testid="stMainBlockContainer"] { padding-top: 3.75rem; padding-bottom: 3rem; }
[data-testid="stMainBlockContainer"] h1 { font-size: 2.1rem; padding: 0.25rem 0 0.5rem; }
[data-testid="stMainBlockContainer"] h2 { font-size: 1.6rem; padding: 0.75rem 0 0.25rem; }

/* A button's label wraps onto a second line instead of ending in "…". */
[data-testid="stBaseButton-primary"] [data-testid="stMarkdownContainer"],
[data-testid="stBaseButton-secondary"] [data-testid="stMarkdownContainer"],
[data-testid="stBaseButton-primary"] [data-testid="stMarkdownContainer"] p,
[data-testid="stBaseButton-secondary"] [data-testid="stMarkdownContainer"] p {
  white-space: normal; overflow: visible; text-overflow: clip; overflow-wrap: normal;
}

/* Formulas scroll rather than run past the screen's edge, and shrink a little on phones ... */
.katex-display { overflow-x: auto; overflow-y: hidden; }
@media (max-width: 640px) { .katex-display > .katex { font-size: 0.95em; } }
@media (max-width: 420px) { .katex-display > .katex { font-size: 0.85em; } }
/* ... and the step page's two formula columns stack when the main area is narrow (a projector
   or a 1280 px screen, with the sidebar open). Viewport media queries, not container queries
   or :has(): those make every style recalculation slower, and a step click recalculates it. */
@media (max-width: 1400px) {
  .st-key-formulas [data-testid="stColumn"] { flex: 1 1 100%; width: 100%; min-width: 100%; }
}
</style>
"""


def apply_style() -> None:
    """Add the rules to the page. Style-only HTML goes to Streamlit's event container, so it
    takes no room in the layout; it is sent on every run, since each run replaces the page."""
    st.html(STYLE)
