"""The protocol every latent-variable model follows, so that `run_em` and the pages work on it.

A model is a small frozen dataclass of fixed settings; its parameters are another frozen
dataclass of numpy arrays. All methods are pure: they never modify their inputs.

The engine talks to a model only through these methods:

``prepare(X)``
    Turn the raw ``(n_samples, n_features)`` array into whatever the model's maths wants to
    reuse across iterations (centred data, design matrices). May return ``X`` itself.
``init_params(X, method, seed)``
    Starting parameters. Raises `InvalidStart` when the data cannot give them (too few
    points or distinct points for the model).
``check_params(params, n_features)`` (optional)
    Raises `InvalidStart` unless ``params`` can start a run on data of ``n_features``.
``e_step(data, params) -> Posterior``
    The posterior over the hidden variables at ``params``. The returned object carries
    ``log_likelihood`` (log p(X | params)) and whatever the bound terms below need.
``m_step(data, posterior) -> params``
    Parameters maximising Q(params, posterior). Raises `SingularParameters` if the
    maximiser is degenerate (a collapsed component).
``uniform_posterior(data, params)``
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
``log_likelihood(X, params)``, ``expected_complete_log_likelihood(X, q, params)``
    Convenience forms for notebooks and analysis code.
``to_dict()`` / ``params_from_dict(d)``
    Exact, JSON-friendly descriptions of the model and of its parameters.
"""

from __future__ import annotations

from typing import Any, Protocol


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


class InvalidStart(ValueError):
    """The data or the initial parameters cannot start a run.

    Raised by ``init_params`` and ``check_params``; the message is a sentence a student
    understands. Callers that show it catch this class alone, so that any other error (a bug)
    is not mistaken for bad input.
    """


class LatentVariableModel(Protocol):
    """Structural type of an emviz model (see the module docstring)."""

    def prepare(self, X: Any) -> Any: ...

    def init_params(self, X: Any, method: str = ..., seed: int = ...) -> Any: ...

    def e_step(self, data: Any, params: Any) -> Any: ...

    def m_step(self, data: Any, posterior: Any) -> Any: ...

    def uniform_posterior(self, data: Any, params: Any) -> Any: ...

    def expected_log_joint(self, q: Any, evaluated: Any) -> float: ...

    def entropy(self, q: Any) -> float: ...

    def kl_divergence(self, q: Any, evaluated: Any) -> float: ...

    @property
    def inexact_m_step(self) -> str | None: ...

    def log_likelihood(self, X: Any, params: Any) -> float: ...

    def to_dict(self) -> dict: ...

    def params_from_dict(self, d: dict) -> Any: ...
