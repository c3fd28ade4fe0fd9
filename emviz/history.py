"""The record of an EM run: one immutable `Step` per half-step, and the `History` holding them."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emviz.convergence import ConvergenceMonitor
from emviz.models.protocol import Capability, e_step_for

_FORMAT = "emviz-history"
_VERSION = 1


@dataclass(frozen=True, eq=False)
class Step:
    """One recorded half-step.

    Attributes
    ----------
    index : int
        Position in ``History.steps`` (0 is the initial state).
    iteration : int
        0 for the initial state; iteration t has an 'E' step then an 'M' step.
    phase : {'init', 'E', 'M'}
    params : parameter dataclass of the model
        θ after this half-step (an E-step leaves θ unchanged).
    log_likelihood : float
        log p(X | θ).
    elbo : float
        L(q, θ) = Q + H, with q the distribution over hidden variables after this half-step.
    kl : float
        KL(q || p(Z | X, θ)) >= 0; 0 right after an E-step.
    expected_log_joint : float
        Q = E_q[log p(X, Z | θ)].
    entropy : float
        H(q).
    objective : float or None
        The value of the objective a variant maximises, where it differs from the
        log-likelihood (None for plain EM): for MAP-EM the log posterior ℓ(θ) + log p(θ), up to
        the log evidence log p(X) (``History.objective`` names it).
    """

    index: int
    iteration: int
    phase: str
    params: Any
    log_likelihood: float
    elbo: float
    kl: float
    expected_log_joint: float
    entropy: float
    objective: float | None = None

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "iteration": self.iteration,
            "phase": self.phase,
            "params": self.params.to_dict(),
            "log_likelihood": self.log_likelihood,
            "elbo": self.elbo,
            "kl": self.kl,
            "expected_log_joint": self.expected_log_joint,
            "entropy": self.entropy,
            "objective": self.objective,
        }


@dataclass(frozen=True)
class Drop:
    """A half-step at which the run's own objective fell: where, by how much, and why."""

    step: int
    quantity: str
    amount: float
    cause: str


@dataclass(frozen=True, eq=False)
class History:
    """Everything `run_em` did, in order.

    Attributes
    ----------
    model : the model that was fitted
    X : ndarray of shape (n_samples, n_features)
        The data (read-only), kept so responsibilities can be recomputed for any step.
    steps : tuple of Step
    stop_reason : {'converged', 'max_iter', 'singular', 'non_finite'}
    message : str
        Why the run stopped, in a sentence.
    tol, max_iter : the stopping settings
    drops : tuple of Drop
        Every decrease of the objective the loop detected (empty for a healthy run).
    """

    model: Any
    X: np.ndarray
    steps: tuple
    stop_reason: str
    message: str
    tol: float
    max_iter: int
    drops: tuple = ()
    stored_resp: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, index: int) -> Step:
        return self.steps[index]

    @property
    def final_params(self):
        return self.steps[-1].params

    @property
    def n_iterations(self) -> int:
        """Completed iterations (E-step and M-step both recorded)."""
        return sum(step.phase == "M" for step in self.steps)

    @property
    def converged(self) -> bool:
        return self.stop_reason == "converged"

    @property
    def monitor(self) -> ConvergenceMonitor:
        """The stopping rule and fall test this run was judged by."""
        return ConvergenceMonitor(self.tol, len(self.X), self.model.objective)

    @property
    def objective(self) -> str:
        """The name of what this run climbs: "log_likelihood", or "log_posterior" (MAP-EM)."""
        return self.model.objective

    def objective_values(self) -> np.ndarray:
        """The value of that objective at every step (ℓ for plain EM)."""
        monitor = self.monitor
        return np.array([monitor.value(step) for step in self.steps])

    def column(self, name: str) -> np.ndarray:
        """One recorded scalar over all steps, e.g. ``column('log_likelihood')``."""
        return np.array([getattr(step, name) for step in self.steps])

    def posterior(self, index: int, X: np.ndarray | None = None):
        """q after step ``index``: uniform at step 0, the E-step's posterior afterwards.

        An M-step leaves q unchanged, so it shares the posterior of the E-step before it.
        ``X`` (default: the run's data) evaluates that q on other points.
        """
        step = self.steps[index]
        if step.phase == "M":
            return self.posterior(index - 1, X)
        X = self.X if X is None else X
        if step.phase == "init":
            return self.model.uniform_posterior(X, step.params)
        return e_step_for(self.model, X, step.params, step.iteration)

    def q_params(self, index: int):
        """The parameters the q after step ``index`` was computed from; None for the uniform q.

        After an M-step that is the previous step's θ: the M-step changes θ, not q.
        """
        step = self.steps[index]
        if step.phase == "M":
            return self.steps[index - 1].params
        return None if step.phase == "init" else step.params

    def responsibilities(self, index: int, rows: np.ndarray | None = None) -> np.ndarray:
        """q(z_n = k) after step ``index``, shape (n_samples, n_components), or only the
        points ``rows`` (an index array), shape (len(rows), n_components).

        Kept from the run while the total stays small; otherwise recomputed from the step's
        parameters, so a long run on many points does not hold an N×K array per step (and
        a figure drawing a sample of the points computes them for that sample only). Either
        way the array is read-only: it is the record of the run, whichever way it was got.
        """
        if self.steps[index].phase == "M":
            index -= 1
        if index in self.stored_resp:
            resp = self.stored_resp[index]
            resp = resp if rows is None else resp[rows]
        elif Capability.ITERATION_E_STEP in self.model.capabilities:
            # a random draw over all the points is not the same draw on some of them
            resp = self.posterior(index).resp
            resp = resp if rows is None else resp[rows]
        else:
            resp = self.posterior(index, None if rows is None else self.X[rows]).resp
        resp.setflags(write=False)
        return resp

    # ---- export ----

    def to_dict(self) -> dict:
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "model": self.model.to_dict(),
            "objective": self.objective,  # for readers: the model (and each step) carries it
            "data": self.X.tolist(),
            "stop_reason": self.stop_reason,
            "message": self.message,
            "tol": self.tol,
            "max_iter": self.max_iter,
            "drops": [drop.__dict__ for drop in self.drops],
            "steps": [step.to_dict() for step in self.steps],
        }

    def to_json(self, indent: int | None = None) -> str:
        """JSON text; `History.from_json` gives back exactly the same numbers."""
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, text: str) -> History:
        from emviz.models import model_from_dict

        payload = json.loads(text)
        if payload.get("format") != _FORMAT:
            raise ValueError("This JSON is not an emviz history.")
        model = model_from_dict(payload["model"])
        if payload.get("objective", model.objective) != model.objective:
            raise ValueError("This history's objective does not match its model.")
        X = np.array(payload["data"], dtype=np.float64)
        X.setflags(write=False)
        steps = tuple(
            Step(**{**s, "params": model.params_from_dict(s["params"])}) for s in payload["steps"]
        )
        return cls(
            model=model,
            X=X,
            steps=steps,
            stop_reason=payload["stop_reason"],
            message=payload["message"],
            tol=payload["tol"],
            max_iter=payload["max_iter"],
            drops=tuple(Drop(**d) for d in payload["drops"]),
        )

    def table(self) -> list[dict]:
        """One row per step: step, iteration, phase, LL, ELBO, KL, Q, H, the objective when it
        is not ℓ (as "log_posterior"), then every parameter."""
        climbs_other = self.objective != "log_likelihood"
        return [
            {
                "step": step.index,
                "iteration": step.iteration,
                "phase": step.phase,
                "log_likelihood": step.log_likelihood,
                "elbo": step.elbo,
                "kl": step.kl,
                "expected_log_joint": step.expected_log_joint,
                "entropy": step.entropy,
                **({self.objective: step.objective} if climbs_other else {}),
                **step.params.flat(),
            }
            for step in self.steps
        ]

    def to_csv(self) -> str:
        rows = self.table()
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(
            {k: repr(v) if isinstance(v, float) else v for k, v in r.items()} for r in rows
        )
        return buffer.getvalue()
