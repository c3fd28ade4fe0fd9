"""AppTest of the hidden Markov model page: the charts hold the run's values, the controls
change the run, an upload is fitted and a bad one gets a message while the page keeps a series."""

import numpy as np
import pytest

from emviz import runs
from emviz.models import GaussianHMM
from emviz.settings import HMMRun
from emviz.ui import state
from tests.apptest_helpers import choose, decode, open_page, plotly_figure
from tests.test_every_setting import _problems

PAGE = "pages/hidden-markov.py"
CHARTS = (
    "hmm_series_chart",
    "hmm_transmat_chart",
    "hmm_emission_chart",
    "hmm_ll_chart",
    "hmm_bound_chart",
    "audit_chart",
)


@pytest.fixture
def at():
    return open_page(PAGE)


def _expected(run: HMMRun, raw: bytes | None = None):
    history, error = runs.hmm_fit(runs.hmm_series(run, raw), run)
    assert history is not None, error
    return history


def _shown_step(at) -> int:
    status = next(m.value for m in at.markdown if m.value.startswith("**Step "))
    return int(status.split()[1])


def _check(at, history) -> None:
    """The charts show ``history`` at the shown step: the series, γ, A, the densities' labels."""
    cursor = _shown_step(at)
    series = plotly_figure(at, "hmm_series_chart")["data"]
    np.testing.assert_allclose(decode(series[0]["y"]), history.X[:, 0])
    gamma = history.responsibilities(cursor)
    n_states = gamma.shape[1]
    assert len(series) == 1 + n_states
    for state_index in range(n_states):
        np.testing.assert_allclose(decode(series[1 + state_index]["y"]), gamma[:, state_index])
    heat = plotly_figure(at, "hmm_transmat_chart")["data"][0]
    np.testing.assert_allclose(decode(heat["z"]), history[cursor].params.transmat, rtol=1e-12)
    names = [t["name"] for t in plotly_figure(at, "hmm_emission_chart")["data"]]
    params = history[cursor].params
    for state_index in range(n_states):
        label = f"state {state_index + 1}: μ = {params.means[state_index]:.3f}"
        assert any(name.startswith(label) for name in names), (label, names)
    assert not _problems(at, PAGE), _problems(at, PAGE)


def test_the_page_shows_the_run_of_its_settings(at):
    history = _expected(HMMRun())
    assert "audit_chart" not in {e.proto.id.rsplit("-", 1)[-1] for e in at.get("bidi_component")}
    choose(at, aud=True)  # the audit's details: drawn once opened
    for key in CHARTS:
        plotly_figure(at, key)
    assert _shown_step(at) == 0
    # at the start q is uniform: every state probability 1/S
    _check(at, history)
    at.button(key="step_e_step").click().run()
    assert _shown_step(at) == 1
    _check(at, history)
    at.button(key="step_converge").click().run()
    assert _shown_step(at) == len(history) - 1
    _check(at, history)
    assert any("never fell" in s.value for s in at.success)  # the audit: ℓ never fell


def test_each_control_changes_the_run(at):
    at.sidebar.slider(key="hk").set_value(3).run()
    at.sidebar.slider(key="hn").set_value(700).run()
    at.sidebar.number_input(key="hseed").set_value(4).run()
    at.sidebar.selectbox(key="hinit").select("random").run()
    at.button(key="step_iteration").click().run()
    assert not at.exception
    run = HMMRun(n_states=3, n_samples=700, seed=4, init="random")
    history = _expected(run)
    assert history.model == GaussianHMM(3) and len(history.X) == 700
    _check(at, history)
    assert at.query_params["hk"] == "3" and at.query_params["hinit"] == "random"


def _upload(at, text: str, name: str):
    """What a real upload of ``text`` as ``name``.csv does. Its file id is this module's own:
    the caches key on file ids, which other tests' files must not share."""
    at.session_state[state.UPLOAD_FILE] = (f"{name}.csv", f"hmm-page {name}", text.encode())
    if at.sidebar.selectbox(key="hsrc").value != "upload":
        at.sidebar.selectbox(key="hsrc").select("upload")
    at.run()
    assert not at.exception, at.exception
    return at


GOOD_SERIES = np.round(runs.hmm_series(HMMRun(n_samples=300, seed=9))[:, 0], 6)
GOOD = "price,volume\n" + "".join(f"{x},{i}\n" for i, x in enumerate(GOOD_SERIES))


def test_an_uploaded_column_is_fitted_and_a_bad_file_keeps_it(at):
    at.sidebar.selectbox(key="hsrc").select("upload").run()
    assert "Upload a CSV file with a numeric column." in [i.value for i in at.sidebar.info]
    assert len(plotly_figure(at, "hmm_series_chart")["data"][0]["y"]["bdata"]) > 0
    assert any("meanwhile" in c.value for c in at.caption)  # the regime series, said so
    _upload(at, GOOD, "good")
    assert not at.error
    np.testing.assert_allclose(
        decode(plotly_figure(at, "hmm_series_chart")["data"][0]["y"]), GOOD_SERIES
    )
    # two distinct values for three states: the start cannot be made; the message, and the
    # good file still shown
    at.sidebar.slider(key="hk").set_value(3).run()
    _upload(at, "x\n" + "3\n4\n" * 20, "two values")
    assert [e.value for e in at.error] == [
        "The series has 2 distinct value(s): too few for 3 states. Choose fewer states or "
        "another series."
    ]
    assert any(c.value.startswith("Showing the good.csv") for c in at.caption)
    np.testing.assert_allclose(
        decode(plotly_figure(at, "hmm_series_chart")["data"][0]["y"]), GOOD_SERIES
    )
    # a constant column is refused by the reader, by the controls
    _upload(at, "x\n" + "3\n" * 40, "constant")
    assert "All 40 rows are the same point (3)" in at.sidebar.error[0].value
    np.testing.assert_allclose(
        decode(plotly_figure(at, "hmm_series_chart")["data"][0]["y"]), GOOD_SERIES
    )
    # a file that cannot be read: said in the sidebar, the good file still shown
    _upload(at, "x\nfoo\nbar\n", "unreadable")
    assert at.sidebar.error
    np.testing.assert_allclose(
        decode(plotly_figure(at, "hmm_series_chart")["data"][0]["y"]), GOOD_SERIES
    )
    assert not _problems(at, PAGE), _problems(at, PAGE)


def test_overflowing_values_get_the_standardise_fix_and_then_fit(at):
    huge = "x\n" + "".join(f"{x * 1e300}\n" for x in GOOD_SERIES[:100])
    _upload(at, huge, "huge")
    assert at.error and "Standardise columns" in at.error[0].value
    at.sidebar.checkbox(key="std").check().run()
    assert not at.error and not at.exception
    shown = decode(plotly_figure(at, "hmm_series_chart")["data"][0]["y"])
    assert shown.mean() == pytest.approx(0.0, abs=1e-9)
