"""What the "Where EM ends up" page computes (emviz.runs) and draws (emviz.plots.basins)."""

import numpy as np
import pytest

from emviz import runs
from emviz.analysis.basins import (
    classify_restarts,
    label_ends,
    spherical_derivatives,
    spherical_restarts,
    symmetric_basins,
    symmetric_em_map,
    symmetric_fixed_point,
)
from emviz.data import jin_centres_1d, jin_centres_2d, jin_sample
from emviz.models import SphericalMeansMixture
from emviz.plots.basins import (
    plot_bad_share_by_components,
    plot_boundary_escape,
    plot_restart_configuration,
    plot_restart_log_likelihoods,
    plot_symmetric_basins,
)
from emviz.settings import (
    FAR_FACTOR,
    N_PER_CLUSTER,
    SphericalRestartSettings,
    SymmetricBasinSettings,
)

SMALL = SymmetricBasinSettings(separation=3.0, n_samples=200, seed=4)


@pytest.fixture(scope="module")
def basins():
    return runs.symmetric_basin_map(SMALL, half=8)


def test_the_mirrored_half_equals_em_from_every_start(basins):
    """EM runs from the upper half only; the lower half, turned by 180°, is what EM from
    those starts gives."""
    X, theta_star = runs.symmetric_data(SMALL)
    np.testing.assert_array_equal(basins.X, X)
    full = symmetric_basins(X, basins.axis, basins.axis, max_iter=300, tol=1e-8)
    np.testing.assert_allclose(basins.ends, full.on_grid(full.ends), atol=1e-6)
    assert np.abs(basins.iterations - full.on_grid(full.iterations)).max() <= 1
    assert basins.axis[8] == 0.0 and np.array_equal(basins.axis, -basins.axis[::-1])
    theta_hat = symmetric_fixed_point(X, theta_star)
    np.testing.assert_allclose(basins.theta_hat, theta_hat)
    labels = label_ends(full.ends, [theta_hat, -theta_hat], atol=0.05 * np.linalg.norm(theta_hat))
    np.testing.assert_array_equal(basins.labels.ravel(), np.where(labels < 0, 2, labels))


def test_the_labels_and_the_share_by_sign(basins):
    first, second = np.meshgrid(basins.axis, basins.axis)
    projection = first * basins.theta_star[0] + second * basins.theta_star[1]
    # θ0 = 0 stays at 0: the one start that ends at neither
    assert (basins.labels == runs.ELSEWHERE).sum() == 1 and basins.labels[8, 8] == runs.ELSEWHERE
    np.testing.assert_array_equal(basins.ends[8, 8], [0.0, 0.0])
    agree = np.where(projection > 0, runs.PLUS, runs.MINUS) == basins.labels
    assert basins.by_sign == pytest.approx(agree[projection != 0].mean())
    assert 0.95 < basins.by_sign <= 1.0


def test_the_boundary_start_lies_between_starts_that_go_opposite_ways(basins):
    escape = runs.boundary_escape(basins)
    assert escape.offsets == runs.ESCAPE_OFFSETS
    # every start ends at +θ̂ (1) or −θ̂ (−1), by the sign of its offset
    ends = escape.progress[:, -1]
    np.testing.assert_allclose(np.abs(ends), 1.0, atol=1e-3)
    offsets = np.array(escape.offsets)
    np.testing.assert_array_equal(np.sign(ends[1:]), np.sign(offsets[1:]))
    # the smaller |ε|, the later it leaves, the start on the boundary last of all
    left = escape.left_at()
    assert (np.diff(left[1:]) > 0).all() and left[0] > left[1:].max()
    # the paths are the EM map iterated
    path = escape.paths[3]
    np.testing.assert_allclose(path[1:6], symmetric_em_map(path[:5], basins.X), rtol=1e-12)
    # the start is on the boundary: ε = ±1e-14 along θ̂ already go opposite ways
    direction = basins.theta_hat / np.linalg.norm(basins.theta_hat)
    scale = np.dot(basins.theta_hat, basins.theta_hat)
    nudged = escape.paths[0, 0] + np.array([[-1e-13], [1e-13]]) * direction
    sides = runs._escape_sides(basins.X, nudged, direction, scale)
    np.testing.assert_array_equal(sides, [-1.0, 1.0])


@pytest.mark.parametrize(
    "settings",
    [
        SphericalRestartSettings(1, 3, 4.0, 100, 0),
        SphericalRestartSettings(2, 4, 4.0, 100, 2),
    ],
    ids=["1-D", "2-D"],
)
def test_restart_summary_matches_the_analysis(settings):
    summary = runs.spherical_restart_summary(settings)
    centres = (
        jin_centres_1d(4.0, FAR_FACTOR * 4.0) if settings.dimension == 1 else jin_centres_2d(4, 8.0)
    )
    np.testing.assert_array_equal(summary.centres, centres)
    X = jin_sample(centres, N_PER_CLUSTER, seed=settings.seed)
    np.testing.assert_array_equal(summary.X, X)
    k = settings.n_components
    model = SphericalMeansMixture(k, 1.0)
    run = spherical_restarts(X, k, 1.0, settings.n_restarts, seed=[settings.seed, 1])
    np.testing.assert_array_equal(summary.run.ends, run.ends)
    best = summary.outcomes.best_log_likelihood
    assert best >= run.log_likelihoods.max()
    assert model.log_likelihood(X, model.params(summary.best_means)) == pytest.approx(best)
    reference = classify_restarts(model, X, run, best=best)
    np.testing.assert_array_equal(summary.outcomes.bad_local_maximum, reference.bad_local_maximum)
    counts = {kind: int((summary.kinds == kind).sum()) for kind in (runs.BEST, runs.BAD)}
    assert counts[runs.BAD] == reference.bad_local_maximum.sum() > 0
    assert counts[runs.BEST] == (reference.gaps <= reference.margin * len(X)).sum()
    shown = summary.shown_bad
    assert summary.kinds[shown] == runs.BAD
    gradient = spherical_derivatives(model, X, run.starts[shown])[0]
    assert summary.start_gradient_norm == pytest.approx(np.linalg.norm(gradient))
    assert summary.outcomes.gradient_norms[shown] < 1e-3 * summary.start_gradient_norm


def test_close_clusters_have_no_bad_maximum_and_the_page_says_so():
    summary = runs.spherical_restart_summary(SphericalRestartSettings(2, 6, 1.5, 50, 0))
    assert summary.shown_bad is None and summary.start_gradient_norm is None
    figure = plot_restart_configuration(summary)
    assert "no restart ended at a bad local maximum" in figure.layout.title.text
    assert [t.name for t in figure.data] == ["data", "best means"]


def test_the_figures_draw_what_was_computed(basins):
    escape = runs.boundary_escape(basins)
    figure = plot_symmetric_basins(basins, escape)
    heatmap = figure.data[0]
    np.testing.assert_array_equal(heatmap.z, basins.labels)
    np.testing.assert_array_equal(np.asarray(heatmap.customdata)[..., 2], basins.iterations)
    marked = {t.name: (t.x[0], t.y[0]) for t in figure.data if t.name in ("+θ̂", "−θ̂", "θ*")}
    np.testing.assert_allclose(marked["+θ̂"], basins.theta_hat)
    np.testing.assert_allclose(marked["−θ̂"], -basins.theta_hat)
    np.testing.assert_allclose(marked["θ*"], basins.theta_star)
    line = next(t for t in figure.data if t.name.startswith("the line"))
    assert abs(np.dot([line.x[1] - line.x[0], line.y[1] - line.y[0]], basins.theta_star)) < 1e-9
    curves = plot_boundary_escape(escape).data
    assert [c.name.split(" (")[0] for c in curves][1:] == [
        "ε = +0.01",
        "ε = −1 × 10⁻⁵",
        "ε = +1 × 10⁻⁸",
        "ε = −1 × 10⁻¹¹",
    ]

    summary = runs.spherical_restart_summary(SphericalRestartSettings(1, 3, 4.0, 100, 0))
    bars = plot_restart_log_likelihoods(summary).data
    assert sum(len(b.x) for b in bars) == 100
    lines = plot_restart_configuration(summary).data[1:]
    means = [np.asarray(t.x, dtype=float)[::3] for t in lines]
    np.testing.assert_allclose(means[0], np.sort(summary.best_means[:, 0]))
    np.testing.assert_allclose(means[1], np.sort(summary.means(summary.shown_bad)[:, 0]))
    shares = {3: 0.1, 4: 0.25, 5: 0.5, 6: 0.6}
    chart = plot_bad_share_by_components(shares, 4.0, current=5).data[0]
    np.testing.assert_allclose(chart.y, [10, 25, 50, 60])
    assert chart.marker.color[2] != chart.marker.color[0]
