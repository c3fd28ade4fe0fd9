"""Stepping controls over a recorded History: buttons, scrubber and the status line.

The shown step is a setting like any other (`emviz.ui.state`): kept per run under a cursor
field ("step" for the Gaussian mixture run, "wstep" for another run of "Why EM works"), so it
survives page changes and travels in links. EM never re-runs here.
"""

from __future__ import annotations

import streamlit as st

from emviz.plots.mixture import step_label
from emviz.step_targets import ACTION_LABELS, step_targets
from emviz.ui import state

_HELP = {
    "e_step": "Recompute the responsibilities with the parameters fixed.",
    "m_step": "Re-fit the parameters with the responsibilities fixed.",
    "iteration": "Go to the end of the next M-step.",
    "converge": "Jump to the last recorded step.",
    "back": "Go back one half-step.",
    "reset": "Back to the initial state.",
}


def button_key(action: str) -> str:
    """The widget key of ``action``'s button (the live charts listen for clicks on it)."""
    return f"step_{action}"


def stepper_controls(history, run_id, field: str = "step") -> int:
    """Draw the six buttons, the scrubber and the status line; return the shown step index."""
    cursor = state.cursor(field, run_id, len(history))
    targets = step_targets(history, cursor)
    # one row that wraps where the screen is narrow: every label stays whole
    row = st.container(horizontal=True, gap="small", key="step-buttons")
    for action, label in ACTION_LABELS.items():
        target = targets.get(action)
        row.button(
            label,
            key=button_key(action),
            disabled=target is None,
            help=_HELP[action],
            on_click=state.put,
            args=(field, target),
            width="stretch",
            type="primary" if action == "iteration" else "secondary",
        )
    st.slider(
        "Scrub through every recorded half-step",
        0,
        max(len(history) - 1, 1),
        disabled=len(history) == 1,
        **state.bind(field, bounds=(0, len(history) - 1)),
    )
    cursor = state.get(field)
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
