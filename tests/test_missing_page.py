"""AppTest of "Missing data": the fill-ins drawn are the E-step's conditional means at the shown
step, the controls change the data as the generator does, an upload with blank cells is fitted,
and bad files get a sentence."""

import numpy as np
import pytest

from emviz import runs
from emviz.data import DataError, missing_sample, read_points
from emviz.models import InvalidStart
from emviz.settings import MissingSettings, missing_settings_from
from emviz.ui import state
from emviz.ui.state import STORE
from tests.apptest_helpers import choose, decode, open_page, plotly_figure
from tests.test_every_setting import _problems

PAGE = "pages/missing-data.py"
CHART = "mi_chart"
FILLED = "missing value filled in: E[x_mis | x_obs, θ]"
WITH_BLANKS = "height,weight\n1.0,2.0\n2.0,\n,3.5\n3.0,4.1\n4.0,5.2\n5.0,\n2.5,3.0\n,\n6.0,7.5\n"


@pytest.fixture
def at():
    return open_page(PAGE)


def _trace(at, name: str) -> dict:
    return next(t for t in plotly_figure(at, CHART)["data"] if t.get("name") == name)


def _fit_of(at) -> runs.MissingDataFit:
    return runs.missing_data_fit(missing_settings_from(at.session_state[STORE]))


def _shown_step(at) -> int:
    return int(at.session_state[STORE].get("mistep", 0))


def _check_fill_ins(at, fit) -> None:
    """The drawn fill-ins are E[x_mis | x_obs, θ] of the q at the shown step."""
    cursor = _shown_step(at)
    filled = fit.history.posterior(cursor).filled[np.isnan(fit.history.X).any(axis=1)]
    trace = _trace(at, FILLED)
    np.testing.assert_allclose(decode(trace["x"]), filled[:, 0], rtol=1e-12)
    np.testing.assert_allclose(decode(trace["y"]), filled[:, 1], rtol=1e-12)


def test_defaults_draw_every_section_with_finite_numbers(at):
    choose(at, aud=True)  # the audit's details open too
    assert not _problems(at, PAGE), _problems(at, PAGE)
    headings = [h.value for h in at.subheader]
    assert headings == [
        "EM against the quick answers",
        "ln p(X_obs | θ) = ELBO + KL, step by step",
        "Monotonicity audit",
    ]
    for key in (CHART, "decomposition_chart", "audit_chart"):
        plotly_figure(at, key)
    fit = _fit_of(at)
    _check_fill_ins(at, fit)
    table = at.dataframe[0].value
    assert list(table.index) == [
        "truth",
        "EM, step 0",
        "EM, last step",
        "complete cases only",
        "mean imputation",
    ]
    assert table.loc["EM, last step", "mean x₂"] == f"{fit.history.final_params.mean[1]:.3f}"
    assert table.loc["truth", "correlation"] == "0.700"


def test_the_fill_ins_move_with_the_steps(at):
    at.button(key="step_e_step").click().run()  # the first E-step
    fit = _fit_of(at)
    assert _shown_step(at) == 1
    _check_fill_ins(at, fit)
    first = decode(_trace(at, FILLED)["y"]).copy()
    at.button(key="step_converge").click().run()
    assert _shown_step(at) == len(fit.history) - 1
    _check_fill_ins(at, fit)
    assert np.abs(decode(_trace(at, FILLED)["y"]) - first).max() > 0.1
    assert not _problems(at, PAGE)


@pytest.mark.parametrize(
    "kind, key, value",
    [
        ("radio", "mimech", "MCAR"),
        ("slider", "mishare", 0.6),
        ("slider", "mipts", 500),
        ("number_input", "miseed", 3),
        ("radio", "miinit", "complete_cases"),
    ],
)
def test_each_control_changes_the_fit(at, kind, key, value):
    before = plotly_figure(at, CHART)
    getattr(at, kind)(key=key).set_value(value).run()
    assert at.session_state[STORE][key] == value
    settings = missing_settings_from(at.session_state[STORE])
    sample = missing_sample(settings.n_samples, settings.share, settings.mechanism, settings.seed)
    n_complete = int((~np.isnan(sample.observed).any(axis=1)).sum())
    assert _trace(at, f"complete rows ({n_complete})")
    _check_fill_ins(at, _fit_of(at))
    assert plotly_figure(at, CHART) != before
    assert not _problems(at, PAGE)


def test_an_upload_with_blank_cells_is_fitted(at):
    at.session_state[state.MISSING_UPLOAD_FILE] = ("blanks.csv", "blanks-1", WITH_BLANKS.encode())
    at.toggle(key="miup").set_value(True).run()
    assert not _problems(at, PAGE), _problems(at, PAGE)
    figure = plotly_figure(at, CHART)
    assert figure["layout"]["xaxis"]["title"]["text"] == "height"
    assert any("1 row with both values blank left out" in i.value for i in at.info)
    X = read_points(WITH_BLANKS.encode(), allow_missing=True)
    fit = runs.missing_data_fit(MissingSettings(upload="blanks-1"), WITH_BLANKS.encode())
    np.testing.assert_array_equal(fit.history.X, X[~np.isnan(X).all(axis=1)])
    _check_fill_ins(at, fit)
    assert "truth" not in at.dataframe[0].value.index
    assert "mishare" not in [s.key for s in at.sidebar.slider]


def test_the_step_page_still_rejects_blanks_and_names_this_page():
    with pytest.raises(DataError, match="Missing values\\? The page 'Missing data' fits them"):
        read_points(WITH_BLANKS.encode())


def test_files_that_cannot_be_fitted_get_a_sentence():
    one_column = b"x\n1\n2\n3\n"
    with pytest.raises(DataError, match="fits two columns, but the file has 1 numeric column:"):
        runs.missing_data_fit(MissingSettings(upload="a"), one_column)
    never_seen = b"x,y\n1,\n2,\n3,\n"  # a column of blanks holds no number
    with pytest.raises(DataError, match="the file has 1 numeric column"):
        runs.missing_data_fit(MissingSettings(upload="b"), never_seen)
    one_distinct = b"x,y\n1,2\n1,2\n1,\n"
    with pytest.raises(InvalidStart, match="positive definite"):
        runs.missing_data_fit(MissingSettings(upload="e"), one_distinct)
    text = b"x,y\n1,abc\n2,3\n"
    with pytest.raises(DataError, match='non-numeric value "abc" on row 2'):
        runs.missing_data_fit(MissingSettings(upload="c"), text)


def test_a_kept_file_that_cannot_be_fitted_shows_a_message_not_a_traceback(at):
    at.session_state[state.MISSING_UPLOAD_FILE] = ("bad.csv", "bad-1", b"x,y\n1,\n2,\n3,\n")
    at.toggle(key="miup").set_value(True).run()
    assert not at.exception
    assert any("the file has 1 numeric column" in e.value for e in at.error)


def test_too_few_complete_rows_start_from_the_observed_moments():
    text = b"x,y\n1,2\n2,\n,3\n4,\n,5\n6,1\n7,\n"
    fit = runs.missing_data_fit(MissingSettings(init="complete_cases", upload="d"), text)
    assert "observed moments" in fit.note
    assert fit.complete_case is None  # 2 complete rows: no covariance from them
