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


def test_lbfgsb_beside_em_in_a_table_and_a_chart():
    at = _open()
    table = at.table[1].value
    assert list(table.index) == ["EM", "L-BFGS-B"]
    em_its, lbfgsb_its = table["iterations"]
    assert table.loc["EM", "evaluations"] == 2 * em_its
    assert lbfgsb_its < em_its
    assert abs(table.loc["EM", "final ℓ"] - table.loc["L-BFGS-B", "final ℓ"]) < 1e-4
    text = " ".join(m.value for m in at.markdown)
    assert f"It took **{lbfgsb_its}** iterations" in text
    gaps = plotly_figure(at, "cmp_optimiser")
    assert [t["name"] for t in gaps["data"]] == ["EM", "L-BFGS-B"]


def test_the_surplus_mean_control_moves_the_boundary_demo():
    at = _open()
    text = " ".join(m.value for m in at.markdown)
    assert "maximum is exactly at π₁ = 0, on the boundary" in text
    assert "exactly 0, at iteration" in text
    before = plotly_figure(at, "cmp_surplus")
    at.select_slider(key="osur").set_value(0.5).run()
    assert not at.exception
    after = plotly_figure(at, "cmp_surplus")
    assert before["data"][0]["y"] != after["data"][0]["y"]
    text = " ".join(m.value for m in at.markdown)
    assert "surplus N(0.5, 1)" in text
    # a surplus component near the real one: EM's factor per step is close to 1, it crawls too
    factor = float(re.search(r"multiplies it by about \*\*([\d.]+)\*\*", text).group(1))
    assert 0.9 < factor < 1
