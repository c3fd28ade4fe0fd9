"""AppTest of the "Where EM ends up" page: every control changes what is drawn, to the values
the computations give; the choices hold across pages and travel in a link."""

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from emviz import runs
from emviz.settings import (
    ENDS_SECTIONS,
    SphericalRestartSettings,
    SymmetricBasinSettings,
    parse_query,
    spherical_restart_settings_from,
    symmetric_basin_settings_from,
    to_query,
)
from tests.apptest_helpers import (
    ROOT,
    check_tabs,
    choose,
    decode,
    open_page,
    plotly_figure,
)

PAGE = "pages/where-em-ends-up.py"
TABS = {  # the page's tabs (only the open one drawn): heading and charts of each
    "two": ("Two components: almost every start wins", {"ends_basin_chart", "ends_escape_chart"}),
    "more": (
        "Three or more components: bad local maxima",
        {"ends_restart_chart", "ends_config_chart", "ends_k_chart"},
    ),
    "restarts": ("Restarts on your data", {"restart_hist", "restart_groups", "restart_best_worst"}),
}


@pytest.fixture
def at():
    return open_page(PAGE)


def _trace(figure, name_start):
    return next(t for t in figure["data"] if t.get("name", "").startswith(name_start))


def _check_basins(at, settings: SymmetricBasinSettings) -> None:
    """The map, its marks and its numbers are those of ``settings``."""
    expected = runs.symmetric_basin_map(settings)
    figure = plotly_figure(at, "ends_basin_chart")
    np.testing.assert_array_equal(decode(figure["data"][0]["z"]), expected.labels)
    np.testing.assert_allclose(decode(figure["data"][0]["x"]), expected.axis)
    data = _trace(figure, "data")
    np.testing.assert_allclose(decode(data["x"]), expected.X[:, 0])
    plus = _trace(figure, "+θ̂")
    np.testing.assert_allclose(
        [decode(plus["x"])[0], decode(plus["y"])[0]], expected.theta_hat, rtol=1e-12
    )
    text = " ".join(m.value for m in at.markdown)
    assert f"**{100 * expected.by_sign:.1f}%** of the starts" in text
    escape = runs.boundary_escape(expected)
    left = escape.left_at()
    curves = plotly_figure(at, "ends_escape_chart")["data"]
    assert [c["name"] for c in curves][0] == (
        f"ε = 0: on the boundary (leaves at iteration {left[0]})"
    )
    assert f"(at iteration {left[0]})" in text


def _check_restarts(at, settings: SphericalRestartSettings) -> None:
    summary = runs.spherical_restart_summary(settings)
    metrics = {m.label: (m.value, m.proto.delta) for m in at.metric}
    bad = int(summary.outcomes.bad_local_maximum.sum())
    assert metrics["Bad local maxima"] == (
        f"{100 * bad / settings.n_restarts:.1f}%",
        f"{bad} of {settings.n_restarts} restarts",
    )
    gap = summary.outcomes.gaps[summary.shown_bad]
    assert metrics["Gap to the best ℓ"][0] == f"{gap:.1f}"
    bars = plotly_figure(at, "ends_restart_chart")["data"]
    assert sum(len(decode(b["x"])) for b in bars) == settings.n_restarts
    assert any(b["name"] == f"a bad local maximum ({bad})" for b in bars)
    config = plotly_figure(at, "ends_config_chart")
    assert config["layout"]["title"]["text"].startswith(f"A bad end: ℓ lower by {gap:.1f}")
    shares = decode(plotly_figure(at, "ends_k_chart")["data"][0]["y"])
    for k, share in zip(range(3, 7), shares, strict=True):
        other = SphericalRestartSettings(
            2, k, settings.separation, settings.n_restarts, settings.seed
        )
        expected = runs.spherical_restart_summary(other).outcomes.share_bad
        assert share == pytest.approx(100 * expected)


def test_each_tab_draws_its_section_alone(at):
    assert at.title[0].value == "Where EM ends up"
    check_tabs(at, "etab", ENDS_SECTIONS, TABS, "subheader")


def test_defaults(at):
    _check_basins(at, SymmetricBasinSettings())
    _check_restarts(choose(at, etab="more"), SphericalRestartSettings())
    assert not any(s.key == "jk" for s in at.slider)  # 1-D: three clusters, no K to choose


@pytest.mark.parametrize(
    "kind, key, value",
    [("slider", "xsep", 1.5), ("slider", "xn", 200), ("number_input", "xseed", 3)],
)
def test_each_two_component_control_redraws_the_map(at, kind, key, value):
    before = plotly_figure(at, "ends_basin_chart")
    getattr(at, kind)(key=key).set_value(value).run()
    assert not at.exception
    settings = SymmetricBasinSettings(
        **{{"xsep": "separation", "xn": "n_samples", "xseed": "seed"}[key]: value}
    )
    assert symmetric_basin_settings_from({key: value}) == settings
    _check_basins(at, settings)
    assert plotly_figure(at, "ends_basin_chart") != before
    if key == "xn":
        assert len(decode(_trace(plotly_figure(at, "ends_basin_chart"), "data")["x"])) == 200


def test_each_restart_control_changes_the_restarts(at):
    choose(at, etab="more")
    at.radio(key="jdim").set_value(2).run()
    settings = SphericalRestartSettings(dimension=2, n_components=4)
    _check_restarts(at, settings)
    config = plotly_figure(at, "ends_config_chart")
    assert len(decode(_trace(config, "best means")["y"])) == 4  # 2-D: markers, 4 means
    for kind, key, value, field in (
        ("slider", "jk", 5, "n_components"),
        ("slider", "jsep", 6.0, "separation"),
        ("slider", "jr", 100, "n_restarts"),
        ("number_input", "jseed", 2, "seed"),
    ):
        getattr(at, kind)(key=key).set_value(value).run()
        assert not at.exception, key
        settings = SphericalRestartSettings(**{**settings.__dict__, field: value})
        _check_restarts(at, settings)
    colours = plotly_figure(at, "ends_k_chart")["data"][0]["marker"]["color"]
    assert len(set(colours)) == 2 and colours[2] != colours[0]  # K = 5 stands out
    at.radio(key="jdim").set_value(1).run()  # back to 1-D: three clusters, the rest holds
    _check_restarts(at, SphericalRestartSettings(1, 3, 6.0, 100, 2))
    assert plotly_figure(at, "ends_config_chart")["data"][0]["type"] == "bar"  # a histogram


def test_close_clusters_say_there_is_no_bad_maximum(at):
    choose(at, etab="more")
    at.radio(key="jdim").set_value(2).run()
    at.slider(key="jk").set_value(6).run()
    at.slider(key="jsep").set_value(1.5).run()
    at.slider(key="jr").set_value(50).run()
    assert not at.exception
    assert "No restart ended at a bad local maximum" in at.info[0].value
    assert at.metric[0].value == "0.0%"


def test_choices_hold_across_pages_and_travel_in_a_link():
    at = open_page(PAGE)
    for key, value in {"xsep": 4.5, "xn": 300}.items():
        at.slider(key=key).set_value(value).run()
    at.number_input(key="xseed").set_value(7).run()
    basins = plotly_figure(at, "ends_basin_chart")
    choose(at, etab="more")  # the tab shown is a setting too
    for key, value in {"jsep": 3.0, "jr": 150}.items():
        at.slider(key=key).set_value(value).run()
    at.radio(key="jdim").set_value(2).run()
    at.slider(key="jk").set_value(6).run()
    at.number_input(key="jseed").set_value(9).run()
    chosen = {"jsep": 3.0, "jr": 150, "jdim": 2, "jk": 6, "jseed": 9}
    elsewhere = {"xsep": 4.5, "xn": 300, "xseed": 7, "etab": "more"}
    figures = {key: plotly_figure(at, key) for key in ("ends_config_chart", "ends_k_chart")}
    at.switch_page("pages/landscape.py")
    at.run()
    assert not at.exception
    at.switch_page(PAGE)
    at.run()
    shown = {
        w.key: w.value for kind in ("slider", "number_input", "radio") for w in getattr(at, kind)
    }
    assert {key: shown[key] for key in chosen} == chosen
    assert {key: plotly_figure(at, key) for key in figures} == figures

    query = dict(at.query_params)
    assert query == to_query(chosen | elsewhere)  # the address bar: every choice, nothing else
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    fresh.query_params.update(query)
    fresh.run()
    fresh.switch_page(PAGE)
    fresh.run()
    assert not fresh.exception and not fresh.sidebar.warning
    again = {
        w.key: w.value for kind in ("slider", "number_input", "radio") for w in getattr(fresh, kind)
    }
    assert again == shown
    assert json.dumps(plotly_figure(fresh, "ends_k_chart")) == json.dumps(figures["ends_k_chart"])
    assert plotly_figure(choose(fresh, etab="two"), "ends_basin_chart") == basins


def test_the_new_settings_round_trip_and_reject_what_no_control_offers():
    values = {"xsep": 4.5, "xn": 300, "xseed": 7, "jdim": 2, "jk": 6, "jsep": 3.0, "jr": 150}
    query = to_query(values)
    assert query == {
        "xsep": "4.5",
        "xn": "300",
        "xseed": "7",
        "jdim": "2",
        "jk": "6",
        "jsep": "3.0",
        "jr": "150",
    }
    back, ignored = parse_query(query)
    assert back == values and not ignored
    assert spherical_restart_settings_from(back) == SphericalRestartSettings(2, 6, 3.0, 150, 0)
    assert symmetric_basin_settings_from(back) == SymmetricBasinSettings(4.5, 300, 7)
    # 1-D always has its three clusters, whatever K says
    assert spherical_restart_settings_from({"jk": 6}).n_components == 3
    bad = {
        "xsep": "1.25",  # between the slider's steps
        "xn": "150",
        "jdim": "3",
        "jk": "2",
        "jsep": "9",
        "jr": "1000",
        "xseed": "-1",
    }
    kept, ignored = parse_query(bad)
    assert kept == {} and sorted(reason.split(" ")[0] for reason in ignored) == sorted(bad)


CORNERS = [
    {"xsep": 1.0, "xn": 1000, "jdim": 2, "jk": 6, "jsep": 8.0, "jr": 500},
    {"xsep": 6.0, "xn": 100, "jdim": 2, "jk": 3, "jsep": 1.5, "jr": 50},
    {"xsep": 1.0, "xn": 100, "xseed": 5, "jdim": 1, "jsep": 1.5, "jr": 50, "jseed": 3},
    {"xsep": 6.0, "xn": 1000, "jdim": 1, "jsep": 8.0, "jr": 500},
]


def test_every_corner_of_the_settings_shows_finite_numbers_and_every_chart(at):
    """The extremes of every control: no exception, no NaN or ∞ in any text, every chart."""
    from emviz.ui.state import STORE
    from tests.test_every_setting import _chart_specs, _problems

    for corner in CORNERS:
        at.session_state[STORE] = {**corner, "etab": "two"}
        at.run()
        assert not _problems(at, PAGE), (corner, _problems(at, PAGE))
        assert at.slider(key="xsep").value == corner["xsep"]
        assert "ends_basin_chart" in _chart_specs(at)
        assert "ends_escape_chart" in _chart_specs(at) or at.info, corner
        at.session_state[STORE] = {**corner, "etab": "more"}
        at.run()
        assert not _problems(at, PAGE), (corner, _problems(at, PAGE))
        assert at.slider(key="jr").value == corner["jr"]
        assert {"ends_restart_chart", "ends_config_chart"} <= set(_chart_specs(at))
