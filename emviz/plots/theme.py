"""The look every emviz figure shares: one Plotly template, set on each figure's layout.

Each figure names ``THEME`` as its ``layout.template`` and keeps only what is its own (size,
axis titles and ranges, where its legend sits). Naming a template also keeps Plotly's default
one out of the figure: whichever is current (plotly's ~7 KB 'plotly' template, or the
placeholder template Streamlit makes the default when it is imported) would otherwise travel
in every figure's JSON. ``THEME`` is passed, never registered in ``plotly.io.templates``
(global state); Plotly copies it into each figure.

What is not set here is plotly.js's own default, which the figures rely on: white background,
light grey grid (#eee; a template's ``xaxis`` applies to every x axis), a dark zero line,
12 px text, centred titles.
"""

from __future__ import annotations

import plotly.graph_objects as go

from emviz.plots.palette import COMPONENT_COLOURS

THEME = go.layout.Template(
    layout={
        "colorway": COMPONENT_COLOURS,  # a trace without a colour of its own
        "title": {"font": {"size": 14}},
        "legend": {"orientation": "h", "font": {"size": 11}},  # below the plot: y per figure
        "margin": {"l": 70, "r": 10, "t": 40, "b": 40},
        "xaxis": {"showgrid": True},  # under bars too (plotly.js leaves a bar chart's x grid out)
    }
)
