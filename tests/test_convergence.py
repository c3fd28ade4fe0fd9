"""The one convergence monitor: its rule by hand, and every caller agreeing with it."""

import numpy as np
import pytest

from emviz import GaussianMixture, run_em
from emviz.analysis.audit import monotonicity_audit
from emviz.analysis.gradient import learning_rate_sweep, params_from_theta
from emviz.analysis.paths import PATH_TOL, gradient_ascent_path, newton_path
from emviz.convergence import FALL_RTOL, ConvergenceMonitor
from emviz.models import OvershootingMStep, TwoMeanMixture


def test_the_stopping_rule_by_hand():
    monitor = ConvergenceMonitor(tol=1e-3, n_samples=100)
    assert not monitor.converged([-500.0])  # one value: nothing to compare
    assert not monitor.converged([-500.0, -499.0])  # 1.0 / 100 = 0.01 ≥ 1e-3
    assert monitor.converged([-500.0, -499.0, -498.95])  # 0.05 / 100 = 5e-4 < 1e-3
    assert monitor.converged([-498.95, -499.0])  # a fall that small also stops the run
    assert not ConvergenceMonitor(tol=0, n_samples=100).converged([-1.0, -1.0])


def test_a_fall_is_more_than_rounding():
    # FALL_RTOL · |ℓ| is the slack: 1e-10 · 1000 = 1e-7
    assert not ConvergenceMonitor.fell(-1000.0, -1000.0 - 0.9e-7)
    assert ConvergenceMonitor.fell(-1000.0, -1000.0 - 1.1e-7)
    assert not ConvergenceMonitor.fell(-1000.0, -999.0)
    assert ConvergenceMonitor.negligible(5e-8, -1000.0) and not ConvergenceMonitor.negligible(
        2e-7, -1000.0
    )
    values = [-10.0, -9.0, -9.5, -9.5 - 1e-12, -8.0, -8.5]
    np.testing.assert_array_equal(
        ConvergenceMonitor.falls(values), [False, True, False, False, True]
    )
    assert ConvergenceMonitor.first_fall(values) == 2
    assert ConvergenceMonitor.first_fall([-3.0, -2.0, -1.0]) is None
    assert FALL_RTOL == ConvergenceMonitor.rtol


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="tol"):
        ConvergenceMonitor(tol=-1, n_samples=10)
    with pytest.raises(ValueError, match="objective"):
        ConvergenceMonitor(tol=0, n_samples=10, objective="log_posterior_typo")


def test_the_engine_stops_exactly_where_the_monitor_says(three_blobs):
    history = run_em(GaussianMixture(3), three_blobs, "random_from_data", tol=1e-4, seed=1)
    assert history.converged
    lls = [s.log_likelihood for s in history.steps if s.phase in ("init", "M")]
    decisions = [history.monitor.converged(lls[: t + 1]) for t in range(len(lls))]
    assert decisions[-1] and not any(decisions[:-1])


def test_engine_drops_and_audit_are_the_monitors_falls(three_blobs):
    history = run_em(OvershootingMStep(GaussianMixture(3), 2.6), three_blobs, "kmeans++", tol=0)
    rows = monotonicity_audit(history)
    lls = [s.log_likelihood for s in history.steps if s.phase in ("init", "M")]
    falls = ConvergenceMonitor.falls(lls)
    assert falls.any()
    assert [not row.ok for row in rows] == list(falls)
    assert [d.step for d in history.drops] == [row.m_step for row in rows if not row.ok]


def test_paths_and_sweep_use_the_same_rule(x):
    model = TwoMeanMixture()
    path = gradient_ascent_path(model, x, (-1.0, 1.0), learning_rate=0.5)
    monitor = ConvergenceMonitor(PATH_TOL, len(x))
    assert path.stop_reason == "converged"
    assert monitor.converged(path.log_likelihoods)
    assert not monitor.converged(path.log_likelihoods[:-1])
    newton = newton_path(model, x, (0.2, 2.4))
    assert newton.first_decrease() == ConvergenceMonitor.first_fall(newton.log_likelihoods)
    rows = learning_rate_sweep(x, params_from_theta((0.5, 0.0, 3.0, 1.0, 1.0)), (0.1, 10.0))
    assert [row["ℓ fell"] for row in rows] == [False, True]
