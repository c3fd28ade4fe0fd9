"""Probabilistic PCA by EM against the closed-form maximum-likelihood solution (Tipping & Bishop
1999) and against Gaussian algebra done independently here."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from emviz import run_em
from emviz.data import ppca_sample
from emviz.models import InvalidStart, ProbabilisticPCA, SingularParameters
from emviz.models.ppca import (
    PPCAParams,
    maximum_likelihood_params,
    principal_angle_degrees,
)


def _closed_form(X, n_latent):
    """Tipping & Bishop's ML solution from the eigen-decomposition of the 1/N covariance:
    W Wᵀ = U_L (Λ_L − σ² I) U_Lᵀ (W itself only up to a rotation), σ² = mean of the discarded
    eigenvalues, μ = x̄."""
    centred = X - X.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(centred.T @ centred / len(X))
    eigenvalues, eigenvectors = eigenvalues[::-1], eigenvectors[:, ::-1]
    noise = eigenvalues[n_latent:].mean()
    U = eigenvectors[:, :n_latent]
    WWt = U @ np.diag(eigenvalues[:n_latent] - noise) @ U.T
    return WWt, noise, X.mean(axis=0)


def _five_dimensional_sample():
    rng = np.random.default_rng(11)
    loadings = rng.standard_normal((5, 2)) * np.array([3.0, 1.5])
    return rng.standard_normal((300, 2)) @ loadings.T + 0.6 * rng.standard_normal((300, 5)) + 4.0


CASES = {
    "2-D": (ppca_sample(200, 2, 0.5, seed=1)[0], 1),
    "3-D": (ppca_sample(250, 3, 0.8, seed=2)[0], 1),
    "5-D, two latent dimensions": (_five_dimensional_sample(), 2),
}


@pytest.mark.parametrize("case", list(CASES))
def test_em_reaches_the_closed_form_maximum(case):
    X, n_latent = CASES[case]
    model = ProbabilisticPCA(n_latent)
    history = run_em(model, X, "random", max_iter=3000, tol=0, seed=3)
    fitted = history.final_params
    WWt, noise, mean = _closed_form(X, n_latent)
    # W is identified only up to a rotation (a sign for L = 1): compare W Wᵀ
    np.testing.assert_allclose(fitted.W @ fitted.W.T, WWt, atol=1e-6)
    assert fitted.noise_variance == pytest.approx(noise, abs=1e-6)
    np.testing.assert_allclose(fitted.mean, mean, atol=1e-9)
    # ℓ at EM's fixed point is the closed-form maximum, computed by scipy's density
    covariance = WWt + noise * np.eye(X.shape[1])
    maximum = multivariate_normal(mean, covariance).logpdf(X).sum()
    assert history[-1].log_likelihood == pytest.approx(maximum, rel=1e-10)
    # the module's own closed form agrees too (the page draws it)
    closed = maximum_likelihood_params(X, n_latent)
    np.testing.assert_allclose(closed.W @ closed.W.T, WWt, atol=1e-10)
    assert closed.noise_variance == pytest.approx(noise, rel=1e-12)
    # and ℓ never fell on the way
    assert np.diff(history.column("log_likelihood")).min() > -1e-9


def test_w_turns_onto_the_top_eigenvector_and_the_angle_reads_it():
    X, _ = ppca_sample(200, 2, 0.5, seed=1)
    history = run_em(ProbabilisticPCA(1), X, "first_axis", max_iter=200, tol=0)
    top = np.linalg.eigh(np.cov(X.T, bias=True))[1][:, -1]
    angles = [principal_angle_degrees(s.params.W, top) for s in history.steps[::2]]
    start_angle = np.degrees(np.arccos(abs(top[0])))  # W starts along the x-axis
    assert angles[0] == pytest.approx(start_angle, abs=1e-9)
    assert angles[-1] < 1e-6
    assert principal_angle_degrees([[0.0], [1.0]], np.array([1.0, 0.0])) == pytest.approx(90.0)
    assert principal_angle_degrees([[-1.0], [-1.0]], np.array([1.0, 1.0])) == pytest.approx(0.0)


def _params_3d():
    return PPCAParams([[1.5], [-0.5], [0.8]], [0.3, -0.2, 0.1], 0.7)


def test_log_likelihood_and_posterior_are_the_gaussian_ones():
    X = ppca_sample(40, 3, 1.0, seed=5)[0]
    params = _params_3d()
    model = ProbabilisticPCA(1)
    W, mu, noise = params.W, params.mean, params.noise_variance
    C = W @ W.T + noise * np.eye(3)
    posterior = model.e_step(X, params)
    assert posterior.log_likelihood == pytest.approx(
        multivariate_normal(mu, C).logpdf(X).sum(), rel=1e-12
    )
    # conditioning the joint Gaussian of (z, x): Cov(z, x) = Wᵀ
    gain = np.linalg.solve(C, W).T  # Wᵀ C⁻¹
    np.testing.assert_allclose(posterior.latent_means, (X - mu) @ gain.T, rtol=1e-10)
    np.testing.assert_allclose(posterior.latent_covariance, np.eye(1) - gain @ W, rtol=1e-10)
    np.testing.assert_array_equal(posterior.resp, np.ones((40, 1)))


def test_m_step_is_prml_12_56_and_12_57_at_the_sample_mean():
    X = ppca_sample(60, 3, 0.9, seed=7)[0]
    model = ProbabilisticPCA(1)
    start = PPCAParams(_params_3d().W, X.mean(axis=0), 0.7)
    q = model.e_step(X, start)
    new = model.m_step(X, q)
    centred = X - X.mean(axis=0)
    m, S = q.latent_means, q.latent_covariance
    second_moments = m.T @ m + len(X) * S  # Σ E[z zᵀ]
    W = centred.T @ m @ np.linalg.inv(second_moments)  # (12.56)
    noise = (  # (12.57)
        np.sum(centred**2) - 2 * np.sum((m @ W.T) * centred) + np.trace(second_moments @ W.T @ W)
    ) / X.size
    np.testing.assert_allclose(new.W, W, rtol=1e-10)
    assert new.noise_variance == pytest.approx(noise, rel=1e-10)
    np.testing.assert_allclose(new.mean, X.mean(axis=0), atol=1e-12)


def _gauss_hermite_expectation(q_means, q_var, function):
    """Σ_n E_{z ~ N(q_means[n], q_var)}[function(n, z)] for a scalar z, exactly for a
    polynomial of degree < 40 in z (Gauss–Hermite with 20 nodes)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(20)
    weights = weights / weights.sum()
    z = q_means[:, 0][:, None] + np.sqrt(q_var) * nodes[None, :]  # (N, nodes)
    return float(np.sum(function(z) * weights))


def test_q_entropy_and_kl_are_the_integrals_they_name():
    X = ppca_sample(30, 3, 1.0, seed=8)[0]
    model = ProbabilisticPCA(1)
    theta = _params_3d()
    q = model.e_step(X, PPCAParams([[0.2], [1.0], [-0.4]], [0.0, 0.5, 0.0], 1.3))  # not θ's
    evaluated = model.e_step(X, theta)
    q_var = q.latent_covariance[0, 0]
    p_var = evaluated.latent_covariance[0, 0]

    def log_joint(z):  # log N(x_n | w z + μ, σ² I) + log N(z | 0, 1), shape (N, nodes)
        residual = (X - theta.mean)[:, None, :] - z[:, :, None] * theta.W[:, 0]
        noise = theta.noise_variance
        return -0.5 * (
            3 * np.log(2 * np.pi * noise) + np.sum(residual**2, axis=2) / noise
        ) - 0.5 * (np.log(2 * np.pi) + z**2)

    def log_density(z, means, var):
        return -0.5 * (np.log(2 * np.pi * var) + (z - means[:, 0][:, None]) ** 2 / var)

    Q = _gauss_hermite_expectation(q.latent_means, q_var, log_joint)
    H = -_gauss_hermite_expectation(
        q.latent_means, q_var, lambda z: log_density(z, q.latent_means, q_var)
    )
    KL = _gauss_hermite_expectation(
        q.latent_means,
        q_var,
        lambda z: (
            log_density(z, q.latent_means, q_var) - log_density(z, evaluated.latent_means, p_var)
        ),
    )
    assert model.expected_log_joint(q, evaluated) == pytest.approx(Q, rel=1e-10)
    assert model.entropy(q) == pytest.approx(H, rel=1e-10)
    assert model.kl_divergence(q, evaluated) == pytest.approx(KL, rel=1e-8)
    assert evaluated.log_likelihood == pytest.approx(Q + H + KL, rel=1e-12)


def test_the_initial_q_is_the_prior():
    X = ppca_sample(20, 2, 0.5, seed=9)[0]
    model = ProbabilisticPCA(1)
    params = model.init_params(X, "random", 4)
    prior = model.uniform_posterior(X, params)
    np.testing.assert_array_equal(prior.latent_means, np.zeros((20, 1)))
    np.testing.assert_array_equal(prior.latent_covariance, np.eye(1))
    assert prior.log_likelihood is None
    # H(N(0, 1)) per point
    assert model.entropy(prior) == pytest.approx(20 * 0.5 * np.log(2 * np.pi * np.e), rel=1e-14)


def test_init_methods_start_at_the_sample_mean_and_variance():
    X = ppca_sample(50, 3, 0.5, seed=10)[0]
    model = ProbabilisticPCA(1)
    for method in ("random", "first_axis"):
        params = model.init_params(X, method, 1)
        np.testing.assert_allclose(params.mean, X.mean(axis=0), rtol=1e-14)
        assert params.noise_variance == pytest.approx(X.var(axis=0).mean(), rel=1e-12)
        model.check_params(params, 3)
    first_axis = model.init_params(X, "first_axis")
    np.testing.assert_allclose(first_axis.W[:, 0], [np.sqrt(X.var(axis=0).mean()), 0, 0])
    np.testing.assert_array_equal(
        model.init_params(X, "random", 5).W, model.init_params(X, "random", 5).W
    )
    with pytest.raises(ValueError, match="Unknown initialisation"):
        model.init_params(X, "kmeans")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (PPCAParams([[1.0], [1.0]], [0.0, 0.0], 0.0), "must be > 0"),
        (PPCAParams([[1.0], [1.0]], [0.0, 0.0], -1.0), "must be > 0"),
        (PPCAParams([[0.0], [0.0]], [0.0, 0.0], 1.0), "fixed point"),
        (PPCAParams([[1.0], [1.0], [1.0]], [0.0, 0.0, 0.0], 1.0), "shape"),
        (PPCAParams([[np.inf], [1.0]], [0.0, 0.0], 1.0), "finite"),
    ],
)
def test_check_params_rejects_what_cannot_start(params, message):
    with pytest.raises(InvalidStart, match=message):
        ProbabilisticPCA(1).check_params(params, 2)


def test_data_that_cannot_be_fitted_is_refused():
    with pytest.raises(InvalidStart, match="fewer latent dimensions"):
        ProbabilisticPCA(2).init_params(np.ones((5, 2)) * np.arange(5)[:, None])
    with pytest.raises(InvalidStart, match="two distinct points"):
        ProbabilisticPCA(1).init_params(np.ones((5, 2)))


def test_points_on_a_line_collapse_the_noise_and_stop_the_run():
    X, _ = ppca_sample(50, 2, 0.0, seed=3)  # noise 0: every point on the line
    history = run_em(ProbabilisticPCA(1), X, "first_axis", max_iter=500, tol=0)
    assert history.stop_reason == "singular"
    assert "noise variance σ² collapsed" in history.message
    assert all(np.isfinite(history.column("log_likelihood")))
    with pytest.raises(SingularParameters):
        model = ProbabilisticPCA(1)
        model.m_step(X, model.e_step(X, PPCAParams([[2.0], [1.0]], X.mean(axis=0), 1e-30)))


def test_ppca_sample_draws_the_model_it_names():
    X, w_star = ppca_sample(20_000, 3, 0.5, seed=0)
    assert X.shape == (20_000, 3) and np.linalg.norm(w_star) == pytest.approx(2.0)
    np.testing.assert_allclose(X.mean(axis=0), [2, 1, 0], atol=0.05)
    expected = np.outer(w_star, w_star) + 0.25 * np.eye(3)
    np.testing.assert_allclose(np.cov(X.T), expected, atol=0.1)
    np.testing.assert_array_equal(ppca_sample(30, 2, seed=4)[0], ppca_sample(30, 2, seed=4)[0])
    for bad in ({"n_features": 4}, {"noise": -1.0}, {"n_samples": 1}):
        with pytest.raises(ValueError):
            ppca_sample(**{"n_samples": 10, **bad})


def test_n_parameters_counts_w_up_to_rotation():
    assert ProbabilisticPCA(1).n_parameters(3) == 3 + 3 + 1
    assert ProbabilisticPCA(2).n_parameters(5) == 10 + 5 + 1 - 1
