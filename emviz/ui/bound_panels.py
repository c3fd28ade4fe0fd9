"""The sections of the "Why EM works" page: numbers beside each figure, the Jensen sliders and
the audit. Figures come from `emviz.plots.bound`, values from `emviz.analysis`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from emviz.analysis.audit import audit_table, monotonicity_audit
from emviz.analysis.bound import jensen_terms, most_ambiguous_point
from emviz.analysis.explain import change_phrase, readable
from emviz.convergence import ConvergenceMonitor
from emviz.engine import counted
from emviz.models.protocol import Capability
from emviz.plots.bound import plot_audit, plot_jensen
from emviz.settings import MAX_COMPONENTS
from emviz.ui import state
from emviz.ui.live_chart import live_chart
from emviz.ui.on_demand import drawn_when_open

negligible = ConvergenceMonitor.negligible  # the one "is this rounding?" test


def decomposition_latex(step) -> str:
    """ℓ = ELBO + KL at ``step`` as LaTeX whose three numbers add up as shown.

    All three have four decimals and the KL shown is the difference of the other two as
    shown, so the sum holds at the printed precision; a KL below that precision is printed
    in full, as a power of ten (it changes neither of the others' digits).
    """
    ll, elbo = round(step.log_likelihood, 4), round(step.elbo, 4)
    kl = f"{ll - elbo:.4f}" if step.kl >= 5e-5 else readable(step.kl, 2, latex=True)
    return (
        rf"\ln p(X\mid\theta) = {ll:.4f} = "
        rf"\underbrace{{{elbo:.4f}}}_{{\text{{ELBO }} \mathcal{{L}}(q,\theta)}} + "
        rf"\underbrace{{{kl}}}_{{\mathrm{{KL}}(q\,\|\,p(Z\mid X,\theta))}}"
    )


def decomposition_numbers(history, cursor: int) -> None:
    """ℓ = ELBO + KL at the shown step, in numbers, and what the half-step did to each."""
    step = history[cursor]
    st.latex(decomposition_latex(step))
    st.markdown(decomposition_sentence(history, cursor))


def decomposition_sentence(history, cursor: int) -> str:
    """What the shown half-step did to ℓ, the ELBO and the KL, in words and numbers."""
    step = history[cursor]
    if step.phase == "E" and negligible(step.kl, step.log_likelihood):
        before = history[cursor - 1]
        if negligible(before.kl, step.log_likelihood):
            return (
                f"**E-step:** θ stayed and q was already the posterior (KL = "
                f"{readable(before.kl, 2)}): the bound still touches ln p(X|θ) = "
                f"{step.log_likelihood:.4f}."
            )
        return (
            f"**E-step:** θ stayed, q became the posterior: the gap KL fell from "
            f"{readable(before.kl, 4)} to {readable(step.kl, 2)}, so the bound rose from "
            f"{before.elbo:.4f} to touch ln p(X|θ) = {step.log_likelihood:.4f}."
        )
    if step.phase == "E":
        # broken (the audit's "break it") or restricted on purpose (a tempered, hard,
        # stochastic or annealed q): either way q is not the posterior
        return (
            "**E-step (q is not the posterior):** θ stayed and q was recomputed, but not as "
            f"the posterior: the gap is still KL = {readable(step.kl, 4)}, so the bound does not "
            "touch ln p(X|θ)."
        )
    if step.phase == "M":
        return _m_step_sentence(history, cursor)
    if Capability.MIXTURE not in history.model.capabilities:  # no labels: q is no uniform
        return (
            "**Initial state:** q is the model's starting guess, before any E-step: "
            f"KL = {readable(step.kl, 4)}."
        )
    if step.params.n_components == 1:
        return (
            "**Initial state:** with one component q = 1 is already the posterior: the bound "
            f"touches ln p(X|θ) (KL = {readable(step.kl, 2)})."
        )
    return (
        "**Initial state:** q is uniform over the components, far from the posterior, so "
        f"the gap is wide: KL = {readable(step.kl, 4)}."
    )


def _m_step_sentence(history, cursor: int) -> str:
    step, before = history[cursor], history[cursor - 1]
    rise = step.elbo - before.elbo
    caveat = history.model.inexact_m_step
    monitor = history.monitor
    # MAP-EM's M-step raises ELBO + log p(θ), the bound on its objective, not the ELBO alone
    bound_before, bound_after = monitor.bound(before), monitor.bound(step)
    prior = "" if monitor.objective == "log_likelihood" else " + log p(θ)"
    if not ConvergenceMonitor.fell(bound_before, bound_after, scale=monitor.value(before)):
        verdict = "θ raised the bound" if caveat else f"θ maximised the bound{prior}"
    elif caveat:
        verdict = f"the bound **fell**, because {caveat}"
    else:
        verdict = "θ did **not** maximise the bound (a broken M-step): it fell"
    return (
        f"**M-step:** q stayed, {verdict}: ELBO {before.elbo:.4f} → {step.elbo:.4f} "
        f"({'+' if rise >= 0 else '−'}{readable(abs(rise), 4)}). ln p(X|θ) "
        f"{change_phrase(step.log_likelihood - before.log_likelihood)}: the bound's change "
        f"plus the gap that {'opened again' if step.kl >= 5e-4 else 'barely opened'}, "
        f"KL = {readable(step.kl, 4)}."
    )


def slice_caption(bound_slice, history, cursor: int) -> str:
    """Which iteration the slice shows: the shown one, or the last completed one when the
    shown E-step's M-step failed (a collapsed run)."""
    steps = f"Iteration of steps {bound_slice.e_step}–{bound_slice.m_step}"
    if cursor <= bound_slice.m_step:
        return steps + "."
    return (
        f"{steps}: the last completed one. The M-step after the shown E-step failed — "
        f"{history.message}"
    )


def slice_summary(bound_slice, inexact_m_step: str | None = None) -> None:
    """Bishop 9.14's three facts, read off the computed slice. ``inexact_m_step`` is the
    model's reason why its M-step is not the exact maximiser of Q (None when it is)."""
    st.markdown(slice_facts(bound_slice, inexact_m_step))


def slice_facts(bound_slice, inexact_m_step: str | None = None) -> str:
    """The facts of `slice_summary` as Markdown."""
    s = bound_slice
    zero = int(np.flatnonzero(s.ts == 0.0)[0])
    gap = s.log_likelihood - s.bound
    best = int(np.nanargmax(s.bound))
    spacing = float(np.max(np.diff(s.ts)))
    if negligible(np.nanmax(s.bound) - np.nanmin(s.bound), s.ll_at_old):
        return (
            "The bound is flat along this slice: the M-step did not move θ (EM sits at a fixed "
            "point), so θ_new = θ_old and there is nothing to climb."
        )
    why = f" ({inexact_m_step})" if inexact_m_step else ""
    if s.t_new is None:
        where = "."
    elif abs(s.ts[best] - s.t_new) <= spacing:
        where = " — θ_new, the M-step's answer."
    else:
        where = f", not at θ_new (t = {s.t_new:g}): this M-step did not maximise the bound{why}" + (
            ", and the bound at θ_new is lower than at θ_old."
            if s.bound[s.ts == s.t_new][0] < s.bound[s.ts == 0.0][0]
            else "."
        )
    facts = [
        (
            f"At t = 0 (θ_old) the bound touches: ℓ − L = {readable(gap[zero], 2)}."
            if negligible(gap[zero], s.ll_at_old)
            else "At t = 0 (θ_old) the bound does **not** touch: ℓ − L = KL = "
            f"{readable(gap[zero], 4)}, because q is not the posterior at θ_old (a broken E-step)."
        ),
        f"Everywhere on the slice L ≤ ℓ: the smallest gap is {readable(np.nanmin(gap), 2)}, the "
        f"largest {readable(np.nanmax(gap), 4)}.",
        f"The bound is highest at t = {s.ts[best]:.3f}{where}",
    ]
    if np.isnan(s.bound).any():
        facts.append("Gaps in the curves: parameters there are invalid (e.g. a negative variance).")
    return "\n".join(f"- {fact}" for fact in facts)


def q_entropy_numbers(history, cursor: int) -> None:
    step = history[cursor]
    st.markdown(
        f"At step {cursor}: Q = {step.expected_log_joint:.4f}, H(q) = {step.entropy:.4f}, "
        f"Q + H = {step.expected_log_joint + step.entropy:.4f} = ELBO ({step.elbo:.4f}). "
        "The M-step raises Q with q (so H) fixed; the E-step changes q, trading Q against H."
    )


def _q_names(n_components: int) -> list[str]:
    return [f"jq{k}" for k in range(n_components)]


# the (K, point) the q sliders were set for: when either changes they start again at 1/K
_Q_OWNER = "jq_for"


def _restart_q_if_moved(n_components: int, index: int) -> None:
    if state.get(_Q_OWNER) != (n_components, index):
        for name in _q_names(MAX_COMPONENTS):
            state.forget(name)
        state.put(_Q_OWNER, (n_components, index))


def _set_q_to_posterior(posterior: np.ndarray) -> None:
    for name, value in zip(_q_names(len(posterior)), posterior):
        state.put(name, float(value))  # exact, so the two sides meet exactly


def jensen_panel(history, cursor: int) -> None:
    """One data point: log Σ_z p(x, z|θ) against Σ_z q(z) log(p(x, z|θ)/q(z)), q from sliders."""
    model, X, params = history.model, history.X, history[cursor].params
    n_components = len(params.weights)
    left, right = st.columns([1, 2], gap="medium")
    with left:
        last = len(X) - 1
        index = int(
            st.number_input(
                "Data point",
                0,
                last,
                # at first (or after the data shrank): the point EM is least sure about
                **state.bind("jp", bounds=(0, last), fallback=most_ambiguous_point(history)),
            )
        )
        _restart_q_if_moved(n_components, index)
        posterior = jensen_terms(model, X, params, index, np.ones(n_components)).posterior
        st.button(
            "Set q to the posterior",
            key="jensen_posterior",
            on_click=_set_q_to_posterior,
            args=(posterior,),
        )
        weights = [
            st.slider(
                f"q(z = {k + 1})",
                0.0,
                1.0,
                step=0.001,
                **state.bind(name, bounds=(0.0, 1.0), fallback=1.0 / n_components),
            )
            for k, name in enumerate(_q_names(n_components))
        ]
    with right:
        if sum(weights) <= 0:
            st.warning("Give at least one component some weight: q must sum to 1.")
            return
        terms = jensen_terms(model, X, params, index, weights)
        live_chart(plot_jensen(terms), key="jensen_chart")
    table = pd.DataFrame(
        {
            "q(z) (normalised)": terms.q,
            "p(z | x, θ)": terms.posterior,
            "ln p(x, z | θ)": terms.log_joint,
        },
        index=[f"z = {k + 1}" for k in range(n_components)],
    )
    with left:
        st.markdown(jensen_sentence(terms))
    with right:
        st.table(table.style.format("{:.4f}"))


def jensen_sentence(terms) -> str:
    """Both sides of Jensen for the chosen q, the Jensen gap and the KL, in numbers."""
    sides = (
        f"ln p(x) = **{terms.log_evidence:.4f}** ≥ Σ q ln(p/q) = **{terms.bound:.4f}**; "
        f"gap = KL(q ‖ p(z|x)) = **{readable(terms.gap, 4)}**"
    )
    # one point's ℓ can be near 0: rounding is judged against at least 1 nat
    scale = max(1.0, abs(terms.log_evidence))
    if negligible(terms.gap, scale):
        return sides + " — equality: q is the posterior."
    if negligible(terms.gap - terms.jensen_gap, scale):
        return sides + ", all of it Jensen's gap ln E_q[u] − E_q[ln u]."
    return (
        sides + f". q leaves out states the posterior weighs, so E_q[u] < p(x): the Jensen gap "
        f"ln E_q[u] − E_q[ln u] = {terms.log_mean_ratio:.4f} − ({terms.bound:.4f}) = "
        f"**{readable(terms.jensen_gap, 4)}**; the rest of the KL is the posterior mass q "
        "leaves out."
    )


def audit_panel(history) -> None:
    """ℓ_{t+1} ≥ ℓ_t over the run, and the links of the chain for each iteration."""
    rows = monotonicity_audit(history)
    if not rows:
        st.info(
            "The run has no completed iteration to audit: "
            + (history.message if history.stop_reason != "max_iter" else "no M-step yet.")
        )
        return
    symbol = history.monitor.symbol
    level, verdict = audit_verdict(rows, history.model.inexact_m_step, symbol)
    getattr(st, level)(verdict)
    # drawn only while open: the chart and the table are the page's slowest to show
    details = drawn_when_open(
        f"Every iteration: {symbol} before and after, and each link of the chain", "aud"
    )
    if details is not None:
        with details:
            _audit_details(rows, symbol, history.monitor.formula)


def _audit_details(rows, symbol: str, formula: str) -> None:
    live_chart(plot_audit(rows, symbol, formula), key="audit_chart")
    frame = pd.DataFrame(audit_table(rows, symbol)).set_index("iteration")
    numbers = {f"{symbol} before": "{:.4f}", f"{symbol} after": "{:.4f}", "change": "{:+.3g}"}
    st.dataframe(
        frame.style.format(numbers),
        key="audit_table",
        column_config={"cause": st.column_config.TextColumn(width="large")},
    )


def audit_verdict(rows, inexact_m_step: str | None, symbol: str = "ℓ") -> tuple[str, str]:
    """(box, text): what the audit found, for an st.error / warning / success box.

    ``inexact_m_step`` is the model's reason why its M-step is not the exact maximiser of Q
    (None when it is): the bound may then fall without anything being broken.
    """
    falls = [row for row in rows if not row.ok]
    open_gaps = sum(not row.gap_closed for row in rows)
    lowered = sum(not row.bound_raised for row in rows)
    links = []
    if open_gaps:
        links.append(f"{counted(open_gaps, 'E-step')} left a gap (q was not the posterior)")
    if lowered:
        links.append(f"{counted(lowered, 'M-step')} lowered the bound")
    broken_links = " and ".join(links)
    why = f" because {inexact_m_step}" if lowered and inexact_m_step else ""
    if falls:
        first = falls[0]
        return "error", (
            f"{symbol} fell in {len(falls)} of {counted(len(rows), 'iteration')}. First at "
            "iteration "
            f"{first.iteration} (steps {first.e_step}–{first.m_step}): "
            f"{first.before:.4f} → {first.after:.4f} ({change_phrase(first.change)}). "
            f"Cause: {first.cause}. In all, {broken_links}."
        )
    if links:
        return "warning", (
            f"{symbol} did not fall in these {counted(len(rows), 'iteration')}, but the chain is "
            f"broken: {broken_links}{why}. Nothing guarantees the next iteration."
        )
    return "success", (
        f"{symbol} never fell: {counted(len(rows), 'iteration')} checked, each E-step closed "
        "the gap and each M-step raised the bound."
    )
