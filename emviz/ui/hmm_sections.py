"""The parts of the hidden Markov model page: the series controls, the step views, the bound.

The run comes from `emviz.ui.cache.hmm_fit`; the figures from `emviz.plots.hmm`; the lower-bound
panels are the generic ones every History has (`emviz.ui.bound_panels`).
"""

from __future__ import annotations

import streamlit as st

from emviz.data import DataError
from emviz.plots.bound import plot_decomposition
from emviz.plots.hmm import thinning_note
from emviz.plots.mixture import plot_log_likelihood_trace
from emviz.settings import (
    HMM_INITS,
    HMM_LENGTH_RANGE,
    HMM_SOURCES,
    HMM_STATES_RANGE,
    SEED_MAX,
    HMMRun,
    hmm_run_from,
)
from emviz.ui import cache, state
from emviz.ui.bound_panels import audit_panel, decomposition_numbers
from emviz.ui.live_chart import live_chart
from emviz.ui.pickers import upload_source
from emviz.ui.step_controls import stepper_controls


def series_controls() -> tuple[HMMRun | None, str]:
    """The sidebar's series, number of states and start: (the run chosen, "") or (None, why
    not: no file yet, or one that cannot be read, said in the sidebar too)."""
    side = st.sidebar
    side.header("Series")
    sources = list(HMM_SOURCES)
    source_slug = side.selectbox(
        "Series", sources, format_func=HMM_SOURCES.get, **state.bind("hsrc", options=sources)
    )
    side.slider("Hidden states S", *HMM_STATES_RANGE, **state.bind("hk", bounds=HMM_STATES_RANGE))
    source = None
    if source_slug == "regime":
        low, high, step = HMM_LENGTH_RANGE
        side.slider("Length T", low, high, step=step, **state.bind("hn", bounds=(low, high)))
    else:
        source, raw = upload_source(side, max_columns=1, columns_key="hcol")
        if source is None:
            return None, "No series to fit yet: upload a CSV file and pick its column."
        try:
            cache.load_data(source, raw)  # read here, so a file's problem shows by its controls
        except DataError as error:
            side.error(str(error))
            return None, str(error)
    side.header("Start")
    inits = list(HMM_INITS)
    side.selectbox(
        "Initial parameters", inits, format_func=HMM_INITS.get, **state.bind("hinit", options=inits)
    )
    side.number_input(
        "Seed (series and random start)", 0, SEED_MAX, **state.bind("hseed", bounds=(0, SEED_MAX))
    )
    return hmm_run_from(state.snapshot(), source), ""


def fitted_run():
    """(run, history) the page shows: the chosen one, or — when it cannot be fitted — the
    last series EM ran on (an upload) or the regime-switching series, saying so."""
    run, problem = series_controls()
    if run is not None:
        history, problem = cache.hmm_fit(run)
        if history is not None:
            if run.source is not None:
                state.keep_good_data(run.source)
            return run, history
        st.error(problem)
    fallback = _fallback(run)
    history, _ = cache.hmm_fit(fallback)
    if run is None:
        st.info(problem)
    what = fallback.source.label() if fallback.source else HMM_SOURCES["regime"].lower()
    st.caption(f"Showing the {what} meanwhile.")
    return fallback, history


def _fallback(run: HMMRun | None) -> HMMRun:
    """The last uploaded series EM ran on, else the regime-switching series, with the chosen
    number of states and start when there is one (both can be fitted)."""
    chosen = run if run is not None else hmm_run_from(state.snapshot())
    kept = state.last_good_data(None)
    source = kept if kept is not None and kept.kind == "upload" else None
    if source is not None and cache.hmm_fit(HMMRun(**{**vars(chosen), "source": source}))[0]:
        return HMMRun(**{**vars(chosen), "source": source})
    return HMMRun(**{**vars(chosen), "source": None})


def step_views(run: HMMRun, history) -> int:
    """Step controls, the series over its state probabilities, A and the emission densities;
    returns the shown step."""
    cursor = stepper_controls(history, run, "hstep")
    series, transmat, emissions = cache.hmm_figures_json(run, cursor)
    live_chart(series, key="hmm_series_chart")
    note = thinning_note(len(history.X))
    st.caption(
        "Top: the series, each step coloured by q(z_t), the state probabilities the last E-step "
        "computed (uniform at the start). Below: those probabilities stacked, one colour per "
        f"state: the E-step's forward–backward output.{f' ({note})' if note else ''}"
    )
    left, right = st.columns(2)
    with left:
        live_chart(transmat, key="hmm_transmat_chart")
    with right:
        live_chart(emissions, key="hmm_emission_chart")
    return cursor


def bound_views(history, cursor: int) -> None:
    """ℓ per half-step, ℓ = ELBO + KL at the shown step, and the monotonicity audit."""
    live_chart(plot_log_likelihood_trace(history, cursor), key="hmm_ll_chart")
    decomposition_numbers(history, cursor)
    live_chart(plot_decomposition(history, cursor), key="hmm_bound_chart")
    audit_panel(history)
