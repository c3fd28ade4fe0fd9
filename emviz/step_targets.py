"""Where each stepping action moves the cursor over a recorded History (pure, no UI).

Actions are identified by short names; `ACTION_LABELS` gives the words on their buttons.
"""

from __future__ import annotations

ACTION_LABELS = {
    "e_step": "E-step",
    "m_step": "M-step",
    "iteration": "Full iteration",
    "converge": "Run to convergence",
    "back": "Back",
    "reset": "Reset",
}
ACTIONS = tuple(ACTION_LABELS)


def target_step(history, cursor: int, action: str) -> int | None:
    """The step index ``action`` moves to from ``cursor``, or None when it does not apply.

    "e_step" / "m_step" move one half-step, only if the next recorded half-step is of that
    kind; "iteration" moves to the end of the next M-step; "converge" to the last recorded
    step; "back" one half-step back; "reset" to the initial state.
    """
    last = len(history) - 1
    following = cursor + 1 if cursor < last else None
    if action in ("e_step", "m_step"):
        wanted = action[0].upper()
        return following if following is not None and history[following].phase == wanted else None
    if action == "iteration":
        return next((i for i in range(cursor + 1, last + 1) if history[i].phase == "M"), None)
    if action == "converge":
        return last if cursor < last else None
    if action == "back":
        return cursor - 1 if cursor > 0 else None
    if action == "reset":
        return 0 if cursor > 0 else None
    raise ValueError(f"Unknown action {action!r}; expected one of {ACTIONS}")


def step_targets(history, cursor: int) -> dict[str, int]:
    """Every action that applies at ``cursor``, mapped to the step index it moves to."""
    targets = {action: target_step(history, cursor, action) for action in ACTIONS}
    return {action: target for action, target in targets.items() if target is not None}
