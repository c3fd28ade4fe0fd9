"""EM, gradient ascent and Newton paths on the two-mean surface; EM's rate from its Jacobian."""

import numpy as np
import pytest

from emviz import run_em
from emviz.analysis.paths import (
    em_path,
    gradient_ascent_path,
    nearest_critical_point,
    newton_path,
)
from emviz.analysis.rates import em_map_jacobian, em_rate, observed_rate
from emviz.models import TwoMeanMixture

MODEL = TwoMeanMixture()


def test_em_path_never_decreases_and_ends_at_a_critical_point(x, points):
    path = em_path(MODEL, x, (4.0, -1.0))
    assert path.stop_reason == "converged" and path.first_decrease() is None
    assert nearest_critical_point(points, path.end, atol=1e-4) is not None


def test_gradient_ascent_small_rate_climbs_large_rate_falls(x, points):
    slow = gradient_ascent_path(MODEL, x, (4.0, -1.0), learning_rate=0.1, max_iter=3000)
    assert slow.stop_reason == "converged" and slow.first_decrease() is None
    assert nearest_critical_point(points, slow.end, atol=1e-3) is not None
    wild = gradient_ascent_path(MODEL, x, (4.0, -1.0), learning_rate=3.0, max_iter=200)
    step = wild.first_decrease()
    assert step is not None
    assert wild.log_likelihoods[step] < wild.log_likelihoods[step - 1]


def test_newton_converges_quadratically_from_near_the_mode(x, points):
    mode = np.array(points[0].location)
    path = newton_path(MODEL, x, mode + 0.05)
    assert path.stop_reason == "converged" and path.iterations <= 8
    np.testing.assert_allclose(path.end, mode, atol=1e-9)
    errors = np.linalg.norm(path.points - path.points[-1], axis=1)
    useful = errors[(errors > 1e-10) & (errors < 1e-1)]
    assert len(useful) >= 3
    assert np.all(useful[1:] <= 10 * useful[:-1] ** 2)  # e_{t+1} = O(e_t²)


def test_newton_can_stop_at_a_saddle(x, points):
    saddle = next(p for p in points if p.kind == "saddle")
    path = newton_path(MODEL, x, np.array(saddle.location) + 0.01)
    assert nearest_critical_point(points, path.end, atol=1e-6).kind == "saddle"


def test_rate_from_the_jacobian_matches_the_iterates(x, points):
    mode = points[0].location
    run = run_em(MODEL, x[:, None], "spread", max_iter=2000, tol=0)
    iterates = np.array([s.params.means[:, 0] for s in run.steps if s.phase == "M"])
    limit = iterates[-1]
    np.testing.assert_allclose(limit, mode, atol=1e-8)
    jacobian = em_map_jacobian(
        MODEL,
        x[:, None],
        MODEL.params(*limit),
        to_vector=lambda p: p.means[:, 0],
        from_vector=lambda v: MODEL.params(*v),
    )
    rate = em_rate(jacobian)
    assert 0 < rate < 1  # linear convergence
    assert observed_rate(iterates, limit) == pytest.approx(rate, abs=1e-3)
