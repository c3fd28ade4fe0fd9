"""The sections of the "Failure lab" page: a component collapsing onto a point and its
remedies, slow convergence, stopping too early, and the wrong number of components. Each
section draws its own controls (bound to their settings), figures (`emviz.plots.failures`)
and numbers."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import streamlit as st

from emviz.engine import counted
from emviz.plots.failures import (
    STOP_WORDS,
    iteration_params,
    plot_component_counts,
    plot_early_stop,
    plot_log_error,
)
from emviz.runs import REMEDY_PRIOR_STRENGTH, TIGHT_TOL, early_stop
from emviz.settings import (
    ISOLATED_POSITIONS,
    LOOSE_TOL_CHOICES,
    MAX_COMPONENTS,
    MERGE_SEPARATIONS,
    REMEDY_REG_CHOICES,
    DataSource,
    ModelSettings,
)
from emviz.ui import cache, state
from emviz.ui.live_chart import live_chart

QUIET = {"delta_color": "off", "delta_arrow": "off"}  # a metric's second line: no trend


def _forget_iteration() -> None:
    """Another isolated point is another run: show its last iteration again."""
    state.forget("flit")


# ---- 1 · singularity ----


def collapse_section() -> None:
    """The collapse onto an isolated point with reg_covar = 0, then the remedies."""
    st.header("A component collapses onto one point")
    st.markdown(
        "Two clusters of 100 points, N(−2, 1) and N(2, 1), and **one isolated point**. EM "
        "fits three components from the start *random points from the data* makes when it "
        "draws a point of each cluster and the isolated one: equal weights, every variance "
        "the data's. Component 3 keeps the isolated point and loses the rest; the fewer points "
        "it has, the narrower it gets, and the narrower, the fewer points it keeps. With "
        "`reg_covar = 0` nothing stops it: its variance goes to 0 and ℓ grows without bound."
    )
    left, right = st.columns(2)
    position = left.select_slider(
        "Isolated point at x =",
        ISOLATED_POSITIONS,
        format_func=lambda x: f"{x:g}",
        help="The farther it lies from the clusters, the sooner component 3 collapses.",
        **state.bind("flx", options=ISOLATED_POSITIONS, then=_forget_iteration),
    )
    history = cache.collapse_run(float(position))
    last = history.n_iterations
    iteration = right.slider(
        "Iteration shown", 0, last, **state.bind("flit", bounds=(0, last), fallback=last)
    )
    st.warning(history.message, icon=":material/error:")
    fit_figure, trace_figure = cache.collapse_figures(float(position), int(iteration))
    charts = st.columns([2, 3], gap="medium")
    with charts[0]:
        live_chart(fit_figure, key="fl_collapse_fit")
        st.markdown(_positive_log_likelihood(history, iteration))
    with charts[1]:
        live_chart(trace_figure, key="fl_collapse_trace")
    _remedies(float(position), history)


def _positive_log_likelihood(history, iteration: int) -> str:
    """Why ℓ can be positive, with the isolated point's own log-density at ``iteration``."""
    params = iteration_params(history)[iteration]
    point = history.X[-1:]  # the isolated point is the sample's last
    log_density = float(history.model.e_step(point, params).log_likelihood)
    sign = "+" if log_density >= 0 else "−"
    return (
        "**Why can a log-likelihood be positive?** A density is not a probability: "
        "N(x | μ, σ²) peaks at 1/√(2πσ²), above 1 once σ² < 1/(2π) ≈ 0.16, so its logarithm "
        f"is positive. Here the isolated point's log-density is **{sign}"
        f"{abs(log_density):.2f}** after iteration {iteration}; as component 3 shrinks onto "
        "it, that peak, and ℓ with it, grows without bound."
    )


def _remedies(position: float, collapsed) -> None:
    st.subheader("Remedies, from the same start")
    reg_covar = st.select_slider(
        "reg_covar of the first remedy",
        REMEDY_REG_CHOICES,
        format_func=lambda v: f"{v:.0e}",
        **state.bind("flreg", options=REMEDY_REG_CHOICES),
    )
    remedies = cache.singularity_remedies(position, float(reg_covar))
    st.markdown(
        f"**reg_covar = {reg_covar:g}** adds {reg_covar:g} to every variance in each M-step: "
        "no variance can fall below it, so the run converges — but component 3 may still sit "
        "on the isolated point as a spike of that width. **Remove and restart the "
        "component**: when the run stops singular, component 3 starts again at the point the "
        "other two explain worst (leaving out the point it collapsed onto), with their "
        "average variance and weight 1/3, and EM continues. **MAP prior** (MAP-EM, prior "
        f"strength {REMEDY_PRIOR_STRENGTH:g}, reg_covar = 0): a conjugate prior adds "
        "pseudo-points with the data's spread to every covariance, so a component holding "
        "one point keeps a width; the run climbs the log posterior instead of ℓ."
    )
    live_chart(cache.remedies_figure(position, float(reg_covar)), key="fl_remedies")
    frame = pd.DataFrame(
        [
            {
                "remedy": name,
                "stop": STOP_WORDS[runs[-1].stop_reason],
                "iterations": sum(run.n_iterations for run in runs),
                "restarts": len(runs) - 1,
                "final ℓ": runs[-1][-1].log_likelihood,
            }
            for name, runs in {"none (reg_covar = 0)": (collapsed,), **remedies}.items()
        ]
    )
    st.table(frame.style.hide().format({"final ℓ": "{:.2f}"}))
    st.caption(
        "The collapsed run's ℓ is the last one recorded before the stop; one more M-step "
        "would have made it infinite. A higher ℓ is not a better fit here: the spike "
        "'explains' one point perfectly and nothing else."
    )


# ---- 2 · slow convergence ----


def slow_convergence_section(source: DataSource, settings: ModelSettings) -> None:
    st.header("Slow convergence: how fast EM closes in")
    st.markdown(
        "Near a maximum θ̂, each EM iteration shrinks the error by a constant factor: "
        "θ_{t+1} − θ̂ ≈ J (θ_t − θ̂), J the Jacobian of the EM map θ ↦ M(E(θ)). Its largest "
        "eigenvalue λ is the **fraction of missing information** (Dempster, Laird & Rubin "
        "1977): how much of what the complete data would tell about θ the hidden labels "
        "hide. λ near 1 — overlapping components — means very slow convergence."
    )
    study, reason = cache.own_rate_study(source, settings)
    if study is None:
        st.warning(reason)
    else:
        _own_rate(study, settings)
    _merging_components()


def _own_rate(study, settings: ModelSettings) -> None:
    st.markdown(
        f"**Your run** (the sidebar's data and mixture, K = {settings.n_components}, "
        f"{settings.covariance_type} covariances, from the step page's start), run on past "
        f"its stopping rule for {counted(study.n_iterations, 'iteration')} (until its "
        "iterates stop moving, or the lab's limit):"
    )
    columns = st.columns(3)
    jacobian = study.jacobian_rate
    columns[0].metric("Jacobian's top eigenvalue λ", f"{jacobian:.6f}")
    if study.observed_rate is None:
        columns[1].metric("Rate seen in the iterates", "—")
        st.info(
            "EM lands on its limit at once: with nothing hidden (one component, or "
            "components so far apart that every label is certain) there is no slow phase "
            "to watch, and λ ≈ 0."
        )
    else:
        observed = study.observed_rate
        columns[1].metric(
            "Rate seen in the iterates",
            f"{observed:.6f}",
            f"differs by {abs(observed - jacobian):.1e}",
            **QUIET,
        )
        if not study.in_window:
            first, last = study.window
            st.info(
                f"EM has not converged within the {study.n_iterations} iterations allowed "
                f"here: the rate is read from iterations {first}–{last}, still far from θ̂ "
                "(θ̂ itself is found by an accelerated iteration)."
            )
    columns[2].metric("Iterations per 6 more digits", _digits_cost(jacobian))
    live_chart(
        plot_log_error(study, "Distance to the limit θ̂ (free coordinates)"), key="fl_log_error"
    )
    with st.expander("Which coordinates? (the weights add up to 1)"):
        st.markdown(
            "The Jacobian is taken in the mixture's **free** coordinates: K − 1 weights (the "
            "last is 1 minus the others), the means, and of each covariance only what its type "
            "lets vary (one triangle of a symmetric matrix; a diagonal; one variance). Moving "
            "every weight together, or one side of a symmetric matrix alone, does not change "
            "the model, so in all the stored numbers the Jacobian would gain zero eigenvalues "
            "and the wrong size — its other eigenvalues are the same. The shaded band is the "
            "linear phase the rate is read from: the median ratio ‖θ_{t+1} − θ̂‖ / ‖θ_t − θ̂‖ "
            "there."
        )


def _digits_cost(rate: float) -> str:
    """Iterations for the error to shrink 10⁶-fold at ``rate``, as text."""
    if rate <= 0:
        return "1"
    if rate >= 1:
        return "never"
    return f"{math.ceil(math.log(1e-6) / math.log(rate)):,}"


def _merging_components() -> None:
    st.subheader("Two components merging")
    st.markdown(
        "1 000 points from ½N(−d/2, 1) + ½N(d/2, 1), the same draws for every distance d; "
        "a full two-component mixture fitted by EM from its k-means start. As the two "
        "components merge, the labels become guesswork and λ tends to 1."
    )
    separation = st.select_slider(
        "Distance d between the centres (in σ)",
        MERGE_SEPARATIONS,
        format_func=lambda d: f"{d:g}",
        **state.bind("flsep", options=MERGE_SEPARATIONS),
    )
    _, rate = cache.separation_fit(float(separation))
    live_chart(cache.separation_figure(float(separation)), key="fl_separation")
    st.markdown(
        f"At d = {separation:g}, λ = **{rate:.4f}**: EM needs about **{_digits_cost(rate)}** "
        "iterations to gain six digits."
    )


# ---- 3 · stopping too early ----


def early_stop_section(source: DataSource, settings: ModelSettings) -> None:
    st.header("Stopping too early: a loose tolerance")
    st.markdown(
        "EM stops when ℓ per point changes by less than `tol` in an iteration. A small change "
        "is not a small distance to the maximum: when EM crawls, it stops far from it. Your "
        f"run from the same start, stopped at a loose tol, beside the same run to tol = "
        f"{TIGHT_TOL:g}."
    )
    loose_tol = st.select_slider(
        "Loose tolerance (change in ℓ per point)",
        LOOSE_TOL_CHOICES,
        format_func=lambda v: f"{v:.0e}",
        **state.bind("fltol", options=LOOSE_TOL_CHOICES),
    )
    tight = cache.tight_run(source, settings)
    early = early_stop(tight, float(loose_tol))
    left, right = st.columns([3, 2], gap="medium")
    with left:
        live_chart(plot_early_stop(early), key="fl_early_stop")
    with right:
        rows = [
            (f"tol = {loose_tol:g}", early.loose_iteration, tight[early.loose_step]),
            (f"tol = {TIGHT_TOL:g}", tight.n_iterations, tight[-1]),
        ]
        frame = pd.DataFrame(
            [
                {"stop": name, "iterations": its, "ℓ": step.log_likelihood}
                for name, its, step in rows
            ]
        )
        st.table(frame.style.hide().format({"ℓ": "{:.4f}"}))
        unfinished = (
            "" if tight.converged else f" (the tight run stopped at {tight.max_iter} iterations)"
        )
        st.markdown(
            f"Between the two stops ℓ rises by **{early.log_likelihood_gain:.3g}** and a mean "
            f"moves by up to **{early.mean_shift:.3g}**{unfinished}. Compare fits, and their "
            "log-likelihoods, only once they have converged."
        )


# ---- 4 · wrong K ----


def component_counts(n_components: int) -> tuple[int, ...]:
    """The K shown: one fewer, the learner's, one more (1, 2, 3 when K = 1)."""
    low = max(1, min(n_components - 1, MAX_COMPONENTS - 2))
    return (low, low + 1, low + 2)


def wrong_k_section(source: DataSource, settings: ModelSettings) -> None:
    st.header("The wrong number of components, and label switching")
    fits, failed = [], []
    for k in component_counts(settings.n_components):
        history, error = cache.fit(source, dataclasses.replace(settings, n_components=k))
        if history is None:
            failed.append(f"K = {k}: {error}")
        else:
            fits.append((k, history))
    shown = component_counts(settings.n_components)
    st.markdown(
        f"The sidebar's mixture (K = {settings.n_components}) fitted with "
        f"{shown[0]}, {shown[1]} and {shown[2]} components, same initialisation and seed. Too "
        "few components merge clusters; too many split one or spend a component on a few "
        "points — with `reg_covar = 0` it may even collapse. The best ℓ rises with K (a larger "
        "model can do everything a smaller one can), so ℓ alone cannot choose K."
    )
    if fits:
        live_chart(plot_component_counts(fits), key="fl_wrong_k")
    for reason in failed:
        st.warning(reason)
    st.markdown(
        "**Label switching.** Which component is called 1 is arbitrary: permuting the K "
        "labels changes neither ℓ nor the fit, so every maximum appears K! times, and two "
        "runs — another seed, another K — may number the same clusters differently. The "
        "colours above follow each run's own numbering; compare components by where they "
        "are, not by their number."
    )
