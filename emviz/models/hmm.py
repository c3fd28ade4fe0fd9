"""A hidden Markov model with 1-D Gaussian emissions, fitted by Baum–Welch: EM on state paths.

The hidden variable is the whole path z_1 … z_T. Its posterior under θ is a Markov chain,
described by the marginals γ_t(i) = p(z_t = i | X) and the pairwise marginals
ξ_t(i, j) = p(z_t = i, z_{t+1} = j | X), which forward–backward (`emviz.models.hmm_kernels`)
computes: that is the E-step. The M-step is closed form: π = γ_1, A_ij ∝ Σ_t ξ_t(i, j), and the
γ-weighted mean and variance of the data per state.

For a chain q over paths (γ^q, ξ^q) and another r,

    E_q[log r(Z)] = Σ_t Σ_ij ξ^q_t(i, j) log ξ^r_t(i, j) − Σ_{1 < t < T} γ^q_t · log γ^r_t,

since r(Z) = r(z_1) Π_t r(z_{t+1} | z_t) = Π_t r(z_t, z_{t+1}) / Π_{1<t<T} r(z_t) (for T ≥ 2;
a series of one step contributes γ^q_1 · log γ^r_1). H(q) = −E_q[log q] and
KL(q ‖ p) = E_q[log q] − E_q[log p]. The pairwise term never needs the (T, S, S) array ξ:
log ξ_t(i, j) = log α̂_t(i) + log A_ij + log d̂_{t+1}(j) − log Z_t is a sum of a row, a matrix
and a column term, and the row and column sums of ξ^q_t are γ^q_t and γ^q_{t+1}, so
Σ ξ^q log ξ^r = Σ γ^q_t · log α̂^r_t + Σ Ξ^q ⊙ log A^r + Σ γ^q_{t+1} · log d̂^r_{t+1}
− Σ log Z^r_t (Ξ = Σ_t ξ_t). Everything costs O(T S).

Data: one series, the column of ``X`` (shape (n_samples, 1)). Several series are given by the
model setting ``lengths`` (their lengths, in order, summing to n_samples): each has its own
start drawn from π and no transition between them. Internally arrays over time are
state-major, (S, T); the public ``resp``/``log_resp`` are (T, S) views.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from emviz.models.gaussian_kernels import LOG_2PI, SINGULAR_RTOL
from emviz.models.gaussian_mixture import _frozen_array
from emviz.models.hmm_kernels import LOG_TINY, floored_log, forward_backward
from emviz.models.protocol import (
    Capability,
    InvalidStart,
    SingularParameters,
    TransposedResp,
    unit_vector,
)

HMM_INIT_METHODS = ("quantiles", "random")

_SUM_TOLERANCE = 1e-8  # how far a probability vector's sum may be from 1 (rounding only)


@dataclass(frozen=True, eq=False)
class HMMParams:
    """Parameters of a Gaussian HMM with S states.

    Parameters
    ----------
    startprob : array-like of shape (S,)
        π_i = p(z_1 = i).
    transmat : array-like of shape (S, S)
        A_ij = p(z_{t+1} = j | z_t = i); rows sum to 1.
    means, variances : array-like of shape (S,)
        The emission N(μ_i, σ²_i) of each state.
    """

    startprob: np.ndarray
    transmat: np.ndarray
    means: np.ndarray
    variances: np.ndarray

    def __post_init__(self):
        for name, ndim in (("startprob", 1), ("transmat", 2), ("means", 1), ("variances", 1)):
            object.__setattr__(self, name, _frozen_array(getattr(self, name), name, ndim))
        n_states = self.means.size
        shapes = {
            "startprob": (self.startprob.shape, (n_states,)),
            "transmat": (self.transmat.shape, (n_states, n_states)),
            "variances": (self.variances.shape, (n_states,)),
        }
        for name, (shape, expected) in shapes.items():
            if shape != expected:
                raise ValueError(f"{name} has shape {shape}, expected {expected}")

    @property
    def n_states(self) -> int:
        return self.means.size

    @property
    def n_components(self) -> int:
        """The number of states, under the name the generic panels read."""
        return self.means.size

    def is_finite(self) -> bool:
        return all(np.isfinite(a).all() for a in self._arrays())

    def _arrays(self):
        return (self.startprob, self.transmat, self.means, self.variances)

    def to_dict(self) -> dict:
        """Exact JSON-friendly form, in the order of `parameter_vector`."""
        return {
            "startprob": self.startprob.tolist(),
            "transmat": self.transmat.tolist(),
            "means": self.means.tolist(),
            "variances": self.variances.tolist(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> HMMParams:
        return cls(d["startprob"], d["transmat"], d["means"], d["variances"])


@dataclass(frozen=True, eq=False)
class SeriesData:
    """One or more 1-D series, prepared once per run.

    Attributes
    ----------
    X : ndarray of shape (n_samples, 1)
        The data as given (read-only).
    offset : float
        The data mean; the moments are taken of ``centred = x − offset``.
    centred : ndarray of shape (n_samples,)
    scale : float
        The data's variance (1 if 0): the yardstick for a collapsed state.
    firsts, lasts : ndarray of int
        Index of the first and the last sample of each series.
    """

    X: np.ndarray
    offset: float
    centred: np.ndarray
    scale: float
    firsts: np.ndarray
    lasts: np.ndarray

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]


def prepare_series(X, lengths: tuple[int, ...] = ()) -> SeriesData:
    """Validate a (n_samples, 1) or (n_samples,) array; ``lengths`` () means one series."""
    if isinstance(X, SeriesData):
        return X
    X = np.array(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[1] != 1 or X.shape[0] < 1:
        raise ValueError(f"A series must have shape (n_samples, 1), got {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("The series contains NaN or infinite values")
    X.setflags(write=False)
    sizes = np.array(lengths or (X.shape[0],), dtype=np.int64)
    if sizes.sum() != X.shape[0]:
        raise ValueError(f"lengths add up to {sizes.sum()}, but the data has {X.shape[0]} rows")
    ends = np.cumsum(sizes)
    x = X[:, 0]
    offset = float(x.mean())
    centred = x - offset
    centred.setflags(write=False)
    scale = float(centred.var())
    return SeriesData(X, offset, centred, scale if scale > 0 else 1.0, ends - sizes, ends - 1)


@dataclass(frozen=True, eq=False)
class HMMPosterior(TransposedResp):
    """q over state paths, a Markov chain, in the pieces its expectations need.

    Attributes
    ----------
    resp_t, log_resp_t : ndarray of shape (S, T)
        γ_t(i) and its log (LOG_TINY where γ underflowed to 0).
    xi_sum : ndarray of shape (S, S)
        Σ_t ξ_t(i, j), the expected number of i → j transitions.
    log_from_t, log_to_t : ndarray of shape (S, T)
        The row and column terms of log ξ_t(i, j) = log_from_t(i) + log_pair(i, j)
        + log_to_{t+1}(j) − log Z_t; 0 in the last (``log_from``) and first (``log_to``)
        column of each series, where there is no pair.
    log_pair : ndarray of shape (S, S)
        The matrix term (log A for an E-step's posterior, 0 for the uniform q).
    log_pair_norm : float
        Σ_t log Z_t.
    firsts, lasts : ndarray of int
        The series' first and last samples.
    log_likelihood : float or None
        log p(X | θ) at this posterior's θ; None for the uniform q.
    log_startprob, log_emission_t : ndarray of shape (S,) and (S, T), or None
        log π and log N(x_t | μ_i, σ²_i) at θ (for Q); None for the uniform q.
    """

    resp_t: np.ndarray
    log_resp_t: np.ndarray
    xi_sum: np.ndarray
    log_from_t: np.ndarray
    log_to_t: np.ndarray
    log_pair: np.ndarray
    log_pair_norm: float
    firsts: np.ndarray
    lasts: np.ndarray
    log_likelihood: float | None = None
    log_startprob: np.ndarray | None = None
    log_emission_t: np.ndarray | None = None

    @cached_property
    def expected_log_self(self) -> float:
        """E_q[log q(Z)] = −H(q): computed once, both H(q) and KL(q ‖ ·) need it."""
        return expected_log_chain(self, self)


def expected_log_chain(q: HMMPosterior, r: HMMPosterior) -> float:
    """E_q[log r(Z)] for two chains over the same series (see the module docstring)."""
    per_step = np.einsum("st,st->t", q.resp_t, r.log_resp_t)
    single = per_step[q.firsts[q.firsts == q.lasts]].sum()  # series of one step
    interior = per_step.sum() - per_step[q.firsts].sum() - per_step[q.lasts].sum() + single
    pairs = (
        np.vdot(q.resp_t, r.log_from_t)
        + np.vdot(q.xi_sum, r.log_pair)
        + np.vdot(q.resp_t, r.log_to_t)
        - r.log_pair_norm
    )
    return float(pairs + single - interior)


def log_emission(data: SeriesData, means: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """log N(x_t | μ_i, σ²_i), shape (S, T)."""
    deviation = data.centred - (means - data.offset)[:, None]
    deviation *= deviation
    deviation /= variances[:, None]
    deviation += (LOG_2PI + np.log(variances))[:, None]
    deviation *= -0.5
    return deviation


@dataclass(frozen=True)
class GaussianHMM:
    """A hidden Markov model with S states and 1-D Gaussian emissions.

    Parameters
    ----------
    n_states : int
        S, the number of hidden states.
    lengths : tuple of int
        Lengths of the series stacked in the data, in order; () (the default) means that the
        data is one series.
    """

    n_states: int
    lengths: tuple[int, ...] = ()

    def __post_init__(self):
        if int(self.n_states) != self.n_states or self.n_states < 1:
            raise ValueError(f"n_states must be a positive integer, got {self.n_states}")
        lengths = tuple(int(n) for n in self.lengths)
        if any(n < 1 for n in lengths):
            raise ValueError(f"every series length must be at least 1, got {self.lengths}")
        object.__setattr__(self, "lengths", lengths)

    inexact_m_step = None  # the M-step is the exact maximiser of Q (protocol)
    capabilities = frozenset({Capability.N_PARAMETERS})
    objective = "log_likelihood"

    @property
    def n_components(self) -> int:
        """The number of hidden states (the name every model's pages read)."""
        return self.n_states

    # ---- protocol ----

    def prepare(self, X) -> SeriesData:
        return prepare_series(X, self.lengths)

    def init_params(self, X, method: str = "quantiles", seed=0) -> HMMParams:
        """``quantiles``: the sorted data cut into S equal parts gives each state its mean and
        variance; ``random``: S distinct data points as means, the data's variance, seeded
        random rows of A. Both start from π uniform; ``quantiles`` from A with 0.9 on the
        diagonal (regimes persist).

        Raises
        ------
        InvalidStart
            When the data has fewer distinct values than states.
        """
        data = self.prepare(X)
        x, n_states = data.X[:, 0], self.n_states
        distinct = np.unique(x)
        if distinct.size < n_states:
            raise InvalidStart(
                f"The series has {distinct.size} distinct value(s): too few for {n_states} states."
            )
        startprob = np.full(n_states, 1.0 / n_states)
        if method == "quantiles":
            parts = np.array_split(np.sort(x), n_states)
            means = np.array([part.mean() for part in parts])
            variances = np.array([part.var() for part in parts])
            variances = np.maximum(variances, 1e-3 * data.scale)
            transmat = _sticky_transmat(n_states, 0.9)
            return HMMParams(startprob, transmat, means, variances)
        if method == "random":
            rng = np.random.default_rng(seed)
            means = np.sort(rng.choice(distinct, n_states, replace=False))
            transmat = rng.dirichlet(np.ones(n_states), n_states)
            return HMMParams(startprob, transmat, means, np.full(n_states, data.scale))
        raise ValueError(f"Unknown initialisation {method!r}; choose one of {HMM_INIT_METHODS}")

    def check_params(self, params: HMMParams, n_features: int) -> None:
        if n_features != 1:
            raise InvalidStart(f"The HMM's emissions are 1-D; the data has {n_features} columns.")
        if params.n_states != self.n_states:
            raise InvalidStart(
                f"The parameters have {params.n_states} states, the model {self.n_states}."
            )
        if not params.is_finite():
            raise InvalidStart("The initial parameters must be finite numbers.")
        _check_distribution(params.startprob[None, :], "The start probabilities")
        _check_distribution(params.transmat, "Each row of the transition matrix")
        if not np.all(params.variances > 0):
            raise InvalidStart("Every state's variance must be positive.")

    def e_step(self, data, params: HMMParams) -> HMMPosterior:
        """Forward–backward at ``params``: γ, Σ_t ξ_t and log p(X | params)."""
        data = self.prepare(data)
        emission = log_emission(data, params.means, params.variances)
        log_start = floored_log(params.startprob)
        log_transmat = floored_log(params.transmat)
        pieces = [
            forward_backward(log_start, params.transmat, emission[:, first : last + 1])
            for first, last in zip(data.firsts, data.lasts)
        ]
        gamma = _joined(pieces, "gamma")
        log_from = floored_log(_joined(pieces, "alpha"))
        log_from[:, data.lasts] = 0.0
        log_to = floored_log(_joined(pieces, "after"))
        log_to[:, data.firsts] = 0.0
        return HMMPosterior(
            resp_t=gamma,
            log_resp_t=floored_log(gamma),
            xi_sum=sum(piece["xi_sum"] for piece in pieces),
            log_from_t=log_from,
            log_to_t=log_to,
            log_pair=log_transmat,
            log_pair_norm=float(sum(np.log(piece["pair_norms"]).sum() for piece in pieces)),
            firsts=data.firsts,
            lasts=data.lasts,
            log_likelihood=float(sum(piece["log_likelihood"] for piece in pieces)),
            log_startprob=log_start,
            log_emission_t=emission,
        )

    def m_step(self, data, posterior: HMMPosterior) -> HMMParams:
        """π = mean of the γ_1 of the series, A_ij ∝ Σ_t ξ_t(i, j), γ-weighted means and variances.

        Raises
        ------
        SingularParameters
            When a state has no weight left, is never left for another step, or its variance
            collapsed.
        """
        data = self.prepare(data)
        gamma = posterior.resp_t
        totals = gamma.sum(axis=1)
        leaving = posterior.xi_sum.sum(axis=1)
        for state in range(self.n_states):
            if not totals[state] > 0:
                raise SingularParameters(
                    f"State {state + 1} has no weight left: no time step is assigned to it.",
                    component=state,
                )
            if not leaving[state] > 0:
                raise SingularParameters(
                    f"State {state + 1} has no transitions out of it: it is only ever the "
                    "last state of a series, so its row of the transition matrix is undefined.",
                    component=state,
                )
        centred_means = gamma @ data.centred / totals
        deviation = data.centred - centred_means[:, None]
        deviation *= deviation
        variances = np.einsum("st,st->s", gamma, deviation) / totals
        _check_not_collapsed(variances, totals, data.scale)
        return HMMParams(
            startprob=gamma[:, data.firsts].sum(axis=1) / data.firsts.size,
            transmat=posterior.xi_sum / leaving[:, None],
            means=centred_means + data.offset,
            variances=variances,
        )

    def uniform_posterior(self, data, params: HMMParams) -> HMMPosterior:
        """Every path equally likely: γ_t(i) = 1/S and ξ_t(i, j) = 1/S²."""
        data = self.prepare(data)
        n_states = params.n_states
        shape = (n_states, data.n_samples)
        log_uniform = -np.log(n_states)
        log_from = np.full(shape, log_uniform)
        log_from[:, data.lasts] = 0.0
        log_to = np.full(shape, log_uniform)
        log_to[:, data.firsts] = 0.0
        n_pairs = data.n_samples - data.firsts.size
        return HMMPosterior(
            resp_t=np.full(shape, 1.0 / n_states),
            log_resp_t=np.full(shape, log_uniform),
            xi_sum=np.full((n_states, n_states), n_pairs / n_states**2),
            log_from_t=log_from,
            log_to_t=log_to,
            log_pair=np.zeros((n_states, n_states)),
            log_pair_norm=0.0,
            firsts=data.firsts,
            lasts=data.lasts,
        )

    def expected_log_joint(self, q: HMMPosterior, evaluated: HMMPosterior) -> float:
        """Q(θ) = Σ γ_1 · log π + Σ Ξ ⊙ log A + Σ_t γ_t · log N(x_t | μ, σ²), at the θ of
        ``evaluated`` (0·log 0 = 0: a probability that is 0 has q = 0 too)."""
        start = q.resp_t[:, q.firsts].sum(axis=1)
        return float(
            np.vdot(start, evaluated.log_startprob)
            + np.vdot(q.xi_sum, evaluated.log_pair)
            + np.vdot(q.resp_t, evaluated.log_emission_t)
        )

    def entropy(self, q: HMMPosterior) -> float:
        """H(q) = −E_q[log q(Z)] of the chain q over whole paths (not of its marginals)."""
        return max(-q.expected_log_self, 0.0)

    def kl_divergence(self, q: HMMPosterior, evaluated: HMMPosterior) -> float:
        """KL(q ‖ p(Z | X, θ)) = E_q[log q] − E_q[log p] over paths, from its definition;
        clipped at 0, its true lower bound, against rounding."""
        if q is evaluated:
            return 0.0
        return max(q.expected_log_self - expected_log_chain(q, evaluated), 0.0)

    def free_directions(self, params: HMMParams) -> dict[str, np.ndarray]:
        """ "μk" and "σ²k": unit moves of each state's emission mean and variance (moves of π
        and A must keep their rows on the simplex, so they are not single coordinates)."""
        directions = {}
        for name, symbol in (("means", "μ"), ("variances", "σ²")):
            for state in range(params.n_states):
                directions[f"{symbol}{state + 1}"] = unit_vector(params, name, state)
        return directions

    def log_likelihood(self, X, params: HMMParams) -> float:
        return self.e_step(X, params).log_likelihood

    def expected_complete_log_likelihood(self, X, q: HMMPosterior, params: HMMParams) -> float:
        return self.expected_log_joint(q, self.e_step(X, params))

    def n_parameters(self, n_features: int = 1) -> int:
        """(S − 1) start probabilities, S(S − 1) transitions, S means and S variances."""
        n_states = self.n_states
        return (n_states - 1) + n_states * (n_states - 1) + 2 * n_states

    def to_dict(self) -> dict:
        return {"model": "GaussianHMM", "n_states": self.n_states, "lengths": list(self.lengths)}

    def params_from_dict(self, d: dict) -> HMMParams:
        return HMMParams.from_dict(d)


def _sticky_transmat(n_states: int, stay: float) -> np.ndarray:
    """A with ``stay`` on the diagonal and the rest spread evenly (1 for a single state)."""
    if n_states == 1:
        return np.ones((1, 1))
    transmat = np.full((n_states, n_states), (1.0 - stay) / (n_states - 1))
    np.fill_diagonal(transmat, stay)
    return transmat


def _check_distribution(rows: np.ndarray, what: str) -> None:
    if np.any(rows < 0) or np.any(np.abs(rows.sum(axis=1) - 1.0) > _SUM_TOLERANCE):
        raise InvalidStart(f"{what} must be non-negative and add up to 1.")


def _check_not_collapsed(variances: np.ndarray, totals: np.ndarray, scale: float) -> None:
    for state, variance in enumerate(variances):
        if not variance > SINGULAR_RTOL * scale:
            points = totals[state]
            where = "a single value" if points < 1.5 else f"about {points:.0f} equal values"
            raise SingularParameters(
                f"State {state + 1} collapsed onto {where}: its variance is "
                f"{max(variance, 0.0):.3g}, "
                "so its density (and the likelihood) grows without bound. Start it elsewhere.",
                component=state,
            )


def _joined(pieces: list[dict], name: str) -> np.ndarray:
    """One (S, T) array from the per-series arrays ``name``."""
    if len(pieces) == 1:
        return pieces[0][name]
    return np.concatenate([piece[name] for piece in pieces], axis=1)


__all__ = ["HMM_INIT_METHODS", "LOG_TINY", "GaussianHMM", "HMMParams", "HMMPosterior"]
