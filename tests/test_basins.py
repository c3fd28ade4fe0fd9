"""Batched EM from many starts (emviz.analysis.basins): each start's row equals a single run_em
from that start, and the two papers' claims hold (Xu–Hsu–Maleki 2016, Jin et al. 2016)."""

import numpy as np
import pytest

from emviz import run_em
from emviz.analysis.basins import (
    BatchedRun,
    classify_restarts,
    grid_starts,
    label_ends,
    run_batch,
    spherical_derivatives,
    spherical_restarts,
    symmetric_basins,
    symmetric_em_map,
    symmetric_fixed_point,
    two_mean_basins,
)
from emviz.analysis.landscape import critical_points
from emviz.convergence import ConvergenceMonitor
from emviz.data import (
    jin_centres_1d,
    jin_centres_2d,
    jin_sample,
    make_two_mean_sample,
    symmetric_sample,
)
from emviz.models import SphericalMeansMixture, SymmetricMixture, TwoMeanMixture

TOL = 1e-8


@pytest.fixture(scope="module")
def x():
    return make_two_mean_sample()


def _assert_rows_equal_run_em(model, X, run: BatchedRun, rows, *, max_iter):
    """Each sampled start through run_em: same end (1e-8), iterations, stop reason and ℓ."""
    for row in rows:
        history = run_em(
            model, X, model.params_from_free(run.starts[row]), max_iter=max_iter, tol=TOL
        )
        end = model.free_parameters(history.final_params)
        np.testing.assert_allclose(end, run.ends[row], rtol=0, atol=1e-8)
        assert history.n_iterations == run.iterations[row], row
        assert history.stop_reason == run.stop_reasons[row], row
        assert history.steps[-1].log_likelihood == pytest.approx(
            run.log_likelihoods[row], rel=1e-13
        )


# ---- the two-mean model ----


def test_two_mean_grid_equals_run_em_from_each_sampled_start(x):
    model = TwoMeanMixture()
    mu1, mu2 = np.linspace(-3, 5, 30), np.linspace(-2.5, 4.5, 25)
    run = two_mean_basins(model, x, mu1, mu2, max_iter=200, tol=TOL)
    assert run.starts.shape == (750, 2) and run.grid_shape == (25, 30)
    # row-major, μ2 along the rows and μ1 along the columns (plotly's z[row][column])
    np.testing.assert_array_equal(run.on_grid(run.starts)[4, 7], [mu1[7], mu2[4]])
    assert set(run.stop_reasons) == {"converged"}
    assert len(set(run.iterations)) > 5  # the starts stop at different iterations
    rows = np.random.default_rng(0).choice(len(run.starts), 25, replace=False)
    _assert_rows_equal_run_em(model, x[:, None], run, rows, max_iter=200)


def test_singular_and_max_iter_starts_are_marked_and_the_rest_go_on(x):
    """A mean far from every point loses all its responsibility in the first E-step: run_em
    stops in that M-step ('singular', 0 iterations, the start kept); the others run on."""
    model = TwoMeanMixture()
    starts = np.array([[60.0, 2.0], [0.0, 2.5], [-3.0, 300.0], [2.0, 0.0]])
    run = run_batch(model, x[:, None], starts, max_iter=200, tol=TOL)
    assert list(run.stop_reasons) == ["singular", "converged", "singular", "converged"]
    np.testing.assert_array_equal(run.ends[[0, 2]], starts[[0, 2]])
    assert list(run.iterations[[0, 2]]) == [0, 0]
    _assert_rows_equal_run_em(model, x[:, None], run, range(4), max_iter=200)
    short = run_batch(model, x[:, None], starts[[1, 3]], max_iter=3, tol=TOL)
    assert list(short.stop_reasons) == ["max_iter"] * 2 and list(short.iterations) == [3, 3]
    _assert_rows_equal_run_em(model, x[:, None], short, range(2), max_iter=3)


def test_chunking_changes_nothing(x):
    model = TwoMeanMixture()
    starts = grid_starts(np.linspace(-2, 4, 12), np.linspace(-2, 4, 9))
    whole = run_batch(model, x[:, None], starts)
    chunked = run_batch(model, x[:, None], starts, chunk_bytes=1)  # one start per chunk
    for name in ("ends", "log_likelihoods", "iterations", "stop_reasons"):
        np.testing.assert_array_equal(getattr(chunked, name), getattr(whole, name))


def test_every_start_ends_at_a_critical_point_and_the_labels_say_which(x):
    model = TwoMeanMixture()
    points = critical_points(model, x)
    assert [p.kind for p in points] == ["maximum", "maximum", "saddle"]
    axis = np.linspace(-3, 5, 21)
    run = two_mean_basins(model, x, axis, axis)
    labels = label_ends(run.ends, [p.location for p in points], atol=1e-2)
    assert (labels >= 0).all()
    # both maxima have a basin; a start at a maximum stays there
    assert {0, 1} <= set(labels)
    at_maxima = run_batch(model, x[:, None], [points[0].location, points[1].location])
    assert list(label_ends(at_maxima.ends, [p.location for p in points], atol=1e-6)) == [0, 1]


def test_equal_variance_diagonal_goes_to_the_saddle(x):
    """Equal variances: every start on μ1 = μ2 goes to the saddle (x̄, x̄) and stays."""
    model = TwoMeanMixture(variances=(1.0, 1.0))
    saddle = next(p for p in critical_points(model, x) if p.kind == "saddle")
    diagonal = np.column_stack([np.linspace(-2, 4, 7)] * 2)
    run = run_batch(model, x[:, None], diagonal, max_iter=50, tol=0)
    assert list(label_ends(run.ends, [saddle.location], atol=1e-8)) == [0] * 7


def test_label_ends_by_hand():
    ends = np.array([[0.0, 0.0], [1.0, 1.0005], [5.0, 5.0], [0.5, 0.5]])
    locations = [(0.0, 0.0005), (1.0, 1.0), (0.5, 0.5004)]
    assert list(label_ends(ends, locations, atol=1e-3)) == [0, 1, -1, 2]
    assert list(label_ends(ends, np.empty((0, 2)), atol=1.0)) == [-1] * 4


def test_the_monitor_rule_elementwise_is_the_rule():
    monitor = ConvergenceMonitor(1e-3, 10)
    before = np.array([-100.0, -100.0, -100.0])
    after = np.array([-99.995, -99.985, -100.0])  # changes per point 5e-4, 1.5e-3, 0
    assert list(monitor.settled(before, after)) == [True, False, True]
    for b, a in zip(before, after):
        assert monitor.converged([b, a]) == monitor.settled(b, a)


# ---- Xu, Hsu & Maleki: ½N(θ*, I) + ½N(−θ*, I) ----


@pytest.fixture(scope="module")
def symmetric():
    X, theta_star = symmetric_sample(1000, 3.0, angle=0.5, seed=1)
    return X, theta_star, symmetric_fixed_point(X, theta_star)


def test_symmetric_sample_by_construction():
    X, theta_star = symmetric_sample(401, 3.0, angle=np.pi / 2, seed=2)
    assert X.shape == (401, 2)
    np.testing.assert_allclose(theta_star, [0.0, 1.5], atol=1e-15)
    again, _ = symmetric_sample(401, 3.0, angle=np.pi / 2, seed=2)
    np.testing.assert_array_equal(X, again)
    # half the points around each centre: the mean of x·sign(⟨x, θ*⟩) is near θ*
    assert np.abs(X[:, 1].mean()) < 0.2 and 1.3 < np.abs(X[:, 1]).mean() < 1.9


def test_the_em_map_is_the_tanh_formula(symmetric):
    X, _, _ = symmetric
    thetas = np.array([[0.3, -1.0], [2.0, 0.5], [0.0, 0.0]])
    expected = [(X * np.tanh(X @ theta)[:, None]).mean(axis=0) for theta in thetas]
    np.testing.assert_allclose(symmetric_em_map(thetas, X), expected, rtol=1e-13, atol=1e-15)


def test_theta_hat_is_a_fixed_point_of_the_sample_em_map(symmetric):
    X, theta_star, theta_hat = symmetric
    assert np.abs(symmetric_em_map(theta_hat, X)[0] - theta_hat).max() <= 1e-10
    assert np.linalg.norm(theta_hat - theta_star) < 0.2  # √(d/n)-close to the truth
    np.testing.assert_allclose(symmetric_em_map(-theta_hat, X)[0], -theta_hat, atol=1e-10)


def test_every_start_off_the_orthogonal_band_goes_by_the_sign_of_its_projection(symmetric):
    X, theta_star, theta_hat = symmetric
    axis = np.linspace(-3, 3, 41)
    run = symmetric_basins(X, axis, axis, max_iter=500, tol=1e-12)
    labels = label_ends(run.ends, [theta_hat, -theta_hat], atol=1e-4)
    direction = theta_star / np.linalg.norm(theta_star)
    projection = run.starts @ direction
    # the band: starts within 0.1 rad of the line orthogonal to θ* (the sample's own basin
    # boundary is orthogonal to θ̂, a √(1/n) turn away from θ*'s)
    radius = np.linalg.norm(run.starts, axis=1)
    off_band = np.abs(projection) > 0.1 * radius
    assert off_band.mean() > 0.9
    np.testing.assert_array_equal(labels[off_band], np.where(projection[off_band] > 0, 0, 1))
    # θ0 = 0, on the orthogonal line: tanh(0) = 0 keeps it at the origin, a fixed point
    origin = np.flatnonzero(radius == 0)
    assert len(origin) == 1 and labels[origin[0]] == -1
    np.testing.assert_array_equal(run.ends[origin[0]], [0.0, 0.0])


def test_symmetric_batch_equals_run_em_from_each_sampled_start(symmetric):
    X, _, _ = symmetric
    axis = np.linspace(-2, 2, 15)
    run = symmetric_basins(X, axis, axis, max_iter=100, tol=TOL)
    rows = np.random.default_rng(1).choice(len(run.starts), 12, replace=False)
    _assert_rows_equal_run_em(SymmetricMixture(), X, run, rows, max_iter=100)


# ---- Jin, Zhang, Balakrishnan, Wainwright & Jordan: K equal spherical clusters ----


@pytest.fixture(scope="module")
def jin_1d():
    """Clusters at −4, 4 and 40 (σ = 1): well separated, 100 points each."""
    X = jin_sample(jin_centres_1d(4.0, 40.0), 100, seed=2)
    model = SphericalMeansMixture(3, 1.0)
    run = spherical_restarts(X, 3, 1.0, 200, seed=3)
    return X, model, run


def test_jin_sample_by_construction():
    centres = jin_centres_2d(5, 8.0)
    gaps = np.linalg.norm(centres - np.roll(centres, 1, axis=0), axis=1)
    np.testing.assert_allclose(gaps, 8.0)
    X = jin_sample(centres, 60, variance=0.25, seed=4)
    nearest = np.linalg.norm(X[:, None] - centres[None], axis=2).argmin(axis=1)
    np.testing.assert_array_equal(np.bincount(nearest), [60] * 5)
    np.testing.assert_array_equal(X, jin_sample(centres, 60, variance=0.25, seed=4))
    np.testing.assert_array_equal(jin_centres_1d(4.0, 40.0)[:, 0], [-4.0, 4.0, 40.0])


def test_spherical_batch_equals_run_em_from_each_sampled_start(jin_1d):
    X, model, run = jin_1d
    rows = np.random.default_rng(2).choice(len(run.starts), 12, replace=False)
    _assert_rows_equal_run_em(model, X, run, rows, max_iter=500)
    # the starts are distinct data points
    assert np.isin(run.starts, X[:, 0]).all()
    assert (np.diff(np.sort(run.starts, axis=1), axis=1) > 0).all()


def test_two_dimensional_spherical_batch_equals_run_em(jin_1d):
    X = jin_sample(jin_centres_2d(4, 6.0), 40, seed=6)
    model = SphericalMeansMixture(4, 1.0)
    run = spherical_restarts(X, 4, 1.0, 30, seed=7, max_iter=300)
    _assert_rows_equal_run_em(model, X, run, range(0, 30, 3), max_iter=300)


def test_gradient_and_hessian_are_the_slopes_of_the_log_likelihood():
    X = jin_sample(jin_centres_2d(3, 4.0), 30, seed=8)
    model = SphericalMeansMixture(3, 1.0)
    means = np.array([0.3, 2.0, -1.0, -0.5, 1.5, -2.0])
    gradient, hessian = spherical_derivatives(model, X, means)

    def ll(vector):
        return model.log_likelihood(X, model.params_from_free(vector))

    h = 1e-5
    steps = np.eye(6) * h
    numeric = [(ll(means + e) - ll(means - e)) / (2 * h) for e in steps]
    np.testing.assert_allclose(gradient[0], numeric, rtol=1e-6, atol=1e-6)
    numeric_h = [
        (spherical_derivatives(model, X, means + e)[0][0] - gradient[0]) / h for e in steps
    ]
    np.testing.assert_allclose(hessian[0], np.array(numeric_h).T, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(hessian[0], hessian[0].T, atol=1e-10)
    # many rows at once, in chunks of one start: the same numbers row by row
    many = np.stack([means, means[::-1], means + 0.5])
    chunked = spherical_derivatives(model, X, many, chunk_bytes=1)
    for row, vector in enumerate(many):
        single = spherical_derivatives(model, X, vector)
        np.testing.assert_allclose(chunked[0][row], single[0][0], rtol=1e-14, atol=1e-12)
        np.testing.assert_allclose(chunked[1][row], single[1][0], rtol=1e-14, atol=1e-12)


def test_random_starts_end_in_bad_local_maxima(jin_1d):
    """A clear share of random-from-data starts ends with one mean covering −4 and 4 and two
    splitting 40: ℓ below the best by more than 0.05 nats per point, |∇ℓ| ≈ 0 and a negative
    definite Hessian — a local maximum, which further EM iterations do not leave."""
    X, model, run = jin_1d
    truth = run_batch(model, X, [[-4.0, 4.0, 40.0]], max_iter=500, tol=TOL)
    outcomes = classify_restarts(model, X, run, margin=0.05, best=truth.log_likelihoods[0])
    assert run.log_likelihoods.max() == pytest.approx(truth.log_likelihoods[0], rel=1e-12)
    assert 0.1 < outcomes.share_bad < 0.5  # 3 clusters: P(every cluster gets a start) = 2/9
    bad = np.flatnonzero(outcomes.bad_local_maximum)
    assert (outcomes.gaps[bad] > 0.05 * len(X)).all()
    assert (outcomes.gradient_norms[bad] <= 1e-4 * len(X)).all()
    assert (outcomes.largest_curvatures[bad] < 0).all()
    configurations = np.sort(run.ends[bad], axis=1)
    np.testing.assert_allclose(configurations[:, 0], 0.0, atol=0.5)  # covers −4 and 4
    np.testing.assert_allclose(configurations[:, 1:], 40.0, atol=1.5)  # two split 40
    # not a slow run: 300 more iterations with tol = 0 raise ℓ by ~1e-6 of a gap of ~1500
    further = run_batch(model, X, run.ends[bad[:5]], max_iter=300, tol=0)
    assert np.abs(further.log_likelihoods - run.log_likelihoods[bad[:5]]).max() < 1e-4
    assert (truth.log_likelihoods[0] - further.log_likelihoods > 0.05 * len(X)).all()


def test_failure_grows_with_the_number_of_clusters():
    shares = []
    for k in (2, 6):
        X = jin_sample(jin_centres_2d(k, 10.0), 60, seed=9)
        model = SphericalMeansMixture(k, 1.0)
        run = spherical_restarts(X, k, 1.0, 100, seed=10, max_iter=300)
        shares.append(classify_restarts(model, X, run).share_bad)
    assert shares[0] == 0.0 and shares[1] > 0.3


def test_far_parameters_give_the_exact_likelihood_and_responsibilities(x):
    """Log-odds beyond e^709 (a mean or θ far from the data) take the overflow branch of the
    two-state E-step; ℓ and q still equal a log-sum-exp reference."""
    model = TwoMeanMixture()
    for mu1, mu2 in ((-60.0, 2.5), (2.5, -60.0), (0.0, 2.5)):
        posterior = model.e_step(x[:, None], model.params(mu1, mu2))
        joint = np.stack(
            [model.log_joint_grid(x, [mu1], 0)[0], model.log_joint_grid(x, [mu2], 1)[0]]
        )
        reference = np.logaddexp(joint[0], joint[1])
        assert posterior.log_likelihood == pytest.approx(reference.sum(), rel=1e-14)
        np.testing.assert_allclose(posterior.resp_t, np.exp(joint - reference), atol=1e-15)
    X, _ = symmetric_sample(50, 2.0, seed=3)
    theta = np.array([300.0, -40.0])
    posterior = SymmetricMixture().e_step(X, SymmetricMixture().params_from_free(theta))
    log_half_normal = (
        -np.log(2)
        - np.log(2 * np.pi)
        - 0.5 * np.stack([((X - theta) ** 2).sum(axis=1), ((X + theta) ** 2).sum(axis=1)])
    )
    reference = np.logaddexp(log_half_normal[0], log_half_normal[1])
    assert posterior.log_likelihood == pytest.approx(reference.sum(), rel=1e-14)
    np.testing.assert_allclose(posterior.resp_t, np.exp(log_half_normal - reference), atol=1e-15)
