"""The failure lab's computations: free coordinates, EM's rate two ways, the collapse and its
remedies, the early stop."""

import numpy as np
import pytest

from emviz import GaussianMixture, run_em, runs
from emviz.analysis.failures import (
    MAX_RESTARTS,
    collapsed_component,
    em_fixed_point,
    free_jacobian,
    free_vector,
    isolated_point_sample,
    isolated_point_start,
    params_from_free,
    rate_study,
    restart_component,
    run_with_restarts,
)
from emviz.analysis.rates import em_map, em_map_jacobian, em_rate, observed_rate
from emviz.data import load_preset
from emviz.models import COVARIANCE_TYPES, GaussianParams
from emviz.models.protocol import parameter_vector, params_from_vector
from emviz.settings import (
    ISOLATED_POSITIONS,
    LOOSE_TOL_CHOICES,
    MERGE_SEPARATIONS,
    REMEDY_REG_CHOICES,
    ModelSettings,
)

FAITHFUL = "Old Faithful (standardised)"


def _fitted(covariance_type: str, n_components: int = 2, preset: str = FAITHFUL):
    X = load_preset(preset)
    model = GaussianMixture(n_components, covariance_type)
    return model, X, model.init_params(X, "kmeans++", seed=0)


# ---- free coordinates ----


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_free_coordinates_count_the_free_parameters_and_round_trip(covariance_type):
    model, X, start = _fitted(covariance_type, 3, "Elongated clusters")
    params = run_em(model, X, start, max_iter=5).final_params  # in the type's family
    vector = free_vector(model, params)
    assert len(vector) == model.n_parameters(2)
    back = params_from_free(model, vector, 2)
    np.testing.assert_array_equal(back.means, params.means)
    np.testing.assert_array_equal(back.covariances, params.covariances)
    # π_K = 1 − Σ others: the stored π_K to rounding
    np.testing.assert_allclose(back.weights, params.weights, rtol=0, atol=2e-16)


def test_the_free_jacobian_has_the_non_zero_eigenvalues_of_the_stored_numbers_jacobian():
    """The map factors through the free coordinates: J_stored = E·J_free·R, so its non-zero
    eigenvalues are J_free's, and the rest (all weights together, the upper triangles) are 0."""
    model, X, start = _fitted("full")
    limit = rate_study(model, X, start, max_iter=2000).limit
    free = np.sort(np.abs(np.linalg.eigvals(free_jacobian(model, X, limit))))[::-1]
    stored = em_map_jacobian(
        model, X, limit, parameter_vector, lambda v: params_from_vector(model, limit, v)
    )
    everything = np.sort(np.abs(np.linalg.eigvals(stored)))[::-1]
    assert len(everything) == len(free) + 1 + 2  # one weight, one upper entry per component
    np.testing.assert_allclose(everything[: len(free)], free, atol=1e-6)
    np.testing.assert_allclose(everything[len(free) :], 0, atol=1e-6)


# ---- the rate: iterates against the Jacobian ----


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_the_measured_rate_matches_the_jacobians_largest_eigenvalue(covariance_type):
    """A converged run (tol = 1e-12): the median ratio of successive errors in its linear
    phase equals the largest |eigenvalue| of the EM map's Jacobian at the end, to 1e-3."""
    model, X, start = _fitted(covariance_type, 3)
    history = run_em(model, X, start, max_iter=5000, tol=1e-12)
    assert history.converged
    limit, found = em_fixed_point(model, X, history.final_params)
    assert found
    iterates = [free_vector(model, s.params) for s in history.steps if s.phase in ("init", "M")]
    measured = observed_rate(iterates, free_vector(model, limit), low=1e-9, high=1e-4)
    jacobian = em_rate(free_jacobian(model, X, limit))
    assert 0.5 < jacobian < 1  # a slow run: the test has something to measure
    assert measured == pytest.approx(jacobian, abs=1e-3)


@pytest.mark.parametrize(
    ("preset", "k"), [(FAITHFUL, 2), ("1-D two-component mixture", 2), ("Heavy overlap", 3)]
)
def test_rate_study_agrees_with_itself_and_reaches_the_fixed_point(preset, k):
    model, X, start = _fitted("full", k, preset)
    study = rate_study(model, X, start, max_iter=2000)
    assert study.observed_rate == pytest.approx(study.jacobian_rate, abs=1e-3)
    data = model.prepare(X)
    theta = free_vector(model, study.limit)
    moved = free_vector(model, em_map(model, data, study.limit))
    assert np.linalg.norm(moved - theta) <= 1e-12 * (1 + np.linalg.norm(theta))
    # the iterates are EM's own: the first ones are run_em's from the same start
    history = run_em(model, X, start, max_iter=3, tol=0)
    first = [free_vector(model, s.params) for s in history.steps if s.phase in ("init", "M")]
    np.testing.assert_array_equal(np.linalg.norm(np.array(first) - theta, axis=1), study.errors[:4])
    assert study.eigenvalues[0] == pytest.approx(study.jacobian_rate)
    first_t, last_t = study.window
    assert 0 <= first_t < last_t <= study.n_iterations


def test_the_fixed_point_is_plain_ems_limit_reached_faster():
    model, X, start = _fitted("full", 3, "Heavy overlap")
    plain = run_em(model, X, start, max_iter=20000, tol=0)
    fast, found = em_fixed_point(model, X, start)
    assert found
    np.testing.assert_allclose(
        free_vector(model, fast), free_vector(model, plain.final_params), atol=1e-7
    )


def test_one_component_has_nothing_hidden():
    model, X, start = _fitted("full", 1)
    study = rate_study(model, X, start, max_iter=100)
    assert study.jacobian_rate == pytest.approx(0, abs=1e-6)


def test_merging_components_slow_em_down_towards_rate_one():
    rates = runs.separation_rates()
    assert len(rates) == len(MERGE_SEPARATIONS)
    assert np.all(np.diff(rates) < 0)  # the closer the centres, the slower
    assert rates[0] > 0.99 and rates[-1] < 0.3
    params, rate = runs.separation_fit(MERGE_SEPARATIONS[-1])
    assert rate == rates[-1]
    np.testing.assert_allclose(np.sort(params.means[:, 0]), [-3.0, 3.0], atol=0.15)


# ---- the collapse and its remedies ----


@pytest.mark.parametrize("position", ISOLATED_POSITIONS)
def test_the_demo_stops_singular_and_each_remedy_converges(position):
    collapsed = runs.collapse_run(position)
    assert collapsed.stop_reason == "singular"
    assert "Component 3 collapsed onto a single point" in collapsed.message
    assert collapsed_component(collapsed) == 2
    first, last = collapsed[0].params, collapsed.final_params
    # shrunk to a tenth of its start at least, holding one point: the isolated one
    assert last.covariances[2, 0, 0] < first.covariances[2, 0, 0] / 10
    assert len(collapsed.X) * last.weights[2] == pytest.approx(1.0, abs=0.01)
    for reg_covar in REMEDY_REG_CHOICES:
        for name, remedy_runs in runs.singularity_remedies(position, reg_covar).items():
            assert remedy_runs[-1].stop_reason == "converged", (position, reg_covar, name)
    restarted = runs.singularity_remedies(position, 1e-3)["remove and restart the component"]
    assert restarted[0].stop_reason == "singular" and len(restarted) == 2
    # the restart ends far from the spike: every variance a cluster's size
    assert restarted[-1].final_params.covariances[:, 0, 0].min() > 0.05


def test_reg_covar_floors_every_variance_and_keeps_the_spike():
    (run,) = runs.singularity_remedies(8.0, 1e-2)["reg_covar"]
    variances = run.final_params.covariances[:, 0, 0]
    assert variances.min() == pytest.approx(1e-2, rel=1e-6)  # the spike, held at ε
    assert run.final_params.means[np.argmin(variances), 0] == pytest.approx(8.0, abs=1e-6)


def test_the_remedies_start_where_the_collapse_started():
    X = isolated_point_sample(9.0)
    start = isolated_point_start(X, 9.0)
    for remedy_runs in runs.singularity_remedies(9.0, 1e-3).values():
        first = remedy_runs[0][0].params
        for name in ("weights", "means", "covariances"):
            np.testing.assert_array_equal(getattr(first, name), getattr(start, name))


def test_restart_component_by_hand():
    """Three points far apart and one on component 1: component 1 restarts at the point the
    others explain worst (not its own), with their weighted covariance and weight 1/K."""
    X = np.array([[0.0], [0.1], [10.0], [20.0]])
    model = GaussianMixture(3)
    params = GaussianParams(
        [0.5, 0.25, 0.25], [[0.05], [20.0], [10.0]], [[[1.0]], [[1e-4]], [[4.0]]]
    )
    new = restart_component(model, X, params, 1)  # component 2 sits on x = 20
    # the others, ⅔·N(0.05, 1) + ⅓·N(10, 4), explain x = 20 worst, but component 2 took it;
    # of the rest, x = 10: ⅓·N(10 | 10, 4) = 0.066 against ⅔·N(0 | 0.05, 1) = 0.265
    assert new.means[1, 0] == 10.0
    rest = GaussianParams([2 / 3, 1 / 3], [[0.05], [10.0]], [[[1.0]], [[4.0]]])
    fit = GaussianMixture(2).e_step(X, rest).log_norm
    assert np.argmin(fit) == 3 and np.argmin(fit[:3]) == 2
    assert new.covariances[1, 0, 0] == pytest.approx(2 / 3 * 1.0 + 1 / 3 * 4.0)
    np.testing.assert_allclose(new.weights, [0.5 * (2 / 3) / 0.75, 1 / 3, 0.25 * (2 / 3) / 0.75])
    assert new.weights.sum() == pytest.approx(1.0)
    np.testing.assert_array_equal(new.means[[0, 2]], params.means[[0, 2]])


def test_restarts_stop_after_the_allowed_number():
    """Two components for a cluster and a far-away pair of equal points: whichever component
    is restarted, one of the two collapses onto the pair again. After ``max_restarts``
    restarts the run is left singular."""
    X = np.concatenate([np.linspace(-1, 1, 30), [50.0, 50.0]])[:, None]
    model = GaussianMixture(2)
    start = GaussianParams([0.5, 0.5], [[0.0], [50.0]], [[[0.3]], [[1.0]]])
    found = run_with_restarts(model, X, start, max_iter=200, tol=1e-8, max_restarts=2)
    assert [run.stop_reason for run in found] == ["singular"] * 3
    for before, after in zip(found, found[1:]):
        k = collapsed_component(before)
        expected = restart_component(model, X, before.final_params, k)
        np.testing.assert_array_equal(after[0].params.means, expected.means)
    assert len(run_with_restarts(model, X, start, max_iter=200, tol=1e-8)) == MAX_RESTARTS + 1


def test_collapsed_component_is_none_for_other_stops():
    model, X, start = _fitted("full")
    assert collapsed_component(run_em(model, X, start, max_iter=3)) is None


# ---- stopping early ----


@pytest.mark.parametrize("loose_tol", LOOSE_TOL_CHOICES)
def test_the_loose_stop_is_where_a_loose_run_stops(loose_tol):
    X = load_preset(FAITHFUL)
    history, _ = runs.fit(X, ModelSettings(3))
    tight = runs.tight_run(history)
    early = runs.early_stop(tight, loose_tol)
    loose = run_em(history.model, history.X, history[0].params, max_iter=2000, tol=loose_tol)
    assert loose.converged and early.loose_iteration == loose.n_iterations
    for name in ("weights", "means", "covariances"):
        np.testing.assert_array_equal(
            getattr(early.loose_params, name), getattr(loose.final_params, name)
        )
    assert early.log_likelihood_gain == tight[-1].log_likelihood - loose[-1].log_likelihood
    assert early.log_likelihood_gain >= 0
    moved = np.linalg.norm(tight.final_params.means - loose.final_params.means, axis=1).max()
    assert early.mean_shift == moved
    assert tight.tol == runs.TIGHT_TOL and tight.converged


def test_the_iteration_budget():
    assert runs.iteration_budget(500, 3) == 1000
    assert runs.iteration_budget(500, 4) == 750
    assert runs.iteration_budget(5000, 8) == 100


def test_a_nearly_flat_component_gets_its_true_rate():
    """Blobs, K = 4: one component holds 7 points nearly on a line (smallest variance 1e-4 of
    the data's 20). Steps of one length in every coordinate made its Jacobian's rate 1.25 —
    above 1, impossible at a point EM converges to; steps scaled to each coordinate give the
    rate the iterates show."""
    X = load_preset("Well-separated blobs", n_samples=500, seed=0)
    history, _ = runs.fit(X, ModelSettings(4))
    study, _ = runs.own_rate_study(history)
    assert np.linalg.eigvalsh(study.limit.covariances)[:, 0].min() < 1e-3
    assert study.jacobian_rate < 1
    assert study.observed_rate == pytest.approx(study.jacobian_rate, abs=1e-3)


def test_a_rate_near_one_is_read_from_the_last_third_of_the_iterates():
    """Heavy overlap, K = 3: λ ≈ 0.997, so 1000 iterations leave EM far from θ̂ (found by
    SQUAREM); the rate is then read from the last third of them, and still agrees."""
    X = load_preset("Heavy overlap")
    history, _ = runs.fit(X, ModelSettings(3))
    study, _ = runs.own_rate_study(history)
    assert study.n_iterations == runs.iteration_budget(len(X), 3) == 1000
    assert not study.in_window and study.window == (666, 1000)
    assert study.errors[-1] > 1e-4  # not converged: the linear window was never reached
    assert study.jacobian_rate > 0.99
    assert study.observed_rate == pytest.approx(study.jacobian_rate, abs=1e-3)
