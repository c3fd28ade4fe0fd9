"""Engine and model values against scikit-learn, hand calculations and invariants."""

import warnings

import numpy as np
import pytest
from scipy.linalg import solve_triangular
from scipy.stats import multivariate_normal
from sklearn.mixture import GaussianMixture as SklearnMixture

from emviz import GaussianMixture, GaussianParams, run_em
from emviz.models import COVARIANCE_TYPES, INIT_METHODS, InvalidStart
from emviz.models.gaussian_kernels import (
    _inverse_cholesky,
    _log_joint_plan,
    _solve_lower,
    prepare_gaussian_data,
)
from tests.sklearn_reference import compact, sklearn_precisions


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_matches_sklearn_after_30_iterations(three_blobs, covariance_type):
    model = GaussianMixture(3, covariance_type, reg_covar=0.0)
    init = model.init_params(three_blobs, "random_from_data", seed=3)
    history = run_em(model, three_blobs, init, max_iter=30, tol=0)
    reference = SklearnMixture(
        3,
        covariance_type=covariance_type,
        reg_covar=0.0,
        tol=0,
        max_iter=30,
        weights_init=init.weights,
        means_init=init.means,
        precisions_init=sklearn_precisions(init.covariances, covariance_type),
    ).fit(three_blobs)
    fitted = history.final_params
    assert history.n_iterations == 30 == reference.n_iter_
    np.testing.assert_allclose(fitted.weights, reference.weights_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(fitted.means, reference.means_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(
        compact(fitted.covariances, covariance_type), reference.covariances_, rtol=0, atol=1e-8
    )
    mean_ll = history[-1].log_likelihood / len(three_blobs)
    assert abs(mean_ll - reference.score(three_blobs)) < 1e-10


def test_log_likelihood_by_hand_one_dimension():
    X = np.array([[0.0], [1.0], [3.0]])
    params = GaussianParams([0.25, 0.75], [[0.0], [2.0]], [[[1.0]], [[4.0]]])
    by_hand = sum(
        np.log(
            0.25 * np.exp(-(x**2) / 2) / np.sqrt(2 * np.pi)
            + 0.75 * np.exp(-((x - 2) ** 2) / 8) / np.sqrt(8 * np.pi)
        )
        for x in (0.0, 1.0, 3.0)
    )
    assert GaussianMixture(2).log_likelihood(X, params) == pytest.approx(by_hand, rel=1e-14)


def test_e_step_matches_scipy_densities(three_blobs):
    model = GaussianMixture(3)
    params = model.init_params(three_blobs, "kmeans", seed=0)
    posterior = model.e_step(three_blobs, params)
    weighted = np.column_stack(
        [
            w * multivariate_normal(m, c).pdf(three_blobs)
            for w, m, c in zip(params.weights, params.means, params.covariances)
        ]
    )
    np.testing.assert_allclose(
        posterior.resp, weighted / weighted.sum(1, keepdims=True), atol=1e-12
    )
    assert posterior.log_likelihood == pytest.approx(np.log(weighted.sum(1)).sum(), rel=1e-12)


@pytest.mark.parametrize("n_features", [1, 2, 5])
def test_forward_substitution_matches_scipy_solve_triangular(n_features):
    rng = np.random.default_rng(n_features)
    a = rng.normal(size=(3, n_features, n_features))
    chol = np.linalg.cholesky(a @ np.swapaxes(a, 1, 2) + 0.1 * np.eye(n_features))
    rhs = rng.normal(size=(n_features, 7))
    for factor, solved in zip(chol, _solve_lower(chol, rhs)):
        reference = solve_triangular(factor, rhs, lower=True)
        np.testing.assert_allclose(solved, reference, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(_solve_lower(factor, rhs), reference, rtol=1e-12, atol=1e-12)
    inverse = _inverse_cholesky(chol)
    np.testing.assert_allclose(
        chol @ inverse, np.broadcast_to(np.eye(n_features), chol.shape), atol=1e-12
    )
    np.testing.assert_array_equal(np.triu(inverse, 1), 0.0)


def test_exact_path_for_a_nearly_flat_component_matches_extended_precision():
    """A covariance of condition 1e8 makes the expanded quadratic inaccurate: the E-step takes
    the exact path (triangular solves against centred differences), whose log-densities must
    match a closed-form 2×2 computation in extended precision to ~eps·condition."""
    rng = np.random.default_rng(0)
    rotation = np.array([[np.cos(0.3), -np.sin(0.3)], [np.sin(0.3), np.cos(0.3)]])
    covariance = rotation @ np.diag([1.0, 1e-8]) @ rotation.T
    covariance = 0.5 * (covariance + covariance.T)
    X = rng.multivariate_normal([5.0, -3.0], covariance, size=200, method="eigh")
    params = GaussianParams([1.0], [[5.0, -3.0]], [covariance])
    coefficients, _ = _log_joint_plan(
        prepare_gaussian_data(X), params.weights, params.means, params.covariances
    )
    assert coefficients is None, "the exact path is the one under test"
    c = params.covariances[0].astype(np.longdouble)
    det = c[0, 0] * c[1, 1] - c[0, 1] * c[1, 0]
    d = X.astype(np.longdouble) - params.means[0].astype(np.longdouble)
    quadratic = (
        c[1, 1] * d[:, 0] ** 2 - 2 * c[0, 1] * d[:, 0] * d[:, 1] + c[0, 0] * d[:, 1] ** 2
    ) / det
    reference = (-0.5 * (quadratic + np.log(det) + 2 * np.log(2 * np.pi))).astype(np.float64)
    log_norm = GaussianMixture(1).e_step(X, params).log_norm
    np.testing.assert_allclose(log_norm, reference, rtol=1e-8)


def test_one_m_step_by_hand():
    """Weighted means and covariances computed directly from the definitions."""
    X = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [4.0, 4.0]])
    model = GaussianMixture(2)
    params = GaussianParams([0.5, 0.5], [[0.5, 0.5], [3.0, 3.0]], [np.eye(2), np.eye(2)])
    posterior = model.e_step(X, params)
    new = model.m_step(X, posterior)
    resp = posterior.resp
    for k in range(2):
        nk = resp[:, k].sum()
        mean = resp[:, k] @ X / nk
        diff = X - mean
        covariance = (resp[:, k, None] * diff).T @ diff / nk
        np.testing.assert_allclose(new.means[k], mean, atol=1e-13)
        np.testing.assert_allclose(new.covariances[k], covariance, atol=1e-13)
        assert new.weights[k] == pytest.approx(nk / 4, abs=1e-15)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("method", INIT_METHODS)
def test_init_stays_in_the_family(three_blobs, covariance_type, method):
    params = GaussianMixture(3, covariance_type).init_params(three_blobs, method, seed=1)
    cov = params.covariances
    assert params.weights.sum() == pytest.approx(1.0)
    assert np.all(np.linalg.eigvalsh(cov) > 0)
    off_diagonal = cov - np.diagonal(cov, axis1=1, axis2=2)[:, :, None] * np.eye(2)
    if covariance_type in ("diag", "spherical"):
        assert np.all(off_diagonal == 0)
    if covariance_type == "spherical":
        assert np.all(cov[:, 0, 0] == cov[:, 1, 1])
    if covariance_type == "tied":
        assert np.all(cov == cov[0])


def test_init_is_reproducible_and_seed_matters(three_blobs):
    model = GaussianMixture(3)
    a = model.init_params(three_blobs, "random_from_data", seed=5)
    b = model.init_params(three_blobs, "random_from_data", seed=5)
    c = model.init_params(three_blobs, "random_from_data", seed=6)
    np.testing.assert_array_equal(a.means, b.means)
    assert not np.array_equal(a.means, c.means)


def test_kmeans_init_means_are_group_centroids(three_blobs):
    params = GaussianMixture(3).init_params(three_blobs, "kmeans", seed=0)
    nearest = np.argmin(((three_blobs[:, None] - params.means) ** 2).sum(-1), axis=1)
    for k in range(3):
        np.testing.assert_allclose(params.means[k], three_blobs[nearest == k].mean(0), atol=1e-9)


def test_collapse_onto_isolated_point_stops_as_singular():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(50, 2)), [[30.0, 30.0]]])
    params = GaussianParams([0.9, 0.1], [[0.0, 0.0], [30.0, 30.0]], [np.eye(2), 1e-4 * np.eye(2)])
    history = run_em(GaussianMixture(2, reg_covar=0.0), X, params, max_iter=50)
    assert history.stop_reason == "singular"
    assert "Component 2" in history.message and "single point" in history.message
    for step in history.steps:
        assert np.isfinite([step.log_likelihood, step.elbo, step.kl]).all()
        assert step.params.is_finite()
    # With a little regularisation the same start runs on to convergence.
    regularised = run_em(GaussianMixture(2, reg_covar=1e-3), X, params, max_iter=50)
    assert regularised.stop_reason in ("converged", "max_iter")


def test_offset_data_gives_the_same_fit_as_centred(three_blobs):
    centred = three_blobs - three_blobs.mean(0)
    shifted = centred + 1e6
    model = GaussianMixture(3)
    init = model.init_params(centred, "kmeans", seed=0)
    init_shifted = GaussianParams(init.weights, init.means + 1e6, init.covariances)
    a = run_em(model, centred, init, max_iter=40, tol=0).final_params
    b = run_em(model, shifted, init_shifted, max_iter=40, tol=0).final_params
    np.testing.assert_allclose(b.weights, a.weights, atol=1e-8)
    np.testing.assert_allclose(b.means - 1e6, a.means, atol=1e-7)
    np.testing.assert_allclose(b.covariances, a.covariances, rtol=1e-7, atol=1e-9)


def test_converges_and_says_so(three_blobs):
    history = run_em(GaussianMixture(3), three_blobs, "kmeans++", max_iter=500, tol=1e-8)
    assert history.stop_reason == "converged"
    assert "Converged" in history.message
    last_change = history[-1].log_likelihood - history[-3].log_likelihood
    assert abs(last_change) / len(three_blobs) < 1e-8


def test_bad_initial_parameters_are_rejected_with_a_message(three_blobs):
    model = GaussianMixture(2)
    bad_weights = GaussianParams([0.7, 0.7], [[0, 0], [1, 1]], [np.eye(2), np.eye(2)])
    with pytest.raises(ValueError, match="weights"):
        run_em(model, three_blobs, bad_weights)
    not_pd = GaussianParams([0.5, 0.5], [[0, 0], [1, 1]], [np.eye(2), -np.eye(2)])
    with pytest.raises(ValueError, match="positive definite"):
        run_em(model, three_blobs, not_pd)


def test_inputs_are_not_modified(three_blobs):
    X = three_blobs.copy()
    init = GaussianMixture(3).init_params(X, "kmeans", seed=0)
    means = init.means.copy()
    run_em(GaussianMixture(3), X, init, max_iter=5)
    np.testing.assert_array_equal(X, three_blobs)
    np.testing.assert_array_equal(init.means, means)


@pytest.mark.parametrize("method", ["kmeans++", "kmeans"])
def test_kmeans_init_on_fewer_distinct_points_than_components_warns_nothing(method):
    # scipy warns about the empty groups and k-means++'s 0/0 here; both are handled (an empty
    # group borrows the data's covariance), so no warning may reach the app's log.
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]] * 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        params = GaussianMixture(4, reg_covar=1e-3).init_params(X, method, seed=0)
    assert params.is_finite() and np.all(np.linalg.eigvalsh(params.covariances) > 0)
    assert params.weights.sum() == pytest.approx(1.0)


def test_init_on_values_whose_squared_distances_overflow_is_an_invalid_start():
    # The squares and the data's variance are finite; with k-means++'s first seed at -a each
    # squared distance (0, a², 4a²) is finite but their sum 5a² is not: every probability is
    # 0 and scipy's draw indexes past the data (IndexError, seed 0) unless this is checked.
    a = 6.5e153
    X = np.array([[-a, 0.0], [0.0, 1.0], [a, 2.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InvalidStart, match="squared distances between points overflow"):
            GaussianMixture(2).init_params(X, "kmeans++", seed=0)


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical", "tied"])
def test_batched_kmeanspp_starts_are_exactly_the_per_seed_starts(covariance_type, monkeypatch):
    import emviz.models.gaussian_mixture as gm
    from emviz.data import load_preset

    monkeypatch.setattr(gm, "_INIT_BATCH_ELEMENTS", 7_000)  # several chunks of seeds
    for X, K in (
        (load_preset("Heavy overlap", n_samples=900, seed=4), 4),
        (load_preset("1-D two-component mixture", n_samples=500, seed=2), 3),
        (np.repeat([[0.0, 0.0], [1.0, 1.0]], 20, axis=0), 3),  # 2 distinct points, K = 3
    ):
        model = GaussianMixture(K, covariance_type)
        seeds = range(5, 35)
        batch = model.init_params_batch(X, "kmeans++", seeds)
        for seed, params in zip(seeds, batch):
            one = model.init_params(X, "kmeans++", seed=seed)
            assert params.to_dict() == one.to_dict()  # the same numbers, bit for bit
