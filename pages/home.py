"""Landing page: what EM is, in a few sentences, and a link to every page."""

import streamlit as st

from emviz.ui.navigation import enter_through_app, page_link

enter_through_app()

st.title("Watch the EM algorithm work")
st.markdown(
    r"""
The **Expectation–Maximization (EM)** algorithm fits models with hidden variables — for a
mixture of Gaussians, the hidden variable is *which component each point came from*.
It repeats two half-steps:

* **E-step** — keep the parameters θ fixed and compute the posterior over the hidden labels:
  each point's *responsibility* $r_{nk} = p(z_n = k \mid x_n, \theta)$ for each component.
* **M-step** — keep those responsibilities fixed and re-fit θ by *weighted* maximum
  likelihood: each component's weight, mean and covariance become averages of the points
  weighted by their responsibility for it.

When both half-steps are exact, the log-likelihood $\ln p(X \mid \theta)$ **never
decreases**: it splits into a lower bound (the ELBO) plus a KL gap; the E-step closes the gap,
the M-step raises the bound. The promise needs both: with `reg_covar` > 0 the M-step adds a
small ε to every variance, is no longer the exact maximiser, and ℓ can fall a little.
emviz records every half-step of a real run so you can watch this happen.
"""
)

st.subheader("Pages")
page_link("pages/step-through.py", label="**Step through EM**", icon=":material/footprint:")
st.markdown(
    "A Gaussian mixture learning on blobs, Old Faithful, 1-D data or your own CSV: E-step, "
    "M-step, full iterations, a scrubber and in-browser playback, with the numbers behind "
    "every colour and every move."
)
page_link("pages/why-em-works.py", label="**Why EM works**", icon=":material/functions:")
st.markdown(
    "ln p(X|θ) = ELBO + KL for every half-step of your run; Bishop's Fig. 9.14 drawn live; Q and "
    "the entropy; Jensen's inequality for one point; and an audit that names the link that gave "
    "way when ℓ falls."
)
page_link("pages/landscape.py", label="**Likelihood landscape**", icon=":material/landscape:")
st.markdown(
    "The surface ℓ(μ₁, μ₂) of a two-mean mixture with its modes and saddle; EM, gradient ascent "
    "and Newton–Raphson started from the same point; EM stuck at a saddle and a nudge."
)
page_link(
    "pages/em-vs-gradient.py", label="**EM or gradient ascent?**", icon=":material/compare_arrows:"
)
st.markdown(
    "Monotone climbing, staying inside the parameter space, no learning rate, and EM's linear "
    "rate against the Jacobian of the EM map — with Newton's quadratic one beside it."
)
page_link("pages/where-em-ends-up.py", label="**Where EM ends up**", icon=":material/flag:")
st.markdown(
    "Which maximum EM reaches depends on where it starts: two components almost always find "
    "the truth, three or more often do not; restarts of your own mixture, grouped into "
    "solutions up to label switching."
)
page_link("pages/failure-lab.py", label="**Failure lab**", icon=":material/science:")
st.markdown(
    "A component collapsing onto a single point and three remedies, convergence so slow it "
    "looks finished, a stop before the top, and the wrong number of components."
)
page_link("pages/choosing-k.py", label="**Choosing K**", icon=":material/query_stats:")
st.markdown(
    "BIC, AIC and ICL against the number of components for every covariance type, and the "
    "likelihood on held-out points."
)
page_link(
    "pages/genetic-linkage.py", label="**Genetic linkage (1977)**", icon=":material/genetics:"
)
st.markdown(
    "The example that named EM: Rao's linkage counts, Dempster, Laird & Rubin's table of "
    "iterates, and EM's rate as the fraction of the information that is missing."
)
page_link("pages/ppca.py", label="**Probabilistic PCA**", icon=":material/scatter_plot:")
st.markdown(
    "EM beyond mixtures: the hidden variable is a point's position on a line, and W turns "
    "onto the principal direction with no eigen-decomposition."
)
page_link("pages/missing-data.py", label="**Missing data**", icon=":material/grid_off:")
st.markdown(
    "EM fills in each missing value from the row's observed one, step by step, beside "
    "dropping incomplete rows and filling in column means, both biased."
)
page_link("pages/hidden-markov.py", label="**Hidden Markov model**", icon=":material/timeline:")
st.markdown(
    "Baum–Welch is EM: forward–backward as the E-step on a regime-switching series (or your "
    "own), the state probabilities, the transition matrix and ℓ = ELBO + KL over whole paths."
)
