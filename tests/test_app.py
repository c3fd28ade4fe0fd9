"""AppTest: every page runs; the step page's presets, buttons and scrubber drive the figure."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from emviz import GaussianMixture, run_em
from emviz.analysis.known_labels import compare_with_labels
from emviz.data import PRESETS, load_preset, preset_names
from tests.apptest_helpers import choose
from tests.apptest_helpers import decode as _decode

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))
STEP_PAGE = "pages/step-through.py"


def _chart_args(at, key="main_chart"):
    """The arguments a live chart (emviz.ui.live_chart) was given, by its widget key."""
    for element in at.get("bidi_component"):
        if element.proto.id.endswith(f"-{key}"):
            return json.loads(element.proto.json)
    raise AssertionError(f"no live chart with key {key!r}")


def _figure(at, key="main_chart"):
    """The figure a live chart was given, by its widget key."""
    return json.loads(_chart_args(at, key)["spec"])


def _animation(at):
    return json.loads(_chart_args(at, "play_chart")["spec"])


def _status(at):
    return next(m.value for m in at.markdown if m.value.startswith("**Step "))


def _open(page=STEP_PAGE):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def test_app_starts_on_the_landing_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert at.title[0].value == "Watch the EM algorithm work"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs(page):
    at = _open(page)
    assert not at.error


def _reference_history(preset="Well-separated blobs", n=500, k=3):
    X = load_preset(preset, n_samples=n, seed=0)
    return run_em(GaussianMixture(k), X, "kmeans++", max_iter=100, tol=1e-6, seed=0)


def _ellipse_check(figure, params, k):
    """The 1σ ring of component k in the figure lies at Mahalanobis radius 1 under params."""
    rings = figure["data"][1 + k]
    xy = np.column_stack([_decode(rings["x"]), _decode(rings["y"])])
    diff = xy[: np.flatnonzero(np.isnan(xy[:, 0]))[0]] - params.means[k]
    radii = np.einsum("ni,ij,nj->n", diff, np.linalg.inv(params.covariances[k]), diff)
    np.testing.assert_allclose(radii, 1.0, rtol=1e-6)


def test_buttons_move_the_shown_step():
    at = _open()
    reference = _reference_history()
    last = len(reference) - 1
    assert _status(at).startswith(f"**Step 0 of {last}**")
    sequence = [
        ("e_step", 1),
        ("m_step", 2),
        ("iteration", 4),
        ("back", 3),
        ("iteration", 4),
        ("converge", last),
        ("reset", 0),
    ]
    for action, expected in sequence:
        before = {key: _chart_args(at, key) for key in ("main_chart", "ll_chart")}
        at.button(key=f"step_{action}").click().run()
        assert not at.exception
        assert _status(at).startswith(f"**Step {expected} of {last}**"), action
        for key, args in before.items():
            # What the browser drew on the click, before the server answered, is what it sends.
            assert args["moves"][f"step_{action}"] == expected
            assert args["preload"][str(expected)] == _chart_args(at, key)["spec"]
        figure = _figure(at)
        assert figure["layout"]["title"]["text"].startswith(f"Step {expected} ")
        _ellipse_check(figure, reference[expected].params, k=1)
    assert at.button(key="step_m_step").disabled  # at the initial state the next is an E-step
    assert at.button(key="step_back").disabled
    moves = _chart_args(at)["moves"]  # the buttons that apply, and only they
    assert moves == {"step_e_step": 1, "step_iteration": 2, "step_converge": last}
    for action in ("e_step", "m_step", "iteration", "converge", "back", "reset"):
        assert at.button(key=f"step_{action}").disabled == (f"step_{action}" not in moves)


def test_scrubber_shows_any_step_without_rerunning_em():
    at = _open()
    reference = _reference_history()
    at.slider(key="step").set_value(5).run()
    assert _status(at).startswith("**Step 5 of")
    figure = _figure(at)
    _ellipse_check(figure, reference[5].params, k=0)
    colours = figure["data"][0]["marker"]["color"]
    assert len(colours) == 500
    log_likelihood = _figure(at, "ll_chart")
    shown = next(t for t in log_likelihood["data"] if t.get("name") == "shown step")
    assert _decode(shown["y"])[0] == pytest.approx(reference[5].log_likelihood, rel=1e-12)


@pytest.mark.parametrize("preset", preset_names())
def test_every_preset_draws_its_data(preset):
    at = _open()
    at.selectbox(key="data").set_value(preset).run()
    assert not at.exception and not at.error
    assert at.slider(key="k").value == PRESETS[preset].n_components
    figure = _figure(at)
    X = load_preset(preset, n_samples=500, seed=0)
    if X.shape[1] == 1:
        histogram, rug = figure["data"][0], figure["data"][-1]
        density, _ = np.histogram(X[:, 0], bins=len(_decode(histogram["x"])), density=True)
        np.testing.assert_allclose(_decode(histogram["y"]), density)
        np.testing.assert_allclose(_decode(rug["x"]), X[:, 0])
    else:
        points = figure["data"][0]
        np.testing.assert_allclose(_decode(points["x"]), X[:, 0])
        np.testing.assert_allclose(_decode(points["y"]), X[:, 1])
    animation = _animation(at)
    assert len(animation["frames"]) >= 3


def test_model_settings_change_the_run():
    at = _open()
    at.slider(key="k").set_value(4).run()
    at.selectbox(key="cov").set_value("spherical").run()
    at.button(key="step_converge").click().run()
    figure = _figure(at)
    means = next(t for t in figure["data"] if t.get("name", "").startswith("means"))
    assert len(_decode(means["x"])) == 4
    reference = run_em(
        GaussianMixture(4, "spherical"),
        load_preset("Well-separated blobs", n_samples=500, seed=0),
        "kmeans++",
        max_iter=100,
        tol=1e-6,
        seed=0,
    )
    np.testing.assert_allclose(
        np.column_stack([_decode(means["x"]), _decode(means["y"])]),
        reference.final_params.means,
        rtol=1e-9,
    )


def test_point_inspector_shows_bayes_rule():
    at = _open()
    at.button(key="step_iteration").click().run()
    at.number_input(key="pt").set_value(17).run()
    table = at.table[1].value  # [0] is the parameter table
    products = table["π · N"].to_numpy()
    np.testing.assert_allclose(table["responsibility"], products / products.sum(), rtol=1e-9)


def test_a_smaller_data_set_keeps_the_inspected_point_in_range():
    at = _open()
    at.number_input(key="pt").set_value(450).run()
    assert _figure(at)["data"][-1]["name"] == "selected point"
    at.sidebar.slider(key="n").set_value(100).run()
    assert not at.exception
    assert at.number_input(key="pt").value == 0
    assert len(_figure(at)["data"][0]["marker"]["color"]) == 100


def _parameter_table(at):
    """The step page's parameter table and the (row, column) cells it highlights."""
    table = at.table[0]
    highlighted = set()
    for rule in table.proto.arrow_data.styler.styles.split("}"):
        if "background-color" in rule:
            cells = re.findall(r"_row(\d+)_col(\d+)", rule)
            highlighted |= {(int(row), int(column)) for row, column in cells}
    return table.value, highlighted


def test_parameter_table_shows_every_component_and_highlights_what_changed():
    # K = 8 with full 2-D covariances, the widest table: one row per component, six columns
    at = _open()
    at.slider(key="k").set_value(8).run()
    reference = _reference_history(k=8)
    at.button(key="step_e_step").click().run()
    after_e, highlighted_e = _parameter_table(at)
    at.button(key="step_m_step").click().run()
    after_m, highlighted_m = _parameter_table(at)
    params = reference[2].params
    assert list(after_m.index) == list(range(1, 9))
    expected = np.column_stack(
        [params.weights, params.means, params.covariances[:, 0, 0],
         params.covariances[:, 0, 1], params.covariances[:, 1, 1]]
    )  # fmt: skip
    np.testing.assert_allclose(after_m.to_numpy(float), expected, rtol=1e-12)
    assert highlighted_e == set()  # an E-step never changes θ
    changed = np.argwhere(after_m.to_numpy(float) != after_e.to_numpy(float))
    assert highlighted_m == {(int(row), int(column)) for row, column in changed}
    assert len(highlighted_m) > 0


def _known_labels_expander(at):
    return next(e for e in at.expander if e.label.startswith("What the hidden labels cost"))


def test_known_labels_section_compares_em_with_the_labelled_fit():
    at = _open()
    at.selectbox(key="data").set_value("Elongated clusters").run()
    assert not _known_labels_expander(at).children  # closed: nothing computed or drawn
    choose(at, lab=True)  # opened
    expander = _known_labels_expander(at)
    table = expander.table[0].value
    X, labels = PRESETS["Elongated clusters"].sample(500, 0)
    history = run_em(GaussianMixture(3), X, "kmeans++", max_iter=100, tol=1e-6, seed=0)
    expected = compare_with_labels(X, labels, history.final_params, "full")
    np.testing.assert_allclose(
        table.to_numpy(),
        [
            [expected.labelled_log_likelihood, expected.labelled_complete],
            [expected.em_log_likelihood, expected.em_complete],
        ],
        rtol=1e-9,
    )
    text = " ".join(m.value for m in expander.markdown)
    assert f"What the hidden labels cost: {expected.hidden_label_cost:.3f}" in text
    figure = _figure(at, "kl_chart")
    assert len(figure["data"]) == 2 * 5  # per fit: points, three components, means
    # a different K: no one-to-one matching with the true groups, and the page says so
    at.slider(key="k").set_value(2).run()
    assert "set K = 3" in _known_labels_expander(at).info[0].value


def test_known_labels_section_says_real_data_has_no_labels():
    at = _open()
    at.selectbox(key="data").set_value("Old Faithful (standardised)").run()
    choose(at, lab=True)
    assert "generated presets" in _known_labels_expander(at).info[0].value
