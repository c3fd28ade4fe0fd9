"""A Plotly chart that stays mounted while the shown step changes.

``st.plotly_chart`` gives a chart a new identity whenever its figure changes, so the browser
re-creates it on every step (~0.4 s). This component keeps one Plotly graph and updates it in
place with ``Plotly.react`` (~0.1 s). It is a Streamlit v2 component: it runs in the app's own
page, not in an iframe, so all the charts of a page share one plotly.js — the one that ships
with the plotly Python package (offline, no build step), fetched once per browser (served as a
cacheable file) and evaluated once per page.

Stepping without waiting for the server: the page may hand over, with the figure, the figures
of the steps its buttons lead to (``preload``) and which button leads where (``moves``). The
chart listens for clicks on those buttons and draws the preloaded step at once; the rerun the
click starts then brings the same figure, which is not drawn again.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import plotly
import plotly.graph_objects as go
import streamlit as st
import streamlit.components.v1 as components

_HERE = Path(__file__).parent


def _plotly_dir() -> Path:
    """A folder holding the plotly.js of the installed plotly package, for the server to serve."""
    folder = Path(tempfile.gettempdir()) / f"emviz-plotly-js-{plotly.__version__}"
    folder.mkdir(parents=True, exist_ok=True)
    source = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    target = folder / source.name
    if not target.exists() or target.stat().st_size != source.stat().st_size:
        shutil.copyfile(source, target)
    return folder


# Streamlit serves a declared component's folder at /component/<name>/ with a cacheable
# Cache-Control for files other than HTML; this declaration is only used for that.
_PLOTLY_FILES = components.declare_component("emviz_plotly_js", path=str(_plotly_dir()))
PLOTLY_URL = f"/component/{_PLOTLY_FILES.name}/plotly.min.js"

_live_chart = st.components.v2.component(
    "emviz_live_chart", js=(_HERE / "live_chart.js").read_text(), isolate_styles=False
)


def live_chart(
    figure: go.Figure | str,
    *,
    key: str,
    step: int | None = None,
    on_click: Callable[[dict], None] | None = None,
    preload: Mapping[int, str] | None = None,
    moves: Mapping[str, int] | None = None,
) -> None:
    """Show ``figure``; ``on_click(click)`` gets each click on it as
    {'curve', 'point', 'x', 'y', 'click'} (a click on trace 0 wins when several traces lie under
    the cursor; ``click`` counts clicks).

    ``step`` is written on the chart element (``data-step``) so tests can tell which step it
    shows. The figure travels as Plotly JSON, base64 arrays included; it may be given as that
    JSON text already (e.g. from a cache). Animation frames, if any, travel with it.

    ``preload`` maps step indices to their figures' JSON and ``moves`` buttons' widget keys to
    the step each button shows next; a click on such a button draws ``preload[moves[key]]`` at
    once.
    """
    spec = figure if isinstance(figure, str) else figure.to_json()
    height = int(json.loads(spec).get("layout", {}).get("height") or 500)
    _live_chart(
        key=key,
        data={
            "spec": spec,
            "step": step,
            "preload": {str(index): text for index, text in (preload or {}).items()},
            "moves": dict(moves or {}),
            "plotly": PLOTLY_URL,
        },
        height=height,
        on_click_change=None if on_click is None else lambda: on_click(_last_click(key)),
    )


def _last_click(key: str) -> dict | None:
    value = st.session_state.get(key)
    return None if value is None else value.get("click")
