"""The parts of "Choosing K": its controls, what each criterion chooses, the fits that failed."""

from __future__ import annotations

from collections import defaultdict

import streamlit as st

from emviz import runs
from emviz.analysis.selection import DEFAULT_REG_COVAR, K_VALUES
from emviz.engine import counted
from emviz.plots.mixture import sample_note
from emviz.plots.selection import CRITERION_NAMES, plot_criterion, plot_held_out
from emviz.settings import (
    COVARIANCE_TYPES,
    CRITERION_CHOICES,
    DEFAULT_SOURCE,
    SEED_MAX,
    SELECTION_RESTARTS_RANGE,
    DataSource,
    SelectionSettings,
    selection_settings_from,
)
from emviz.ui import cache, state
from emviz.ui.live_chart import live_chart
from emviz.ui.pickers import data_picker


def criteria_section():
    """The data, the controls, the criterion against K beside the chosen model, and the fits
    that failed: the `Selection` shown, or None (with the reason) when there is none."""
    source = selection_data()
    if source is None:
        st.info("Choose a data set in the sidebar that a mixture can be fitted to.")
        return None
    settings = selection_controls()
    if not settings.covariance_types:
        st.warning("Pick at least one covariance type.")
        return None
    selection = cache.model_selection(source, settings)
    chosen = selection.chosen(settings.criterion, settings.covariance_types)
    note = failures_note(selection.fits)
    if chosen is None:
        st.error(f"No mixture could be fitted to this data. {note}")
        return None
    st.markdown(f"Chosen: {choices_sentence(selection, settings)}.")
    left, right = st.columns([3, 2])
    with left:
        live_chart(plot_criterion(selection, settings.criterion), key="sel_criterion_chart")
    with right:
        cell = (chosen.covariance_type, chosen.n_components)
        figure = cache.chosen_figure_json(
            source, settings.n_restarts, settings.split_seed, cell, settings.criterion
        )
        live_chart(figure, key="sel_chosen_chart")
    drawn = sample_note(selection.n_samples)
    one_dimensional = (
        " In 1-D, full, diag and spherical covariances are the same model: their lines coincide."
        if chosen.params.n_features == 1
        else ""
    )
    st.caption(
        "Each covariance type's lowest value is ringed, the lowest of all starred and drawn on "
        f"the right{f' ({drawn})' if drawn else ''}. {fits_note(selection, settings)}"
        f"{one_dimensional}"
    )
    if note:
        st.warning(note)
    return selection


def held_out_section(selection) -> None:
    live_chart(plot_held_out(selection), key="sel_heldout_chart")
    st.caption("Solid: training points; dashed: held out; each held-out maximum ringed.")


def selection_data() -> DataSource | None:
    """The sidebar's data; when it cannot be fitted at all, the reason, and the last data EM
    ran on instead, saying so (None when that cannot be fitted either)."""
    choice = data_picker()
    problem = "" if choice is None else _obstacle(choice)
    if choice is not None and not problem:
        state.keep_good_data(choice)
        return choice
    if problem:
        st.error(problem)
    fallback = state.last_good_data(DEFAULT_SOURCE)
    if fallback == choice or _obstacle(fallback):
        return None
    st.caption(f"Still showing the previous data: {fallback.label()}.")
    return fallback


def _obstacle(source) -> str | None:
    X = cache.load_data(source, state.upload_bytes(source))
    return runs.selection_obstacle(X, source.columns)


def selection_controls() -> SelectionSettings:
    """Restarts per fit and the split's seed (they decide the fits), the criterion and the
    covariance types drawn (they only choose what is shown)."""
    left, middle, right = st.columns([2, 2, 3])
    left.slider(
        "Restarts per fit (best kept)",
        *SELECTION_RESTARTS_RANGE,
        **state.bind("sr", bounds=SELECTION_RESTARTS_RANGE),
    )
    middle.number_input(
        "Held-out split seed", 0, SEED_MAX, **state.bind("sseed", bounds=(0, SEED_MAX))
    )
    right.radio(
        "Criterion",
        CRITERION_CHOICES,
        format_func=CRITERION_NAMES.get,
        horizontal=True,
        **state.bind("scrit", options=CRITERION_CHOICES),
    )
    st.multiselect(
        "Covariance types shown",
        COVARIANCE_TYPES,
        **state.bind(
            "scov",
            to_widget=lambda chosen: None if chosen is None else list(chosen),
            from_widget=lambda picked: tuple(t for t in COVARIANCE_TYPES if t in picked),
        ),
    )
    return selection_settings_from(state.snapshot())


def choices_sentence(selection, settings: SelectionSettings) -> str:
    """What each criterion chooses among the shown types, the shown criterion's first."""
    order = sorted(CRITERION_CHOICES, key=lambda c: c != settings.criterion)
    parts = []
    for criterion in order:
        fit = selection.chosen(criterion, settings.covariance_types)
        name = CRITERION_NAMES[criterion]
        parts.append(f"{name} → K = {fit.n_components}, {fit.covariance_type}")
    first, *others = parts
    return f"**{first}** (also {', '.join(others)})"


def fits_note(selection, settings: SelectionSettings) -> str:
    """How the grid was fitted, for a caption."""
    return (
        f"{counted(len(K_VALUES) * len(settings.covariance_types), 'fit')} on "
        f"{selection.n_samples} points, each the best of "
        f"{counted(settings.n_restarts, 'k-means++ restart')} (seeds 0 – "
        f"{settings.n_restarts - 1}), tol = 1e-6, at most 100 iterations, reg_covar = "
        f"{DEFAULT_REG_COVAR:g} (scikit-learn's default) added to every variance."
    )


def failures_note(fits) -> str:
    """The fits that failed, grouped by reason: '' when none did."""
    by_reason = defaultdict(list)
    for fit in fits:
        if fit.failure:
            by_reason[fit.failure].append(fit)
    lines = []
    for reason, group in by_reason.items():
        cells = ", ".join(f"{f.covariance_type} K = {f.n_components}" for f in group)
        lines.append(f"- {cells}: {reason.rstrip('.')}.")
    if not lines:
        return ""
    return "Not every fit could be made; these are left out of the charts:\n" + "\n".join(lines)
