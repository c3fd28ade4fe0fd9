"""The BIC grid of "Choosing K" against scikit-learn's `GaussianMixture`, measured in the same run.

The grid: K = 1 … 8 × the four covariance types × 5 restarts, on 2 000 2-D points (four
elongated blobs). Both sides fit every cell with tol = 1e-6 (the change of ℓ per point:
the same rule on both sides), max_iter = 100 and reg_covar = 1e-6 from five k-means++
starts, keep the start of highest ℓ and compute its BIC:

- emviz: `emviz.analysis.selection.fit_grid(..., held_out=False)` per type: the five restarts
  of a cell run as one batch (`emviz.analysis.restarts.run_restarts`, seeds 0 … 4, scipy's
  k-means++ seeding), then BIC, AIC and ICL of the best.
- scikit-learn: ``GaussianMixture(K, covariance_type=t, n_init=5, init_params="k-means++",
  random_state=0).fit(X)`` then ``.bic(X)`` per cell: its five starts one after another
  (scikit-learn's own k-means++ seeding, so the starts differ from emviz's).

Every module is imported before the clock starts. The two sides are timed in turn,
`REPEATS` times, and each side's fastest time is kept (the machine may be shared). Prints
both, their ratio emviz / scikit-learn (target <= 1.0), the (type, K) each chooses by BIC
and how far the BIC values of the cells agree.

Run:  python benchmarks/model_selection.py
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# imported before anything is timed: the timings measure the fits, not module loading
from sklearn.mixture import GaussianMixture as SklearnMixture  # noqa: E402

from emviz.analysis.selection import DEFAULT_REG_COVAR, K_VALUES, fit_grid  # noqa: E402
from emviz.data import make_blobs  # noqa: E402
from emviz.models.gaussian_mixture import COVARIANCE_TYPES  # noqa: E402

N_SAMPLES, N_CLUSTERS, N_RESTARTS, MAX_ITER, TOL = 2000, 4, 5, 100, 1e-6
REPEATS = 3


def make_data(seed: int = 0) -> np.ndarray:
    X, _ = make_blobs(N_SAMPLES, N_CLUSTERS, separation=2.5, elongation=2.0, seed=seed)
    return X


def emviz_grid(X) -> dict[tuple[str, int], float]:
    """(type, K) -> BIC of the best of `N_RESTARTS` batched restarts (None if it failed)."""
    fits = [
        fit
        for covariance_type in COVARIANCE_TYPES
        for fit in fit_grid(
            X, covariance_type, K_VALUES, N_RESTARTS, max_iter=MAX_ITER, tol=TOL, held_out=False
        )
    ]
    return {(f.covariance_type, f.n_components): f.bic for f in fits}


def sklearn_grid(X) -> dict[tuple[str, int], float]:
    """(type, K) -> BIC of scikit-learn's best of `N_RESTARTS` starts (``n_init``)."""
    bics = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a start stopped at max_iter: "did not converge"
        for covariance_type in COVARIANCE_TYPES:
            for k in K_VALUES:
                model = SklearnMixture(
                    k,
                    covariance_type=covariance_type,
                    tol=TOL,
                    max_iter=MAX_ITER,
                    reg_covar=DEFAULT_REG_COVAR,
                    n_init=N_RESTARTS,
                    init_params="k-means++",
                    random_state=0,
                ).fit(X)
                bics[covariance_type, k] = model.bic(X)
    return bics


def timed(work):
    """(wall seconds, CPU seconds of this process, result) of ``work()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def chosen(bics: dict) -> tuple[str, int]:
    return min((cell for cell in bics if bics[cell] is not None), key=bics.get)


def main() -> None:
    X = make_data()
    best = {"emviz": [np.inf, np.inf], "scikit-learn": [np.inf, np.inf]}
    results = {}
    for _ in range(REPEATS):  # interleaved: a busy spell slows both sides alike
        for name, grid in (("emviz", emviz_grid), ("scikit-learn", sklearn_grid)):
            wall, cpu, results[name] = timed(lambda grid=grid: grid(X))
            best[name] = [min(best[name][0], wall), min(best[name][1], cpu)]
    ours, theirs = results["emviz"], results["scikit-learn"]
    cells = len(K_VALUES) * len(COVARIANCE_TYPES)
    print(
        f"BIC grid: K = 1…{K_VALUES[-1]} × {len(COVARIANCE_TYPES)} covariance types × "
        f"{N_RESTARTS} restarts = {cells * N_RESTARTS} EM runs on {N_SAMPLES} 2-D points "
        f"({N_CLUSTERS} blobs); tol = {TOL:g}, max_iter = {MAX_ITER}, "
        f"reg_covar = {DEFAULT_REG_COVAR:g}; fastest of {REPEATS}"
    )
    for label, index in (("wall", 0), ("CPU ", 1)):
        a, b = best["emviz"][index], best["scikit-learn"][index]
        print(
            f"  {label}: emviz {a:.2f} s, scikit-learn (n_init={N_RESTARTS}) {b:.2f} s, "
            f"ratio emviz / scikit-learn = {a / b:.2f} (target <= 1.0)"
        )
    failed = [cell for cell, bic in ours.items() if bic is None]
    gaps = np.array([ours[c] - theirs[c] for c in ours if ours[c] is not None])
    print(f"  chosen by BIC: emviz {chosen(ours)}, scikit-learn {chosen(theirs)}")
    print(
        f"  BIC of a cell, emviz − scikit-learn (different starts): median {np.median(gaps):+.2f}, "
        f"range {gaps.min():+.2f} … {gaps.max():+.2f}; emviz lower or equal (±0.01) in "
        f"{int(np.sum(gaps <= 0.01))} of {len(gaps)} cells; failed cells: {failed or 'none'}"
    )


if __name__ == "__main__":
    main()
