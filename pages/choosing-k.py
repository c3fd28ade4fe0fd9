"""Choosing K: BIC, AIC and ICL against K for each covariance type, and held-out likelihood."""

import streamlit as st

from emviz.ui.navigation import enter_through_app
from emviz.ui.selection_panels import criteria_section, held_out_section

enter_through_app()

st.title("Choosing K")
st.markdown(
    "More components always fit the data at least as well: ℓ can only grow with K, so ℓ alone "
    "would always choose the largest K. A criterion charges for the parameters: "
    "**BIC** = −2ℓ + p ln n and **AIC** = −2ℓ + 2p (p free parameters, n points; lower is "
    "better, as in scikit-learn). **ICL** adds twice the entropy of the responsibilities to "
    "BIC: it also charges for components that overlap, whose points could belong to either."
)
selection = criteria_section()
if selection is not None:
    st.subheader("Training against held-out likelihood")
    st.markdown(
        f"The same fits made again on {selection.n_train} of the points (a random split, "
        f"seeded by the split seed); {selection.n_test} points are held out. On the training "
        "points ℓ per point keeps rising with K — the extra components fit the noise of those "
        "very points. On the held-out points it levels off or falls once K is larger than the "
        "data supports: the same question the criteria answer, asked of data the fit has not "
        "seen."
    )
    held_out_section(selection)
