"""The contract every latent-variable model keeps, so that `run_em`, the analyses and the pages
work on it without knowing which model it is.

A model is a small frozen dataclass of fixed settings; its parameters are another frozen
dataclass of numpy arrays. All methods are pure: they never modify their inputs. Code outside
a model talks to it only through `LatentVariableModel` (and the `Posterior` its E-step
returns); it never asks ``isinstance`` of a concrete model nor probes for attributes. What only
some models offer is declared in ``model.capabilities`` (see `Capability`) and checked there.

The required methods
--------------------
``prepare(X) -> Prepared``
    Turn the raw ``(n_samples, n_features)`` array into whatever the model's maths reuses across
    iterations (centred data, design matrices). The result carries the data as ``.X``.
``init_params(X, method, seed)``
    Starting parameters. Raises `InvalidStart` when the data cannot give them (too few
    points or distinct points for the model).
``check_params(params, n_features)``
    Raises `InvalidStart` (a ValueError), in a sentence a learner understands, unless
    ``params`` can start a run on data of ``n_features``.
``e_step(data, params) -> Posterior``
    The posterior over the hidden variables at ``params``, with log p(X | params).
``m_step(data, posterior) -> params``
    Parameters maximising Q(params, posterior). Raises `SingularParameters` if the
    maximiser is degenerate (a collapsed component).
``uniform_posterior(data, params) -> Posterior``
    The q used for the initial step (before any E-step), uniform over the hidden states.
``expected_log_joint(q, evaluated)``
    Q = E_q[log p(X, Z | θ)], where ``evaluated`` is ``e_step(data, θ)``: the engine reuses
    the E-step it computes anyway, so Q costs one dot product.
``entropy(q)``
    H(q) = -E_q[log q(Z)].
``kl_divergence(q, evaluated)``
    KL(q || p(Z | X, θ)) computed from its definition (not as ℓ − ELBO, so that the
    identity ℓ = ELBO + KL is a real check).
``inexact_m_step`` (property)
    None when ``m_step`` returns the exact maximiser of Q; otherwise why it does not, as a
    clause a learner reads after "the M-step lowered the lower bound: " (e.g. "reg_covar = 0.1
    adds ε to every variance, so …"). EM's promise that ℓ never falls holds only for exact
    E- and M-steps: the engine names this reason when an M-step lowers the bound, and the
    pages say it instead of calling the M-step broken. Wrappers forward it (adding their own).
``objective``
    The name of the recorded quantity the run climbs ("log_likelihood"; MAP-EM climbs the log
    posterior, "log_posterior", see ``Capability.LOG_PRIOR``). The convergence monitor
    watches it.
``free_directions(params) -> dict[str, ndarray]``
    Unit moves along the parameters a learner can name ("μ1", "π2", "σ²1 (x)"), as vectors
    in the space of `parameter_vector`: only directions along which the model's parameters
    really vary (fixed settings are not parameters).
``log_likelihood(X, params)``, ``expected_complete_log_likelihood(X, q, params)``
    Convenience forms for notebooks and analysis code.
``to_dict()`` / ``params_from_dict(d)``
    Exact, JSON-friendly descriptions of the model and of its parameters; the parameters'
    own ``to_dict()`` lists their arrays in a fixed order (that of `parameter_vector`).

Optional capabilities
---------------------
``Capability.MIXTURE``
    A mixture of ``model.n_components`` components: its parameters have ``weights`` (n_components,)
    and ``means`` (n_components, n_features) that the E-step reads, and the model offers
    ``with_equal_weights(params) -> (model, params)``, the same mixture with every weight
    1 / n_components (used by `emviz.models.variants.WeightlessEStep`).
``Capability.N_PARAMETERS``
    ``n_parameters(n_features) -> int``: the number of free parameters (for BIC and AIC).
``Capability.SETTABLE_Q``
    ``q_of(resp_t, log_resp_t) -> Posterior``: a q over the hidden labels given as arrays of
    shape (n_components, n_samples), which the model's ``m_step``, ``entropy`` and
    ``kl_divergence`` accept like its own E-step's posterior. The variants that replace the
    E-step's q (tempered, hard, stochastic, annealed) need it; it is not forwarded by a
    wrapper, so such a variant always wraps a plain model.
``Capability.ITERATION_E_STEP``
    ``e_step_at(data, params, iteration) -> Posterior``: an E-step whose q depends on the
    iteration it serves (a temperature schedule, a seeded random draw per iteration). The
    engine and `History` call it through `e_step_for`, so a recorded run can be recomputed
    exactly; ``e_step(data, params)`` is the E-step outside any run. ``steady_from`` is the
    first iteration at which the run may stop for convergence: the E-steps of it and of the
    iteration before are the same map (None: never, as for a random draw).
``Capability.CONJUGATE_PRIOR``
    The model has a conjugate prior p(θ) whose pseudo-counts (`PriorCounts`) set its strength
    and whose scale comes from the data; it offers ``map_m_step(data, posterior, counts)``,
    the parameters maximising Q(θ, q) + log p(θ) (used by `emviz.models.variants.MapMStep`),
    and ``log_prior(data, params, counts) -> float``, log p(θ) with every normalising constant.
    A wrapper that changes a phase does not forward it (its M-step is not the base's).
``Capability.LOG_PRIOR``
    The model's M-step maximises Q + log p(θ) for a prior p: it offers
    ``log_prior(data, params) -> float`` and its ``objective`` is "log_posterior". The engine
    records ℓ(θ) + log p(θ) as each step's ``objective``; the bound on it is ELBO + log p(θ)
    (log p(X | θ) + log p(θ) = ELBO + KL + log p(θ)).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import numpy as np


class SingularParameters(ArithmeticError):
    """An M-step produced parameters at which the likelihood is degenerate.

    Parameters
    ----------
    message : str
        A sentence a student understands: which component, and what happened to it.
    component : int or None
        Zero-based index of the component that collapsed, when there is one.
    """

    def __init__(self, message: str, component: int | None = None):
        super().__init__(message)
        self.component = component


class TransposedResp:
    """``resp`` and ``log_resp``, shape (n_samples, n_states), of a posterior that stores them
    transposed as ``resp_t`` and ``log_resp_t`` (n_states, n_samples): a sum over the samples
    then runs along contiguous memory."""

    @property
    def resp(self) -> np.ndarray:
        return self.resp_t.T

    @property
    def log_resp(self) -> np.ndarray:
        return self.log_resp_t.T


class Capability(StrEnum):
    """What only some models offer (see the module docstring); listed in ``capabilities``."""

    MIXTURE = "mixture"
    N_PARAMETERS = "n_parameters"
    SETTABLE_Q = "settable_q"
    ITERATION_E_STEP = "iteration_e_step"
    CONJUGATE_PRIOR = "conjugate_prior"
    LOG_PRIOR = "log_prior"


def steady_from(model) -> float:
    """The first iteration at which a run of ``model`` may stop for convergence
    (`Capability.ITERATION_E_STEP`): 1 for every other model, infinity for one that never
    settles."""
    if Capability.ITERATION_E_STEP not in model.capabilities:
        return 1
    first = model.steady_from
    return float("inf") if first is None else first


def e_step_for(model, data, params, iteration: int | None):
    """The E-step serving ``iteration`` (1, 2, …) of a run; ``model.e_step`` unless the model
    declares `Capability.ITERATION_E_STEP`. None: not part of a run."""
    if Capability.ITERATION_E_STEP in model.capabilities:
        return model.e_step_at(data, params, iteration)
    return model.e_step(data, params)


@dataclass(frozen=True)
class PriorCounts:
    """How strong a conjugate prior is, in pseudo-counts (all 0: no prior, plain EM).

    Attributes
    ----------
    weights : float
        α − 1 of the symmetric Dirichlet(α) on the weights: pseudo-points added to every N_k.
        ≥ 0, so that α ≥ 1 (for α < 1 the Dirichlet's density has no interior maximum).
    means : float
        κ: pseudo-points at the prior's mean m0 added to every component's mean.
    covariances : float
        n0: pseudo-points with the prior's covariance Σ0 added to every component's scatter.
    """

    weights: float
    means: float
    covariances: float


class Prepared(Protocol):
    """What ``prepare`` returns: at least the data itself."""

    @property
    def X(self) -> np.ndarray:
        """The data, shape (n_samples, n_features), read-only."""


class Parameters(Protocol):
    """A model's parameters: a frozen dataclass of arrays."""

    def to_dict(self) -> dict:
        """Name → nested lists of floats, in a fixed order; exact through ``json``."""

    def is_finite(self) -> bool:
        """No NaN or infinity anywhere."""


@runtime_checkable
class Posterior(Protocol):
    """What ``e_step`` and ``uniform_posterior`` return: q over every sample's hidden state.

    Attributes
    ----------
    log_likelihood : float or None
        log p(X | θ) at the θ this posterior was computed from; None for the uniform q.
    resp, log_resp : ndarray of shape (n_samples, n_states)
        q(z_n = s) and its logarithm (finite where q underflows to 0).
    """

    @property
    def log_likelihood(self) -> float | None: ...

    @property
    def resp(self) -> np.ndarray: ...

    @property
    def log_resp(self) -> np.ndarray: ...


class InvalidStart(ValueError):
    """The data or the initial parameters cannot start a run.

    Raised by ``init_params`` and ``check_params``; the message is a sentence a student
    understands. Callers that show it catch this class alone, so that any other error (a bug)
    is not mistaken for bad input.
    """


@runtime_checkable
class LatentVariableModel(Protocol):
    """Structural type of an emviz model (see the module docstring)."""

    @property
    def capabilities(self) -> frozenset[Capability]: ...

    @property
    def objective(self) -> str: ...

    @property
    def inexact_m_step(self) -> str | None: ...

    def prepare(self, X: Any) -> Prepared: ...

    def init_params(self, X: Any, method: str = ..., seed: int = ...) -> Parameters: ...

    def check_params(self, params: Any, n_features: int) -> None: ...

    def e_step(self, data: Any, params: Any) -> Posterior: ...

    def m_step(self, data: Any, posterior: Any) -> Parameters: ...

    def uniform_posterior(self, data: Any, params: Any) -> Posterior: ...

    def expected_log_joint(self, q: Any, evaluated: Any) -> float: ...

    def entropy(self, q: Any) -> float: ...

    def kl_divergence(self, q: Any, evaluated: Any) -> float: ...

    def free_directions(self, params: Any) -> dict[str, np.ndarray]: ...

    def log_likelihood(self, X: Any, params: Any) -> float: ...

    def expected_complete_log_likelihood(self, X: Any, q: Any, params: Any) -> float: ...

    def to_dict(self) -> dict: ...

    def params_from_dict(self, d: dict) -> Parameters: ...


REQUIRED_METHODS = (
    "prepare",
    "init_params",
    "check_params",
    "e_step",
    "m_step",
    "uniform_posterior",
    "expected_log_joint",
    "entropy",
    "kl_divergence",
    "free_directions",
    "log_likelihood",
    "expected_complete_log_likelihood",
    "to_dict",
    "params_from_dict",
)
"""The methods of `LatentVariableModel`, for the conformance test."""

OBJECTIVES = ("log_likelihood", "log_posterior")
"""The quantities a model's ``objective`` may name: the log-likelihood is each Step's
``log_likelihood``, any other its ``objective`` (`emviz.convergence.ConvergenceMonitor.value`)."""


# ---- parameter vectors: every model's parameters as one flat array ----


def parameter_vector(params: Parameters) -> np.ndarray:
    """Every number of ``params`` in one flat array, in the order of ``params.to_dict()``."""
    parts = [np.ravel(np.asarray(value, dtype=float)) for value in params.to_dict().values()]
    return np.concatenate(parts)


def params_from_vector(model: LatentVariableModel, template: Parameters, vector: np.ndarray):
    """The inverse of `parameter_vector`, with the shapes of ``template``."""
    out, start = {}, 0
    for name, value in template.to_dict().items():
        shape = np.shape(value)
        size = int(np.prod(shape, dtype=int))
        out[name] = np.reshape(vector[start : start + size], shape).tolist()
        start += size
    return model.params_from_dict(out)


def unit_vector(params: Parameters, name: str, flat_index: int) -> np.ndarray:
    """The `parameter_vector`-space unit move of entry ``flat_index`` of array ``name``."""
    sizes = {key: int(np.size(value)) for key, value in params.to_dict().items()}
    offsets = dict(zip(sizes, np.cumsum([0, *sizes.values()])[:-1]))
    vector = np.zeros(sum(sizes.values()))
    vector[offsets[name] + flat_index] = 1.0
    return vector


def axis_names(n_features: int) -> list[str]:
    """x, y, z for up to three features; 1, 2, 3, … beyond."""
    return list("xyz"[:n_features]) if n_features <= 3 else [str(d + 1) for d in range(n_features)]


def mean_directions(params: Parameters) -> dict[str, np.ndarray]:
    """ "μk" (1-D) or "μk (axis)" moves of a mixture's means, shape (n_components, n_features)."""
    n_components, n_features = np.shape(params.to_dict()["means"])
    axes = axis_names(n_features)
    directions = {}
    for k in range(n_components):
        for d in range(n_features):
            name = f"μ{k + 1}" if n_features == 1 else f"μ{k + 1} ({axes[d]})"
            directions[name] = unit_vector(params, "means", k * n_features + d)
    return directions
