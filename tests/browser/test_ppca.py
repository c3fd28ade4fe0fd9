"""The "Probabilistic PCA" page in the browser: the step buttons move W (its line ends parallel to
the closed-form principal line), and the dimension radio redraws the data as a 3-D scatter
whose setting reaches the address bar.

The page's contract: the data in .st-key-ppca_data_chart, the angle and σ² in
.st-key-ppca_trace_chart, "Step i of n" in .st-key-step-status, the dimension radio in
.st-key-ppdim.
"""

from __future__ import annotations

import numpy as np
import pytest

from .harness import (
    assert_no_exception,
    goto,
    read_step,
    screenshot,
    script_runs,
    step_button,
    wait_for_plotly,
    wait_for_script_done,
    wait_for_step,
)

pytestmark = pytest.mark.browser

PATH = "ppca"
DATA = ".st-key-ppca_data_chart"
TRACE = ".st-key-ppca_trace_chart"


def _trace_points(page, chart: str, name: str) -> np.ndarray:
    """The drawn x, y (and z) of the trace called ``name``."""
    points = page.evaluate(
        """([chart, name]) => {
             const t = window.__emviz.graph(chart)._fullData.find(t => t.name === name);
             return [Array.from(t.x), Array.from(t.y)].concat(t.z ? [Array.from(t.z)] : []);
           }""",
        [chart, name],
    )
    return np.array(points, dtype=float).T


def _direction(points: np.ndarray) -> np.ndarray:
    vector = points[-1] - points[0]
    return vector / np.linalg.norm(vector)


def _types(page, chart: str) -> set[str]:
    return set(page.evaluate("(c) => window.__emviz.graph(c)._fullData.map(t => t.type)", chart))


def test_stepping_turns_w_onto_the_principal_line_and_3d_draws(page, server):
    goto(page, f"{server}/{PATH}", 120_000)
    assert_no_exception(page)
    for chart in (DATA, TRACE):
        wait_for_plotly(page, chart, 60_000)
    first, last = read_step(page)
    assert first == 0 and last > 10
    start = _direction(_trace_points(page, DATA, "the line along W"))
    principal = _direction(_trace_points(page, DATA, "closed-form principal line"))
    assert abs(start @ principal) < 0.99  # the random start is well off the principal line
    screenshot(page, "ppca-2d-start")

    step_button(page, "Full iteration").click()
    wait_for_step(page, 2)
    step_button(page, "Run to convergence").click()
    wait_for_step(page, last)
    wait_for_script_done(page)
    end = _direction(_trace_points(page, DATA, "the line along W"))
    assert abs(end @ principal) == pytest.approx(1.0, abs=1e-9)
    assert "pstep=" in page.url
    assert_no_exception(page)
    screenshot(page, "ppca-2d-converged")

    runs = script_runs(page)
    page.locator(".st-key-ppdim label").filter(has_text="3").click()
    wait_for_script_done(page, after=runs, timeout=60_000)
    # a 3-D figure needs plotly.js's full bundle: the chart is drawn anew once it has loaded
    page.wait_for_function(
        """(c) => { const gd = window.__emviz.graph(c);
                    return gd && gd._fullData
                      && gd._fullData.every(t => t.type === 'scatter3d'); }""",
        arg=DATA,
        timeout=60_000,
    )
    assert _types(page, DATA) == {"scatter3d"}
    assert _trace_points(page, DATA, "data").shape[1] == 3
    assert "ppdim=3" in page.url
    assert read_step(page)[0] == 0  # another run: back to its start
    assert_no_exception(page)
    screenshot(page, "ppca-3d-start")
