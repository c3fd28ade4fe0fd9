"""Step through EM: watch a Gaussian mixture learn, half-step by half-step."""

import streamlit as st

from emviz.analysis.explain import describe_step, step_view_caption
from emviz.plots.mixture import plot_mixture
from emviz.ui.cache import animation_json, next_step_figures, step_figures_json
from emviz.ui.known_labels_section import known_labels_section
from emviz.ui.live_chart import live_chart
from emviz.ui.navigation import enter_through_app
from emviz.ui.panels import (
    downloads,
    inspect_point,
    inspected_point,
    parameter_table,
    phase_formulas,
    phase_pointer,
    point_inspector,
)
from emviz.ui.pickers import pick_and_fit
from emviz.ui.step_controls import stepper_controls
from emviz.ui.variant_panels import variant_comparison, variant_formula_note

enter_through_app()

st.title("Step through EM")

source, settings, history, error = pick_and_fit()


def _apply_chart_click(click) -> None:
    """A click on a data point in the chart picks it for the inspector (by its row number,
    which the points carry: a large data set is drawn as a sample)."""
    if click and click.get("curve") == 0 and click.get("customdata") is not None:
        inspect_point(click["customdata"])


if history is None:
    st.error(f"Cannot start EM with these settings: {error}")
else:
    st.caption(step_view_caption(history.X.shape[1]))
    cursor = stepper_controls(history, (source, settings))
    left, right = st.columns([3, 2], gap="medium")
    selected = inspected_point(len(history.X))
    step_json, trace_json = step_figures_json(source, settings, cursor, selected)
    moves, following = next_step_figures(source, settings, cursor, selected)
    with left, st.container(key="main-chart"):
        live_chart(
            step_json,
            key="main_chart",
            step=cursor,
            on_click=_apply_chart_click,
            preload={target: pair[0] for target, pair in following.items()},
            moves=moves,
        )
    with right:
        live_chart(
            trace_json,
            key="ll_chart",
            step=cursor,
            preload={target: pair[1] for target, pair in following.items()},
            moves=moves,
        )
        st.info(describe_step(history, cursor))
    parameter_table(history, cursor)  # full width: one row per component, whole on any screen
    variant_comparison(source, settings)
    phase_pointer(history[cursor].phase)
    st.subheader("Why does a point get its colour?")
    point_inspector(history, cursor)
    downloads(history, lambda: plot_mixture(history, cursor, selected=selected))

    st.subheader("The formulas of each half-step")
    variant_formula_note(settings)
    phase_formulas(settings.covariance_type, settings.reg_covar)

    st.subheader("Play the whole run")
    st.caption("Plays in your browser from the recorded steps: no waiting for the server.")
    with st.container(key="play-animation"):
        live_chart(animation_json(source, settings), key="play_chart")

    known_labels_section(source, settings, history)
