"""The sections of the "Probabilistic PCA" page: the data settings, the run stepped through
(the data with the line along W, the angle and σ² per iteration), why EM, and the lower bound
and audit panels shared with the mixtures."""

from __future__ import annotations

import streamlit as st

from emviz.analysis.explain import readable
from emviz.models.ppca import PPCA_INIT_METHODS, principal_angle_degrees
from emviz.plots.bound import plot_decomposition
from emviz.plots.ppca import plot_ppca_data, plot_ppca_trace
from emviz.settings import (
    PPCA_INIT_CHOICES,
    PPCA_N_RANGE,
    PPCA_NOISE_CHOICES,
    SEED_MAX,
    PPCASettings,
    ppca_settings_from,
)
from emviz.ui import state
from emviz.ui.bound_panels import audit_panel, decomposition_latex, decomposition_sentence
from emviz.ui.live_chart import live_chart
from emviz.ui.step_controls import stepper_controls

_INIT_LABELS = dict(
    zip(PPCA_INIT_METHODS, ("random (seeded by the seed)", "along the x-axis"), strict=True)
)


def ppca_controls() -> PPCASettings:
    """The data and start settings, bound to their fields; the settings they make."""
    columns = st.columns([1, 2, 2, 1, 2])
    columns[0].radio("Dimension", (2, 3), horizontal=True, **state.bind("ppdim", options=(2, 3)))
    low, high, step = PPCA_N_RANGE
    columns[1].slider("Points", low, high, step=step, **state.bind("ppn", bounds=(low, high)))
    columns[2].select_slider(
        "Noise (standard deviation)",
        PPCA_NOISE_CHOICES,
        format_func=lambda value: f"{value:g}",
        help="The sd of the isotropic noise ε around the line; the line's own sd is 2.",
        **state.bind("ppnoise", options=PPCA_NOISE_CHOICES),
    )
    columns[3].number_input("Seed", 0, SEED_MAX, **state.bind("ppseed", bounds=(0, SEED_MAX)))
    starts = tuple(PPCA_INIT_CHOICES.values())
    columns[4].radio(
        "Start of W",
        starts,
        format_func=_INIT_LABELS.__getitem__,
        help="μ starts at the sample mean and σ² at the data's average variance either way.",
        **state.bind("ppinit", options=starts),
    )
    return ppca_settings_from(state.snapshot())


def run_section(run, settings: PPCASettings) -> int:
    """Step controls, the data with the line along W, and the angle and σ² per iteration;
    returns the shown step."""
    history = run.history
    cursor = stepper_controls(history, settings, "pstep")
    params = history[cursor].params
    left, right = st.columns([3, 2], gap="medium")
    with left:
        live_chart(plot_ppca_data(run, cursor), key="ppca_data_chart", step=cursor)
    with right:
        live_chart(plot_ppca_trace(run, cursor), key="ppca_trace_chart", step=cursor)
    angle = principal_angle_degrees(params.W, run.closed_form.W[:, 0])
    st.markdown(
        f"At this step W is **{readable(angle, 3)}°** from the top eigenvector of the sample "
        f"covariance, and σ² = **{params.noise_variance:.6f}** (closed form: σ²_ML = "
        f"{run.closed_form.noise_variance:.6f}). The orange points are where the q of this "
        "step puts each point on the line, W E[z_n] + μ: the orthogonal projection, pulled "
        "towards μ by the prior z ~ N(0, 1) (the more noise, the stronger the pull)."
    )
    return cursor


def why_em_section() -> None:
    st.markdown(
        "**Why EM, when PCA has a closed form?** The maximum of ℓ is known (Tipping & Bishop "
        "1999): the eigen-decomposition of the sample covariance S (1/N) gives it,"
    )
    # one formula a line: together they are wider than a phone
    st.latex(r"W_{ML} = U_L(\Lambda_L - \sigma^2_{ML} I)^{1/2} R")
    st.latex(r"\sigma^2_{ML} = \frac{1}{D-L}\sum_{i=L+1}^{D}\lambda_i,\qquad \mu_{ML} = \bar x")
    st.markdown(
        "(U_L the top L eigenvectors, Λ_L their eigenvalues, R any rotation: only W Wᵀ is "
        "determined). EM reaches the same point without forming S or decomposing it: each "
        "iteration costs O(N D L) — products of the data with W — instead of the O(N D²) of "
        "S and the O(D³) of its eigenvectors, which matters when D is large and L small. And "
        "because EM works point by point through E[z_n], a point with missing coordinates "
        "simply contributes its observed ones: EM fits PCA to incomplete data, where the "
        "eigen-decomposition has no S to start from. With little noise EM is slow: W turns "
        "onto the principal direction in a few iterations, but σ² creeps down to σ²_ML."
    )


def bound_section(history, cursor: int) -> None:
    """ℓ = ELBO + KL at every half-step, then the monotonicity audit."""
    st.subheader("ln p(X | θ) = ELBO + KL, step by step")
    st.markdown(
        "The hidden z_n is continuous, so q(z_n) is a Gaussian and Q, H(q) and the KL are "
        "Gaussian integrals; the identity holds as for the mixtures. Before the first E-step "
        "q is the prior N(0, I) (a continuous z has no uniform distribution)."
    )
    st.latex(decomposition_latex(history[cursor]))
    st.markdown(_decomposition_words(history, cursor))
    live_chart(plot_decomposition(history, cursor), key="ppca_decomposition_chart", step=cursor)
    st.subheader("Monotonicity audit")
    audit_panel(history)


def _decomposition_words(history, cursor: int) -> str:
    step = history[cursor]
    if step.phase != "init":
        return decomposition_sentence(history, cursor)
    return (
        "**Initial state:** q is the prior N(0, I) for every z_n, not the posterior N(M⁻¹Wᵀ"
        f"(x_n − μ), σ² M⁻¹): the gap is KL = {readable(step.kl, 4)}."
    )
