"""Invariants of every EM run (hypothesis): monotone likelihood, ℓ = ELBO + KL, valid parameters;
and one iteration on data larger than the E-step's block against scikit-learn."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn.mixture import GaussianMixture as SklearnMixture

from emviz import GaussianMixture, run_em
from emviz.models import COVARIANCE_TYPES, InvalidStart
from emviz.models.gaussian_kernels import _BLOCK
from tests.sklearn_reference import compact, sklearn_precisions

MAX_FEATURES = 5  # beyond _FAST_MAX_FEATURES = 3, so the exact (centred) path is drawn too
SMALL_N = st.integers(6, 60)
BLOCKED_N = st.integers(_BLOCK + 1, 3 * _BLOCK)  # several E-step blocks


@st.composite
def em_problems(draw, n_samples=SMALL_N):
    """A data set of a few Gaussian clusters (offset far from 0 at times), a model and a start.

    ``n_samples`` draws N; it is raised to K + 2 where smaller.
    """
    n_features = draw(st.integers(1, MAX_FEATURES))
    n_components = draw(st.integers(1, 5))
    n_clusters = draw(st.integers(1, 4))
    n_samples = max(draw(n_samples), n_components + 2)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=draw(st.floats(0.1, 20.0)), size=(n_clusters, n_features))
    spreads = np.exp(rng.uniform(-3, 1, size=(n_clusters, n_features)))
    labels = rng.integers(0, n_clusters, n_samples)
    X = centres[labels] + spreads[labels] * rng.normal(size=(n_samples, n_features))
    X = X + draw(st.sampled_from([0.0, 50.0, -1e3]))
    return {
        "X": X,
        "model": GaussianMixture(n_components, draw(st.sampled_from(COVARIANCE_TYPES))),
        "init": draw(st.sampled_from(["random_from_data", "kmeans++", "kmeans", "spread"])),
        "seed": seed,
    }


def _relative(a, b, scale):
    return abs(a - b) / max(scale, 1e-300)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=em_problems())
def test_em_invariants(problem):
    X, model = problem["X"], problem["model"]
    try:
        init = model.init_params(X, problem["init"], seed=problem["seed"])
    except InvalidStart:
        assume(False)  # fewer distinct points than components
    history = run_em(model, X, init, max_iter=25, tol=0)
    steps = history.steps
    assert steps[0].phase == "init" and steps[0].iteration == 0
    assert [s.phase for s in steps[1:]] == ["E", "M"] * ((len(steps) - 1) // 2) + (
        ["E"] if len(steps) % 2 == 0 else []
    )
    for step in steps:
        values = [step.log_likelihood, step.elbo, step.kl, step.expected_log_joint, step.entropy]
        assert np.all(np.isfinite(values)), "no NaN in any recorded step"
        scale = max(abs(step.log_likelihood), abs(step.expected_log_joint), abs(step.entropy))
        assert _relative(step.log_likelihood, step.elbo + step.kl, scale) <= 1e-8
        assert step.kl >= 0
        if step.phase == "E":
            assert step.kl <= 1e-9 * abs(step.log_likelihood)
        params = step.params
        assert np.all(params.weights >= 0) and abs(params.weights.sum() - 1) < 1e-12
        cov = params.covariances
        np.testing.assert_array_equal(cov, np.swapaxes(cov, 1, 2))
        assert np.all(np.linalg.eigvalsh(cov) > 0)
    for m in (s for s in steps if s.phase == "M"):
        e, before = steps[m.index - 1], steps[m.index - 2]
        tolerance = 1e-9 * abs(before.log_likelihood)
        assert m.log_likelihood >= before.log_likelihood - tolerance, "ℓ never decreases"
        assert m.elbo >= e.elbo - 1e-9 * abs(e.elbo), "the M-step raises the bound"
    assert history.drops == ()
    assert history.stop_reason in ("max_iter", "singular")


def test_kl_equals_an_independent_computation(three_blobs):
    """KL(q_t || p(Z|X, θ_{t+1})) from scipy densities, against the recorded value."""
    model = GaussianMixture(3)
    history = run_em(model, three_blobs, "random_from_data", max_iter=6, tol=0, seed=2)
    for step in history.steps[2::2]:  # M steps
        q = history.responsibilities(step.index)
        p = step.params
        log_joint = np.column_stack(
            [
                np.log(w) + multivariate_normal(m, c).logpdf(three_blobs)
                for w, m, c in zip(p.weights, p.means, p.covariances)
            ]
        )
        log_post = log_joint - logsumexp(log_joint, axis=1, keepdims=True)
        kl = np.sum(q * (np.log(q) - log_post))
        assert step.kl > 0
        assert abs(step.kl - kl) <= 1e-9 * abs(step.log_likelihood)
        assert abs(step.expected_log_joint - np.sum(q * log_joint)) <= 1e-9 * abs(
            step.log_likelihood
        )
        assert abs(step.log_likelihood - logsumexp(log_joint, axis=1).sum()) <= 1e-10 * abs(
            step.log_likelihood
        )


def _log_likelihood_by_scipy(X, params) -> float:
    """log p(X | θ) = Σ_n log Σ_k π_k N(x_n | μ_k, Σ_k), from scipy's densities."""
    log_joint = np.column_stack(
        [
            np.log(w) + multivariate_normal(m, c).logpdf(X)
            for w, m, c in zip(params.weights, params.means, params.covariances)
        ]
    )
    return float(logsumexp(log_joint, axis=1).sum())


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # max_iter=1
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=em_problems(n_samples=BLOCKED_N))
def test_one_blocked_iteration_matches_sklearn(problem):
    """N above the E-step's block size, D up to 5: one E-step and M-step from the same start
    give scipy's log-likelihood and scikit-learn's parameters and log-likelihood.

    scikit-learn gets the data centred (and the start shifted with it): its diagonal and
    spherical variances are E[x²] − μ², which on data far from 0 (say near −1000, spread
    0.05) cancels eight digits. A mixture moves with its data, so the fits correspond.
    """
    X, model = problem["X"], problem["model"]
    assert len(X) > _BLOCK  # several blocks: the blocked log-sum-exp and moments are compared
    init = model.init_params(X, problem["init"], seed=problem["seed"])
    history = run_em(model, X, init, max_iter=1, tol=0)
    assume(history.stop_reason == "max_iter")  # no component emptied or collapsed
    e_step, m_step = history[1], history[2]
    log_likelihood = _log_likelihood_by_scipy(X, init)
    assert abs(e_step.log_likelihood - log_likelihood) <= 1e-10 * abs(log_likelihood)

    offset = X.mean(axis=0)
    reference = SklearnMixture(
        model.n_components,
        covariance_type=model.covariance_type,
        reg_covar=0.0,
        tol=0,
        max_iter=1,
        weights_init=init.weights,
        means_init=init.means - offset,
        precisions_init=sklearn_precisions(init.covariances, model.covariance_type),
    ).fit(X - offset)
    fitted = m_step.params
    spread = np.abs(X - offset).max()
    np.testing.assert_allclose(fitted.weights, reference.weights_, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(fitted.means - offset, reference.means_, rtol=0, atol=1e-8 * spread)
    covariances = compact(fitted.covariances, model.covariance_type)
    np.testing.assert_allclose(covariances, reference.covariances_, rtol=1e-8, atol=1e-14)
    sklearn_log_likelihood = reference.score(X - offset) * len(X)
    assert abs(m_step.log_likelihood - sklearn_log_likelihood) <= 1e-8 * abs(sklearn_log_likelihood)
