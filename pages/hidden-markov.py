"""Hidden Markov model: Baum–Welch is EM over state paths."""

import streamlit as st

from emviz.ui.hmm_sections import bound_views, fitted_run, step_views
from emviz.ui.navigation import enter_through_app

enter_through_app()

st.title("Hidden Markov model: Baum–Welch is EM")
st.markdown(
    "A hidden Markov model explains a series by a hidden state $z_t$ that moves between S "
    "states with the transition matrix A, each state emitting $x_t \\sim N(\\mu_s, \\sigma^2_s)$. "
    "The hidden variable is the whole path $z_1 \\dots z_T$, so EM's E-step needs the posterior "
    "over every path: **forward–backward** computes its marginals $q(z_t)$ and the expected "
    "number of transitions in O(T S²). The **M-step** is then closed form: A from the expected "
    "transitions, μ and σ² as q-weighted averages. That is the Baum–Welch algorithm: EM, so ℓ "
    "never falls and ℓ = ELBO + KL at every step, with KL over whole paths."
)
run, history = fitted_run()
cursor = step_views(run, history)
st.subheader("The log-likelihood and the lower bound")
bound_views(history, cursor)
