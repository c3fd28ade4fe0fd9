""" "EM or gradient ascent?" in the browser: L-BFGS-B's table and ℓ chart beside EM's, and the
surplus component's slider redrawing the weight chart.

The page's contract: the ℓ-gap chart in .st-key-cmp_optimiser, the surplus weights in
.st-key-cmp_surplus, the slider's container .st-key-osur.
"""

from __future__ import annotations

import pytest

from .harness import (
    assert_no_exception,
    goto,
    mark_chart,
    screenshot,
    script_runs,
    wait_for_chart_rerender,
    wait_for_plotly,
    wait_for_script_done,
)

pytestmark = pytest.mark.browser

PATH = "em-vs-gradient"
GAPS = ".st-key-cmp_optimiser"
SURPLUS = ".st-key-cmp_surplus"


def _trace_y(page, chart: str, name: str):
    return page.evaluate(
        "([chart, name]) => Array.from(window.__emviz.graph(chart)._fullData"
        ".find(t => t.name === name).y)",
        [chart, name],
    )


def test_lbfgsb_beside_em_and_the_surplus_slider(page, server):
    goto(page, f"{server}/{PATH}")
    assert_no_exception(page)
    for chart in (GAPS, SURPLUS):
        wait_for_plotly(page, chart)
    body = page.inner_text("body")
    assert "L-BFGS-B" in body and "ℓ and its gradient" in body
    assert len(_trace_y(page, GAPS, "L-BFGS-B")) < len(_trace_y(page, GAPS, "EM"))
    assert "π₁ = 0 from iteration" in page.evaluate(
        "(chart) => window.__emviz.graph(chart)._fullData.map(t => (t.text || []).join(' '))"
        ".join(' ')",
        SURPLUS,
    )
    before = _trace_y(page, SURPLUS, "EM")

    thumb = page.locator(".st-key-osur").get_by_role("slider").first
    thumb.focus()
    mark_chart(page, SURPLUS)
    runs = script_runs(page)
    thumb.press("ArrowLeft")  # the surplus component from 3 to 2, nearer the data
    wait_for_chart_rerender(page, SURPLUS, timeout=30_000)
    wait_for_script_done(page, after=runs)
    after = _trace_y(page, SURPLUS, "EM")
    assert after[10] > before[10]  # nearer the real component, EM's weight falls more slowly
    assert "osur=2.0" in page.url
    assert "surplus N(2, 1)" in page.inner_text("body")
    assert_no_exception(page)
    screenshot(page, "em-vs-gradient-surplus-2")
