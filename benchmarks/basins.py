"""Basin maps: EM from every start of a 200×200 grid of (μ1, μ2) in one batch, against a
Python loop of `run_em` over a sample of the same starts scaled to the whole grid, measured in
the same run. Target: the batch at least 50× faster.

The batch and the loop must also agree: for every sampled start the same end (to 1e-8), the
same number of iterations and the same stop reason.

One function per part (`two_mean_grid`), so other parts can sit beside it; the restarts
benchmark is benchmarks/restarts.py.

Run:  python benchmarks/basins.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emviz import run_em  # noqa: E402
from emviz.analysis.basins import two_mean_basins  # noqa: E402
from emviz.data import make_two_mean_sample  # noqa: E402
from emviz.models import TwoMeanMixture  # noqa: E402

GRID = 200
MAX_ITER = 200
TOL = 1e-8
LOOP_SAMPLE = 200  # starts run one by one through run_em
TARGET = 50.0


def two_mean_grid(n_samples: int = 92, seed: int = 0) -> dict:
    """Time the 200×200 batch and the scaled run_em loop; check they agree on the sample."""
    model = TwoMeanMixture()
    x = make_two_mean_sample(n_samples, seed=seed)
    axis = np.linspace(-3.0, 5.0, GRID)
    start = time.perf_counter()
    run = two_mean_basins(model, x, axis, axis, max_iter=MAX_ITER, tol=TOL)
    batch_seconds = time.perf_counter() - start

    sample = np.random.default_rng(seed).choice(len(run.starts), LOOP_SAMPLE, replace=False)
    disagreements = 0
    start = time.perf_counter()
    for index in sample:
        history = run_em(
            model, x[:, None], model.params(*run.starts[index]), max_iter=MAX_ITER, tol=TOL
        )
        end = history.final_params.means[:, 0]
        disagreements += not (
            np.abs(end - run.ends[index]).max() <= 1e-8
            and history.n_iterations == run.iterations[index]
            and history.stop_reason == run.stop_reasons[index]
        )
    loop_seconds = (time.perf_counter() - start) / LOOP_SAMPLE * len(run.starts)
    return {
        "starts": len(run.starts),
        "mean iterations": float(run.iterations.mean()),
        "batch s": batch_seconds,
        "loop s (scaled)": loop_seconds,
        "speed-up": loop_seconds / batch_seconds,
        "disagreements": disagreements,
    }


def main() -> None:
    result = two_mean_grid()
    print(f"two-mean basin map, {GRID}×{GRID} starts × up to {MAX_ITER} iterations, n = 92")
    for name, value in result.items():
        print(
            f"  {name:>18}: {value:.3f}" if isinstance(value, float) else f"  {name:>18}: {value}"
        )
    verdict = "meets" if result["speed-up"] >= TARGET else "MISSES"
    print(
        f"  {verdict} the target of {TARGET:.0f}×; sampled starts disagreeing: "
        f"{result['disagreements']} of {LOOP_SAMPLE}"
    )


if __name__ == "__main__":
    main()
