"""AppTest of the "Likelihood landscape" page: surface, critical points, paths, saddle demo."""

import json

import numpy as np
import pytest

from emviz.analysis.landscape import critical_points
from emviz.data import make_two_mean_sample
from emviz.models import TwoMeanMixture
from tests.apptest_helpers import decode, open_page, plotly_figure


def _open():
    return open_page("pages/landscape.py")


def _live_figure(at, key):
    element = next(e for e in at.get("bidi_component") if e.proto.id.endswith(f"-{key}"))
    return json.loads(json.loads(element.proto.json)["spec"])


def _traces(figure, name_start):
    return [t for t in figure["data"] if t.get("name", "").startswith(name_start)]


def test_page_draws_surface_critical_points_and_three_paths():
    at = _open()
    figure = _live_figure(at, "land_chart")
    assert figure["data"][0]["type"] == "contour"
    points = critical_points(TwoMeanMixture(), make_two_mean_sample())
    maxima = _traces(figure, "maxim")[0]
    assert len(maxima["x"]) == sum(p.kind == "maximum" for p in points) >= 2
    for method in ("EM", "gradient ascent", "Newton–Raphson"):
        assert len(_traces(figure, method)) == 1
    table = at.dataframe[0].value
    assert list(table["method"]) == ["EM", "gradient ascent", "Newton–Raphson"]
    assert table.loc[0, "ℓ decreased?"] == "never"


def test_saddle_button_and_nudge():
    at = _open()
    at.button(key="land_saddle").click().run()
    table = at.dataframe[0].value
    assert table.loc[0, "ended at"].startswith("saddle")
    at.button(key="land_nudge").click().run()
    figure = _live_figure(at, "land_chart")
    start = _traces(figure, "start")[0]
    saddle = _traces(figure, "saddle")[0]
    assert abs(start["x"][0] - saddle["x"][0] - 1e-3) < 1e-9


def _region(figure):
    surface = figure["data"][0]
    mu1, mu2 = decode(surface["x"]), decode(surface["y"])
    return (mu1[0], mu1[-1]), (mu2[0], mu2[-1])


def test_large_learning_rate_shows_a_decrease_and_3d_view():
    at = _open()
    at.select_slider(key="lr").set_value(5.0).run()
    table = at.dataframe[0].value
    assert table.loc[1, "ℓ decreased?"].startswith("yes")
    # gradient ascent diverges: drawn up to the map's edge, and the legend says where it left
    figure = _live_figure(at, "land_chart")
    (x0, x1), (y0, y1) = _region(figure)
    ascent = _traces(figure, "gradient ascent")
    assert ascent[0]["name"].startswith("gradient ascent: left the map at step ")
    for trace in ascent:
        x, y = decode(trace["x"]), decode(trace["y"])
        assert np.all((x >= x0) & (x <= x1 + 1e-9) & (y >= y0) & (y <= y1 + 1e-9))
    at.toggle(key="v3d").set_value(True).run()
    assert not at.exception
    surface = plotly_figure(at, "land_3d_chart")
    assert surface["data"][0]["type"] == "surface"
    scene = surface["layout"]["scene"]  # the axes keep to the surface, not to ±800 000
    assert scene["xaxis"]["range"] == pytest.approx([x0, x1])
    assert scene["yaxis"]["range"] == pytest.approx([y0, y1])
    low, high = scene["zaxis"]["range"]
    assert high - low < 2000
    assert _traces(surface, "gradient ascent: left the map")


def test_intro_words_the_surface_from_its_critical_points():
    at = _open()
    intro = at.markdown[0].value
    points = critical_points(TwoMeanMixture(), make_two_mean_sample())
    assert "second, lower mode" in intro and "**saddle**" in intro
    saddle = next(p for p in points if p.kind == "saddle")
    assert f"({saddle.location[0]:.2f}, {saddle.location[1]:.2f})" in intro
    # one Gaussian in disguise (equal means and variances): one maximum, and no promise of two
    at.slider(key="lm2").set_value(0.0).run()
    at.slider(key="lv2").set_value(1.0).run()
    intro = at.markdown[0].value
    assert "single maximum" in intro and "second, lower mode" not in intro


def test_data_controls_change_the_surface():
    at = _open()
    before = _live_figure(at, "land_chart")["data"][0]
    at.slider(key="lm2").set_value(1.0).run()
    after = _live_figure(at, "land_chart")["data"][0]
    assert not at.exception
    assert before["z"] != after["z"]
    assert np.isfinite(np.asarray(at.dataframe[0].value["final ℓ"], dtype=float)).all()


def test_the_basin_toggle_colours_every_start_by_where_em_ends():
    from emviz import runs
    from emviz.settings import LandscapeSettings

    at = _open()
    assert not _traces(_live_figure(at, "land_chart"), "basins")
    at.toggle(key="bas").set_value(True).run()
    assert not at.exception
    figure = _live_figure(at, "land_chart")
    (heatmap,) = _traces(figure, "basins")
    settings = LandscapeSettings()
    basins = runs.landscape_basins(settings, runs.landscape_critical_points(settings))
    kinds = np.floor(np.asarray(decode(heatmap["z"]), dtype=float)).astype(int)
    np.testing.assert_array_equal(kinds, np.where(basins.labels >= 0, basins.labels, 3))
    assert heatmap["colorscale"][0][0] == 0 and heatmap["colorscale"][-1][0] == 1
    shares = [t["name"] for t in _traces(figure, "ends at")]
    assert len(shares) == 2 and all("% of starts" in name for name in shares)
    assert any(c.value.startswith("Of 6,400 starts, 53% reach the maximum") for c in at.caption)
    # the basin map is a setting: it holds in the link
    assert at.query_params.get("bas") in (["1"], "1")
