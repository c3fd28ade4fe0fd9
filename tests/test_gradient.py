"""Gradient ascent on the full 1-D two-component mixture: plain steps break, reparametrised
steps stay inside, and both are compared with EM."""

import numpy as np
import pytest

from emviz import run_em
from emviz.analysis.gradient import (
    _posterior_terms,
    learning_rate_sweep,
    params_from_theta,
    plain_gradient,
    plain_gradient_ascent,
    reparametrised_gradient_ascent,
)
from emviz.data import make_two_mean_sample
from emviz.models import GaussianMixture

START = params_from_theta([0.5, 0.0, 3.0, 1.0, 1.0])


@pytest.fixture(scope="module")
def x():
    return make_two_mean_sample()


def test_plain_gradient_matches_finite_differences(x):
    theta = np.array([0.4, 0.2, 2.0, 0.8, 0.6])
    h = 1e-6
    numeric = [
        (_posterior_terms(x, theta + h * e)[0] - _posterior_terms(x, theta - h * e)[0]) / (2 * h)
        for e in np.eye(5)
    ]
    np.testing.assert_allclose(plain_gradient(x, theta), numeric, rtol=1e-6, atol=1e-6)


def test_plain_steps_leave_the_parameter_space(x):
    result = plain_gradient_ascent(x, START, learning_rate=2.0)
    assert result.stop_reason == "left the parameter space"
    assert result.broken_step == result.iterations
    broken = result.thetas[-1]
    assert not (0 < broken[0] < 1) or min(broken[3:]) <= 0
    assert "outside (0, 1)" in result.broken_reason or "≤ 0" in result.broken_reason
    assert np.all(np.isfinite(result.log_likelihoods[:-1]))


@pytest.mark.parametrize("rate", [0.5, 2.0, 5.0])
def test_reparametrised_steps_stay_inside(x, rate):
    result = reparametrised_gradient_ascent(x, START, learning_rate=rate, max_iter=500)
    weights, variances = result.thetas[:, 0], result.thetas[:, 3:]
    assert np.all((weights > 0) & (weights < 1)) and np.all(variances > 0)


def test_reparametrised_ascent_reaches_the_em_optimum(x):
    em = run_em(GaussianMixture(2), x[:, None], START, max_iter=2000, tol=1e-12)
    ascent = reparametrised_gradient_ascent(x, START, learning_rate=0.5, max_iter=3000, tol=1e-13)
    assert ascent.log_likelihoods[-1] == pytest.approx(em[-1].log_likelihood, abs=1e-6)
    assert np.all(np.diff(ascent.log_likelihoods) >= -1e-9)  # a small rate climbs monotonically


def test_learning_rate_sweep_reports_each_rate(x):
    rows = learning_rate_sweep(x, START, [0.5, 20.0], max_iter=300)
    assert [r["learning_rate"] for r in rows] == [0.5, 20.0]
    assert not rows[0]["ℓ fell"]
    assert rows[1]["ℓ fell"] or rows[1]["stopped"] == "diverged"
