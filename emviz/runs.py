"""What the app's pages compute, as plain functions of their settings (no streamlit).

`emviz.ui.cache` wraps these in Streamlit caches keyed on the small settings objects of
`emviz.settings`; tests call them directly.
"""

from __future__ import annotations

import numpy as np

from emviz import GaussianMixture, History, run_em
from emviz.analysis.basins import two_mean_basin_map
from emviz.analysis.bound import m_step_iteration, two_mean_bound_grid
from emviz.analysis.gradient import (
    learning_rate_sweep,
    params_from_theta,
    plain_gradient_ascent,
    reparametrised_gradient_ascent,
    theta_from_params,
)
from emviz.analysis.landscape import critical_points, log_likelihood_grid, saddle_stall
from emviz.analysis.paths import em_path, gradient_ascent_path, newton_path
from emviz.analysis.rates import em_map_jacobian, em_rate, observed_rate
from emviz.analysis.restarts import (
    compare_initialisations,
    identical_start_run,
    label_switch_example,
    premature_ranking,
    run_restarts,
)
from emviz.data import DataError, load_preset, make_two_mean_sample, read_points
from emviz.data.checks import fit_obstacle, standardise
from emviz.models import InvalidStart, OvershootingMStep, WeightlessEStep
from emviz.models.two_means import TwoMeanMixture
from emviz.settings import BoundRun, BreakMode, DataSource, Family, LandscapeSettings, ModelSettings

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
    model = GaussianMixture(settings.n_components, settings.covariance_type, settings.reg_covar)
    try:
        init = model.init_params(X, settings.init, seed=settings.init_seed)
        return run_em(model, X, init, max_iter=settings.max_iter, tol=settings.tol), ""
    except InvalidStart as error:  # a start the checks above do not foresee
        return None, _start_failure(str(error))


def _start_failure(reason: str) -> str:
    """The fit's own reason, with the fix where a component has no width at the start."""
    if "positive definite" in reason or "collapsed" in reason:
        return (
            f"EM cannot start: {reason.removeprefix('Invalid initial parameters: ')} "
            "Raise reg_covar above 0, or choose fewer components or another initialisation."
        )
    return reason


# ---- where EM ends up: many restarts of the step page's mixture ----


def _mixture(settings: ModelSettings) -> GaussianMixture:
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


def pitfalls(X: np.ndarray, settings: ModelSettings, found):
    """The three pitfalls on the step page's data: (identical start, premature ranking,
    label switch between two of the restarts ``found`` (None when none switched))."""
    X, model = X[:, :SHOWN_FEATURES], _mixture(settings)
    return (
        identical_start_run(X, model, max_iter=settings.max_iter, tol=settings.tol),
        premature_ranking(X, model, n_restarts=PITFALL_RESTARTS, seed=settings.init_seed),
        label_switch_example(found),
    )


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
