"""The two-mean mixture's one log joint, `TwoMeanMixture.log_joint_grid`, and its users: the
E-step, the ℓ grid, the bound surface and the derivatives must all tell the same story."""

import numpy as np
import pytest
from scipy.stats import norm

from emviz.analysis.bound import two_mean_bound_grid
from emviz.analysis.landscape import evaluate, gradient, log_likelihood_grid
from emviz.models import TwoMeanMixture

MODEL = TwoMeanMixture()


def test_log_joint_matches_scipy_and_a_hand_value():
    x = np.array([-1.5, 0.0, 0.4, 3.0])
    means = np.array([-2.0, 0.0, 2.5])
    for k in (0, 1):
        expected = np.log(MODEL.weights[k]) + norm.logpdf(
            x[None, :], means[:, None], np.sqrt(MODEL.variances[k])
        )
        got = MODEL.log_joint_grid(x, means, k)
        assert got.shape == (3, 4)
        np.testing.assert_allclose(got, expected, rtol=1e-14)
        np.testing.assert_allclose(
            MODEL.log_joint_grid(x, means, k, weighted=False),
            expected - np.log(MODEL.weights[k]),
            rtol=1e-14,
        )
    # log(0.3 · N(0 | 0, 1)) = log 0.3 − ½ log 2π; log(0.7 · N(1 | 0, ½)) = log 0.7 − ½ log π − 1
    assert MODEL.log_joint_grid([0.0], [0.0], 0)[0, 0] == pytest.approx(
        np.log(0.3) - 0.5 * np.log(2 * np.pi), rel=1e-15
    )
    assert MODEL.log_joint_grid([1.0], [0.0], 1)[0, 0] == pytest.approx(
        np.log(0.7) - 0.5 * np.log(np.pi) - 1.0, rel=1e-15
    )
    # one row per component at one θ
    both = MODEL.log_joint_grid(x, [0.4, 2.1], [0, 1])
    np.testing.assert_array_equal(both[0], MODEL.log_joint_grid(x, [0.4], 0)[0])
    np.testing.assert_array_equal(both[1], MODEL.log_joint_grid(x, [2.1], 1)[0])


@pytest.mark.parametrize("offset", [0.0, 1e4])
def test_e_step_and_grid_give_the_same_log_likelihood(x, offset):
    """The E-step centres on the data's offset, the grid does not: same ℓ all the same."""
    data = x + offset
    mu1, mu2 = np.array([-1.0, 0.4, 3.0]) + offset, np.array([2.1, 0.4]) + offset
    grid = log_likelihood_grid(MODEL, data, mu1, mu2)
    for j, b in enumerate(mu2):
        for i, a in enumerate(mu1):
            posterior = MODEL.e_step(data[:, None], MODEL.params(a, b))
            assert posterior.log_likelihood == pytest.approx(grid[j, i], rel=1e-12)
            assert evaluate(MODEL, data, [a, b])[0] == pytest.approx(grid[j, i], rel=1e-12)


def test_e_step_keeps_the_equal_variance_diagonal_exact(x):
    """μ1 = μ2, v1 = v2: every point gets exactly the weights as its responsibilities."""
    model = TwoMeanMixture(variances=(0.8, 0.8))
    resp = model.e_step(x[:, None], model.params(1.3, 1.3)).resp_t
    assert np.all(resp[0] == resp[0, 0]) and np.all(resp[1] == resp[1, 0])
    np.testing.assert_allclose(resp[:, 0], model.weights, rtol=1e-15)


def _bound_by_protocol(model, data, q, mu1, mu2):
    """L(q, θ) = Q(θ, q) + H(q) from the model's protocol methods."""
    evaluated = model.e_step(data[:, None], model.params(mu1, mu2))
    return model.expected_log_joint(q, evaluated) + model.entropy(q)


@pytest.mark.parametrize("offset", [0.0, 1e4])
def test_bound_grid_equals_expected_log_joint_plus_entropy(x, offset):
    data = x + offset
    q = MODEL.e_step(data[:, None], MODEL.params(offset - 1.0, offset + 4.0))
    axis = np.linspace(-2, 4, 9) + offset
    grid = two_mean_bound_grid(MODEL, data, q.resp_t.T, axis, axis)
    assert grid.shape == (9, 9)
    for i, j in [(0, 0), (2, 7), (8, 1), (4, 4)]:  # grid is (μ2, μ1)
        expected = _bound_by_protocol(MODEL, data, q, axis[j], axis[i])
        assert grid[i, j] == pytest.approx(expected, rel=1e-12)


def test_bound_grid_with_a_component_q_leaves_empty(x):
    """q_n2 = 1 for every point: H(q) = 0, Q_1 = 0 whatever μ1 and Q_2 = Σ_n log w2 N(x_n|μ2)."""
    resp = np.column_stack([np.zeros_like(x), np.ones_like(x)])
    axis = np.linspace(-2, 4, 5)
    grid = two_mean_bound_grid(MODEL, x, resp, axis, axis)
    np.testing.assert_array_equal(grid[3], grid[3, 0])  # flat along μ1
    expected = np.sum(np.log(0.7) + norm.logpdf(x, axis[3], np.sqrt(0.5)))
    assert grid[3, 2] == pytest.approx(expected, rel=1e-12)


def test_gradient_is_the_slope_of_the_grid(x):
    mu, h = np.array([0.7, 1.9]), 1e-5
    grid = log_likelihood_grid(MODEL, x, mu[0] + [-h, 0.0, h], mu[1] + [-h, 0.0, h])
    # central differences along each axis; rows follow μ2, columns μ1
    slope = np.array([grid[1, 2] - grid[1, 0], grid[2, 1] - grid[0, 1]]) / (2 * h)
    np.testing.assert_allclose(gradient(MODEL, x, mu), slope, rtol=1e-6)
