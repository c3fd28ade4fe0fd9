"""The lower bound away from the recorded steps, Jensen for one point, and the audit."""

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal, norm

from emviz import GaussianMixture, History, run_em
from emviz.analysis.audit import audit_table, monotonicity_audit
from emviz.analysis.bound import (
    M_STEP_DIRECTION,
    bound_along,
    bound_slice,
    jensen_terms,
    parameter_vector,
    params_from_vector,
    slice_directions,
    two_mean_bound_grid,
)
from emviz.data import load_faithful, load_preset
from emviz.models import OvershootingMStep, TwoMeanMixture, WeightlessEStep
from emviz.plots.bound import (
    plot_audit,
    plot_bound_slice,
    plot_bound_surface,
    plot_decomposition,
    plot_jensen,
    plot_q_and_entropy,
)


@pytest.fixture(scope="module")
def faithful_runs():
    """EM on Old Faithful (standardised), one run per covariance type."""
    X = load_faithful(standardize=True)
    return {
        kind: run_em(GaussianMixture(2, kind), X, "spread", max_iter=40, tol=1e-8)
        for kind in ("full", "diag", "spherical", "tied")
    }


@pytest.fixture(scope="module")
def two_mean_run(x):
    model = TwoMeanMixture()
    return run_em(model, x[:, None], model.params(-1.0, 4.0), max_iter=50, tol=1e-10)


def _m_step_move(history, e_index):
    old, new = history[e_index].params, history[e_index + 1].params
    return old, parameter_vector(new) - parameter_vector(old)


def _hand_bound(X, resp, params):
    """L(q, θ) = Σ_n Σ_k q_nk (ln π_k + ln N(x_n | μ_k, Σ_k) − ln q_nk), with scipy."""
    log_joint = np.column_stack(
        [
            np.log(w) + multivariate_normal(m, c).logpdf(X)
            for w, m, c in zip(params.weights, params.means, params.covariances)
        ]
    )
    entropy = -np.sum(np.where(resp > 0, resp * np.log(np.where(resp > 0, resp, 1)), 0))
    return float(np.sum(resp * log_joint) + entropy), float(logsumexp(log_joint, axis=1).sum())


def test_parameter_vector_round_trips(faithful_runs):
    history = faithful_runs["full"]
    params = history[3].params
    again = params_from_vector(history.model, params, parameter_vector(params))
    np.testing.assert_array_equal(again.means, params.means)
    np.testing.assert_array_equal(again.covariances, params.covariances)
    assert parameter_vector(params).size == 2 + 2 * 2 + 2 * 4


@pytest.mark.parametrize("kind", ["full", "diag", "spherical", "tied"])
@pytest.mark.parametrize("e_index", [1, 3, 9])
def test_bishop_9_14_along_the_m_steps_move(faithful_runs, kind, e_index):
    history = faithful_runs[kind]
    old, move = _m_step_move(history, e_index)
    q = history.posterior(e_index)
    ts = np.union1d(np.linspace(-0.5, 1.5, 401), [0.0, 1.0])
    ll, bound = bound_along(history.model, history.X, q, old, move, ts)
    finite = np.isfinite(ll)
    assert finite[(ts > -0.2) & (ts <= 1.0)].all()  # beyond t = 1 a covariance may turn singular
    # below ℓ everywhere, touching at θ_old
    assert np.all(bound[finite] <= ll[finite] + 1e-10 * np.abs(ll[finite]))
    zero = np.flatnonzero(ts == 0.0)[0]
    assert bound[zero] == pytest.approx(ll[zero], rel=1e-10)
    assert ll[zero] == pytest.approx(history[e_index].log_likelihood, rel=1e-12)
    # the M-step's θ_new maximises the bound over the whole line
    assert ts[np.nanargmax(bound)] == 1.0
    assert ll[ts == 1.0][0] == pytest.approx(history[e_index + 1].log_likelihood, rel=1e-12)
    # same slope at t = 0 (central finite differences)
    h = 1e-4
    ll_h, bound_h = bound_along(history.model, history.X, q, old, move, [-h, h])
    slope_ll, slope_bound = np.diff(ll_h)[0] / (2 * h), np.diff(bound_h)[0] / (2 * h)
    assert slope_bound == pytest.approx(slope_ll, rel=1e-4, abs=1e-5)
    assert slope_ll > 1e-3  # ℓ rises from θ_old towards θ_new: a real slope


def test_bound_along_matches_a_hand_computation(faithful_runs):
    history = faithful_runs["full"]
    old, move = _m_step_move(history, 3)
    q = history.posterior(3)
    ll, bound = bound_along(history.model, history.X, q, old, move, [0.7])
    params = params_from_vector(history.model, old, parameter_vector(old) + 0.7 * move)
    hand_bound, hand_ll = _hand_bound(history.X, history.responsibilities(3), params)
    assert bound[0] == pytest.approx(hand_bound, rel=1e-10)
    assert ll[0] == pytest.approx(hand_ll, rel=1e-10)


def test_other_directions_stay_below_and_touch(faithful_runs, two_mean_run):
    for history in (faithful_runs["full"], faithful_runs["diag"], two_mean_run):
        for direction in slice_directions(history):
            s = bound_slice(history, 2, direction)
            ok = np.isfinite(s.log_likelihood)
            assert ok.sum() > 0.5 * len(s.ts), direction
            assert np.all(
                s.bound[ok] <= s.log_likelihood[ok] + 1e-10 * np.abs(s.log_likelihood[ok])
            )
            zero = np.flatnonzero(s.ts == 0.0)[0]
            assert s.bound[zero] == pytest.approx(s.log_likelihood[zero], rel=1e-10)
    assert list(two_mean_run.model.free_directions(two_mean_run[0].params)) == ["μ1", "μ2"]


def test_weight_direction_keeps_the_weights_on_the_simplex(faithful_runs):
    history = faithful_runs["full"]
    unit = history.model.free_directions(history[0].params)["π1"]
    assert unit[:2].tolist() == [1.0, -1.0] and not unit[2:].any()


def test_the_next_bound_touches_at_theta_new(faithful_runs):
    s = bound_slice(faithful_runs["full"], 4, M_STEP_DIRECTION)  # an M-step: steps 3–4
    assert (s.e_step, s.m_step) == (3, 4)
    one = np.flatnonzero(s.ts == 1.0)[0]
    assert s.next_bound[one] == pytest.approx(s.log_likelihood[one], rel=1e-10)
    ok = np.isfinite(s.next_bound)
    assert np.all(s.next_bound[ok] <= s.log_likelihood[ok] + 1e-10 * np.abs(s.log_likelihood[ok]))


def test_two_mean_bound_surface_equals_bound_along(two_mean_run, x):
    history = two_mean_run
    model = history.model
    resp = history.responsibilities(3)
    axis = np.linspace(-2, 4, 7)
    grid = two_mean_bound_grid(model, x, resp, axis, axis)
    old = history[3].params
    origin = parameter_vector(old)
    for i, j in [(0, 0), (2, 5), (6, 1)]:
        target = parameter_vector(model.params(axis[j], axis[i]))  # grid is (μ2, μ1)
        _, bound = bound_along(model, x[:, None], history.posterior(3), old, target - origin, [1])
        assert grid[i, j] == pytest.approx(bound[0], rel=1e-11)


def test_jensen_for_one_point(faithful_runs):
    history = faithful_runs["full"]
    params, X = history[4].params, history.X
    log_joint = np.array(
        [
            np.log(w) + multivariate_normal(m, c).logpdf(X[7])
            for w, m, c in zip(params.weights, params.means, params.covariances)
        ]
    )
    posterior = np.exp(log_joint - logsumexp(log_joint))
    q = np.array([0.2, 0.8])
    terms = jensen_terms(history.model, X, params, 7, q * 3)  # normalised inside
    np.testing.assert_allclose(terms.q, q)
    np.testing.assert_allclose(terms.log_joint, log_joint, rtol=1e-12)
    assert terms.log_evidence == pytest.approx(logsumexp(log_joint), rel=1e-12)
    kl = np.sum(q * np.log(q / posterior))
    assert terms.gap == pytest.approx(kl, rel=1e-9)
    assert terms.bound == pytest.approx(np.sum(q * (log_joint - np.log(q))), rel=1e-12)
    exact = jensen_terms(history.model, X, params, 7, terms.posterior)
    assert exact.gap == pytest.approx(0.0, abs=1e-12)
    one_sided = jensen_terms(history.model, X, params, 7, [1.0, 0.0])  # 0·log 0 = 0
    assert one_sided.bound == pytest.approx(log_joint[0], rel=1e-12)
    assert terms.log_mean_ratio == pytest.approx(terms.log_evidence, rel=1e-12)  # q covers all
    assert terms.jensen_gap == pytest.approx(kl, rel=1e-9)
    with pytest.raises(ValueError, match="non-negative"):
        jensen_terms(history.model, X, params, 7, [-1.0, 2.0])


def _trace_named(figure, start):
    return next(t for t in figure.data if t.name.startswith(start))


def test_a_one_hot_q_has_no_jensen_gap_and_the_figure_draws_the_kl_beside_it(faithful_runs):
    """ln E_q[u] = E_q[ln u] for a one-hot q: the Jensen gap is 0; the KL between ln p(x) and
    the bound is −ln p(z | x) of the one state q keeps, drawn apart at u = p(x)."""
    history = faithful_runs["full"]
    params, X = history[4].params, history.X
    for kept in (0, 1):
        q = np.eye(2)[kept]
        terms = jensen_terms(history.model, X, params, 7, q)
        assert terms.log_mean_ratio == terms.bound == terms.log_joint[kept]
        assert terms.jensen_gap == 0.0
        assert terms.gap == pytest.approx(-np.log(terms.posterior[kept]), rel=1e-9)
        figure = plot_jensen(terms)
        jensen = _trace_named(figure, "Jensen gap")
        assert jensen.name.endswith(" = 0") and jensen.y[0] == jensen.y[1] == terms.bound
        kl = _trace_named(figure, "KL = ln p(x) − E_q[ln u]")
        assert kl.name.endswith(f"= {terms.gap:.4g}")
        assert kl.y == (terms.bound, terms.log_evidence)
        assert kl.x[0] == pytest.approx(np.exp(terms.log_evidence), rel=1e-12)
        assert _trace_named(figure, "ln E_q[u]").x[0] == pytest.approx(np.exp(terms.bound))


def test_jensen_figure_draws_the_engines_numbers(faithful_runs):
    """With q the posterior of an E-step, both sides meet at the engine's p(x)."""
    history = faithful_runs["full"]
    e_step = 3
    params = history[e_step].params
    resp = history.responsibilities(e_step)
    point = 11
    terms = jensen_terms(history.model, history.X, params, point, resp[point])
    ll = history.model.log_likelihood(history.X[point : point + 1], params)
    assert terms.log_evidence == pytest.approx(ll, rel=1e-12)
    figure = plot_jensen(terms)
    star = _trace_named(figure, "ln p(x) = ln E_q[u]")
    assert star.y[0] == pytest.approx(ll, rel=1e-12)
    assert _trace_named(figure, "Jensen gap = KL").name.endswith(f"= {terms.gap:.4g}")
    assert terms.gap == pytest.approx(0.0, abs=1e-12)
    assert not any(t.name.startswith("KL =") for t in figure.data)


def test_two_mean_jensen_uses_the_models_fixed_variances(two_mean_run, x):
    params = two_mean_run[2].params
    terms = jensen_terms(two_mean_run.model, x[:, None], params, 0, [0.5, 0.5])
    log_joint = np.log([0.3, 0.7]) + norm.logpdf(x[0], params.means[:, 0], np.sqrt([1.0, 0.5]))
    np.testing.assert_allclose(terms.log_joint, log_joint, rtol=1e-12)


# ---- the decomposition and Q + H, as drawn ----


def test_decomposition_figure_shows_the_historys_numbers(faithful_runs):
    history = faithful_runs["full"]
    fig = plot_decomposition(history, 4)
    elbo_bar, kl_bar, kl_alone, ll_marks = fig.data

    def drawn(values):
        return np.asarray(values, dtype=float)

    ll, elbo, kl = (history.column(c) for c in ("log_likelihood", "elbo", "kl"))
    later = slice(1, None)  # step 0's ELBO bar may be cut at the axis
    np.testing.assert_allclose((elbo_bar.base + drawn(elbo_bar.y))[later], elbo[later])
    np.testing.assert_allclose(drawn(kl_bar.y)[later], kl[later], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(drawn(kl_bar.base) + drawn(kl_bar.y), ll, rtol=1e-12)
    np.testing.assert_array_equal(drawn(ll_marks.y), ll)
    np.testing.assert_array_equal(drawn(kl_alone.y), kl)
    e_steps = [s.index for s in history.steps if s.phase == "E"]
    assert np.all(kl[e_steps] == 0)  # the E-step closes the gap
    m_steps = [s.index for s in history.steps if s.phase == "M"]
    assert np.all(kl[m_steps[:3]] > 0)  # … and the M-step opens it again
    assert "ln p(X|θ) = " in kl_bar.hovertext[4]


def test_q_and_entropy_figure_adds_up(faithful_runs):
    history = faithful_runs["diag"]
    fig = plot_q_and_entropy(history, 2)
    by_name = {trace.name: np.asarray(trace.y) for trace in fig.data}
    q = by_name["Q(θ, q) = E_q[ln p(X, Z | θ)]"]
    entropy = by_name["H(q) = −E_q[ln q(Z)]"]
    np.testing.assert_allclose(q + entropy, by_name["ELBO = Q + H"], rtol=1e-12)
    np.testing.assert_array_equal(entropy, history.column("entropy"))


def test_slice_jensen_surface_and_audit_figures_build(faithful_runs, two_mean_run, x):
    s = bound_slice(faithful_runs["full"], 2)
    fig = plot_bound_slice(s)
    assert [t.name for t in fig.data][:3] == [
        "ln p(X | θ)",
        "L(q, θ), q = p(Z | X, θ_old)",
        "next bound, q = p(Z | X, θ_new)",
    ]
    star = fig.data[3]
    assert star.x[0] == 1.0
    history = faithful_runs["full"]
    terms = jensen_terms(history.model, history.X, history[2].params, 0, [0.5, 0.5])
    jensen = plot_jensen(terms)
    diamond = next(t for t in jensen.data if t.name.startswith("E_q[ln u]"))
    assert diamond.y[0] == terms.bound
    axis = np.linspace(-2, 4, 20)
    surface = plot_bound_surface(
        axis,
        axis,
        np.zeros((20, 20)) - 5,
        two_mean_bound_grid(two_mean_run.model, x, two_mean_run.responsibilities(1), axis, axis),
        (0, 1, -5),
    )
    assert [t.type for t in surface.data] == ["surface", "surface", "scatter3d"]
    assert plot_audit(monotonicity_audit(history)).data[0].y[-1] == history[-1].log_likelihood
    # the legend names the objective by its symbol (a MAP run: the log posterior)
    names = [t.name for t in plot_audit(monotonicity_audit(history), "ℓ + log p(θ)").data[1:]]
    assert names == ["ℓ + log p(θ) did not fall", "ℓ + log p(θ) FELL"]


# ---- the audit ----


def _falls(history):
    """Iterations where ℓ fell, straight from the recorded column."""
    ll = history.column("log_likelihood")
    m_steps = [s.index for s in history.steps if s.phase == "M"]
    return [history[i].iteration for i in m_steps if ll[i] < ll[i - 2] - 1e-10 * abs(ll[i - 2])]


def test_audit_passes_real_em(faithful_runs, two_mean_run):
    for history in (*faithful_runs.values(), two_mean_run):
        rows = monotonicity_audit(history)
        assert len(rows) == history.n_iterations
        assert all(row.ok and row.gap_closed and row.bound_raised for row in rows)
        assert rows[0].before == history[0].log_likelihood
        assert rows[-1].after == history[-1].log_likelihood


@pytest.mark.parametrize("factor", [2.5, 3.0])
def test_audit_catches_an_overshooting_m_step(three_blobs, factor):
    model = OvershootingMStep(GaussianMixture(3), factor)
    history = run_em(model, three_blobs, "kmeans++", max_iter=40)
    rows = monotonicity_audit(history)
    flagged = [row.iteration for row in rows if not row.ok]
    assert flagged and flagged == _falls(history)
    for row in rows:
        assert row.gap_closed  # the E-step is the real one
        if not row.ok:
            assert not row.bound_raised
            assert row.cause == (
                f"the M-step lowered the lower bound: it moves the means {factor:g} × as far as "
                "the maximiser of Q, so it is no longer that maximiser"
            )
    table = audit_table(rows)
    assert [r["ℓ did not fall"] for r in table].count("NO") == len(flagged)


def test_overshooting_m_step_moves_the_means_that_far(three_blobs):
    base = GaussianMixture(3)
    broken = OvershootingMStep(base, 2.5)
    params = base.init_params(three_blobs, "kmeans++")
    q = base.e_step(three_blobs, params)
    best = base.m_step(three_blobs, q)
    moved = broken.m_step(three_blobs, broken.e_step(three_blobs, params))
    np.testing.assert_allclose(moved.means, params.means + 2.5 * (best.means - params.means))
    np.testing.assert_array_equal(moved.covariances, best.covariances)
    assert OvershootingMStep(base, 1.0).m_step(
        three_blobs, broken.e_step(three_blobs, params)
    ).means == pytest.approx(best.means)


def test_an_overshooting_run_round_trips_through_json(three_blobs):
    history = run_em(
        OvershootingMStep(GaussianMixture(3), 2.5), three_blobs, "kmeans++", max_iter=5
    )
    again = History.from_json(history.to_json())
    assert isinstance(again.model, OvershootingMStep) and again.model.factor == 2.5
    assert again.model.n_components == 3
    np.testing.assert_array_equal(again.column("log_likelihood"), history.column("log_likelihood"))
    np.testing.assert_allclose(again.responsibilities(1), history.responsibilities(1))


def test_most_ambiguous_point_is_the_most_evenly_split(faithful_runs):
    from emviz.analysis.bound import most_ambiguous_point

    history = faithful_runs["full"]
    index = most_ambiguous_point(history)
    last_e = [s.index for s in history.steps if s.phase == "E"][-1]
    resp = history.responsibilities(last_e)
    assert np.abs(resp[index, 0] - 0.5) == pytest.approx(np.min(np.abs(resp[:, 0] - 0.5)))


def test_at_a_fixed_point_the_slice_is_flat(x, points):
    saddle = next(p for p in points if p.kind == "saddle")
    model = TwoMeanMixture()
    history = run_em(model, x[:, None], model.params(*saddle.location), max_iter=2, tol=0)
    s = bound_slice(history, 2)
    assert np.nanmax(s.bound) - np.nanmin(s.bound) <= 1e-9 * abs(s.ll_at_old)


def test_weightless_e_step_leaves_the_gap_open_and_the_audit_says_so():
    X = load_preset("1-D two-component mixture")  # unequal weights: forgetting them matters
    model = WeightlessEStep(GaussianMixture(2))
    history = run_em(model, X, "kmeans++", max_iter=30)
    params = history[1].params
    # q ∝ N(x | μ_k, σ_k²): the posterior with equal weights, by hand
    dens = np.column_stack(
        [
            norm.pdf(X[:, 0], m[0], np.sqrt(c[0, 0]))
            for m, c in zip(params.means, params.covariances)
        ]
    )
    np.testing.assert_allclose(history.responsibilities(1), dens / dens.sum(1, keepdims=True))
    e_step = history[1]
    assert e_step.kl > 1e-3  # the E-step did not close the gap …
    assert e_step.elbo == pytest.approx(e_step.log_likelihood - e_step.kl, rel=1e-10)
    rows = monotonicity_audit(history)
    assert not any(row.gap_closed for row in rows) and all(row.bound_raised for row in rows)
    flagged = [row.iteration for row in rows if not row.ok]
    assert flagged and flagged == _falls(history)  # … and ℓ fell where the column says
    assert {row.cause for row in rows if not row.ok} == {
        "the E-step left a gap: q was not the exact posterior"
    }
    again = History.from_json(history.to_json())
    assert isinstance(again.model, WeightlessEStep)
    np.testing.assert_allclose(again.responsibilities(1), history.responsibilities(1))


def test_weightless_e_step_on_the_two_mean_mixture(x):
    model = TwoMeanMixture()
    history = run_em(WeightlessEStep(model), x[:, None], model.params(-1.0, 4.0), max_iter=5)
    means = history[1].params.means[:, 0]
    dens = np.column_stack([norm.pdf(x, m, np.sqrt(v)) for m, v in zip(means, (1.0, 0.5))])
    np.testing.assert_allclose(history.responsibilities(1), dens / dens.sum(1, keepdims=True))
    assert history[1].log_likelihood == model.log_likelihood(x[:, None], history[1].params)
