"""Uploads that read fine but that EM cannot fit: each gets its own message, and the page
keeps showing the last data EM did run on.

The pure layer (`emviz.runs`) is tested on the files' bytes; the pages in AppTest, which
cannot drive st.file_uploader: a test puts the file where the upload widget keeps it
(`emviz.ui.state.UPLOAD_FILE`), as the widget does on a real upload.
"""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from emviz import runs
from emviz.settings import UPLOAD, DataSource, ModelSettings
from emviz.ui import state
from tests.apptest_helpers import ROOT, decode, plotly_figure

STEP, WHY = "pages/step-through.py", "pages/why-em-works.py"

# A good file: two clusters of 20 points, so EM runs on it.
GOOD_POINTS = np.round(
    np.vstack(
        [
            np.random.default_rng(0).normal([0, 0], 0.5, (20, 2)),
            np.random.default_rng(1).normal([4, 3], 0.5, (20, 2)),
        ]
    ),
    4,
)
GOOD = "x,y\n" + "".join(f"{a},{b}\n" for a, b in GOOD_POINTS)
CONSTANT_COLUMN = "x,y\n1,5\n2,5\n4,5\n7,5\n3,5\n"
TRIANGLE_REPEATED = "x,y\n" + "0,0\n1,0\n0,1\n" * 4  # 3 distinct points
HUGE = "x,y\n" + "".join(f"{i}e300,{(7 * i) % 5}e300\n" for i in range(1, 30))
TINY = "x,y\n" + "".join(f"{i}e-300,{(7 * i) % 5}e-300\n" for i in range(1, 30))
TWO_ROWS = "x,y\n1,2\n3,5\n"

# (file, K, the start of its message)
CANNOT_FIT = {
    "constant column": (CONSTANT_COLUMN, 2, 'Column "y" has the same value (5) in every row'),
    "3 distinct points, K = 4": (TRIANGLE_REPEATED, 4, "This data has only 3 distinct points"),
    "values ~1e300": (HUGE, 2, 'The values of column "x" span about 3e+301, so large'),
    "values ~1e-300": (TINY, 2, 'The values of column "x" span only about 3e-299, so small'),
    "two rows, K = 3": (TWO_ROWS, 3, "K = 3 components need at least 3 points"),
}
FIXES = {
    "constant column": "Drop that column",
    "3 distinct points, K = 4": "Choose K ≤ 3.",
    "values ~1e300": 'Tick "Standardise columns"',
    "values ~1e-300": 'Tick "Standardise columns"',
    "two rows, K = 3": "Choose K ≤ 2",
}


def _upload_source(text: str, **options) -> tuple[DataSource, bytes]:
    raw = text.encode()
    return DataSource("upload", "f.csv", file_id="f", columns=("x", "y"), **options), raw


# ---- the pure layer ----


@pytest.mark.parametrize("case", CANNOT_FIT)
def test_each_file_gets_its_own_message_and_fix(case):
    text, k, start = CANNOT_FIT[case]
    source, raw = _upload_source(text)
    history, error = runs.fit(runs.load_data(source, raw), ModelSettings(k), source.columns)
    assert history is None
    assert error.startswith(start) and FIXES[case] in error
    assert error.count(". ") <= 2  # one or two plain sentences


@pytest.mark.parametrize(
    "text, expected",
    [
        ("x;y\n1,5;2,25\n2,5;3,75\n4,0;1,0\n", [[1.5, 2.25], [2.5, 3.75], [4.0, 1.0]]),
        ("sep=;\nx;y\n1;2\n3;5\n4;1\n", [[1, 2], [3, 5], [4, 1]]),
    ],
    ids=["decimal comma", "sep= line"],
)
def test_decimal_comma_and_separator_line_files_fit(text, expected):
    source, raw = _upload_source(text)
    X = runs.load_data(source, raw)
    np.testing.assert_array_equal(X, expected)
    history, error = runs.fit(X, ModelSettings(1), source.columns)
    assert error == "" and history.n_iterations >= 1


def test_standardising_makes_the_1e300_file_fit():
    source, raw = _upload_source(HUGE, standardise=True)
    X = runs.load_data(source, raw)
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1.0, rtol=1e-12)
    original = runs.load_data(_upload_source(HUGE)[0], raw)
    # the same points, rescaled: each column an increasing affine image of the original
    for j in range(2):
        assert np.corrcoef(original[:, j] / 1e300, X[:, j])[0, 1] == pytest.approx(1.0)
    history, error = runs.fit(X, ModelSettings(2), source.columns)
    assert error == "" and history.n_iterations >= 1


def test_a_start_the_checks_miss_keeps_the_fits_reason_and_adds_the_fix(monkeypatch):
    # Should a start without width get past the checks, the fit's own reason is kept
    # (without its jargon prefix) and reg_covar is named as the fix.
    monkeypatch.setattr(runs, "fit_obstacle", lambda *args: None)
    source, raw = _upload_source(CONSTANT_COLUMN)
    history, error = runs.fit(runs.load_data(source, raw), ModelSettings(2))
    assert history is None
    assert error == (
        "EM cannot start: Component 1's covariance is not positive definite, so its density "
        "is undefined. Raise reg_covar above 0, or choose fewer components or another "
        "initialisation."
    )


def test_a_bug_in_the_fit_is_not_shown_as_a_reason(monkeypatch):
    # Only InvalidStart (bad data or start) becomes a message; anything else is a bug.
    def broken_init(self, X, method, seed):
        raise IndexError("index 40 is out of bounds")

    monkeypatch.setattr(runs.GaussianMixture, "init_params", broken_init)
    source, raw = _upload_source(GOOD)
    with pytest.raises(IndexError):
        runs.fit(runs.load_data(source, raw), ModelSettings(2))


# ---- the pages ----


def _session(page: str = STEP) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _upload(at: AppTest, text: str, file_id: str, k: int | None = None) -> AppTest:
    """What a real upload of ``text`` does, then K set to ``k``."""
    at.session_state[state.UPLOAD_FILE] = (f"{file_id}.csv", file_id, text.encode())
    if at.sidebar.selectbox(key="data").value != UPLOAD:
        at.sidebar.selectbox(key="data").select(UPLOAD)
    at.run()
    if k is not None:
        at.sidebar.slider(key="k").set_value(k).run()
    assert not at.exception, at.exception
    return at


def _shown_points(at: AppTest) -> np.ndarray:
    """The points of the step view (its first trace: the data)."""
    trace = plotly_figure(at, "main_chart")["data"][0]
    return np.column_stack([decode(trace["x"]), decode(trace["y"])])


def _captions(at: AppTest) -> list[str]:
    return [caption.value for caption in at.caption]


@pytest.mark.parametrize("case", CANNOT_FIT)
def test_each_upload_case_gets_its_specific_message_and_keeps_the_last_fitted_data(case):
    text, k, start = CANNOT_FIT[case]
    at = _upload(_session(), GOOD, "good", k)
    _upload(at, text, f"bad {case}")
    errors = [error.value for error in at.error]
    assert len(errors) == 1 and errors[0].startswith(start) and FIXES[case] in errors[0]
    assert "Still showing the previous data: good.csv — columns x, y." in _captions(at)
    np.testing.assert_allclose(_shown_points(at), GOOD_POINTS)


def test_the_fallback_is_the_last_data_em_ran_on_not_the_last_that_read():
    at = _upload(_session(), GOOD, "good")
    _upload(at, CONSTANT_COLUMN, "constant")  # reads, cannot be fitted
    _upload(at, HUGE, "huge")  # reads, cannot be fitted either
    assert at.error[0].value.startswith('The values of column "x" span about')
    np.testing.assert_allclose(_shown_points(at), GOOD_POINTS)
    _upload(at, "x,y\n1,2\n", "unreadable")  # cannot even be read: said in the sidebar
    assert "only 1 data row" in at.sidebar.error[0].value
    assert "Still showing the previous data: good.csv — columns x, y." in _captions(at)
    np.testing.assert_allclose(_shown_points(at), GOOD_POINTS)


def test_before_any_upload_fits_the_fallback_is_the_preset():
    at = _upload(_session(), CONSTANT_COLUMN, "constant")
    assert at.error[0].value.startswith('Column "y" has the same value (5)')
    assert any(
        c.startswith("Still showing the previous data: Well-separated") for c in _captions(at)
    )
    assert len(_shown_points(at)) == 500


def test_ticking_standardise_makes_the_1e300_file_fit():
    at = _upload(_session(), HUGE, "huge")
    assert at.error[0].value.startswith('The values of column "x" span about')
    at.sidebar.checkbox(key="std").check().run()
    assert not at.exception and not at.error
    shown = _shown_points(at)
    assert len(shown) == 29
    np.testing.assert_allclose(shown.mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(shown.std(axis=0), 1.0, rtol=1e-9)
    assert at.query_params.get("std") is None  # an upload's settings never travel in a link


def test_a_decimal_comma_upload_is_drawn():
    at = _upload(_session(), "x;y\n1,5;2,25\n2,5;3,75\n4,0;1,0\n0,5;0,25\n", "comma", 1)
    assert not at.error
    np.testing.assert_array_equal(
        _shown_points(at), [[1.5, 2.25], [2.5, 3.75], [4, 1], [0.5, 0.25]]
    )


def test_why_em_works_falls_back_the_same_way():
    at = _upload(_session(WHY), GOOD, "good")
    assert not at.error
    decomposition = plotly_figure(at, "decomposition_chart")
    _upload(at, CONSTANT_COLUMN, "constant")
    assert [e.value for e in at.error if e.value.startswith('Column "y" has the same value')]
    assert "Still showing the previous data: good.csv — columns x, y." in _captions(at)
    assert plotly_figure(at, "decomposition_chart") == decomposition
