"""What the app's pages compute, as plain functions of their settings (no streamlit).

`emviz.ui.cache` wraps these in Streamlit caches keyed on the small settings objects of
`emviz.settings`; tests call them directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emviz import GaussianMixture, History, run_em
from emviz.analysis.basins import (
    BatchedRun,
    RestartOutcomes,
    classify_restarts,
    label_ends,
    run_batch,
    spherical_derivatives,
    spherical_restarts,
    symmetric_basins,
    symmetric_fixed_point,
    two_mean_basin_map,
)
from emviz.analysis.bound import m_step_iteration, two_mean_bound_grid
from emviz.analysis.failures import (
    RateStudy,
    em_fixed_point,
    free_jacobian,
    isolated_point_sample,
    isolated_point_start,
    rate_study,
    run_with_restarts,
)
from emviz.analysis.gradient import (
    learning_rate_sweep,
    params_from_theta,
    plain_gradient_ascent,
    reparametrised_gradient_ascent,
    theta_from_params,
)
from emviz.analysis.known_labels import KnownLabelsComparison, compare_with_labels
from emviz.analysis.landscape import critical_points, log_likelihood_grid, saddle_stall
from emviz.analysis.missing import complete_case_estimate, mean_imputation_estimate
from emviz.analysis.optimiser import (
    KnownComponents,
    em_full_mixture,
    lbfgsb_full_mixture,
    surplus_comparison,
)
from emviz.analysis.paths import em_path, gradient_ascent_path, newton_path
from emviz.analysis.rates import em_map_jacobian, em_rate, observed_rate
from emviz.analysis.restarts import (
    compare_initialisations,
    identical_start_run,
    premature_ranking,
    run_restarts,
)
from emviz.analysis.selection import (
    DEFAULT_REG_COVAR,
    K_VALUES,
    Fit,
    Selection,
    fit_grid,
)
from emviz.convergence import ConvergenceMonitor
from emviz.data import (
    PRESETS,
    DataError,
    jin_centres_1d,
    jin_centres_2d,
    jin_sample,
    load_preset,
    make_mixture_1d,
    make_two_mean_sample,
    missing_sample,
    ppca_sample,
    read_columns,
    read_points,
    symmetric_sample,
)
from emviz.data.checks import fit_obstacle, standardise
from emviz.data.series import regime_switching_series
from emviz.engine import counted
from emviz.models import (
    AnnealedEStep,
    GaussianHMM,
    GaussianParams,
    InvalidStart,
    MapMStep,
    MissingNormal,
    OvershootingMStep,
    SingularParameters,
    SphericalMeansMixture,
    StochasticEStep,
    TemperedEStep,
    WeightlessEStep,
)
from emviz.models.linkage import GeneticLinkage, LinkageParams
from emviz.models.missing import NormalParams
from emviz.models.ppca import PPCAParams, ProbabilisticPCA, maximum_likelihood_params
from emviz.models.two_means import TwoMeanMixture
from emviz.settings import (
    ANNEAL_STEPS,
    FAR_FACTOR,
    LINKAGE_ITERATIONS,
    MERGE_SEPARATIONS,
    N_PER_CLUSTER,
    SYMMETRIC_ANGLE,
    BoundRun,
    BreakMode,
    DataSource,
    Family,
    HMMRun,
    LandscapeSettings,
    MissingSettings,
    ModelSettings,
    PPCASettings,
    SphericalRestartSettings,
    SymmetricBasinSettings,
    Variant,
)

HARD_SIGMA = 0.25  # σ (× the data's spread) with which k-means' clusters are drawn
SHOWN_FEATURES = 2  # the step view draws at most two columns of the data
TWO_MEAN_MAX_ITER, TWO_MEAN_TOL = 200, 1e-8  # the two-mean run of "Why EM works"
SURFACE_RESOLUTION = 120  # grid points per axis of the ℓ(μ1, μ2) surface


# ---- the Gaussian mixture of the step page ----


def load_data(source: DataSource, raw: bytes | None = None) -> np.ndarray:
    """The data (n_samples, n_features) of ``source``; an upload is parsed from ``raw`` (and
    standardised if the source says so)."""
    if source.kind == "preset":
        return load_preset(source.name, n_samples=source.n_samples, seed=source.seed)
    if raw is None:
        raise DataError("That uploaded file is no longer available; please upload it again.")
    points = read_points(raw, columns=list(source.columns))
    return standardise(points) if source.standardise else points


def fit(
    X: np.ndarray, settings: ModelSettings, names: tuple[str, ...] = ()
) -> tuple[History | None, str]:
    """One recorded EM run of a Gaussian mixture on (the first two columns of) ``X``:
    (history, "") or (None, why it could not start and what to change). ``names`` name the
    columns in that message."""
    X = X[:, :SHOWN_FEATURES]
    obstacle = fit_obstacle(
        X, settings.n_components, settings.covariance_type, settings.reg_covar, names
    )
    if obstacle:  # checked first: each obstacle gets its own message and fix
        return None, obstacle
    # The settings were validated where they were read: an error from them here is a bug.
    try:
        model, init = variant_model(X, settings)
        return run_em(model, X, init, max_iter=settings.max_iter, tol=settings.tol), ""
    except InvalidStart as error:  # a start the checks above do not foresee
        return None, _start_failure(str(error))


def variant_model(X: np.ndarray, settings: ModelSettings):
    """(model, start): the Gaussian mixture of ``settings`` as its variant changes it, and the
    start, which is the plain mixture's whatever the variant (so that a variant and plain EM
    can be compared from the same point)."""
    base = _mixture(settings)
    init = base.init_params(X, settings.init, seed=settings.init_seed)
    variant = settings.variant
    if variant.kind is Variant.TEMPERED:
        return TemperedEStep(base, variant.temperature), init
    if variant.kind is Variant.STOCHASTIC:
        return StochasticEStep(base, variant.seed), init
    if variant.kind is Variant.ANNEALED:
        return AnnealedEStep(base, variant.start_temperature, ANNEAL_STEPS), init
    if variant.kind is Variant.MAP:
        return MapMStep(base, variant.prior_strength), init
    if variant.kind is Variant.KMEANS:
        return _kmeans_shape(X, settings.n_components, variant.sigma, init)
    return base, init


def data_spread(X: np.ndarray) -> float:
    """√(mean variance of the columns): the unit of the k-means shape's σ."""
    return float(np.sqrt(np.mean(np.var(X, axis=0)))) or 1.0


def _kmeans_shape(X, n_components: int, sigma: float, init):
    """Equal weights and one fixed σ² I for every component: EM of this mixture is soft
    k-means; σ = 0 is k-means itself, drawn (and its ℓ computed) with σ = HARD_SIGMA."""
    spread = data_spread(X)
    shape = SphericalMeansMixture(n_components, ((sigma or HARD_SIGMA) * spread) ** 2)
    model = shape if sigma > 0 else TemperedEStep(shape, 0.0)
    return model, shape.params(init.means)


def _start_failure(reason: str) -> str:
    """The fit's own reason, with the fix where a component has no width at the start."""
    if "positive definite" in reason or "collapsed" in reason:
        return (
            f"EM cannot start: {reason.removeprefix('Invalid initial parameters: ')} "
            "Raise reg_covar above 0, or choose fewer components or another initialisation."
        )
    return reason


def true_labels(source: DataSource) -> np.ndarray | None:
    """The component that generated each point of a generated preset; None for real data
    (Old Faithful) and uploads, whose labels nobody knows."""
    if source.kind != "preset" or not PRESETS[source.name].generated:
        return None
    return PRESETS[source.name].sample(source.n_samples, source.seed)[1]


def known_labels(
    history: History, source: DataSource, settings: ModelSettings
) -> KnownLabelsComparison | str:
    """EM's fit (``history``) beside the fit with ``source``'s true labels given, or why
    there is none to show."""
    labels = true_labels(source)
    if labels is None:
        return (
            "Only generated data knows which component made each point: choose one of the "
            "generated presets to compare EM with the fit that is given the labels."
        )
    n_groups = int(labels.max()) + 1
    if settings.n_components != n_groups:
        return (
            f"This data was generated by {n_groups} components and EM fits "
            f"{settings.n_components}: set K = {n_groups} to compare EM with the fit that is "
            "given the labels."
        )
    try:
        return compare_with_labels(
            history.X, labels, history.final_params, settings.covariance_type
        )
    except SingularParameters as error:
        return f"The labelled groups have no valid {settings.covariance_type} fit: {error}"


# ---- where EM ends up: many restarts of the step page's mixture ----


def _mixture(settings: ModelSettings) -> GaussianMixture:
    """The Gaussian mixture of ``settings`` (its variant aside)."""
    return GaussianMixture(settings.n_components, settings.covariance_type, settings.reg_covar)


def restarts(X: np.ndarray, settings: ModelSettings, n_restarts: int):
    """``n_restarts`` runs of the step page's mixture from its initialisation, seeds
    ``init_seed``, ``init_seed + 1``, …: restart r is the step page's run with seed
    ``init_seed + r``."""
    return run_restarts(
        X[:, :SHOWN_FEATURES],
        _mixture(settings),
        settings.init,
        n_restarts,
        seed=settings.init_seed,
        max_iter=settings.max_iter,
        tol=settings.tol,
    )


def initialisation_comparison(X: np.ndarray, settings: ModelSettings, n_restarts: int):
    """`compare_initialisations` of every method on the step page's data and mixture."""
    return compare_initialisations(
        X[:, :SHOWN_FEATURES],
        _mixture(settings),
        n_restarts=n_restarts,
        seed=settings.init_seed,
        max_iter=settings.max_iter,
        tol=settings.tol,
    )


PITFALL_RESTARTS = 20


def pitfalls(X: np.ndarray, settings: ModelSettings):
    """Two pitfalls on the step page's data: (all means started at one point, runs ranked
    before they converged)."""
    X, model = X[:, :SHOWN_FEATURES], _mixture(settings)
    return (
        identical_start_run(X, model, max_iter=settings.max_iter, tol=settings.tol),
        premature_ranking(X, model, n_restarts=PITFALL_RESTARTS, seed=settings.init_seed),
    )


# ---- choosing K ----


def selection_obstacle(X: np.ndarray, names: tuple[str, ...] = ()) -> str | None:
    """Why no mixture at all can be fitted to ``X`` (as `fit_obstacle` says it for K = 1,
    with the grid's reg_covar); None when the grid can run (its larger K may still fail)."""
    return fit_obstacle(X[:, :SHOWN_FEATURES], 1, "full", DEFAULT_REG_COVAR, names)


def selection_grid(
    X: np.ndarray, covariance_type: str, n_restarts: int, split_seed: int
) -> tuple[Fit, ...]:
    """`fit_grid` of one covariance type, K = 1 … 8, on the shown columns of ``X``."""
    X = X[:, :SHOWN_FEATURES]
    return fit_grid(X, covariance_type, K_VALUES, n_restarts, split_seed=split_seed)


def selection_of(n_samples: int, grids, n_restarts: int, split_seed: int) -> Selection:
    """One `Selection` of the `selection_grid` of several covariance types."""
    fits = tuple(fit for grid in grids for fit in grid)
    return Selection(fits, n_samples, n_restarts, split_seed)


def chosen_history(X: np.ndarray, fit: Fit) -> History:
    """One EM iteration from ``fit``'s parameters: its E-step holds them with their
    responsibilities, which `emviz.plots.selection.plot_chosen` draws."""
    model = GaussianMixture(fit.n_components, fit.covariance_type, DEFAULT_REG_COVAR)
    return run_em(model, X[:, :SHOWN_FEATURES], fit.params, max_iter=1, tol=0)


# ---- "Why EM works": any model of the protocol, optionally broken ----


def break_model(model, run: BoundRun):
    """``model`` as ``run`` breaks it (or unchanged)."""
    if run.broken is BreakMode.OVERSHOOT:
        return OvershootingMStep(model, run.factor)
    if run.broken is BreakMode.FORGET_WEIGHTS:
        return WeightlessEStep(model)
    return model


def bound_history(run: BoundRun, base: History | None = None) -> History:
    """The run "Why EM works" shows. For the Gaussian family ``base`` is the step page's run
    of the same data and settings: returned as is, or re-run broken from its start."""
    if run.family is Family.GAUSSIAN:
        if run.broken is BreakMode.NONE:
            return base
        model, X, init = base.model, base.X, base[0].params  # the same start as the real run
        max_iter, tol = run.settings.max_iter, run.settings.tol
    else:
        model, X = run.landscape.model(), landscape_sample(run.landscape)[:, None]
        init, max_iter, tol = model.params(*run.start), TWO_MEAN_MAX_ITER, TWO_MEAN_TOL
    return run_em(break_model(model, run), X, init, max_iter=max_iter, tol=tol)


def two_mean_bound_surface(history: History, cursor: int, model: TwoMeanMixture, surface):
    """The bound under the ℓ surface for the iteration at ``cursor`` of a two-mean run:
    (μ1 axis, μ2 axis, ℓ grid, bound grid, θ_old, θ_new) with θ as (μ1, μ2, ℓ); None when
    there is no iteration there. ``model`` is the run's (unbroken) two-mean model and
    ``surface`` the `landscape_surface` of its sample."""
    iteration = m_step_iteration(history, cursor)
    if iteration is None:
        return None
    mu1, mu2, log_likelihood = surface
    resp = history.responsibilities(iteration[0])
    bound = two_mean_bound_grid(model, history.X[:, 0], resp, mu1, mu2)
    old, new = (history[i] for i in iteration)
    thetas = [(*step.params.means[:, 0], step.log_likelihood) for step in (old, new)]
    return mu1, mu2, log_likelihood, bound, *thetas


# ---- the two-mean likelihood landscape ----


def landscape_sample(settings: LandscapeSettings) -> np.ndarray:
    return make_two_mean_sample(
        settings.n_samples,
        settings.true_means,
        (settings.weight, 1.0 - settings.weight),
        settings.variances,
        settings.seed,
    )


def landscape_surface(settings: LandscapeSettings, resolution: int = SURFACE_RESOLUTION):
    """(μ1 axis, μ2 axis, ℓ grid) over the span of the data."""
    x = landscape_sample(settings)
    axis = np.linspace(x.min() - 0.5, x.max() + 0.5, resolution)
    return axis, axis, log_likelihood_grid(settings.model(), x, axis, axis)


def landscape_critical_points(settings: LandscapeSettings):
    return critical_points(settings.model(), landscape_sample(settings))


BASIN_RESOLUTION = 80  # starts per axis of the basin map: 6 400 EM runs in one batch


def landscape_basins(settings: LandscapeSettings, points, resolution: int = BASIN_RESOLUTION):
    """`two_mean_basin_map` over the span of the surface, for ``points`` (its critical points)."""
    x = landscape_sample(settings)
    axis = np.linspace(x.min() - 0.5, x.max() + 0.5, resolution)
    return two_mean_basin_map(settings.model(), x, points, axis, axis)


def landscape_saddle_stall(settings: LandscapeSettings, points):
    """`saddle_stall` at the first saddle of ``points`` (the surface's critical points), or
    None when it has none."""
    saddles = [p for p in points if p.kind == "saddle"]
    if not saddles:
        return None
    return saddle_stall(settings.model(), landscape_sample(settings), saddles[0])


def landscape_paths(settings: LandscapeSettings, start: tuple[float, float], learning_rate: float):
    """EM, gradient ascent and Newton–Raphson from ``start``."""
    model, x = settings.model(), landscape_sample(settings)
    return [
        em_path(model, x, start),
        gradient_ascent_path(model, x, start, learning_rate=learning_rate),
        newton_path(model, x, start),
    ]


# ---- EM or gradient ascent? ----

FULL_MIXTURE_START = (0.5, 0.0, 3.0, 1.0, 1.0)  # (π1, μ1, μ2, σ1², σ2²)
SWEEP_RATES = (0.03, 0.1, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
OVERSHOOT_START = (3.78, -2.4)  # a start from which a large gradient step overshoots
FULL_MIXTURE_MAX_ITER = 2000


def full_mixture_runs(learning_rate: float):
    """Plain and reparametrised ascent and EM on the default two-mean sample, full model:
    (plain, reparametrised, EM's θ, EM's iterations)."""
    x = make_two_mean_sample()
    start = params_from_theta(FULL_MIXTURE_START)
    em = run_em(GaussianMixture(2), x[:, None], start, max_iter=FULL_MIXTURE_MAX_ITER, tol=1e-8)
    return (
        plain_gradient_ascent(x, start, learning_rate=learning_rate),
        reparametrised_gradient_ascent(
            x, start, learning_rate=learning_rate, max_iter=FULL_MIXTURE_MAX_ITER
        ),
        theta_from_params(em.final_params),
        em.n_iterations,
    )


def full_mixture_sweep():
    x = make_two_mean_sample()
    return learning_rate_sweep(x, params_from_theta(FULL_MIXTURE_START), SWEEP_RATES)


FULL_MIXTURE_TOL = 1e-8  # per point, EM's rule; L-BFGS-B's relative ftol and gtol alike


def optimiser_comparison():
    """EM and L-BFGS-B (bounds π1 ∈ [0, 1], σk² above a floor) on the default two-mean
    sample, full model, from the same start: (EM run, L-BFGS-B run)."""
    x = make_two_mean_sample()
    return (
        em_full_mixture(
            x, FULL_MIXTURE_START, tol=FULL_MIXTURE_TOL, max_iter=FULL_MIXTURE_MAX_ITER
        ),
        lbfgsb_full_mixture(
            x, FULL_MIXTURE_START, tol=FULL_MIXTURE_TOL, max_iter=FULL_MIXTURE_MAX_ITER
        ),
    )


# points from N(0, 1), one real component; a sample whose ℓ(π1) slopes down at π1 = 0 for
# every surplus mean offered (another sample can put the maximum just inside (0, 1))
SURPLUS_SAMPLE = {"n_samples": 200, "seed": 7}
SURPLUS_START = 0.5  # π1 of the surplus component at the start
SURPLUS_ITERATIONS = 200


def surplus_sample() -> np.ndarray:
    x, _ = make_mixture_1d(means=(0.0,), stds=(1.0,), weights=(1.0,), **SURPLUS_SAMPLE)
    return x


def surplus_runs(surplus_mean: float, learning_rate: float):
    """The weight of a surplus N(``surplus_mean``, 1) beside the true N(0, 1), shapes known:
    EM, gradient ascent on logit π1 (rate ``learning_rate``) and L-BFGS-B."""
    components = KnownComponents(means=(surplus_mean, 0.0), variances=(1.0, 1.0))
    return surplus_comparison(
        surplus_sample(),
        components,
        SURPLUS_START,
        SURPLUS_ITERATIONS,
        learning_rate=learning_rate,
    )


def two_mean_rates():
    """EM's rate at the mode from the Jacobian and from the iterates: (EM path, Newton path,
    mode, Jacobian rate, observed rate), both paths from the same start near the mode."""
    settings = LandscapeSettings()
    model, x = settings.model(), landscape_sample(settings)
    mode = np.array(landscape_critical_points(settings)[0].location)
    start = (mode[0] + 0.5, mode[1] - 0.5)
    em = em_path(model, x, start, max_iter=60, tol=0)
    newton = newton_path(model, x, start)
    jacobian = em_map_jacobian(
        model,
        x[:, None],
        model.params(*em.end),
        to_vector=lambda p: p.means[:, 0],
        from_vector=lambda v: model.params(*v),
    )
    return em, newton, em.end, em_rate(jacobian), observed_rate(em.points, em.end)


# ---- Where EM ends up: two components (Xu, Hsu & Maleki) ----

BASIN_HALF_RESOLUTION = 25  # grid points on each side of 0 along each axis of θ0
BASIN_MAX_ITER, BASIN_TOL = 300, 1e-8
PLUS, MINUS, ELSEWHERE = 0, 1, 2  # where a start of the basin map ended: +θ̂, −θ̂, neither
ESCAPE_OFFSETS = (0.0, 1e-2, -1e-5, 1e-8, -1e-11)
"""How far off the basin boundary (along θ̂) the escape demo starts: 0 is on it to rounding."""
ESCAPE_MAX_ITER = 3000


@dataclass(frozen=True)
class SymmetricBasinMap:
    """Where EM of ½N(θ, I) + ½N(−θ, I) ends from every θ0 of a grid.

    Attributes
    ----------
    X : ndarray (n, 2)
    theta_star, theta_hat : ndarray (2,)
        The truth and the sample's fixed point +θ̂ (the one on θ*'s side).
    axis : ndarray (R,)
        Both axes of the grid of starts, symmetric about 0 (R = 2·half + 1).
    ends : ndarray (R, R, 2)
        θ at the end of EM from each start, θ_y rows and θ_x columns.
    iterations : ndarray (R, R) of int
    labels : ndarray (R, R) of int
        `PLUS`, `MINUS` or `ELSEWHERE`.
    by_sign : float
        The share of starts with ⟨θ0, θ*⟩ ≠ 0 that end at +θ̂ when ⟨θ0, θ*⟩ > 0 and at −θ̂
        when it is < 0, as the population result predicts.
    """

    X: np.ndarray
    theta_star: np.ndarray
    theta_hat: np.ndarray
    axis: np.ndarray
    ends: np.ndarray
    iterations: np.ndarray
    labels: np.ndarray
    by_sign: float


def symmetric_data(settings: SymmetricBasinSettings) -> tuple[np.ndarray, np.ndarray]:
    """(X, θ*) of ``settings``."""
    return symmetric_sample(
        settings.n_samples, settings.separation, angle=SYMMETRIC_ANGLE, seed=settings.seed
    )


def symmetric_basin_map(
    settings: SymmetricBasinSettings, half: int = BASIN_HALF_RESOLUTION
) -> SymmetricBasinMap:
    """EM from every start of a (2·half + 1)² grid over θ0, wide enough for ±θ̂.

    The EM map is odd, M(−θ) = −M(θ), so the start −θ0 ends at minus the end of θ0 after
    the same iterations: EM runs from the upper half of the grid only (θ_y ≥ 0) and the
    lower half is the upper half turned by 180°.
    """
    X, theta_star = symmetric_data(settings)
    theta_hat = symmetric_fixed_point(X, theta_star)
    extent = np.ceil(max(np.abs(theta_hat).max(), np.abs(theta_star).max()) + 1.5)
    positive = np.linspace(0.0, extent, half + 1)[1:]
    axis = np.concatenate([-positive[::-1], [0.0], positive])  # exactly symmetric
    run = symmetric_basins(X, axis, axis[half:], max_iter=BASIN_MAX_ITER, tol=BASIN_TOL)
    upper_ends, upper_iterations = run.on_grid(run.ends), run.on_grid(run.iterations)
    ends = np.concatenate([-upper_ends[1:][::-1, ::-1], upper_ends])
    iterations = np.concatenate([upper_iterations[1:][::-1, ::-1], upper_iterations])
    near = 0.05 * max(np.linalg.norm(theta_hat), 1e-3)  # EM's slack at tol is far smaller
    labels = label_ends(ends.reshape(-1, 2), [theta_hat, -theta_hat], atol=near)
    labels = np.where(labels < 0, ELSEWHERE, labels).reshape(iterations.shape)
    first, second = np.meshgrid(axis, axis)
    side = np.sign(first * theta_star[0] + second * theta_star[1])
    predicted = np.where(side > 0, PLUS, MINUS)
    by_sign = float((labels == predicted)[side != 0].mean())
    return SymmetricBasinMap(X, theta_star, theta_hat, axis, ends, iterations, labels, by_sign)


@dataclass(frozen=True)
class BoundaryEscape:
    """EM from a start on the boundary between the two basins and from starts just off it.

    Attributes
    ----------
    offsets : tuple of float
        ε of each start: θ0 = boundary point + ε·θ̂/|θ̂|.
    paths : ndarray (E, T + 1, 2)
        θ_t of each start, t = 0 … T (the EM map iterated, no stopping rule).
    progress : ndarray (E, T + 1)
        ⟨θ_t, θ̂⟩ / |θ̂|²: 0 on the boundary's side of the saddle, +1 at +θ̂, −1 at −θ̂.
    """

    offsets: tuple[float, ...]
    paths: np.ndarray
    progress: np.ndarray

    def left_at(self, share: float = 0.5) -> np.ndarray:
        """The first iteration at which each start is past ``share`` of the way to ±θ̂
        (T + 1 for one that never is)."""
        past = np.abs(self.progress) > share
        return np.where(past.any(axis=1), past.argmax(axis=1), self.progress.shape[1])


def boundary_escape(basins: SymmetricBasinMap, offsets=ESCAPE_OFFSETS) -> BoundaryEscape | None:
    """Start EM on the basin boundary (to rounding) and ε off it; None if the boundary is
    not found where it should be (no sign change along the search segment).

    The boundary is searched on the segment through p = r·u⊥ (u⊥ ⟂ θ*, r half the grid's
    extent) along d = θ̂/|θ̂|: EM from p + s·d ends at −θ̂ for s ≪ 0 and +θ̂ for s ≫ 0; s is
    narrowed down to adjacent floats by repeated multisection.
    """
    X, theta_hat = basins.X, basins.theta_hat
    scale = float(np.dot(theta_hat, theta_hat))
    if scale < 1e-6:
        return None
    direction = theta_hat / np.sqrt(scale)
    orthogonal = np.array([-basins.theta_star[1], basins.theta_star[0]])
    anchor = 0.5 * basins.axis[-1] * orthogonal / np.linalg.norm(orthogonal)
    low, high = -basins.axis[-1], basins.axis[-1]
    for _ in range(20):  # each round narrows [low, high] 32-fold: 2^-5 per round
        s = np.linspace(low, high, 33)
        sides = _escape_sides(X, anchor + s[:, None] * direction, direction, scale)
        if sides[0] >= 0 or sides[-1] <= 0:
            return None
        low, high = s[np.flatnonzero(sides < 0).max()], s[np.flatnonzero(sides > 0).min()]
        if np.nextafter(low, high) >= high:
            break
    start = anchor + 0.5 * (low + high) * direction
    starts = start + np.asarray(offsets)[:, None] * direction
    paths = _em_map_paths(X, starts, direction, 0.999 * np.sqrt(scale))
    return BoundaryEscape(tuple(offsets), paths, paths @ theta_hat / scale)


def _escape_sides(X, starts, direction, scale) -> np.ndarray:
    """+1 or −1: the side (+θ̂ or −θ̂) each start leaves for; 0 if it has not left within
    `ESCAPE_MAX_ITER` iterations of the EM map."""
    far = 0.5 * np.sqrt(scale)
    final = _em_map_paths(X, starts, direction, far)[:, -1] @ direction
    return np.where(np.abs(final) > far, np.sign(final), 0.0)


def _em_map_paths(X, starts, direction, far: float) -> np.ndarray:
    """θ_0 … θ_T of the EM map from each start, (S, T + 1, 2): until every θ_t is further
    than ``far`` from the boundary along ``direction`` (or T = `ESCAPE_MAX_ITER`)."""
    thetas = [np.asarray(starts, dtype=np.float64)]
    while len(thetas) <= ESCAPE_MAX_ITER and not (np.abs(thetas[-1] @ direction) > far).all():
        # the map of `symmetric_em_map`, θ ← (1/n) Σ x_n tanh⟨θ, x_n⟩, written out: tanh needs
        # no overflow guard, and this is ~20× faster for the thousands of steps taken here
        thetas.append(np.tanh(thetas[-1] @ X.T) @ X / len(X))
    return np.stack(thetas, axis=1)


# ---- Where EM ends up: three or more components (Jin et al.) ----

BEST, BAD, OTHER = "best", "bad", "other"  # where a restart ended (`RestartSummary.kinds`)


@dataclass(frozen=True)
class RestartSummary:
    """EM for the means of K equal spherical clusters from many random-from-data starts.

    Attributes
    ----------
    X : ndarray (n, D)
    centres : ndarray (K, D)
        The true centres.
    run : BatchedRun
        The restarts (`spherical_restarts`).
    outcomes : RestartOutcomes
        Compared with the best ℓ found: by the restarts or by EM from the true centres.
    best_means : ndarray (K, D)
        The means at that best ℓ.
    kinds : ndarray (S,) of str
        `BEST` (within the margin of the best ℓ), `BAD` (a bad local maximum) or `OTHER`
        (stopped elsewhere: a saddle, a component with no points, or not converged).
    shown_bad : int or None
        The restart whose bad configuration the page draws: one of the commonest (by ℓ),
        None when no restart ended at a bad local maximum.
    start_gradient_norm : float or None
        |∇ℓ| at that restart's start, to compare with the ≈ 0 at its end.
    """

    X: np.ndarray
    centres: np.ndarray
    run: BatchedRun
    outcomes: RestartOutcomes
    best_means: np.ndarray
    kinds: np.ndarray
    shown_bad: int | None
    start_gradient_norm: float | None

    def means(self, restart: int) -> np.ndarray:
        """The final means (K, D) of ``restart``."""
        return self.run.ends[restart].reshape(len(self.centres), -1)


def spherical_centres(settings: SphericalRestartSettings) -> np.ndarray:
    """(−R, R, D) in 1-D; K on a polygon, neighbours 2R apart, in 2-D."""
    r = settings.separation
    if settings.dimension == 1:
        return jin_centres_1d(r, FAR_FACTOR * r)
    return jin_centres_2d(settings.n_components, 2 * r)


def spherical_restart_summary(settings: SphericalRestartSettings) -> RestartSummary:
    """Data of ``settings`` (seed ``seed``), the restarts (seed (seed, 1)) and their outcomes."""
    centres = spherical_centres(settings)
    X = jin_sample(centres, N_PER_CLUSTER, seed=settings.seed)
    k = settings.n_components
    model = SphericalMeansMixture(k, 1.0)
    run = spherical_restarts(X, k, 1.0, settings.n_restarts, seed=[settings.seed, 1])
    truth = run_batch(model, X, centres.reshape(1, -1), max_iter=500, tol=1e-8)
    best_restart = int(run.log_likelihoods.argmax())
    if truth.log_likelihoods[0] > run.log_likelihoods[best_restart]:
        best, best_means = truth.log_likelihoods[0], truth.ends[0]
    else:
        best, best_means = run.log_likelihoods[best_restart], run.ends[best_restart]
    outcomes = classify_restarts(model, X, run, best=best)
    good = outcomes.gaps <= outcomes.margin * len(X)
    kinds = np.where(outcomes.bad_local_maximum, BAD, np.where(good, BEST, OTHER))
    shown = _commonest(run, outcomes, len(X))
    start_gradient = None
    if shown is not None:
        gradient = spherical_derivatives(model, X, run.starts[shown])[0]
        start_gradient = float(np.linalg.norm(gradient))
    means = best_means.reshape(k, -1)
    return RestartSummary(X, centres, run, outcomes, means, kinds, shown, start_gradient)


def _commonest(run: BatchedRun, outcomes: RestartOutcomes, n_samples: int) -> int | None:
    """The first restart of the largest group of bad ends with the same ℓ (to 0.01 nats
    per point: the same configuration up to the order of the means)."""
    bad = np.flatnonzero(outcomes.bad_local_maximum)
    if not len(bad):
        return None
    levels = np.round(run.log_likelihoods[bad] / n_samples, 2)
    _, first, counts = np.unique(levels, return_index=True, return_counts=True)
    return int(bad[first[counts.argmax()]])


# ---- Failure lab ----

COLLAPSE_MAX_ITER, COLLAPSE_TOL = 500, 1e-8  # every run of the singularity demo
TIGHT_TOL = 1e-10  # "Stopping too early": the tolerance of the run that has converged
SEPARATION_SAMPLES, SEPARATION_SEED = 1000, 0  # the two merging components


def _collapse_model(reg_covar: float = 0.0) -> GaussianMixture:
    return GaussianMixture(3, "full", reg_covar)


def collapse_run(position: float) -> History:
    """EM with reg_covar = 0 on the isolated-point sample from the start on that point: it
    stops 'singular' for every position offered (`ISOLATED_POSITIONS`)."""
    X = isolated_point_sample(position)
    return run_em(
        _collapse_model(),
        X,
        isolated_point_start(X, position),
        max_iter=COLLAPSE_MAX_ITER,
        tol=COLLAPSE_TOL,
    )


def _remedy_reg_covar(X, start, reg_covar: float) -> tuple[History, ...]:
    model = _collapse_model(reg_covar)
    return (run_em(model, X, start, max_iter=COLLAPSE_MAX_ITER, tol=COLLAPSE_TOL),)


def _remedy_restart(X, start, reg_covar: float) -> tuple[History, ...]:
    model = _collapse_model()
    return run_with_restarts(model, X, start, max_iter=COLLAPSE_MAX_ITER, tol=COLLAPSE_TOL)


REMEDY_PRIOR_STRENGTH = 0.3
"""MAP remedy's prior strength: enough to give the isolated point's component a width; at 1
the prior also drags it inwards, over hundreds of iterations."""


def _remedy_map(X, start, reg_covar: float) -> tuple[History, ...]:
    # MAP-EM: the prior's pseudo-points keep every variance away from 0 however few points
    # a component holds; reg_covar stays 0
    model = MapMStep(_collapse_model(), REMEDY_PRIOR_STRENGTH)
    return (run_em(model, X, start, max_iter=COLLAPSE_MAX_ITER, tol=COLLAPSE_TOL),)


SINGULARITY_REMEDIES = {
    "reg_covar": _remedy_reg_covar,
    "remove and restart the component": _remedy_restart,
    "MAP prior": _remedy_map,
}
"""Remedy name → how to run it: ``(X, start, reg_covar) -> the runs, in order`` (one, or one
per restart). Each runs from the collapse demo's own start; a new remedy is one more entry."""


def singularity_remedies(position: float, reg_covar: float) -> dict[str, tuple[History, ...]]:
    """Every remedy of `SINGULARITY_REMEDIES` on the collapse demo of ``position``."""
    X = isolated_point_sample(position)
    start = isolated_point_start(X, position)
    return {name: remedy(X, start, reg_covar) for name, remedy in SINGULARITY_REMEDIES.items()}


def iteration_budget(n_samples: int, n_components: int) -> int:
    """Iterations allowed to a run the lab continues past the step page's: ~1.5·10⁶ point ×
    component evaluations, between 100 and 1000 (a few tenths of a second)."""
    return int(np.clip(1_500_000 // max(n_samples * n_components, 1), 100, 1000))


def own_rate_study(history: History) -> tuple[RateStudy | None, str]:
    """`rate_study` of the step page's run (its model, data and start): (study, "") or
    (None, why there is no rate to measure)."""
    model, X = history.model, history.X
    budget = iteration_budget(len(X), model.n_components)
    try:
        return rate_study(model, X, history[0].params, max_iter=budget), ""
    except SingularParameters as error:
        return None, (
            f"This run has no limit to converge to: {error} Raise reg_covar, or choose "
            "another start, to measure its rate."
        )


def separation_sample(separation: float) -> np.ndarray:
    """`SEPARATION_SAMPLES` points from ½N(−d/2, 1) + ½N(d/2, 1), d = ``separation``: the same
    draws for every d (one seed), only the centres move."""
    x, _ = make_mixture_1d(
        SEPARATION_SAMPLES,
        (-separation / 2, separation / 2),
        (1.0, 1.0),
        (0.5, 0.5),
        seed=SEPARATION_SEED,
    )
    return x[:, None]


def separation_fit(separation: float) -> tuple[GaussianParams, float]:
    """(θ̂, the EM map's rate there) for a full two-component 1-D mixture on
    `separation_sample`, from its k-means start."""
    X, model = separation_sample(separation), GaussianMixture(2)
    limit, _ = em_fixed_point(model, X, model.init_params(X, "kmeans", seed=0))
    return limit, em_rate(free_jacobian(model, X, limit))


def separation_rates() -> np.ndarray:
    """The Jacobian's rate at θ̂ for every separation of `MERGE_SEPARATIONS`."""
    return np.array([separation_fit(d)[1] for d in MERGE_SEPARATIONS])


@dataclass(frozen=True)
class EarlyStop:
    """One run to a tight tolerance, and where a loose tolerance would have stopped it.

    Attributes
    ----------
    tight : History
        From the step page's start, to `TIGHT_TOL` (or the iteration budget).
    loose_tol : float
    loose_step : int
        The index in ``tight`` of the M-step at which a run with ``loose_tol`` stops (the
        same arithmetic up to there); the last step when it never would.
    """

    tight: History
    loose_tol: float
    loose_step: int

    @property
    def loose_params(self):
        return self.tight[self.loose_step].params

    @property
    def loose_iteration(self) -> int:
        return self.tight[self.loose_step].iteration

    @property
    def log_likelihood_gain(self) -> float:
        return self.tight[-1].log_likelihood - self.tight[self.loose_step].log_likelihood

    @property
    def mean_shift(self) -> float:
        """The largest distance a mean moves between the loose and the tight stop."""
        moved = self.tight.final_params.means - self.loose_params.means
        return float(np.linalg.norm(moved, axis=1).max())


def tight_run(history: History) -> History:
    """The step page's run (same model, data and start) again, to `TIGHT_TOL`."""
    model, X = history.model, history.X
    budget = iteration_budget(len(X), model.n_components)
    return run_em(model, X, history[0].params, max_iter=budget, tol=TIGHT_TOL)


def early_stop(tight: History, loose_tol: float) -> EarlyStop:
    """Where ``tight`` would have stopped with ``loose_tol``: the first iteration whose change
    of the objective per point is below it (the engine's rule, on the same iterates)."""
    model, X = tight.model, tight.X
    monitor = ConvergenceMonitor(loose_tol, len(X), model.objective)
    ends = [0, *(s.index for s in tight.steps if s.phase == "M")]  # step 0, then each M-step
    values = [monitor.value(tight[i]) for i in ends]
    settled = np.flatnonzero(monitor.settled(values[:-1], values[1:]))
    loose_step = ends[settled[0] + 1] if len(settled) else ends[-1]
    return EarlyStop(tight, loose_tol, loose_step)


# ---- Genetic linkage (Dempster, Laird & Rubin 1977) ----


def linkage_run(counts: tuple[int, int, int, int], start: float) -> History:
    """EM on the linkage ``counts`` from θ = ``start``, `LINKAGE_ITERATIONS` iterations (no
    early stop: the table shows the errors shrinking far below any tolerance). Raises
    `InvalidStart` for counts or a start that cannot be run."""
    model = GeneticLinkage(counts)
    return run_em(model, model.X, LinkageParams(start), max_iter=LINKAGE_ITERATIONS, tol=0)


# ---- probabilistic PCA ----

PPCA_MAX_ITER, PPCA_TOL = 500, 1e-10  # long enough to reach the closed form in every setting


@dataclass(frozen=True, eq=False)
class PPCARun:
    """EM for probabilistic PCA (one latent dimension) on generated data, and what it should
    reach: the closed-form maximum-likelihood solution and the direction the data came from."""

    history: History
    w_star: np.ndarray
    closed_form: PPCAParams


def ppca_run(settings: PPCASettings) -> PPCARun:
    X, w_star = ppca_sample(
        settings.n_samples, settings.dimension, settings.noise, seed=settings.seed
    )
    model = ProbabilisticPCA(1)
    history = run_em(
        model, X, settings.init, max_iter=PPCA_MAX_ITER, tol=PPCA_TOL, seed=settings.seed
    )
    return PPCARun(history, w_star, maximum_likelihood_params(X, 1))


# ---- "Missing data": a normal fitted to rows with blanks ----

MISSING_MAX_ITER, MISSING_TOL = 200, 1e-8


@dataclass(frozen=True, eq=False)
class MissingDataFit:
    """EM on data with missing values, and the quick answers it is compared with.

    Attributes
    ----------
    history : History
        The EM run of `MissingNormal` (its data: the rows that have at least one value).
    names : (str, str)
        The two columns' names.
    dropped : int
        Rows of the file with both values blank, left out (they say nothing about θ).
    complete_case, mean_imputed : NormalParams or None
        The moments of the complete rows (None: too few of them) and of the mean-filled data.
    truth : NormalParams or None
        The normal generated data came from (None for an upload).
    note : str
        What the run had to change, e.g. its start ('' when nothing).
    """

    history: History
    names: tuple[str, str]
    dropped: int
    complete_case: object
    mean_imputed: object
    truth: object
    note: str = ""


def read_missing_upload(raw: bytes) -> tuple[np.ndarray, tuple[str, str]]:
    """The first two numeric columns of an uploaded CSV, blanks read as NaN, and their names.

    Raises DataError (a sentence) when the file has fewer than two numeric columns.
    """
    columns = read_columns(raw)
    if len(columns) < 2:
        raise DataError(
            "This page fits two columns, but the file has "
            f"{counted(len(columns), 'numeric column')}: upload a CSV with two columns of "
            "numbers (blank cells allowed)."
        )
    points = read_points(raw, columns=columns[:2], allow_missing=True)
    return points, (columns[0], columns[1])


def missing_data_fit(settings: MissingSettings, raw: bytes | None = None) -> MissingDataFit:
    """Generate (or read from ``raw``) the data, drop rows with nothing observed, run EM.

    Raises DataError or InvalidStart, with a sentence, when the data cannot be fitted.
    """
    truth = None
    if settings.upload is None:
        sample = missing_sample(
            settings.n_samples, settings.share, settings.mechanism, settings.seed
        )
        X, names = sample.observed, ("x₁", "x₂")
        truth = NormalParams(sample.mean, sample.covariance)
    elif raw is None:
        raise DataError("That uploaded file is no longer available; please upload it again.")
    else:
        X, names = read_missing_upload(raw)
    seen = ~np.isnan(X).all(axis=1)
    X = X[seen]
    model, note = MissingNormal(), ""
    try:
        start = model.init_params(X, settings.init)
    except InvalidStart:
        if settings.init == "observed_moments":
            raise
        start = model.init_params(X, "observed_moments")
        note = (
            "Too few rows are complete for a start from them: EM started from the observed moments."
        )
    history = run_em(model, X, start, max_iter=MISSING_MAX_ITER, tol=MISSING_TOL)
    return MissingDataFit(
        history=history,
        names=names,
        dropped=int((~seen).sum()),
        complete_case=complete_case_estimate(X),
        mean_imputed=mean_imputation_estimate(X),
        truth=truth,
        note=note,
    )


# ---- hidden Markov model ----

HMM_MAX_ITER, HMM_TOL = 200, 1e-6
HMM_MAX_LENGTH = 100_000  # an uploaded series longer than this is refused (a run takes seconds)


def hmm_series(run: HMMRun, raw: bytes | None = None) -> np.ndarray:
    """The series of ``run``, shape (n_samples, 1): the seeded regime-switching series, or the
    uploaded column (`DataError` with the reason when it cannot be read)."""
    if run.source is None:
        return regime_switching_series(run.n_states, run.n_samples, seed=run.seed)[0]
    return load_data(run.source, raw)[:, :1]


def hmm_fit(X: np.ndarray, run: HMMRun) -> tuple[History | None, str]:
    """Baum–Welch on ``X`` from the start of ``run``: (history, "") or (None, why it cannot
    start)."""
    if len(X) > HMM_MAX_LENGTH:
        return None, (
            f"The series has {len(X):,} values; this page fits at most {HMM_MAX_LENGTH:,}. "
            "Upload a shorter series."
        )
    names = run.source.columns if run.source is not None else None
    # too few values, or values so large or small that the sums of squares overflow or
    # underflow (a positive reg_covar skips the mixture-only checks of zero width: the HMM's
    # own start says when there are too few distinct values)
    obstacle = fit_obstacle(X, run.n_states, reg_covar=1.0, names=names)
    if obstacle:
        return None, obstacle.replace("components", "states").replace("K ", "S ")
    model = GaussianHMM(run.n_states)
    try:
        init = model.init_params(X, run.init, seed=run.seed)
    except InvalidStart as error:
        return None, f"{error} Choose fewer states or another series."
    return run_em(model, X, init, max_iter=HMM_MAX_ITER, tol=HMM_TOL), ""
