"""The two-mean mixture's surface: grid values, critical points, EM at a saddle."""

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import norm

from emviz import History, run_em
from emviz.analysis.landscape import critical_points, gradient, hessian, log_likelihood_grid
from emviz.models import TwoMeanMixture

MODEL = TwoMeanMixture()


def _direct(x, mu1, mu2):
    """ℓ by the textbook formula with scipy, one grid point at a time."""
    terms = np.stack(
        [
            np.log(0.3) + norm.logpdf(x, mu1, 1.0),
            np.log(0.7) + norm.logpdf(x, mu2, np.sqrt(0.5)),
        ]
    )
    return logsumexp(terms, axis=0).sum()


def test_grid_matches_the_formula_and_chunking_changes_nothing(x):
    mu1, mu2 = np.linspace(-3, 5, 7), np.linspace(-2, 4, 5)
    grid = log_likelihood_grid(MODEL, x, mu1, mu2)
    assert grid.shape == (5, 7)
    for j, b in enumerate(mu2):
        for i, a in enumerate(mu1):
            assert grid[j, i] == pytest.approx(_direct(x, a, b), rel=1e-12)
    chunked = log_likelihood_grid(MODEL, x, mu1, mu2, max_chunk_bytes=1)
    np.testing.assert_array_equal(chunked, grid)


def test_grid_survives_far_away_means(x):
    """Both densities underflow for means hundreds of σ away; the exact path takes over."""
    grid = log_likelihood_grid(MODEL, x, np.array([0.0, 300.0]), np.array([2.5, -400.0]))
    assert np.isfinite(grid).all()
    assert grid[1, 1] == pytest.approx(_direct(x, 300.0, -400.0), rel=1e-12)


def test_grid_agrees_with_the_model(x):
    value = log_likelihood_grid(MODEL, x, [0.4], [2.1])[0, 0]
    assert value == pytest.approx(MODEL.log_likelihood(x[:, None], MODEL.params(0.4, 2.1)))


def _fd_gradient(x, mu, h=1e-5):
    f = lambda m: _direct(x, *m)  # noqa: E731
    return np.array([(f(mu + h * e) - f(mu - h * e)) / (2 * h) for e in np.eye(2)])


def _fd_hessian(x, mu, h=1e-4):
    return np.column_stack(
        [(_fd_gradient(x, mu + h * e) - _fd_gradient(x, mu - h * e)) / (2 * h) for e in np.eye(2)]
    )


def test_analytic_derivatives_match_finite_differences(x):
    mu = np.array([0.7, 1.9])
    np.testing.assert_allclose(gradient(MODEL, x, mu), _fd_gradient(x, mu), rtol=1e-6)
    np.testing.assert_allclose(hessian(MODEL, x, mu), _fd_hessian(x, mu), rtol=1e-4, atol=1e-3)


def test_default_data_has_two_maxima_and_a_saddle(points):
    kinds = [p.kind for p in points]
    assert kinds.count("maximum") >= 2 and kinds.count("saddle") >= 1
    best = points[0]
    assert best.kind == "maximum"
    assert best.location[0] < best.location[1]  # the global mode is near the truth (0, 2.5)


def test_critical_points_checked_independently(x, points):
    for point in points:
        mu = np.array(point.location)
        assert np.linalg.norm(_fd_gradient(x, mu)) <= 1e-4 * len(x)
        assert point.gradient_norm <= 1e-6 * len(x)
        eigenvalues = np.linalg.eigvalsh(_fd_hessian(x, mu))
        expected = {"maximum": [-1, -1], "saddle": [-1, 1], "minimum": [1, 1]}[point.kind]
        assert list(np.sign(eigenvalues)) == expected
        np.testing.assert_allclose(eigenvalues, point.hessian_eigenvalues, rtol=1e-3)
        assert point.log_likelihood == pytest.approx(_direct(x, *mu), rel=1e-12)


def test_em_started_at_the_saddle_stays_and_a_nudge_escapes(x):
    """Equal variances: on μ1 = μ2 every r_nk = w_k, so EM maps the whole diagonal to the
    critical point (x̄, x̄), a saddle of this data, and stays there. (The saddle is unstable:
    a start off the diagonal by one rounding error can drift away, so the starts are exactly
    on the diagonal and EM itself lands on the saddle.)"""
    model = TwoMeanMixture(variances=(1.0, 1.0))
    saddle = next(p for p in critical_points(model, x) if p.kind == "saddle")
    np.testing.assert_allclose(saddle.location, [x.mean(), x.mean()], rtol=1e-9)
    for start in ((0.3, 0.3), (4.0, 4.0), (-1.0, -1.0)):
        stuck = run_em(model, x[:, None], model.params(*start), max_iter=100, tol=0)
        path = np.array([s.params.means[:, 0] for s in stuck.steps[2:]])  # after the 1st M
        assert np.abs(path - saddle.location).max() <= 1e-8
        grad = [np.linalg.norm(gradient(model, x, s.params.means[:, 0])) for s in stuck.steps]
        assert grad[-1] <= 1e-8 * len(x)  # EM only promises a zero gradient
    # tol=0: near a saddle ℓ barely changes, and a likelihood-based stopping rule would stop
    nudged = run_em(model, x[:, None], model.params(x.mean() + 1e-3, x.mean()), max_iter=300, tol=0)
    assert np.linalg.norm(nudged.final_params.means[:, 0] - saddle.location) > 0.5
    assert nudged[-1].log_likelihood > saddle.log_likelihood + 1.0


def test_unequal_variance_saddle_is_a_fixed_point_rounding_escapes(x, points):
    """With unequal variances the saddle is still a fixed point of EM, but an unstable one:
    the rounding of the first iterations grows until EM leaves for a mode."""
    saddle = next(p for p in points if p.kind == "saddle")
    run = run_em(MODEL, x[:, None], MODEL.params(*saddle.location), max_iter=200, tol=0)
    path = np.array([s.params.means[:, 0] for s in run.steps])
    assert np.abs(path[:9] - saddle.location).max() <= 1e-8
    assert np.linalg.norm(path[-1] - points[0].location) < 1e-6  # ends at the global mode


def test_two_mean_runs_record_and_round_trip(x):
    history = run_em(MODEL, x[:, None], "spread", max_iter=50, tol=1e-10)
    assert history.stop_reason == "converged"
    ll = history.column("log_likelihood")
    assert np.all(np.diff(ll[::2]) >= -1e-9 * np.abs(ll[:-1:2]))
    np.testing.assert_allclose(history.final_params.weights, [0.3, 0.7])
    np.testing.assert_allclose(history.final_params.covariances[:, 0, 0], [1.0, 0.5])
    restored = History.from_json(history.to_json())
    assert restored.model == MODEL and restored.to_json() == history.to_json()


def test_a_path_is_cut_where_it_leaves_the_map():
    from emviz.analysis.paths import Path
    from emviz.plots.landscape import path_label, path_on_map

    region = ((-1.0, 1.0), (-2.0, 2.0))
    points = np.array([[0.0, 0.0], [0.5, 1.0], [1.5, 3.0], [0.0, 0.0]])
    path = Path("Newton–Raphson", points, np.zeros(4), "converged", np.zeros(4))
    kept, exit_point = path_on_map(path, region)
    # the step (0.5, 1) → (1.5, 3) crosses x = 1 at t = 0.5, y = 2 at t = 0.5: the corner
    assert kept == 2 and exit_point == pytest.approx((1.0, 2.0))
    assert path_label(path, kept) == "Newton–Raphson: left the map at step 2 of 3"
    inside = Path("EM", points[:2], np.zeros(2), "converged", np.zeros(2))
    assert path_on_map(inside, region) == (2, None)
    assert path_label(inside, 2) == "EM (1 step)"
    outside = Path("EM", points[2:3] * 10, np.zeros(1), "converged", np.zeros(1))
    assert path_on_map(outside, region) == (0, None)


def test_em_stalls_at_the_saddle_where_a_joint_move_climbs(x, points):
    from emviz.analysis.landscape import saddle_stall
    from emviz.plots.landscape import plot_coordinate_ascent

    model = TwoMeanMixture()
    saddle = next(p for p in points if p.kind == "saddle")
    stall = saddle_stall(model, x, saddle, reach=0.01, n_ts=5)
    assert stall.m_step_move < 1e-10  # the E-step and M-step give the saddle back
    # the direction is the Hessian's ascent eigenvector: H v = λ v with λ > 0
    np.testing.assert_allclose(
        hessian(model, x, saddle.location) @ stall.direction,
        stall.curvature * stall.direction,
        rtol=1e-8,
    )
    assert stall.curvature > 0 and np.linalg.norm(stall.direction) == pytest.approx(1.0)
    # ℓ rises both ways along it, ½·λ·t² to second order
    moved = stall.ts != 0
    assert np.all(stall.gains[moved] > 0)
    np.testing.assert_allclose(
        stall.gains[moved], 0.5 * stall.curvature * stall.ts[moved] ** 2, rtol=0.05
    )
    axis = np.linspace(-2, 5, 71)
    fig = plot_coordinate_ascent(stall, axis, axis, np.zeros((71, 71)))
    f = fig.data[0]
    np.testing.assert_allclose(np.asarray(f.z), np.outer(f.x, f.y))  # f(x, y) = x·y
    names = [trace.name for trace in fig.data]
    assert "joint move: f(t, t) = t²" in names and "saddle: EM stays" in names


def test_the_basin_map_labels_each_start_by_where_em_from_it_ends(x, points):
    from emviz.analysis.basins import BASIN_TOL, two_mean_basin_map
    from emviz.analysis.paths import em_path, nearest_critical_point

    model = TwoMeanMixture()
    axis = np.linspace(x.min() - 0.5, x.max() + 0.5, 15)
    basins = two_mean_basin_map(model, x, points, axis, axis)
    assert sum(basins.shares().values()) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    for row, column in rng.integers(0, 15, size=(12, 2)):
        path = em_path(model, x, (axis[column], axis[row]), tol=BASIN_TOL)
        assert basins.iterations[row, column] == path.iterations
        np.testing.assert_allclose(basins.ends[row, column], path.end, atol=1e-8)
        ended = nearest_critical_point(points, path.end, atol=1e-2 * np.ptp(x))
        assert basins.labels[row, column] == points.index(ended)
