"""AppTest of the "Failure lab" page: every control changes what is drawn, to the values the
computations give; the choices hold across pages and travel in a link."""

import dataclasses
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from emviz import runs
from emviz.data import load_preset
from emviz.settings import FAILURE_SECTIONS, ModelSettings, parse_query, to_query
from emviz.ui.failure_sections import component_counts
from tests.apptest_helpers import (
    ROOT,
    chart_keys,
    check_tabs,
    choose,
    decode,
    open_page,
    plotly_figure,
)

PAGE = "pages/failure-lab.py"
TABS = {  # the page's tabs (only the open one drawn): heading and charts of each
    "collapse": (
        "A component collapses onto one point",
        {"fl_collapse_fit", "fl_collapse_trace", "fl_remedies"},
    ),
    "slow": ("Slow convergence: how fast EM closes in", {"fl_log_error", "fl_separation"}),
    "early": ("Stopping too early: a loose tolerance", {"fl_early_stop"}),
    "wrongk": ("The wrong number of components, and label switching", {"fl_wrong_k"}),
}
DEFAULT_FIT = ModelSettings(3)  # the default data: well-separated blobs, K = 3


@pytest.fixture
def at():
    return open_page(PAGE)


def _blobs():
    return load_preset("Well-separated blobs", n_samples=500, seed=0)


def _titles(figure) -> list[str]:
    texts = [a["text"] for a in figure["layout"].get("annotations", [])]
    return [text.replace("<br>", " ").replace("\u00a0", " ") for text in texts]


def _check_collapse(at, position: float, iteration: int) -> None:
    history = runs.collapse_run(position)
    assert at.slider(key="flit").value == iteration
    assert at.main.warning[0].value == history.message
    fit = plotly_figure(at, "fl_collapse_fit")
    level = history[2 * iteration].log_likelihood
    assert fit["layout"]["title"]["text"] == f"After iteration {iteration}: ℓ = {level:.2f}"
    trace = plotly_figure(at, "fl_collapse_trace")
    expected = [s.log_likelihood for s in history.steps if s.phase in ("init", "M")]
    np.testing.assert_array_equal(decode(trace["data"][0]["y"]), expected)
    assert [shape["x0"] for shape in trace["layout"]["shapes"]] == [iteration] * 3


def _check_remedies(at, position: float, reg_covar: float) -> None:
    remedies = runs.singularity_remedies(position, reg_covar)
    table = _table(at, "remedy")
    assert list(table["remedy"]) == ["none (reg_covar = 0)", *remedies]
    finals = [runs.collapse_run(position)[-1].log_likelihood] + [
        found[-1][-1].log_likelihood for found in remedies.values()
    ]
    np.testing.assert_array_equal(table["final ℓ"], finals)
    assert list(table["stop"]) == ["stopped: singular", *["converged"] * len(remedies)]
    titles = _titles(plotly_figure(at, "fl_remedies"))
    assert titles[0].endswith(f"ℓ = {finals[1]:.2f}")
    assert any(f"**reg_covar = {reg_covar:g}**" in m.value for m in at.markdown)


def _table(at, column: str):
    """The shown table with a column named ``column``."""
    return next(t.value for t in at.table if column in t.value.columns)


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _check_rates(at, settings: ModelSettings) -> None:
    history, _ = runs.fit(_blobs(), settings)
    study, _ = runs.own_rate_study(history)
    assert _metric(at, "Jacobian's top eigenvalue λ") == f"{study.jacobian_rate:.6f}"
    assert _metric(at, "Rate seen in the iterates") == f"{study.observed_rate:.6f}"
    errors = decode(plotly_figure(at, "fl_log_error")["data"][0]["y"])
    np.testing.assert_array_equal(errors, study.errors[study.errors > 0])


def _check_separation(at, separation: float) -> None:
    _, rate = runs.separation_fit(separation)
    figure = plotly_figure(at, "fl_separation")
    marker = figure["data"][1]
    assert decode(marker["x"])[0] == separation and decode(marker["y"])[0] == rate
    assert any(f"At d = {separation:g}, λ = **{rate:.4f}**" in m.value for m in at.markdown)


def _check_early_stop(at, settings: ModelSettings, loose_tol: float) -> None:
    history, _ = runs.fit(_blobs(), settings)
    early = runs.early_stop(runs.tight_run(history), loose_tol)
    table = _table(at, "ℓ")
    assert list(table["iterations"]) == [early.loose_iteration, early.tight.n_iterations]
    names = [t["name"] for t in plotly_figure(at, "fl_early_stop")["data"] if t.get("name")]
    assert f"tol = {loose_tol:g}: iteration {early.loose_iteration}" in names
    assert any(f"ℓ rises by **{early.log_likelihood_gain:.3g}**" in m.value for m in at.markdown)


def _check_wrong_k(at, settings: ModelSettings) -> None:
    titles = _titles(plotly_figure(at, "fl_wrong_k"))
    X = _blobs()
    for k, title in zip(component_counts(settings.n_components), titles, strict=True):
        history, _ = runs.fit(X, dataclasses.replace(settings, n_components=k))
        assert title.startswith(f"K = {k} ℓ = {history[-1].log_likelihood:.1f}")


def test_each_tab_draws_its_section_alone(at):
    assert at.title[0].value == "Failure lab"
    check_tabs(at, "ftab", FAILURE_SECTIONS, TABS, "header")


def test_defaults(at):
    history = runs.collapse_run(8.0)
    assert history.stop_reason == "singular"
    _check_collapse(at, 8.0, history.n_iterations)  # the last iteration: the collapse shown
    _check_remedies(at, 8.0, 1e-3)
    _check_rates(choose(at, ftab="slow"), DEFAULT_FIT)
    _check_separation(at, 3.0)
    _check_early_stop(choose(at, ftab="early"), DEFAULT_FIT, 1e-1)
    _check_wrong_k(choose(at, ftab="wrongk"), DEFAULT_FIT)


def test_the_isolated_point_and_the_iteration_shown(at):
    at.slider(key="flit").set_value(3).run()
    _check_collapse(at, 8.0, 3)
    at.select_slider(key="flx").set_value(10.0).run()  # another run: its last iteration again
    assert not at.exception
    last = runs.collapse_run(10.0).n_iterations
    _check_collapse(at, 10.0, last)
    _check_remedies(at, 10.0, 1e-3)
    at.slider(key="flit").set_value(0).run()
    _check_collapse(at, 10.0, 0)


def test_the_remedys_reg_covar(at):
    before = plotly_figure(at, "fl_remedies")
    at.select_slider(key="flreg").set_value(1e-1).run()
    assert not at.exception
    _check_remedies(at, 8.0, 1e-1)
    assert plotly_figure(at, "fl_remedies") != before


def test_the_separation_slider(at):
    choose(at, ftab="slow")
    for separation in (1.0, 6.0):
        at.select_slider(key="flsep").set_value(separation).run()
        assert not at.exception
        _check_separation(at, separation)


def test_the_loose_tolerance(at):
    choose(at, ftab="early")
    at.select_slider(key="fltol").set_value(1e-3).run()
    assert not at.exception
    _check_early_stop(at, DEFAULT_FIT, 1e-3)


def test_the_sidebars_mixture_drives_sections_two_to_four(at):
    at.slider(key="k").set_value(4).run()
    assert not at.exception
    settings = ModelSettings(4)
    _check_rates(choose(at, ftab="slow"), settings)
    _check_early_stop(choose(at, ftab="early"), settings, 1e-1)
    _check_wrong_k(choose(at, ftab="wrongk"), settings)
    at.slider(key="k").set_value(1).run()  # K = 1: nothing hidden, K = 1, 2, 3 drawn
    assert not at.exception
    _check_wrong_k(at, ModelSettings(1))
    choose(at, ftab="slow")
    assert _metric(at, "Jacobian's top eigenvalue λ") == "0.000000"
    assert "nothing hidden" in at.info[0].value


def test_a_collapsing_run_of_your_own_says_there_is_no_rate():
    """Blobs, K = 8, spherical, 20 points, reg_covar = 0: the sidebar's run collapses, so
    tab 2 says why there is no rate and the other tabs still draw."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params.update({"n": "20", "k": "8", "cov": "spherical", "ftab": "slow"})
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "This run has no limit to converge to" in warnings
    assert chart_keys(at) == {"fl_separation"}
    assert chart_keys(choose(at, ftab="early")) == {"fl_early_stop"}
    assert chart_keys(choose(at, ftab="wrongk")) == {"fl_wrong_k"}


def test_choices_hold_across_pages_and_travel_in_a_link():
    at = open_page(PAGE)
    at.select_slider(key="flx").set_value(9.0).run()
    at.slider(key="flit").set_value(2).run()
    at.select_slider(key="flreg").set_value(1e-2).run()
    figures = {key: plotly_figure(at, key) for key in ("fl_collapse_fit", "fl_remedies")}
    choose(at, ftab="slow").select_slider(key="flsep").set_value(2.0).run()
    choose(at, ftab="early").select_slider(key="fltol").set_value(1e-2).run()
    choose(at, ftab="collapse")  # the tab shown is a setting too: back where the charts are
    chosen = {"flreg": 1e-2, "flx": 9.0, "flit": 2}
    elsewhere = {"flsep": 2.0, "fltol": 1e-2}
    at.switch_page("pages/landscape.py")
    at.run()
    assert not at.exception
    at.switch_page(PAGE)
    at.run()
    shown = {w.key: w.value for kind in ("slider", "select_slider") for w in getattr(at, kind)}
    assert {key: shown[key] for key in chosen} == chosen
    assert {key: plotly_figure(at, key) for key in figures} == figures

    query = dict(at.query_params)
    assert query == to_query({**chosen, **elsewhere})
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    fresh.query_params.update(query)
    fresh.run()
    fresh.switch_page(PAGE)
    fresh.run()
    assert not fresh.exception and not fresh.sidebar.warning
    again = {w.key: w.value for kind in ("slider", "select_slider") for w in getattr(fresh, kind)}
    assert again == shown
    assert json.dumps(plotly_figure(fresh, "fl_remedies")) == json.dumps(figures["fl_remedies"])


def test_the_new_settings_round_trip_and_reject_what_no_control_offers():
    values = {"flx": 12.0, "flit": 1, "flreg": 1e-4, "flsep": 1.5, "fltol": 1e-4}
    query = to_query(values)
    assert query == {
        "flx": "12.0",
        "flit": "1",
        "flreg": "0.0001",
        "flsep": "1.5",
        "fltol": "0.0001",
    }
    back, ignored = parse_query(query)
    assert back == values and not ignored
    bad = {"flx": "7", "flit": "-1", "flreg": "0", "flsep": "0.5", "fltol": "1e-6"}
    kept, ignored = parse_query(bad)
    assert kept == {} and sorted(reason.split(" ")[0] for reason in ignored) == sorted(bad)


def test_an_iteration_past_the_run_falls_back_to_its_last():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params.update({"flx": "12.0", "flit": "50"})
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception
    assert at.slider(key="flit").value == runs.collapse_run(12.0).n_iterations


CORNERS = [
    {"data": "Heavy overlap", "k": 8, "flx": 12.0, "flreg": 1e-4, "flsep": 1.0, "fltol": 1e-4},
    {"data": "1-D two-component mixture", "k": 1, "cov": "tied", "flsep": 6.0, "fltol": 1e-1},
    {"data": "Old Faithful (standardised)", "k": 5, "cov": "diag", "reg": 0.1, "flit": 0},
]


def test_every_corner_of_the_settings_shows_finite_numbers_and_every_chart(at):
    """Extremes of the lab's controls and of the sidebar: no exception, no NaN or ∞ in any
    text, every chart."""
    from emviz.ui.state import STORE
    from tests.test_every_setting import _chart_specs, _problems

    for corner in CORNERS:
        for tab, (_, charts) in TABS.items():
            at.session_state[STORE] = {**corner, "ftab": tab}
            at.run()
            assert not _problems(at, PAGE), (corner, tab, _problems(at, PAGE))
            assert charts <= set(_chart_specs(at)), (corner, tab)
