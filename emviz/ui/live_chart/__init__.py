"""A Plotly chart that stays mounted while the shown step changes.

``st.plotly_chart`` gives a chart a new identity whenever its figure changes, so the browser
re-creates it on every step (~0.4 s). This component keeps one Plotly graph in one iframe and
updates it in place with ``Plotly.react`` (~0.1 s). It loads the plotly.js that ships with the
plotly Python package, so it works offline and needs no build step.

Stepping without waiting for the server: the page may hand over, with the figure, the figures
of the steps its buttons lead to (``preload``) and which button leads where (``moves``). The
iframe, served from the app's own origin, listens for clicks on those buttons in the page and
draws the preloaded step at once; the rerun the click starts then brings the same figure, which
is not drawn again. Without ``moves`` the chart simply follows the server.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import plotly
import plotly.graph_objects as go
import streamlit.components.v1 as components

_HERE = Path(__file__).parent


def _component_dir() -> Path:
    """A folder holding index.html and plotly.js, the two files the iframe loads."""
    folder = Path(tempfile.gettempdir()) / f"emviz-live-chart-{plotly.__version__}"
    folder.mkdir(parents=True, exist_ok=True)
    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    for source in (_HERE / "index.html", plotly_js):
        target = folder / source.name
        if not target.exists() or target.stat().st_size != source.stat().st_size:
            shutil.copyfile(source, target)
    return folder


_live_chart = components.declare_component("emviz_live_chart", path=str(_component_dir()))


def live_chart(
    figure: go.Figure | str,
    *,
    key: str,
    step: int | None = None,
    on_change=None,
    preload: Mapping[int, str] | None = None,
    moves: Mapping[str, int] | None = None,
):
    """Show ``figure``; return the last click as {'curve', 'point', 'x', 'y', 'click'}.

    A click on trace 0 wins when several traces lie under the cursor; ``click`` counts clicks.

    ``step`` is written on the chart element (``data-step``) so tests can tell which step it
    shows. The figure travels as Plotly JSON, base64 arrays included; it may be given as that
    JSON text already (e.g. from a cache).

    ``preload`` maps step indices to their figures' JSON and ``moves`` buttons' widget keys to
    the step each button shows next; a click on such a button draws ``preload[moves[key]]`` at
    once.
    """
    spec = figure if isinstance(figure, str) else figure.to_json()
    height = int(json.loads(spec).get("layout", {}).get("height") or 500)
    return _live_chart(
        spec=spec,
        step=step,
        preload={str(index): text for index, text in (preload or {}).items()},
        moves=dict(moves or {}),
        key=key,
        default=None,
        height=height,
        on_change=on_change,
    )
