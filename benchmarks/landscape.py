"""ℓ(μ1, μ2) on a 300×300 grid: emviz's chunked grid against one numpy broadcast of the whole
(grid × n) array, at n = 92 and n = 10 000, measured in the same run.

Prints each method's time and peak traced memory (tracemalloc sees numpy's allocations), and
the ratios. Targets: no slower at n = 92; at n = 10 000 memory bounded by the chunk size and
time within 1.5× of the broadcast.

Run:  python benchmarks/landscape.py
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emviz.analysis.landscape import log_likelihood_grid  # noqa: E402
from emviz.data import make_two_mean_sample  # noqa: E402
from emviz.models import TwoMeanMixture  # noqa: E402

GRID = 300


def broadcast_grid(model, x, mu1, mu2):
    """The straightforward version: every (μ2, μ1, x_n) density at once, then log and sum."""
    a = model.weights[0] * norm.pdf(x[None, :], mu1[:, None], np.sqrt(model.variances[0]))
    b = model.weights[1] * norm.pdf(x[None, :], mu2[:, None], np.sqrt(model.variances[1]))
    return np.log(a[None, :, :] + b[:, None, :]).sum(axis=2)


def measure(function, *args):
    tracemalloc.start()
    start = time.perf_counter()
    result = function(*args)
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, elapsed, peak / 2**20


def available_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable"):
            return int(line.split()[1]) / 1024
    return float("inf")


def main() -> None:
    model = TwoMeanMixture()
    mu1 = np.linspace(-3.0, 5.0, GRID)
    mu2 = np.linspace(-3.0, 5.0, GRID)
    print(f"{GRID}×{GRID} grid of (μ1, μ2); times are the best of the repeats")
    print(f"{'n':>7} {'method':>10} {'time s':>9} {'peak MB':>9}")
    for n, repeats in ((92, 5), (10_000, 1)):
        x = make_two_mean_sample(n, seed=0)
        best = {}
        for name, function in (("emviz", log_likelihood_grid), ("broadcast", broadcast_grid)):
            needed_mb = 2 * GRID * GRID * n * 8 / 2**20  # the sum and its log
            if name == "broadcast" and needed_mb > 0.8 * available_mb():
                print(f"{n:>7} {name:>10}   skipped: needs ~{needed_mb:.0f} MB")
                continue
            runs = [measure(function, model, x, mu1, mu2) for _ in range(repeats)]
            grid, elapsed, peak = min(runs, key=lambda r: r[1])
            best[name] = (grid, elapsed, peak)
            print(f"{n:>7} {name:>10} {elapsed:9.3f} {peak:9.1f}")
        if len(best) == 2:
            (ours, t_ours, m_ours), (theirs, t_theirs, m_theirs) = best["emviz"], best["broadcast"]
            agree = np.max(np.abs(ours - theirs) / np.abs(theirs))
            print(
                f"{n:>7}   time ratio emviz/broadcast = {t_ours / t_theirs:.2f}, "
                f"memory ratio = {m_ours / m_theirs:.3f}, max relative difference {agree:.1e}"
            )


if __name__ == "__main__":
    main()
