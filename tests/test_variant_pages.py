"""AppTest of the EM-variant picker: every variant and its control on the step page (the run
shown is that variant's, compared with plain EM from the same start), the choice held on "Why
EM works", which says what the variant's q means, and carried in a link."""

import numpy as np
import pytest

from emviz import runs
from emviz.settings import ModelSettings, Variant, VariantSettings, preset_source
from tests.apptest_helpers import choose, decode, open_page, plotly_figure

STEP_PAGE, WHY_PAGE = "pages/step-through.py", "pages/why-em-works.py"


@pytest.fixture(scope="module")
def at():
    return open_page(STEP_PAGE)


def _expected(variant: VariantSettings):
    X = runs.load_data(preset_source({}))
    history, _ = runs.fit(X, ModelSettings(3, variant=variant))
    plain, _ = runs.fit(X, ModelSettings(3))
    return history, plain


def _traces(at):
    figure = plotly_figure(at, "variant_trace_chart")
    return {trace["name"]: decode(trace["y"]) for trace in figure["data"]}


@pytest.mark.parametrize(
    ("kind", "control", "value", "variant"),
    [
        (Variant.TEMPERED, "temp", 0.25, VariantSettings(Variant.TEMPERED, temperature=0.25)),
        (Variant.KMEANS, "ksig", 0.0, VariantSettings(Variant.KMEANS, sigma=0.0)),
        (Variant.STOCHASTIC, "vseed", 7, VariantSettings(Variant.STOCHASTIC, seed=7)),
        (Variant.ANNEALED, "t0", 2.0, VariantSettings(Variant.ANNEALED, start_temperature=2.0)),
        (Variant.MAP, "pstr", 10.0, VariantSettings(Variant.MAP, prior_strength=10.0)),
    ],
)
def test_each_variant_runs_and_is_compared_with_plain_em(at, kind, control, value, variant):
    at.selectbox(key="var").set_value(kind).run()
    widget = at.number_input(key=control) if control == "vseed" else at.select_slider(key=control)
    widget.set_value(value).run()
    assert not at.exception, at.exception
    history, plain = _expected(variant)
    traces = _traces(at)
    name = variant.describe()
    ends = [s.log_likelihood for s in history.steps if s.phase in ("init", "M")]
    np.testing.assert_allclose(traces[name], ends)
    np.testing.assert_allclose(traces["plain EM"][-1], plain[-1].log_likelihood)
    # the step view shows the variant's run: its last step is reachable and its start is plain EM's
    np.testing.assert_array_equal(history[0].params.means, plain[0].params.means)
    sentence = next(i.value for i in at.info if i.value.startswith("From the same start"))
    assert f"{history[-1].iteration} iterations" in sentence
    notes = " ".join(i.value for i in at.info)
    expected_note = {
        Variant.TEMPERED: "E-step of this variant",
        Variant.KMEANS: "fixes every",
        Variant.STOCHASTIC: "is drawn from",
        Variant.ANNEALED: "falling from",
        Variant.MAP: "M-step of this variant",
    }[kind]
    assert expected_note in notes
    fits = plotly_figure(at, "variant_fit_chart")
    assert any(t.get("name") == "assignment boundary" for t in fits["data"])


def test_the_variant_holds_on_why_em_works_and_is_explained():
    at = open_page(STEP_PAGE)
    at.selectbox(key="var").set_value(Variant.TEMPERED).run()
    at.select_slider(key="temp").set_value(0.5).run()
    at.switch_page(WHY_PAGE).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="var").value is Variant.TEMPERED
    assert at.select_slider(key="temp").value == 0.5
    notes = " ".join(i.value for i in at.info)
    assert "tempered EM (T = 0.5)" in notes and "KL(q ‖ p) stays above 0" in notes
    # the decomposition's KL bars: above 0 after every E-step of this run
    history, _ = _expected(VariantSettings(Variant.TEMPERED, temperature=0.5))
    assert all(s.kl > 0 for s in history.steps if s.phase == "E")
    at.switch_page(STEP_PAGE).run()
    assert at.selectbox(key="var").value is Variant.TEMPERED


def test_map_em_on_why_em_works_audits_the_log_posterior():
    at = open_page(WHY_PAGE)
    at.selectbox(key="var").set_value(Variant.MAP).run()
    assert not at.exception, at.exception
    notes = " ".join(i.value for i in at.info)
    assert "log posterior" in notes
    assert not at.error  # the audit finds no fall of the log posterior
    verdicts = [s.value for s in at.success]
    assert any(v.startswith("ℓ + log p(θ) never fell") for v in verdicts), verdicts
    audit = plotly_figure(choose(at, aud=True), "audit_chart")
    assert audit["layout"]["title"]["text"] == "ln p(X | θ) + ln p(θ) after each iteration"


def test_plain_em_shows_no_comparison(at):
    at.selectbox(key="var").set_value(Variant.EM).run()
    assert not at.exception
    keys = [e.proto.id for e in at.get("bidi_component")]
    assert not any(k.endswith("-variant_trace_chart") for k in keys)
