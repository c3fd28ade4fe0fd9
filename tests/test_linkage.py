"""The genetic-linkage model against Dempster, Laird & Rubin (1977), exact arithmetic and scipy."""

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import multinomial

from emviz import run_em
from emviz.models import GeneticLinkage, InvalidStart
from emviz.models.linkage import LinkageParams

# DLR (1977), Table 1: θ^(p) from θ^(0) = 0.5, p = 1 … 8, as printed (nine decimals)
PUBLISHED_ITERATES = (
    0.608247423,
    0.624321051,
    0.626488879,
    0.626777323,
    0.626815632,
    0.626820719,
    0.626821395,
    0.626821484,
)
PUBLISHED_MLE = 0.626821497871


def exact_iterates(counts, theta, n_iterations):
    """EM's iterates in rational arithmetic, written from the recurrence (no model code)."""
    y1, y2, y3, y4 = (Fraction(y) for y in counts)
    theta, out = Fraction(theta), []
    for _ in range(n_iterations):
        x12 = y1 * (theta / 4) / (Fraction(1, 2) + theta / 4)
        theta = (x12 + y4) / (x12 + y2 + y3 + y4)
        out.append(theta)
    return out


@pytest.fixture(scope="module")
def history():
    model = GeneticLinkage((125, 18, 20, 34))
    return run_em(model, model.X, "half", max_iter=8, tol=0)


def _thetas(history):
    return [s.params.theta for s in history.steps if s.phase == "M"]


def test_iterates_from_one_half_match_the_published_table_and_exact_arithmetic(history):
    thetas = _thetas(history)
    np.testing.assert_allclose(thetas, PUBLISHED_ITERATES, rtol=0, atol=1e-8)
    exact = [float(t) for t in exact_iterates((125, 18, 20, 34), Fraction(1, 2), 8)]
    np.testing.assert_allclose(thetas, exact, rtol=0, atol=1e-14)


def test_the_mle_is_the_root_of_the_score_and_the_published_value():
    model = GeneticLinkage()
    root = brentq(model.score, 1e-9, 1 - 1e-9, xtol=1e-15, rtol=1e-15)
    assert model.mle() == pytest.approx(root, abs=1e-10)
    assert model.mle() == pytest.approx(PUBLISHED_MLE, abs=1e-12)
    # EM's fixed point is that root
    run = run_em(model, model.X, "half", max_iter=30, tol=0)
    assert run[-1].params.theta == pytest.approx(root, abs=1e-10)


def test_the_rate_is_the_fraction_of_missing_information(history):
    model = history.model
    errors = np.array(_thetas(history)) - model.mle()
    ratios = errors[1:] / errors[:-1]
    # DLR's ratio column settles at .1328
    assert ratios[-1] == pytest.approx(0.1328, abs=1e-4)
    assert model.missing_fraction() == pytest.approx(ratios[-1], abs=1e-4)
    assert model.missing_fraction() == pytest.approx(0.1328, abs=1e-4)
    # the derivative of the EM map at θ̂, by central differences, is the same number
    theta, h = model.mle(), 1e-6
    slope = (model.em_map(theta + h) - model.em_map(theta - h)) / (2 * h)
    assert slope == pytest.approx(model.missing_fraction(), abs=1e-8)


def test_observed_information_is_minus_the_second_derivative_of_the_log_likelihood():
    model, theta, h = GeneticLinkage(), 0.4, 1e-4
    ll = model.log_likelihood_at
    second = (ll(theta + h) - 2 * ll(theta) + ll(theta - h)) / h**2
    assert model.observed_information(theta) == pytest.approx(-second, rel=1e-6)
    # the missing information is the variance of the complete-data score given y:
    # y1 Var(Bernoulli(π)) / θ², π = θ / (2 + θ)
    pi = theta / (2 + theta)
    missing = model.complete_information(theta) - model.observed_information(theta)
    assert missing == pytest.approx(125 * pi * (1 - pi) / theta**2, rel=1e-12)


def test_log_likelihood_is_the_multinomial_log_pmf():
    model = GeneticLinkage((125, 18, 20, 34))
    for theta in (0.1, 0.5, 0.9):
        expected = multinomial.logpmf([125, 18, 20, 34], 197, model.cell_probabilities(theta))
        assert model.log_likelihood(model.X, LinkageParams(theta)) == pytest.approx(
            expected, rel=1e-12
        )


def test_the_decomposition_holds_for_any_q_and_theta():
    """ℓ(θ) = Q(θ; q) + H(q) + KL(q ‖ p(z | y, θ)) with q the posterior at another θ."""
    model = GeneticLinkage((125, 18, 20, 34))
    for q_theta, theta in ((0.2, 0.7), (0.5, 0.5), (0.9, 0.05)):
        q = model.e_step(model.X, LinkageParams(q_theta))
        evaluated = model.e_step(model.X, LinkageParams(theta))
        total = (
            model.expected_log_joint(q, evaluated)
            + model.entropy(q)
            + model.kl_divergence(q, evaluated)
        )
        assert total == pytest.approx(evaluated.log_likelihood, abs=1e-11)
        # H and KL are those of y1 independent Bernoulli splits
        a, b = q_theta / (2 + q_theta), theta / (2 + theta)
        assert model.entropy(q) == pytest.approx(
            -125 * (a * math.log(a) + (1 - a) * math.log(1 - a)), rel=1e-12
        )
        kl = a * math.log(a / b) + (1 - a) * math.log((1 - a) / (1 - b))
        assert model.kl_divergence(q, evaluated) == pytest.approx(125 * kl, rel=1e-10, abs=0)


def test_q_by_enumerating_the_split_count():
    """Q with the multinomial coefficient: E_q[log p(y, z)] summed over x12 ~ Binomial(y1, q_b),
    each of the C(y1, x12) labelled splits having the same log p(y, z)."""
    counts = (7, 2, 3, 4)
    model = GeneticLinkage(counts)
    q = model.e_step(model.X, LinkageParams(0.3))
    evaluated = model.e_step(model.X, LinkageParams(0.6))
    b, theta = q.resp[0, 1], 0.6
    log_c = math.lgamma(17) - sum(math.lgamma(y + 1) for y in counts)
    expected = 0.0
    for x12 in range(8):
        chance = math.comb(7, x12) * b**x12 * (1 - b) ** (7 - x12)
        log_joint = (
            log_c
            + (7 - x12) * math.log(0.5)
            + (x12 + 4) * math.log(theta / 4)
            + 5 * math.log((1 - theta) / 4)
        )
        expected += chance * log_joint
    assert model.expected_log_joint(q, evaluated) == pytest.approx(expected, rel=1e-12)


def test_a_run_keeps_l_equal_elbo_plus_kl_and_closes_the_gap(history):
    for step in history.steps:
        assert step.log_likelihood == pytest.approx(step.elbo + step.kl, abs=1e-10)
    assert all(s.kl == 0.0 for s in history.steps if s.phase == "E")
    assert np.all(np.diff(history.column("log_likelihood")) >= 0)


def test_posterior_split_is_the_share_of_the_theta_quarter():
    model = GeneticLinkage()
    q = model.e_step(model.X, LinkageParams(0.5))
    np.testing.assert_allclose(q.resp, [[0.8, 0.2]], rtol=1e-15)  # (θ/4)/(1/2 + θ/4) = 0.2
    # the first M-step: x12 = 25, θ = (25 + 34) / (25 + 72) = 59 / 97
    assert model.m_step(model.X, q).theta == pytest.approx(59 / 97, rel=1e-15)


@pytest.mark.parametrize(
    "counts, message",
    [
        ((125, -1, 20, 34), "negative"),
        ((0, 0, 0, 0), "nothing"),
        ((125, 0, 0, 34), "θ = 1"),
        ((10, 5, 5, 0), "θ = 0"),
        ((1.5, 2, 3, 4), "whole"),
        ((1, 2, 3), "four"),
    ],
)
def test_bad_counts_are_refused_with_a_reason(counts, message):
    with pytest.raises(InvalidStart, match=message):
        GeneticLinkage(counts)


def test_counts_with_an_empty_fourth_cell_can_still_have_an_inner_mle():
    model = GeneticLinkage((30, 5, 5, 0))  # y1 > 2 (y2 + y3): θ̂ = b / n = 10 / 40
    assert model.mle() == pytest.approx(0.25, abs=1e-15)
    assert model.score(model.mle()) == pytest.approx(0.0, abs=1e-12)


def test_check_params_and_init_methods():
    model = GeneticLinkage()
    for theta in (0.0, 1.0, -0.2, 1.5, math.nan):
        with pytest.raises(InvalidStart, match="between 0 and 1"):
            model.check_params(LinkageParams(theta), 4)
    assert model.init_params(model.X, "half").theta == 0.5
    first = model.init_params(model.X, "random", seed=3).theta
    assert 0.05 < first < 0.95 and first == model.init_params(model.X, "random", seed=3).theta
    assert first != model.init_params(model.X, "random", seed=4).theta
    with pytest.raises(ValueError, match="counts as one row"):
        model.prepare([[1.0, 2.0, 3.0, 4.0]])
