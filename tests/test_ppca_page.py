"""AppTest of "Probabilistic PCA": the charts hold the run's values (checked against the
eigen-decomposition and the Gaussian posterior computed here), each control redraws them, the
lower-bound panels work on a continuous hidden variable, and the choices travel in a link."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from emviz import runs
from emviz.data import ppca_sample
from emviz.settings import PPCASettings, parse_query, ppca_settings_from, to_query
from emviz.ui.state import STORE
from tests.apptest_helpers import ROOT, choose, decode, open_page, plotly_figure
from tests.test_every_setting import _problems

PAGE = "pages/ppca.py"
DATA, TRACE = "ppca_data_chart", "ppca_trace_chart"


@pytest.fixture
def at():
    return open_page(PAGE)


def _traces(figure) -> dict:
    return {trace["name"]: trace for trace in figure["data"]}


def _points(trace) -> np.ndarray:
    axes = ("x", "y", "z") if "z" in trace else ("x", "y")
    return np.column_stack([decode(trace[axis]) for axis in axes])


def _top_eigen(X):
    values, vectors = np.linalg.eigh(np.cov(X.T, bias=True))
    return values[::-1], vectors[:, ::-1]


def _check_trace(at, settings: PPCASettings) -> None:
    """Angle and σ² per iteration: the run's, the angle measured here against the top
    eigenvector, σ²_ML the mean of the other eigenvalues."""
    history = runs.ppca_run(settings).history
    X = history.X
    traces = _traces(plotly_figure(at, TRACE))
    values, vectors = _top_eigen(X)
    thetas = [s.params for s in history.steps if s.phase in ("init", "M")]
    cosines = [abs(p.W[:, 0] @ vectors[:, 0]) / np.linalg.norm(p.W) for p in thetas]
    angles = decode(traces["angle(W, top eigenvector)"]["y"])
    np.testing.assert_allclose(angles, np.degrees(np.arccos(np.minimum(cosines, 1))), atol=1e-5)
    noise = decode(traces["σ²"]["y"])
    np.testing.assert_array_equal(noise, [p.noise_variance for p in thetas])
    assert noise[0] == pytest.approx(X.var(axis=0).mean(), rel=1e-12)  # σ² starts there
    assert angles[-1] < 1e-6
    noise_ml = values[1:].mean()
    assert decode(traces["closed-form σ²_ML"]["y"]) == pytest.approx([noise_ml] * 2, rel=1e-10)
    assert noise[-1] == pytest.approx(noise_ml, rel=1e-3)


def _state(at) -> dict:
    return dict(at.session_state[STORE])


def test_defaults_draw_the_run_of_the_default_settings(at):
    assert at.title[0].value == "Probabilistic PCA"
    assert ppca_settings_from(_state(at)) == PPCASettings()
    X, _ = ppca_sample(200, 2, 0.5, seed=0)
    traces = _traces(plotly_figure(at, DATA))
    np.testing.assert_array_equal(_points(traces["data"]), X)
    # the initial q is the prior: every reconstruction W·0 + μ is the sample mean
    np.testing.assert_allclose(
        _points(traces["W E[z_n] + μ"]), np.tile(X.mean(axis=0), (200, 1)), atol=1e-12
    )
    principal = _points(traces["closed-form principal line"])
    direction = principal[1] - principal[0]
    assert abs(direction @ _top_eigen(X)[1][:, 0]) == pytest.approx(np.linalg.norm(direction))
    _check_trace(at, PPCASettings())
    assert "Converged after" in at.caption[0].value
    assert not _problems(at, PAGE), _problems(at, PAGE)
    shown = " ".join(m.value for m in at.markdown)
    assert "q is the prior N(0, I)" in shown and "O(N D L)" in shown
    choose(at, aud=True)  # the audit's details: drawn once opened
    for key in ("ppca_decomposition_chart", "audit_chart"):
        plotly_figure(at, key)
    assert not at.error and not at.warning


def test_stepping_shows_each_steps_line_and_posterior(at):
    X, _ = ppca_sample(200, 2, 0.5, seed=0)
    at.button(key="step_e_step").click().run()
    at.button(key="step_m_step").click().run()
    at.button(key="step_e_step").click().run()  # step 3: the E-step after one iteration
    assert not at.exception and _state(at)["pstep"] == 3
    traces = _traces(plotly_figure(at, DATA))
    arrow = _points(traces["W (from μ)"])
    mu, w = arrow[0], arrow[1] - arrow[0]
    sigma2 = float(plotly_figure(at, DATA)["layout"]["title"]["text"].split("σ² = ")[1])
    # the E-step's positions W E[z_n] + μ, E[z_n] = wᵀ C⁻¹ (x_n − μ) with C = w wᵀ + σ² I
    C = np.outer(w, w) + sigma2 * np.eye(2)
    expected = np.outer((X - mu) @ np.linalg.solve(C, w), w) + mu
    np.testing.assert_allclose(_points(traces["W E[z_n] + μ"]), expected, rtol=1e-3, atol=1e-3)
    cursor_line = plotly_figure(at, TRACE)["layout"]["shapes"][0]
    assert cursor_line["x0"] == 1  # the θ of iteration 1
    at.button(key="step_converge").click().run()
    shown = " ".join(m.value for m in at.markdown)
    final = runs.ppca_run(PPCASettings()).history.final_params
    assert f"σ² = **{final.noise_variance:.6f}**" in shown
    assert "× 10⁻" in shown.split("from the top eigenvector")[0]  # an angle of rounding size


@pytest.mark.parametrize(
    "kind, key, value, field",
    [
        ("radio", "ppdim", 3, "dimension"),
        ("slider", "ppn", 500, "n_samples"),
        ("select_slider", "ppnoise", 1.0, "noise"),
        ("number_input", "ppseed", 4, "seed"),
        ("radio", "ppinit", "first_axis", "init"),
    ],
)
def test_each_control_redraws_the_charts(at, kind, key, value, field):
    before = plotly_figure(at, TRACE)
    getattr(at, kind)(key=key).set_value(value).run()
    assert not at.exception
    settings = PPCASettings(**{field: value})
    assert ppca_settings_from(_state(at)) == settings
    X, _ = ppca_sample(settings.n_samples, settings.dimension, settings.noise, seed=settings.seed)
    _check_trace(at, settings)
    assert plotly_figure(at, TRACE) != before
    data = _traces(plotly_figure(at, DATA))
    np.testing.assert_array_equal(_points(data["data"]), X)
    assert {t["type"] for t in data.values()} == (
        {"scatter3d"} if settings.dimension == 3 else {"scatter"}
    )
    if key == "ppinit":  # W starts along the x-axis
        start = _points(data["the line along W"])
        assert start[0][1] == pytest.approx(start[1][1])
    assert not _problems(at, PAGE), _problems(at, PAGE)


def test_choices_travel_in_a_link_and_a_bad_value_is_ignored_with_a_notice():
    at = open_page(PAGE)
    at.radio(key="ppdim").set_value(3).run()
    at.select_slider(key="ppnoise").set_value(0.25).run()
    at.button(key="step_iteration").click().run()
    query = dict(at.query_params)
    assert query == to_query(_state(at)) and {"ppdim": "3", "ppnoise": "0.25"}.items() <= (
        query.items()
    )
    figure = plotly_figure(at, DATA)
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    fresh.query_params.update({**query, "ppn": "7"})  # below the smallest size offered
    fresh.run()
    fresh.switch_page(PAGE).run()
    assert not fresh.exception
    assert "ppn" in " ".join(w.value for w in fresh.sidebar.warning)
    assert plotly_figure(fresh, DATA) == figure  # the same view; 7 points gave way to 200


def test_the_settings_parse_and_reject_what_no_control_offers():
    values, ignored = parse_query({"ppdim": "4", "ppnoise": "0", "ppinit": "kmeans", "ppn": "25"})
    assert values == {} and len(ignored) == 4
    values, ignored = parse_query({"ppdim": "3", "ppinit": "axis", "ppn": "30", "pstep": "5"})
    assert ignored == [] and ppca_settings_from(values) == PPCASettings(3, 30, init="first_axis")
    assert to_query(values) == {"ppdim": "3", "ppinit": "axis", "ppn": "30", "pstep": "5"}
