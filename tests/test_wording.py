"""The words beside the figures say what the numbers say: falls as falls, reg_covar named as
the reason EM's promise does not hold, singular and plural, fixed points, sums that add up."""

import re

import pytest

from emviz import GaussianMixture, run_em
from emviz.analysis.audit import monotonicity_audit
from emviz.analysis.explain import change_phrase, describe_step, readable
from emviz.data import load_faithful, load_preset
from emviz.models import OvershootingMStep, TwoMeanMixture, WeightlessEStep
from emviz.ui.bound_panels import audit_verdict, decomposition_latex, decomposition_sentence

REG_CAUSE = (
    "reg_covar = 0.1 adds ε to every variance, so the M-step is no longer the exact maximiser of Q"
)


@pytest.fixture(scope="module")
def overlap():
    return load_preset("Heavy overlap", n_samples=500, seed=0)


@pytest.fixture(scope="module")
def regularised(overlap):
    """Heavy overlap with reg_covar = 0.1: ℓ falls in most iterations."""
    return run_em(GaussianMixture(3, reg_covar=0.1), overlap, "kmeans++", max_iter=100, seed=0)


@pytest.fixture(scope="module")
def exact(overlap):
    return run_em(GaussianMixture(3), overlap, "kmeans++", max_iter=100, seed=0)


def _m_steps(history):
    return [step.index for step in history.steps if step.phase == "M"]


def _change(history, index):
    return history[index].log_likelihood - history[index - 1].log_likelihood


def test_every_model_declares_whether_its_m_step_is_exact():
    assert GaussianMixture(2).inexact_m_step is None
    assert TwoMeanMixture().inexact_m_step is None
    regularised = GaussianMixture(2, reg_covar=0.1)
    assert regularised.inexact_m_step == REG_CAUSE
    # the wrappers forward it; an overshoot adds its own reason, an exact factor adds none
    assert WeightlessEStep(regularised).inexact_m_step == REG_CAUSE
    assert OvershootingMStep(regularised, 1.0).inexact_m_step == REG_CAUSE
    assert OvershootingMStep(GaussianMixture(2), 1.0).inexact_m_step is None
    both = OvershootingMStep(regularised, 2.5).inexact_m_step
    assert both.startswith("it moves the means 2.5 × as far") and both.endswith(REG_CAUSE)


def test_a_falling_step_is_told_as_a_fall_with_reg_covar_as_its_cause(regularised):
    falls = [i for i in _m_steps(regularised) if _change(regularised, i) < 0]
    assert len(falls) > 50  # the brief's run: ℓ declines for most of the run
    for index in falls[:3] + falls[-3:]:
        change = _change(regularised, index)
        text = describe_step(regularised, index)
        assert f"The log-likelihood fell by {readable(-change)} ({REG_CAUSE}" in text
        assert "rose" not in text
        sentence = decomposition_sentence(regularised, index)
        assert "broken" not in sentence and REG_CAUSE in sentence
        assert f"ln p(X|θ) fell by {readable(-change)}" in sentence
    assert change_phrase(-0.02877) == "fell by 0.0288"


def test_the_audit_names_reg_covar_not_a_broken_m_step(regularised):
    rows = monotonicity_audit(regularised)
    fallen = [row for row in rows if not row.ok]
    assert fallen and all(not row.bound_raised for row in fallen)
    assert {row.cause for row in fallen} == {f"the M-step lowered the lower bound: {REG_CAUSE}"}
    level, verdict = audit_verdict(rows, regularised.model.inexact_m_step)
    lowered = sum(not row.bound_raised for row in rows)
    assert level == "error"
    assert f"Cause: the M-step lowered the lower bound: {REG_CAUSE}." in verdict
    assert f"{lowered} M-steps lowered the bound" in verdict and "broken" not in verdict


def test_with_reg_covar_0_nothing_changes(exact):
    assert not exact.drops
    rows = monotonicity_audit(exact)
    level, verdict = audit_verdict(rows, exact.model.inexact_m_step)
    assert (level, verdict) == (
        "success",
        f"ℓ never fell: {len(rows)} iterations checked, each E-step closed the gap and each "
        "M-step raised the bound.",
    )
    for index in _m_steps(exact)[:5]:
        text = describe_step(exact, index)
        assert f"rose by {readable(_change(exact, index))}" in text and "reg_covar" not in text
        assert "θ maximised the bound" in decomposition_sentence(exact, index)


def test_an_overshoot_is_named_as_the_cause(overlap):
    history = run_em(OvershootingMStep(GaussianMixture(3), 2.5), overlap, "kmeans++", max_iter=20)
    causes = {drop.cause for drop in history.drops}
    assert causes == {
        "the M-step lowered the lower bound: it moves the means 2.5 × as far as the maximiser of "
        "Q, so it is no longer that maximiser"
    }


def test_messages_count_in_the_singular_and_the_plural(overlap):
    # one component starts at the data's mean and covariance: the first M-step changes nothing
    one = run_em(GaussianMixture(1), overlap, "kmeans++", max_iter=100)
    assert one.stop_reason == "converged" and one.n_iterations == 1
    assert one.message.startswith("Converged after 1 iteration:")
    three = run_em(GaussianMixture(2), overlap, "kmeans++", max_iter=3, tol=0)
    assert three.message == "Stopped after the maximum of 3 iterations."
    single = run_em(GaussianMixture(2), overlap, "kmeans++", max_iter=1)
    assert single.message == "Stopped after the maximum of 1 iteration."


def test_one_component_sentences_make_sense(overlap):
    history = run_em(GaussianMixture(1), overlap, "kmeans++", max_iter=100)
    assert "q = 1 is already the posterior" in describe_step(history, 0)
    assert "1/1" not in describe_step(history, 0)
    assert "nothing to recompute" in describe_step(history, 1)
    assert "weight became" not in describe_step(history, 2)
    assert "q = 1 is already the posterior" in decomposition_sentence(history, 0)


def test_at_a_fixed_point_the_m_step_says_so():
    X = load_preset("Well-separated blobs", n_samples=500, seed=0)
    history = run_em(GaussianMixture(3), X, "kmeans++", max_iter=500, tol=1e-10)
    last = len(history) - 1
    assert history.stop_reason == "converged" and history[last].phase == "M"
    text = describe_step(history, last)
    assert "the parameters no longer change" in text and "fixed point" in text
    assert "moved from" not in text and "opened again" not in text


def _latex_number(text):
    """A number as the LaTeX writes it: plain, or "m \\times 10^{e}"."""
    mantissa, _, exponent = text.partition(r" \times 10^")
    return float(mantissa) * 10 ** int(exponent.strip("{}") or 0)


def _latex_numbers(latex):
    """The three numbers of ℓ = ELBO + KL in the decomposition's LaTeX."""
    found = re.fullmatch(
        r"\\ln p\(X\\mid\\theta\) = (\S+) = \\underbrace\{(.+?)\}_.* \+ "
        r"\\underbrace\{(.+?)\}_.*",
        latex,
    )
    return [_latex_number(text) for text in found.groups()]


def test_the_decomposition_adds_up_as_shown(exact, regularised):
    for history in (exact, regularised):
        for index in (0, 1, 2, len(history) - 2, len(history) - 1):
            latex = decomposition_latex(history[index])
            assert "e-" not in latex and "e+" not in latex
            ll, elbo, kl = _latex_numbers(latex)
            assert ll == pytest.approx(elbo + kl, abs=0.5e-4), (index, latex)
            assert kl == pytest.approx(history[index].kl, abs=1e-4)


def test_small_numbers_are_typeset_as_powers_of_ten():
    assert readable(1.4e-7, 2, latex=True) == r"1.4 \times 10^{-7}"
    assert readable(1.4e-7, 2) == "1.4 × 10⁻⁷"
    assert readable(18010.4) == "18010" and readable(0.0288) == "0.0288"


def test_the_step_views_caption_names_what_each_dimension_draws():
    from emviz.analysis.explain import step_view_caption

    assert "ellipses" not in step_view_caption(1) and "density curve" in step_view_caption(1)
    assert "ellipses at 1σ and 2σ, × at each mean" in step_view_caption(2)
    assert "first two of the 3 coordinates" in step_view_caption(3)


def test_bishops_slice_names_reg_covar_where_the_m_step_misses_the_maximum(regularised):
    from emviz.analysis.bound import bound_slice
    from emviz.ui.bound_panels import slice_facts

    fallen = next(row for row in monotonicity_audit(regularised) if not row.bound_raised)
    facts = slice_facts(bound_slice(regularised, fallen.m_step), REG_CAUSE)
    assert f"this M-step did not maximise the bound ({REG_CAUSE})" in facts
    assert "e-" not in facts  # small gaps as powers of ten, not 2.3e-13


def test_a_change_within_rounding_is_no_change():
    """At a fixed point ℓ wobbles in its last bits: that is not a fall (hand values)."""
    assert change_phrase(-1.14e-13, -2115.4) == "did not change (beyond rounding)"
    assert change_phrase(0.0, -2115.4) == "did not change"
    assert change_phrase(-1e-6, -2115.4) == f"fell by {readable(1e-6)}"
    assert change_phrase(0.5, -2115.4) == "rose by 0.5"
    converged = run_em(GaussianMixture(1), load_faithful(standardize=True), "kmeans++", tol=1e-12)
    assert "fell" not in describe_step(converged, len(converged) - 1)


def test_a_small_move_is_shown_with_the_decimals_it_needs():
    """'moved from 1.547 to 1.547' said nothing: the two positions must differ as printed."""
    X = load_preset("1-D two-component mixture", n_samples=500, seed=0)
    run = run_em(GaussianMixture(3), X, "kmeans++", max_iter=60, tol=0, seed=0)
    for index in range(2, len(run), 2):
        text = describe_step(run, index)
        found = re.search(r"mean moved from (\S+) to (\S+),", text)
        if found:
            assert found.group(1) != found.group(2), text
