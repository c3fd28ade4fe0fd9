"""Choosing K: BIC, AIC and ICL against K for each covariance type, and held-out likelihood."""

import streamlit as st

from emviz.plots.selection import plot_criterion, plot_held_out
from emviz.ui import cache
from emviz.ui.live_chart import live_chart
from emviz.ui.navigation import enter_through_app
from emviz.ui.selection_panels import (
    choices_sentence,
    failures_note,
    fits_note,
    selection_controls,
    selection_data,
)

enter_through_app()

st.title("Choosing K")
st.markdown(
    "More components always fit the data at least as well: ℓ can only grow with K, so ℓ alone "
    "would always choose the largest K. A criterion charges for the parameters: "
    "**BIC** = −2ℓ + p ln n and **AIC** = −2ℓ + 2p (p free parameters, n points; lower is "
    "better, as in scikit-learn). **ICL** adds twice the entropy of the responsibilities to "
    "BIC: it also charges for components that overlap, whose points could belong to either."
)
source = selection_data()
if source is None:
    st.info("Choose a data set in the sidebar that a mixture can be fitted to.")
    st.stop()
settings = selection_controls()
if not settings.covariance_types:
    st.warning("Pick at least one covariance type.")
    st.stop()
selection = cache.model_selection(source, settings)
chosen = selection.chosen(settings.criterion, settings.covariance_types)
note = failures_note(selection.fits)
if chosen is None:
    st.error(f"No mixture could be fitted to this data. {note}")
    st.stop()
st.markdown(f"Chosen: {choices_sentence(selection, settings)}.")
left, right = st.columns([3, 2])
with left:
    live_chart(plot_criterion(selection, settings.criterion), key="sel_criterion_chart")
with right:
    figure = cache.chosen_figure_json(
        source,
        settings.n_restarts,
        settings.split_seed,
        (chosen.covariance_type, chosen.n_components),
        settings.criterion,
    )
    live_chart(figure, key="sel_chosen_chart")
st.caption(
    "Each covariance type's lowest value is ringed, the lowest of all starred and drawn on the "
    f"right. {fits_note(selection, settings)}"
)
if note:
    st.warning(note)

st.subheader("Training against held-out likelihood")
st.markdown(
    f"The same fits made again on {selection.n_train} of the points (a random split, seeded "
    f"by the split seed); {selection.n_test} points are held out. On the training points ℓ per "
    "point keeps rising with K — the extra components fit the noise of those very points. On "
    "the held-out points it levels off or falls once K is larger than the data supports: "
    "the same question the criteria answer, asked of data the fit has not seen."
)
live_chart(plot_held_out(selection), key="sel_heldout_chart")
st.caption("Solid: training points; dashed: held out; each held-out maximum ringed.")
