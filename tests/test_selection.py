"""Choosing K (`emviz.analysis.selection`): the criteria against scikit-learn and a hand
calculation, the best of the restarts against single runs, the held-out split, failures."""

import warnings

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn.mixture import GaussianMixture as SklearnMixture
from sklearn.mixture._gaussian_mixture import _compute_precision_cholesky

from emviz import GaussianMixture, run_em
from emviz.analysis.selection import (
    DEFAULT_REG_COVAR,
    best_restart,
    fit_grid,
    held_out_split,
    select_model,
)
from emviz.data import make_blobs
from emviz.models.gaussian_mixture import COVARIANCE_TYPES
from tests.sklearn_reference import compact


@pytest.fixture(scope="module")
def X():
    return make_blobs(300, 3, separation=3.0, elongation=2.0, seed=1)[0]


@pytest.fixture(scope="module")
def selection(X):
    return select_model(X, COVARIANCE_TYPES, ks=(1, 2, 3, 4), n_restarts=3, split_seed=5)


def _sklearn_with(params, covariance_type, X) -> SklearnMixture:
    """A fitted scikit-learn mixture whose parameters are then replaced by ``params``."""
    model = SklearnMixture(params.n_components, covariance_type=covariance_type, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one iteration: "did not converge"
        model.fit(X)
    covariances = compact(params.covariances, covariance_type)
    model.weights_ = params.weights
    model.means_ = params.means
    model.covariances_ = covariances
    model.precisions_cholesky_ = _compute_precision_cholesky(covariances, covariance_type)
    return model


def _log_joint(params, X) -> np.ndarray:
    """log π_k N(x_n | μ_k, Σ_k), (N, K), by scipy."""
    return np.column_stack(
        [
            np.log(w) + multivariate_normal(m, c).logpdf(X)
            for w, m, c in zip(params.weights, params.means, params.covariances)
        ]
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_bic_and_aic_equal_scikit_learns_for_the_same_parameters(selection, X, covariance_type):
    fits = selection.of_type(covariance_type)
    assert [f.n_components for f in fits] == [1, 2, 3, 4]
    for fit in fits:
        reference = _sklearn_with(fit.params, covariance_type, X)
        assert reference._n_parameters() == fit.n_parameters
        assert fit.bic == pytest.approx(reference.bic(X), rel=1e-10)
        assert fit.aic == pytest.approx(reference.aic(X), rel=1e-10)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_icl_is_bic_plus_twice_the_entropy_of_the_responsibilities(selection, X, covariance_type):
    for fit in selection.of_type(covariance_type):
        log_joint = _log_joint(fit.params, X)
        log_likelihood = logsumexp(log_joint, axis=1).sum()
        resp = np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))
        entropy = -np.sum(resp * np.log(np.maximum(resp, 1e-300)))
        bic = -2 * log_likelihood + fit.n_parameters * np.log(len(X))
        assert fit.log_likelihood == pytest.approx(log_likelihood, rel=1e-10)
        assert fit.entropy == pytest.approx(entropy, rel=1e-8, abs=1e-8)
        assert fit.icl == pytest.approx(bic + 2 * entropy, rel=1e-10)
        assert fit.icl >= fit.bic
    assert selection.of_type(covariance_type)[0].entropy == 0.0  # one component: no doubt


@pytest.mark.parametrize("covariance_type", ["full", "spherical"])
def test_the_best_of_the_restarts_is_the_best_single_run(X, covariance_type):
    model = GaussianMixture(4, covariance_type, DEFAULT_REG_COVAR)
    best, found = best_restart(X, model, 4, seed=2, max_iter=100, tol=1e-6)
    singles = [
        run_em(model, X, model.init_params(X, "kmeans++", seed=2 + r), max_iter=100, tol=1e-6)
        for r in range(4)
    ]
    log_likelihoods = [h[len(h) - 1].log_likelihood for h in singles]
    assert len(set(np.round(log_likelihoods, 6))) > 1  # the restarts differ: a real choice
    assert best == int(np.argmax(log_likelihoods))
    assert found.log_likelihoods[best] == pytest.approx(max(log_likelihoods), rel=1e-10)
    np.testing.assert_allclose(
        found.params(best).means, singles[best].final_params.means, rtol=1e-8
    )
    grid = fit_grid(X, covariance_type, ks=(4,), n_restarts=4, seed=2, held_out=False)
    assert grid[0].restart == best and grid[0].train_per_point is None
    assert grid[0].log_likelihood == pytest.approx(max(log_likelihoods), rel=1e-10)


def test_the_held_out_split_is_reproducible_by_seed():
    train, test = held_out_split(101, split_seed=3)
    again = held_out_split(101, split_seed=3)
    other = held_out_split(101, split_seed=4)
    np.testing.assert_array_equal(train, again[0])
    np.testing.assert_array_equal(test, again[1])
    assert not np.array_equal(test, other[1])
    assert len(test) == 30 and len(train) == 71
    assert sorted([*train, *test]) == list(range(101))


def test_held_out_likelihoods_are_those_of_the_training_fit(selection, X):
    train, test = held_out_split(len(X), split_seed=5)
    assert (selection.n_train, selection.n_test) == (len(train), len(test))
    fit = selection.of_type("full")[2]
    model = GaussianMixture(3, "full", DEFAULT_REG_COVAR)
    best, found = best_restart(X[train], model, 3, max_iter=100, tol=1e-6)
    params = found.params(best)
    for rows, value in ((train, fit.train_per_point), (test, fit.test_per_point)):
        expected = logsumexp(_log_joint(params, X[rows]), axis=1).mean()
        assert value == pytest.approx(expected, rel=1e-10)
    # the training likelihood grows with K for the best of several restarts on these blobs
    per_point = [f.train_per_point for f in selection.of_type("full")]
    assert np.all(np.diff(per_point) > 0)


def test_the_criteria_choose_the_three_separated_clusters(selection):
    chosen = selection.chosen("bic")
    assert chosen.n_components == 3
    assert chosen.bic == min(f.bic for f in selection.fits)
    assert selection.chosen("icl", ["spherical"]).covariance_type == "spherical"
    with pytest.raises(ValueError, match="criterion"):
        chosen.criterion("dic")


def test_a_fit_the_data_cannot_support_is_marked_not_nan():
    X = make_blobs(6, 2, seed=0)[0]
    selection = select_model(X, ["full"], ks=(1, 3, 7), n_restarts=2)
    fits = {f.n_components: f for f in selection.fits}
    assert "at least 7 points" in fits[7].failure and fits[7].failed
    assert fits[7].bic is None and fits[7].train_per_point is None
    # three full covariances on six points: a component ends on two points (a line), its
    # variance across it down at reg_covar, and ℓ as large as reg_covar lets it be
    assert "collapsed" in fits[3].failure and fits[3].failed
    assert not fits[1].failure and selection.chosen("bic") is fits[1]
    assert [f.n_components for f in selection.failures] == [3, 7]
    # two spherical components hold on all six points, not on the four training points
    (two,) = select_model(X, ["spherical"], ks=(2,), n_restarts=2).fits
    assert not two.failed and two.test_per_point is None
    assert two.failure.startswith("fitted to all points but not to the training points: ")
    for fit in selection.fits:
        values = [fit.bic, fit.aic, fit.icl, fit.train_per_point, fit.test_per_point]
        assert all(v is None or np.isfinite(v) for v in values)


def test_a_collapsed_restart_is_passed_over_for_one_that_is_not():
    """Restarts ending with a component on two points have the highest ℓ (set by reg_covar);
    the best restart is the best of the others."""
    X = make_blobs(40, 2, separation=2.0, seed=3)[0]
    X = np.vstack([X, X[:1] + [[0.0, 1e-4]]])  # two points almost on top of each other
    model = GaussianMixture(3, "full", DEFAULT_REG_COVAR)
    best, found = best_restart(X, model, 20, max_iter=100, tol=1e-6)
    smallest = np.linalg.eigvalsh(found.covariances)[..., 0].min(axis=-1)
    collapsed = smallest <= 2 * DEFAULT_REG_COVAR
    assert collapsed.any() and not collapsed[best]
    assert found.log_likelihoods[best] == found.log_likelihoods[~collapsed].max()


# ---- the figures ----


def test_the_criterion_chart_draws_each_types_values_and_stars_the_chosen(selection):
    from emviz.plots.selection import plot_criterion

    figure = plot_criterion(selection, "aic", ["full", "tied"])
    lines = [t for t in figure.data if t.mode == "lines+markers"]
    assert [t.name for t in lines] == ["full", "tied"]
    for trace in lines:
        fits = selection.of_type(trace.name)
        np.testing.assert_array_equal(trace.x, [1, 2, 3, 4])
        np.testing.assert_allclose(trace.y, [f.aic for f in fits])
    chosen = selection.chosen("aic", ["full", "tied"])
    (star,) = [t for t in figure.data if (t.name or "").startswith("chosen")]
    assert star.name == f"chosen: {chosen.covariance_type}, K = {chosen.n_components}"
    assert (star.x[0], star.y[0]) == (chosen.n_components, chosen.aic)
    rings = [t for t in figure.data if t.marker.symbol == "circle-open"]
    assert sorted(r.y[0] for r in rings) == sorted(
        min(f.aic for f in selection.of_type(t)) for t in ("full", "tied")
    )
    assert figure.layout.title.text == "AIC against K (lower is better)"


def test_a_failed_fit_is_a_gap_in_the_criterion_chart():
    from emviz.plots.selection import plot_criterion

    X = make_blobs(6, 2, seed=0)[0]
    selection = select_model(X, ["full"], ks=(1, 3, 7), n_restarts=2)
    (line,) = [t for t in plot_criterion(selection).data if t.mode == "lines+markers"]
    assert np.isfinite(line.y[0]) and np.isnan(line.y[1:]).all()


def test_the_held_out_chart_draws_training_and_held_out_likelihoods(selection):
    from emviz.plots.selection import plot_held_out

    figure = plot_held_out(selection, ["diag"])
    train, test, ring = figure.data
    fits = selection.of_type("diag")
    assert (train["name"], test.name) == ("diag, training", "diag, held out")
    np.testing.assert_allclose(train.y, [f.train_per_point for f in fits])
    np.testing.assert_allclose(test.y, [f.test_per_point for f in fits])
    assert test.line.dash == "dash"
    assert ring.y[0] == max(f.test_per_point for f in fits)
    assert f"{selection.n_train} training points, {selection.n_test} held out" in (
        figure.layout.title.text
    )


def test_the_chosen_model_is_drawn_with_its_own_parameters(selection, X):
    from emviz import runs
    from emviz.plots.palette import mixed_colours
    from emviz.plots.selection import plot_chosen

    fit = selection.chosen("bic")
    history = runs.chosen_history(X, fit)
    assert history[1].phase == "E"
    np.testing.assert_array_equal(history[1].params.means, fit.params.means)
    figure = plot_chosen(history, fit, "bic")
    means = next(t for t in figure.data if t.name.startswith("means"))
    np.testing.assert_allclose(np.column_stack([means.x, means.y]), fit.params.means)
    resp = np.exp(_log_joint(fit.params, X) - logsumexp(_log_joint(fit.params, X), axis=1)[:, None])
    np.testing.assert_array_equal(figure.data[0].marker.color, mixed_colours(resp))
    title = figure.layout.title.text
    assert title.startswith(f"Chosen by BIC:<br>K = {fit.n_components}, {fit.covariance_type}")
    assert f"BIC = {fit.bic:.1f}" in title
