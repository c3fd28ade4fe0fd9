"""Sidebar pickers for the data and the model, shared by every page that runs EM."""

from __future__ import annotations

import streamlit as st

from emviz.data import PRESETS, DataError, preset_is_generated, preset_names
from emviz.ui.cache import DataSource, ModelSettings, load_data, upload_columns

UPLOAD = "Upload a CSV file"
PRESET_SLUGS = {
    "blobs": "Well-separated blobs",
    "elongated": "Elongated clusters",
    "overlap": "Heavy overlap",
    "faithful": "Old Faithful (standardised)",
    "1d": "1-D two-component mixture",
}
INIT_LABELS = {
    "k-means++": "kmeans++",
    "k-means": "kmeans",
    "random points from the data": "random_from_data",
    "Bishop 9.8-style start (spread out)": "spread",
}
REG_COVAR_CHOICES = (0.0, 1e-6, 1e-4, 1e-3, 1e-2, 1e-1)
TOL_CHOICES = (1e-2, 1e-3, 1e-4, 1e-6, 1e-8, 1e-10)
_LAST_GOOD = "last_good_data_source"


def _apply_query_params() -> None:
    """On a fresh session, let ?preset=…&n=…&seed=…&k=… choose the starting view."""
    if st.session_state.get("_query_applied"):
        return
    st.session_state["_query_applied"] = True
    params = st.query_params
    slug = params.get("preset")
    if slug in PRESET_SLUGS:
        st.session_state["data_choice"] = PRESET_SLUGS[slug]
    for name, key, low, high in (
        ("n", "data_n", 20, 5000),
        ("seed", "data_seed", 0, 10**6),
        ("k", "model_k", 1, 8),
    ):
        value = params.get(name)
        if value is not None and value.isdigit() and low <= int(value) <= high:
            st.session_state[key] = int(value)


def data_picker() -> tuple[DataSource, object]:
    """Sidebar data controls. Returns (source, X) — the last good data if the new choice fails."""
    _apply_query_params()
    sidebar = st.sidebar
    sidebar.header("Data")
    choice = sidebar.selectbox(
        "Data set", [*preset_names(), UPLOAD], key="data_choice", on_change=_suggest_components
    )
    if choice in PRESETS:
        sidebar.caption(PRESETS[choice].description)
    if choice == UPLOAD:
        source, raw = _upload_source(sidebar)
    else:
        source, raw = _preset_source(sidebar, choice), None
    if source is not None:
        try:
            X = load_data(source, raw)
        except DataError as error:
            sidebar.error(str(error))
        else:
            st.session_state[_LAST_GOOD] = source
            return source, X
    fallback = st.session_state.get(_LAST_GOOD) or DataSource("preset", preset_names()[0], 500, 0)
    try:
        X = load_data(fallback)
    except DataError:
        fallback = DataSource("preset", preset_names()[0], 500, 0)
        X = load_data(fallback)
    sidebar.caption(f"Still showing the previous data: {fallback.label()}.")
    return fallback, X


def _suggest_components() -> None:
    """A new preset starts with its own number of clusters as K (the user can change it)."""
    preset = PRESETS.get(st.session_state.get("data_choice"))
    if preset is not None:
        st.session_state["model_k"] = preset.n_components


def _default_components() -> int:
    preset = PRESETS.get(st.session_state.get("data_choice"))
    return preset.n_components if preset is not None else 2


def _preset_source(sidebar, name: str) -> DataSource:
    if not preset_is_generated(name):
        return DataSource("preset", name)
    n_samples = sidebar.slider("Number of points", 20, 5000, 500, step=10, key="data_n")
    seed = sidebar.number_input("Data seed", 0, 10**6, 0, key="data_seed")
    return DataSource("preset", name, int(n_samples), int(seed))


def _upload_source(sidebar):
    uploaded = sidebar.file_uploader(
        "CSV file (a header row names the columns)", type=["csv", "txt"], key="data_upload"
    )
    if uploaded is None:
        sidebar.info("Upload a CSV file with one or two numeric columns.")
        return None, None
    raw = uploaded.getvalue()
    try:
        columns = upload_columns(uploaded.file_id, raw)
    except DataError as error:
        sidebar.error(str(error))
        return None, None
    picked = sidebar.multiselect(
        "Columns (one → 1-D view, two → 2-D view)",
        columns,
        default=columns[:2],
        max_selections=2,
        key=f"data_columns_{uploaded.file_id}",  # per file, so a new file starts fresh
    )
    if not picked:
        sidebar.warning("Pick one or two columns.")
        return None, None
    return DataSource("upload", uploaded.name, file_id=uploaded.file_id, columns=tuple(picked)), raw


def model_picker() -> ModelSettings:
    """Sidebar model controls: K, covariance type, initialisation, reg_covar, tol, max_iter."""
    sidebar = st.sidebar
    sidebar.header("Model")
    if "model_k" not in st.session_state:
        st.session_state["model_k"] = _default_components()
    n_components = sidebar.slider("Components K", 1, 8, key="model_k")
    covariance_type = sidebar.selectbox(
        "Covariance type", ["full", "diag", "spherical", "tied"], key="model_cov"
    )
    init_label = sidebar.selectbox("Initialisation", list(INIT_LABELS), key="model_init")
    init_seed = sidebar.number_input("Initialisation seed", 0, 10**6, 0, key="model_init_seed")
    reg_covar = sidebar.select_slider(
        "reg_covar (added to every variance)",
        REG_COVAR_CHOICES,
        value=0.0,
        key="model_reg",
        format_func=lambda v: "0" if v == 0 else f"{v:.0e}",
        help="0 lets a component collapse onto a point, so that failure can be shown.",
    )
    tol = sidebar.select_slider(
        "Tolerance (change in ℓ per point)",
        TOL_CHOICES,
        value=1e-6,
        key="model_tol",
        format_func=lambda v: f"{v:.0e}",
    )
    max_iter = sidebar.number_input("Maximum iterations", 1, 1000, 100, key="model_max_iter")
    return ModelSettings(
        n_components=int(n_components),
        covariance_type=covariance_type,
        init=INIT_LABELS[init_label],
        init_seed=int(init_seed),
        reg_covar=float(reg_covar),
        tol=float(tol),
        max_iter=int(max_iter),
    )
