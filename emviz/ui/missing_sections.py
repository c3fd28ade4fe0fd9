"""The sections of "Missing data": its sidebar, the filled-in view and the comparison table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from emviz.analysis.missing import summary_row
from emviz.plots.missing import plot_missing_fit
from emviz.settings import (
    MISSING_INITS,
    MISSING_MECHANISMS,
    MISSING_N_RANGE,
    MISSING_SHARE_RANGE,
    SEED_MAX,
    MissingSettings,
    missing_settings_from,
)
from emviz.ui import cache, state
from emviz.ui.live_chart import live_chart

_MECHANISM_LABELS = {
    "MCAR": "MCAR: completely at random (x₁ or x₂)",
    "MAR": "MAR: x₂ missing more often when x₁ is large",
}
_INIT_LABELS = {
    "observed_moments": "observed moments (no correlation)",
    "complete_cases": "complete cases only",
}


def missing_settings() -> MissingSettings:
    """The sidebar's data and start controls; the settings they choose."""
    sidebar = st.sidebar
    sidebar.header("Data")
    uses_upload = sidebar.toggle(
        "Use an uploaded CSV file",
        help="Two numeric columns; blank cells (or NA, nan, ?) are missing values.",
        **state.bind("miup"),
    )
    file_id = _upload(sidebar) if uses_upload else None
    if file_id is None:
        _generated_data_controls(sidebar)
    sidebar.radio(
        "EM starts from",
        list(MISSING_INITS.values()),
        format_func=_INIT_LABELS.__getitem__,
        **state.bind("miinit", options=list(MISSING_INITS.values())),
    )
    return missing_settings_from(state.snapshot(), file_id)


def _generated_data_controls(sidebar) -> None:
    sidebar.radio(
        "How values go missing",
        list(MISSING_MECHANISMS.values()),
        format_func=_MECHANISM_LABELS.__getitem__,
        **state.bind("mimech", options=list(MISSING_MECHANISMS.values())),
    )
    sidebar.slider(
        "Share of rows with a missing value",
        *MISSING_SHARE_RANGE,
        step=0.05,
        **state.bind("mishare", bounds=MISSING_SHARE_RANGE),
    )
    low, high, step = MISSING_N_RANGE
    sidebar.slider(
        "Number of rows", low, high, step=step, **state.bind("mipts", bounds=(low, high))
    )
    sidebar.number_input("Data seed", 0, SEED_MAX, **state.bind("miseed", bounds=(0, SEED_MAX)))


def _upload(sidebar) -> str | None:
    """The file id of the kept upload (a new file is kept only if EM can fit it), or None."""
    uploaded = sidebar.file_uploader(
        "CSV file, two numeric columns (blank cells allowed)",
        type=["csv", "txt"],
        key="miupload",
    )
    kept = state.kept_upload(state.MISSING_UPLOAD_FILE)
    if uploaded is not None and (kept is None or kept[1] != uploaded.file_id):
        raw = uploaded.getvalue()
        _, error = cache.missing_data_fit(MissingSettings(upload=uploaded.file_id), raw)
        if error:
            keeps = " The page keeps the data it showed before." if kept else ""
            sidebar.error(f"{uploaded.name}: {error}{keeps}")
        else:
            state.keep_upload(uploaded.name, uploaded.file_id, raw, state.MISSING_UPLOAD_FILE)
            kept = state.kept_upload(state.MISSING_UPLOAD_FILE)
    if kept is None:
        sidebar.info("Upload a CSV file; until then the page shows generated data.")
        return None
    if uploaded is None or uploaded.file_id != kept[1]:
        sidebar.caption(f"Using **{kept[0]}**, uploaded earlier.")
    return kept[1]


def fitted(settings: MissingSettings):
    """The cached fit of ``settings`` (None after an error box saying why)."""
    raw = None
    if settings.upload is not None:
        raw = state.kept_upload(state.MISSING_UPLOAD_FILE)[2]
    fit, error = cache.missing_data_fit(settings, raw)
    if fit is None:
        st.error(f"Cannot fit these data: {error}")
    return fit


def data_notes(fit) -> None:
    """What the page did to the data or the start before EM ran, if anything."""
    if fit.dropped:
        rows = "row" if fit.dropped == 1 else "rows"
        st.info(
            f"{fit.dropped} {rows} with both values blank left out: they say nothing about μ "
            "or Σ (their contribution to ℓ is 0)."
        )
    if fit.note:
        st.info(fit.note)


_CAPTION = (
    "Blue: complete rows. Vermillion ticks on the grey strips: rows missing {y} (bottom, at "
    "their {x}) or {x} (left, at their {y}); each line runs to the value the shown q fills in, "
    "E[x_mis | x_obs, θ] — step through and watch the fill-ins move with θ. Black: EM's normal "
    "at this step (1σ and 2σ); the others' ellipses are 2σ."
)


def fill_in_view(fit, cursor: int) -> None:
    """The rows and the fill-ins of the shown step, with the four ellipses."""
    live_chart(plot_missing_fit(fit, cursor), key="mi_chart")
    x_name, y_name = fit.names
    st.caption(_CAPTION.format(x=x_name, y=y_name))


def comparison_table(fit, cursor: int) -> pd.DataFrame:
    """Means, variances and correlation: the truth (generated data), EM at the shown step and
    at the end, and the two quick answers; "—" where there is no estimate."""
    rows = {}
    if fit.truth is not None:
        rows["truth"] = summary_row(fit.truth)
    rows[f"EM, step {cursor}"] = summary_row(fit.history[cursor].params)
    rows["EM, last step"] = summary_row(fit.history.final_params)
    rows["complete cases only"] = summary_row(fit.complete_case)
    rows["mean imputation"] = summary_row(fit.mean_imputed)
    frame = pd.DataFrame.from_dict(rows, orient="index")
    return frame.map(lambda v: "—" if v is None or pd.isna(v) else f"{v:.3f}")


def comparison_section(fit, cursor: int) -> None:
    frame = comparison_table(fit, cursor)
    st.dataframe(frame, key="mi_table")
    if fit.complete_case is None:
        st.caption("Complete cases only: too few rows have no missing value for an estimate.")
    st.markdown(
        "**Complete cases only** throws rows away: under MCAR it is merely less precise, under "
        "MAR the kept rows are not like the dropped ones (here: small x₁, and so small x₂), so "
        "its means are biased. **Mean imputation** puts every missing value at the centre: the "
        "variances shrink and the correlation fades. **EM** uses every observed value and "
        "fills in what the observed ones say about the missing ones, with its uncertainty "
        "(the conditional covariance), so it maximises the likelihood of what was observed. "
        "From a start with no correlation its first E-step fills in the column means, as mean "
        "imputation does; the later E-steps use the correlation the M-steps find."
    )
