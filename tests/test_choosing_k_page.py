"""AppTest of "Choosing K": every control changes what is drawn, to the values the computations
give; data that cannot be fitted gets a message; the choices hold across pages and travel in a
link."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from emviz import runs
from emviz.settings import (
    COVARIANCE_TYPES,
    DEFAULT_SOURCE,
    PRESET_SLUGS,
    UPLOAD,
    SelectionSettings,
    parse_query,
    preset_source,
    selection_settings_from,
    to_query,
)
from emviz.ui import state
from emviz.ui.state import STORE
from tests.apptest_helpers import ROOT, decode, open_page, plotly_figure
from tests.test_every_setting import _problems
from tests.test_uploads import HUGE

PAGE = "pages/choosing-k.py"
CRITERION = "sel_criterion_chart"
HELD_OUT = "sel_heldout_chart"
CHOSEN = "sel_chosen_chart"


@pytest.fixture
def at():
    return open_page(PAGE)


def _expected(source, settings: SelectionSettings):
    X = runs.load_data(source)
    grids = [
        runs.selection_grid(X, t, settings.n_restarts, settings.split_seed)
        for t in settings.covariance_types
    ]
    return runs.selection_of(len(X), grids, settings.n_restarts, settings.split_seed)


def _or_nan(values) -> list[float]:
    """A failed fit's missing value is a gap (NaN) in the chart."""
    return [np.nan if v is None else v for v in values]


def _lines(figure) -> dict:
    return {t["name"]: decode(t["y"]) for t in figure["data"] if t.get("mode") == "lines+markers"}


def _check(at, settings: SelectionSettings, source=DEFAULT_SOURCE) -> None:
    """Every chart and the sentence are those of ``settings`` on ``source``."""
    expected = _expected(source, settings)
    criterion = settings.criterion
    lines = _lines(plotly_figure(at, CRITERION))
    assert list(lines) == list(settings.covariance_types)
    for covariance_type, values in lines.items():
        fits = expected.of_type(covariance_type)
        np.testing.assert_allclose(
            values, _or_nan(f.criterion(criterion) for f in fits), rtol=1e-12
        )
    held_out = _lines(plotly_figure(at, HELD_OUT))
    for covariance_type in settings.covariance_types:
        fits = expected.of_type(covariance_type)
        train = held_out[f"{covariance_type}, training"]
        np.testing.assert_allclose(train, _or_nan(f.train_per_point for f in fits), rtol=1e-12)
        test = held_out[f"{covariance_type}, held out"]
        np.testing.assert_allclose(test, _or_nan(f.test_per_point for f in fits), rtol=1e-12)
    chosen = expected.chosen(criterion, settings.covariance_types)
    title = plotly_figure(at, CHOSEN)["layout"]["title"]["text"]
    name = criterion.upper()
    assert title.startswith(
        f"Chosen by {name}:<br>K = {chosen.n_components}, {chosen.covariance_type} covariances"
    )
    text = " ".join(m.value for m in at.markdown)
    assert f"**{name} → K = {chosen.n_components}, {chosen.covariance_type}**" in text
    captions = " ".join(c.value for c in at.caption)
    assert f"each the best of {settings.n_restarts} k-means++ restart" in captions


def test_defaults(at):
    assert at.title[0].value == "Choosing K"
    assert [s.value for s in at.subheader] == ["Training against held-out likelihood"]
    _check(at, SelectionSettings())
    assert not at.warning and not at.error
    assert not _problems(at, PAGE), _problems(at, PAGE)


@pytest.mark.parametrize(
    "kind, key, value, field",
    [
        ("slider", "sr", 5, "n_restarts"),
        ("number_input", "sseed", 7, "split_seed"),
        ("radio", "scrit", "icl", "criterion"),
        ("multiselect", "scov", ("spherical", "tied"), "covariance_types"),
    ],
)
def test_each_control_redraws_the_charts(at, kind, key, value, field):
    before = {key: plotly_figure(at, key) for key in (CRITERION, HELD_OUT)}
    getattr(at, kind)(key=key).set_value(list(value) if kind == "multiselect" else value).run()
    assert not at.exception
    settings = SelectionSettings(**{field: value})
    assert selection_settings_from(state_values(at)) == settings
    _check(at, settings)
    after = {key: plotly_figure(at, key) for key in (CRITERION, HELD_OUT)}
    changed = [key for key in after if after[key] != before[key]]
    if key == "scrit":  # another criterion of the same fits
        assert changed == [CRITERION]
    elif key == "sseed":  # another split: the criteria are of all the points, unchanged
        assert changed == [HELD_OUT]
    else:  # more restarts find better fits somewhere; fewer types draw fewer lines
        assert changed == [CRITERION, HELD_OUT]


def state_values(at) -> dict:
    return dict(at.session_state[STORE])


def test_no_covariance_type_asks_for_one(at):
    at.multiselect(key="scov").set_value([]).run()
    assert not at.exception
    assert at.warning[0].value == "Pick at least one covariance type."
    assert dict(at.query_params)["scov"] == "none"


def test_too_few_points_for_eight_components_says_which_fits_failed(at):
    at.session_state[STORE] = {"data": PRESET_SLUGS["overlap"], "n": 20}
    at.run()
    assert not _problems(at, PAGE), _problems(at, PAGE)
    source = preset_source({"data": PRESET_SLUGS["overlap"], "n": 20})
    _check(at, SelectionSettings(), source)
    note = at.warning[0].value
    assert note.startswith("Not every fit could be made")
    failed = _expected(source, SelectionSettings()).failures
    assert failed and all(f"{f.covariance_type} K = {f.n_components}" in note for f in failed)
    assert "collapsed onto a few points" in note
    lines = _lines(plotly_figure(at, CRITERION))
    assert all(np.isnan(lines[f.covariance_type][f.n_components - 1]) for f in failed if f.failed)


def test_data_no_mixture_fits_says_why_and_keeps_the_previous_data(at):
    """Values near 1e300 cannot be fitted even with one component: the reason with its fix,
    and the charts of the preset shown before."""
    at.session_state[state.UPLOAD_FILE] = ("huge.csv", "huge", HUGE.encode())
    at.sidebar.selectbox(key="data").select(UPLOAD).run()
    assert not at.exception
    (error,) = at.error
    assert error.value.startswith('The values of column "x" span about 3e+301, so large')
    assert 'Tick "Standardise columns"' in error.value
    captions = [c.value for c in at.caption]
    assert f"Still showing the previous data: {DEFAULT_SOURCE.label()}." in captions
    _check(at, SelectionSettings())


def test_choices_hold_across_pages_and_travel_in_a_link():
    at = open_page(PAGE)
    at.slider(key="sr").set_value(2).run()
    at.number_input(key="sseed").set_value(3).run()
    at.radio(key="scrit").set_value("aic").run()
    at.multiselect(key="scov").unselect("diag").run()
    chosen = {"sr": 2, "sseed": 3, "scrit": "aic", "scov": ("full", "spherical", "tied")}
    figures = {key: plotly_figure(at, key) for key in (CRITERION, HELD_OUT, CHOSEN)}
    at.switch_page("pages/step-through.py").run()
    assert not at.exception
    at.switch_page(PAGE).run()
    shown = {
        "sr": at.slider(key="sr").value,
        "sseed": at.number_input(key="sseed").value,
        "scrit": at.radio(key="scrit").value,
        "scov": tuple(at.multiselect(key="scov").value),
    }
    assert shown == chosen
    assert {key: plotly_figure(at, key) for key in figures} == figures

    query = dict(at.query_params)
    assert (
        query
        == to_query(chosen)
        == {
            "sr": "2",
            "sseed": "3",
            "scrit": "aic",
            "scov": "full-spherical-tied",
        }
    )
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    fresh.query_params.update(query)
    fresh.run()
    fresh.switch_page(PAGE).run()
    assert not fresh.exception and not fresh.sidebar.warning
    assert {key: plotly_figure(fresh, key) for key in figures} == figures


def test_the_settings_round_trip_and_reject_what_no_control_offers():
    values = {"sr": 10, "sseed": 12, "scrit": "icl", "scov": ("diag",)}
    back, ignored = parse_query(to_query(values))
    assert back == values and not ignored
    assert selection_settings_from(back) == SelectionSettings(10, 12, "icl", ("diag",))
    assert selection_settings_from({}).covariance_types == COVARIANCE_TYPES
    bad = {"sr": "0", "sseed": "-2", "scrit": "dic", "scov": "full-full"}
    kept, ignored = parse_query(bad)
    assert kept == {} and sorted(r.split(" ")[0] for r in ignored) == sorted(bad)
    assert parse_query({"scov": "tied-full"})[0] == {"scov": ("full", "tied")}
