"""The "Choosing K" page in the browser: the restarts slider refits and redraws the criterion
chart, the criterion radio redraws it as another criterion, and a covariance type removed
from the multiselect leaves the charts; each choice reaches the address bar.

The page's contract: the criterion chart in .st-key-sel_criterion_chart, the chosen model in
.st-key-sel_chosen_chart, training against held out in .st-key-sel_heldout_chart; the controls'
containers .st-key-sr (slider), .st-key-scrit (radio), .st-key-scov (multiselect).
"""

from __future__ import annotations

import pytest

from .harness import (
    assert_no_exception,
    goto,
    screenshot,
    seconds_to_redraw,
    wait_for_plotly,
)

pytestmark = pytest.mark.browser

PATH = "choosing-k"
CRITERION = ".st-key-sel_criterion_chart"
HELD_OUT = ".st-key-sel_heldout_chart"
CHOSEN = ".st-key-sel_chosen_chart"
REDRAW_LIMIT_S = 15.0  # 32 fits twice over, a few restarts each, on a shared 2-core machine


def _names(page, chart: str) -> list[str]:
    return page.evaluate("(chart) => window.__emviz.graph(chart)._fullData.map(t => t.name)", chart)


def _title(page, chart: str) -> str:
    return page.evaluate("(chart) => window.__emviz.graph(chart)._fullLayout.title.text", chart)


def test_every_control_redraws_the_charts(page, server):
    goto(page, f"{server}/{PATH}", 120_000)
    assert_no_exception(page)
    for chart in (CRITERION, CHOSEN, HELD_OUT):
        wait_for_plotly(page, chart, 60_000)
    assert _title(page, CRITERION) == "BIC against K (lower is better)"
    assert _title(page, CHOSEN).startswith("Chosen by BIC:<br>K = 3")

    thumb = page.locator(".st-key-sr").get_by_role("slider").first
    thumb.focus()
    seconds = seconds_to_redraw(page, CRITERION, lambda: thumb.press("ArrowRight"))
    print(f"\ncriterion chart redrawn {seconds:.2f} s after the restarts went from 3 to 4")
    assert "sr=4" in page.url
    assert seconds <= REDRAW_LIMIT_S

    icl = page.locator(".st-key-scrit label").filter(has_text="ICL")
    seconds = seconds_to_redraw(page, CRITERION, icl.click)
    print(f"criterion chart redrawn as ICL {seconds:.2f} s after the click")
    assert _title(page, CRITERION) == "ICL against K (lower is better)"
    assert _title(page, CHOSEN).startswith("Chosen by ICL")
    assert "scrit=icl" in page.url

    remove_diag = page.locator(".st-key-scov button[aria-label='Remove diag']:visible").first
    seconds_to_redraw(page, HELD_OUT, remove_diag.click)
    assert "diag" not in _names(page, CRITERION)
    assert "diag, training" not in _names(page, HELD_OUT)
    assert "scov=full-spherical-tied" in page.url
    assert_no_exception(page)
    screenshot(page, "choosing-k-after-controls")
