"""Landing page: what EM is, in a few sentences."""

import streamlit as st

st.title("Watch the EM algorithm work")
st.markdown(
    """
The **Expectation–Maximization (EM)** algorithm fits models with hidden variables, such as
which cluster each point came from. It alternates two half-steps:

* **E-step** — with the parameters fixed, compute the posterior over the hidden labels:
  each point's *responsibility* for each component.
* **M-step** — with those responsibilities fixed, re-fit the parameters by *weighted*
  maximum likelihood: each component's weight, mean and covariance are averages of the points
  weighted by their responsibility.

Each iteration never lowers the log-likelihood: the E-step makes a lower bound touch it, the
M-step pushes that bound up.
"""
)
