"""AppTest of "EM or gradient ascent?": the four comparisons show measured values."""

import re

from tests.apptest_helpers import open_page, plotly_figure


def _open():
    return open_page("pages/em-vs-gradient.py")


def test_comparisons_show_measured_values():
    at = _open()
    assert "broke at iteration" in at.warning[0].value  # η = 3 leaves the parameter space
    monotone = plotly_figure(at, "cmp_monotone")
    assert any("ℓ falls" in t.get("name", "") for t in monotone["data"])
    table = at.table[0].value
    assert list(table.columns) == ["π₁", "μ₁", "μ₂", "σ₁²", "σ₂²"]
    assert not 0 < table.iloc[1, 0] < 1  # the plain step's weight left [0, 1]
    assert 0 < table.iloc[2, 0] < 1 and 0 < table.iloc[3, 0] < 1
    text = " ".join(m.value for m in at.markdown)
    seen, jacobian = map(float, re.findall(r"\*\*(0\.\d+)\*\*", text)[:2])
    assert abs(seen - jacobian) < 1e-3 and 0 < seen < 1


def test_a_small_learning_rate_keeps_gradient_ascent_inside():
    at = _open()
    at.select_slider(key="clr").set_value(0.1).run()
    assert not at.exception
    monotone = plotly_figure(at, "cmp_monotone")
    assert not any("ℓ falls" in t.get("name", "") for t in monotone["data"])
