"""`run_em`: the one EM loop. It records every half-step and says why it stopped."""

from __future__ import annotations

import math

import numpy as np

from emviz.convergence import ConvergenceMonitor
from emviz.history import Drop, History, Step
from emviz.models.protocol import (
    Capability,
    LatentVariableModel,
    SingularParameters,
    e_step_for,
    steady_from,
)

# Keep the responsibilities of E-steps while their total stays below this; beyond it they are
# recomputed from the recorded parameters on demand.
RESP_STORE_BYTES = 32 * 2**20


def run_em(
    model: LatentVariableModel, X, init, *, max_iter: int = 100, tol: float = 1e-6, seed: int = 0
) -> History:
    """Run EM from ``init`` and record every E-step and M-step.

    Parameters
    ----------
    model : a model following the protocol of `emviz.models.protocol`
    X : array of shape (n_samples, n_features)
    init : parameters of ``model``, or the name of one of its initialisation methods
    max_iter : int
        Maximum number of iterations (each one an E-step and an M-step).
    tol : float
        Stop when the model's objective (the log-likelihood, or the log posterior for a model
        with a prior) per sample changes by less than
        ``tol`` in an iteration (`emviz.convergence.ConvergenceMonitor`, the rule of
        scikit-learn); 0 runs all ``max_iter`` iterations.
    seed : int
        Used only when ``init`` is a method name.

    Returns
    -------
    History
        Step 0 is the initial state with q uniform over the hidden states (so that ELBO and
        KL are defined there too); then an 'E' and an 'M' step per iteration.
    """
    if int(max_iter) != max_iter or max_iter < 0:
        raise ValueError(f"max_iter must be a whole number >= 0, got {max_iter}")
    data = model.prepare(X)
    monitor = ConvergenceMonitor(tol, data.X.shape[0], model.objective)
    params = model.init_params(data, init, seed) if isinstance(init, str) else init
    # a changing E-step (a cooling schedule, random draws) is not converged while it changes
    first_steady = steady_from(model)
    model.check_params(params, data.X.shape[1])
    recorder = _Recorder(model, data)
    # the E-step after step t serves iteration t + 1: its q is that iteration's (see e_step_for)
    evaluated = e_step_for(model, data, params, 1)
    recorder.record(0, "init", params, model.uniform_posterior(data, params), evaluated)
    stop_reason = "max_iter"
    message = f"Stopped after the maximum of {counted(max_iter, 'iteration')}."
    for iteration in range(1, int(max_iter) + 1):
        q = evaluated
        recorder.record(iteration, "E", params, q, evaluated)
        try:
            params = model.m_step(data, q)
            evaluated = e_step_for(model, data, params, iteration + 1)
        except SingularParameters as error:
            stop_reason = "singular"
            message = f"Stopped in the M-step of iteration {iteration}: {error}"
            break
        if not _is_finite(params, evaluated):
            stop_reason = "non_finite"
            message = f"Stopped in iteration {iteration}: the M-step produced non-finite values."
            break
        recorder.record(iteration, "M", params, q, evaluated)
        last_two = [monitor.value(s) for s in recorder.steps[-3::2]]
        if iteration >= first_steady and monitor.converged(last_two):
            stop_reason = "converged"
            message = (
                f"Converged after {counted(iteration, 'iteration')}: the "
                f"{monitor.objective.replace('_', '-')} per point changed by less than "
                f"tol = {tol:g}."
            )
            break
    return History(
        model=model,
        X=data.X,
        steps=tuple(recorder.steps),
        stop_reason=stop_reason,
        message=message,
        tol=float(tol),
        max_iter=int(max_iter),
        drops=tuple(_find_drops(recorder.steps, monitor, model.inexact_m_step)),
        stored_resp=recorder.stored_resp,
    )


class _Recorder:
    """Turns (q, θ) pairs into Steps; local to one `run_em` call."""

    def __init__(self, model, data):
        self.model = model
        self.data = data
        self._has_prior = Capability.LOG_PRIOR in model.capabilities
        self.steps: list[Step] = []
        self.stored_resp: dict[int, np.ndarray] = {}
        self._stored_bytes = 0
        self._entropy_of: tuple = (None, 0.0)

    def _entropy(self, q) -> float:
        # an E-step's q is reused by the M-step that follows: compute H(q) once
        if self._entropy_of[0] is not q:
            self._entropy_of = (q, self.model.entropy(q))
        return self._entropy_of[1]

    def record(self, iteration: int, phase: str, params, q, evaluated) -> None:
        expected_log_joint = self.model.expected_log_joint(q, evaluated)
        entropy = self._entropy(q)
        step = Step(
            index=len(self.steps),
            iteration=iteration,
            phase=phase,
            params=params,
            log_likelihood=evaluated.log_likelihood,
            elbo=expected_log_joint + entropy,
            kl=self.model.kl_divergence(q, evaluated),
            expected_log_joint=expected_log_joint,
            entropy=entropy,
            objective=self._objective(params, evaluated),
        )
        self.steps.append(step)
        if phase == "E":
            self._maybe_store(step.index, q)

    def _objective(self, params, evaluated) -> float | None:
        """ℓ(θ) + log p(θ), the log posterior up to log p(X), for a model with a prior."""
        if not self._has_prior:
            return None
        return evaluated.log_likelihood + self.model.log_prior(self.data, params)

    def _maybe_store(self, index: int, q) -> None:
        resp = q.resp  # a view of the posterior's own array: storing it copies nothing
        if self._stored_bytes + resp.nbytes > RESP_STORE_BYTES:
            return
        resp.setflags(write=False)
        self.stored_resp[index] = resp
        self._stored_bytes += resp.nbytes


def _is_finite(params, evaluated) -> bool:
    return params.is_finite() and math.isfinite(evaluated.log_likelihood)


def counted(count: int, noun: str) -> str:
    """``count`` and ``noun``, plural unless the count is one: "1 iteration", "3 iterations"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _find_drops(
    steps: list[Step], monitor: ConvergenceMonitor, inexact_m_step: str | None = None
) -> list[Drop]:
    """Every M-step after which the objective is lower than before that iteration, with its cause.

    EM's guarantee (ℓ_new ≥ ELBO_after_M ≥ ELBO_after_E = ℓ_old) names the suspects: an M-step
    that lowered the bound, or an E-step that did not close the gap. For an objective
    ℓ + log p(θ) the bound is ELBO + log p(θ) (`ConvergenceMonitor.bound`). ``inexact_m_step``
    is the model's own reason why its M-step is not the exact maximiser of Q (see
    `emviz.models.protocol`): when given, it is the cause named for a lowered bound. What counts
    as lower is the monitor's decision (rounding is not a fall).
    """
    lowered = "the M-step lowered the lower bound: " + (
        inexact_m_step or f"it did not maximise {monitor.maximised}"
    )
    drops = []
    for m_step in (s for s in steps if s.phase == "M"):
        e_step = steps[m_step.index - 1]
        before = monitor.value(steps[m_step.index - 2])
        after = monitor.value(m_step)
        if not monitor.fell(before, after):
            continue
        if monitor.fell(monitor.bound(e_step), monitor.bound(m_step), scale=before):
            cause = lowered
        elif not monitor.negligible(e_step.kl, before):
            cause = "the E-step left a gap: q was not the exact posterior"
        else:
            cause = "rounding error"
        drops.append(
            Drop(step=m_step.index, quantity=monitor.objective, amount=before - after, cause=cause)
        )
    return drops
