"""MAP-EM (`MapMStep`): its log posterior never falls, a vanishing prior is plain EM, its M-step
is the maximiser of Q + log p(θ), its log prior is scipy's densities, the audit judges it on the
log posterior, and it keeps a component from collapsing."""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import optimize
from scipy.stats import dirichlet, gamma, invgamma, invwishart, multivariate_normal, wishart

from emviz import History, run_em
from emviz.analysis.audit import monotonicity_audit
from emviz.convergence import ConvergenceMonitor
from emviz.data import load_preset
from emviz.models import (
    COVARIANCE_TYPES,
    GaussianMixture,
    GaussianParams,
    InvalidStart,
    MapMStep,
    OvershootingMStep,
    TwoMeanMixture,
    model_from_dict,
)
from emviz.models.protocol import Capability, PriorCounts


def _blobs(n_samples=90, seed=3):
    return load_preset("Well-separated blobs", n_samples=n_samples, seed=seed)


def _prior_covariance_by_hand(X, n_components, covariance_type):
    """Σ0 from its definition: the data covariance / K^(2/D), in the family's shape."""
    n_features = X.shape[1]
    shared = np.cov(X.T, bias=True).reshape(n_features, n_features) / n_components ** (
        2 / n_features
    )
    if covariance_type == "diag":
        return np.diag(np.diag(shared))
    if covariance_type == "spherical":
        return np.trace(shared) / n_features * np.eye(n_features)
    return shared


# ---- the log posterior never falls (every covariance type) ----


@st.composite
def map_problems(draw):
    """A few Gaussian clusters, a MAP model of any covariance type and strength, and a start."""
    n_features = draw(st.integers(1, 4))
    n_components = draw(st.integers(1, 4))
    n_samples = draw(st.integers(max(8, 3 * n_features), 60))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=draw(st.floats(0.1, 10.0)), size=(3, n_features))
    labels = rng.integers(0, 3, n_samples)
    spreads = np.exp(rng.uniform(-2, 1, size=(3, n_features)))
    X = centres[labels] + spreads[labels] * rng.normal(size=(n_samples, n_features))
    strength = draw(st.floats(1e-3, 100.0).map(float))
    model = MapMStep(
        GaussianMixture(n_components, draw(st.sampled_from(COVARIANCE_TYPES))),
        strength=strength,
        weight_counts=draw(st.sampled_from([0.0, 1.0, 3.0])),
        mean_counts=draw(st.sampled_from([0.01, 1.0])),
    )
    init = draw(st.sampled_from(["random_from_data", "kmeans++", "spread"]))
    return X, model, init, seed


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=map_problems())
def test_the_log_posterior_never_falls(problem):
    X, model, init, seed = problem
    try:
        history = run_em(model, X, init, max_iter=30, tol=0, seed=seed)
    except InvalidStart:
        assume(False)  # too few distinct points for the start
    assert history.stop_reason in ("max_iter", "singular")  # never a NaN
    values = history.objective_values()
    assert np.isfinite(values).all()
    monitor = history.monitor
    for before, after in zip(values[:-1], values[1:]):  # every half-step, E and M
        assert not monitor.fell(before, after)
    assert history.drops == ()
    for step in history.steps:  # log posterior = ELBO + log p(θ) + KL, the chain's terms
        assert monitor.value(step) == pytest.approx(monitor.bound(step) + step.kl, rel=1e-9)


# ---- strength → 0 is plain EM ----


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_a_vanishing_prior_is_plain_em(covariance_type):
    X = _blobs()
    plain_model = GaussianMixture(3, covariance_type)
    start = plain_model.init_params(X, "kmeans++", seed=2)
    plain = run_em(plain_model, X, start, max_iter=40, tol=0)
    weak = run_em(MapMStep(plain_model, strength=1e-12), X, start, max_iter=40, tol=0)
    assert plain.stop_reason == weak.stop_reason == "max_iter"
    assert len(plain) == len(weak)
    for p, w in zip(plain.steps, weak.steps):
        for name in ("weights", "means", "covariances"):
            np.testing.assert_allclose(getattr(w.params, name), getattr(p.params, name), atol=1e-8)
        assert w.log_likelihood == pytest.approx(p.log_likelihood, rel=1e-10)


# ---- the M-step maximises Q + log p(θ) ----


def _map_objective_parts(model, data, q, params):
    """Q(θ, q) + log p(θ) for the MapMStep ``model``'s base."""
    base = model.base
    return base.expected_log_joint(q, base.e_step(data, params)) + base.log_prior(
        data, params, model.counts
    )


def _unpack(vector, covariance_type, n_components, n_features):
    """Unconstrained vector → GaussianParams of the family: softmax weights (last logit 0),
    free means, log variances or Cholesky factors with log diagonals."""
    logits = np.append(vector[: n_components - 1], 0.0)
    weights = np.exp(logits - logits.max())
    rest = vector[n_components - 1 :]
    means = rest[: n_components * n_features].reshape(n_components, n_features)
    rest = rest[n_components * n_features :]
    if covariance_type in ("diag", "spherical"):
        per = n_features if covariance_type == "diag" else 1
        variances = np.exp(rest.reshape(n_components, per)) * np.ones((1, n_features))
        covariances = variances[:, :, None] * np.eye(n_features)
    else:
        rows, cols = np.tril_indices(n_features)
        n_blocks = n_components if covariance_type == "full" else 1
        factors = np.zeros((n_blocks, n_features, n_features))
        factors[:, rows, cols] = rest.reshape(n_blocks, len(rows))
        diagonal = np.arange(n_features)
        factors[:, diagonal, diagonal] = np.exp(factors[:, diagonal, diagonal])
        covariances = factors @ np.swapaxes(factors, 1, 2)
        covariances = np.broadcast_to(covariances, (n_components, n_features, n_features))
    return GaussianParams(weights / weights.sum(), means, covariances)


def _n_free(covariance_type, n_components, n_features):
    n_tri = n_features * (n_features + 1) // 2
    per_type = {"full": n_components * n_tri, "tied": n_tri, "diag": n_components * n_features}
    return (
        n_components - 1 + n_components * n_features + per_type.get(covariance_type, n_components)
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_the_map_m_step_is_the_numerical_maximiser_of_q_plus_log_prior(covariance_type):
    X = _blobs(40, seed=5)
    model = MapMStep(GaussianMixture(2, covariance_type), strength=8.0, mean_counts=0.5)
    data = model.prepare(X)
    start = model.init_params(data, "random_from_data", seed=1)
    q = model.base.e_step(data, start)
    map_params = model.base.map_m_step(data, q, model.counts)
    ml_params = model.base.m_step(data, q)
    n_free = _n_free(covariance_type, 2, X.shape[1])

    def negative(vector):
        params = _unpack(vector, covariance_type, 2, X.shape[1])
        return -_map_objective_parts(model, data, q, params)

    found = optimize.minimize(negative, np.zeros(n_free), method="BFGS", options={"gtol": 1e-9})
    best = _unpack(found.x, covariance_type, 2, X.shape[1])
    for name in ("weights", "means", "covariances"):
        np.testing.assert_allclose(getattr(best, name), getattr(map_params, name), atol=2e-5)
        assert not np.allclose(getattr(ml_params, name), getattr(map_params, name), atol=1e-3)
    # nothing the optimiser found beats the closed form
    assert -found.fun <= _map_objective_parts(model, data, q, map_params) + 1e-9


def test_the_map_m_step_by_hand_in_one_dimension():
    """Two components on a line, the pseudo-count formulas written out point by point:
    π_k = (N_k + w)/(N + 2w), μ_k = (Σ r x + κ x̄)/(N_k + κ) and
    σ²_k = (n0 σ0² + Σ r (x − μ_k)² + κ (μ_k − x̄)²)/(N_k + n0), σ0² = var(x)/K²."""
    x = np.array([-2.1, -1.7, -1.0, 0.2, 1.1, 2.4, 2.9, 3.5])
    resp = np.array([0.95, 0.9, 0.8, 0.6, 0.3, 0.1, 0.05, 0.02])
    resp = np.column_stack([resp, 1 - resp])
    w, kappa, n0 = 1.5, 0.7, 2.0
    model = GaussianMixture(2)
    data = model.prepare(x[:, None])
    q = model.uniform_posterior(data, model.init_params(data, "spread"))
    q = type(q)(log_resp_t=np.log(resp.T), resp_t=np.ascontiguousarray(resp.T))
    got = model.map_m_step(data, q, PriorCounts(weights=w, means=kappa, covariances=n0))
    mean, prior_var = x.mean(), x.var() / 2**2
    for k in range(2):
        r = resp[:, k]
        nk = r.sum()
        mu = (np.dot(r, x) + kappa * mean) / (nk + kappa)
        var = (n0 * prior_var + np.dot(r, (x - mu) ** 2) + kappa * (mu - mean) ** 2) / (nk + n0)
        assert got.weights[k] == pytest.approx((nk + w) / (len(x) + 2 * w), rel=1e-13)
        assert got.means[k, 0] == pytest.approx(mu, rel=1e-12)
        assert got.covariances[k, 0, 0] == pytest.approx(var, rel=1e-12)


# ---- the log prior is scipy's densities ----


def _random_params(rng, covariance_type, n_components, n_features):
    weights = rng.dirichlet(np.ones(n_components))
    means = rng.normal(size=(n_components, n_features))
    factors = rng.normal(size=(n_components, n_features, n_features))
    covariances = factors @ np.swapaxes(factors, 1, 2) + 0.5 * np.eye(n_features)
    if covariance_type == "diag":
        covariances = np.diagonal(covariances, axis1=1, axis2=2)[:, :, None] * np.eye(n_features)
    elif covariance_type == "spherical":
        covariances = rng.uniform(0.3, 3.0, n_components)[:, None, None] * np.eye(n_features)
    elif covariance_type == "tied":
        covariances = np.broadcast_to(covariances[0], covariances.shape)
    return GaussianParams(weights, means, covariances)


def _log_prior_by_scipy(X, params, covariance_type, counts):
    """log Dirichlet(π) + Σ_k log N(u_k | 0, I) + the covariances' Wishart / Gamma terms, each
    from scipy.stats, the covariance terms both as the precision's density and as the
    inverse-Wishart / inverse-gamma density of Σ plus the Jacobian of Σ ↦ Σ⁻¹."""
    n_components, n_features = params.means.shape
    prior_cov = _prior_covariance_by_hand(X, n_components, covariance_type)
    total = dirichlet.logpdf(params.weights, np.full(n_components, 1 + counts.weights))
    for mean, cov in zip(params.means, params.covariances):
        whitened = np.linalg.solve(np.linalg.cholesky(cov), mean - X.mean(axis=0))
        total += multivariate_normal.logpdf(
            np.sqrt(counts.means) * whitened, np.zeros(n_features), np.eye(n_features)
        )
    n0 = counts.covariances
    if covariance_type in ("full", "tied"):
        blocks = params.covariances if covariance_type == "full" else params.covariances[:1]
        pooled = n0 * (1 if covariance_type == "full" else n_components)
        dof, scale = n_features + 1 + pooled, pooled * prior_cov
        for cov in blocks:
            as_precision = wishart.logpdf(np.linalg.inv(cov), df=dof, scale=np.linalg.inv(scale))
            as_covariance = invwishart.logpdf(cov, df=dof, scale=scale)
            jacobian = (n_features + 1) * np.linalg.slogdet(cov)[1]
            assert as_precision == pytest.approx(as_covariance + jacobian, rel=1e-10)
            total += as_precision
        return total
    if covariance_type == "diag":
        variances = np.diagonal(params.covariances, axis1=1, axis2=2)
        shape, rates = 1 + n0 / 2, n0 * np.diag(prior_cov) / 2 * np.ones_like(variances)
    else:
        variances = params.covariances[:, 0, 0]
        shape, rates = 1 + n0 * n_features / 2, n0 * np.trace(prior_cov) / 2 * np.ones(n_components)
    as_precision = gamma.logpdf(1 / variances, shape, scale=1 / rates)
    as_variance = invgamma.logpdf(variances, shape, scale=rates) + 2 * np.log(variances)
    np.testing.assert_allclose(as_precision, as_variance, rtol=1e-10)
    return total + as_precision.sum()


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("n_features", [1, 2, 4])
def test_the_log_prior_is_scipys_densities(covariance_type, n_features):
    rng = np.random.default_rng(n_features)
    X = rng.normal(size=(50, n_features)) * rng.uniform(0.5, 3.0, n_features) + 10.0
    counts = PriorCounts(weights=1.7, means=0.4, covariances=2.5)
    model = GaussianMixture(3, covariance_type)
    for _ in range(3):
        params = _random_params(rng, covariance_type, 3, n_features)
        expected = _log_prior_by_scipy(X, params, covariance_type, counts)
        assert model.log_prior(X, params, counts) == pytest.approx(expected, rel=1e-11)
    # the variant's counts are its strength times its counts per unit of strength
    variant = MapMStep(
        model, strength=2.0, weight_counts=0.85, mean_counts=0.2, covariance_counts=1.25
    )
    assert variant.counts == counts
    assert variant.log_prior(X, params) == model.log_prior(X, params, counts)


# ---- the record, the monitor and the audit use the log posterior ----


def test_each_step_records_the_log_posterior_and_history_names_it():
    X = _blobs()
    model = MapMStep(GaussianMixture(3), strength=5.0)
    history = run_em(model, X, "kmeans++", max_iter=50)
    assert history.objective == history.monitor.objective == "log_posterior"
    assert history.converged and "log-posterior per point" in history.message
    data = model.prepare(X)
    for step in history.steps:
        log_prior = model.base.log_prior(data, step.params, model.counts)
        assert step.objective == pytest.approx(step.log_likelihood + log_prior, rel=1e-14)
    np.testing.assert_array_equal(history.objective_values(), history.column("objective"))
    # the stopping rule reads the log posterior: its last change is below tol per point
    values = history.objective_values()
    assert abs(values[-1] - values[-3]) / len(X) < history.tol
    plain = run_em(GaussianMixture(3), X, "kmeans++", max_iter=50)
    assert plain.objective == "log_likelihood" and plain.steps[-1].objective is None
    np.testing.assert_array_equal(plain.objective_values(), plain.column("log_likelihood"))


def test_the_history_keeps_its_objective_through_json_and_csv():
    X = _blobs(60)
    history = run_em(MapMStep(GaussianMixture(2, "diag"), 3.0), X, "kmeans++", max_iter=5)
    payload = json.loads(history.to_json())
    assert payload["objective"] == "log_posterior"
    again = History.from_json(history.to_json())
    assert again.objective == "log_posterior" and again.model == history.model
    assert [s.objective for s in again.steps] == [s.objective for s in history.steps]
    assert all(isinstance(s.objective, float) for s in again.steps)
    header, first = history.to_csv().splitlines()[:2]
    column = header.split(",").index("log_posterior")
    assert float(first.split(",")[column]) == history.steps[0].objective
    payload["objective"] = "log_likelihood"  # a file whose objective contradicts its model
    with pytest.raises(ValueError, match="objective"):
        History.from_json(json.dumps(payload))


def test_the_monitor_reads_the_log_posterior_and_its_bound():
    X = _blobs(60)
    history = run_em(MapMStep(GaussianMixture(2), 4.0), X, "kmeans++", max_iter=3, tol=0)
    monitor = ConvergenceMonitor(0.0, len(X), "log_posterior")
    step = history.steps[-1]
    assert monitor.value(step) == step.objective != step.log_likelihood
    log_prior = step.objective - step.log_likelihood
    assert monitor.bound(step) == pytest.approx(step.elbo + log_prior, rel=1e-14)
    plain = ConvergenceMonitor(0.0, len(X))
    assert plain.value(step) == step.log_likelihood and plain.bound(step) == step.elbo
    assert (monitor.maximised, plain.maximised) == ("Q + log p(θ)", "Q")


def test_the_audit_judges_a_map_run_on_the_log_posterior():
    """A strong prior run in which ℓ itself falls: the audit (on the log posterior) finds
    every link intact and no fall, while ℓ's own record does fall."""
    X = load_preset("Well-separated blobs", n_samples=60, seed=13)
    model = MapMStep(GaussianMixture(3, "full"), strength=10.0)
    history = run_em(model, X, "random_from_data", seed=13, max_iter=50, tol=0)
    lls = history.column("log_likelihood")
    assert ConvergenceMonitor.falls(lls[::2]).any(), "ℓ falls somewhere in this MAP run"
    rows = monotonicity_audit(history)
    assert len(rows) == history.n_iterations
    assert all(row.ok and row.gap_closed and row.bound_raised for row in rows)
    values = history.objective_values()
    assert [(row.before, row.after) for row in rows] == [
        (values[row.m_step - 2], values[row.m_step]) for row in rows
    ]
    assert history.drops == ()


def test_an_overshooting_map_step_is_caught_on_the_log_posterior():
    X = _blobs()
    broken = OvershootingMStep(MapMStep(GaussianMixture(3), 2.0), 3.0)
    history = run_em(broken, X, "kmeans++", max_iter=15, tol=0, seed=1)
    assert history.objective == "log_posterior" and history.drops
    assert all(drop.quantity == "log_posterior" for drop in history.drops)
    rows = {row.m_step: row for row in monotonicity_audit(history)}
    for drop in history.drops:
        assert not rows[drop.step].ok and not rows[drop.step].bound_raised
        assert drop.cause.startswith("the M-step lowered the lower bound: it moves the means")


# ---- MAP avoids the collapse ----


def _collapsing_start():
    """30 points around 0 and one at 8, a component started on that point: plain EM with
    reg_covar = 0 shrinks it onto the point in its first M-step."""
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(0.0, 1.0, 30), [8.0]])[:, None]
    start = GaussianParams([0.5, 0.5], [[0.0], [8.0]], [[[1.0]], [[0.01]]])
    return X, start


def test_map_converges_where_plain_em_collapses():
    X, start = _collapsing_start()
    plain = run_em(GaussianMixture(2, reg_covar=0.0), X, start, max_iter=200)
    assert plain.stop_reason == "singular" and "collapsed onto a single point" in plain.message
    remedy = run_em(MapMStep(GaussianMixture(2, reg_covar=0.0)), X, start, max_iter=200)
    assert remedy.converged and remedy.drops == ()
    final = remedy.final_params
    # the lone point keeps its component, held open by one pseudo-point of variance σ0²
    prior_var = X.var() / 2**2
    assert final.means[1, 0] == pytest.approx(8.0, abs=0.2)
    assert final.covariances[1, 0, 0] > 0.4 * prior_var


def test_map_converges_where_plain_em_collapses_in_two_dimensions():
    rng = np.random.default_rng(4)
    X = np.vstack([rng.normal(size=(40, 2)), [[6.0, 6.0]]])
    start = GaussianParams([0.5, 0.5], [[0.0, 0.0], [6.0, 6.0]], [np.eye(2), 0.01 * np.eye(2)])
    for covariance_type in ("full", "diag", "spherical"):
        plain = run_em(GaussianMixture(2, covariance_type), X, start, max_iter=200)
        assert plain.stop_reason == "singular", covariance_type
        remedy = run_em(MapMStep(GaussianMixture(2, covariance_type)), X, start, max_iter=200)
        assert remedy.converged and remedy.drops == (), covariance_type


def test_a_component_without_points_takes_its_parameters_from_the_prior():
    X = _blobs(60)
    far = GaussianParams(
        [0.5, 0.5], [X.mean(axis=0), X.mean(axis=0) + 1e3], [np.cov(X.T), 1e-2 * np.eye(2)]
    )
    plain = run_em(GaussianMixture(2), X, far, max_iter=20)
    assert plain.stop_reason == "singular" and "lost all its points" in plain.message
    model = MapMStep(GaussianMixture(2), strength=1.0)
    history = run_em(model, X, far, max_iter=1, tol=0)
    after = history.steps[2].params
    np.testing.assert_allclose(after.means[1], X.mean(axis=0), atol=1e-12)  # m0
    np.testing.assert_allclose(
        after.covariances[1], _prior_covariance_by_hand(X, 2, "full"), rtol=1e-12
    )  # Σ0
    assert after.weights[1] == pytest.approx(1.0 / (len(X) + 2.0), rel=1e-9)  # w / (N + K w)


# ---- construction ----


def test_the_variant_checks_its_settings_and_round_trips():
    model = MapMStep(GaussianMixture(2, "tied", 0.1), strength=3.0, weight_counts=0.0)
    assert model_from_dict(json.loads(json.dumps(model.to_dict()))) == model
    assert Capability.LOG_PRIOR in model.capabilities
    assert Capability.CONJUGATE_PRIOR not in model.capabilities
    with pytest.raises(ValueError, match="conjugate prior"):
        MapMStep(TwoMeanMixture())
    with pytest.raises(ValueError, match="conjugate prior"):
        MapMStep(MapMStep(GaussianMixture(2)))  # one prior, innermost
    for bad in ({"strength": 0.0}, {"strength": np.inf}, {"covariance_counts": 0.0}):
        with pytest.raises(ValueError, match="> 0"):
            MapMStep(GaussianMixture(2), **bad)
    with pytest.raises(ValueError, match=">= 0"):
        MapMStep(GaussianMixture(2), weight_counts=-0.5)  # α < 1: no interior maximum


def test_data_on_a_line_is_refused_with_a_message():
    t = np.linspace(0.0, 1.0, 20)
    X = np.column_stack([t, 2 * t + 1])
    with pytest.raises(InvalidStart, match="line or plane"):
        run_em(MapMStep(GaussianMixture(2)), X, "kmeans++")
