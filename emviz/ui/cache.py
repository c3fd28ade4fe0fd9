"""Cached data loading and EM runs, keyed on small hashable settings, never on arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from emviz import GaussianMixture, History, run_em
from emviz.analysis.bound import bound_slice, m_step_iteration, two_mean_bound_grid
from emviz.analysis.gradient import (
    learning_rate_sweep,
    params_from_theta,
    plain_gradient_ascent,
    reparametrised_gradient_ascent,
    theta_from_params,
)
from emviz.analysis.landscape import critical_points, log_likelihood_grid
from emviz.analysis.paths import em_path, gradient_ascent_path, newton_path
from emviz.analysis.rates import em_map_jacobian, em_rate, observed_rate
from emviz.data import (
    DataError,
    load_preset,
    make_two_mean_sample,
    read_columns,
    read_points,
)
from emviz.models import OvershootingMStep, TwoMeanMixture, WeightlessEStep
from emviz.plots.mixture import make_em_animation, plot_log_likelihood_trace, plot_mixture
from emviz.stepper import step_targets


@dataclass(frozen=True)
class DataSource:
    """Which data: a preset (name, size, seed) or an upload (file id, chosen columns)."""

    kind: str  # "preset" | "upload"
    name: str
    n_samples: int | None = None
    seed: int = 0
    file_id: str | None = None
    columns: tuple[str, ...] = ()

    def label(self) -> str:
        if self.kind == "upload":
            return f"{self.name} — columns {', '.join(self.columns)}"
        size = f", {self.n_samples} points, seed {self.seed}" if self.n_samples else ""
        return f"{self.name}{size}"


@dataclass(frozen=True)
class ModelSettings:
    n_components: int = 2
    covariance_type: str = "full"
    init: str = "kmeans++"
    init_seed: int = 0
    reg_covar: float = 0.0
    tol: float = 1e-6
    max_iter: int = 100


@st.cache_data(max_entries=32, show_spinner=False)
def load_data(source: DataSource, _raw: bytes | None = None):
    """The data array (n_samples, n_features) of ``source``; uploads parse ``_raw`` once.

    ``_raw`` is not part of the cache key (leading underscore): the file id is.
    """
    if source.kind == "preset":
        return load_preset(source.name, n_samples=source.n_samples, seed=source.seed)
    if _raw is None:
        raise DataError("That uploaded file is no longer available; please upload it again.")
    return read_points(_raw, columns=list(source.columns))


@st.cache_data(max_entries=32, show_spinner=False)
def upload_columns(file_id: str, _raw: bytes) -> list[str]:
    return read_columns(_raw)


@st.cache_data(max_entries=16, show_spinner="Running EM…")
def fit(source: DataSource, settings: ModelSettings) -> tuple[History | None, str]:
    """One recorded EM run per (data, model settings, initialisation): (history, error)."""
    X = load_data(source)
    if X.shape[1] > 2:
        X = X[:, :2]
    try:
        model = GaussianMixture(settings.n_components, settings.covariance_type, settings.reg_covar)
        init = model.init_params(X, settings.init, seed=settings.init_seed)
        history = run_em(model, X, init, max_iter=settings.max_iter, tol=settings.tol)
    except ValueError as error:
        return None, str(error)
    return history, ""


@st.cache_data(max_entries=512, show_spinner=False)
def step_figures_json(
    source: DataSource, settings: ModelSettings, cursor: int, selected: int | None
) -> tuple[str, str]:
    """(step view, log-likelihood trace) of one step as Plotly JSON: stepping back and forth
    redraws from here instead of rebuilding the figures."""
    history, _ = fit(source, settings)
    return (
        plot_mixture(history, cursor, selected=selected).to_json(),
        plot_log_likelihood_trace(history, cursor).to_json(),
    )


def next_step_figures(
    source: DataSource, settings: ModelSettings, cursor: int, selected: int | None
) -> tuple[dict[str, int], dict[int, tuple[str, str]]]:
    """(moves, figures): where each stepping button leads from ``cursor``, and the
    step_figures_json of those steps, for the charts to draw before the server answers."""
    history, _ = fit(source, settings)
    moves = step_targets(history, cursor)
    figures = {
        target: step_figures_json(source, settings, target, selected)
        for target in sorted(set(moves.values()))
    }
    return moves, figures


@st.cache_resource(max_entries=8, show_spinner="Preparing the animation…")
def animation_figure(source: DataSource, settings: ModelSettings):
    """The Play figure, built once per run. A shared resource, not a copy: pickling hundreds
    of frames on every rerun would cost more than building them; nothing mutates it."""
    history, _ = fit(source, settings)
    return make_em_animation(history)


# ---- why EM works: any model of the protocol, optionally broken ----


BREAK_OVERSHOOT = "M-step: move the means past their optimum"
BREAK_WEIGHTS = "E-step: forget the mixing weights"


@dataclass(frozen=True)
class BoundRun:
    """Which run the "Why EM works" page shows: a Gaussian mixture on the step page's data
    and settings, or the two-mean mixture on the landscape's sample from ``start``; broken
    (``broken`` one of BREAK_OVERSHOOT, BREAK_WEIGHTS, with ``factor`` for the first) or not."""

    family: str  # "gaussian" | "two-mean"
    source: DataSource | None = None
    settings: ModelSettings | None = None
    start: tuple[float, float] = (-1.0, 4.0)
    broken: str = ""
    factor: float = 2.5

    def variant(self, model):
        if self.broken == BREAK_OVERSHOOT:
            return OvershootingMStep(model, self.factor)
        if self.broken == BREAK_WEIGHTS:
            return WeightlessEStep(model)
        return model


@st.cache_data(max_entries=16, show_spinner="Running EM…")
def bound_history(run: BoundRun) -> tuple[History | None, str]:
    """The recorded run of ``run``: (history, error)."""
    if run.family == "gaussian":
        base, error = fit(run.source, run.settings)
        if base is None or not run.broken:
            return base, error
        model, X, init = base.model, base.X, base[0].params  # the same start as the real run
        max_iter, tol = run.settings.max_iter, run.settings.tol
    else:
        landscape = LandscapeSettings()
        model, X = landscape.model(), landscape_sample(landscape)[:, None]
        init, max_iter, tol = model.params(*run.start), 200, 1e-8
    try:
        return run_em(run.variant(model), X, init, max_iter=max_iter, tol=tol), ""
    except ValueError as error:
        return None, str(error)


@st.cache_data(max_entries=128, show_spinner=False)
def bound_slice_of(run: BoundRun, cursor: int, direction: str, seed: int = 0):
    history, _ = bound_history(run)
    return bound_slice(history, cursor, direction, seed=seed)


@st.cache_data(max_entries=64, show_spinner="Computing the surfaces…")
def two_mean_bound_surfaces(run: BoundRun, cursor: int, resolution: int = 120):
    """The two-mean run's ℓ surface (the landscape page's, shared) and the bound under it for
    the iteration at ``cursor``: (μ1 axis, μ2 axis, ℓ grid, bound grid, θ_old, θ_new) with
    θ as (μ1, μ2, ℓ); None when there is no iteration there."""
    history, _ = bound_history(run)
    iteration = m_step_iteration(history, cursor)
    if iteration is None:
        return None
    mu1, mu2, log_likelihood = landscape_surface(LandscapeSettings(), resolution)
    model = getattr(history.model, "base", history.model)  # a broken variant's own model
    resp = history.responsibilities(iteration[0])
    bound = two_mean_bound_grid(model, history.X[:, 0], resp, mu1, mu2)
    old, new = (history[i] for i in iteration)
    thetas = [(*step.params.means[:, 0], step.log_likelihood) for step in (old, new)]
    return mu1, mu2, log_likelihood, bound, *thetas


# ---- the two-mean likelihood landscape ----


@dataclass(frozen=True)
class LandscapeSettings:
    """Data for the two-mean surface: n points from w1·N(μ1, v1) + (1−w1)·N(μ2, v2)."""

    n_samples: int = 92
    true_means: tuple[float, float] = (0.0, 2.5)
    weight: float = 0.3
    variances: tuple[float, float] = (1.0, 0.5)
    seed: int = 0

    def model(self) -> TwoMeanMixture:
        return TwoMeanMixture((self.weight, 1.0 - self.weight), self.variances)


@st.cache_data(max_entries=32, show_spinner=False)
def landscape_sample(settings: LandscapeSettings):
    return make_two_mean_sample(
        settings.n_samples,
        settings.true_means,
        (settings.weight, 1.0 - settings.weight),
        settings.variances,
        settings.seed,
    )


@st.cache_data(max_entries=16, show_spinner="Computing the surface…")
def landscape_surface(settings: LandscapeSettings, resolution: int = 120):
    """(μ1 grid, μ2 grid, ℓ grid) over the span of the data."""
    x = landscape_sample(settings)
    axis = np.linspace(x.min() - 0.5, x.max() + 0.5, resolution)
    return axis, axis, log_likelihood_grid(settings.model(), x, axis, axis)


@st.cache_data(max_entries=16, show_spinner="Finding the critical points…")
def landscape_critical_points(settings: LandscapeSettings):
    return critical_points(settings.model(), landscape_sample(settings))


@st.cache_data(max_entries=64, show_spinner=False)
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


@st.cache_data(max_entries=16, show_spinner=False)
def full_mixture_runs(learning_rate: float):
    """Plain and reparametrised ascent and EM on the default two-mean sample, full model."""
    x = make_two_mean_sample()
    start = params_from_theta(FULL_MIXTURE_START)
    em = run_em(GaussianMixture(2), x[:, None], start, max_iter=2000, tol=1e-8)
    return (
        plain_gradient_ascent(x, start, learning_rate=learning_rate),
        reparametrised_gradient_ascent(x, start, learning_rate=learning_rate, max_iter=2000),
        theta_from_params(em.final_params),
        em.n_iterations,
        em[-1].log_likelihood,
    )


@st.cache_data(max_entries=4, show_spinner="Sweeping learning rates…")
def full_mixture_sweep():
    x = make_two_mean_sample()
    return learning_rate_sweep(x, params_from_theta(FULL_MIXTURE_START), SWEEP_RATES)


@st.cache_data(max_entries=4, show_spinner=False)
def two_mean_rates():
    """EM's rate at the mode from the Jacobian and from the iterates; EM and Newton paths."""
    settings = LandscapeSettings()
    model, x = settings.model(), landscape_sample(settings)
    mode = np.array(landscape_critical_points(settings)[0].location)
    em = em_path(model, x, (mode[0] + 0.5, mode[1] - 0.5), max_iter=60, tol=0)
    newton = newton_path(model, x, (mode[0] + 0.5, mode[1] - 0.5))
    jacobian = em_map_jacobian(
        model,
        x[:, None],
        model.params(*em.end),
        to_vector=lambda p: p.means[:, 0],
        from_vector=lambda v: model.params(*v),
    )
    return em, newton, em.end, em_rate(jacobian), observed_rate(em.points, em.end)
