"""The normal with missing values (`emviz.models.MissingNormal`): EM against a direct
maximisation of the observed-data likelihood, the sample moments, and the MAR bias it avoids."""

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.stats import multivariate_normal

from emviz import run_em
from emviz.data import missing_sample
from emviz.data.missing import mar_probability
from emviz.models import InvalidStart, MissingNormal
from emviz.models.missing import NormalParams, prepare_missing_data

MODEL = MissingNormal()


def _observed_log_likelihood(X, mean, covariance) -> float:
    """Σ_n log N(x_obs,n | μ_obs, Σ_obs,obs) with scipy (the reference), the rows that see
    the same coordinates at once."""
    seen_masks = ~np.isnan(X)
    total = 0.0
    for seen in np.unique(seen_masks, axis=0):
        rows = X[(seen_masks == seen).all(axis=1)][:, seen]
        normal = multivariate_normal(mean[seen], covariance[np.ix_(seen, seen)])
        total += np.sum(normal.logpdf(rows))
    return total


def _direct_maximum(X, start: NormalParams) -> NormalParams:
    """Maximise the observed-data likelihood over μ and a Cholesky factor of Σ with BFGS."""
    d = X.shape[1]
    lower = np.tril_indices(d)

    def unpack(vector):
        factor = np.zeros((d, d))
        factor[lower] = vector[d:]
        return vector[:d], factor @ factor.T

    def loss(vector):
        return -_observed_log_likelihood(X, *unpack(vector)) / len(X)

    factor = np.linalg.cholesky(start.covariance)
    result = minimize(
        loss, np.concatenate([start.mean, factor[lower]]), method="BFGS", options={"gtol": 1e-11}
    )
    return NormalParams(*unpack(result.x))


def _em(X, init="complete_cases", max_iter=2000):
    return run_em(MODEL, X, init, max_iter=max_iter, tol=1e-15)


@pytest.mark.parametrize("mechanism", ["MCAR", "MAR"])
def test_em_equals_a_direct_maximisation_of_the_observed_data_likelihood(mechanism):
    X = np.array(missing_sample(150, 0.4, mechanism, seed=7).observed)
    fitted = _em(X).final_params
    direct = _direct_maximum(X, MODEL.init_params(X, "observed_moments"))
    np.testing.assert_allclose(fitted.mean, direct.mean, atol=1e-5)
    np.testing.assert_allclose(fitted.covariance, direct.covariance, atol=1e-5)
    # ℓ as the model computes it is the scipy reference, and EM's is not below the optimiser's
    ll = MODEL.log_likelihood(X, fitted)
    assert ll == pytest.approx(_observed_log_likelihood(X, fitted.mean, fitted.covariance))
    assert ll >= _observed_log_likelihood(X, direct.mean, direct.covariance) - 1e-9


def test_three_dimensions_with_two_values_missing_in_a_row():
    rng = np.random.default_rng(3)
    covariance = np.array([[2.0, 0.8, 0.3], [0.8, 1.0, -0.4], [0.3, -0.4, 1.5]])
    X = rng.multivariate_normal([1.0, -1.0, 0.5], covariance, size=120)
    X[rng.random(X.shape) < 0.25] = np.nan
    X = X[~np.isnan(X).all(axis=1)]
    assert any(np.isnan(row).sum() == 2 for row in X)
    history = _em(X)
    fitted = history.final_params
    direct = _direct_maximum(X, MODEL.init_params(X, "observed_moments"))
    np.testing.assert_allclose(fitted.mean, direct.mean, atol=1e-5)
    np.testing.assert_allclose(fitted.covariance, direct.covariance, atol=1e-5)
    for step in history.steps:  # ℓ = ELBO + KL with each term from its own formula
        assert step.log_likelihood == pytest.approx(step.elbo + step.kl, abs=1e-9)


def test_the_e_step_fills_in_the_conditional_mean():
    X = np.array([[1.0, np.nan, 2.0], [np.nan, np.nan, 0.5], [0.0, 1.0, 1.0]])
    params = NormalParams([0.5, 1.0, -1.0], [[2.0, 0.6, 0.2], [0.6, 1.0, 0.3], [0.2, 0.3, 1.5]])
    filled = MODEL.e_step(X, params).filled
    mean, cov = params.mean, params.covariance
    for row, out in zip(X, filled):
        o, m = ~np.isnan(row), np.isnan(row)
        gain = cov[np.ix_(m, o)] @ np.linalg.inv(cov[np.ix_(o, o)])
        np.testing.assert_allclose(out[m], mean[m] + gain @ (row[o] - mean[o]), rtol=1e-13)
        np.testing.assert_array_equal(out[o], row[o])


def test_with_nothing_missing_em_gives_the_sample_moments():
    X = np.array(missing_sample(80, 0.0, "MCAR", seed=1).observed)
    assert not np.isnan(X).any()
    history = run_em(MODEL, X, "observed_moments", max_iter=3, tol=0)
    expected_covariance = np.cov(X.T, bias=True)  # the ML covariance: divide by N
    for step in history.steps[2::2]:  # every M-step
        np.testing.assert_allclose(step.params.mean, X.mean(axis=0), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(step.params.covariance, expected_covariance, rtol=1e-12)
    assert history[1].entropy == 0.0 and history[1].kl == 0.0  # nothing hidden


def test_under_mar_complete_cases_are_biased_and_em_is_not():
    sample = missing_sample(20_000, 0.5, "MAR", seed=11)
    X = np.array(sample.observed)
    complete_case_mean = X[~np.isnan(X).any(axis=1)].mean(axis=0)
    em_mean = _em(X, max_iter=300).final_params.mean
    # x2 goes missing when x1 is large and x2 rises with x1: the complete rows' x2 is too low
    # by about 0.6 (≈ 40 standard errors); EM is within 4 standard errors (≈ 0.015) of the truth
    assert sample.mean[1] - complete_case_mean[1] > 0.4
    np.testing.assert_allclose(em_mean, sample.mean, atol=0.05)


def test_mar_missingness_follows_x1_with_the_asked_share():
    x1 = np.random.default_rng(0).normal(size=50_000)
    probability = mar_probability(x1, 0.3)
    assert probability.mean() == pytest.approx(0.3, abs=1e-9)
    assert np.all(np.diff(probability[np.argsort(x1)]) >= 0)  # rises with x1
    sample = missing_sample(5000, 0.3, "MAR", seed=2)
    assert not np.isnan(sample.observed[:, 0]).any()
    assert np.isnan(sample.observed[:, 1]).mean() == pytest.approx(0.3, abs=0.02)


def test_mcar_removes_one_value_from_the_asked_share_of_rows():
    sample = missing_sample(200, 0.25, "MCAR", seed=4)
    holes = np.isnan(sample.observed)
    assert holes.any(axis=1).sum() == 50 and holes.sum() == 50
    np.testing.assert_array_equal(sample.observed[~holes], sample.complete[~holes])


def test_rows_are_grouped_by_pattern_once():
    X = np.array([[1.0, np.nan], [2.0, 3.0], [np.nan, 1.0], [4.0, np.nan], [5.0, 6.0]])
    patterns = prepare_missing_data(X).patterns
    assert [p.rows.tolist() for p in patterns] == [[0, 3], [1, 4], [2]]
    assert [p.missing.tolist() for p in patterns] == [[1], [], [0]]


def test_bad_data_and_starts_get_a_sentence():
    with pytest.raises(InvalidStart, match="Row 2 has every value missing"):
        MODEL.prepare([[1.0, 2.0], [np.nan, np.nan]])
    with pytest.raises(InvalidStart, match="Column 2 has no observed value"):
        MODEL.prepare([[1.0, np.nan], [2.0, np.nan]])
    with pytest.raises(InvalidStart, match="infinite"):
        MODEL.prepare([[1.0, np.inf], [2.0, 1.0]])
    with pytest.raises(InvalidStart, match="Only 2 rows have no missing value"):
        MODEL.init_params([[1.0, 2.0], [2.0, 1.0], [np.nan, 1.0], [3.0, np.nan]], "complete_cases")
    with pytest.raises(InvalidStart, match="positive definite"):
        MODEL.check_params(NormalParams([0.0, 0.0], [[1.0, 1.0], [1.0, 1.0]]), 2)
    with pytest.raises(InvalidStart, match="symmetric"):
        MODEL.check_params(NormalParams([0.0, 0.0], [[1.0, 0.5], [0.4, 1.0]]), 2)


def test_the_posterior_has_one_state_per_row_and_the_start_knows_no_row():
    X = np.array(missing_sample(30, 0.5, "MCAR", seed=3).observed)
    params = MODEL.init_params(X, "complete_cases")  # correlated: the rows' x_obs matter
    start = MODEL.uniform_posterior(X, params)
    np.testing.assert_array_equal(start.resp, np.ones((30, 1)))
    np.testing.assert_array_equal(start.log_resp, np.zeros((30, 1)))
    holes = np.isnan(X)
    np.testing.assert_array_equal(start.filled[holes], np.broadcast_to(params.mean, X.shape)[holes])
    assert MODEL.kl_divergence(start, MODEL.e_step(X, params)) > 0.1
    # with no correlation the observed value says nothing: the marginal is the posterior
    diagonal = MODEL.init_params(X, "observed_moments")
    assert MODEL.kl_divergence(MODEL.uniform_posterior(X, diagonal), MODEL.e_step(X, diagonal)) == (
        pytest.approx(0.0, abs=1e-12)
    )
