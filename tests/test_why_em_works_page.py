"""AppTest of the "Why EM works" page: the decomposition, Bishop 9.14, Q + H, Jensen, audit."""

import numpy as np
import pytest

from emviz import GaussianMixture, run_em
from emviz.analysis.bound import most_ambiguous_point, slice_directions
from emviz.data import load_preset, make_two_mean_sample
from emviz.models import TwoMeanMixture
from emviz.settings import BreakMode, Family, start_from
from tests.apptest_helpers import choose, decode, open_page, plotly_figure

PAGE = "pages/why-em-works.py"


def _reference():
    """The page's default run: blobs (500 points, seed 0), K = 3, full, k-means++."""
    X = load_preset("Well-separated blobs", n_samples=500, seed=0)
    model = GaussianMixture(3)
    return run_em(model, X, model.init_params(X, "kmeans++", seed=0), max_iter=100, tol=1e-6)


def _trace(figure, name):
    return next(t for t in figure["data"] if t.get("name") == name)


def _texts(at):
    return " ".join(m.value for m in at.markdown)


@pytest.fixture(scope="module")
def at():
    return open_page(PAGE)


def test_decomposition_shows_the_runs_numbers_and_moves_with_the_buttons(at):
    reference = _reference()
    figure = plotly_figure(at, "decomposition_chart")
    ll = decode(_trace(figure, "ln p(X | θ)")["y"])
    kl = decode(_trace(figure, "KL")["y"])  # the lower panel: KL alone, never cut
    np.testing.assert_allclose(ll, reference.column("log_likelihood"), rtol=1e-9)
    np.testing.assert_allclose(kl, reference.column("kl"), rtol=1e-9, atol=1e-9)
    at.button(key="step_iteration").click().run()
    assert not at.exception
    step = reference[2]
    latex = at.latex[0].value
    assert f"{step.log_likelihood:.4f}" in latex and f"{step.elbo:.4f}" in latex
    assert "M-step:" in _texts(at)
    at.button(key="step_back").click().run()
    assert "the gap KL fell" in _texts(at) and f"{reference[1].elbo:.4f}" in at.latex[0].value


def test_bishop_slice_every_direction(at):
    at.button(key="step_reset").click().run()
    figure = plotly_figure(at, "slice_chart")
    ts = decode(_trace(figure, "ln p(X | θ)")["x"])
    star = _trace(figure, "maximum of the bound")
    assert decode(star["x"])[0] == 1.0 and 0.0 in ts
    assert "θ_new, the M-step's answer" in _texts(at)
    reference = _reference()
    for index, direction in enumerate(slice_directions(reference)[1:], start=1):
        at.selectbox(key="dir").set_value(index).run()
        assert not at.exception, direction
        assert plotly_figure(at, "slice_chart")["layout"]["title"]["text"].startswith(
            f"Along {direction}"
        )
    at.selectbox(key="dir").set_value(0).run()


def test_q_plus_entropy_and_jensen(at):
    figure = plotly_figure(at, "q_entropy_chart")
    q = decode(_trace(figure, "Q(θ, q) = E_q[ln p(X, Z | θ)]")["y"])
    h = decode(_trace(figure, "H(q) = −E_q[ln q(Z)]")["y"])
    np.testing.assert_allclose(q + h, _reference().column("elbo"), rtol=1e-9)
    reference = _reference()
    assert at.number_input(key="jp").value == most_ambiguous_point(reference)
    at.number_input(key="jp").set_value(499).run()
    at.sidebar.slider(key="n").set_value(100).run()  # fewer points: back in range
    assert not at.exception
    assert at.number_input(key="jp").value < 100
    at.sidebar.slider(key="n").set_value(500).run()
    at.number_input(key="jp").set_value(5).run()
    assert "gap = KL(q ‖ p(z|x))" in _texts(at) and "equality" not in _texts(at)
    at.button(key="jensen_posterior").click().run()
    assert not at.exception
    assert "equality: q is the posterior" in _texts(at)
    at.slider(key="jq0").set_value(0.0).run()
    at.slider(key="jq1").set_value(0.0).run()
    at.slider(key="jq2").set_value(0.0).run()
    assert any("q must sum to 1" in w.value for w in at.warning)
    assert not at.exception


def _q_sliders(at):
    return {s.key: s.value for s in at.slider if s.key.startswith("jq")}


def test_q_sliders_start_again_at_1_over_k_when_k_or_the_point_changes():
    at = open_page(PAGE)
    at.slider(key="jq0").set_value(0.9).run()
    assert _q_sliders(at)["jq0"] == 0.9
    at.sidebar.slider(key="k").set_value(5).run()
    assert not at.exception
    assert _q_sliders(at) == {f"jq{k}": pytest.approx(1 / 5) for k in range(5)}
    at.slider(key="jq3").set_value(0.0).run()
    at.number_input(key="jp").set_value(3).run()
    assert _q_sliders(at) == {f"jq{k}": pytest.approx(1 / 5) for k in range(5)}
    at.slider(key="jq1").set_value(0.5).run()  # the same K and point: the choice stays
    at.button(key="step_iteration").click().run()
    assert _q_sliders(at)["jq1"] == 0.5


def test_audit_passes_em_and_catches_the_broken_m_step():
    at = open_page(PAGE)
    assert any("ℓ never fell" in s.value for s in at.success)
    at.toggle(key="bk").set_value(True).run()
    assert not at.exception
    error = next(e.value for e in at.error if "ℓ fell" in e.value)
    table = choose(at, aud=True).dataframe[0].value
    first = int(table.index[table["ℓ did not fall"] == "NO"][0])
    assert f"First at iteration {first} " in error
    assert "the M-step lowered the lower bound" in error
    m_step = int(table.loc[first, "steps"].split("–")[1])
    at.slider(key="wstep").set_value(m_step).run()
    # the model names its own reason: the overshoot
    assert "the bound **fell**, because it moves the means 2.5 × as far" in _texts(at)
    assert "this M-step did not maximise the bound" in _texts(at)  # Bishop 9.14's summary
    at.slider(key="f").set_value(1.5).run()
    assert any("ℓ never fell" in s.value for s in at.success)


def test_two_mean_family_draws_the_bound_under_the_surface():
    at = open_page(PAGE)
    at.sidebar.radio(key="fam").set_value(Family.TWO_MEANS).run()
    assert not at.exception
    at.button(key="step_iteration").click().run()
    surface = plotly_figure(at, "surface_chart")
    assert [t["type"] for t in surface["data"]][:2] == ["surface", "surface"]
    x = make_two_mean_sample()
    model = TwoMeanMixture()
    start = start_from({})  # the default start, shared with the landscape page
    reference = run_em(model, x[:, None], model.params(*start), max_iter=200, tol=1e-8)
    old = _trace(surface, "θ_old")
    assert decode(old["z"])[0] == pytest.approx(reference[1].log_likelihood, rel=1e-12)
    ll = _trace(plotly_figure(at, "decomposition_chart"), "ln p(X | θ)")
    np.testing.assert_allclose(decode(ll["y"]), reference.column("log_likelihood"), rtol=1e-12)


def test_an_e_step_that_forgets_the_weights_is_caught():
    at = open_page(PAGE)
    at.sidebar.selectbox(key="data").set_value("1-D two-component mixture").run()
    at.toggle(key="bk").set_value(True).run()
    at.radio(key="brk").set_value(BreakMode.FORGET_WEIGHTS).run()
    assert not at.exception
    # on this sample ℓ happens not to fall, but the audit shows the broken link
    table = choose(at, aud=True).dataframe[0].value
    n_iterations = len(table)
    warning = next(w.value for w in at.warning if "the chain is broken" in w.value)
    assert f"{n_iterations} E-steps left a gap" in warning
    assert set(table["E-step closed the gap"]) == {"NO"}
    assert "the bound does **not** touch" in _texts(at)  # Bishop 9.14's slice says so too
    at.button(key="step_e_step").click().run()
    assert "**E-step (q is not the posterior):**" in _texts(at)
