"""One browser session across pages: settings and the shown step follow the learner through
the sidebar and the browser's Back button, and "Link to this view" reopens the view. So do
the open tab of a page drawn as tabs and the monotonicity audit's details (shared by every
page with an audit)."""

from __future__ import annotations

import re

import pytest

from .harness import (
    APP,
    assert_no_exception,
    click_and_wait,
    expander,
    expander_open,
    goto,
    nav_link,
    new_page,
    open_tab,
    read_step,
    screenshot,
    step_button,
    toggle_expander,
    wait_for_plotly,
    wait_for_script_done,
    wait_for_step,
)

pytestmark = pytest.mark.browser

K_SLIDER = '.st-key-k input[type="range"]'
EARLY_TAB = "3 · Stopping too early"
EARLY_STOP = ".st-key-fl_early_stop"
COLLAPSE_FIT = ".st-key-fl_collapse_fit"
AUDIT = "Every iteration:"  # the audit expander's label begins so on every page
AUDIT_CHART = ".st-key-audit_chart"
# the table's key (audit_table) does not reach the page: it is the data frame in the expander,
# whose container is keyed by its setting
AUDIT_TABLE = '.st-key-aud [data-testid="stDataFrame"]'
SLOW_PAGE_MS = 60_000  # the hidden Markov model's first fit, on a shared 2-core machine


def _nav(page, title: str, timeout: float = 30_000) -> None:
    click_and_wait(page, nav_link(page, title), timeout)
    assert_no_exception(page)


def _k(page) -> int:
    return int(page.locator(K_SLIDER).input_value())


def _status(page) -> str:
    return " ".join(page.inner_text(".st-key-step-status").split())


def test_settings_hold_across_pages_back_and_a_link(page, server, browser):
    goto(page, server)
    home_links = page.locator('[data-testid="stMain"] [data-testid="stPageLink-NavLink"]')
    click_and_wait(page, home_links.filter(has_text="Step through EM").first)
    wait_for_step(page, 0)
    assert _k(page) == 3  # the blobs' own three clusters
    runs = page.evaluate("() => window.__emviz.finished")
    page.locator(K_SLIDER).focus()
    page.keyboard.press("ArrowRight")
    wait_for_script_done(page, after=runs)
    assert _k(page) == 4
    for expected in (2, 4, 6):
        click_and_wait(page, step_button(page, "Full iteration"))
        wait_for_step(page, expected)
    shown = _status(page)
    assert "k=4" in page.url and "step=6" in page.url

    _nav(page, "Why EM works")
    assert (read_step(page)[0], _k(page)) == (6, 4)  # the same run, at the same step
    _nav(page, "Likelihood landscape")
    page.locator("h1").filter(has_text="Likelihood landscape").wait_for()

    for _ in range(2):
        page.go_back()
        wait_for_script_done(page)
    assert "/step-through" in page.url
    wait_for_step(page, 6)
    assert (_k(page), _status(page)) == (4, shown)
    assert_no_exception(page)
    screenshot(page, "journey-back-on-the-step-page")

    page.get_by_text("Link to this view").click()
    link = page.locator(".st-key-view_link input").input_value()
    assert link.startswith(server) and "/step-through?" in link, link
    other = new_page(browser)  # another browser context: a new session, as the link's receiver
    try:
        goto(other, link.strip())
        wait_for_step(other, 6)
        assert _status(other) == shown
        assert _k(other) == 4
        assert_no_exception(other)
    finally:
        other.context.close()


def _open_tab_name(page) -> str:
    return page.get_by_role("tab", selected=True).inner_text().strip()


def _early_stop_tab_is_open(page) -> None:
    """The failure lab shows its tab "3 · Stopping too early", drawn, and only it."""
    assert _open_tab_name(page) == EARLY_TAB
    wait_for_plotly(page, EARLY_STOP)
    assert page.locator(f"{EARLY_STOP} .js-plotly-plot .main-svg").count() >= 1
    assert page.locator(COLLAPSE_FIT).count() == 0  # the first tab's section is not drawn
    assert "ftab=early" in page.url


def test_the_open_tab_holds_across_pages_back_and_a_link(page, server, browser):
    goto(page, f"{server}/failure-lab")
    assert _open_tab_name(page) == "1 · Collapse"
    assert page.locator(EARLY_STOP).count() == 0
    open_tab(page, EARLY_TAB)
    _early_stop_tab_is_open(page)

    _nav(page, "Why EM works")
    assert "/why-em-works" in page.url and "ftab=early" in page.url  # the view keeps it
    _nav(page, "Failure lab")
    _early_stop_tab_is_open(page)

    page.go_back()
    wait_for_script_done(page)
    assert "/why-em-works" in page.url
    page.locator("h1").filter(has_text="Why EM works").wait_for()
    page.go_back()
    wait_for_script_done(page)
    assert "/failure-lab" in page.url
    _early_stop_tab_is_open(page)
    assert_no_exception(page)
    screenshot(page, "journey-failure-lab-tab-kept")

    page.get_by_text("Link to this view").click()
    link = page.locator(".st-key-view_link input").input_value()
    assert link.startswith(server) and "/failure-lab?" in link and "ftab=early" in link, link
    other = new_page(browser)  # a new session, as the link's receiver
    try:
        goto(other, link.strip())
        _early_stop_tab_is_open(other)
        assert_no_exception(other)
    finally:
        other.context.close()


def _audit_matches_its_verdict(page) -> None:
    """The audit chart marks one point per iteration the verdict says it checked."""
    verdict = page.locator('[data-testid="stAlert"]', has_text="never fell").inner_text()
    checked = int(re.search(r"(\d+) iterations? checked", verdict).group(1))
    marked = page.evaluate(
        "(c) => window.__emviz.graph(c)._fullData"
        ".filter(t => t.mode === 'markers').reduce((n, t) => n + t.x.length, 0)",
        AUDIT_CHART,
    )
    assert marked == checked > 0, (marked, verdict)


def test_the_audit_details_open_on_one_page_stay_open_on_another(page, server):
    goto(page, f"{server}/why-em-works")
    audit = expander(page, AUDIT)
    audit.wait_for()
    assert not expander_open(audit)  # closed at first, its chart and table not drawn
    assert page.locator(f"{AUDIT_CHART}, {AUDIT_TABLE}").count() == 0
    # the verdict shows whether the details are open or not
    page.locator('[data-testid="stAlert"]', has_text="ℓ never fell").wait_for()

    audit = toggle_expander(page, AUDIT)
    assert expander_open(audit)
    wait_for_plotly(page, AUDIT_CHART)
    page.locator(AUDIT_TABLE).wait_for()
    _audit_matches_its_verdict(page)
    assert "aud=1" in page.url
    assert_no_exception(page)
    screenshot(page, "journey-audit-open-why-em-works")

    _nav(page, "Hidden Markov model", SLOW_PAGE_MS)
    audit = expander(page, AUDIT)
    audit.wait_for(timeout=SLOW_PAGE_MS)
    assert expander_open(audit)
    wait_for_plotly(page, AUDIT_CHART, SLOW_PAGE_MS)
    page.locator(AUDIT_TABLE).wait_for()
    _audit_matches_its_verdict(page)  # the chart of this page's run
    assert "aud=1" in page.url
    assert_no_exception(page)
    screenshot(page, "journey-audit-open-hidden-markov")

    audit = toggle_expander(page, AUDIT)  # closed again: the details go, the setting too
    assert not expander_open(audit)
    page.locator(AUDIT_CHART).wait_for(state="detached")
    assert "aud=1" not in page.url


def test_app_selector_is_the_streamlit_app():
    assert APP == '[data-testid="stApp"]'  # the harness's contract these tests rely on
