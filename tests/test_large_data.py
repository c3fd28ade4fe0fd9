"""Figures of large runs: what is sent to the browser is bounded by the screen, not by N."""

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from emviz import GaussianMixture, run_em
from emviz.plots.mixture import (
    ANIMATION_POINT_FRAMES,
    MAX_DRAWN_POINTS,
    drawn_points,
    make_em_animation,
    play_frame_ms,
    plot_mixture,
)
from emviz.plots.palette import mixed_colours

N_LARGE = 200_000


@pytest.fixture(scope="module")
def large_run():
    rng = np.random.default_rng(3)
    X = np.concatenate(
        [rng.normal([0, 0], 1.0, (N_LARGE // 2, 2)), rng.normal([4, 1], 0.7, (N_LARGE // 2, 2))]
    )
    return run_em(GaussianMixture(2), X, "kmeans++", max_iter=100, tol=0, seed=0)


@pytest.fixture(scope="module")
def large_run_1d(large_run):
    return run_em(GaussianMixture(2), large_run.X[:, :1], "kmeans++", max_iter=10, tol=0, seed=0)


def test_drawn_points_are_a_fixed_sorted_sample():
    assert np.array_equal(drawn_points(10), np.arange(10))
    sample = drawn_points(N_LARGE)
    assert len(sample) == MAX_DRAWN_POINTS == len(np.unique(sample))
    assert np.all(np.diff(sample) > 0) and sample[-1] < N_LARGE
    assert np.array_equal(sample, drawn_points(N_LARGE))  # the same at every step


def test_responsibilities_of_some_rows_equal_those_rows_of_all(large_run):
    rows = drawn_points(N_LARGE)
    stored = next(iter(large_run.stored_resp))
    recomputed = max(i for i, s in enumerate(large_run.steps) if s.phase == "E")
    assert recomputed not in large_run.stored_resp  # 200 000 × 2 floats: not all are kept
    for index in (0, stored, recomputed, recomputed + 1):
        np.testing.assert_allclose(
            large_run.responsibilities(index, rows), large_run.responsibilities(index)[rows]
        )


def test_a_large_step_view_draws_a_stated_sample_under_its_ellipses(large_run):
    fig = plot_mixture(large_run, 7, selected=123_456)
    go.Figure(fig.to_dict())  # valid plotly
    points = fig.data[0]
    rows = drawn_points(N_LARGE)
    assert {trace.type for trace in fig.data} == {"scatter"}  # no WebGL layer above the ellipses
    assert np.array_equal(points.customdata, rows)  # a click names the real point
    np.testing.assert_array_equal(points.x, large_run.X[rows, 0])
    assert list(points.marker.color) == mixed_colours(large_run.responsibilities(7)[rows]).tolist()
    assert fig.layout.title.subtitle.text.startswith("2,000 of 200,000 points drawn")
    selected = fig.data[-1]  # drawn last: above everything, even when not in the sample
    assert (selected.x[0], selected.y[0]) == tuple(large_run.X[123_456])
    assert len(fig.to_json()) < 300_000


def test_a_large_1d_view_bins_every_point_and_samples_the_rug(large_run_1d):
    fig = plot_mixture(large_run_1d, 3)
    histogram, rug = fig.data[0], fig.data[-1]
    counts, _ = np.histogram(large_run_1d.X[:, 0], bins=len(histogram.x))
    assert np.sum(np.multiply(histogram.y, histogram.width)) == pytest.approx(1.0)
    assert counts.sum() == N_LARGE
    assert len(rug.x) == MAX_DRAWN_POINTS
    assert len(fig.to_json()) < 300_000


def test_the_animation_of_a_large_run_stays_small(large_run):
    fig = make_em_animation(large_run)
    text = pio.to_json(fig, validate=False)  # as the app sends it
    frames = json.loads(text)["frames"]
    assert len(frames) <= ANIMATION_POINT_FRAMES // MAX_DRAWN_POINTS < len(large_run)
    assert frames[0]["name"] == "0" and frames[-1]["name"] == str(len(large_run) - 1)
    assert len(text) < 8 * 2**20  # well under Streamlit's message limit at any N
    # a frame recolours the drawn points only: their positions are not sent again
    assert set(frames[5]["data"][0]) == {"marker"}
    step = int(frames[5]["name"])
    assert (
        frames[5]["data"][0]["marker"]["color"]
        == mixed_colours(large_run.responsibilities(step, drawn_points(N_LARGE))).tolist()
    )
    title = fig["layout"]["title"]
    assert f"({len(frames)} of its {len(large_run)} steps)" in title["text"]
    assert title["subtitle"]["text"]


def test_play_speed_suits_short_and_long_runs():
    assert play_frame_ms(13) == 400  # a 12-step run takes ~5 s, not 0.4 s
    assert play_frame_ms(201) == 30
    assert 30 < play_frame_ms(60) < 400
