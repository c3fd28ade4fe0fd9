"""emviz.analysis.restarts: batched restarts against run_em, grouping up to label switching,
and the three pitfalls' claims."""

from itertools import combinations

import numpy as np
import pytest

from emviz import GaussianMixture, GaussianParams, run_em
from emviz.analysis.restarts import (
    FAILED,
    batched_em,
    compare_initialisations,
    group_solutions,
    group_table,
    identical_start_run,
    label_switch,
    label_switch_example,
    permuted,
    premature_ranking,
    run_restarts,
    solution_distance,
)
from emviz.convergence import ConvergenceMonitor
from emviz.data import make_blobs


def _assert_same_as_run_em(restarts, X, r):
    model = restarts.model
    init = model.init_params(X, restarts.method, seed=int(restarts.seeds[r]))
    history = run_em(model, X, init, max_iter=restarts.max_iter, tol=restarts.tol)
    end = history.final_params
    assert restarts.stop_reasons[r] == history.stop_reason
    assert restarts.iterations[r] == history.n_iterations
    np.testing.assert_allclose(restarts.weights[r], end.weights, rtol=0, atol=1e-8)
    np.testing.assert_allclose(restarts.means[r], end.means, rtol=0, atol=1e-8)
    np.testing.assert_allclose(restarts.covariances[r], end.covariances, rtol=0, atol=1e-8)
    ll = history.steps[-1].log_likelihood
    assert restarts.log_likelihoods[r] == pytest.approx(ll, rel=1e-10, abs=1e-8)
    return history.stop_reason


SETUPS = {
    # 40 points for 6 components: some starts collapse a component (singular), some crawl
    "full K=6": (make_blobs(40, 2, separation=2.0, elongation=2.0, seed=1)[0], 6, "full"),
    "diag K=6": (make_blobs(40, 2, separation=2.0, elongation=2.0, seed=1)[0], 6, "diag"),
    "spherical K=6": (make_blobs(40, 2, separation=2.0, elongation=2.0, seed=1)[0], 6, "spherical"),
    "tied K=6": (make_blobs(40, 2, separation=2.0, elongation=2.0, seed=1)[0], 6, "tied"),
    # D = 5: no quadratic features, responsibilities kept for the M-step
    "5-D": (
        np.random.default_rng(0).normal(size=(200, 5)) + np.repeat([[0.0], [2.0]], 100, 0),
        3,
        "full",
    ),
    # far from the origin: the data is centred as the engine centres it
    "1-D at 1e6": (
        np.random.default_rng(1).normal(size=(100, 1)) + [[1e6]] + np.repeat([[0.0], [3.0]], 50, 0),
        4,
        "full",
    ),
}


@pytest.mark.parametrize("name", SETUPS)
def test_every_restart_ends_where_run_em_ends(name):
    X, n_components, covariance_type = SETUPS[name]
    restarts = run_restarts(
        X, GaussianMixture(n_components, covariance_type), "random_from_data", 30, seed=3
    )
    seen = {_assert_same_as_run_em(restarts, X, r) for r in _sample_each_reason(restarts)}
    assert seen == set(restarts.stop_reasons)


def _sample_each_reason(restarts, per_reason=3):
    return [
        r
        for reason in np.unique(restarts.stop_reasons)
        for r in np.flatnonzero(restarts.stop_reasons == reason)[:per_reason]
    ]


def test_the_setups_reach_singular_and_max_iter_stops():
    X, n_components, _ = SETUPS["diag K=6"]
    restarts = run_restarts(
        X, GaussianMixture(n_components, "diag"), "random_from_data", 30, seed=3
    )
    assert {"singular", "max_iter", "converged"} <= set(restarts.stop_reasons)
    # a singular run keeps the parameters of its last complete iteration and gets no group
    singular = restarts.stop_reasons == "singular"
    assert np.all(restarts.groups[singular] == FAILED)
    assert np.all(restarts.groups[~singular] >= 0)
    assert np.isfinite(restarts.log_likelihoods).all()


def test_large_batch_matches_run_em_and_benchmark_setup():
    X, _ = make_blobs(3000, 3, separation=2.0, elongation=2.0, seed=0)
    restarts = run_restarts(X, GaussianMixture(3), "kmeans++", 40, max_iter=100, tol=1e-6)
    assert {"converged", "max_iter"} <= set(restarts.stop_reasons)
    for r in _sample_each_reason(restarts, per_reason=2):
        _assert_same_as_run_em(restarts, X, r)


def test_zero_iterations_and_reg_covar():
    X, _ = make_blobs(300, 3, separation=1.5, elongation=2.0, seed=2)
    model = GaussianMixture(3, "full", reg_covar=1e-3)
    restarts = run_restarts(X, model, "kmeans", 5, max_iter=0)
    assert np.all(restarts.iterations == 0) and np.all(restarts.stop_reasons == "max_iter")
    start = model.init_params(X, "kmeans", seed=0)
    np.testing.assert_array_equal(restarts.means[0], start.means)
    restarts = run_restarts(X, model, "kmeans", 5, max_iter=7)
    for r in range(5):
        _assert_same_as_run_em(restarts, X, r)


def test_batched_em_takes_any_starts_and_leaves_them_unchanged(three_blobs):
    model = GaussianMixture(3)
    data = model.prepare(three_blobs)
    starts = [model.init_params(data, "random_from_data", seed=s) for s in range(4)]
    before = [p.means.copy() for p in starts]
    fit = batched_em(model, data, starts, max_iter=50, tol=1e-8)
    assert all(np.array_equal(p.means, b) for p, b in zip(starts, before))
    for r, start in enumerate(starts):
        history = run_em(model, three_blobs, start, max_iter=50, tol=1e-8)
        np.testing.assert_allclose(fit["means"][r], history.final_params.means, atol=1e-8)


def test_far_outlier_and_undefined_start():
    """A point so much closer to the first narrow component than to the last that
    exp(l_1 − l_2) overflows (the sums need the engine's shift), and a start with no
    Cholesky factor."""
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(0, 1, 100), rng.normal(5, 1, 100), [-60.0]])[:, None]
    model = GaussianMixture(2)
    starts = [
        GaussianParams([0.5, 0.5], [[0.0], [5.0]], [[[variance]], [[variance]]])
        for variance in (1e-2, 1.0, 1e-4)
    ]
    not_positive = GaussianParams([0.5, 0.5], [[0.0], [5.0]], [[[1.0]], [[-1.0]]])
    fit = batched_em(model, model.prepare(X), [*starts, not_positive], max_iter=100, tol=1e-8)
    for r, start in enumerate(starts):
        history = run_em(model, X, start, max_iter=100, tol=1e-8)
        assert fit["stop_reasons"][r] == history.stop_reason == "converged"
        assert fit["iterations"][r] == history.n_iterations
        np.testing.assert_allclose(fit["means"][r], history.final_params.means, atol=1e-8)
        assert fit["log_likelihoods"][r] == pytest.approx(history.steps[-1].log_likelihood)
    # run_em refuses such a start; in a batch it is marked and the others go on
    assert fit["stop_reasons"][3] == "singular" and fit["iterations"][3] == 0
    np.testing.assert_array_equal(fit["covariances"][3], not_positive.covariances)


# ---- groups up to label switching ------------------------------------------------------


@pytest.fixture(scope="module")
def overlap_restarts():
    X, _ = make_blobs(500, 3, separation=1.0, elongation=2.0, seed=0)
    return X, run_restarts(X, GaussianMixture(3), "random_from_data", 40, max_iter=1000, tol=1e-8)


def test_permuting_a_solution_keeps_it_in_its_group(overlap_restarts):
    _, restarts = overlap_restarts
    rng = np.random.default_rng(0)
    for r in np.flatnonzero(restarts.groups >= 0)[:10]:
        perm = rng.permutation(3)
        fit = {
            "weights": np.concatenate([restarts.weights, restarts.weights[r][perm][None]]),
            "means": np.concatenate([restarts.means, restarts.means[r][perm][None]]),
            "covariances": np.concatenate(
                [restarts.covariances, restarts.covariances[r][perm][None]]
            ),
            "log_likelihoods": np.append(restarts.log_likelihoods, restarts.log_likelihoods[r]),
            "stop_reasons": np.append(restarts.stop_reasons, restarts.stop_reasons[r]),
        }
        groups = group_solutions(fit, restarts.scale)
        assert groups[-1] == groups[r]
        np.testing.assert_array_equal(groups[:-1], restarts.groups)


def test_label_switch_recovers_a_permutation():
    params = GaussianParams(
        [0.2, 0.3, 0.5],
        [[0.0, 0.0], [3.0, 1.0], [1.0, 4.0]],
        [np.eye(2), 2 * np.eye(2), [[1.0, 0.3], [0.3, 0.5]]],
    )
    for perm in ([2, 0, 1], [1, 0, 2], [0, 1, 2]):
        other = permuted(params, perm)
        # component perm⁻¹[k] of `other` is component k of `params`
        np.testing.assert_array_equal(label_switch(params, other), np.argsort(perm))
        assert solution_distance(params, other) == 0.0
        np.testing.assert_array_equal(
            permuted(other, label_switch(params, other)).means, params.means
        )


def test_distinct_solutions_stay_apart(overlap_restarts):
    _, restarts = overlap_restarts
    groups = np.unique(restarts.groups[restarts.groups >= 0])
    assert len(groups) >= 2  # overlapping clusters: several local maxima
    table = group_table(restarts)
    leaders = {row["group"]: row["representative"] for row in table}
    for a, b in combinations(groups, 2):
        distance = solution_distance(
            restarts.params(leaders[a]), restarts.params(leaders[b]), restarts.scale
        )
        assert distance > restarts.atol
    # every member is within the tolerance of its group's leader
    for r in np.flatnonzero(restarts.groups >= 0):
        leader = restarts.params(leaders[restarts.groups[r]])
        assert solution_distance(leader, restarts.params(r), restarts.scale) <= restarts.atol


def test_two_different_solutions_are_not_merged():
    base = GaussianParams([0.5, 0.5], [[0.0, 0.0], [3.0, 0.0]], [np.eye(2), np.eye(2)])
    moved = GaussianParams([0.5, 0.5], [[0.0, 0.0], [3.0, 1.0]], [np.eye(2), np.eye(2)])
    fit = {
        "weights": np.stack([base.weights, moved.weights, permuted(base, [1, 0]).weights]),
        "means": np.stack([base.means, moved.means, permuted(base, [1, 0]).means]),
        "covariances": np.stack([base.covariances] * 3),
        "log_likelihoods": np.array([-10.0, -11.0, -10.0]),
        "stop_reasons": np.array(["converged"] * 3),
    }
    np.testing.assert_array_equal(group_solutions(fit, scale=1.0), [0, 1, 0])


def test_groups_are_ordered_by_log_likelihood_and_the_table_adds_up(overlap_restarts):
    _, restarts = overlap_restarts
    table = group_table(restarts)
    converged_rows = [row for row in table if row["stop_reason"] == "converged"]
    lls = [row["log_likelihood"] for row in converged_rows]
    assert lls == sorted(lls, reverse=True)
    assert [row["group"] for row in converged_rows] == list(range(len(converged_rows)))
    assert sum(row["runs"] for row in table) == restarts.n_restarts
    assert sum(row["share"] for row in table) == pytest.approx(1.0)
    assert restarts.groups[restarts.best] == 0
    assert restarts.log_likelihoods[restarts.best] == max(restarts.log_likelihoods)
    converged = restarts.stop_reasons == "converged"
    assert restarts.log_likelihoods[restarts.worst] == min(restarts.log_likelihoods[converged])
    for row in table:
        members = np.flatnonzero(restarts.groups == row["group"])
        assert row["mean_iterations"] == pytest.approx(restarts.iterations[members].mean())


def test_max_iter_runs_are_grouped_apart_from_converged_ones():
    X, _ = make_blobs(500, 3, separation=1.0, elongation=2.0, seed=0)
    restarts = run_restarts(X, GaussianMixture(3), "random_from_data", 30, max_iter=150)
    stopped = restarts.stop_reasons == "max_iter"
    assert stopped.any() and (~stopped).any()
    assert not set(restarts.groups[stopped]) & set(restarts.groups[~stopped])
    assert restarts.groups[stopped].min() > restarts.groups[~stopped].max()


def test_compare_initialisations_shares():
    X, _ = make_blobs(400, 3, separation=1.5, elongation=2.0, seed=0)
    rows = compare_initialisations(
        X, GaussianMixture(3), ("random_from_data", "kmeans"), 15, max_iter=300, tol=1e-6
    )
    assert [row["method"] for row in rows] == ["random_from_data", "kmeans"]
    for row in rows:
        assert 0 <= row["share_best"] <= row["share_converged"] <= 1
        assert row["seconds"] > 0 and row["mean_iterations"] > 0
    best = max(row["best_log_likelihood"] for row in rows)
    # the method that found the best solution reached it at least once
    winner = next(row for row in rows if row["best_log_likelihood"] == best)
    assert winner["share_best"] >= 1 / 15


# ---- pitfalls ----------------------------------------------------------------------------


def test_identical_means_never_separate(three_blobs):
    model = GaussianMixture(3)
    run = identical_start_run(three_blobs, model)
    assert run.max_spread == 0.0
    # the fit is one Gaussian three times: the data's mean and covariance
    end = run.history.final_params
    np.testing.assert_allclose(end.means, np.tile(three_blobs.mean(axis=0), (3, 1)), atol=1e-9)
    covariance = np.cov(three_blobs.T, bias=True)
    np.testing.assert_allclose(end.covariances, np.stack([covariance] * 3), atol=1e-9)
    np.testing.assert_allclose(end.weights, 1 / 3)
    nudged = identical_start_run(three_blobs, model, nudge=0.5, tol=1e-8, max_iter=300)
    assert nudged.max_spread > 1.0
    assert nudged.history.steps[-1].log_likelihood > run.history.steps[-1].log_likelihood + 10


def test_premature_ranking():
    X, _ = make_blobs(500, 3, separation=1.0, elongation=2.0, seed=0)
    result = premature_ranking(X, GaussianMixture(3), "random_from_data", 20, loose_tol=1e-3)
    loose, tight = result.loose, result.tight
    # the tight runs continue the loose ones: never lower, never shorter
    assert np.all(
        tight.log_likelihoods >= loose.log_likelihoods - 1e-9 * np.abs(loose.log_likelihoods)
    )
    assert np.all(tight.iterations >= loose.iterations)
    # discordant pairs, by their definition
    expected = set()
    for a, b in combinations(range(20), 2):
        if tight.groups[a] != tight.groups[b]:
            hi, lo = (a, b) if tight.log_likelihoods[a] > tight.log_likelihoods[b] else (b, a)
            if loose.log_likelihoods[hi] < loose.log_likelihoods[lo]:
                expected.add((hi, lo))
    assert set(result.discordant) == expected
    assert expected  # on heavily overlapping clusters the loose ranking is wrong somewhere


def test_label_switch_example(overlap_restarts):
    _, restarts = overlap_restarts
    best, other, perm = label_switch_example(restarts)
    assert restarts.groups[other] == restarts.groups[best] == 0
    assert not np.array_equal(perm, np.arange(3))
    renumbered = permuted(restarts.params(other), perm)
    assert solution_distance(restarts.params(best), renumbered, restarts.scale) <= restarts.atol
    np.testing.assert_allclose(
        renumbered.means, restarts.params(best).means, atol=restarts.atol * np.sqrt(restarts.scale)
    )


def test_invalid_requests_are_refused(three_blobs):
    model = GaussianMixture(2)
    with pytest.raises(ValueError, match="initialisation"):
        run_restarts(three_blobs, model, "nope", 3)
    with pytest.raises(ValueError, match="n_restarts"):
        run_restarts(three_blobs, model, "kmeans", 501)
    with pytest.raises(ValueError, match="max_iter"):
        run_restarts(three_blobs, model, "kmeans", 3, max_iter=-1)


def test_monitor_rule_elementwise_equals_the_scalar_rule():
    monitor = ConvergenceMonitor(1e-3, 100)
    before = np.array([-10.0, -10.0, -10.0, 5.0])
    after = np.array([-10.05, -10.2, -9.91, 5.0999])
    expected = [monitor.converged([b, a]) for b, a in zip(before, after)]
    assert expected == [True, False, True, True]
    np.testing.assert_array_equal(monitor.settled(before, after), expected)
