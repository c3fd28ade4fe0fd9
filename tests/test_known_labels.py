"""The fit with the labels known: sample moments per group (scikit-learn's M-step from one-hot
responsibilities), its complete-data log-likelihood, and the invariant that EM cannot beat it
on the complete-data log-likelihood."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal
from sklearn.mixture._gaussian_mixture import _estimate_gaussian_parameters

from emviz import run_em
from emviz.analysis.known_labels import (
    compare_with_labels,
    complete_log_likelihood,
    labelled_fit,
    match_components,
    permuted,
)
from emviz.data import PRESETS
from emviz.models import GaussianMixture
from emviz.plots.known_labels import plot_known_labels
from emviz.runs import known_labels, true_labels
from emviz.settings import DataSource, ModelSettings
from tests.sklearn_reference import compact

COVARIANCE_TYPES = ("full", "diag", "spherical", "tied")
GENERATED = [name for name, preset in PRESETS.items() if preset.generated]


def _sample(name="Elongated clusters", n=300, seed=1):
    return PRESETS[name].sample(n, seed)


def _group_moments(X, labels):
    groups = [X[labels == k] for k in range(labels.max() + 1)]
    weights = np.array([len(g) / len(X) for g in groups])
    means = np.array([g.mean(axis=0) for g in groups])
    covariances = np.array([np.atleast_2d(np.cov(g.T, bias=True)) for g in groups])
    return weights, means, covariances


@pytest.mark.parametrize("name", GENERATED)
def test_labelled_fit_is_each_groups_sample_moments(name):
    X, labels = _sample(name)
    weights, means, covariances = _group_moments(X, labels)
    expected = {
        "full": covariances,
        "diag": np.array([np.diag(np.diag(c)) for c in covariances]),
        "spherical": np.array([np.trace(c) / X.shape[1] * np.eye(X.shape[1]) for c in covariances]),
        "tied": np.broadcast_to(np.einsum("k,kij->ij", weights, covariances), covariances.shape),
    }
    for covariance_type in COVARIANCE_TYPES:
        fit = labelled_fit(X, labels, covariance_type)
        np.testing.assert_allclose(fit.weights, weights, rtol=1e-12)
        np.testing.assert_allclose(fit.means, means, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(fit.covariances, expected[covariance_type], rtol=1e-9)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_labelled_fit_is_sklearns_m_step_from_one_hot_responsibilities(covariance_type):
    X, labels = _sample("Heavy overlap", 400, 3)
    one_hot = np.eye(labels.max() + 1)[labels]
    nk, means, covariances = _estimate_gaussian_parameters(X, one_hot, 0.0, covariance_type)
    fit = labelled_fit(X, labels, covariance_type)
    np.testing.assert_allclose(fit.weights, nk / len(X), rtol=1e-12)
    np.testing.assert_allclose(fit.means, means, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(compact(fit.covariances, covariance_type), covariances, rtol=1e-9)


def test_complete_log_likelihood_by_hand():
    X, labels = _sample("Heavy overlap", 60, 2)
    params = labelled_fit(X, labels, "full")
    by_hand = sum(
        np.log(params.weights[z])
        + multivariate_normal(params.means[z], params.covariances[z]).logpdf(x)
        for x, z in zip(X, labels)
    )
    assert complete_log_likelihood(X, labels, params) == pytest.approx(by_hand, rel=1e-12)


@pytest.mark.parametrize("name", GENERATED)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_em_never_beats_the_labelled_fit_on_the_complete_data(name, covariance_type):
    X, labels = _sample(name, 300, 5)
    model = GaussianMixture(labels.max() + 1, covariance_type)
    history = run_em(model, X, model.init_params(X, "kmeans++", seed=0), max_iter=200, tol=1e-8)
    comparison = compare_with_labels(X, labels, history.final_params, covariance_type)
    assert comparison.hidden_label_cost >= -1e-9
    assert 0 <= comparison.agreement <= 1


def test_the_labelled_fit_maximises_the_complete_data_log_likelihood():
    """Any other parameters of the same family score lower on the true labels."""
    X, labels = _sample()
    best = labelled_fit(X, labels, "full")
    top = complete_log_likelihood(X, labels, best)
    rng = np.random.default_rng(0)
    for _ in range(20):
        weights = best.weights * np.exp(0.1 * rng.standard_normal(3))
        other = type(best)(
            weights / weights.sum(),
            best.means + 0.1 * rng.standard_normal(best.means.shape),
            best.covariances * np.exp(0.1 * rng.standard_normal(3))[:, None, None],
        )
        assert complete_log_likelihood(X, labels, other) < top


def test_matching_undoes_label_switching():
    X, labels = _sample()
    fit = labelled_fit(X, labels, "full")
    shuffled = permuted(fit, [2, 0, 1])
    order = match_components(X, labels, shuffled)
    np.testing.assert_array_equal(order, [1, 2, 0])
    np.testing.assert_allclose(permuted(shuffled, order).means, fit.means)
    comparison = compare_with_labels(X, labels, shuffled, "full")
    assert comparison.hidden_label_cost == pytest.approx(0.0, abs=1e-9)
    assert comparison.em_log_likelihood == pytest.approx(comparison.labelled_log_likelihood)


def test_only_generated_presets_have_labels():
    assert true_labels(DataSource("preset", "Old Faithful (standardised)")) is None
    assert true_labels(DataSource("upload", "data.csv", file_id="x", columns=("a", "b"))) is None
    source = DataSource("preset", "Well-separated blobs", 200, 4)
    X, labels = PRESETS[source.name].sample(200, 4)
    np.testing.assert_array_equal(true_labels(source), labels)


def test_known_labels_says_why_it_cannot_compare():
    source = DataSource("preset", "Well-separated blobs", 200, 4)
    X, _ = PRESETS[source.name].sample(200, 4)
    model = GaussianMixture(2)
    history = run_em(model, X, model.init_params(X), max_iter=50, tol=1e-6)
    message = known_labels(history, source, ModelSettings(n_components=2))
    assert "set K = 3" in message
    faithful = known_labels(
        history, DataSource("preset", "Old Faithful (standardised)"), ModelSettings()
    )
    assert "generated" in faithful


@pytest.mark.parametrize("name", ["Elongated clusters", "1-D two-component mixture"])
def test_known_labels_figure_draws_both_fits(name):
    X, labels = _sample(name)
    model = GaussianMixture(labels.max() + 1)
    history = run_em(model, X, model.init_params(X), max_iter=100, tol=1e-6)
    comparison = compare_with_labels(X, labels, history.final_params, "full")
    fig = plot_known_labels(X, labels, comparison)
    titles = [a.text for a in fig.layout.annotations]
    assert f"{comparison.labelled_complete:.2f}" in titles[0]
    assert f"{comparison.em_complete:.2f}" in titles[1]
    per_panel = len(fig.data) // 2
    assert {t.xaxis for t in fig.data[:per_panel]} == {"x"}
    assert {t.xaxis for t in fig.data[per_panel:]} == {"x2"}
    if X.shape[1] == 2:  # the means trace of each panel holds that fit's means
        np.testing.assert_allclose(fig.data[per_panel - 1].x, comparison.labelled.means[:, 0])
        np.testing.assert_allclose(fig.data[-1].x, comparison.em.means[:, 0])
