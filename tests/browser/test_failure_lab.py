"""The "Failure lab" page in the browser: each of its controls, moved by a key press, redraws
its chart (the lab's target: within 1 s), and the chart then shows the new choice.

The page's contract: four tabs (emviz.settings.FAILURE_SECTIONS), only the open one drawn,
the open one the setting ``ftab``. "1 · Collapse": the charts .st-key-fl_collapse_fit,
.st-key-fl_collapse_trace, .st-key-fl_remedies, the controls .st-key-flx, .st-key-flit,
.st-key-flreg; "2 · Slow convergence": .st-key-fl_log_error, .st-key-fl_separation, the
control .st-key-flsep; "3 · Stopping too early": .st-key-fl_early_stop, the control
.st-key-fltol; "4 · The wrong K": .st-key-fl_wrong_k.
"""

from __future__ import annotations

import time

import pytest

from .harness import (
    assert_no_exception,
    goto,
    mark_chart,
    open_tab,
    screenshot,
    script_runs,
    wait_for_chart_rerender,
    wait_for_plotly,
    wait_for_script_done,
)

pytestmark = pytest.mark.browser

PATH = "failure-lab"
TARGET_S = 1.0  # issue 13: the lab answers each control within a second
LIMIT_S = 3.0  # a shared 2-core machine may run other work: fail only far above
CHARTS = {  # tab: its charts
    "1 · Collapse": ("fl_collapse_fit", "fl_collapse_trace", "fl_remedies"),
    "2 · Slow convergence": ("fl_log_error", "fl_separation"),
    "3 · Stopping too early": ("fl_early_stop",),
    "4 · The wrong K": ("fl_wrong_k",),
}
TAB_SLUGS = {
    "1 · Collapse": "ftab",  # the default: not in the address
    "2 · Slow convergence": "ftab=slow",
    "3 · Stopping too early": "ftab=early",
    "4 · The wrong K": "ftab=wrongk",
}
# tab: (control, key, chart it redraws, what the address then says)
CONTROLS = {
    "1 · Collapse": (
        ("flit", "ArrowLeft", "fl_collapse_fit", "flit=15"),
        ("flx", "ArrowRight", "fl_collapse_trace", "flx=9.0"),
        ("flreg", "ArrowRight", "fl_remedies", "flreg=0.01"),
    ),
    "2 · Slow convergence": (("flsep", "ArrowRight", "fl_separation", "flsep=3.5"),),
    "3 · Stopping too early": (("fltol", "ArrowRight", "fl_early_stop", "fltol=0.01"),),
    "4 · The wrong K": (),
}


def _charts_drawn(page, tab: str) -> None:
    """Wait for the charts of ``tab``; those of the other tabs are not drawn."""
    for chart in CHARTS[tab]:
        wait_for_plotly(page, f".st-key-{chart}")
    others = [f".st-key-{c}" for other, charts in CHARTS.items() if other != tab for c in charts]
    assert page.locator(", ".join(others)).count() == 0, f"{tab}: another tab's chart drawn"


def press_and_time(page, control: str, key: str, chart: str) -> float:
    """Seconds from ``key`` on the slider of ``control`` to ``chart`` drawn anew (then the
    rerun is let finish, so the next key press meets a settled page)."""
    thumb = page.locator(f".st-key-{control}").get_by_role("slider").first
    thumb.focus()
    scope = f".st-key-{chart}"
    mark_chart(page, scope)
    runs = script_runs(page)
    started = time.perf_counter()
    thumb.press(key)
    wait_for_chart_rerender(page, scope, timeout=30_000)
    seconds = time.perf_counter() - started
    wait_for_script_done(page, after=runs)
    return seconds


def test_each_control_redraws_its_chart_within_a_second(page, server):
    goto(page, f"{server}/{PATH}")
    assert page.get_by_role("tab", selected=True).inner_text().strip() == "1 · Collapse"
    assert_no_exception(page)
    seconds = {}
    for tab, controls in CONTROLS.items():
        open_tab(page, tab)
        _charts_drawn(page, tab)
        assert_no_exception(page)
        if TAB_SLUGS[tab] == "ftab":
            assert "ftab=" not in page.url
        else:
            assert TAB_SLUGS[tab] in page.url, (tab, page.url)
        for control, key, chart, address in controls:
            seconds[control] = press_and_time(page, control, key, chart)
            assert address in page.url, (control, page.url)
            assert_no_exception(page)
        if tab == "1 · Collapse":
            title = page.evaluate(
                "() => window.__emviz.graph('.st-key-fl_collapse_fit').layout.title.text"
            )
            assert title.startswith("After iteration 8:")  # flx = 9 collapses after 8: its last
        elif tab == "2 · Slow convergence":
            marker_x = page.evaluate(
                "() => window.__emviz.graph('.st-key-fl_separation')._fullData[1].x[0]"
            )
            assert marker_x == 3.5  # the chosen distance is the one marked
        screenshot(page, f"failure-lab-after-controls-{TAB_SLUGS[tab].split('=')[-1]}")
    print("\n" + ", ".join(f"{c}: {s:.2f} s" for c, s in seconds.items()))
    # the choices made in the other tabs are kept (not flit: a new isolated point flx shows
    # its own run from its last iteration)
    for control, _, _, address in (c for controls in CONTROLS.values() for c in controls):
        assert control == "flit" or address in page.url, (address, page.url)
    assert min(seconds.values()) <= TARGET_S, f"{seconds} (target {TARGET_S} s)"
    assert max(seconds.values()) <= LIMIT_S, seconds
