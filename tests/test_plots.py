"""Figures carry the right data: colours from responsibilities, ellipses at the right radius."""

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from emviz import GaussianMixture, run_em
from emviz.analysis.explain import describe_step, parameter_changes, point_breakdown
from emviz.plots.bound import (
    plot_audit,
    plot_bound_surface,
    plot_decomposition,
    plot_q_and_entropy,
)
from emviz.plots.comparison import plot_learning_rate_sweep, plot_log_likelihood_paths
from emviz.plots.landscape import plot_landscape, plot_landscape_3d
from emviz.plots.mixture import (
    make_em_animation,
    plot_log_likelihood_trace,
    plot_mixture_1d,
    plot_mixture_2d,
)
from emviz.plots.palette import COMPONENT_COLOURS, mixed_colours
from emviz.plots.theme import THEME
from emviz.step_targets import step_targets, target_step


@pytest.fixture
def history(three_blobs):
    return run_em(GaussianMixture(3), three_blobs, "kmeans++", max_iter=6, tol=0, seed=1)


@pytest.fixture
def history_1d():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-2, 0.7, 150), rng.normal(2, 1.0, 250)])[:, None]
    return run_em(GaussianMixture(2), X, "random_from_data", max_iter=5, tol=0, seed=0)


def _rgb(text):
    return np.array([int(text[i : i + 2], 16) for i in (1, 3, 5)])


def test_mixed_colours_are_responsibility_weighted():
    resp = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    colours = mixed_colours(resp)
    blue, vermillion = (
        np.array([int(c[i : i + 2], 16) for i in (1, 3, 5)]) for c in COMPONENT_COLOURS[:2]
    )
    np.testing.assert_array_equal(_rgb(colours[0]), blue)
    np.testing.assert_array_equal(_rgb(colours[1]), vermillion)
    np.testing.assert_allclose(_rgb(colours[2]), (blue + vermillion) / 2, atol=0.51)
    # the vectorised hex formatting agrees with formatting each point by hand
    rgb = np.rint(resp @ np.array([blue, vermillion])).astype(int)
    assert colours.tolist() == [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in rgb]


def test_2d_figure_points_ellipses_and_means(history):
    index = 4
    fig = plot_mixture_2d(history, index, selected=7)
    params = history[index].params
    assert len(fig.data) == 1 + 3 + 1 + 1
    assert list(fig.data[0].marker.color) == mixed_colours(history.responsibilities(index)).tolist()
    means = fig.data[4]
    for k in range(3):
        rings = fig.data[1 + k]
        xy = np.column_stack([rings.x, rings.y])
        gap = np.flatnonzero(np.isnan(xy[:, 0]))[0]
        precision = np.linalg.inv(params.covariances[k])
        for ring, radius in ((xy[:gap], 1.0), (xy[gap + 1 :], 2.0)):
            diff = ring - params.means[k]
            mahalanobis = np.einsum("ni,ij,nj->n", diff, precision, diff)
            np.testing.assert_allclose(mahalanobis, radius**2, rtol=1e-9)
        assert (means.x[k], means.y[k]) == tuple(params.means[k])
        assert f"{params.weights[k]:.3f}" in rings.name
        assert means.text[k] == f"π{k + 1}={params.weights[k]:.2f}"
    selected = fig.data[-1]
    assert (selected.x[0], selected.y[0]) == tuple(history.X[7])


def test_1d_figure_densities_and_strip(history_1d):
    index = 5
    fig = plot_mixture_1d(history_1d, index)
    histogram, c1, c2, mixture, s1, s2, rug = fig.data
    assert histogram.type == "bar"  # binned on the server: N values never travel
    density, edges = np.histogram(history_1d.X[:, 0], bins=len(histogram.x), density=True)
    np.testing.assert_allclose(histogram.y, density)
    assert np.sum(np.multiply(histogram.y, histogram.width)) == pytest.approx(1.0)
    np.testing.assert_allclose(np.add(c1.y, c2.y), mixture.y, rtol=1e-12)
    np.testing.assert_allclose(np.add(s1.y, s2.y), 1.0, rtol=1e-12)
    params = history_1d[index].params
    peak = params.weights[0] / np.sqrt(2 * np.pi * params.covariances[0, 0, 0])
    assert max(c1.y) == pytest.approx(peak, rel=1e-3)
    assert s1.xaxis == "x2" and c1.xaxis == "x"


def test_animation_has_a_frame_per_step(history):
    as_dict = make_em_animation(history)
    fig = go.Figure(as_dict)  # full plotly validation of every frame (skipped when building)
    frames = as_dict["frames"]
    assert [f["name"] for f in frames] == [str(i) for i in range(len(history))]
    assert (
        list(frames[3]["data"][0]["marker"]["color"])
        == mixed_colours(history.responsibilities(3)).tolist()
    )
    assert fig.layout.sliders[0].steps[3].label == "3 E"
    assert fig.layout.updatemenus[0].buttons[0].args[1]["frame"]["redraw"] is False
    assert fig.layout.updatemenus[0].buttons[0].label == "▶ Play"
    assert len(fig.layout.sliders[0].steps) == len(history)


def test_animation_of_a_1d_run_is_valid(history_1d):
    as_dict = make_em_animation(history_1d)
    go.Figure(as_dict)
    assert len(as_dict["frames"]) == len(history_1d)
    # frames leave the histogram (trace 0) alone and redraw the rest
    assert as_dict["frames"][0]["traces"] == list(range(1, 1 + len(as_dict["frames"][0]["data"])))


def test_step_figures_are_valid_plotly(history, history_1d):
    for fig in (plot_mixture_2d(history, 3, selected=2), plot_mixture_1d(history_1d, 4)):
        go.Figure(fig.to_dict())


def test_animation_thins_long_runs(three_blobs):
    long_run = run_em(GaussianMixture(2), three_blobs, "kmeans++", max_iter=200, tol=0)
    fig = make_em_animation(long_run, max_frames=50)
    names = [int(f["name"]) for f in fig["frames"]]
    assert len(names) <= 50 and names[0] == 0 and names[-1] == len(long_run) - 1


def test_log_likelihood_trace_tells_phases_apart(history):
    fig = plot_log_likelihood_trace(history, 3)
    by_name = {trace.name: trace for trace in fig.data}
    e_trace = by_name["ℓ after E-step"]
    expected = [s.log_likelihood for s in history.steps if s.phase == "E"]
    np.testing.assert_array_equal(e_trace.y, expected)
    assert by_name["shown step"].y[0] == history[3].log_likelihood


def test_step_targets(history):
    last = len(history) - 1
    assert target_step(history, 0, "e_step") == 1
    assert target_step(history, 0, "m_step") is None
    assert target_step(history, 1, "m_step") == 2
    assert target_step(history, 0, "iteration") == 2
    assert target_step(history, 1, "iteration") == 2
    assert target_step(history, 3, "back") == 2
    assert target_step(history, 0, "back") is None
    assert target_step(history, 5, "reset") == 0
    assert target_step(history, 0, "converge") == last
    assert target_step(history, last, "iteration") is None
    assert step_targets(history, 1) == {
        "m_step": 2,
        "iteration": 2,
        "converge": last,
        "back": 0,
        "reset": 0,
    }
    assert step_targets(history, last) == {"back": last - 1, "reset": 0}


def test_m_step_sentence_quotes_the_moved_mean(history):
    text = describe_step(history, 2)
    moves = np.linalg.norm(history[2].params.means - history[1].params.means, axis=1)
    k = int(np.argmax(moves))
    assert text.startswith("M-step")
    assert f"component {k + 1}'s mean moved from" in text
    assert "({:.3f}, {:.3f})".format(*history[2].params.means[k]) in text


def test_parameter_changes_flags_only_m_steps(history):
    _, changed_e = parameter_changes(history, 3)
    _, changed_m = parameter_changes(history, 4)
    assert not any(any(row.values()) for row in changed_e)
    assert all(row["weight π"] for row in changed_m)


def test_point_breakdown_is_bayes_rule(history):
    rows = point_breakdown(history, 4, point=11)
    products = np.array([r["π · N"] for r in rows])
    np.testing.assert_allclose(
        [r["responsibility"] for r in rows], products / products.sum(), rtol=1e-9
    )
    # after the M-step at index 4, q was computed from θ at index 3
    assert rows[0]["weight π"] == history[3].params.weights[0]


def test_jensen_figure_survives_ratios_that_underflow():
    """A collapsed component: p(x, z) underflows to 0 for some or every z (no exception)."""
    from emviz.analysis.bound import JensenTerms
    from emviz.plots.bound import plot_jensen

    for log_joint in ([-2.0, -1e4], [-1e4, -1.2e4]):
        log_joint = np.array(log_joint)
        q = np.array([0.5, 0.5])
        evidence = float(np.logaddexp.reduce(log_joint))
        bound = float(q @ (log_joint - np.log(q)))
        terms = JensenTerms(
            log_joint,
            q,
            np.exp(log_joint - evidence),
            evidence,
            evidence,
            bound,
            evidence - bound,
            evidence - bound,
        )
        fig = plot_jensen(terms)
        assert np.all(np.asarray(fig.data[0].x) > 0)
        np.testing.assert_allclose(fig.data[1].y, log_joint - np.log(q))  # finite, exact


def _tick_labels(axis) -> list[str]:
    """The labels plotly writes on ``axis`` (a layout axis with range, tick0, dtick and a
    d3 ',.Nf' tickformat), formatted the same way in Python."""
    low, high = axis.range
    decimals = int(axis.tickformat.removeprefix(",.").removesuffix("f"))
    first = np.ceil((low - axis.tick0) / axis.dtick) * axis.dtick + axis.tick0
    return [f"{v:,.{decimals}f}" for v in np.arange(first, high, axis.dtick)]


@pytest.mark.parametrize("n_components", [1, 3])
def test_log_likelihood_axis_has_readable_distinct_ticks(three_blobs, n_components):
    """ℓ that barely changes (K = 1 converges at once) still gets a readable axis: a few
    distinct labels of at most 9 significant digits, every recorded ℓ inside the range."""
    history = run_em(GaussianMixture(n_components), three_blobs, "kmeans++", seed=1)
    axis = plot_log_likelihood_trace(history, 0).layout.yaxis
    ll = history.column("log_likelihood")
    low, high = axis.range
    assert low < ll.min() <= ll.max() < high
    assert high - low >= 1e-5 * abs(ll.max())
    labels = _tick_labels(axis)
    assert 3 <= len(labels) <= 11 and len(set(labels)) == len(labels)
    assert all(sum(c.isdigit() for c in label) <= 9 for label in labels)
    assert axis.automargin and axis.title.standoff > 0


def test_every_figure_carries_the_theme_and_no_default_template(history, history_1d, monkeypatch):
    """Whatever template is plotly's default (Streamlit makes its own the default when it is
    imported), a figure sends only emviz's THEME: its look is the same in the app and in a
    notebook, and no ~4–7 KB default template travels with every step."""
    monkeypatch.setattr(pio.templates, "default", "plotly")
    grid_axis = np.linspace(-1.0, 1.0, 5)
    surface = -np.add.outer(grid_axis**2, grid_axis**2)
    figures = {
        "2-D step": plot_mixture_2d(history, 3),
        "1-D step": plot_mixture_1d(history_1d, 3),
        "trace": plot_log_likelihood_trace(history, 3),
        "animation": make_em_animation(history),
        "decomposition": plot_decomposition(history, 3),
        "Q and H": plot_q_and_entropy(history, 3),
        "empty audit": plot_audit([]),
        "bound surface": plot_bound_surface(grid_axis, grid_axis, surface, surface - 1, (0, 0, 0)),
        "landscape": plot_landscape(grid_axis, grid_axis, surface),
        "landscape 3-D": plot_landscape_3d(grid_axis, grid_axis, surface),
        "learning rates": plot_learning_rate_sweep([], em_iterations=5),
        "ℓ per iteration": plot_log_likelihood_paths([]),
    }
    expected = json.loads(pio.to_json(go.Figure(layout={"template": THEME}), validate=False))
    for name, figure in figures.items():
        sent = json.loads(pio.to_json(figure, validate=False))
        assert sent["layout"]["template"] == expected["layout"]["template"], name
