"""The "Genetic linkage (1977)" page in the browser: DLR's iterates drawn on ℓ(θ), a typed
count refused with a message while the chart keeps the previous counts, a good count and a
new start redrawing it (and reaching the address bar), the step buttons moving the ringed θ.

The page's contract: the ℓ(θ) chart in .st-key-linkage_chart, the count inputs
.st-key-gy1 … .st-key-gy4, the start .st-key-gth.
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

PATH = "genetic-linkage"
CHART = ".st-key-linkage_chart"
DLR = [0.5, 0.608247423, 0.624321051, 0.626488879, 0.626777323]


def _trace_x(page, name: str) -> list[float]:
    return page.evaluate(
        "([chart, name]) => Array.from(window.__emviz.graph(chart)._fullData"
        ".find(t => t.name === name).x)",
        [CHART, name],
    )


def _type(page, key: str, value: str, *, redraws: bool = True) -> None:
    """Type ``value`` into the number input ``key`` and press Enter; wait for the rerun."""
    if redraws:
        mark_chart(page, CHART)
    runs = script_runs(page)
    box = page.locator(f".st-key-{key} input")
    box.fill(value)
    box.press("Enter")
    wait_for_script_done(page, after=runs, timeout=60_000)
    if redraws:
        wait_for_chart_rerender(page, CHART, timeout=60_000)


def _click(page, label: str) -> None:
    mark_chart(page, CHART)
    runs = script_runs(page)
    page.get_by_role("button", name=label, exact=True).click()
    wait_for_script_done(page, after=runs, timeout=60_000)
    wait_for_chart_rerender(page, CHART, timeout=60_000)


def test_the_iterates_the_counts_and_the_steps(page, server):
    goto(page, f"{server}/{PATH}", 120_000)
    assert_no_exception(page)
    wait_for_plotly(page, CHART, 60_000)
    iterates = _trace_x(page, "EM's iterates θ_t")
    assert iterates[:5] == pytest.approx(DLR, abs=1e-8)
    assert page.get_by_text("θ̂ = 0.626821497871").count() == 1  # under the table

    _type(page, "gy2", "-5", redraws=False)
    alert = page.get_by_role("alert").filter(has_text="refused")
    assert "cannot be negative" in alert.inner_text(timeout=30_000)
    assert page.locator(".st-key-gy2 input").input_value() == "18"
    assert _trace_x(page, "EM's iterates θ_t") == iterates  # the previous counts kept
    assert_no_exception(page)
    screenshot(page, "genetic-linkage-refused")

    _type(page, "gy2", "40")
    assert page.get_by_role("alert").filter(has_text="refused").count() == 0
    assert _trace_x(page, "EM's iterates θ_t")[1] != pytest.approx(DLR[1], abs=1e-6)
    assert "gy2=40" in page.url

    _type(page, "gth", "0.2")
    assert _trace_x(page, "EM's iterates θ_t")[0] == pytest.approx(0.2)
    assert "gth=0.2" in page.url

    assert _trace_x(page, "θ at the shown step") == pytest.approx([0.2])
    _click(page, "Full iteration")
    shown = _trace_x(page, "θ at the shown step")[0]
    assert shown == pytest.approx(_trace_x(page, "EM's iterates θ_t")[1], abs=1e-12)
    assert_no_exception(page)
    screenshot(page, "genetic-linkage-after-controls")
