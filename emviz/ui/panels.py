"""Panels beside the step view: parameter table, formulas, point inspector, downloads."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from emviz.analysis.explain import parameter_changes, point_breakdown
from emviz.ui import state

_CHANGED_STYLE = "background-color: #ffe08a; font-weight: 600"

E_STEP_LATEX = (
    r"r_{nk} \;=\; q(z_n = k) \;=\; \frac{\pi_k\,\mathcal{N}(x_n \mid \mu_k, \Sigma_k)}"
    r"{\sum_{j=1}^{K} \pi_j\,\mathcal{N}(x_n \mid \mu_j, \Sigma_j)}"
)
M_STEP_LATEX = {
    "weights": r"N_k = \sum_{n=1}^{N} r_{nk}, \qquad \pi_k = \frac{N_k}{N}, \qquad "
    r"\mu_k = \frac{1}{N_k}\sum_{n=1}^{N} r_{nk}\, x_n",
    "full": r"\Sigma_k = \frac{1}{N_k}\sum_{n=1}^{N} r_{nk}\,(x_n-\mu_k)(x_n-\mu_k)^\top",
    "diag": r"\Sigma_k = \operatorname{diag}\Big(\frac{1}{N_k}\sum_{n} r_{nk}"
    r"\,(x_n-\mu_k)^{2}\Big)",
    "spherical": r"\Sigma_k = \sigma_k^2 I,\quad \sigma_k^2 = \frac{1}{D N_k}\sum_{n} r_{nk}"
    r"\,\lVert x_n-\mu_k\rVert^2",
    "tied": r"\Sigma = \frac{1}{N}\sum_{k}\sum_{n} r_{nk}\,(x_n-\mu_k)(x_n-\mu_k)^\top",
}
INIT_LATEX = r"q(z_n = k) = \tfrac{1}{K}\quad\text{for every point (no E-step yet)}"
DECOMPOSITION_LATEX = (
    r"\ln p(X\mid\theta) = \mathcal{L}(q,\theta) + \mathrm{KL}\big(q \,\|\, p(Z\mid X,\theta)\big)"
)


def parameter_table(history, cursor: int) -> None:
    """The shown step's parameters; cells changed by this half-step are highlighted."""
    rows, changed = parameter_changes(history, cursor)
    # components as rows: K <= 8 rows, and at most 6 columns (2-D full covariance), which fit
    # the page's width down to a phone's without a hidden sideways scroll
    frame = pd.DataFrame(rows).set_index("component")
    mask = pd.DataFrame(changed).drop(columns="component").set_index(frame.index)
    frame.index.name = "k"
    styled = frame.style.apply(
        lambda _: mask.map(lambda c: _CHANGED_STYLE if c else ""), axis=None
    ).format(precision=4)
    st.table(styled, hide_index=False)
    st.caption("Highlighted: changed by this half-step. An E-step never changes θ.")


def phase_formulas(covariance_type: str, reg_covar: float) -> None:
    """Both half-steps' formulas side by side. Drawn outside the stepping fragment: typesetting
    them again on every step costs ~0.1 s in the browser and they only depend on the model."""
    # side by side where each column can hold the widest formula, else stacked (emviz.ui.style)
    e_step, m_step = st.container(key="formulas").columns(2, gap="medium")
    with e_step:
        st.markdown("**E-step** — responsibilities, θ fixed")
        st.latex(E_STEP_LATEX)
        st.caption("Before the first E-step (step 0):")
        st.latex(INIT_LATEX)
    with m_step:
        st.markdown("**M-step** — weighted maximum likelihood, q fixed")
        st.latex(M_STEP_LATEX["weights"])
        st.latex(M_STEP_LATEX[covariance_type] + (r" \;+\; \varepsilon I" if reg_covar else ""))
    st.latex(DECOMPOSITION_LATEX)


def phase_pointer(phase: str) -> None:
    """One line naming which formulas below the shown half-step used."""
    used = {
        "init": "no formula yet: q is uniform (below, “Before the first E-step”)",
        "E": "the **E-step** formula (below)",
        "M": "the **M-step** formulas (below)",
    }[phase]
    st.markdown(f"This half-step used {used}.")


def inspected_point(n_samples: int) -> int:
    """The inspected point (ringed in the chart): 0 at first, and again when the data shrank
    below it, so a smaller data set never points past its end."""
    point = state.get("pt")
    if not 0 <= point < n_samples:
        state.forget("pt")
        point = 0
    return point


def inspect_point(point: int) -> None:
    state.put("pt", int(point))


def point_inspector(history, cursor: int) -> None:
    """Responsibilities of one point for every component, with the numbers behind them."""
    last = len(history.X) - 1
    point = st.number_input(
        "Point number (or click a point in the plot)", 0, last, **state.bind("pt", bounds=(0, last))
    )
    x = ", ".join(f"{v:.4f}" for v in history.X[point])
    rows = point_breakdown(history, cursor, int(point))
    st.markdown(f"Point **{point}** at ({x})")
    frame = pd.DataFrame(rows).set_index("component")
    frame.index = [f"component {k}" for k in frame.index]
    st.table(frame.style.format("{:.4g}"))
    if "π · N" in frame:
        total = frame["π · N"].sum()
        st.caption(
            f"Responsibility = (π · N) / Σⱼ πⱼ Nⱼ, with Σⱼ πⱼ Nⱼ = {total:.4g} = p(x). "
            "After an M-step these use the previous θ: the M-step does not change q."
        )
    else:
        st.caption("At the initial state q is uniform: no E-step has looked at the data yet.")


def downloads(history, make_figure) -> None:
    """The run as JSON and CSV, the shown figure as standalone HTML (all built only on click).

    ``make_figure()`` returns the figure to save.
    """
    files = (
        ("History (JSON)", history.to_json, "em_history.json", "application/json", "dl_json"),
        ("History (CSV)", history.to_csv, "em_history.csv", "text/csv", "dl_csv"),
        (
            "Figure (HTML)",
            lambda: make_figure().to_html(include_plotlyjs=True),
            "em_step.html",
            "text/html",
            "dl_html",
        ),
    )
    for column, (label, data, file_name, mime, key) in zip(st.columns(3), files):
        column.download_button(
            label,
            data=data,
            file_name=file_name,
            mime=mime,
            on_click="ignore",
            key=key,
            width="stretch",
        )
