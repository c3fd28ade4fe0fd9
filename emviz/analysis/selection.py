"""Choosing K: BIC, AIC and ICL of Gaussian mixtures with K = 1 … 8 components for each
covariance type, and the log-likelihood per point on training and held-out data.

Every fit is the best of R restarts from k-means++ starts (`emviz.analysis.restarts`: all R
run as one batch): the restart of highest log-likelihood ℓ among those that did not fail.
Covariances get ``reg_covar`` = `DEFAULT_REG_COVAR` (1e-6, scikit-learn's default) added to
their diagonal, so that no variance reaches 0; a fit can still fail (K larger than the
data allows, every restart singular, or a component in every restart collapsed onto a few
points, its variance down at reg_covar: `best_restart`) and is then marked, with the
reason, and has no criterion values.

The criteria (scikit-learn's convention: lower is better), for a fit with p free
parameters (`GaussianMixture.n_parameters`) on n points:

- BIC = −2ℓ + p ln n  (Schwarz 1978; ``GaussianMixture.bic`` in scikit-learn)
- AIC = −2ℓ + 2p  (Akaike 1974; ``GaussianMixture.aic``)
- ICL = BIC + 2·EN, EN = −Σ_n Σ_k r_nk ln r_nk the entropy of the responsibilities at the
  fit (Biernacki, Celeux & Govaert 2000, "ICL-BIC"). It adds a penalty for components that
  overlap: K components that cut one cluster into pieces leave the points' labels uncertain.
  (mclust reports −ICL, and −BIC: higher is better there.)

Held out: a seeded random split keeps `TEST_SHARE` of the points aside; the same grid is fitted
to the rest, and ℓ per point of each fit is measured on both parts. The training ℓ grows with
K (more components can only fit the same points better), the held-out ℓ stops growing (or
falls) once the extra components fit the noise of the training points.

API
---
``fit_grid(X, covariance_type, ks, n_restarts, *, seed, split_seed, ...) -> tuple[Fit, ...]``
    One `Fit` per K for one covariance type.
``select_model(X, covariance_types, ks, n_restarts, ...) -> Selection``
    The whole grid; ``Selection.chosen(criterion)`` the (type, K) of lowest criterion.
``held_out_split(n_samples, split_seed, test_share) -> (train indices, test indices)``
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emviz.analysis.restarts import run_restarts
from emviz.models.gaussian_mixture import COVARIANCE_TYPES, GaussianMixture, GaussianParams
from emviz.models.protocol import InvalidStart

DEFAULT_REG_COVAR = 1e-6
"""Added to every variance in the M-step, as scikit-learn's ``GaussianMixture`` does by default."""
K_VALUES = tuple(range(1, 9))
TEST_SHARE = 0.3
CRITERIA = ("bic", "aic", "icl")
INIT = "kmeans++"
MAX_ITER, TOL = 100, 1e-6
COLLAPSE_FACTOR = 2.0
USABLE = ("converged", "max_iter")
"""Stop reasons of a restart whose final parameters count: the others collapsed or overflowed."""


@dataclass(frozen=True, eq=False)
class Fit:
    """The best of R restarts of one (covariance type, K) on all the data, and the same on
    the training part of the split.

    Attributes
    ----------
    covariance_type : str
    n_components : int
    n_parameters : int
        p, the free parameters of the mixture.
    params : GaussianParams or None
        The best restart's final parameters on all the data; None when the fit failed.
    log_likelihood : float or None
        ℓ = log p(X | params).
    entropy : float or None
        EN = −Σ r ln r of the responsibilities at ``params``.
    bic, aic, icl : float or None
        The criteria (lower is better).
    restart : int or None
        Which restart was best (its seed is ``seed + restart``).
    stop_reason : str or None
        How that restart stopped: 'converged' or 'max_iter'.
    train_per_point, test_per_point : float or None
        ℓ per point of the fit to the training part, on the training and on the held-out
        points; None when that fit failed.
    failure : str
        Why the fit (on all the data or on the training part) failed; '' when it did not.
    """

    covariance_type: str
    n_components: int
    n_parameters: int
    params: GaussianParams | None = None
    log_likelihood: float | None = None
    entropy: float | None = None
    bic: float | None = None
    aic: float | None = None
    icl: float | None = None
    restart: int | None = None
    stop_reason: str | None = None
    train_per_point: float | None = None
    test_per_point: float | None = None
    failure: str = ""

    @property
    def failed(self) -> bool:
        """Whether the fit on all the data failed (no criteria)."""
        return self.params is None

    def criterion(self, name: str) -> float | None:
        """'bic', 'aic' or 'icl'."""
        if name not in CRITERIA:
            raise ValueError(f"criterion must be one of {CRITERIA}, got {name!r}")
        return getattr(self, name)


@dataclass(frozen=True, eq=False)
class Selection:
    """The whole grid of fits.

    Attributes
    ----------
    fits : tuple of Fit
        One per (covariance type, K), types in the order given, K ascending.
    n_samples : int
    n_restarts : int
    split_seed : int
    test_share : float
    """

    fits: tuple[Fit, ...]
    n_samples: int
    n_restarts: int
    split_seed: int = 0
    test_share: float = TEST_SHARE

    @property
    def n_test(self) -> int:
        """Points held out (`held_out_split`)."""
        return _n_test(self.n_samples, self.test_share)

    @property
    def n_train(self) -> int:
        return self.n_samples - self.n_test

    @property
    def covariance_types(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.covariance_type for f in self.fits))

    def of_type(self, covariance_type: str) -> tuple[Fit, ...]:
        return tuple(f for f in self.fits if f.covariance_type == covariance_type)

    def chosen(self, criterion: str = "bic", covariance_types=None) -> Fit | None:
        """The fit of lowest ``criterion`` among ``covariance_types`` (all by default); None
        when every one of them failed. Ties go to the first (fewest components)."""
        types = self.covariance_types if covariance_types is None else covariance_types
        fits = [f for f in self.fits if f.covariance_type in types and not f.failed]
        return min(fits, key=lambda f: f.criterion(criterion), default=None)

    @property
    def failures(self) -> tuple[Fit, ...]:
        return tuple(f for f in self.fits if f.failure)


def _n_test(n_samples: int, test_share: float) -> int:
    return int(round(test_share * n_samples))


def held_out_split(n_samples: int, split_seed: int = 0, test_share: float = TEST_SHARE):
    """(train, test): sorted indices of a seeded random split, round(test_share·n) held out.

    The same seed gives the same split for the same n.
    """
    n_test = _n_test(n_samples, test_share)
    order = np.random.default_rng(split_seed).permutation(n_samples)
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def criteria(log_likelihood: float, entropy: float, n_parameters: int, n_samples: int):
    """(BIC, AIC, ICL) of a fit: −2ℓ + p ln n, −2ℓ + 2p and BIC + 2·EN."""
    bic = -2.0 * log_likelihood + n_parameters * np.log(n_samples)
    aic = -2.0 * log_likelihood + 2.0 * n_parameters
    return float(bic), float(aic), float(bic + 2.0 * entropy)


def best_restart(X, model: GaussianMixture, n_restarts: int, *, seed: int = 0, **stopping):
    """(restart index, Restarts) of the highest ℓ among the restarts that did not fail, or
    (None, reason) when every restart failed or the data cannot start this model.

    A restart fails when it stopped 'singular' or 'non_finite', or when it ended with a
    component collapsed: a variance of at most `COLLAPSE_FACTOR` · reg_covar in some
    direction, i.e. the component's own variance there is at most reg_covar. Such a
    component sits on a handful of points (or on a line); its density, and with it ℓ, is
    then set by reg_covar rather than by the data, which would make any criterion prefer it.
    """
    try:
        found = run_restarts(X, model, INIT, n_restarts, seed=seed, **stopping)
    except InvalidStart as error:
        return None, str(error)
    usable = np.isin(found.stop_reasons, USABLE) & np.isfinite(found.log_likelihoods)
    if not usable.any():
        return None, "every restart collapsed (a component shrank onto a point)"
    smallest = np.linalg.eigvalsh(found.covariances)[..., 0].min(axis=-1)
    usable &= smallest > COLLAPSE_FACTOR * model.reg_covar
    if not usable.any():
        return None, (
            "a component collapsed onto a few points in every restart (its variance is down "
            "at reg_covar)"
        )
    candidates = np.flatnonzero(usable)
    return int(candidates[np.argmax(found.log_likelihoods[candidates])]), found


def fit_grid(
    X,
    covariance_type: str,
    ks=K_VALUES,
    n_restarts: int = 3,
    *,
    seed: int = 0,
    split_seed: int = 0,
    test_share: float = TEST_SHARE,
    reg_covar: float = DEFAULT_REG_COVAR,
    max_iter: int = MAX_ITER,
    tol: float = TOL,
    held_out: bool = True,
) -> tuple[Fit, ...]:
    """One `Fit` per K in ``ks`` for ``covariance_type``: criteria on all of ``X``, ℓ per
    point of a fit to the training part (`held_out_split`) on both parts.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
    covariance_type : one of COVARIANCE_TYPES
    ks : the numbers of components
    n_restarts : int
        R, restarts per fit (k-means++ starts, seeds ``seed`` … ``seed + R − 1``).
    split_seed, test_share : the held-out split
    reg_covar, max_iter, tol : as for `GaussianMixture` and `run_em`.
    held_out : bool
        False: the criteria only (no training fits, ``train_per_point`` and
        ``test_per_point`` None).
    """
    X = np.asarray(X, dtype=np.float64)
    train, test = held_out_split(len(X), split_seed, test_share)
    stopping = {"seed": seed, "max_iter": max_iter, "tol": tol}
    fits = []
    for k in ks:
        model = GaussianMixture(k, covariance_type, reg_covar)
        split = (train, test) if held_out else None
        fits.append(_one_fit(X, model, split, n_restarts, stopping))
    return tuple(fits)


def _one_fit(X, model: GaussianMixture, split, n_restarts: int, stopping) -> Fit:
    n_samples, n_features = X.shape
    base = {
        "covariance_type": model.covariance_type,
        "n_components": model.n_components,
        "n_parameters": model.n_parameters(n_features),
    }
    held_out = {} if split is None else _held_out(X, model, *split, n_restarts, stopping)
    failure = held_out.pop("failure", "")
    best, found = best_restart(X, model, n_restarts, **stopping)
    if best is None:
        return Fit(**base, **held_out, failure=found)
    params = found.params(best)
    posterior = model.e_step(X, params)
    log_likelihood = posterior.log_likelihood
    entropy = model.entropy(posterior)
    bic, aic, icl = criteria(log_likelihood, entropy, base["n_parameters"], n_samples)
    return Fit(
        **base,
        params=params,
        log_likelihood=log_likelihood,
        entropy=entropy,
        bic=bic,
        aic=aic,
        icl=icl,
        restart=best,
        stop_reason=str(found.stop_reasons[best]),
        **held_out,
        failure=failure,
    )


def _held_out(X, model, train, test, n_restarts: int, stopping) -> dict:
    """``train_per_point`` and ``test_per_point`` of the best fit to ``X[train]``, or a
    ``failure`` saying why there is none."""
    if len(test) == 0:
        return {"failure": "no points are left to hold out"}
    best, found = best_restart(X[train], model, n_restarts, **stopping)
    if best is None:
        return {"failure": f"fitted to all points but not to the training points: {found}"}
    params = found.params(best)
    per_point = [model.log_likelihood(X[rows], params) / len(rows) for rows in (train, test)]
    if not np.all(np.isfinite(per_point)):
        return {"failure": "a held-out point lies where the fitted density underflows"}
    return {"train_per_point": float(per_point[0]), "test_per_point": float(per_point[1])}


def select_model(
    X, covariance_types=COVARIANCE_TYPES, ks=K_VALUES, n_restarts: int = 3, **options
) -> Selection:
    """`fit_grid` for every type of ``covariance_types`` (options as there), as one table."""
    X = np.asarray(X, dtype=np.float64)
    fits = tuple(f for t in covariance_types for f in fit_grid(X, t, ks, n_restarts, **options))
    split = {name: options[name] for name in ("split_seed", "test_share") if name in options}
    return Selection(fits, len(X), int(n_restarts), **split)
