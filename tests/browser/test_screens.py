"""Projectors and phones: every page at 1024×768, 1280×720 and 390×844.

On every page and screen: the page comes up as itself (no "Page not found" dialog, its menu
entry highlighted; checked on the two wide screens, where the menu shows) and no control's
label is cut (an ellipsis, or text clipped or spilling
out of its box). On the two projector screens the sidebar stays open and each page's main chart
starts within the first screen, above the controls' fold. On the phone nothing is wider than
the screen: no sideways scroll of the page, no formula wider than its room, and the sidebar,
collapsed, opens from its button with its own labels whole.

The pages drawn as tabs (only the open one drawn) are seen in each of their tabs, opened by
a click: their charts drawn, no label cut and, on the phone, nothing wider than the screen.

One context per screen size, every page visited in it; full-page screenshots are saved as
tests/screenshots/screens-<size>-<page>.png (and -sidebar for the phone's opened sidebar,
-<tab slug> for a page's other tabs).
"""

from __future__ import annotations

import contextlib

import pytest

from emviz.settings import ENDS_SECTIONS, FAILURE_SECTIONS

from .harness import (
    MAIN_CHART,
    REPO_ROOT,
    assert_no_exception,
    current_page_title,
    goto,
    new_page,
    open_tab,
    page_not_found,
    screenshot,
    wait_for_plotly,
)
from .test_deep_links import PAGES as DEEP_LINKS

pytestmark = pytest.mark.browser

SCREENS = {  # name: (width, height)
    "1024x768": (1024, 768),
    "1280x720": (1280, 720),
    "phone-390x844": (390, 844),
}
PHONE_WIDTH = 640  # Streamlit stacks columns and collapses the sidebar below this width
# url path: the container of the page's main chart (None: the page has no chart)
PAGES = {
    "": None,
    "step-through": MAIN_CHART,
    "why-em-works": ".st-key-decomposition_chart",
    "landscape": ".st-key-land_chart",
    "em-vs-gradient": ".st-key-cmp_monotone",
    "where-em-ends-up": ".st-key-ends_basin_chart",
    "failure-lab": ".st-key-fl_collapse_fit",
    "choosing-k": ".st-key-sel_criterion_chart",
    "genetic-linkage": ".st-key-linkage_chart",
    "ppca": ".st-key-ppca_data_chart",
    "missing-data": ".st-key-mi_chart",
    "hidden-markov": ".st-key-hmm_series_chart",
}
# url path: {tab slug: (its label, a chart it draws)} of the tabs not open at first
OTHER_TABS = {
    "where-em-ends-up": {
        "more": (ENDS_SECTIONS["more"], ".st-key-ends_restart_chart"),
        "restarts": (ENDS_SECTIONS["restarts"], ".st-key-restart_hist"),
    },
    "failure-lab": {
        "slow": (FAILURE_SECTIONS["slow"], ".st-key-fl_log_error"),
        "early": (FAILURE_SECTIONS["early"], ".st-key-fl_early_stop"),
        "wrongk": (FAILURE_SECTIONS["wrongk"], ".st-key-fl_wrong_k"),
    },
}
MENU_TITLES = {path: title for path, title, *_ in DEEP_LINKS}
CHART_ROOM_PX = 100  # of the main chart, at least this much shows on the first screen
SIDEBAR = '[data-testid="stSidebar"]'
OPEN_SIDEBAR = '[data-testid="stExpandSidebarButton"]'
CLOSE_SIDEBAR = '[data-testid="stSidebarCollapseButton"] button'

# Every shown control whose text (or an element inside it) is wider than its box: the box
# clips it (Streamlit's ellipsis on buttons) or the text spills over its neighbours. Boxes of
# 2 px or less are visually-hidden helpers (the native input of a radio or toggle).
_CUT_LABELS_JS = r"""
(scope) => {
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && r.right > 0 && r.left < innerWidth
      && style.visibility !== 'hidden' && style.display !== 'none';
  };
  const CONTROLS = 'button, label, summary, [data-testid="stWidgetLabel"], [data-baseweb="select"],'
    + ' [data-testid="stPageLink-NavLink"], [data-baseweb="tab"]';
  const cut = [];
  for (const control of document.querySelectorAll(scope + ' ' + CONTROLS)) {
    if (!shown(control)) continue;
    for (const el of [control, ...control.querySelectorAll('*')]) {
      if (el.clientWidth <= 2 || !shown(el)) continue;
      if (el.scrollWidth > el.clientWidth + 1) {
        const text = (control.innerText || control.getAttribute('aria-label') || '').trim();
        cut.push(`${JSON.stringify(text.replace(/\s+/g, ' '))} (${el.scrollWidth} px of`
                 + ` text in ${el.clientWidth} px)`);
        break;
      }
    }
  }
  return [...new Set(cut)];
}
"""

# Formulas wider than the element they sit in (KaTeX then scrolls them sideways, hiding part).
_WIDE_FORMULAS_JS = r"""
() => [...document.querySelectorAll('[data-testid="stElementContainer"] .katex-display')]
  .map((display) => {
    const room = display.closest('[data-testid="stElementContainer"]').clientWidth;
    const formula = display.querySelector('.katex') || display;
    return [formula.scrollWidth, room, (formula.innerText || '').replace(/\s+/g, ' ')];
  })
  .filter(([width, room]) => room > 0 && width > room + 1)
  .map(([width, room, text]) => `${JSON.stringify(text.slice(0, 50))}: ${width} px in ${room}`)
"""


def test_every_page_is_on_every_screen():
    modules = {path.stem for path in (REPO_ROOT / "pages").glob("*.py")}
    assert {_page_name(path) for path in PAGES} == modules


def _page_name(path: str) -> str:
    return path or "home"


def _problems_on(page, base_url: str, path: str, chart: str | None, size) -> list[str]:
    """Open one page and list what is wrong with it at this screen size."""
    width, height = size
    goto(page, f"{base_url}/{path}")
    assert_no_exception(page)
    if chart is not None:
        wait_for_plotly(page, chart)
    problems = [f"cut label {label}" for label in page.evaluate(_CUT_LABELS_JS, "")]
    if width >= PHONE_WIDTH:
        problems += _navigation_problems(page, path)
        sidebar = page.locator(SIDEBAR).bounding_box()
        if sidebar is None or sidebar["x"] < 0 or sidebar["width"] < 200:
            problems.append(f"the sidebar is not open: {sidebar}")
        if chart is not None:
            top = page.locator(chart).first.bounding_box()["y"]
            if top > height - CHART_ROOM_PX:
                problems.append(
                    f"the main chart {chart} starts at y = {top:.0f} px: less than "
                    f"{CHART_ROOM_PX} px of it on the first screen ({height} px)"
                )
        return problems
    page_width = page.evaluate("() => document.scrollingElement.scrollWidth")
    if page_width > width + 1:
        problems.append(f"the page is {page_width} px wide on a {width} px screen")
    problems += [f"formula too wide {f}" for f in page.evaluate(_WIDE_FORMULAS_JS)]
    return problems + _phone_sidebar_problems(page, f"{_page_name(path)}")


def _tab_problems(page, label: str, chart: str, size) -> list[str]:
    """Click the tab ``label`` of the shown page and list what is wrong with it."""
    open_tab(page, label)
    assert_no_exception(page)
    wait_for_plotly(page, chart)
    problems = [f"cut label {label}" for label in page.evaluate(_CUT_LABELS_JS, "")]
    if size[0] < PHONE_WIDTH:
        page_width = page.evaluate("() => document.scrollingElement.scrollWidth")
        if page_width > size[0] + 1:
            problems.append(f"the page is {page_width} px wide on a {size[0]} px screen")
        problems += [f"formula too wide {f}" for f in page.evaluate(_WIDE_FORMULAS_JS)]
    return problems


def _navigation_problems(page, path: str) -> list[str]:
    """The page came up as itself: no "Page not found" dialog, and the sidebar's menu
    highlights its entry."""
    dialog = page_not_found(page)
    problems = [f"shows the dialog {dialog!r}"] if dialog else []
    shown, title = current_page_title(page), MENU_TITLES[path]
    if shown != title:
        problems.append(f"the menu highlights {shown!r}, not {title!r}")
    return problems


def _phone_sidebar_problems(page, name: str) -> list[str]:
    """On a phone the sidebar starts collapsed; its button opens it, whole and on screen."""
    page.locator(OPEN_SIDEBAR).click()
    sidebar = page.locator(SIDEBAR)
    page.wait_for_function(
        "(s) => { const r = document.querySelector(s).getBoundingClientRect();"
        " return r.width > 0 && Math.abs(r.x) < 1; }",
        arg=SIDEBAR,
    )
    page.wait_for_timeout(400)  # the slide-in transition
    box = sidebar.bounding_box()
    problems = []
    if box["x"] < -1 or box["x"] + box["width"] > page.viewport_size["width"] + 1:
        problems.append(f"the opened sidebar does not fit the screen: {box}")
    problems += [
        f"cut label in the sidebar {label}" for label in page.evaluate(_CUT_LABELS_JS, SIDEBAR)
    ]
    with contextlib.suppress(Exception):
        screenshot(page, f"screens-phone-{name}-sidebar")
    page.locator(CLOSE_SIDEBAR).first.click()
    return problems


@pytest.mark.parametrize("screen", list(SCREENS))
def test_every_page_fits_the_screen(browser, server, screen):
    size = SCREENS[screen]
    page = new_page(browser, viewport={"width": size[0], "height": size[1]})
    failures = []
    try:
        for path, chart in PAGES.items():
            try:
                problems = _problems_on(page, server, path, chart, size)
            except Exception as exc:  # report every page, not just the first broken one
                problems = [f"{type(exc).__name__}: {exc}"]
            failures += [f"{_page_name(path)}: {problem}" for problem in problems]
            with contextlib.suppress(Exception):
                screenshot(page, f"screens-{screen}-{_page_name(path)}")
            for tab, (label, tab_chart) in OTHER_TABS.get(path, {}).items():
                try:
                    problems = _tab_problems(page, label, tab_chart, size)
                except Exception as exc:
                    problems = [f"{type(exc).__name__}: {exc}"]
                failures += [f"{path}, tab {label!r}: {problem}" for problem in problems]
                with contextlib.suppress(Exception):
                    screenshot(page, f"screens-{screen}-{path}-{tab}")
    finally:
        page.context.close()
    if failures:
        pytest.fail(f"At {screen}:\n" + "\n".join(failures), False)
