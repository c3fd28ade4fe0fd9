"""The History record: step layout, export round trips, stored vs recomputed responsibilities."""

import csv
import io
import json

import numpy as np
import pytest

import emviz.engine
from emviz import GaussianMixture, History, run_em


@pytest.fixture
def history(three_blobs):
    return run_em(GaussianMixture(3, "diag"), three_blobs, "kmeans++", max_iter=8, tol=0, seed=4)


def test_step_layout(history):
    assert len(history) == 1 + 2 * 8
    assert [s.phase for s in history.steps[:5]] == ["init", "E", "M", "E", "M"]
    assert [s.iteration for s in history.steps[:5]] == [0, 1, 1, 2, 2]
    # An E-step leaves θ unchanged; an M-step leaves q unchanged.
    assert history[1].params is history[0].params
    np.testing.assert_array_equal(history.responsibilities(2), history.responsibilities(1))
    assert history.stop_reason == "max_iter" and "maximum of 8" in history.message


def test_initial_q_is_uniform(history, three_blobs):
    np.testing.assert_array_equal(history.responsibilities(0), np.full((300, 3), 1 / 3))
    assert history[0].entropy == pytest.approx(300 * np.log(3), rel=1e-14)


def test_json_round_trip_is_exact(history):
    restored = History.from_json(history.to_json())
    assert restored.to_json() == history.to_json()
    assert restored.model == history.model
    np.testing.assert_array_equal(restored.X, history.X)
    for a, b in zip(history.steps, restored.steps):
        assert (a.phase, a.iteration, a.log_likelihood, a.elbo, a.kl) == (
            b.phase,
            b.iteration,
            b.log_likelihood,
            b.elbo,
            b.kl,
        )
        np.testing.assert_array_equal(a.params.covariances, b.params.covariances)
    # the restored history recomputes responsibilities from the parameters
    np.testing.assert_allclose(
        restored.responsibilities(5), history.responsibilities(5), atol=1e-15
    )


def test_from_json_rejects_other_json():
    with pytest.raises(ValueError, match="not an emviz history"):
        History.from_json(json.dumps({"hello": 1}))


def test_csv_has_one_row_per_step(history):
    rows = list(csv.DictReader(io.StringIO(history.to_csv())))
    assert len(rows) == len(history)
    assert rows[3]["phase"] == "E"
    assert float(rows[4]["log_likelihood"]) == history[4].log_likelihood
    assert float(rows[4]["mean_2_y"]) == history[4].params.means[1, 1]
    assert float(rows[4]["cov_3_xx"]) == history[4].params.covariances[2, 0, 0]
    assert {"elbo", "kl", "weight_1", "cov_1_xy"} <= set(rows[0])


def test_large_runs_recompute_instead_of_storing(three_blobs, monkeypatch):
    stored = run_em(GaussianMixture(3), three_blobs, "kmeans", max_iter=5, tol=0)
    monkeypatch.setattr(emviz.engine, "RESP_STORE_BYTES", 2 * 300 * 3 * 8)
    capped = run_em(GaussianMixture(3), three_blobs, "kmeans", max_iter=5, tol=0)
    assert len(stored.stored_resp) == 5 and len(capped.stored_resp) == 2
    for index in range(len(stored)):
        np.testing.assert_allclose(
            capped.responsibilities(index), stored.responsibilities(index), atol=1e-15
        )


def test_stored_and_recomputed_responsibilities_are_both_read_only(three_blobs, monkeypatch):
    monkeypatch.setattr(emviz.engine, "RESP_STORE_BYTES", 2 * 300 * 3 * 8)
    capped = run_em(GaussianMixture(3), three_blobs, "kmeans", max_iter=5, tol=0)
    rows = np.array([4, 0, 299])
    stored, recomputed = 1, 9  # E-steps: the first is kept, the last recomputed
    assert stored in capped.stored_resp and recomputed not in capped.stored_resp
    for index in (stored, stored + 1, recomputed, recomputed + 1):
        for resp in (capped.responsibilities(index), capped.responsibilities(index, rows)):
            assert not resp.flags.writeable
            with pytest.raises(ValueError, match="read-only"):
                resp[0, 0] = 0.5
        np.testing.assert_allclose(  # a sample is centred on its own mean: rounding differs
            capped.responsibilities(index, rows),
            capped.responsibilities(index)[rows],
            rtol=1e-12,
            atol=1e-15,
        )


def test_column_and_final_params(history):
    ll = history.column("log_likelihood")
    assert ll.shape == (len(history),)
    assert history.final_params is history[-1].params
    assert history.n_iterations == 8
