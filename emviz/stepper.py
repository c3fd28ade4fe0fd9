"""Where each stepping control moves the cursor over a recorded History (pure, no UI)."""

from __future__ import annotations

ACTIONS = ("E-step", "M-step", "Full iteration", "Run to convergence", "Back", "Reset")


def target_step(history, cursor: int, action: str) -> int | None:
    """The step index ``action`` moves to from ``cursor``, or None when it does not apply.

    E-step / M-step move one half-step, only if the next recorded half-step is of that kind;
    Full iteration moves to the end of the next M-step; Run to convergence to the last
    recorded step; Back one half-step back; Reset to the initial state.
    """
    last = len(history) - 1
    following = cursor + 1 if cursor < last else None
    if action in ("E-step", "M-step"):
        wanted = action[0]
        return following if following is not None and history[following].phase == wanted else None
    if action == "Full iteration":
        return next((i for i in range(cursor + 1, last + 1) if history[i].phase == "M"), None)
    if action == "Run to convergence":
        return last if cursor < last else None
    if action == "Back":
        return cursor - 1 if cursor > 0 else None
    if action == "Reset":
        return 0 if cursor > 0 else None
    raise ValueError(f"Unknown action {action!r}; expected one of {ACTIONS}")


def step_targets(history, cursor: int) -> dict[str, int]:
    """Every action that applies at ``cursor``, mapped to the step index it moves to."""
    targets = {action: target_step(history, cursor, action) for action in ACTIONS}
    return {action: target for action, target in targets.items() if target is not None}
