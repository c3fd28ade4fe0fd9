"""Opening a page of the app in AppTest, shared by the page tests."""

import base64
import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

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
        if "shape" not in value:
            return array
        shape = value["shape"]  # "80, 80" in Plotly's JSON
        return array.reshape(
            [int(n) for n in shape.split(",")] if isinstance(shape, str) else shape
        )
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
