"""AppTest of "Genetic linkage (1977)": DLR's table and rate from the page's own run, the
counts and start change it, bad counts get a message and keep the previous counts, the step
controls move the ringed θ, and the settings travel in a link."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from emviz import runs
from emviz.analysis.linkage import iterate_table
from emviz.settings import parse_query
from tests.apptest_helpers import ROOT, decode, open_page, plotly_figure
from tests.test_every_setting import _problems
from tests.test_linkage import PUBLISHED_ITERATES

PAGE = "pages/genetic-linkage.py"
CHART = "linkage_chart"
COUNTS = ("gy1", "gy2", "gy3", "gy4")


@pytest.fixture
def at():
    return open_page(PAGE)


def _table(at) -> "dict[str, list[str]]":
    frame = next(d.value for d in at.dataframe if "θ_t" in d.value.columns)
    return {column: list(frame[column]) for column in frame.columns}


def _check(at, counts, start) -> None:
    """The table, the chart and the rate are those of EM on ``counts`` from ``start``."""
    expected = iterate_table(runs.linkage_run(counts, start))
    table = _table(at)
    assert table["θ_t"] == [f"{t:.9f}" for t in expected.thetas]
    figure = plotly_figure(at, CHART)
    iterates = next(t for t in figure["data"] if t["name"] == "EM's iterates θ_t")
    np.testing.assert_allclose(decode(iterates["x"]), expected.thetas, rtol=1e-15)
    rate = f"{expected.missing_fraction:.4f}"
    assert any(rate in m.value for m in at.markdown if "missing information" in m.value)
    assert not _problems(at, PAGE), _problems(at, PAGE)


def test_the_page_reproduces_dlrs_table_and_rate(at):
    table = _table(at)
    shown = [float(t) for t in table["θ_t"][1:9]]
    np.testing.assert_allclose(shown, PUBLISHED_ITERATES, atol=1e-8)
    ratios = table["(θ_t − θ̂) / (θ_{t−1} − θ̂)"]
    assert ratios[0] == "—" and ratios[4:9] == ["0.1328"] * 5
    assert any("0.1328" in m.value and "missing information" in m.value for m in at.markdown)
    assert any("**435.318**" in m.value and "**377.517**" in m.value for m in at.markdown)
    assert any("0.626821497871" in c.value for c in at.caption)
    _check(at, (125, 18, 20, 34), 0.5)


def test_counts_and_start_change_the_run(at):
    at.number_input(key="gy1").set_value(60).run()
    at.number_input(key="gth").set_value(0.2).run()
    assert not at.error
    _check(at, (60, 18, 20, 34), 0.2)


@pytest.mark.parametrize(
    "edits, reason",
    [
        ({"gy2": -3}, "cannot be negative"),
        ({"gy2": 0, "gy3": 0}, "Cells 2 and 3 are both empty"),
        ({"gy1": 70, "gy4": 0}, "Cell 4 is empty"),
        ({"gy1": 0, "gy2": 0, "gy3": 0}, "Cells 2 and 3 are both empty"),
    ],
)
def test_bad_counts_are_refused_and_the_previous_counts_kept(at, edits, reason):
    for key, value in edits.items():
        at.number_input(key=key).set_value(value).run()
    assert not at.exception
    assert [e.value for e in at.error if reason in e.value and "previous counts" in e.value]
    kept = tuple(at.number_input(key=key).value for key in COUNTS)
    assert kept == tuple(
        {**dict(zip(COUNTS, (125, 18, 20, 34))), **dict(list(edits.items())[:-1])}[k]
        for k in COUNTS
    )
    _check(at, kept, 0.5)
    at.number_input(key="gy1").set_value(100).run()  # a good change clears the message
    assert not at.error


def test_the_step_controls_move_the_ringed_theta(at):
    def ringed():
        figure = plotly_figure(at, CHART)
        return decode(next(t for t in figure["data"] if t["name"] == "θ at the shown step")["x"])

    assert ringed()[0] == 0.5
    at.button(key="step_iteration").click().run()
    assert ringed()[0] == pytest.approx(59 / 97, abs=1e-15)
    assert any("M-step" in m.value for m in at.markdown)
    assert plotly_figure(at, "decomposition_chart")["data"]
    at.button(key="step_converge").click().run()
    expected = runs.linkage_run((125, 18, 20, 34), 0.5)
    assert ringed()[0] == expected[-1].params.theta
    assert any("never" in s.value or "rose" in s.value for s in at.success)


def test_the_settings_travel_in_a_link():
    at = open_page(PAGE)
    at.number_input(key="gy4").set_value(40).run()
    at.number_input(key="gth").set_value(0.3).run()
    query = dict(at.query_params)
    assert query == {"gy4": "40", "gth": "0.3"}
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    fresh.query_params.update(query)
    fresh.run()
    fresh.switch_page(PAGE).run()
    assert not fresh.exception and not fresh.sidebar.warning
    _check(fresh, (125, 18, 20, 40), 0.3)


def test_a_link_with_counts_that_cannot_be_fitted_gets_the_defaults_and_says_so():
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    fresh.query_params.update({"gy2": "0", "gy3": "0"})
    fresh.run()
    fresh.switch_page(PAGE).run()
    assert not fresh.exception
    assert any("linkage counts" in w.value for w in fresh.sidebar.warning)
    _check(fresh, (125, 18, 20, 34), 0.5)


def test_the_fields_reject_what_no_control_offers():
    kept, ignored = parse_query({"gy1": "-1", "gth": "1", "gstep": "x", "gy4": "7"})
    assert kept == {"gy4": 7} and len(ignored) == 3
