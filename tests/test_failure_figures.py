"""The failure lab's figures carry the numbers of the runs they draw."""

import json

import numpy as np
import plotly.graph_objects as go
import pytest
from scipy.stats import norm

from emviz import runs
from emviz.data import load_preset
from emviz.plots.failures import (
    iteration_params,
    plot_collapse_fit,
    plot_collapse_trace,
    plot_component_counts,
    plot_early_stop,
    plot_log_error,
    plot_remedies,
    plot_separation_rates,
)
from emviz.plots.restarts import density_grid
from emviz.settings import MERGE_SEPARATIONS, ModelSettings
from tests.apptest_helpers import decode


@pytest.fixture(scope="module")
def collapsed():
    return runs.collapse_run(8.0)


def _valid(fig: go.Figure) -> dict:
    """The figure as the browser gets it (validated by plotly on the way), arrays decoded."""
    return _decoded(json.loads(go.Figure(fig.to_dict()).to_json()))


def _decoded(value):
    if isinstance(value, dict):
        if "bdata" in value:
            return decode(value)
        return {key: _decoded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decoded(item) for item in value]
    return value


def test_collapse_trace_draws_l_nk_and_the_variances_per_iteration(collapsed):
    fig = _valid(plot_collapse_trace(collapsed, 5))
    fits = iteration_params(collapsed)
    assert len(fits) == collapsed.n_iterations + 1
    ell = fig["data"][0]
    expected = [s.log_likelihood for s in collapsed.steps if s.phase in ("init", "M")]
    np.testing.assert_array_equal(ell["y"], expected)
    stop = next(t for t in fig["data"] if t["name"] == "stop: singular")
    assert list(stop["x"]) == [collapsed.n_iterations + 1]
    n = len(collapsed.X)
    for k in range(3):
        counts, variances = [t for t in fig["data"] if t["name"] == f"component {k + 1}"]
        np.testing.assert_allclose(counts["y"], [n * p.weights[k] for p in fits])
        np.testing.assert_allclose(variances["y"], [p.covariances[k, 0, 0] for p in fits])
    # component 3 ends with one point and a variance a thousand times below its start
    assert counts["y"][-1] == pytest.approx(1.0, abs=1e-3)
    assert variances["y"][-1] < variances["y"][0] / 1000
    assert fig["layout"]["yaxis3"]["type"] == "log"
    assert [s["x0"] for s in fig["layout"]["shapes"]] == [5, 5, 5]


def test_collapse_fit_draws_the_weighted_densities_and_cuts_a_spike(collapsed):
    fig = _valid(plot_collapse_fit(collapsed, collapsed.n_iterations))
    params = collapsed.final_params
    curves = fig["data"][1:]
    assert len(curves) == 3
    for k, curve in enumerate(curves):
        x = np.asarray(curve["x"])
        expected = params.weights[k] * norm.pdf(
            x, params.means[k, 0], np.sqrt(params.covariances[k, 0, 0])
        )
        np.testing.assert_allclose(curve["y"], expected, rtol=1e-12)
    assert params.means[2, 0] in curves[2]["x"]  # the spike's peak is on the grid
    assert params.means[2, 0] == pytest.approx(8.0, abs=1e-3)
    assert fig["layout"]["title"]["text"].endswith(f"{collapsed[-2].log_likelihood:.2f}")
    # iteration 9 of the collapse at 9.0: the spike stands far above the data's scale
    other = runs.collapse_run(9.0)
    spiked = _valid(plot_collapse_fit(other, other.n_iterations))
    top = spiked["layout"]["yaxis"]["range"][1]
    peak = max(spiked["data"][3]["y"])
    assert peak > top
    assert spiked["layout"]["annotations"][0]["text"] == f"peak {peak:.3g} ↑"


def test_remedies_show_each_final_fit_and_how_it_stopped():
    remedies = runs.singularity_remedies(8.0, 1e-3)
    fig = _valid(plot_remedies(remedies))
    # one line each: the panels wrap their titles to fit a phone (tested in test_restart_figures)
    titles = [
        a["text"].replace("<br>", " ").replace("\u00a0", " ") for a in fig["layout"]["annotations"]
    ]
    (reg,) = remedies["reg_covar"]
    first, second = remedies["remove and restart the component"]
    assert titles[0] == (
        f"reg_covar converged after {reg.n_iterations} iterations, ℓ = {reg[-1].log_likelihood:.2f}"
    )
    assert titles[1] == (
        "remove and restart the component converged after "
        f"{first.n_iterations + second.n_iterations} iterations, 1 restart, "
        f"ℓ = {second[-1].log_likelihood:.2f}"
    )
    (prior,) = remedies["MAP prior"]
    assert prior.objective == "log_posterior"
    assert titles[2] == (
        f"MAP prior converged after {prior.n_iterations} iterations, "
        f"ℓ = {prior[-1].log_likelihood:.2f}"
    )


def test_log_error_plot_and_its_slope():
    X = load_preset("Old Faithful (standardised)")
    history, _ = runs.fit(X, ModelSettings(3))
    study, reason = runs.own_rate_study(history)
    assert reason == ""
    fig = _valid(plot_log_error(study, "title"))
    errors, slope = fig["data"]
    positive = study.errors > 0
    np.testing.assert_array_equal(errors["y"], study.errors[positive])
    first, last = study.window
    assert list(slope["x"]) == [first, last]
    # log-linear at the Jacobian's rate: the dashed line's ratio per iteration is λ
    ratio = (slope["y"][1] / slope["y"][0]) ** (1 / (last - first))
    assert ratio == pytest.approx(study.jacobian_rate, rel=1e-12)
    assert fig["layout"]["yaxis"]["type"] == "log"


def test_separation_chart_marks_the_chosen_distance():
    rates = runs.separation_rates()
    params, rate = runs.separation_fit(2.0)
    X = runs.separation_sample(2.0)
    fig = _valid(plot_separation_rates(MERGE_SEPARATIONS, rates, 2.0, X, params))
    line, marker = fig["data"][:2]
    np.testing.assert_array_equal(line["y"], rates)
    assert list(marker["x"]) == [2.0] and list(marker["y"]) == [rate]
    densities = fig["data"][3:]
    assert len(densities) == 2
    grid = density_grid(X[:, 0], params, 400)
    np.testing.assert_allclose(densities[0]["x"], grid)


def test_early_stop_draws_the_loose_fit_dashed_over_the_tight_one():
    X = load_preset("Heavy overlap")
    history, _ = runs.fit(X, ModelSettings(3))
    early = runs.early_stop(runs.tight_run(history), 1e-2)
    fig = _valid(plot_early_stop(early))
    dashed = [t for t in fig["data"] if t.get("line", {}).get("dash") == "dash"]
    solid = [t for t in fig["data"] if t.get("line", {}).get("dash") == "solid"]
    assert len(dashed) == len(solid) == 3
    for k in range(3):  # the 2σ ellipses are centred on each fit's means
        centre = np.mean(np.c_[dashed[k]["x"][:-1], dashed[k]["y"][:-1]], axis=0)
        np.testing.assert_allclose(centre, early.loose_params.means[k], atol=1e-9)
    arrows = fig["layout"]["annotations"]
    assert [(a["ax"], a["ay"]) for a in arrows] == [tuple(m) for m in early.loose_params.means]
    assert [(a["x"], a["y"]) for a in arrows] == [tuple(m) for m in early.tight.final_params.means]
    assert f"{early.log_likelihood_gain:.4g}" in fig["layout"]["title"]["text"]


def test_component_counts_titles_name_k_and_l():
    X = load_preset("Well-separated blobs", n_samples=500)
    fits = [(k, runs.fit(X, ModelSettings(k))[0]) for k in (2, 3, 4)]
    fig = _valid(plot_component_counts(fits))
    titles = [a["text"] for a in fig["layout"]["annotations"]]
    for (k, history), title in zip(fits, titles, strict=True):
        shown = title.replace("\u00a0", " ")  # ℓ = … is kept on one line when wrapped
        assert shown.startswith(f"K = {k}<br>ℓ = {history[-1].log_likelihood:.1f}")
    means = [t for t in fig["data"] if t.get("mode") == "markers" and t["marker"].get("symbol")]
    assert [len(t["x"]) for t in means] == [2, 3, 4]
