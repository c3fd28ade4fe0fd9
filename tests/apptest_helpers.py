"""Opening a page of the app in AppTest, shared by the page tests."""

import base64
import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from emviz.ui.state import STORE

ROOT = Path(__file__).resolve().parents[1]


def open_page(page: str, timeout: float = 180) -> AppTest:
    """Run app.py, switch to ``page`` (a path like 'pages/landscape.py'), check no exception."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def decode(value):
    """Plotly's JSON arrays: plain lists, or {'dtype', 'bdata'} base64-encoded binary."""
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        if isinstance(shape, str):  # a 2-D array's shape travels as text: "51, 51"
            shape = tuple(int(size) for size in shape.split(","))
        return array if shape is None else array.reshape(shape)
    return np.asarray(value)


def plotly_figure(at: AppTest, key: str) -> dict:
    """The Plotly JSON of the chart with key ``key``: a live chart (emviz.ui.live_chart) or
    an st.plotly_chart."""
    for element in at.get("bidi_component"):
        if element.proto.id.endswith(f"-{key}"):
            return json.loads(json.loads(element.proto.json)["spec"])
    for element in at.get("plotly_chart"):
        if element.proto.id.endswith(f"-{key}") or f"-{key}-" in element.proto.id:
            return json.loads(element.proto.spec)
    ids = [element.proto.id for element in at.get("plotly_chart")]
    raise AssertionError(f"no plotly chart with key {key!r} among {ids}")


def choose(at: AppTest, **settings) -> AppTest:
    """Set settings that AppTest has no widget for, as the learner's click would, and rerun:
    an open tab (``etab``, ``ftab``) or the audit's details (``aud``). A tab or an expander is
    bound to its setting (`emviz.ui.state.bind`), so writing the store is what the click does."""
    store = dict(at.session_state[STORE])
    store.update(settings)
    at.session_state[STORE] = store
    at.run()
    assert not at.exception, at.exception
    return at


def chart_keys(at: AppTest) -> set[str]:
    """The keys of the live charts on the shown page (not the plotly.js preloader)."""
    return {e.proto.id.rsplit("-", 1)[-1] for e in at.get("bidi_component")} - {"plotly_preload"}


def check_tabs(at: AppTest, setting: str, labels, drawn: dict, heading: str) -> None:
    """A page of tabs (``labels``, slug -> tab label, bound to ``setting``) draws the open
    tab's section alone: for each slug, ``drawn[slug]`` = (its ``heading``-kind heading, the
    set of its chart keys); the first tab is open by default, the others travel in the link."""
    assert [tab.label for tab in at.tabs] == list(labels.values())
    first = next(iter(labels))
    for slug, (title, charts) in drawn.items():
        if slug != first:
            choose(at, **{setting: slug})
        assert [h.value for h in getattr(at.main, heading)] == [title], slug
        assert chart_keys(at) == charts, slug
        assert dict(at.query_params).get(setting) == (None if slug == first else slug)
        assert at.sidebar.slider(key="k")  # the sidebar's mixture, whatever the tab
