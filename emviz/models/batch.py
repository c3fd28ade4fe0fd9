"""EM from many starts at once: a model's E-step and M-step on arrays with a leading start axis.

A model that `emviz.analysis.basins` can run from many starts offers, besides the protocol:

``free_parameters(params) -> ndarray (P,)`` and ``params_from_free(vector) -> params``
    The P numbers EM estimates (the two means; θ; the K means flattened row by row) and back.
``batch_e_step(data, thetas (S, P), *, log_resp=True) -> BatchPosterior``
    The posterior at every start's parameters (``data`` from ``prepare``), responsibilities of
    shape (S, K, N); ``log_resp=False`` leaves out log q, which EM's iterations never read.
``batch_m_step(data, posterior) -> (thetas (S, P), lost (S, K))``
    The M-step for every start, and which components lost all their points (their means are
    undefined: the start is singular; a model whose M-step cannot fail returns shape (S, 0)).

The model's own ``e_step`` and ``m_step`` are these with S = 1 (`BatchedMixture`), so a batch
of starts and `emviz.engine.run_em` from one of them do the same arithmetic and stop at the same
iteration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emviz.models.gaussian_kernels import EPS
from emviz.models.gaussian_mixture import GaussianMixture, GaussianPosterior
from emviz.models.protocol import SingularParameters


@dataclass(frozen=True, eq=False)
class BatchPosterior:
    """q(Z) for S parameter settings at once.

    Attributes
    ----------
    resp_t : ndarray of shape (S, n_components, n_samples)
    log_norm : ndarray of shape (S, n_samples)
        log p(x_n | θ_s).
    log_resp_t : ndarray of shape (S, n_components, n_samples) or None
        log q; None when the E-step was asked to leave it out (EM itself never reads it:
        only Q, H(q) and KL of a recorded run do).
    """

    resp_t: np.ndarray
    log_norm: np.ndarray
    log_resp_t: np.ndarray | None = None

    @property
    def log_likelihoods(self) -> np.ndarray:
        """log p(X | θ_s) for every start, shape (S,)."""
        return self.log_norm.sum(axis=1)

    def rows(self, keep: np.ndarray) -> BatchPosterior:
        """The posterior of the starts selected by ``keep`` (a mask or index array)."""
        log_resp_t = None if self.log_resp_t is None else self.log_resp_t[keep]
        return BatchPosterior(self.resp_t[keep], self.log_norm[keep], log_resp_t)

    def single(self) -> GaussianPosterior:
        """The one posterior of a batch of one start, as a model's ``e_step`` returns it."""
        if self.log_norm.shape[0] != 1 or self.log_resp_t is None:
            raise ValueError("single() needs a batch of one start with its log q")
        return GaussianPosterior(
            log_resp_t=self.log_resp_t[0],
            resp_t=self.resp_t[0],
            log_norm=self.log_norm[0],
            log_likelihood=float(self.log_likelihoods[0]),
        )

    @classmethod
    def of(cls, posterior: GaussianPosterior) -> BatchPosterior:
        """A batch of one start holding ``posterior`` (for a model's ``m_step``)."""
        # a q set by a variant has no log p(x_n): the M-step does not read it
        log_norm = posterior.log_norm
        log_norm = np.zeros((1, posterior.resp_t.shape[1])) if log_norm is None else log_norm[None]
        return cls(posterior.resp_t[None], log_norm, posterior.log_resp_t[None])


def softplus(t: np.ndarray) -> np.ndarray:
    """log(1 + e^t) = max(t, 0) + log1p(e^−|t|), elementwise, never overflowing.

    The same formula as ``np.logaddexp(0, t)``, from vectorised ufuncs: about twice as fast,
    which matters in an E-step run for every start of a grid.
    """
    out = np.abs(t)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    out += np.maximum(t, 0.0)
    return out


def two_state_posterior(log_odds, log_first, *, log_resp: bool = True) -> BatchPosterior:
    """q over two hidden states from the log-odds of the second against the first.

    Parameters
    ----------
    log_odds : ndarray of shape (S, N)
        t_sn = log p(x_n, z = 2) − log p(x_n, z = 1).
    log_first : ndarray of shape (S, N)
        log p(x_n, z = 1).
    log_resp : bool
        Whether to compute log q too.

    Returns
    -------
    BatchPosterior
        q1 = 1/(1 + e^t), q2 = e^t q1 and log p(x_n) = log p(x_n, z = 1) + log1p(e^t): one
        exponential and one logarithm per point, the least an E-step run for every start of
        a grid can do. Where t is the same for every point (two coinciding Gaussians), so is
        q: the symmetric fixed points of EM stay exact.
    """
    n_starts, n_samples = log_odds.shape
    resp_t = np.empty((n_starts, 2, n_samples))
    with np.errstate(over="ignore", invalid="ignore"):  # e^t = inf: mended below
        odds = np.exp(log_odds)
        np.add(odds, 1.0, out=resp_t[:, 0])
        np.reciprocal(resp_t[:, 0], out=resp_t[:, 0])
        np.multiply(odds, resp_t[:, 0], out=resp_t[:, 1])
        log_norm = np.log1p(odds, out=odds)
    overflow = log_odds > _LARGEST_EXPONENT if log_odds.max() > _LARGEST_EXPONENT else None
    if overflow is not None:  # q2 = 1 to double precision, log(1 + e^t) = t
        resp_t[:, 1][overflow] = 1.0
        log_norm[overflow] = log_odds[overflow]
    log_norm += log_first
    log_resp_t = None
    if log_resp:
        # log q1 = −log(1 + e^t), log q2 = −log(1 + e^−t): each accurate where q is tiny
        log_resp_t = -softplus(np.stack([log_odds, -log_odds], axis=1))
    return BatchPosterior(resp_t, log_norm, log_resp_t)


_LARGEST_EXPONENT = 700.0  # e^t is finite below ~709.78; beyond 700, e^−t < 1e-304 is nothing


def inner_products(X: np.ndarray, thetas: np.ndarray) -> np.ndarray:
    """a_sn = ⟨θ_s, x_n⟩, shape (S, N), one feature at a time: elementwise products add in
    the same order for any number of starts, so a batch matches a single run bit for bit."""
    inner = np.multiply.outer(thetas[:, 0], X[:, 0])
    for d in range(1, X.shape[1]):
        inner += np.multiply.outer(thetas[:, d], X[:, d])
    return inner


def squared_distances(X: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """|x_n − c|² for every row c of ``centres`` (M, D), shape (M, N), from differences (no
    expansion of the square, so nothing cancels when the points lie far from the origin)."""
    total = np.zeros((centres.shape[0], X.shape[0]))
    for d in range(X.shape[1]):
        difference = np.subtract.outer(centres[:, d], X[:, d])
        total += np.square(difference, out=difference)
    return total


def lost_components(nk: np.ndarray, n_samples: int) -> np.ndarray:
    """Which components hold (almost) no responsibility, shape of ``nk`` (S, K).

    The same threshold as the Gaussian mixture's M-step: N_k <= 10 ε N, below which the
    weighted mean N_k⁻¹ Σ r_nk x_n is rounding noise.
    """
    return ~(nk > 10 * EPS * n_samples)


def single_m_step(thetas: np.ndarray, lost: np.ndarray) -> np.ndarray:
    """The one start's parameters (P,) from a batch M-step of one start; raises
    `SingularParameters` naming the component that lost its points."""
    if lost[0].any():
        k = int(np.argmax(lost[0]))
        raise SingularParameters(
            f"Component {k + 1} has lost all its points; its mean is undefined.", component=k
        )
    return thetas[0]


class BatchedMixture:
    """The protocol members of a mixture whose E- and M-steps are its batch steps for one start.

    A base for the models with fixed weights and variances (the two-mean, symmetric and
    spherical-means mixtures): their posteriors are `GaussianPosterior`, so Q, H(q) and KL
    come from the Gaussian mixture's formulas. Subclasses define ``n_components``,
    ``prepare``, ``free_parameters``, ``params_from_free``, ``batch_e_step`` and
    ``batch_m_step``.
    """

    @property
    def _mixture(self) -> GaussianMixture:
        return GaussianMixture(self.n_components)

    def e_step(self, data, params) -> GaussianPosterior:
        """The posterior at ``params``: ``batch_e_step`` for one start."""
        data = self.prepare(data)
        return self.batch_e_step(data, self.free_parameters(params)[None]).single()

    def m_step(self, data, posterior: GaussianPosterior):
        """``batch_m_step`` for one start; raises `SingularParameters` if a component lost
        its points."""
        data = self.prepare(data)
        thetas, lost = self.batch_m_step(data, BatchPosterior.of(posterior))
        return self.params_from_free(single_m_step(thetas, lost))

    def uniform_posterior(self, data, params) -> GaussianPosterior:
        return self._mixture.uniform_posterior(self.prepare(data), params)

    def expected_log_joint(self, q, evaluated) -> float:
        return self._mixture.expected_log_joint(q, evaluated)

    def q_of(self, resp_t, log_resp_t) -> GaussianPosterior:
        return self._mixture.q_of(resp_t, log_resp_t)

    def entropy(self, q) -> float:
        return self._mixture.entropy(q)

    def kl_divergence(self, q, evaluated) -> float:
        return self._mixture.kl_divergence(q, evaluated)

    def log_likelihood(self, X, params) -> float:
        return self.e_step(X, params).log_likelihood

    def expected_complete_log_likelihood(self, X, q, params) -> float:
        return self.expected_log_joint(q, self.e_step(X, params))
