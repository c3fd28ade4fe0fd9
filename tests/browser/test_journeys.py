"""One browser session across pages: settings and the shown step follow the learner through
the sidebar and the browser's Back button, and "Link to this view" reopens the view."""

from __future__ import annotations

import pytest

from .harness import (
    APP,
    assert_no_exception,
    click_and_wait,
    goto,
    nav_link,
    new_page,
    read_step,
    screenshot,
    step_button,
    wait_for_script_done,
    wait_for_step,
)

pytestmark = pytest.mark.browser

K_SLIDER = '.st-key-k input[type="range"]'


def _nav(page, title: str) -> None:
    click_and_wait(page, nav_link(page, title))
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


def test_app_selector_is_the_streamlit_app():
    assert APP == '[data-testid="stApp"]'  # the harness's contract these tests rely on
