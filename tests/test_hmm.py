"""The Gaussian HMM (Baum–Welch) against hmmlearn, brute-force path sums and its own invariants."""

import itertools
import json
import warnings

import numpy as np
import pytest
from hmmlearn import hmm as hmmlearn_hmm
from scipy.special import logsumexp
from scipy.stats import norm

from emviz import run_em
from emviz.data.series import regime_parameters, regime_switching_series, sample_hmm
from emviz.models import GaussianHMM, InvalidStart, model_from_dict
from emviz.models.hmm import HMMParams
from emviz.models.hmm_kernels import chain_forward


def _reference(params: HMMParams) -> hmmlearn_hmm.GaussianHMM:
    """hmmlearn's model at ``params``, its M-step plain maximum likelihood: no prior on the
    means or variances (hmmlearn's defaults add covars_prior = 0.01), no min_covar floor."""
    n_states = params.n_states
    reference = hmmlearn_hmm.GaussianHMM(
        n_components=n_states,
        covariance_type="diag",
        init_params="",
        params="stmc",
        n_iter=1,
        tol=0,
        min_covar=0.0,
        means_prior=0.0,
        means_weight=0.0,
        covars_prior=0.0,
        covars_weight=1.0,
    )
    reference.startprob_ = params.startprob.copy()
    reference.transmat_ = params.transmat.copy()
    reference.means_ = params.means[:, None].copy()
    reference.covars_ = params.variances[:, None].copy()
    return reference


@pytest.mark.parametrize("n_states, init", [(3, "random"), (2, "quantiles"), (4, "quantiles")])
def test_twenty_iterations_agree_with_hmmlearn(n_states, init):
    X, _ = regime_switching_series(n_states, 1500, seed=11)
    model = GaussianHMM(n_states)
    start = model.init_params(X, init, seed=2)
    history = run_em(model, X, start, max_iter=20, tol=0)
    assert history.stop_reason == "max_iter"
    reference = _reference(start)
    m_steps = [step for step in history.steps if step.phase == "M"]
    for step in m_steps:
        with warnings.catch_warnings():  # hmmlearn warns that one iteration did not converge
            warnings.simplefilter("ignore")
            reference.fit(X)
        assert step.log_likelihood == pytest.approx(reference.score(X), rel=1e-6)
        params = step.params
        np.testing.assert_allclose(params.startprob, reference.startprob_, atol=1e-6)
        np.testing.assert_allclose(params.transmat, reference.transmat_, atol=1e-6)
        np.testing.assert_allclose(params.means, reference.means_[:, 0], atol=1e-6)
        np.testing.assert_allclose(params.variances, reference.covars_[:, 0, 0], atol=1e-6)
    # the E-step's marginals are hmmlearn's posteriors too
    final = m_steps[-1].params
    gamma = model.e_step(X, final).resp
    np.testing.assert_allclose(gamma, _reference(final).predict_proba(X), atol=1e-8)


def _log_space_forward(X, params: HMMParams) -> float:
    """log p(X | θ) by the forward recursion in log space, one time step at a time."""
    log_emission = norm.logpdf(X, params.means, np.sqrt(params.variances))
    log_transmat = np.log(params.transmat)
    log_alpha = np.log(params.startprob) + log_emission[0]
    for row in log_emission[1:]:
        log_alpha = logsumexp(log_alpha[:, None] + log_transmat, axis=0) + row
    return float(logsumexp(log_alpha))


def test_a_long_series_does_not_underflow():
    X, _ = regime_switching_series(4, 100_000, seed=3)
    params = HMMParams(**regime_parameters(4))
    # the unscaled forward vector underflows long before the end: the scaling is needed
    emission = norm.pdf(X, params.means, np.sqrt(params.variances))
    alpha = params.startprob * emission[0]
    for row in emission[1:2000]:
        alpha = (alpha @ params.transmat) * row
    assert alpha.sum() == 0.0
    log_likelihood = GaussianHMM(4).log_likelihood(X, params)
    assert np.isfinite(log_likelihood) and log_likelihood < -1e5
    assert log_likelihood == pytest.approx(_log_space_forward(X, params), rel=1e-10)


def _path_log_joint(X, params: HMMParams) -> tuple[list, np.ndarray]:
    """Every path z of length T and log p(X, z | θ)."""
    n_samples, n_states = len(X), params.n_states
    log_emission = norm.logpdf(X, params.means, np.sqrt(params.variances))
    paths = list(itertools.product(range(n_states), repeat=n_samples))
    values = []
    for path in paths:
        value = np.log(params.startprob[path[0]]) + log_emission[0, path[0]]
        for t in range(1, n_samples):
            value += np.log(params.transmat[path[t - 1], path[t]]) + log_emission[t, path[t]]
        values.append(value)
    return paths, np.array(values)


def test_q_entropy_and_kl_are_those_of_the_distribution_over_paths():
    X = np.array([[-1.3], [0.2], [2.1], [1.7], [-0.4]])
    old = HMMParams([0.3, 0.7], [[0.8, 0.2], [0.4, 0.6]], [-0.5, 0.5], [1.0, 2.0])
    new = HMMParams([0.6, 0.4], [[0.5, 0.5], [0.1, 0.9]], [-1.0, 1.5], [0.5, 1.5])
    model = GaussianHMM(2)
    _, old_joint = _path_log_joint(X, old)
    _, new_joint = _path_log_joint(X, new)
    q = np.exp(old_joint - logsumexp(old_joint))  # the posterior over the 32 paths at θ_old
    log_p_new = new_joint - logsumexp(new_joint)
    posterior, evaluated = model.e_step(X, old), model.e_step(X, new)
    assert model.entropy(posterior) == pytest.approx(-np.sum(q * np.log(q)), rel=1e-12)
    assert model.expected_log_joint(posterior, evaluated) == pytest.approx(
        np.sum(q * new_joint), rel=1e-12
    )
    assert model.kl_divergence(posterior, evaluated) == pytest.approx(
        np.sum(q * (np.log(q) - log_p_new)), rel=1e-10
    )
    assert evaluated.log_likelihood == pytest.approx(logsumexp(new_joint), rel=1e-13)
    uniform = model.uniform_posterior(X, old)
    assert model.entropy(uniform) == pytest.approx(5 * np.log(2), rel=1e-13)
    assert model.kl_divergence(uniform, evaluated) == pytest.approx(
        np.mean(-np.log(32) - log_p_new), rel=1e-12
    )


def test_several_series_are_independent_chains():
    params = HMMParams(**regime_parameters(3))
    first, _ = sample_hmm(**params.to_dict(), n_samples=40, seed=1)
    second, _ = sample_hmm(**params.to_dict(), n_samples=1, seed=2)
    third, _ = sample_hmm(**params.to_dict(), n_samples=25, seed=3)
    stacked = np.vstack([first, second, third])
    model = GaussianHMM(3, lengths=(40, 1, 25))
    single = GaussianHMM(3)
    assert model.log_likelihood(stacked, params) == pytest.approx(
        sum(single.log_likelihood(x, params) for x in (first, second, third)), rel=1e-13
    )
    posterior = model.e_step(stacked, params)
    np.testing.assert_allclose(posterior.resp[40:41], single.e_step(second, params).resp)
    # π is the mean of the three series' first marginals
    starts = posterior.resp[[0, 40, 41]].mean(axis=0)
    np.testing.assert_allclose(model.m_step(stacked, posterior).startprob, starts, rtol=1e-12)
    history = run_em(model, stacked, "quantiles", max_iter=5, tol=0)
    assert all(step.kl == 0 for step in history.steps if step.phase == "E")
    for step in history.steps:
        assert step.log_likelihood == pytest.approx(step.elbo + step.kl, rel=1e-11)
    assert model_from_dict(json.loads(json.dumps(model.to_dict()))) == model
    with pytest.raises(ValueError, match="lengths add up to 66"):
        model.prepare(stacked[:-1])


def test_chain_forward_keeps_the_total_of_a_stochastic_product():
    rng = np.random.default_rng(0)
    matrix = rng.dirichlet(np.ones(3), 3)
    factors = rng.random((3, 500))
    directions, log_total = chain_forward(factors[:, 0], matrix, factors)
    vector, log_scale = factors[:, 0] / factors[:, 0].sum(), 0.0
    for t in range(1, 500):
        vector = (vector @ matrix) * factors[:, t]
        log_scale += np.log(vector.sum())
        vector /= vector.sum()
        np.testing.assert_allclose(directions[:, t], vector, rtol=1e-12)
    assert log_total == pytest.approx(log_scale + np.log(factors[:, 0].sum()), rel=1e-12)


def test_check_params_names_what_is_wrong():
    model = GaussianHMM(2)
    good = HMMParams([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], [0.0, 1.0], [1.0, 1.0])
    model.check_params(good, 1)
    broken = {
        "start probabilities": HMMParams([0.6, 0.6], good.transmat, good.means, good.variances),
        "row of the transition matrix": HMMParams(
            good.startprob, [[0.9, 0.2], [0.2, 0.8]], good.means, good.variances
        ),
        "variance must be positive": HMMParams(
            good.startprob, good.transmat, good.means, [1.0, 0.0]
        ),
    }
    for message, params in broken.items():
        with pytest.raises(InvalidStart, match=message):
            model.check_params(params, 1)
    with pytest.raises(InvalidStart, match="columns"):
        model.check_params(good, 2)
    with pytest.raises(InvalidStart, match="2 states, the model 3"):
        GaussianHMM(3).check_params(good, 1)


def test_a_state_that_collapses_stops_the_run():
    # a state started on a value repeated exactly keeps only those copies: its variance → 0
    X = np.concatenate([np.zeros(30), np.linspace(3, 9, 70)])[:, None]
    start = HMMParams([0.5, 0.5], [[0.9, 0.1], [0.1, 0.9]], [0.0, 6.0], [1e-4, 4.0])
    history = run_em(GaussianHMM(2), X, start, max_iter=20, tol=0)
    assert history.stop_reason == "singular"
    assert "State 1 collapsed onto about 30 equal values" in history.message


def test_initial_parameters():
    X = np.array([[1.0], [2.0], [3.0], [10.0], [11.0], [12.0]])
    quantiles = GaussianHMM(2).init_params(X, "quantiles")
    np.testing.assert_allclose(quantiles.means, [2.0, 11.0])
    np.testing.assert_allclose(quantiles.variances, [2 / 3, 2 / 3])
    np.testing.assert_allclose(quantiles.transmat, [[0.9, 0.1], [0.1, 0.9]])
    random = GaussianHMM(3).init_params(X, "random", seed=4)
    assert random.to_dict() == GaussianHMM(3).init_params(X, "random", seed=4).to_dict()
    assert set(random.means) <= set(X[:, 0]) and len(set(random.means)) == 3
    np.testing.assert_allclose(random.transmat.sum(axis=1), 1.0)
    with pytest.raises(InvalidStart, match="2 distinct value"):
        GaussianHMM(3).init_params(np.array([[1.0], [1.0], [2.0]]), "quantiles")


def test_the_regime_series_is_seeded_and_switches_rarely():
    X, states = regime_switching_series(3, 20_000, seed=5)
    again, _ = regime_switching_series(3, 20_000, seed=5)
    np.testing.assert_array_equal(X, again)
    switches = np.mean(states[1:] != states[:-1])
    assert switches == pytest.approx(0.05, abs=0.006)
    for state, mean in enumerate(regime_parameters(3)["means"]):
        assert X[states == state, 0].mean() == pytest.approx(mean, abs=0.05)
