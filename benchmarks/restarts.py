"""500 restarts of a Gaussian mixture batched (`emviz.analysis.restarts`) against a loop of
`run_em`, measured in the same run.

3 000 2-D points, K = 3, full covariances, k-means++ starts (seeds 0…499), max_iter = 100,
tol = 1e-6. The loop is what a user would write: for each seed,
``run_em(model, X, model.init_params(X, "kmeans++", seed=s), max_iter=100, tol=1e-6)``.
Both include drawing the starts; the starts alone are timed too, since both do that the same
way (one `init_params` call per restart). Prints the seconds of each, their ratios
(target: loop / batched >= 10) and checks that both ended in the same places.

Run:  python benchmarks/restarts.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

N_SAMPLES, N_COMPONENTS, N_RESTARTS, MAX_ITER, TOL = 3000, 3, 500, 100, 1e-6
METHOD = "kmeans++"


def make_data(seed: int = 0) -> np.ndarray:
    from emviz.data import make_blobs

    X, _ = make_blobs(N_SAMPLES, N_COMPONENTS, separation=2.0, elongation=2.0, seed=seed)
    return X


def time_batched(X, model):
    from emviz.analysis.restarts import run_restarts

    start = time.perf_counter()
    restarts = run_restarts(X, model, METHOD, N_RESTARTS, max_iter=MAX_ITER, tol=TOL)
    return time.perf_counter() - start, restarts


def time_loop(X, model):
    from emviz import run_em

    start = time.perf_counter()
    histories = [
        run_em(model, X, model.init_params(X, METHOD, seed=s), max_iter=MAX_ITER, tol=TOL)
        for s in range(N_RESTARTS)
    ]
    return time.perf_counter() - start, histories


def time_starts(X, model) -> float:
    start = time.perf_counter()
    for s in range(N_RESTARTS):
        model.init_params(X, METHOD, seed=s)
    return time.perf_counter() - start


def largest_difference(restarts, histories) -> float:
    return max(
        float(np.abs(restarts.means[r] - h.final_params.means).max())
        for r, h in enumerate(histories)
    )


def main() -> None:
    from emviz import GaussianMixture

    X = make_data()
    model = GaussianMixture(N_COMPONENTS, "full")
    batched, restarts = time_batched(X, model)
    loop, histories = time_loop(X, model)
    starts = time_starts(X, model)
    same_iterations = all(h.n_iterations == restarts.iterations[r] for r, h in enumerate(histories))
    print(f"{N_RESTARTS} restarts, K = {N_COMPONENTS}, {N_SAMPLES} points in 2-D, {METHOD}")
    total = int(restarts.iterations.sum())
    print(f"  iterations in all: {total}, same as the loop: {same_iterations}")
    print(f"  largest difference of final means: {largest_difference(restarts, histories):.2e}")
    print(f"  starts alone (init_params, once per restart): {starts:.2f} s")
    print(f"  loop of run_em: {loop:.2f} s   batched: {batched:.2f} s")
    print(f"  loop / batched = {loop / batched:.1f}  (target >= 10)")
    print(f"  EM alone (starts subtracted): {(loop - starts) / (batched - starts):.1f}")


if __name__ == "__main__":
    main()
