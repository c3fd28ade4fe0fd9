"""500 restarts of a Gaussian mixture batched (`emviz.analysis.restarts`) against a loop of
`run_em`, measured in the same run.

3 000 2-D points, K = 3, full covariances, k-means++ starts (seeds 0…499), max_iter = 100,
tol = 1e-6. The loop is what a user would write: for each seed,
``run_em(model, X, model.init_params(X, "kmeans++", seed=s), max_iter=100, tol=1e-6)``.
Each side runs REPEATS times, taking turns, and its fastest run counts. Both include drawing
the starts; the starts alone are timed too (one `init_params` call per restart). Prints the
seconds of each, wall-clock and CPU time of this process (the machine may be shared: CPU time
does not count the time other processes take), their ratios (target: loop / batched >= 10)
and checks that both ended in the same places.

Run:  python benchmarks/restarts.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# imported before anything is timed: the timings measure the fits, not module loading
from emviz import GaussianMixture, run_em  # noqa: E402
from emviz.analysis.restarts import run_restarts  # noqa: E402

N_SAMPLES, N_COMPONENTS, N_RESTARTS, MAX_ITER, TOL = 3000, 3, 500, 100, 1e-6
METHOD = "kmeans++"


def make_data(seed: int = 0) -> np.ndarray:
    from emviz.data import make_blobs

    X, _ = make_blobs(N_SAMPLES, N_COMPONENTS, separation=2.0, elongation=2.0, seed=seed)
    return X


REPEATS = 2  # each side is timed this often, interleaved; the fastest counts (as timeit does)


def timed_once(work):
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def timed(*works):
    """For each of ``works``: (wall seconds, CPU seconds of this process, result), the fastest
    of REPEATS runs. The runs take turns, so a busy spell on a shared machine slows one run of
    each side rather than every run of one; noise only ever adds time, hence the minimum."""
    runs = [[timed_once(work) for work in works] for _ in range(REPEATS)]
    return [
        (min(r[i][0] for r in runs), min(r[i][1] for r in runs), runs[-1][i][2])
        for i in range(len(works))
    ]


def batched(X, model):
    return run_restarts(X, model, METHOD, N_RESTARTS, max_iter=MAX_ITER, tol=TOL)


def loop(X, model):
    return [
        run_em(model, X, model.init_params(X, METHOD, seed=s), max_iter=MAX_ITER, tol=TOL)
        for s in range(N_RESTARTS)
    ]


def starts(X, model):
    return [model.init_params(X, METHOD, seed=s) for s in range(N_RESTARTS)]


def largest_difference(restarts, histories) -> float:
    return max(
        float(np.abs(restarts.means[r] - h.final_params.means).max())
        for r, h in enumerate(histories)
    )


def main() -> None:
    X = make_data()
    model = GaussianMixture(N_COMPONENTS, "full")
    (batched_wall, batched_cpu, restarts), (loop_wall, loop_cpu, histories) = timed(
        lambda: batched(X, model), lambda: loop(X, model)
    )
    ((starts_wall, starts_cpu, _),) = timed(lambda: starts(X, model))
    same_iterations = all(h.n_iterations == restarts.iterations[r] for r, h in enumerate(histories))
    total = int(restarts.iterations.sum())
    print(f"{N_RESTARTS} restarts, K = {N_COMPONENTS}, {N_SAMPLES} points in 2-D, {METHOD}")
    print(f"  iterations in all: {total}, same as the loop: {same_iterations}")
    print(f"  largest difference of final means: {largest_difference(restarts, histories):.2e}")
    for name, loop_s, batched_s, starts_s in (
        ("wall", loop_wall, batched_wall, starts_wall),
        ("CPU ", loop_cpu, batched_cpu, starts_cpu),
    ):
        em_ratio = (loop_s - starts_s) / (batched_s - starts_s)
        print(
            f"  {name}: loop of run_em {loop_s:.2f} s, batched {batched_s:.2f} s, "
            f"loop / batched = {loop_s / batched_s:.1f} (target >= 10); "
            f"starts alone {starts_s:.2f} s, EM alone {em_ratio:.1f}"
        )


if __name__ == "__main__":
    main()
