"""Baum–Welch iteration time of emviz's GaussianHMM against hmmlearn's, in the same run.

A 100 000-step regime-switching series, 4 states, N_ITER iterations from identical initial
parameters: emviz's ``run_em(max_iter=N_ITER, tol=0)`` (which also records Q, H(q) and KL at
every half-step) against hmmlearn's ``fit`` with ``n_iter=N_ITER, tol=0``, the fastest of a few
interleaved runs of each. The target is a ratio emviz / hmmlearn <= 1.0 against hmmlearn's
default forward–backward (``implementation="log"``, C++); its ``"scaling"`` implementation
(C++ too) is printed for information.

Run:  python benchmarks/hmm.py
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emviz import run_em  # noqa: E402  (imports before any timing)
from emviz.data.series import regime_switching_series  # noqa: E402
from emviz.models import GaussianHMM  # noqa: E402

N_SAMPLES, N_STATES, N_ITER, REPEATS = 100_000, 4, 10, 3
TARGET = 1.0


def time_emviz(X, init) -> float:
    start = time.perf_counter()
    history = run_em(GaussianHMM(N_STATES), X, init, max_iter=N_ITER, tol=0)
    elapsed = time.perf_counter() - start
    assert history.n_iterations == N_ITER, history.message
    return elapsed


def time_hmmlearn(X, init, implementation: str) -> float:
    from hmmlearn.hmm import GaussianHMM as Reference

    reference = Reference(
        n_components=N_STATES,
        covariance_type="diag",
        init_params="",
        params="stmc",
        n_iter=N_ITER,
        tol=0,
        min_covar=0.0,
        covars_prior=0.0,
        implementation=implementation,
    )
    reference.startprob_ = init.startprob.copy()
    reference.transmat_ = init.transmat.copy()
    reference.means_ = init.means[:, None].copy()
    reference.covars_ = init.variances[:, None].copy()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference.fit(X)
    return time.perf_counter() - start


def main() -> None:
    import hmmlearn.hmm  # noqa: F401  (imported before timing)

    X, _ = regime_switching_series(N_STATES, N_SAMPLES, seed=0)
    init = GaussianHMM(N_STATES).init_params(X, "random", seed=1)
    best = {"emviz": np.inf, "hmmlearn log": np.inf, "hmmlearn scaling": np.inf}
    for _ in range(REPEATS):  # interleaved, so that a busy moment hurts both alike
        best["emviz"] = min(best["emviz"], time_emviz(X, init))
        for implementation in ("log", "scaling"):
            name = f"hmmlearn {implementation}"
            best[name] = min(best[name], time_hmmlearn(X, init, implementation))
    print(f"Baum–Welch, {N_SAMPLES:,} steps, {N_STATES} states, {N_ITER} iterations")
    for name, seconds in best.items():
        print(f"  {name:18s} {1e3 * seconds / N_ITER:8.1f} ms per iteration")
    ratio = best["emviz"] / best["hmmlearn log"]
    verdict = "meets" if ratio <= TARGET else "MISSES"
    print(f"ratio emviz / hmmlearn (default, log): {ratio:.2f}  ({verdict} target <= {TARGET})")
    print(f"ratio emviz / hmmlearn (scaling):      {best['emviz'] / best['hmmlearn scaling']:.2f}")


if __name__ == "__main__":
    main()
