"""The step page's closing section: EM's fit beside the fit that is given the true labels."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from emviz import History
from emviz.plots.known_labels import plot_known_labels
from emviz.runs import true_labels
from emviz.settings import DataSource, ModelSettings
from emviz.ui import cache
from emviz.ui.live_chart import live_chart
from emviz.ui.on_demand import drawn_when_open


def known_labels_section(source: DataSource, settings: ModelSettings, history: History) -> None:
    """An expander: what the hidden labels cost on generated data, or why it cannot be shown
    (computed and drawn only while open)."""
    details = drawn_when_open(
        "What the hidden labels cost: EM beside the fit with the labels known", "lab"
    )
    if details is None:
        return
    with details:
        comparison = cache.known_labels(source, settings)
        if isinstance(comparison, str):
            st.info(comparison)
            return
        st.markdown(
            "This data was generated, so the component zₙ behind every point is known. With "
            "the labels given, maximum likelihood takes one step: each weight is its group's "
            "share of the points, each mean and covariance its group's own. That fit "
            "maximises the complete-data log-likelihood "
            r"$\log p(X, Z \mid \theta) = \sum_n \log \pi_{z_n} \mathcal{N}(x_n \mid "
            r"\mu_{z_n}, \Sigma_{z_n})$; EM, never shown Z, maximises ℓ = log p(X | θ). Its "
            "components are matched to the true groups first (the numbering of components "
            "is arbitrary)."
        )
        rows = {
            "labels known (one step)": (
                comparison.labelled_log_likelihood,
                comparison.labelled_complete,
            ),
            f"EM, labels hidden ({history.n_iterations} iterations)": (
                comparison.em_log_likelihood,
                comparison.em_complete,
            ),
        }
        frame = pd.DataFrame(rows, index=["ℓ = log p(X | θ)", "log p(X, Z | θ), true Z"]).T
        st.table(frame.style.format("{:.3f}"))
        em_higher = comparison.em_log_likelihood - comparison.labelled_log_likelihood
        st.markdown(
            f"**What the hidden labels cost: {comparison.hidden_label_cost:.3f}** in "
            f"log p(X, Z | θ) (never negative: the labelled fit is its maximum). In return "
            f"EM's ℓ is {em_higher:+.3f} against the labelled fit's — ℓ is what EM climbs. "
            f"EM's most responsible component is the true one for "
            f"**{comparison.agreement:.1%}** of the points."
        )
        live_chart(plot_known_labels(history.X, true_labels(source), comparison), key="kl_chart")
