"""A Plotly chart that stays mounted while the shown step changes.

``st.plotly_chart`` gives a chart a new identity whenever its figure changes, so the browser
re-creates it on every step (~0.4 s). This component keeps one Plotly graph and updates it in
place with ``Plotly.react`` (~0.1 s). It is a Streamlit v2 component: it runs in the app's own
page, not in an iframe, so all the charts of a page share one plotly.js (offline, no build
step), fetched once per browser (a static file of the app that browsers keep, see
`_static_url`) and evaluated once per page: plotly.js's cartesian bundle, or the plotly
package's full one for a figure that needs more (WebGL, 3-D).
`preload_plotly()` starts that while the page's script is still running.

Stepping without waiting for the server: the page may hand over, with the figure, the figures
of the steps its buttons lead to (``preload``) and which button leads where (``moves``). The
chart listens for clicks on those buttons and draws the preloaded step at once; the rerun the
click starts then brings the same figure, which is not drawn again.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import plotly
import plotly.graph_objects as go
import streamlit as st

_HERE = Path(__file__).parent


# static/ beside app.py (the repository's root) is served at app/static/ (enableStaticServing)
STATIC_DIR = _HERE.parents[2] / "static"
_LONG_AGO = 946_684_800  # 2000-01-01: a file this old is fresh for months by HTTP's heuristic


def _static_url(source: Path, name: str) -> str:
    """The URL of ``source`` served as the static file ``name`` of the app: named after its
    version (a new version is a new URL) and dated long ago, so that browsers keep it for
    months (Streamlit sends no max-age; the heuristic is a tenth of the file's age)."""
    target = STATIC_DIR / name
    if not target.exists() or target.stat().st_size != source.stat().st_size:
        STATIC_DIR.mkdir(exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.part")  # never serve half a file
        shutil.copyfile(source, partial)
        os.utime(partial, (_LONG_AGO, _LONG_AGO))
        os.replace(partial, target)
    return f"app/static/{name}"


# the full plotly.js of the plotly package, and its cartesian part (see PROVENANCE.md), which
# draws every default view and loads faster
PLOTLY_FULL_URL = _static_url(
    Path(plotly.__file__).parent / "package_data" / "plotly.min.js",
    f"plotly-{plotly.__version__}.min.js",
)
PLOTLY_URL = _static_url(_HERE / "plotly-cartesian-4.1.1.min.js", "plotly-cartesian-4.1.1.min.js")

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
    {'curve', 'point', 'customdata', 'x', 'y', 'click'} (a click on trace 0 wins when several
    traces lie under the cursor; ``point`` is the index within the trace, ``customdata`` the
    point's own (e.g. its row when a figure draws a sample); ``click`` counts clicks).

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
            "plotly_full": PLOTLY_FULL_URL,
        },
        height=height,
        on_click_change=None if on_click is None else lambda: on_click(_last_click(key)),
    )


def preload_plotly() -> None:
    """Start fetching and evaluating plotly.js now, before the first chart needs it.

    The browser mounts a page's v2 components together, late in its first run (the charts
    and this preloader alike), so the preloader alone starts the download when the charts
    already wait for it. A ``<link rel=preload>`` written by a small script is there as soon
    as the frontend shows the menu, and the preloader's ``<script src>`` then takes the
    fetched file (same URL and mode) and only evaluates it."""
    with st.container(gap=None):  # both take no room: one place in the layout, as one was
        st.html(_PRELOAD_LINK, unsafe_allow_javascript=True)
        _live_chart(key="plotly_preload", data={"plotly": PLOTLY_URL}, height=0)


_PRELOAD_LINK = f"""<script>
if (!document.querySelector("link[data-emviz-preload]")) {{
  const link = document.createElement("link");
  link.rel = "preload";
  link.as = "script";
  link.href = "{PLOTLY_URL}";
  link.dataset.emvizPreload = "";
  document.head.appendChild(link);
}}
</script>"""


def _last_click(key: str) -> dict | None:
    value = st.session_state.get(key)
    return None if value is None else value.get("click")
