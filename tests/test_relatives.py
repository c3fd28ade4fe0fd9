"""EM's relatives (`emviz.models.variants`): hard EM is Lloyd's k-means, stochastic EM is
reproducible, annealed EM at T = 1 is EM, and a restricted q leaves a gap that the identity
ℓ = ELBO + KL still accounts for exactly."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.cluster.vq import kmeans2

from emviz import run_em
from emviz.data import make_blobs
from emviz.models import (
    AnnealedEStep,
    GaussianMixture,
    OvershootingMStep,
    SphericalMeansMixture,
    StochasticEStep,
    TemperedEStep,
)
from emviz.models.protocol import Capability


@pytest.fixture(scope="module")
def blobs():
    X, _ = make_blobs(300, 3, separation=1.5, elongation=2.0, seed=4)
    return X


def _lloyd(X, centres, n_iter):
    """Lloyd's k-means written out: nearest centre (first on a tie), then the mean of each."""
    iterates = []
    for _ in range(n_iter):
        distances = ((X[:, None, :] - centres[None]) ** 2).sum(axis=-1)
        labels = np.argmin(distances, axis=1)
        centres = np.array([X[labels == k].mean(axis=0) for k in range(len(centres))])
        iterates.append(centres)
    return iterates


def test_hard_em_with_the_kmeans_shape_is_lloyds_kmeans(blobs):
    start = GaussianMixture(3).init_params(blobs, "random_from_data", seed=2).means
    model = TemperedEStep(SphericalMeansMixture(3, variance=0.7), temperature=0.0)
    history = run_em(model, blobs, model.base.params(start), max_iter=12, tol=0.0)
    m_steps = [s.params.means for s in history.steps if s.phase == "M"]
    for ours, lloyd in zip(m_steps, _lloyd(blobs, start, len(m_steps)), strict=True):
        np.testing.assert_allclose(ours, lloyd, rtol=0, atol=1e-12)
    # and scipy's own k-means from the same centres, after as many iterations
    centroids, _ = kmeans2(blobs, start.copy(), iter=len(m_steps), minit="matrix")
    np.testing.assert_allclose(m_steps[-1], centroids, rtol=0, atol=1e-12)


def test_hard_q_is_one_hot_and_leaves_a_gap(blobs):
    model = TemperedEStep(GaussianMixture(3), temperature=0.0)
    history = run_em(model, blobs, "kmeans++", max_iter=10, tol=0.0)
    resp = history.responsibilities(1)
    assert set(np.unique(resp)) == {0.0, 1.0}
    np.testing.assert_array_equal(resp.sum(axis=1), 1.0)
    assert history[1].entropy == 0.0
    assert history[1].kl > 0


def test_temperature_one_and_annealing_done_are_plain_em(blobs):
    plain = run_em(GaussianMixture(3), blobs, "kmeans++", max_iter=30)
    for model in (
        TemperedEStep(GaussianMixture(3), temperature=1.0),
        AnnealedEStep(GaussianMixture(3), start_temperature=1.0),
    ):
        other = run_em(model, blobs, "kmeans++", max_iter=30)
        assert len(other) == len(plain)
        for a, b in zip(plain.steps, other.steps, strict=True):
            np.testing.assert_array_equal(a.params.means, b.params.means)
            assert a.log_likelihood == b.log_likelihood


def test_annealing_schedule_falls_to_one():
    model = AnnealedEStep(GaussianMixture(2), start_temperature=8.0, n_steps=3)
    temperatures = [model.temperature_at(t) for t in (1, 2, 3, 4, 5)]
    np.testing.assert_allclose(temperatures, [8.0, 4.0, 2.0, 1.0, 1.0])
    assert model.temperature_at(None) == 1.0


@pytest.mark.parametrize("temperature", [0.0, 0.3, 2.5])
def test_a_restricted_q_leaves_kl_positive_and_the_identity_exact(blobs, temperature):
    model = TemperedEStep(GaussianMixture(3, "diag"), temperature=temperature)
    history = run_em(model, blobs, "kmeans++", max_iter=15, tol=0.0)
    for step in history.steps[1:]:
        assert step.kl > 0
        # ℓ = ELBO + KL, with KL computed from its definition
        assert step.log_likelihood == pytest.approx(step.elbo + step.kl, rel=1e-12, abs=1e-9)
    # the tempered q of T is the posterior to the power 1/T, renormalised
    posterior = GaussianMixture(3, "diag").e_step(blobs, history[1].params).resp
    if temperature > 0:
        expected = posterior ** (1 / temperature)
        expected /= expected.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(history.responsibilities(1), expected, rtol=1e-9, atol=1e-300)


def test_stochastic_em_is_reproducible_by_seed(blobs):
    def run(seed):
        return run_em(StochasticEStep(GaussianMixture(3), seed=seed), blobs, "kmeans++", max_iter=8)

    first, again, other = run(1), run(1), run(2)
    assert [s.log_likelihood for s in first.steps] == [s.log_likelihood for s in again.steps]
    assert [s.log_likelihood for s in first.steps] != [s.log_likelihood for s in other.steps]
    # a recorded draw is drawn again exactly when recomputed, and on a subset of the rows
    rows = np.array([3, 50, 7])
    stored = first.responsibilities(3)
    recomputed = first.posterior(3).resp
    np.testing.assert_array_equal(stored, recomputed)
    np.testing.assert_array_equal(first.responsibilities(3, rows), stored[rows])


def test_stochastic_labels_follow_the_posterior(blobs):
    """Over many draws each point's label frequencies approach its responsibilities."""
    model = StochasticEStep(GaussianMixture(3), seed=0)
    params = GaussianMixture(3).init_params(blobs, "kmeans++", seed=0)
    posterior = GaussianMixture(3).e_step(blobs, params).resp
    draws = np.mean([model.e_step_at(blobs, params, t).resp for t in range(1, 801)], axis=0)
    assert np.abs(draws - posterior).max() < 0.08


def test_variants_that_set_q_refuse_a_wrapped_base():
    with pytest.raises(ValueError, match="plain"):
        TemperedEStep(OvershootingMStep(GaussianMixture(2)), temperature=0.5)
    assert Capability.SETTABLE_Q not in OvershootingMStep(GaussianMixture(2)).capabilities
    assert Capability.ITERATION_E_STEP in StochasticEStep(GaussianMixture(2)).capabilities
    for bad in (-1.0, np.nan):
        with pytest.raises(ValueError):
            TemperedEStep(GaussianMixture(2), temperature=bad)
    with pytest.raises(ValueError):
        AnnealedEStep(GaussianMixture(2), start_temperature=0.5)


def test_agreement_is_label_switching_blind_and_counts_moved_points():
    from emviz.analysis.variants import assignment_agreement

    labels = np.array([0, 0, 1, 1, 2, 2, 2, 0])
    assert assignment_agreement(labels, (labels + 1) % 3, 3) == 1.0  # relabelled: the same
    moved = labels.copy()
    moved[[0, 4]] = [1, 0]  # two points change cluster
    assert assignment_agreement(labels, moved, 3) == pytest.approx(6 / 8)


def test_comparison_sentence_reports_the_better_run_and_the_agreement():
    from emviz.analysis.variants import RunSummary, comparison_sentence

    variant = RunSummary("k-means", -110.0, 4, "converged", 0)
    plain = RunSummary("plain EM", -100.0, 9, "converged", 0)
    sentence = comparison_sentence(variant, plain, 50, 0.9)
    assert "plain EM ends higher, by 0.2000 per point" in sentence
    assert "K-means: 4 iterations (converged)" in sentence
    assert "agree on 90.0% of the points" in sentence


def test_another_model_is_not_ranked_by_its_likelihood():
    from emviz.analysis.variants import RunSummary, comparison_sentence

    variant = RunSummary("k-means", -300.0, 4, "converged", 0)
    plain = RunSummary("plain EM", -100.0, 9, "converged", 0)
    sentence = comparison_sentence(variant, plain, 50, 1.0, same_model=False)
    assert "not compared" in sentence and "ends higher" not in sentence


def test_a_gap_too_small_to_print_is_called_equal():
    from emviz.analysis.variants import RunSummary, comparison_sentence

    variant = RunSummary("tempered EM (T = 0.5)", -100.001, 5, "converged", 1)
    plain = RunSummary("plain EM", -100.0, 6, "converged", 0)
    sentence = comparison_sentence(variant, plain, 500, 1.0)
    assert "both end at the same log-likelihood (to 0.0001 per point)" in sentence
    assert "0.0000" not in sentence
