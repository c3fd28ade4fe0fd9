"""The step page's comparison of the chosen EM variant with plain EM from the same start."""

from __future__ import annotations

import streamlit as st

from emviz.analysis.variants import sentence_case
from emviz.settings import DataSource, ModelSettings, Variant
from emviz.ui.cache import variant_comparison_json
from emviz.ui.live_chart import live_chart

_WHAT_TO_SEE = {
    Variant.TEMPERED: (
        "A tempered q is not the posterior: after every E-step KL(q ‖ p) > 0, so EM climbs the "
        "lower bound, not ℓ (Why EM works shows the gap). At T = 0 every point belongs wholly "
        "to one component: hard, or classification, EM."
    ),
    Variant.KMEANS: (
        "With equal weights and one fixed σ² I for every component, the E-step can only compare "
        "distances to the means: at σ = 0 this is Lloyd's k-means, whose boundaries are straight "
        "lines halfway between the means. On tilted, elongated clusters (the data set 'Elongated "
        "clusters') k-means cuts across them; full-covariance EM follows their shape."
    ),
    Variant.STOCHASTIC: (
        "Each E-step draws every point's label from its posterior, so ℓ is noisy and the run "
        "never settles: it goes on to the maximum number of iterations. The noise can shake a "
        "run out of a poor solution; averaging the last iterations gives a stable estimate."
    ),
    Variant.ANNEALED: (
        "Early E-steps use a flattened q (T > 1): components share points widely and their "
        "means drift together before they commit; T falls to 1 and the run ends as plain EM. "
        "Whether that finds a better maximum depends on the data and the schedule: compare "
        "the two ends below (cooled from too hot, the means can merge into one point, a saddle "
        "that EM leaves only slowly)."
    ),
    Variant.MAP: (
        "The M-step maximises Q + log p(θ): the prior adds pseudo-points to every weight and "
        "covariance, so no component can shrink onto a single point (ℓ → ∞ cannot happen). "
        "The run climbs the log posterior ℓ + log p(θ), which never falls; ℓ itself may. "
        "With reg_covar = 0 and many components, compare with plain EM's 'singular' stop."
    ),
}


_FORMULAS = {
    Variant.TEMPERED: (
        r"E-step of this variant: $q_{nk} \propto \big(\pi_k\,\mathcal{N}(x_n \mid \mu_k, "
        r"\Sigma_k)\big)^{1/T}$ (at $T = 0$: 1 for each point's most probable component, 0 "
        r"for the others). The M-step is the one below, with $q$ in place of $r$."
    ),
    Variant.KMEANS: (
        r"This variant fixes every $\pi_k = 1/K$ and $\Sigma_k = \sigma^2 I$: the E-step "
        r"compares $\lVert x_n - \mu_k \rVert^2$ only (at $\sigma = 0$ the nearest mean takes "
        r"the point) and the M-step updates the means alone, $\mu_k = \sum_n r_{nk} x_n / N_k$."
    ),
    Variant.STOCHASTIC: (
        r"E-step of this variant: each label $z_n$ is drawn from $(r_{n1}, \dots, r_{nK})$ and "
        r"$q$ puts 1 on the drawn label. The M-step is the one below, with $q$ in place of $r$."
    ),
    Variant.ANNEALED: (
        r"E-step of this variant: $q_{nk} \propto \big(\pi_k\,\mathcal{N}(x_n \mid \mu_k, "
        r"\Sigma_k)\big)^{1/T_t}$ with $T_t$ falling from $T_0$ to 1; then the E-step below."
    ),
    Variant.MAP: (
        r"M-step of this variant: $\theta$ maximises $Q + \log p(\theta)$: $N_k$, the means "
        r"and the covariances below each gain the prior's pseudo-points (Dirichlet on "
        r"$\pi$, a Normal–Wishart prior on each component; `emviz.models.gaussian_priors`)."
    ),
}


def variant_formula_note(settings: ModelSettings) -> None:
    """Above the formulas: what the sidebar's variant changes in them (nothing for EM)."""
    if settings.variant.kind is not Variant.EM:
        st.info(_FORMULAS[settings.variant.kind])


def variant_comparison(source: DataSource, settings: ModelSettings) -> None:
    """Both final fits side by side with their assignment boundaries, and both ℓ traces."""
    if settings.variant.kind is Variant.EM:
        return
    st.subheader(f"{sentence_case(settings.variant.describe())} beside plain EM, same start")
    st.markdown(_WHAT_TO_SEE[settings.variant.kind])
    compared = variant_comparison_json(source, settings)
    if compared is None:
        st.info("Plain EM cannot start with these settings, so there is nothing to compare.")
        return
    (variant_json, plain_json, traces_json), sentence = compared
    left, right = st.columns(2)
    with left:
        live_chart(variant_json, key="variant_fit_chart")
    with right:
        live_chart(plain_json, key="plain_fit_chart")
    st.caption("Dotted lines: where the most probable component changes.")
    live_chart(traces_json, key="variant_trace_chart")
    st.info(sentence)


def restricted_q_note(run_settings: ModelSettings | None) -> None:
    """On "Why EM works": what a variant's q does to the decomposition (nothing for EM)."""
    if run_settings is None or run_settings.variant.kind is Variant.EM:
        return
    if run_settings.variant.kind is Variant.MAP:
        st.info(
            "This run is **MAP-EM** (the sidebar's EM variant): q is still the exact posterior, "
            "so the E-step closes the gap, but the M-step maximises Q + log p(θ). The "
            "quantity that never falls is the log posterior ℓ + log p(θ) = (ELBO + log p(θ)) "
            "+ KL: the audit below checks that one."
        )
        return
    name = run_settings.variant.describe()
    st.info(
        f"This run is **{name}** (the sidebar's EM variant): its E-step does not set q to the "
        "posterior, so KL(q ‖ p) stays above 0 after every E-step and the gap never closes. "
        "EM then maximises the lower bound (ELBO) over a restricted q, not ℓ itself — the idea "
        "behind variational EM and variational autoencoders, where the exact posterior is out "
        "of reach. ℓ = ELBO + KL still holds at every step."
    )
