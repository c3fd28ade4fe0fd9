"""Thin Streamlit caches over `emviz.runs`, keyed on the small settings of `emviz.settings`.

Immutable results (a History, figures' JSON, arrays made read-only) are cached as resources:
shared, not unpickled on every rerun. Every cache is bounded in entries and age, so a server's
memory stays bounded however many learners change settings.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import plotly.io as pio
import streamlit as st

from emviz import History, runs
from emviz.analysis.bound import bound_slice
from emviz.analysis.restarts import label_switch_example
from emviz.analysis.variants import (
    agreement_of,
    comparison_sentence,
    sentence_case,
    summarise,
)
from emviz.data import DataError, read_columns
from emviz.models import InvalidStart
from emviz.plots.basins import (
    plot_bad_share_by_components,
    plot_boundary_escape,
    plot_restart_configuration,
    plot_restart_log_likelihoods,
    plot_symmetric_basins,
)
from emviz.plots.failures import (
    plot_collapse_fit,
    plot_collapse_trace,
    plot_remedies,
    plot_separation_rates,
)
from emviz.plots.hmm import plot_emissions, plot_series_states, plot_transmat
from emviz.plots.mixture import make_em_animation, plot_log_likelihood_trace, plot_mixture
from emviz.plots.restarts import plot_solutions
from emviz.plots.selection import plot_chosen
from emviz.plots.variants import plot_final_fit, plot_objective_traces
from emviz.runs import separation_sample
from emviz.settings import (
    MERGE_SEPARATIONS,
    SPHERICAL_K_RANGE,
    BoundRun,
    DataSource,
    Family,
    HMMRun,
    LandscapeSettings,
    MissingSettings,
    ModelSettings,
    SelectionSettings,
    SphericalRestartSettings,
    SymmetricBasinSettings,
    Variant,
)
from emviz.step_targets import step_targets
from emviz.ui import state
from emviz.ui.step_controls import button_key

TTL = 3600  # seconds an entry may live
_RESOURCE = {"ttl": TTL, "show_spinner": False}


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)  # shared between reruns and sessions: nobody may edit it
    return array


@st.cache_resource(max_entries=32, **_RESOURCE)
def load_data(source: DataSource, _raw: bytes | None = None) -> np.ndarray:
    """The data of ``source``; an upload is parsed from ``_raw`` once (its file id is the key)."""
    return _read_only(runs.load_data(source, _raw))


@st.cache_data(max_entries=32, ttl=TTL, show_spinner=False)
def upload_columns(file_id: str, _raw: bytes) -> list[str]:
    return read_columns(_raw)


@st.cache_resource(max_entries=16, ttl=TTL, show_spinner="Running EM…")
def fit(source: DataSource, settings: ModelSettings) -> tuple[History | None, str]:
    """One recorded EM run per (data, model settings, initialisation): (history, error)."""
    try:
        return runs.fit(load_data(source, state.upload_bytes(source)), settings, source.columns)
    except DataError as error:
        return None, str(error)


@st.cache_resource(max_entries=512, **_RESOURCE)
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
    """(moves, figures): where each stepping button (by key) leads from ``cursor``, and the
    step_figures_json of those steps, for the charts to draw before the server answers."""
    history, _ = fit(source, settings)
    moves = {button_key(action): target for action, target in step_targets(history, cursor).items()}
    figures = {
        target: step_figures_json(source, settings, target, selected)
        for target in sorted(set(moves.values()))
    }
    return moves, figures


@st.cache_resource(max_entries=16, **_RESOURCE)
def known_labels(source: DataSource, settings: ModelSettings):
    """The step page's run beside the fit with the true labels given (or why there is none)."""
    history, _ = fit(source, settings)
    return runs.known_labels(history, source, settings)


@st.cache_resource(max_entries=8, ttl=TTL, show_spinner="Preparing the animation…")
def animation_json(source: DataSource, settings: ModelSettings) -> str:
    """The Play figure as Plotly JSON, frames included, built once per run."""
    history, _ = fit(source, settings)
    return pio.to_json(make_em_animation(history), validate=False)


@st.cache_resource(max_entries=8, ttl=TTL, show_spinner="Running plain EM beside the variant…")
def variant_comparison_json(source: DataSource, settings: ModelSettings):
    """(variant's fit, plain EM's fit, both ℓ traces) as Plotly JSON, and the sentence
    comparing them; None when either run could not start."""
    variant, _ = fit(source, settings)
    plain, _ = fit(source, settings.plain())
    if variant is None or plain is None:
        return None
    name = settings.variant.describe()
    figures = (
        plot_final_fit(variant, sentence_case(name)).to_json(),
        plot_final_fit(plain, "Plain EM").to_json(),
        plot_objective_traces({name: variant, "plain EM": plain}).to_json(),
    )
    summaries = summarise(name, variant), summarise("plain EM", plain)
    sentence = comparison_sentence(
        *summaries,
        len(plain.X),
        agreement_of(variant, plain),
        same_model=settings.variant.kind is not Variant.KMEANS,
    )
    return figures, sentence


# ---- why EM works ----


@st.cache_resource(max_entries=16, ttl=TTL, show_spinner="Running EM…")
def bound_history(run: BoundRun) -> tuple[History | None, str]:
    """The recorded run of ``run``: (history, error)."""
    base = None
    if run.family is Family.GAUSSIAN:
        base, error = fit(run.source, run.settings)
        if base is None:
            return None, error
    try:
        return runs.bound_history(run, base), ""
    except InvalidStart as error:  # a start the model rejects; any other error is a bug
        return None, str(error)


@st.cache_resource(max_entries=128, **_RESOURCE)
def bound_slice_of(run: BoundRun, cursor: int, direction: str, seed: int = 0):
    history, _ = bound_history(run)
    return bound_slice(history, cursor, direction, seed=seed)


@st.cache_resource(max_entries=64, ttl=TTL, show_spinner="Computing the surfaces…")
def two_mean_bound_surfaces(run: BoundRun, cursor: int):
    history, _ = bound_history(run)
    surface = landscape_surface(run.landscape)
    return runs.two_mean_bound_surface(history, cursor, run.landscape.model(), surface)


# ---- the two-mean likelihood landscape ----


@st.cache_resource(max_entries=32, **_RESOURCE)
def landscape_sample(settings: LandscapeSettings) -> np.ndarray:
    return _read_only(runs.landscape_sample(settings))


@st.cache_resource(max_entries=16, ttl=TTL, show_spinner="Computing the surface…")
def landscape_surface(settings: LandscapeSettings):
    return tuple(_read_only(array) for array in runs.landscape_surface(settings))


@st.cache_resource(max_entries=16, ttl=TTL, show_spinner="Finding the critical points…")
def landscape_critical_points(settings: LandscapeSettings):
    return runs.landscape_critical_points(settings)


@st.cache_resource(max_entries=16, ttl=TTL, show_spinner="Running EM from every start…")
def landscape_basins(settings: LandscapeSettings):
    return runs.landscape_basins(settings, landscape_critical_points(settings))


@st.cache_resource(max_entries=16, **_RESOURCE)
def landscape_saddle_stall(settings: LandscapeSettings):
    return runs.landscape_saddle_stall(settings, landscape_critical_points(settings))


@st.cache_resource(max_entries=64, **_RESOURCE)
def landscape_paths(settings: LandscapeSettings, start: tuple[float, float], learning_rate: float):
    return runs.landscape_paths(settings, start, learning_rate)


# ---- EM or gradient ascent? ----

full_mixture_runs = st.cache_resource(max_entries=16, **_RESOURCE)(runs.full_mixture_runs)
full_mixture_sweep = st.cache_resource(
    max_entries=1, ttl=TTL, show_spinner="Sweeping learning rates…"
)(runs.full_mixture_sweep)
two_mean_rates = st.cache_resource(max_entries=1, **_RESOURCE)(runs.two_mean_rates)
optimiser_comparison = st.cache_resource(max_entries=1, **_RESOURCE)(runs.optimiser_comparison)
surplus_runs = st.cache_resource(max_entries=64, **_RESOURCE)(runs.surplus_runs)


# ---- where EM ends up ----


def _frozen(result):
    """``result`` (a dataclass) with every array in it, nested dataclasses' too, read-only."""
    for value in vars(result).values():
        if isinstance(value, np.ndarray):
            _read_only(value)
        elif dataclasses.is_dataclass(value):
            _frozen(value)
    return result


@st.cache_resource(max_entries=16, ttl=TTL, show_spinner="Running EM from every start…")
def symmetric_basin_map(settings: SymmetricBasinSettings):
    return _frozen(runs.symmetric_basin_map(settings))


@st.cache_resource(max_entries=16, **_RESOURCE)
def boundary_escape(settings: SymmetricBasinSettings):
    escape = runs.boundary_escape(symmetric_basin_map(settings))
    return None if escape is None else _frozen(escape)


@st.cache_resource(max_entries=16, **_RESOURCE)
def symmetric_basin_figures(settings: SymmetricBasinSettings) -> tuple[str, str | None]:
    """(the basin map, the escape from its boundary or None) as Plotly JSON."""
    escape = boundary_escape(settings)
    return (
        plot_symmetric_basins(symmetric_basin_map(settings), escape).to_json(),
        None if escape is None else plot_boundary_escape(escape).to_json(),
    )


@st.cache_resource(max_entries=64, ttl=TTL, show_spinner="Restarting EM…")
def spherical_restart_summary(settings: SphericalRestartSettings):
    return _frozen(runs.spherical_restart_summary(settings))


def bad_share_by_components(settings: SphericalRestartSettings) -> dict[int, float]:
    """K -> the share of restarts at a bad local maximum, for 2-D clusters of every K
    offered, with the separation, restarts and seed of ``settings`` (each K cached alone,
    so the one shown above is not run twice)."""
    return {
        k: spherical_restart_summary(
            dataclasses.replace(settings, dimension=2, n_components=k)
        ).outcomes.share_bad
        for k in range(SPHERICAL_K_RANGE[0], SPHERICAL_K_RANGE[1] + 1)
    }


@st.cache_resource(max_entries=64, **_RESOURCE)
def spherical_restart_figures(settings: SphericalRestartSettings) -> tuple[str, str, str]:
    """(each restart's ℓ, the configuration shown, the bad share against K) as Plotly JSON."""
    summary = spherical_restart_summary(settings)
    current = settings.n_components if settings.dimension == 2 else None
    shares = bad_share_by_components(settings)
    return (
        plot_restart_log_likelihoods(summary).to_json(),
        plot_restart_configuration(summary).to_json(),
        plot_bad_share_by_components(shares, settings.separation, current).to_json(),
    )


@st.cache_resource(max_entries=8, ttl=TTL, show_spinner="Running the restarts…")
def restarts(source: DataSource, settings: ModelSettings, n_restarts: int):
    return runs.restarts(load_data(source, state.upload_bytes(source)), settings, n_restarts)


@st.cache_resource(max_entries=8, **_RESOURCE)
def solution_figures(
    source: DataSource, settings: ModelSettings, n_restarts: int, shown: tuple[int, ...]
) -> tuple[str, str]:
    """(one fit per solution: the restarts ``shown``, the best and the worst restart side by
    side) as Plotly JSON."""
    found = restarts(source, settings, n_restarts)
    X = load_data(source, state.upload_bytes(source))
    return (
        plot_solutions(found, X, shown).to_json(),
        plot_solutions(found, X, (found.best, found.worst)).to_json(),
    )


@st.cache_resource(max_entries=4, ttl=TTL, show_spinner="Comparing the initialisations…")
def initialisation_comparison(source: DataSource, settings: ModelSettings, n_restarts: int):
    X = load_data(source, state.upload_bytes(source))
    return runs.initialisation_comparison(X, settings, n_restarts)


@st.cache_resource(max_entries=8, ttl=TTL, show_spinner="Preparing the pitfalls…")
def pitfalls(source: DataSource, settings: ModelSettings):
    """The identical start and the premature ranking: they do not depend on the restarts."""
    return runs.pitfalls(load_data(source, state.upload_bytes(source)), settings)


@st.cache_resource(max_entries=8, **_RESOURCE)
def label_switch(source: DataSource, settings: ModelSettings, n_restarts: int):
    return label_switch_example(restarts(source, settings, n_restarts))


# ---- choosing K ----


@st.cache_resource(max_entries=64, ttl=TTL, show_spinner="Fitting K = 1 … 8…")
def selection_grid(source: DataSource, covariance_type: str, n_restarts: int, split_seed: int):
    """One covariance type's fits, cached alone: showing another type fits only that one."""
    X = load_data(source, state.upload_bytes(source))
    return runs.selection_grid(X, covariance_type, n_restarts, split_seed)


def model_selection(source: DataSource, settings: SelectionSettings):
    """The `Selection` of the covariance types ``settings`` shows."""
    grids = [
        selection_grid(source, t, settings.n_restarts, settings.split_seed)
        for t in settings.covariance_types
    ]
    n_samples = len(load_data(source, state.upload_bytes(source)))
    return runs.selection_of(n_samples, grids, settings.n_restarts, settings.split_seed)


@st.cache_resource(max_entries=16, **_RESOURCE)
def chosen_figure_json(
    source: DataSource, n_restarts: int, split_seed: int, chosen: tuple[str, int], criterion: str
) -> str:
    """The fit ``chosen`` = (covariance type, K) of the grid of these settings, drawn by
    `plot_chosen`, as Plotly JSON."""
    covariance_type, n_components = chosen
    grid = selection_grid(source, covariance_type, n_restarts, split_seed)
    fit = next(f for f in grid if f.n_components == n_components)
    history = runs.chosen_history(load_data(source, state.upload_bytes(source)), fit)
    return plot_chosen(history, fit, criterion).to_json()


# ---- failure lab ----

collapse_run = st.cache_resource(max_entries=8, **_RESOURCE)(runs.collapse_run)
singularity_remedies = st.cache_resource(
    max_entries=32, ttl=TTL, show_spinner="Running the remedies…"
)(runs.singularity_remedies)
separation_fit = st.cache_resource(max_entries=16, **_RESOURCE)(runs.separation_fit)


@st.cache_resource(max_entries=1, ttl=TTL, show_spinner="Measuring the rate at every distance…")
def separation_rates() -> np.ndarray:
    return _read_only(runs.separation_rates())


# The lab's own examples do not follow the sidebar: their figures are drawn once per choice,
# not again on every rerun (building a Plotly figure costs more than the run it shows).


@st.cache_resource(max_entries=64, **_RESOURCE)
def collapse_figures(position: float, iteration: int) -> tuple[str, str]:
    """(the fit at ``iteration``, the trace up to it) of the collapsing run, as Plotly JSON."""
    history = collapse_run(position)
    return (
        plot_collapse_fit(history, iteration).to_json(),
        plot_collapse_trace(history, iteration).to_json(),
    )


@st.cache_resource(max_entries=32, **_RESOURCE)
def remedies_figure(position: float, reg_covar: float) -> str:
    return plot_remedies(singularity_remedies(position, reg_covar)).to_json()


@st.cache_resource(max_entries=16, **_RESOURCE)
def separation_figure(separation: float) -> str:
    """EM's rate against the distance of two merging components, the fit at ``separation``."""
    params, _ = separation_fit(separation)
    return plot_separation_rates(
        MERGE_SEPARATIONS, separation_rates(), separation, separation_sample(separation), params
    ).to_json()


def _same_start(settings: ModelSettings) -> ModelSettings:
    """``settings`` with the stopping rule at its defaults: the runs the lab continues past
    the step page's depend only on its start, so a new tol or max_iter reuses them; and on
    plain EM, whatever the sidebar's variant."""
    plain = settings.plain()  # the lab studies plain EM, whatever the sidebar's variant
    return dataclasses.replace(plain, tol=ModelSettings.tol, max_iter=ModelSettings.max_iter)


def own_rate_study(source: DataSource, settings: ModelSettings):
    """`runs.own_rate_study` of the step page's run: (study, "") or (None, why not)."""
    return _own_rate_study(source, _same_start(settings))


@st.cache_resource(max_entries=8, ttl=TTL, show_spinner="Running EM to its limit…")
def _own_rate_study(source: DataSource, settings: ModelSettings):
    history, error = fit(source, settings)
    if history is None:
        return None, error
    study, reason = runs.own_rate_study(history)
    return (None, reason) if study is None else (_frozen(study), "")


def tight_run(source: DataSource, settings: ModelSettings) -> History | None:
    """The step page's run from its start to `runs.TIGHT_TOL` (None when it cannot start)."""
    return _tight_run(source, _same_start(settings))


@st.cache_resource(max_entries=8, ttl=TTL, show_spinner="Running EM to a tight tolerance…")
def _tight_run(source: DataSource, settings: ModelSettings) -> History | None:
    history, _ = fit(source, settings)
    return None if history is None else runs.tight_run(history)


linkage_run = st.cache_resource(max_entries=32, **_RESOURCE)(runs.linkage_run)
# ---- probabilistic PCA ----

ppca_run = st.cache_resource(max_entries=16, ttl=TTL, show_spinner="Running EM for PPCA…")(
    runs.ppca_run
)


@st.cache_resource(max_entries=16, ttl=TTL, show_spinner="Running EM…")
def missing_data_fit(settings: MissingSettings, _raw: bytes | None = None):
    """(fit, "") of "Missing data", or (None, why the data cannot be fitted); an upload's bytes
    ``_raw`` are keyed by its file id in ``settings``."""
    try:
        return runs.missing_data_fit(settings, _raw), ""
    except (DataError, InvalidStart) as error:
        return None, str(error)


# ---- hidden Markov model ----


@st.cache_resource(max_entries=16, ttl=TTL, show_spinner="Running Baum–Welch…")
def hmm_fit(run: HMMRun) -> tuple[History | None, str]:
    """One recorded Baum–Welch run per series and start: (history, error)."""
    try:
        X = runs.hmm_series(run, state.upload_bytes(run.source))
    except DataError as error:
        return None, str(error)
    return runs.hmm_fit(X, run)


@st.cache_resource(max_entries=256, **_RESOURCE)
def hmm_figures_json(run: HMMRun, cursor: int) -> tuple[str, str, str]:
    """(series and state probabilities, transition matrix, emission densities) of one step
    as Plotly JSON: stepping back and forth redraws from here."""
    history, _ = hmm_fit(run)
    return (
        plot_series_states(history, cursor).to_json(),
        plot_transmat(history[cursor].params).to_json(),
        plot_emissions(history, cursor).to_json(),
    )
