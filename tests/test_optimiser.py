"""L-BFGS-B beside EM on the full 1-D mixture, and a surplus component's weight whose maximum
lies on the boundary π1 = 0."""

import numpy as np
import pytest

from emviz.analysis.optimiser import (
    KnownComponents,
    cost_rows,
    em_full_mixture,
    full_log_likelihood_and_gradient,
    lbfgsb_full_mixture,
    settled_at_zero,
    weight_log_likelihood_and_slope,
)
from emviz.data import make_two_mean_sample
from emviz.plots.comparison import WEIGHT_FLOOR, plot_optimiser_gaps, plot_surplus_weights
from emviz.runs import (
    FULL_MIXTURE_START,
    SURPLUS_ITERATIONS,
    optimiser_comparison,
    surplus_runs,
    surplus_sample,
)
from emviz.settings import COMPARISON_RATES, SURPLUS_MEANS


@pytest.fixture(scope="module")
def x():
    return make_two_mean_sample()


@pytest.mark.parametrize("theta", [[0.4, 0.2, 2.0, 0.8, 0.6], [0.0, 1.0, 1.5, 1.0, 2.0]])
def test_gradient_matches_finite_differences_even_on_the_boundary(x, theta):
    theta, h = np.array(theta), 1e-6
    value = full_log_likelihood_and_gradient(x, theta)[0]
    # one-sided in π1 at π1 = 0: the likelihood is not defined below the bound
    numeric = [
        (full_log_likelihood_and_gradient(x, theta + h * e)[0] - value) / h
        if i == 0 and theta[0] == 0
        else (
            full_log_likelihood_and_gradient(x, theta + h * e)[0]
            - full_log_likelihood_and_gradient(x, theta - h * e)[0]
        )
        / (2 * h)
        for i, e in enumerate(np.eye(5))
    ]
    gradient = full_log_likelihood_and_gradient(x, theta)[1]
    np.testing.assert_allclose(gradient, numeric, rtol=1e-4, atol=1e-3)
    assert np.all(np.isfinite(gradient))


def test_lbfgsb_reaches_the_maximum_em_reaches(x):
    em = em_full_mixture(x, FULL_MIXTURE_START, tol=1e-12, max_iter=5000)
    lbfgsb = lbfgsb_full_mixture(x, FULL_MIXTURE_START, tol=1e-12)
    assert em.stop_reason == "converged" and lbfgsb.stop_reason == "converged"
    assert lbfgsb.log_likelihoods[-1] == pytest.approx(em.log_likelihoods[-1], abs=1e-6)
    np.testing.assert_allclose(lbfgsb.thetas[-1], em.thetas[-1], atol=1e-3)
    gradient = full_log_likelihood_and_gradient(x, lbfgsb.thetas[-1])[1]
    assert np.max(np.abs(gradient)) / len(x) < 1e-5  # an interior maximum: ∇ℓ = 0
    assert lbfgsb.iterations < em.iterations


def test_the_page_comparison_and_its_table():
    em, lbfgsb = optimiser_comparison()
    rows = cost_rows([em, lbfgsb])
    assert [row["method"] for row in rows] == ["EM", "L-BFGS-B"]
    assert rows[0]["evaluations"] == 2 * em.iterations  # one E-step and one M-step each
    assert rows[1]["evaluations"] >= lbfgsb.iterations  # at least one ℓ and ∇ℓ per iteration
    assert all(row["time (ms)"] > 0 for row in rows)
    # EM's ℓ never falls; both end within EM's stopping tolerance of each other
    assert np.all(np.diff(em.log_likelihoods) >= -1e-9)
    assert abs(rows[0]["final ℓ"] - rows[1]["final ℓ"]) < 1e-4
    thetas = lbfgsb.thetas
    assert np.all((thetas[:, 0] >= 0) & (thetas[:, 0] <= 1)) and np.all(thetas[:, 3:] > 0)


def test_optimiser_gap_figure_holds_each_runs_distance_below_the_best():
    em, lbfgsb = optimiser_comparison()
    fig = plot_optimiser_gaps([em, lbfgsb])
    assert [t.name for t in fig.data] == ["EM", "L-BFGS-B"]
    best = max(em.log_likelihoods[-1], lbfgsb.log_likelihoods[-1])
    np.testing.assert_allclose(
        fig.data[0].y, np.maximum(best - em.log_likelihoods, 1e-17), rtol=1e-12
    )
    assert fig.layout.yaxis.type == "log"


@pytest.mark.parametrize("surplus_mean", SURPLUS_MEANS)
def test_surplus_weight_has_its_maximum_on_the_boundary(surplus_mean):
    """ℓ(π1) is concave (second derivative −Σ (N1 − N2)²/p² ≤ 0) and slopes down at π1 = 0 on
    the page's sample, for every surplus mean offered: the maximum is exactly π1 = 0."""
    components = KnownComponents(means=(surplus_mean, 0.0), variances=(1.0, 1.0))
    log_densities = components.log_densities(surplus_sample())
    slope = weight_log_likelihood_and_slope(log_densities, 0.0)[1]
    assert slope < 0
    grid = np.linspace(0.0, 1.0, 201)
    values = np.array([weight_log_likelihood_and_slope(log_densities, w)[0] for w in grid])
    assert np.argmax(values) == 0
    assert np.all(np.diff(values, 2) <= 1e-9)  # concave on the grid


@pytest.mark.parametrize("surplus_mean", [1.0, 3.0])
def test_em_keeps_the_constraint_and_lbfgsb_reaches_the_bound(surplus_mean):
    comparison = surplus_runs(surplus_mean, 3.0)
    assert comparison.maximum_on_boundary
    em, logistic, lbfgsb = comparison.runs
    for run in comparison.runs:
        assert np.all((run.thetas >= 0) & (run.thetas <= 1))
    # EM's two weights are each a share of the points: they add up to 1 at every step
    np.testing.assert_allclose(em.thetas.sum(axis=1), 1.0, atol=1e-12)
    em_weight = em.thetas[:, 0]
    assert np.all(np.diff(em_weight) < 0) or em_weight[-1] < 1e-300  # falls every step
    assert em_weight[-1] < 1e-8
    # L-BFGS-B lands on π1 = 0 exactly, within a few iterations, at the maximum of ℓ
    assert lbfgsb.thetas[-1, 0] == 0.0 and settled_at_zero(lbfgsb.thetas[:, 0]) <= 5
    assert lbfgsb.log_likelihoods[-1] >= em.log_likelihoods[-1] - 1e-9
    assert lbfgsb.log_likelihoods[-1] >= logistic.log_likelihoods[-1]


@pytest.mark.parametrize("rate", COMPARISON_RATES)
def test_the_logistic_path_crawls_and_never_reaches_zero(rate):
    _, logistic, _ = surplus_runs(3.0, rate).runs
    weight = logistic.thetas[:, 0]
    assert logistic.iterations == SURPLUS_ITERATIONS
    assert np.all(weight > 0)
    assert np.all(np.diff(weight) < 0)  # downhill in π1 every step …
    # … but slowly: about 1/t, not geometric: the last 100 steps do not even halve it
    assert weight[-1] > weight[-101] / 2
    assert weight[-1] > 1e-4


def test_settled_at_zero():
    assert settled_at_zero([0.5, 0.0, 0.0]) == 1
    assert settled_at_zero([0.5, 0.0, 0.1]) is None
    assert settled_at_zero([0.0]) == 0
    assert settled_at_zero([0.5, 0.2]) is None


def test_surplus_figure_marks_the_exact_zero_on_the_floor():
    comparison = surplus_runs(3.0, 3.0)
    fig = plot_surplus_weights(comparison)
    names = [t.name for t in fig.data]
    assert names[:3] == ["EM", "gradient ascent on logit π₁", "L-BFGS-B"]
    zero_marks = fig.data[3]
    assert zero_marks.name == "L-BFGS-B: π₁ = 0 exactly"
    assert list(zero_marks.y) == [WEIGHT_FLOOR] * len(zero_marks.x)
    np.testing.assert_array_equal(fig.data[1].y, comparison.runs[1].thetas[:, 0])
    assert fig.layout.yaxis.type == "log"
