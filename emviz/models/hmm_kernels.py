"""Forward–backward for a hidden Markov model, scaled and vectorised over blocks of time.

The forward pass multiplies a row vector by T − 1 matrices, a_t = a_{t−1} A diag(e_t); the
backward pass multiplies a column vector by the same matrices from the other end. A Python
loop over T time steps costs a few microseconds per step, too slow for T = 10^5, so the series
is cut into ``n_blocks`` blocks of ``block_length`` steps (both about √T) and every loop runs
over one of them while numpy works on all blocks of the other at once:

1. each block's product of matrices (all blocks at once, ``block_length`` steps of a
   (n_blocks·S, S) @ (S, S) product),
2. the vector at the start of every block (``n_blocks`` steps of a (S,) @ (S, S) product),
3. the vector at every step inside every block (all blocks at once, ``block_length`` steps).

Every product is rescaled to sum 1 as it goes, so nothing underflows however long the series;
all entries are non-negative, so no order of multiplication loses relative accuracy (there is
no cancellation). Only the forward pass keeps the logarithm of the scale factors: their total
is log p(X | θ).
"""

from __future__ import annotations

import math

import numpy as np

LOG_TINY = float(np.log(np.finfo(np.float64).tiny))
"""log of the smallest normal double: the logarithm used where a probability underflowed to 0."""


def floored_log(values: np.ndarray) -> np.ndarray:
    """log(values), with LOG_TINY where a value is 0 (finite, and 0·log = 0 still holds)."""
    out = np.full(values.shape, LOG_TINY)
    np.log(values, out=out, where=values > 0)
    return np.maximum(out, LOG_TINY, out=out)


def _block_shape(n_steps: int) -> tuple[int, int]:
    """(n_blocks, block_length) covering ``n_steps`` transitions; the loops total about 3√n."""
    block_length = max(1, math.isqrt(n_steps // 4))
    return -(-n_steps // block_length), block_length


def chain_forward(first: np.ndarray, matrix: np.ndarray, factors: np.ndarray):
    """Normalised a_t for a_0 = ``first``, a_t = (a_{t−1} @ matrix) · factors_t, t = 1 … T − 1.

    Arrays are state-major, (S, T): every reduction over states then adds whole rows.

    Parameters
    ----------
    first : ndarray of shape (S,), non-negative, not all 0
    matrix : ndarray of shape (S, S), non-negative
    factors : ndarray of shape (S, T), non-negative (column 0 is not used)

    Returns
    -------
    directions : ndarray of shape (S, T)
        a_t / Σ_i a_t(i).
    log_total : float
        log Σ_i a_{T−1}(i), when the rows of ``matrix`` sum to 1 (the padding of the last
        block multiplies by ``matrix`` alone, which then keeps the total).
    """
    n_states, n_samples = factors.shape
    directions = np.empty((n_states, n_samples))
    total = first.sum()
    directions[:, 0] = first / total
    n_steps = n_samples - 1
    if n_steps == 0:
        return directions, float(np.log(total))
    n_blocks, block_length = _block_shape(n_steps)
    padded = np.ones((n_states, n_blocks * block_length))
    padded[:, :n_steps] = factors[:, 1:]
    # step-major blocks, (L, S, n_blocks): each step of a loop reads one contiguous slab
    blocks = np.ascontiguousarray(
        padded.reshape(n_states, n_blocks, block_length).transpose(2, 0, 1)
    )
    products, log_scales = _block_products(matrix, blocks)
    starts, log_total = _block_starts(directions[:, 0], products, log_scales)
    inside = _steps_in_blocks(starts, matrix, blocks)  # (L, S, n_blocks)
    directions[:, 1:] = inside.transpose(1, 2, 0).reshape(n_states, -1)[:, :n_steps]
    return directions, log_total + float(np.log(total))


def _block_products(matrix: np.ndarray, blocks: np.ndarray):
    """Every block's product M_1 ⋯ M_L, M_l = matrix · diag(factors_l), rescaled to sum 1.

    Returns the products, shape (S, S, n_blocks), and the log of what the rescaling divided
    out, shape (n_blocks,).
    """
    block_length, n_states, n_blocks = blocks.shape
    products = np.empty((n_states, n_states, n_blocks))
    products[:] = np.eye(n_states)[:, :, None]
    moved = np.empty_like(products)
    transposed = np.ascontiguousarray(matrix.T)
    totals = np.empty((block_length, n_blocks))
    for step in range(block_length):
        # row i of every product times the matrix: (S, S) @ (S, n_blocks) for each i
        np.matmul(transposed, products, out=moved)
        np.multiply(moved, blocks[step], out=products)
        products.sum(axis=(0, 1), out=totals[step])
        products /= totals[step]
    return products, np.log(totals).sum(axis=0)


def _block_starts(first: np.ndarray, products: np.ndarray, log_scales: np.ndarray):
    """The normalised vector entering every block (S, n_blocks), and log of the total mass
    after the last block."""
    n_blocks = products.shape[2]
    starts = np.empty((len(first), n_blocks))
    by_block = np.ascontiguousarray(products.transpose(2, 0, 1))
    vector, log_total = first, 0.0
    for block in range(n_blocks):
        starts[:, block] = vector
        moved = vector @ by_block[block]
        mass = moved.sum()
        vector = moved / mass
        log_total += math.log(mass) + log_scales[block]
    return starts, log_total


def _steps_in_blocks(starts: np.ndarray, matrix: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    """The normalised vector after every step of every block, shape (L, S, n_blocks)."""
    out = np.empty(blocks.shape)
    vector = starts.copy()
    moved = np.empty_like(vector)
    mass = np.empty(vector.shape[1])
    transposed = np.ascontiguousarray(matrix.T)
    for step, factors in enumerate(blocks):
        np.matmul(transposed, vector, out=moved)
        np.multiply(moved, factors, out=vector)
        vector.sum(axis=0, out=mass)
        vector /= mass
        out[step] = vector
    return out


def forward_backward(log_start: np.ndarray, transmat: np.ndarray, log_emission: np.ndarray):
    """Posterior marginals of one series, with the pieces of its pairwise marginals.

    Arrays over time are state-major, (S, T).

    Parameters
    ----------
    log_start : ndarray of shape (S,)
        log π (LOG_TINY where π is 0).
    transmat : ndarray of shape (S, S)
        A, rows summing to 1.
    log_emission : ndarray of shape (S, T)
        log N(x_t | μ_s, σ²_s).

    Returns
    -------
    dict with
        ``gamma`` (S, T): γ_t(s) = p(z_t = s | X);
        ``alpha`` (S, T): the normalised forward vectors α̂_t;
        ``after`` (S, T): d̂_t ∝ e_t ⊙ β_t, normalised, where β_t(i) = p(x_{t+1:} | z_t = i);
        ``pair_norms`` (T − 1,): Z_t, so that the pairwise marginal is
        ξ_t(i, j) = α̂_t(i) A_ij d̂_{t+1}(j) / Z_t;
        ``xi_sum`` (S, S): Σ_t ξ_t;
        ``log_likelihood``: log p(X | θ).
    """
    # emissions rescaled per step so that the largest is 1: nothing underflows in the products
    peaks = log_emission.max(axis=0)
    emission = np.exp(log_emission - peaks)
    first = np.exp(log_start + log_emission[:, 0] - peaks[0])
    alpha, log_total = chain_forward(first, transmat, emission)
    # d_t = e_t ⊙ (A d_{t+1}) is a forward chain in reversed time with Aᵀ, d_{T−1} = e_{T−1}
    reversed_after, _ = chain_forward(emission[:, -1], transmat.T, emission[:, ::-1])
    after = reversed_after[:, ::-1]
    backward = transmat @ after[:, 1:]  # ∝ β_t for t < T − 1
    pair_norms = np.einsum("st,st->t", alpha[:, :-1], backward)
    gamma = np.empty_like(alpha)
    np.multiply(alpha[:, :-1], backward, out=gamma[:, :-1])
    gamma[:, :-1] /= pair_norms
    gamma[:, -1] = alpha[:, -1]
    xi_sum = transmat * ((alpha[:, :-1] / pair_norms) @ after[:, 1:].T)
    return {
        "gamma": gamma,
        "alpha": alpha,
        "after": after,
        "pair_norms": pair_norms,
        "xi_sum": xi_sum,
        "log_likelihood": log_total + float(peaks.sum()),
    }
