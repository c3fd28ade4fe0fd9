"""The restart explorer of "Where EM ends up": many runs of the step page's own mixture (same
data and settings, from the sidebar), grouped into solutions, and three pitfalls."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from emviz.analysis.explain import readable
from emviz.analysis.restarts import FAILED, group_table
from emviz.engine import counted
from emviz.plots.restarts import group_label, plot_restart_histogram
from emviz.settings import INIT_CHOICES, RESTARTS_RANGE
from emviz.ui import cache, state
from emviz.ui.live_chart import live_chart
from emviz.ui.pickers import FittedChoice

STEP_PAGE = "pages/step-through.py"
_METHOD_LABELS = {name: label for label, name in INIT_CHOICES.values()}


def restart_explorer_section(fitted: FittedChoice) -> None:
    """Restarts of the sidebar's mixture (``fitted``, from `pick_and_fit`): ℓ histogram,
    solutions, best and worst, opening any restart in the step page, the initialisations
    compared, and the pitfalls."""
    st.subheader("Restarts on your data")
    source, settings, history, error = fitted
    settings = settings.plain()  # restarts of the mixture by plain EM, whatever the variant
    if history is None:
        st.error(f"Cannot start EM with these settings: {error}")
        return
    n_restarts = st.slider(
        "Number of restarts R", *RESTARTS_RANGE, step=10, **state.bind("rr", bounds=RESTARTS_RANGE)
    )
    found = cache.restarts(source, settings, n_restarts)
    rows = group_table(found)
    n_samples = len(history.X)
    method = _METHOD_LABELS[settings.init]
    st.markdown(
        f"**{counted(n_restarts, 'restart')}** of the sidebar's mixture (K = "
        f"{settings.n_components}, {settings.covariance_type} covariances) from **{method}** "
        f"starts with seeds {settings.init_seed}–{settings.init_seed + n_restarts - 1}, all run "
        f"as one batch in {found.elapsed:.2f} s. {_solutions_sentence(rows)}"
    )
    live_chart(plot_restart_histogram(found, n_samples), key="restart_hist")
    _group_frame(found, rows, n_samples)
    shown = [row["representative"] for row in rows if row["group"] != FAILED]
    if shown:
        _solution_charts(source, settings, n_restarts, found, shown)
    else:
        st.info(
            "Every restart failed: in each, a component collapsed onto too few points. Raise "
            "reg_covar or lower K in the sidebar to see where EM ends up."
        )
    _open_in_step_page(found, rows)
    _initialisations(source, settings, n_restarts)
    _pitfalls(source, settings, n_restarts, found)


def _solution_charts(source, settings, n_restarts: int, found, shown: list[int]) -> None:
    """One fit per solution, then the best and the worst restart side by side."""
    solutions, best_and_worst = cache.solution_figures(source, settings, n_restarts, tuple(shown))
    live_chart(solutions, key="restart_groups")
    st.caption(
        "One fit per solution (its best restart): 2σ ellipses and means ✕ of each component "
        "on a sample of the data. A permutation of the components is the same solution."
    )
    st.markdown(
        f"**Best and worst restart side by side** (restarts {found.best} and {found.worst}):"
    )
    live_chart(best_and_worst, key="restart_best_worst")


def _solutions_sentence(rows) -> str:
    solutions = [r for r in rows if r["group"] != FAILED and r["stop_reason"] == "converged"]
    unfinished = sum(r["runs"] for r in rows if r["stop_reason"] == "max_iter")
    failed = sum(r["runs"] for r in rows if r["group"] == FAILED)
    text = (
        f"They reach {counted(len(solutions), 'distinct solution')}; "
        f"{solutions[0]['share']:.0%} reach the best, ℓ = {solutions[0]['log_likelihood']:.2f}."
        if solutions
        else "None of them converged."
    )
    if unfinished:
        text += f" {counted(unfinished, 'restart')} stopped at max_iter, not converged."
    if failed:
        text += f" {counted(failed, 'restart')} failed: a component collapsed (reg_covar helps)."
    return text


def _group_frame(found, rows, n_samples: int) -> None:
    frame = pd.DataFrame(
        {
            "solution": [group_label(found, row["group"]) for row in rows],
            "share": [row["share"] for row in rows],
            "restarts": [row["runs"] for row in rows],
            "ℓ": [row["log_likelihood"] for row in rows],
            "ℓ / n": [row["log_likelihood"] / n_samples for row in rows],
            "mean iterations": [row["mean_iterations"] for row in rows],
            "converged": ["yes" if row["stop_reason"] == "converged" else "no" for row in rows],
            "example restart": [row["representative"] for row in rows],
        }
    )
    st.table(
        frame.style.hide().format(
            {"share": "{:.0%}", "ℓ": "{:.3f}", "ℓ / n": "{:.4f}", "mean iterations": "{:.1f}"}
        ),
    )


def _open_in_step_page(found, rows) -> None:
    """Pick a restart and open it in "Step through EM" (its seed set there)."""
    examples = [row["representative"] for row in rows]
    options = examples + [r for r in range(found.n_restarts) if r not in examples]
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    chosen = left.selectbox(
        "Restart to open",
        options,
        format_func=lambda r: (
            f"restart {r} — {group_label(found, int(found.groups[r]))}, "
            f"ℓ = {found.log_likelihoods[r]:.2f}"
        ),
        **state.bind("rpick", options=options, fallback=options[0]),
    )
    if right.button("Open it in Step through EM", key="restart_open", width="stretch"):
        state.put("iseed", int(found.seeds[chosen]))
        state.put("step", 0)
        st.switch_page(STEP_PAGE)


def _initialisations(source, settings, n_restarts: int) -> None:
    st.markdown("**Which initialisation?** The same restarts from each method, on the same data:")
    if not st.toggle("Compare the four initialisations", **state.bind("rcmp")):
        return
    rows = cache.initialisation_comparison(source, settings, n_restarts)
    frame = pd.DataFrame(
        {
            "initialisation": [_METHOD_LABELS[row["method"]] for row in rows],
            "reach the best solution": [row["share_best"] for row in rows],
            "converged": [row["share_converged"] for row in rows],
            "failed": [row["share_failed"] for row in rows],
            "mean iterations": [row["mean_iterations"] for row in rows],
            "seconds": [row["seconds"] for row in rows],
        }
    )
    st.table(
        frame.style.hide().format(
            {
                "reach the best solution": "{:.0%}",
                "converged": "{:.0%}",
                "failed": "{:.0%}",
                "mean iterations": "{:.1f}",
                "seconds": "{:.2f}",
            }
        ),
    )
    st.caption(
        f"{counted(n_restarts, 'restart')} per method, seeds from the sidebar's; 'the best "
        "solution' is the best any method found. The time includes drawing the starts."
    )


def _pitfalls(source, settings, n_restarts: int, found) -> None:
    st.markdown("**Three pitfalls**")
    identical, ranking = cache.pitfalls(source, settings)
    switch = cache.label_switch(source, settings, n_restarts)
    with st.expander("All means started at the same point stay together"):
        st.markdown(
            f"Every component starts at the data's mean with the same weight and covariance: "
            f"all get the same responsibilities, so the M-step gives them the same parameters "
            f"again. After {counted(identical.history.n_iterations, 'iteration')} the largest "
            f"distance between two means is {readable(identical.max_spread, 2)}: the fit is "
            "one Gaussian repeated K times, and the run even reports that it converged — it "
            "sits at a saddle point. Random or k-means++ starts break the symmetry."
        )
    with st.expander("Comparing runs that have not converged ranks them wrongly"):
        st.markdown(_ranking_text(ranking))
    with st.expander("Label switching: component 1 of one run is component 3 of another"):
        st.markdown(_switch_text(found, switch))


def _ranking_text(ranking) -> str:
    loose, tight = ranking.loose, ranking.tight
    pairs = len(ranking.discordant)
    verdict = (
        f"Stopped early (tol = {loose.tol:g}), {counted(pairs, 'pair')} of restarts that end "
        f"at different solutions are ranked the wrong way round"
        if pairs
        else f"Here the early stop (tol = {loose.tol:g}) happens to rank every pair right"
    )
    winner = (
        f"; the restart that looks best early (restart {ranking.best_loose}) is not the one that "
        f"ends best (restart {ranking.best_tight})"
        if ranking.winner_changes
        else ""
    )
    return (
        f"{verdict}{winner}. The same {counted(loose.n_restarts, 'restart')} (random points "
        f"from the data) run on to tol = {tight.tol:g}: ℓ keeps rising by up to "
        f"{np.max(tight.log_likelihoods - loose.log_likelihoods):.3f}, by different amounts "
        "for different runs. Compare log-likelihoods only of converged runs."
    )


def _switch_text(found, switch) -> str:
    if switch is None:
        return (
            "No two of these restarts found the same solution under different component "
            "numbers; try more restarts or random starts."
        )
    first, second, perm = switch
    matches = ", ".join(f"{k + 1} ↔ {int(j) + 1}" for k, j in enumerate(perm))
    return (
        f"Restarts {first} and {second} found the same solution (ℓ = "
        f"{found.log_likelihoods[first]:.3f} and {found.log_likelihoods[second]:.3f}), but "
        f"numbered its components differently: component k of restart {first} is component "
        f"j of restart {second} for {matches}. The labels are arbitrary; compare solutions "
        "after matching components (here by the least total distance between them)."
    )
