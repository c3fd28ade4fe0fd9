"""The EM-variant picker in the browser: choosing k-means on the step page draws both fits
with their assignment boundaries and the ℓ traces; the choice travels in the link and holds
on "Why EM works", reached from the sidebar, which explains the variant's q."""

from __future__ import annotations

import pytest

from .harness import (
    assert_no_exception,
    goto,
    nav_link,
    screenshot,
    script_runs,
    wait_for_plotly,
    wait_for_script_done,
)

pytestmark = pytest.mark.browser

FITS = (".st-key-variant_fit_chart", ".st-key-plain_fit_chart", ".st-key-variant_trace_chart")


def _trace_names(page, chart: str) -> list[str]:
    return page.evaluate("(chart) => window.__emviz.graph(chart)._fullData.map(t => t.name)", chart)


def test_kmeans_beside_em_then_why_em_works(page, server):
    goto(page, f"{server}/step-through?data=elongated")
    wait_for_plotly(page, ".st-key-main-chart")
    runs = script_runs(page)
    choice = page.locator(".st-key-var input")
    choice.click()
    choice.fill("k-means")
    page.get_by_role("option").filter(has_text="k-means shape").first.click()
    wait_for_script_done(page, after=runs)
    for chart in FITS:
        page.locator(chart).scroll_into_view_if_needed()
        wait_for_plotly(page, chart)
    assert_no_exception(page)
    assert "assignment boundary" in _trace_names(page, FITS[0])
    assert _trace_names(page, FITS[2]) == ["k-means", "plain EM"]
    assert "var=kmeans" in page.url
    assert page.get_by_text("agree on").count() == 1
    screenshot(page, "step-through-kmeans-beside-em")

    runs = script_runs(page)
    nav_link(page, "Why EM works").click()
    page.wait_for_url(f"{server}/why-em-works**", timeout=30_000)
    wait_for_script_done(page, after=runs)
    wait_for_plotly(page, ".st-key-decomposition_chart")
    assert_no_exception(page)
    chosen = page.locator(".st-key-var input").input_value()
    assert chosen.startswith("k-means shape")
    assert page.get_by_text("This run is k-means").count() == 1
    screenshot(page, "why-em-works-kmeans")
