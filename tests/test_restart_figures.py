"""The restart explorer's numbers and figures against the restarts they draw."""

import numpy as np
import pytest

from emviz import runs
from emviz.analysis.restarts import FAILED, group_table
from emviz.plots.restarts import (
    MAX_NAMED_SOLUTIONS,
    TITLE_CHARS,
    TITLE_LINE_PX,
    group_label,
    histogram_categories,
    plot_restart_histogram,
    plot_solutions,
)
from emviz.settings import model_settings_from, preset_source
from tests.apptest_helpers import decode


@pytest.fixture(scope="module")
def explored():
    source, settings = preset_source({}), model_settings_from({})
    X = runs.load_data(source)
    return X, settings, runs.restarts(X, settings, 60)


def test_restart_r_is_the_step_pages_run_with_seed_init_seed_plus_r(explored):
    from dataclasses import replace

    X, settings, found = explored
    for r in (0, 7, 59):
        history, error = runs.fit(X, replace(settings, init_seed=settings.init_seed + r))
        assert error == "" and found.seeds[r] == settings.init_seed + r
        assert found.log_likelihoods[r] == pytest.approx(history[-1].log_likelihood, rel=1e-12)
        assert found.iterations[r] == history.n_iterations


def test_histogram_stacks_every_restart_once_by_solution(explored):
    X, _, found = explored
    fig = plot_restart_histogram(found, len(X))
    counted = np.concatenate(
        [
            decode(trace.x) if isinstance(trace.x, dict) else np.asarray(trace.x)
            for trace in fig.data
        ]
    )
    assert len(counted) == found.n_restarts
    np.testing.assert_allclose(np.sort(counted), np.sort(found.log_likelihoods / len(X)))
    categories = histogram_categories(found)
    assert [t.name for t in fig.data] == [f"{n}: {np.mean(m):.0%}" for n, _, m in categories]
    for trace, (_, _, members) in zip(fig.data, categories):
        x = decode(trace.x) if isinstance(trace.x, dict) else np.asarray(trace.x)
        np.testing.assert_allclose(np.sort(x), np.sort(found.log_likelihoods[members] / len(X)))
    solutions = [row for row in group_table(found) if row["stop_reason"] == "converged"]
    assert fig.data[0].name.startswith(group_label(found, solutions[0]["group"]))


def test_many_unfinished_runs_share_one_stack_and_the_legend_stays_short():
    source = preset_source({"data": "1-D two-component mixture"})
    settings = model_settings_from({"data": "1-D two-component mixture", "k": 8})
    X = runs.load_data(source)
    found = runs.restarts(X, settings, 60)
    assert len(set(found.groups[found.stop_reasons == "max_iter"].tolist())) > 6
    fig = plot_restart_histogram(found, len(X))
    assert len(fig.data) <= MAX_NAMED_SOLUTIONS + 3
    unfinished = next(t for t in fig.data if t.name.startswith("stopped at max_iter"))
    assert unfinished.name.endswith(f"{np.mean(found.stop_reasons == 'max_iter'):.0%}")


def test_solution_thumbnails_draw_each_fit(explored):
    X, _, found = explored
    rows = [row for row in group_table(found) if row["group"] != FAILED]
    shown = [row["representative"] for row in rows]
    fig = plot_solutions(found, X, shown, [str(r) for r in shown])
    means = [t for t in fig.data if t.mode == "markers" and t.marker.symbol == "x"]
    assert len(means) == min(len(shown), 6)
    for trace, r in zip(means, shown):
        np.testing.assert_allclose(trace.x, found.means[r][:, 0])
        np.testing.assert_allclose(trace.y, found.means[r][:, 1])


def test_panel_titles_wrap_to_a_phones_panel_width(explored):
    X, _, found = explored
    long = "remove and restart the component<br>converged after 123 iterations, ℓ = -404.96"
    fig = plot_solutions(found, X, [0, 1], [long, "short"])
    wrapped, short = (a.text for a in fig.layout.annotations)
    lines = wrapped.split("<br>")
    assert all(len(line) <= TITLE_CHARS for line in lines)
    assert " ".join(lines) == long.replace("<br>", " ")  # nothing lost, only wrapped
    assert short == "short"
    assert fig.layout.margin.t == 20 + TITLE_LINE_PX * len(lines)  # room for every line
