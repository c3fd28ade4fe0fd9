"""The genetic-linkage page's sections: the counts, the start, and DLR's table of iterates."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from emviz.analysis.linkage import RATIO_FLOOR, IterateTable
from emviz.models import GeneticLinkage, InvalidStart
from emviz.models.linkage import check_counts
from emviz.settings import LINKAGE_COUNT_MAX, LINKAGE_START_RANGE
from emviz.ui import state

COUNT_FIELDS = ("gy1", "gy2", "gy3", "gy4")
CELL_LABELS = ("y₁ — cell 1/2 + θ/4", "y₂ — cell (1 − θ)/4", "y₃ — cell (1 − θ)/4", "y₄ — cell θ/4")
REFUSED = "emviz_linkage_refused"  # why the last typed counts were refused, until a good change


def _stored_counts() -> tuple[int, ...]:
    return tuple(int(state.get(name)) for name in COUNT_FIELDS)


def _keep_counts_if_valid(name: str, previous: int) -> None:
    """After count ``name`` changed: keep it if the four counts can be fitted; otherwise put
    ``previous`` back and say why (the page goes on with the counts it had)."""
    typed = _stored_counts()
    try:
        check_counts(typed)
    except InvalidStart as error:
        state.put(name, previous)
        shown = ", ".join(str(y) for y in typed)
        st.session_state[REFUSED] = (
            f"Counts ({shown}) refused: {error} The previous counts are kept."
        )
    else:
        st.session_state.pop(REFUSED, None)


def counts_section() -> GeneticLinkage:
    """Four number inputs for the cell counts; the model of the counts in use.

    Counts that cannot be fitted are refused with the reason and the previous ones kept; a
    link whose counts are each valid but cannot be fitted together gets the defaults, named
    in the link notice.
    """
    counts = _stored_counts()
    try:
        model = GeneticLinkage(counts)
    except InvalidStart as error:
        state.note(f"linkage counts {counts} ({error})")
        for name in COUNT_FIELDS:
            state.forget(name)
        model = GeneticLinkage()
    for column, name, label in zip(st.columns(4), COUNT_FIELDS, CELL_LABELS):
        column.number_input(
            label,
            step=1,
            max_value=LINKAGE_COUNT_MAX,
            **state.bind(name, then=partial(_keep_counts_if_valid, name, state.get(name))),
        )
    refused = st.session_state.get(REFUSED)
    if refused:
        st.error(refused)
    return model


def start_input() -> float:
    """The start θ₀ of the run."""
    low, high = LINKAGE_START_RANGE
    return st.columns(4)[0].number_input(
        "Start θ₀",
        min_value=low,
        max_value=high,
        step=0.01,
        format="%.4f",
        help="DLR started from θ = 0.5.",
        **state.bind("gth", bounds=LINKAGE_START_RANGE),
    )


def iterate_section(table: IterateTable) -> None:
    """DLR's table: θ_t, θ_t − θ̂ and the ratio of successive errors; beside it, that ratio's
    limit as the fraction of missing information."""
    left, right = st.columns([3, 2])
    with left:
        st.dataframe(table_frame(table), key="linkage_table")
        st.caption(
            f"θ̂ = {table.mle:.12f}, the root of the score ℓ′(θ) = 0 in closed form. A ratio "
            f"is left out (—) where an error is below {RATIO_FLOOR:g}: there θ's own rounding "
            "(about 10⁻¹⁶) would make it noise."
        )
    with right:
        st.markdown(rate_sentence(table))
        st.markdown(information_lines(table))


def table_frame(table: IterateTable) -> pd.DataFrame:
    """The table as text, as DLR printed it: θ_t to nine decimals, the ratios to four, and
    "—" where a ratio is undefined (never a NaN)."""
    rows = table.rows()
    columns = list(rows)
    theta, error, ratio = columns[1:]
    text = {
        theta: [f"{value:.9f}" for value in rows[theta]],
        error: [f"{value:+.3e}" for value in rows[error]],
        ratio: ["—" if value is None else f"{value:.4f}" for value in rows[ratio]],
    }
    return pd.DataFrame(text, index=pd.Index(rows["t"], name="t"))


def rate_sentence(table: IterateTable) -> str:
    """What the ratio column settles at, and why: the fraction of missing information."""
    measured = table.measured_rate
    if measured is None:
        return (
            "The start is θ̂ itself, or EM reached it in one step (as when cell 1 is empty: "
            "then nothing is missing): there are no errors to compare. The fraction of missing "
            f"information at θ̂ is {table.missing_fraction:.4f}."
        )
    return (
        f"The ratio of successive errors settles at **{measured:.4f}**: near θ̂ each "
        "iteration shrinks the error by the same factor. Dempster, Laird & Rubin showed that "
        "factor is the **fraction of missing information**: the complete data (the split of "
        "cell 1) would carry information I_comp about θ, the observed counts carry I_obs, and "
        f"EM's rate is I_miss / I_comp = 1 − I_obs / I_comp = **{table.missing_fraction:.4f}**."
        " The more of the information is missing, the slower EM."
    )


def information_lines(table: IterateTable) -> str:
    """I_obs and I_comp at θ̂, their formulas and the rate they give (Markdown: a formula
    this long would not fit a phone's screen as LaTeX)."""
    return (
        "At θ̂, with π = θ̂ / (2 + θ̂) the posterior share of cell 1 in the θ/4 part:\n"
        f"- observed information I_obs = −ℓ″(θ̂) = y₁ / (2 + θ̂)² + (y₂ + y₃) / (1 − θ̂)² + "
        f"y₄ / θ̂² = **{table.observed_information:.3f}**\n"
        "- complete information I_comp = (y₁ π + y₄) / θ̂² + (y₂ + y₃) / (1 − θ̂)² = "
        f"**{table.complete_information:.3f}** (the split known: its expected counts)\n"
        f"- missing information I_comp − I_obs = 2 y₁ / (θ̂ (2 + θ̂)²) = "
        f"**{table.complete_information - table.observed_information:.3f}**\n"
        f"- EM's rate 1 − I_obs / I_comp = **{table.missing_fraction:.4f}**"
    )
