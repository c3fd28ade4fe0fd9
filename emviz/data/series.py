"""Seeded regime-switching series: draws from a hidden Markov model with Gaussian emissions.

Pure functions of their arguments (the seed included), as in `emviz.data.generators`.
"""

from __future__ import annotations

import bisect

import numpy as np

from emviz.data.generators import SeedLike, _as_generator, _check_int

REGIME_STAY = 0.95
"""The probability that the regime series keeps its state from one step to the next."""


def regime_parameters(n_states: int) -> dict[str, np.ndarray]:
    """The true parameters of `regime_switching_series`: states 2.5 apart, sd 0.6–1, sticky.

    Returns
    -------
    dict with ``startprob`` (S,), ``transmat`` (S, S), ``means`` (S,), ``variances`` (S,)
    """
    n_states = _check_int("n_states", n_states, 1)
    means = 2.5 * (np.arange(n_states) - (n_states - 1) / 2)
    sds = np.linspace(0.6, 1.0, n_states)
    transmat = np.full((n_states, n_states), (1 - REGIME_STAY) / max(n_states - 1, 1))
    np.fill_diagonal(transmat, REGIME_STAY if n_states > 1 else 1.0)
    return {
        "startprob": np.full(n_states, 1.0 / n_states),
        "transmat": transmat,
        "means": means,
        "variances": sds**2,
    }


def sample_hmm(
    startprob, transmat, means, variances, n_samples: int, seed: SeedLike = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Draw a path of hidden states and its Gaussian observations.

    Returns
    -------
    X : ndarray of shape (n_samples, 1)
    states : ndarray of shape (n_samples,) of int
    """
    n_samples = _check_int("n_samples", n_samples, 1)
    rng = _as_generator(seed)
    uniforms = rng.random(n_samples).tolist()
    cumulative = [np.cumsum(row).tolist() for row in np.asarray(transmat, dtype=float)]
    last = len(cumulative) - 1
    state = min(bisect.bisect_right(np.cumsum(startprob).tolist(), uniforms[0]), last)
    states = [state]
    for u in uniforms[1:]:  # a Markov chain is sequential; plain Python is fast per step
        state = min(bisect.bisect_right(cumulative[state], u), last)
        states.append(state)
    states = np.array(states)
    sds = np.sqrt(np.asarray(variances, dtype=float))
    X = np.asarray(means, dtype=float)[states] + sds[states] * rng.standard_normal(n_samples)
    return X[:, None], states


def regime_switching_series(
    n_states: int, n_samples: int, seed: SeedLike = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A series that switches between ``n_states`` regimes (`regime_parameters`).

    Returns
    -------
    X : ndarray of shape (n_samples, 1)
    states : ndarray of shape (n_samples,), the true regime of each step
    """
    return sample_hmm(**regime_parameters(n_states), n_samples=n_samples, seed=seed)
