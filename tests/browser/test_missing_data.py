"""The "Missing data" page in the browser: an E-step moves the drawn fill-ins to the values the
model computes, and a CSV with blank cells uploaded through the file input is fitted.

The page's contract: the main chart in .st-key-mi_chart (its fill-ins the trace named
`FILLED`), the upload toggle .st-key-miup and the file input in .st-key-miupload.
"""

from __future__ import annotations

import numpy as np
import pytest

from emviz import runs
from emviz.settings import MissingSettings

from .harness import (
    assert_no_exception,
    goto,
    mark_chart,
    screenshot,
    script_runs,
    step_button,
    wait_for_chart_rerender,
    wait_for_plotly,
    wait_for_script_done,
    wait_for_step,
)

pytestmark = pytest.mark.browser

PATH = "missing-data"
CHART = ".st-key-mi_chart"
FILLED = "missing value filled in: E[x_mis | x_obs, θ]"
WITH_BLANKS = "height,weight\n1.0,2.0\n2.0,\n,3.5\n3.0,4.1\n4.0,5.2\n5.0,\n2.5,3.0\n,\n6.0,7.5\n"


def _trace(page, name: str) -> dict:
    return page.evaluate(
        """([chart, name]) => {
             const t = window.__emviz.graph(chart)._fullData.find(t => t.name === name);
             return {x: Array.from(t.x), y: Array.from(t.y)};
           }""",
        [CHART, name],
    )


def _redrawn(page, act) -> None:
    mark_chart(page, CHART)
    runs_before = script_runs(page)
    act()
    wait_for_chart_rerender(page, CHART, timeout=60_000)
    wait_for_script_done(page, after=runs_before, timeout=60_000)


def test_an_e_step_moves_the_fill_ins_and_an_upload_with_blanks_is_fitted(page, server, tmp_path):
    goto(page, f"{server}/{PATH}", 120_000)
    assert_no_exception(page)
    wait_for_plotly(page, CHART, 60_000)
    fit = runs.missing_data_fit(MissingSettings())
    holes = np.isnan(fit.history.X).any(axis=1)
    start = _trace(page, FILLED)
    np.testing.assert_allclose(start["y"], fit.history.posterior(0).filled[holes, 1], rtol=1e-9)

    # the start has no correlation, so the first E-step fills in the column means (as mean
    # imputation does); the second one uses the correlation the first M-step found
    _redrawn(page, step_button(page, "Full iteration").click)
    assert wait_for_step(page, 2)[0] == 2
    _redrawn(page, step_button(page, "E-step").click)
    assert wait_for_step(page, 3)[0] == 3
    moved = _trace(page, FILLED)
    np.testing.assert_allclose(moved["y"], fit.history.posterior(3).filled[holes, 1], rtol=1e-9)
    assert np.abs(np.subtract(moved["y"], start["y"])).max() > 0.1
    assert "mistep=3" in page.url
    screenshot(page, "missing-data-first-e-step")

    csv = tmp_path / "blanks.csv"
    csv.write_text(WITH_BLANKS)
    toggle = page.locator(".st-key-miup label").first
    _redrawn(page, toggle.click)  # no file yet: the generated data stays
    assert page.get_by_text("until then the page shows generated data").count()
    _redrawn(page, lambda: page.locator(".st-key-miupload input[type=file]").set_input_files(csv))
    assert_no_exception(page)
    title = page.evaluate(
        "(chart) => window.__emviz.graph(chart)._fullLayout.xaxis.title.text", CHART
    )
    assert title == "height"
    assert page.get_by_text("1 row with both values blank left out").count()
    screenshot(page, "missing-data-upload")
