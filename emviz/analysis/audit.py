"""The monotonicity audit: does every EM iteration keep ℓ(θ) from falling, and if not, why?

EM's guarantee is a chain of three links per iteration,
ℓ(θ_old) = L(q, θ_old) ≤ L(q, θ_new) ≤ ℓ(θ_new):
the E-step closes the gap (KL = 0 after it), the M-step raises the bound, and the bound lies
below ℓ. The audit reads each link from the recorded History, so a broken variant shows which
link gave way.

A run that climbs another objective (MAP-EM: the log posterior ℓ + log p(θ)) is audited on
that objective, with the bound ELBO + log p(θ) (`emviz.convergence.ConvergenceMonitor.bound`):
log p(θ) does not depend on q, so the same chain holds with it added to every term.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emviz.history import History


@dataclass(frozen=True)
class AuditRow:
    """One iteration: its E-step and M-step indices, the objective before and after (ℓ, or
    the log posterior for MAP-EM), and the three links.

    ``before`` is the objective at the step preceding the E-step (the previous M-step or the
    initial state).
    """

    iteration: int
    e_step: int
    m_step: int
    before: float
    after: float
    gap_closed: bool  # KL(q ‖ p(Z | X, θ_old)) = 0 after the E-step
    bound_raised: bool  # L(q, θ_new) ≥ L(q, θ_old)  (+ log p(θ) on both sides for MAP-EM)
    ok: bool  # ℓ(θ_new) ≥ ℓ(θ_old)  (the objective the run climbs)
    cause: str

    @property
    def change(self) -> float:
        return self.after - self.before


def monotonicity_audit(history: History) -> list[AuditRow]:
    """One AuditRow per completed iteration of ``history``, on the objective it climbs.

    What counts as a decrease is the run's `emviz.convergence.ConvergenceMonitor` decision
    (rounding is not a decrease); the cause of a decrease is the one the engine recorded in
    ``history.drops``.
    """
    monitor = history.monitor
    causes = {drop.step: drop.cause for drop in history.drops}
    rows = []
    for m_step in (step for step in history.steps if step.phase == "M"):
        e_step = history[m_step.index - 1]
        before, after = monitor.value(history[m_step.index - 2]), monitor.value(m_step)
        ok = not monitor.fell(before, after)
        rows.append(
            AuditRow(
                iteration=m_step.iteration,
                e_step=e_step.index,
                m_step=m_step.index,
                before=before,
                after=after,
                gap_closed=monitor.negligible(e_step.kl, before),
                bound_raised=not monitor.fell(
                    monitor.bound(e_step), monitor.bound(m_step), scale=before
                ),
                ok=ok,
                cause="" if ok else causes.get(m_step.index, "unexplained"),
            )
        )
    return rows


def audit_table(rows: list[AuditRow], symbol: str = "ℓ") -> list[dict]:
    """The audit as table rows a page can show; ``symbol`` names the objective
    (`ConvergenceMonitor.symbol`)."""
    return [
        {
            "iteration": row.iteration,
            "steps": f"{row.e_step}–{row.m_step}",
            f"{symbol} before": row.before,
            f"{symbol} after": row.after,
            "change": row.change,
            "E-step closed the gap": "yes" if row.gap_closed else "NO",
            "M-step raised the bound": "yes" if row.bound_raised else "NO",
            f"{symbol} did not fall": "yes" if row.ok else "NO",
            "cause": row.cause,
        }
        for row in rows
    ]
