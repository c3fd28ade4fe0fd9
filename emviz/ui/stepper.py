"""Stepping controls over a recorded History: buttons, scrubber and the status line.

Only the cursor (which step is shown) lives in st.session_state; EM never re-runs here.
"""

from __future__ import annotations

import streamlit as st

from emviz.plots.mixture import step_label
from emviz.stepper import ACTIONS, step_targets

CURSOR = "cursor"
_RUN_ID = "cursor_run"
_HELP = {
    "E-step": "Recompute the responsibilities with the parameters fixed.",
    "M-step": "Re-fit the parameters with the responsibilities fixed.",
    "Full iteration": "Go to the end of the next M-step.",
    "Run to convergence": "Jump to the last recorded step.",
    "Back": "Go back one half-step.",
    "Reset": "Back to the initial state.",
}


def _move_to(index: int) -> None:
    st.session_state[CURSOR] = index


def current_step(history, run_id) -> int:
    """The cursor for this run: back to 0 when the run changed, clamped to the record."""
    if st.session_state.get(_RUN_ID) != run_id:
        st.session_state[_RUN_ID] = run_id
        st.session_state[CURSOR] = 0
    cursor = min(max(int(st.session_state.get(CURSOR, 0)), 0), len(history) - 1)
    st.session_state[CURSOR] = cursor
    return cursor


def stepper_controls(history, run_id) -> int:
    """Draw the six buttons, the scrubber and the status line; return the shown step index."""
    cursor = current_step(history, run_id)
    columns = st.columns(len(ACTIONS))
    targets = step_targets(history, cursor)
    for column, action in zip(columns, ACTIONS):
        target = targets.get(action)
        column.button(
            action,
            key=f"step_{action}",
            disabled=target is None,
            help=_HELP[action],
            on_click=_move_to,
            args=(target,),
            width="stretch",
            type="primary" if action == "Full iteration" else "secondary",
        )
    st.slider("Scrub through every recorded half-step", 0, len(history) - 1, key=CURSOR)
    cursor = st.session_state[CURSOR]
    status_line(history, cursor)
    return cursor


def status_line(history, cursor: int) -> None:
    step = history[cursor]
    last = len(history) - 1
    where = (
        "initial state"
        if step.phase == "init"
        else (f"iteration {step.iteration}, {step_label(history, cursor)}")
    )
    with st.container(key="step-status"):
        st.markdown(
            f"**Step {cursor} of {last}** · {where} · log-likelihood {step.log_likelihood:.4f}"
        )
        if cursor == last:
            box = st.warning if history.stop_reason in ("singular", "non_finite") else st.success
            box(f"End of the run — {history.message}")
