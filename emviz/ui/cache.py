"""Cached data loading and EM runs, keyed on small hashable settings, never on arrays."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from emviz import GaussianMixture, History, run_em
from emviz.data import DataError, load_preset, read_columns, read_points
from emviz.plots.mixture import make_em_animation


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


@st.cache_resource(max_entries=8, show_spinner="Preparing the animation…")
def animation_figure(source: DataSource, settings: ModelSettings):
    """The Play figure, built once per run. A shared resource, not a copy: pickling hundreds
    of frames on every rerun would cost more than building them; nothing mutates it."""
    history, _ = fit(source, settings)
    return make_em_animation(history)
