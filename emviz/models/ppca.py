"""Probabilistic PCA (Tipping & Bishop 1999) fitted by EM.

The model: x = W z + μ + ε with z ~ N(0, I_L) and ε ~ N(0, σ² I_D), so that
p(x | θ) = N(x | μ, C) with C = W Wᵀ + σ² I. Parameters θ = (W (D, L), μ (D,), σ²).

E-step (Bishop, PRML §12.2.2): with M = WᵀW + σ² I_L, the posterior of each z_n is Gaussian,
N(m_n, S) with m_n = M⁻¹ Wᵀ (x_n − μ) and S = σ² M⁻¹ (the same S for every point).

M-step (PRML eqs 12.56–12.57, here jointly with μ): Q is quadratic in (W, μ), so the exact
maximiser is a least-squares fit of x_n on the augmented latent z̃_n = (z_n, 1):
[W, μ] = (Σ x_n E[z̃_n]ᵀ)(Σ E[z̃_n z̃_nᵀ])⁻¹, then
σ² = (1 / N D) Σ_n E|x_n − W z_n − μ|² = (1 / N D) [Σ_n |x_n − W m_n − μ|² + N tr(WᵀW S)].
μ is a parameter, updated in every M-step; `init_params` starts it at the sample mean, its
maximum-likelihood value, where it then stays (the posterior means average to 0 there), so
from those starts this is PRML's 12.56–12.57 with μ = x̄.

The hidden variable is continuous, so Q, H(q) and KL are Gaussian integrals:
  Q = Σ_n E_q[log N(x_n | W z_n + μ, σ² I) + log N(z_n | 0, I)],
  H(q) = N [L/2 (1 + log 2π) + ½ log det S_q]  (a differential entropy: negative when S_q is
  small),
  KL(q_n ‖ p_n) = ½ [tr(S_p⁻¹ S_q) − L − log det(S_p⁻¹ S_q) + δ_nᵀ S_p⁻¹ δ_n], δ_n = m_p − m_q,
and ℓ = Q + H + KL exactly. There is no "uniform" distribution over a continuous z: the q of
the initial step is the prior N(0, I) for every point.

`Posterior.resp`: there is one latent "state" (a single continuous z), so ``resp`` is an
(n_samples, 1) array of ones (log_resp zeros): q puts all its mass on it. What q says about z
is in ``latent_means`` (n_samples, L) and ``latent_covariance`` (L, L).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from emviz.models.gaussian_kernels import LOG_2PI, GaussianData, prepare_gaussian_data
from emviz.models.protocol import (
    Capability,
    InvalidStart,
    SingularParameters,
    axis_names,
    unit_vector,
)

PPCA_INIT_METHODS = ("random", "first_axis")

# σ² below this fraction of the data's average variance counts as collapsed: the points then lie
# (to rounding) on an L-dimensional subspace, where ℓ grows without bound as σ² → 0
_COLLAPSE_FRACTION = 1e-10


def _frozen(values, name: str, ndim: int) -> np.ndarray:
    array = np.array(values, dtype=np.float64)
    if array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {array.shape}")
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class PPCAParams:
    """Parameters of probabilistic PCA.

    Parameters
    ----------
    W : array-like of shape (n_features, n_components)
        The loading matrix: its columns span the principal subspace at the maximum.
    mean : array-like of shape (n_features,)
        μ.
    noise_variance : float
        σ², the variance of the isotropic noise.
    """

    W: np.ndarray
    mean: np.ndarray
    noise_variance: float

    def __post_init__(self):
        object.__setattr__(self, "W", _frozen(self.W, "W", 2))
        object.__setattr__(self, "mean", _frozen(self.mean, "mean", 1))
        object.__setattr__(self, "noise_variance", float(self.noise_variance))
        if self.mean.shape != (self.W.shape[0],):
            raise ValueError(f"mean has shape {self.mean.shape}, expected ({self.W.shape[0]},)")

    @property
    def n_features(self) -> int:
        return self.W.shape[0]

    @property
    def n_latent(self) -> int:
        """L, the dimension of z."""
        return self.W.shape[1]

    def is_finite(self) -> bool:
        return bool(
            np.isfinite(self.W).all()
            and np.isfinite(self.mean).all()
            and np.isfinite(self.noise_variance)
        )

    def to_dict(self) -> dict:
        return {
            "W": self.W.tolist(),
            "mean": self.mean.tolist(),
            "noise_variance": self.noise_variance,
        }

    @classmethod
    def from_dict(cls, d: dict) -> PPCAParams:
        return cls(d["W"], d["mean"], d["noise_variance"])

    def flat(self) -> dict[str, float]:
        """``W_x1`` (row x, column 1), …, ``mean_x``, …, ``noise_variance``, for tables."""
        axes = axis_names(self.n_features)
        row = {
            f"W_{axis}{j + 1}": float(self.W[i, j])
            for i, axis in enumerate(axes)
            for j in range(self.n_latent)
        }
        row.update({f"mean_{axis}": float(self.mean[i]) for i, axis in enumerate(axes)})
        row["noise_variance"] = self.noise_variance
        return row


@dataclass(frozen=True, eq=False)
class PPCAPosterior:
    """q(z_n) = N(latent_means[n], latent_covariance) for every point.

    Attributes
    ----------
    latent_means : ndarray of shape (n_samples, n_latent)
    latent_covariance : ndarray of shape (n_latent, n_latent)
    data : GaussianData
        The data q belongs to; Q at another θ needs it.
    params : PPCAParams or None
        The θ whose exact posterior this is (None for the prior q of the initial step).
    log_likelihood : float or None
        log p(X | params); None for the prior q.
    """

    latent_means: np.ndarray
    latent_covariance: np.ndarray
    data: GaussianData
    params: PPCAParams | None = None
    log_likelihood: float | None = None

    @property
    def resp(self) -> np.ndarray:
        """Ones, shape (n_samples, 1): a single latent state holds all of q's mass."""
        return np.broadcast_to(1.0, (len(self.latent_means), 1))

    @property
    def log_resp(self) -> np.ndarray:
        return np.broadcast_to(0.0, (len(self.latent_means), 1))


def _residuals(data: GaussianData, params: PPCAParams, latent_means: np.ndarray) -> np.ndarray:
    """x_n − μ − W m_n, computed from the centred data so that no digits are lost far from 0."""
    shifted = data.centred - (params.mean - data.offset)
    return shifted - latent_means @ params.W.T


def _log_det_spd(matrix: np.ndarray) -> float:
    factor, _ = cho_factor(matrix, lower=True)
    return 2.0 * float(np.log(np.diag(factor)).sum())


def maximum_likelihood_params(X, n_components: int = 1) -> PPCAParams:
    """The closed-form maximum of ℓ (Tipping & Bishop 1999, eqs 7–8; PRML 12.45–12.46).

    W = U_L (Λ_L − σ² I)^{1/2} (rotation R = I), σ² = the mean of the D − L discarded
    eigenvalues of the sample covariance (1/N), μ = the sample mean.
    """
    data = prepare_gaussian_data(X)
    eigenvalues, eigenvectors = np.linalg.eigh(data.covariance)
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues, eigenvectors = eigenvalues[order], eigenvectors[:, order]
    noise_variance = float(eigenvalues[n_components:].mean())
    scales = np.sqrt(np.maximum(eigenvalues[:n_components] - noise_variance, 0.0))
    return PPCAParams(eigenvectors[:, :n_components] * scales, data.offset, noise_variance)


def principal_angle_degrees(W, direction) -> float:
    """The angle between the line along the one column of ``W`` and ``direction``, in [0°, 90°]
    (a line has no sign); from its tangent, which keeps its digits near 0° (arccos does not)."""
    w = np.ravel(W)
    unit = np.ravel(direction) / np.linalg.norm(direction)
    along = float(w @ unit)
    across = float(np.linalg.norm(w - along * unit))
    return float(np.degrees(np.arctan2(across, abs(along))))


@dataclass(frozen=True)
class ProbabilisticPCA:
    """Probabilistic PCA with ``n_components`` latent dimensions (L), fitted by EM.

    Parameters
    ----------
    n_components : int
        L, the dimension of the latent z; must be smaller than the number of features.
    """

    n_components: int = 1

    inexact_m_step = None  # the M-step is the exact maximiser of Q (protocol)
    capabilities = frozenset({Capability.N_PARAMETERS})
    objective = "log_likelihood"

    def __post_init__(self):
        if int(self.n_components) != self.n_components or self.n_components < 1:
            raise ValueError(f"n_components must be a positive integer, got {self.n_components}")

    # ---- protocol ----

    def prepare(self, X) -> GaussianData:
        return prepare_gaussian_data(X)

    def init_params(self, X, method: str = "random", seed=0) -> PPCAParams:
        """μ the sample mean, σ² the data's average variance, and W: ``random`` draws its
        entries (seeded) with the data's scale; ``first_axis`` points it along the first L
        coordinate axes."""
        data = self.prepare(X)
        self._check_data(data)
        n_features = data.X.shape[1]
        spread = np.sqrt(data.scale)
        if method == "random":
            rng = np.random.default_rng(seed)
            W = rng.standard_normal((n_features, self.n_components)) * spread
        elif method == "first_axis":
            W = np.eye(n_features, self.n_components) * spread
        else:
            raise ValueError(
                f"Unknown initialisation {method!r}; choose one of {PPCA_INIT_METHODS}"
            )
        return PPCAParams(W, data.offset, data.scale)

    def _check_data(self, data: GaussianData) -> None:
        n_samples, n_features = data.X.shape
        if self.n_components >= n_features:
            raise InvalidStart(
                f"Probabilistic PCA needs fewer latent dimensions ({self.n_components}) than "
                f"features ({n_features})."
            )
        if n_samples < 2 or not np.any(data.centred):
            raise InvalidStart("Probabilistic PCA needs at least two distinct points.")

    def check_params(self, params: PPCAParams, n_features: int) -> None:
        if params.W.shape != (n_features, self.n_components):
            raise InvalidStart(
                f"W has shape {params.W.shape}; the data needs ({n_features}, {self.n_components})."
            )
        if not params.is_finite():
            raise InvalidStart("The initial W, μ and σ² must be finite numbers.")
        if params.noise_variance <= 0:
            raise InvalidStart(f"The noise variance σ² must be > 0, got {params.noise_variance}.")
        if not np.any(params.W):
            raise InvalidStart(
                "W = 0 is a fixed point of EM (a saddle of the likelihood): EM would never "
                "leave it. Start from a non-zero W."
            )

    def e_step(self, data, params: PPCAParams) -> PPCAPosterior:
        """q(z_n) = N(M⁻¹ Wᵀ (x_n − μ), σ² M⁻¹) and log p(X | θ)."""
        data = self.prepare(data)
        W, noise = params.W, params.noise_variance
        M = W.T @ W + noise * np.eye(params.n_latent)
        factor = cho_factor(M, lower=True)
        shifted = data.centred - (params.mean - data.offset)
        latent_means = cho_solve(factor, W.T @ shifted.T).T
        covariance = noise * cho_solve(factor, np.eye(params.n_latent))
        covariance = 0.5 * (covariance + covariance.T)
        for array in (latent_means, covariance):
            array.setflags(write=False)
        log_likelihood = self._log_likelihood(data, params, latent_means, M)
        return PPCAPosterior(latent_means, covariance, data, params, log_likelihood)

    @staticmethod
    def _log_likelihood(data, params: PPCAParams, latent_means, M) -> float:
        """Σ_n log N(x_n | μ, C) through L×L algebra: log det C = (D − L) log σ² + log det M
        and (x − μ)ᵀ C⁻¹ (x − μ) = |x − μ − W m|² / σ² + |m|² (the minimum over z of
        |x − μ − W z|² / σ² + |z|², reached at z = m), a sum of two non-negative terms."""
        n_samples, n_features = data.X.shape
        noise = params.noise_variance
        log_det = (n_features - params.n_latent) * np.log(noise) + _log_det_spd(M)
        residual = _residuals(data, params, latent_means)
        quadratic = np.sum(residual * residual) / noise + np.sum(latent_means * latent_means)
        return float(-0.5 * (n_samples * (n_features * LOG_2PI + log_det) + quadratic))

    def m_step(self, data, posterior: PPCAPosterior) -> PPCAParams:
        """The exact maximiser of Q over (W, μ, σ²): see the module docstring.

        Raises
        ------
        SingularParameters
            When σ² collapses to 0 (the points lie on an L-dimensional subspace).
        """
        data = self.prepare(data)
        n_samples, n_features = data.X.shape
        means, covariance = posterior.latent_means, posterior.latent_covariance
        L = means.shape[1]
        # Σ E[z̃ z̃ᵀ] and Σ x_n E[z̃_n]ᵀ for z̃ = (z, 1), on the centred data
        augmented = np.empty((L + 1, L + 1))
        augmented[:L, :L] = means.T @ means + n_samples * covariance
        augmented[:L, L] = augmented[L, :L] = means.sum(axis=0)
        augmented[L, L] = n_samples
        cross = np.hstack([data.centred.T @ means, data.centred.sum(axis=0)[:, None]])
        solution = cho_solve(cho_factor(augmented, lower=True), cross.T).T
        W, centred_mean = solution[:, :L], solution[:, L]
        residual = data.centred - centred_mean - means @ W.T
        noise = (np.sum(residual * residual) + n_samples * np.trace(W.T @ W @ covariance)) / (
            n_samples * n_features
        )
        if not noise > _COLLAPSE_FRACTION * data.scale:
            raise SingularParameters(
                f"the noise variance σ² collapsed to {noise:.3g}: the points lie on a "
                f"{L}-dimensional subspace, where the likelihood grows without bound."
            )
        return PPCAParams(W, centred_mean + data.offset, noise)

    def uniform_posterior(self, data, params: PPCAParams) -> PPCAPosterior:
        """The prior N(0, I) for every z_n: the initial q, before any E-step (a continuous z
        has no uniform distribution)."""
        data = self.prepare(data)
        means = np.zeros((data.X.shape[0], params.n_latent))
        covariance = np.eye(params.n_latent)
        for array in (means, covariance):
            array.setflags(write=False)
        return PPCAPosterior(means, covariance, data)

    def expected_log_joint(self, q: PPCAPosterior, evaluated: PPCAPosterior) -> float:
        """Q = Σ_n E_q[log N(x_n | W z_n + μ, σ² I) + log N(z_n | 0, I)] at evaluated's θ."""
        params = evaluated.params
        n_samples, n_features = q.data.X.shape
        noise, S = params.noise_variance, q.latent_covariance
        residual = _residuals(q.data, params, q.latent_means)
        squared_error = np.sum(residual * residual) + n_samples * np.trace(
            params.W.T @ params.W @ S
        )
        log_noise = -0.5 * (
            n_samples * n_features * (LOG_2PI + np.log(noise)) + squared_error / noise
        )
        prior_terms = np.sum(q.latent_means * q.latent_means) + n_samples * np.trace(S)
        log_prior = -0.5 * (n_samples * S.shape[0] * LOG_2PI + prior_terms)
        return float(log_noise + log_prior)

    def entropy(self, q: PPCAPosterior) -> float:
        """Σ_n H(N(m_n, S)) = N [L/2 (1 + log 2π) + ½ log det S]."""
        L = q.latent_covariance.shape[0]
        per_point = 0.5 * (L * (1.0 + LOG_2PI) + _log_det_spd(q.latent_covariance))
        return float(len(q.latent_means) * per_point)

    def kl_divergence(self, q: PPCAPosterior, evaluated: PPCAPosterior) -> float:
        """Σ_n KL(N(m_q, S_q) ‖ N(m_p, S_p)) between Gaussians, written with the difference
        Δ = S_q − S_p: ½ [tr(S_p⁻¹ Δ) − log det(I + S_p⁻¹ Δ) + δᵀ S_p⁻¹ δ]. It is exactly 0
        when q is the posterior, and loses no digits when q is close to it."""
        S_p = evaluated.latent_covariance
        factor = cho_factor(S_p, lower=True)
        relative = cho_solve(factor, q.latent_covariance - S_p)  # S_p⁻¹ Δ
        _, log_det = np.linalg.slogdet(np.eye(len(S_p)) + relative)
        per_point = np.trace(relative) - log_det
        offsets = evaluated.latent_means - q.latent_means
        mahalanobis = np.sum(offsets * cho_solve(factor, offsets.T).T)
        return float(0.5 * (len(offsets) * per_point + mahalanobis))

    def free_directions(self, params: PPCAParams) -> dict[str, np.ndarray]:
        """ "W (x)", … (or "W1 (x)" for L > 1), "μ (x)", …, and "σ²"."""
        axes = axis_names(params.n_features)
        L = params.n_latent
        directions = {}
        for i, axis in enumerate(axes):
            for j in range(L):
                name = f"W ({axis})" if L == 1 else f"W{j + 1} ({axis})"
                directions[name] = unit_vector(params, "W", i * L + j)
        for i, axis in enumerate(axes):
            directions[f"μ ({axis})"] = unit_vector(params, "mean", i)
        directions["σ²"] = unit_vector(params, "noise_variance", 0)
        return directions

    def n_parameters(self, n_features: int = 1) -> int:
        """D L + D + 1 − L (L − 1) / 2: W up to a rotation of the latent space, μ, σ²."""
        L = self.n_components
        return n_features * L + n_features + 1 - L * (L - 1) // 2

    def log_likelihood(self, X, params: PPCAParams) -> float:
        return self.e_step(X, params).log_likelihood

    def expected_complete_log_likelihood(self, X, q: PPCAPosterior, params: PPCAParams) -> float:
        return self.expected_log_joint(q, self.e_step(X, params))

    def to_dict(self) -> dict:
        return {"model": "ProbabilisticPCA", "n_components": self.n_components}

    def params_from_dict(self, d: dict) -> PPCAParams:
        return PPCAParams.from_dict(d)
