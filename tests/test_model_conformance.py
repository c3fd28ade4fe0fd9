"""Every model and every wrapper keeps the protocol of `emviz.models.protocol`.

The examples below are keyed by the registries `MODEL_TYPES` and `VARIANTS`: a model or a
variant added to either without an example here fails `test_every_registered_model_has_an_example`,
so each future model runs through the same checks.
"""

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from emviz import History, run_em
from emviz.analysis.bound import bound_slice, slice_directions
from emviz.data import (
    jin_centres_1d,
    jin_sample,
    load_preset,
    make_two_mean_sample,
    missing_sample,
    ppca_sample,
    symmetric_sample,
)
from emviz.data.series import regime_switching_series
from emviz.models import (
    MODEL_TYPES,
    VARIANTS,
    AnnealedEStep,
    GaussianHMM,
    GaussianMixture,
    GeneticLinkage,
    MapMStep,
    MissingNormal,
    OvershootingMStep,
    ProbabilisticPCA,
    SphericalMeansMixture,
    StochasticEStep,
    SymmetricMixture,
    TemperedEStep,
    TwoMeanMixture,
    WeightlessEStep,
    model_from_dict,
)
from emviz.models.protocol import (
    OBJECTIVES,
    REQUIRED_METHODS,
    Capability,
    LatentVariableModel,
    Posterior,
    parameter_vector,
    params_from_vector,
)

ROOT = Path(__file__).resolve().parents[1]


def _gaussian_data():
    return load_preset("Well-separated blobs", n_samples=120, seed=3)


def _two_mean_data():
    return make_two_mean_sample()[:, None]


def _symmetric_data():
    return symmetric_sample(200, 2.0, seed=4)[0]


def _jin_data():
    return jin_sample(jin_centres_1d(3.0, 12.0), 40, seed=5)


def _ppca_data():
    return ppca_sample(150, 3, 1.0, seed=6)[0]


def _missing_data():
    return np.array(missing_sample(120, 0.4, "MCAR", seed=2).observed)


# name → (model, data, init): one or more examples per registered model and variant
EXAMPLES = {
    "GaussianMixture full": (GaussianMixture(3), _gaussian_data, "kmeans++"),
    "GaussianMixture diag": (GaussianMixture(2, "diag"), _gaussian_data, "random_from_data"),
    "GaussianMixture spherical, reg_covar": (
        GaussianMixture(3, "spherical", 0.1),
        _gaussian_data,
        "spread",
    ),
    "GaussianMixture tied": (GaussianMixture(3, "tied"), _gaussian_data, "kmeans"),
    "TwoMeanMixture": (TwoMeanMixture(), _two_mean_data, "spread"),
    "SymmetricMixture": (SymmetricMixture(), _symmetric_data, "random_from_data"),
    "SphericalMeansMixture": (SphericalMeansMixture(3, 1.5), _jin_data, "random_from_data"),
    "GeneticLinkage": (GeneticLinkage(), lambda: GeneticLinkage().X, "half"),
    # noise 1: the posterior variance of z stays above 1/(2πe), so H(q) >= 0 as checked below
    "ProbabilisticPCA": (ProbabilisticPCA(1), _ppca_data, "random"),
    "MissingNormal": (MissingNormal(), _missing_data, "complete_cases"),
    "GaussianHMM": (GaussianHMM(3), lambda: regime_switching_series(3, 300, seed=6)[0], "random"),
    "OvershootingMStep of GaussianMixture": (
        OvershootingMStep(GaussianMixture(3), 2.5),
        _gaussian_data,
        "kmeans++",
    ),
    "OvershootingMStep of TwoMeanMixture": (
        OvershootingMStep(TwoMeanMixture(), 1.5),
        _two_mean_data,
        "spread",
    ),
    "WeightlessEStep of GaussianMixture": (
        WeightlessEStep(GaussianMixture(3, "diag")),
        _gaussian_data,
        "kmeans++",
    ),
    "WeightlessEStep of TwoMeanMixture": (
        WeightlessEStep(TwoMeanMixture()),
        _two_mean_data,
        "spread",
    ),
    "WeightlessEStep of OvershootingMStep": (
        WeightlessEStep(OvershootingMStep(GaussianMixture(2), 0.5)),
        _gaussian_data,
        "kmeans++",
    ),
    "TemperedEStep (hard) of GaussianMixture": (
        TemperedEStep(GaussianMixture(3, "tied"), 0.0),
        _gaussian_data,
        "kmeans++",
    ),
    "TemperedEStep of SphericalMeansMixture": (
        TemperedEStep(SphericalMeansMixture(3, 1.5), 0.4),
        _jin_data,
        "random_from_data",
    ),
    "StochasticEStep of GaussianMixture": (
        StochasticEStep(GaussianMixture(3, "spherical", 1e-3), seed=3),
        _gaussian_data,
        "kmeans++",
    ),
    "AnnealedEStep of TwoMeanMixture": (
        AnnealedEStep(TwoMeanMixture(), 3.0, 4),
        _two_mean_data,
        "spread",
    ),
    "MapMStep of GaussianMixture": (MapMStep(GaussianMixture(3)), _gaussian_data, "kmeans++"),
    "MapMStep of GaussianMixture tied, reg_covar, strong": (
        MapMStep(GaussianMixture(2, "tied", 0.05), strength=20.0, weight_counts=2.0),
        _gaussian_data,
        "spread",
    ),
    "OvershootingMStep of MapMStep": (
        OvershootingMStep(MapMStep(GaussianMixture(3, "spherical"), 0.5), 1.5),
        _gaussian_data,
        "random_from_data",
    ),
}


def _registered_name(model) -> str:
    return model.to_dict()["model"]


def _is_plain_em(model) -> bool:
    """No wrapper: EM's guarantees hold exactly (up to the model's own inexact M-step)."""
    return _registered_name(model) in MODEL_TYPES


@pytest.fixture(params=list(EXAMPLES), scope="module")
def example(request):
    model, data, init = EXAMPLES[request.param]
    X = data()
    return model, X, run_em(model, X, init, max_iter=6, tol=0, seed=1)


def test_every_registered_model_has_an_example():
    covered = {_registered_name(model) for model, _, _ in EXAMPLES.values()}
    assert covered == set(MODEL_TYPES) | set(VARIANTS)


def test_protocol_members_are_present(example):
    model, _, _ = example
    assert isinstance(model, LatentVariableModel)
    for name in REQUIRED_METHODS:
        assert callable(getattr(model, name)), name
    assert isinstance(model.capabilities, frozenset)
    assert all(isinstance(c, Capability) for c in model.capabilities)
    assert model.objective in OBJECTIVES
    # a model whose M-step adds a prior climbs the log posterior, and only such a model
    assert (model.objective == "log_posterior") == (Capability.LOG_PRIOR in model.capabilities)
    assert model.inexact_m_step is None or isinstance(model.inexact_m_step, str)
    if Capability.MIXTURE in model.capabilities:
        assert isinstance(model.n_components, int) and model.n_components >= 1
    if Capability.N_PARAMETERS in model.capabilities:
        assert model.n_parameters(1) >= 1


def test_model_and_parameters_round_trip_through_json(example):
    model, X, history = example
    again = model_from_dict(json.loads(json.dumps(model.to_dict())))
    assert again == model and again.to_dict() == model.to_dict()
    for step in history.steps[::3]:
        params = model.params_from_dict(json.loads(json.dumps(step.params.to_dict())))
        assert params.to_dict() == step.params.to_dict()
        np.testing.assert_array_equal(parameter_vector(params), parameter_vector(step.params))
    reloaded = History.from_json(history.to_json())
    assert reloaded.model == model and reloaded.objective == history.objective
    for name in ("log_likelihood", "objective"):
        assert [getattr(s, name) for s in reloaded.steps] == [
            getattr(s, name) for s in history.steps
        ]


def test_a_short_run_keeps_the_invariants(example):
    model, X, history = example
    assert history.stop_reason == "max_iter" and history.n_iterations == 6
    assert [s.phase for s in history.steps] == ["init"] + ["E", "M"] * 6
    for step in history.steps:
        scale = max(abs(step.log_likelihood), abs(step.expected_log_joint), abs(step.entropy))
        assert step.log_likelihood == pytest.approx(step.elbo + step.kl, abs=1e-9 * scale)
        assert step.kl >= 0 and step.entropy >= 0
        assert step.params.is_finite()
    monitor = history.monitor
    for step in history.steps:  # the objective is ℓ, or ℓ + log p(θ) with its bound ELBO + log p(θ)
        assert (step.objective is None) == (model.objective == "log_likelihood")
        if step.objective is not None:
            log_prior = model.log_prior(model.prepare(X), step.params)
            assert step.objective == pytest.approx(step.log_likelihood + log_prior, rel=1e-12)
            assert monitor.bound(step) == pytest.approx(step.elbo + log_prior, rel=1e-12)
    if _is_plain_em(model):  # the E-step closes the gap; ℓ never falls unless the M-step is inexact
        assert all(s.kl <= 1e-9 * abs(s.log_likelihood) for s in history.steps if s.phase == "E")
        if model.inexact_m_step is None:
            assert history.drops == ()
    values = history.objective_values()
    assert [d.step for d in history.drops] == [
        s.index
        for s in history.steps
        if s.phase == "M" and monitor.fell(values[s.index - 2], values[s.index])
    ]
    assert all(drop.quantity == model.objective for drop in history.drops)


def test_posteriors_keep_the_posterior_protocol(example):
    model, X, history = example
    data = model.prepare(X)
    np.testing.assert_array_equal(data.X, X)
    params = history[3].params
    posterior = model.e_step(data, params)
    uniform = model.uniform_posterior(data, params)
    for q in (posterior, uniform):
        assert isinstance(q, Posterior)
        assert q.resp.shape == q.log_resp.shape and q.resp.shape[0] == len(X)
        np.testing.assert_allclose(q.resp.sum(axis=1), 1.0, rtol=1e-12)
        np.testing.assert_allclose(np.exp(q.log_resp), q.resp, rtol=1e-12, atol=1e-300)
    assert uniform.log_likelihood is None
    assert posterior.log_likelihood == pytest.approx(model.log_likelihood(X, params), rel=1e-12)
    if _is_plain_em(model):  # a broken E-step's q is not the posterior: KL > 0 there
        assert model.kl_divergence(posterior, posterior) == 0.0
    # Q through the convenience form equals Q from the E-step the engine reuses
    q = history.posterior(1)
    assert model.expected_complete_log_likelihood(X, q, params) == pytest.approx(
        model.expected_log_joint(q, model.e_step(data, params)), rel=1e-12
    )


def test_methods_leave_their_inputs_unchanged(example):
    model, X, history = example
    X_before = X.copy()
    params = history[2].params
    vector = parameter_vector(params)
    q = model.e_step(X, params)
    resp = q.resp.copy()
    model.m_step(X, q)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(parameter_vector(params), vector)
    np.testing.assert_array_equal(q.resp, resp)


def test_check_params_accepts_the_run_and_rejects_broken_parameters(example):
    model, X, history = example
    model.check_params(history[0].params, X.shape[1])
    broken = parameter_vector(history[0].params)
    broken[0] = np.nan
    with pytest.raises(ValueError):
        model.check_params(params_from_vector(model, history[0].params, broken), X.shape[1])


def test_free_directions_move_only_parameters_that_exist(example):
    model, X, history = example
    params = history[2].params
    origin = parameter_vector(params)
    directions = model.free_directions(params)
    assert directions, "every model names at least one direction"
    for name, unit in directions.items():
        assert unit.shape == origin.shape and np.linalg.norm(unit) > 0, name
        moved = params_from_vector(model, params, origin + 1e-3 * unit)
        model.check_params(moved, X.shape[1])  # a small move stays a valid parameter
        np.testing.assert_allclose(parameter_vector(moved), origin + 1e-3 * unit)


def _bases(model):
    """The chain of models under a wrapper, outermost first."""
    chain = [model]
    while _registered_name(chain[-1]) in VARIANTS:
        chain.append(chain[-1].base)
    return chain


def test_a_wrapper_is_its_base_where_it_does_not_change_it(example):
    model, X, history = example
    base = _bases(model)[-1]
    params = history[2].params
    # a wrapper keeps the base's capabilities, except what it declares of its own: a q of
    # its own (SETTABLE_Q withheld), an iteration-aware E-step, and a prior's M-step, used (and
    # so no longer offered) by MapMStep and offered by no other wrapper
    own = {
        Capability.SETTABLE_Q,
        Capability.ITERATION_E_STEP,
        Capability.CONJUGATE_PRIOR,
        Capability.LOG_PRIOR,
    }
    assert model.capabilities - own == base.capabilities - own
    if model is not base:
        assert Capability.CONJUGATE_PRIOR not in model.capabilities
    with_prior = any(_registered_name(m) == "MapMStep" for m in _bases(model))
    assert model.objective == ("log_posterior" if with_prior else base.objective)
    assert model.n_components == base.n_components
    assert model.free_directions(params).keys() == base.free_directions(params).keys()
    for name, unit in model.free_directions(params).items():
        np.testing.assert_array_equal(unit, base.free_directions(params)[name])
    assert model.log_likelihood(X, params) == base.log_likelihood(X, params)
    assert slice_directions(history)[1:-1] == list(base.free_directions(params))


def test_wrapped_two_mean_slices_move_the_two_means_only():
    x = _two_mean_data()
    for broken in (OvershootingMStep(TwoMeanMixture(), 2.5), WeightlessEStep(TwoMeanMixture())):
        history = run_em(broken, x, "spread", max_iter=4, tol=0)
        assert slice_directions(history)[1:-1] == ["μ1", "μ2"]
        for direction in ("μ1", "μ2"):  # a real slice: ℓ varies along it
            sliced = bound_slice(history, 2, direction, n_ts=21)
            assert np.nanmax(sliced.log_likelihood) - np.nanmin(sliced.log_likelihood) > 1e-3


def test_wrapped_gaussian_slices_equal_the_unwrapped_models():
    X = _gaussian_data()
    plain = run_em(GaussianMixture(3, "full"), X, "kmeans++", max_iter=4, tol=0)
    for wrapper in (
        OvershootingMStep(GaussianMixture(3, "full"), 2.5),
        WeightlessEStep(GaussianMixture(3, "full")),
    ):
        wrapped = run_em(wrapper, X, plain[0].params, max_iter=4, tol=0)
        assert slice_directions(wrapped) == slice_directions(plain)
        assert "π1" in slice_directions(wrapped) and "σ²3 (y)" in slice_directions(wrapped)


def test_a_wrapper_refuses_a_model_that_is_not_a_mixture():
    class NotAMixture:
        capabilities = frozenset()

    with pytest.raises(ValueError, match="not one"):
        OvershootingMStep(NotAMixture())


def _calls(tree, name):
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name
    ]


def test_no_code_asks_which_model_it_has():
    """Capabilities, not isinstance on a concrete model or probing for attributes."""
    concrete = set(MODEL_TYPES) | set(VARIANTS)
    offenders = []
    for path in [*ROOT.glob("emviz/**/*.py"), *ROOT.glob("pages/*.py")]:
        tree = ast.parse(path.read_text())
        if path.name != "reader.py":  # the CSV reader duck-types file objects, not models
            offenders += [f"{path.name}: hasattr" for _ in _calls(tree, "hasattr")]
        for call in _calls(tree, "isinstance"):
            names = {n.id for n in ast.walk(call.args[1]) if isinstance(n, ast.Name)}
            offenders += [f"{path.name}: isinstance(…, {n})" for n in names & concrete]
    assert offenders == []
