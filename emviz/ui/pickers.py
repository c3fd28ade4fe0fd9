"""Sidebar pickers shared by the pages: the data, the Gaussian mixture, the two-mean start.

Every widget is bound to its setting (`emviz.ui.state.bind`), so a choice made on one page
holds on every page that shows it.
"""

from __future__ import annotations

from typing import NamedTuple

import streamlit as st

from emviz import History
from emviz.data import PRESETS, DataError, preset_names
from emviz.settings import (
    ANNEAL_STARTS,
    ANNEAL_STEPS,
    COVARIANCE_TYPES,
    DEFAULT_SOURCE,
    INIT_CHOICES,
    KMEANS_SIGMAS,
    LANDSCAPE_MEAN_RANGE,
    LANDSCAPE_N_RANGE,
    LANDSCAPE_VARIANCE_RANGE,
    LANDSCAPE_WEIGHT_RANGE,
    MAX_COMPONENTS,
    MAX_ITER_MAX,
    N_SAMPLES_RANGE,
    PRIOR_STRENGTHS,
    REG_COVAR_CHOICES,
    SEED_MAX,
    START_LIMIT,
    TEMPERATURES,
    TOL_CHOICES,
    UPLOAD,
    DataSource,
    LandscapeSettings,
    ModelSettings,
    Variant,
    landscape_settings_from,
    model_settings_from,
    preset_source,
)
from emviz.ui import state
from emviz.ui.cache import fit, load_data, upload_columns

INIT_LABELS = {name: label for label, name in INIT_CHOICES.values()}


class FittedChoice(NamedTuple):
    """The data and model the page shows, and EM's run on them (None, with the reason, when
    not even the previous data can be fitted)."""

    source: DataSource
    settings: ModelSettings
    history: History | None
    error: str


def pick_and_fit() -> FittedChoice:
    """The sidebar's data and model pickers, and EM's run on the chosen data.

    When the chosen data cannot be read or fitted, the page says why (with the fix) and shows
    the run of the last data EM did run on, saying so. Only data EM ran on becomes that
    fallback: data that merely reads is not enough.
    """
    choice = data_picker()
    settings = model_picker()
    history, error = fit(choice, settings) if choice is not None else (None, "")
    if history is not None:
        state.keep_good_data(choice)
        return FittedChoice(choice, settings, history, "")
    fallback = state.last_good_data(DEFAULT_SOURCE)
    if fallback == choice:
        return FittedChoice(choice, settings, None, error)
    previous, previous_error = fit(fallback, settings)
    if previous is None:
        return FittedChoice(fallback, settings, None, error or previous_error)
    if error:  # a choice that cannot be read has said why in the sidebar already
        st.error(error)
    st.caption(f"Still showing the previous data: {fallback.label()}.")
    return FittedChoice(fallback, settings, previous, "")


def data_picker() -> DataSource | None:
    """Sidebar data controls: the chosen data, or None when there is none yet or it cannot
    be read (the reason is shown under the controls)."""
    sidebar = st.sidebar
    sidebar.header("Data")
    choices = [*preset_names(), UPLOAD]
    choice = sidebar.selectbox(
        "Data set", choices, **state.bind("data", options=choices, then=_suggest_components)
    )
    if choice in PRESETS:
        sidebar.caption(PRESETS[choice].description)
        source, raw = _preset_source(sidebar, choice), None
    else:
        source, raw = upload_source(sidebar)
    if source is not None:
        try:
            load_data(source, raw)  # read here, so a file's problem shows next to its controls
        except DataError as error:
            sidebar.error(str(error))
            return None
    return source


def _suggest_components() -> None:
    """A new data set starts with its own number of clusters as K (the learner can change it)."""
    state.forget("k")


def _preset_source(sidebar, name: str) -> DataSource:
    if PRESETS[name].generated:
        low, high, step = N_SAMPLES_RANGE
        sidebar.slider(
            "Number of points", low, high, step=step, **state.bind("n", bounds=(low, high))
        )
        sidebar.number_input("Data seed", 0, SEED_MAX, **state.bind("seed", bounds=(0, SEED_MAX)))
    return preset_source(state.snapshot())


_COLUMN_PROMPTS = {  # max columns -> (before a file, the column picker, nothing picked)
    2: (
        "Upload a CSV file with one or two numeric columns.",
        "Columns (one → 1-D view, two → 2-D view)",
        "Pick one or two columns.",
    ),
    1: ("Upload a CSV file with a numeric column.", "Column", "Pick a column."),
}


def upload_source(
    sidebar, max_columns: int = 2, columns_key: str = "cols"
) -> tuple[DataSource | None, bytes | None]:
    """The uploader, the column picker (at most ``max_columns``, bound to ``columns_key``)
    and the standardise box: the uploaded data source and its bytes, or (None, None) with
    the reason shown."""
    before, label, none_picked = _COLUMN_PROMPTS[max_columns]
    uploaded = sidebar.file_uploader(
        "CSV file (a header row names the columns)", type=["csv", "txt"], key="upload"
    )
    if uploaded is not None:
        state.keep_upload(uploaded.name, uploaded.file_id, uploaded.getvalue())
    kept = state.kept_upload()
    if kept is None:
        sidebar.info(before)
        return None, None
    name, file_id, raw = kept
    if uploaded is None:
        sidebar.caption(f"Using **{name}**, uploaded earlier. Upload another file to replace it.")
    try:
        columns = upload_columns(file_id, raw)
    except DataError as error:
        sidebar.error(str(error))
        return None, None
    picked = sidebar.multiselect(
        label,
        columns,
        max_selections=max_columns,
        **state.bind(
            columns_key,
            fallback=columns[:max_columns],
            to_widget=lambda chosen: None if chosen is None else list(chosen),
            from_widget=tuple,
        ),
    )
    if not set(picked) <= set(columns):
        picked = columns[:max_columns]
    if not picked:
        sidebar.warning(none_picked)
        return None, None
    standardise = sidebar.checkbox(
        "Standardise columns",
        help="Subtract each column's mean and divide by its standard deviation: for "
        "values far too large or small for EM, or columns on very different scales.",
        **state.bind("std"),
    )
    source = DataSource(
        "upload", name, file_id=file_id, columns=tuple(picked), standardise=standardise
    )
    return source, raw


def model_picker() -> ModelSettings:
    """Sidebar model controls: K, covariance type, initialisation, reg_covar, tol, max_iter."""
    sidebar = st.sidebar
    sidebar.header("Model")
    sidebar.slider("Components K", 1, MAX_COMPONENTS, **state.bind("k", bounds=(1, MAX_COMPONENTS)))
    sidebar.selectbox(
        "Covariance type", COVARIANCE_TYPES, **state.bind("cov", options=COVARIANCE_TYPES)
    )
    inits = list(INIT_LABELS)
    sidebar.selectbox(
        "Initialisation", inits, format_func=INIT_LABELS.get, **state.bind("init", options=inits)
    )
    sidebar.number_input(
        "Initialisation seed", 0, SEED_MAX, **state.bind("iseed", bounds=(0, SEED_MAX))
    )
    sidebar.select_slider(
        "reg_covar (added to every variance)",
        REG_COVAR_CHOICES,
        format_func=lambda v: "0" if v == 0 else f"{v:.0e}",
        help="0 lets a component collapse onto a point, so that failure can be shown.",
        **state.bind("reg", options=REG_COVAR_CHOICES),
    )
    sidebar.select_slider(
        "Tolerance (change in ℓ per point)",
        TOL_CHOICES,
        format_func=lambda v: f"{v:.0e}",
        **state.bind("tol", options=TOL_CHOICES),
    )
    sidebar.number_input(
        "Maximum iterations", 1, MAX_ITER_MAX, **state.bind("iters", bounds=(1, MAX_ITER_MAX))
    )
    variant_picker(sidebar)
    return model_settings_from(state.snapshot())


def variant_picker(sidebar) -> None:
    """The EM variant, and the one control of the chosen variant."""
    variants = list(Variant)
    variant = sidebar.selectbox(
        "EM variant",
        variants,
        format_func=lambda v: v.label,
        help="Each changes the E-step's q; the M-step stays the exact maximiser for that q.",
        **state.bind("var", options=variants),
    )
    if variant is Variant.TEMPERED:
        sidebar.select_slider(
            "Temperature T of q ∝ (π_k N_k)^(1/T)",
            TEMPERATURES,
            format_func=lambda t: "0 (hard EM)" if t == 0 else f"{t:g}",
            help="T = 1 is EM; below 1 q sharpens, T = 0 is hard (classification) EM; any "
            "T ≠ 1 keeps q away from the posterior.",
            **state.bind("temp", options=TEMPERATURES),
        )
    elif variant is Variant.KMEANS:
        sidebar.select_slider(
            "Softness σ (× the data's spread)",
            KMEANS_SIGMAS,
            format_func=lambda s: "0 (k-means)" if s == 0 else f"{s:g}",
            help="Equal weights and one fixed σ² I for every component: EM of that mixture "
            "is soft k-means, and σ → 0 is Lloyd's k-means.",
            **state.bind("ksig", options=KMEANS_SIGMAS),
        )
    elif variant is Variant.STOCHASTIC:
        sidebar.number_input(
            "Seed of the sampled labels", 0, SEED_MAX, **state.bind("vseed", bounds=(0, SEED_MAX))
        )
    elif variant is Variant.MAP:
        sidebar.select_slider(
            "Strength of the prior",
            PRIOR_STRENGTHS,
            format_func=lambda v: f"{v:g}",
            help="Pseudo-points added to every weight and covariance (Dirichlet and "
            "Normal-inverse-Wishart priors scaled to the data); → 0 is plain EM.",
            **state.bind("pstr", options=PRIOR_STRENGTHS),
        )
    elif variant is Variant.ANNEALED:
        sidebar.select_slider(
            "Starting temperature",
            ANNEAL_STARTS,
            format_func=lambda t: f"{t:g}",
            help=f"T falls geometrically to 1 over {ANNEAL_STEPS} iterations; then plain EM.",
            **state.bind("t0", options=ANNEAL_STARTS),
        )


def landscape_data_picker() -> LandscapeSettings:
    """Sidebar controls of the two-mean sample: n, the true means, weight, variances, seed."""
    side = st.sidebar
    side.header("Data")
    side.slider(
        "Number of points n", *LANDSCAPE_N_RANGE, **state.bind("ln", bounds=LANDSCAPE_N_RANGE)
    )
    for name, label, bounds, step in (
        ("lm1", "True μ₁", LANDSCAPE_MEAN_RANGE, 0.1),
        ("lm2", "True μ₂", LANDSCAPE_MEAN_RANGE, 0.1),
        ("lw", "Weight w₁", LANDSCAPE_WEIGHT_RANGE, 0.05),
        ("lv1", "Variance v₁", LANDSCAPE_VARIANCE_RANGE, 0.1),
        ("lv2", "Variance v₂", LANDSCAPE_VARIANCE_RANGE, 0.1),
    ):
        side.slider(label, *bounds, step=step, **state.bind(name, bounds=bounds))
    side.number_input("Seed", 0, SEED_MAX, **state.bind("lseed", bounds=(0, SEED_MAX)))
    return landscape_settings_from(state.snapshot())


def set_start(start) -> None:
    """Move the two-mean start (e.g. to a clicked point or the saddle)."""
    state.put("m1", float(start[0]))
    state.put("m2", float(start[1]))


def start_inputs(left, right, step: float = 0.1) -> tuple[float, float]:
    """Number inputs for the two-mean start (μ1 in ``left``, μ2 in ``right``), shared by every
    page that has one."""
    bounds = (-START_LIMIT, START_LIMIT)
    return tuple(
        float(
            column.number_input(
                label, *bounds, step=step, format="%.3f", **state.bind(name, bounds=bounds)
            )
        )
        for column, label, name in ((left, "Start μ₁", "m1"), (right, "Start μ₂", "m2"))
    )
