"""The log-likelihood surface ℓ(μ1, μ2) of the two-mean mixture and its critical points."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import root

DEFAULT_CHUNK_BYTES = 64 * 2**20


def _as_1d(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x[:, 0] if x.ndim == 2 else x


def log_likelihood_grid(model, x, mu1, mu2, *, max_chunk_bytes: int = DEFAULT_CHUNK_BYTES):
    """ℓ(μ1, μ2) = Σ_n log(w1 N(x_n|μ1, v1) + w2 N(x_n|μ2, v2)) on a grid.

    Parameters
    ----------
    model : TwoMeanMixture
    x : array of shape (n_samples,) or (n_samples, 1)
    mu1, mu2 : arrays of shape (n1,) and (n2,)
    max_chunk_bytes : int
        Bound on the temporary (rows, n1, n_samples) block, so memory stays flat for large n.

    Returns
    -------
    ndarray of shape (n2, n1): rows follow μ2, columns μ1 (as plotly's contour expects).
    """
    x = _as_1d(x)
    log_a = model.log_joint_grid(x, mu1, 0)  # log w1 N(x_n | μ1, v1), (n1, N)
    log_b = model.log_joint_grid(x, mu2, 1)  # log w2 N(x_n | μ2, v2), (n2, N)
    # Shift each point by its largest term so the densities neither overflow nor all underflow:
    # log(a + b) = c + log(e^(log a - c) + e^(log b - c))
    shift = np.maximum(log_a.max(axis=0), log_b.max(axis=0))  # (N,)
    dens_a, dens_b = np.exp(log_a - shift), np.exp(log_b - shift)
    grid = np.empty((len(log_b), len(log_a)))
    rows = max(1, int(max_chunk_bytes // (8 * log_a.size)))
    for start in range(0, len(log_b), rows):
        block = slice(start, start + rows)
        terms = dens_a[None, :, :] + dens_b[block, None, :]
        with np.errstate(divide="ignore"):
            grid[block] = np.log(terms, out=terms).sum(axis=2)
        if not np.isfinite(grid[block]).all():  # both densities underflowed: exact but slower
            exact = np.logaddexp(log_a[None, :, :] - shift, log_b[block, None, :] - shift)
            grid[block] = exact.sum(axis=2)
    return grid + shift.sum()


def gradient(model, x, mu) -> np.ndarray:
    """∂ℓ/∂μ_k = Σ_n r_nk (x_n − μ_k) / v_k, shape (2,)."""
    return evaluate(model, x, mu)[1]


def evaluate(model, x, mu) -> tuple[float, np.ndarray]:
    """(ℓ(μ), ∇ℓ(μ)) from one pass over the data: what every iterative method needs."""
    log_norm, resp, scaled = _terms(model, _as_1d(x), mu)
    return float(log_norm.sum()), (resp * scaled).sum(axis=0)


def hessian(model, x, mu) -> np.ndarray:
    """∂²ℓ/∂μ_k∂μ_l = Σ_n [r_nk (δ_kl − r_nl) s_nk s_nl − δ_kl r_nk / v_k].

    With s_nk = (x_n − μ_k)/v_k; from ∂r_nk/∂μ_l = r_nk (δ_kl − r_nl) s_nl.
    """
    resp, scaled = _resp_and_scaled(model, _as_1d(x), mu)
    weighted = resp * scaled  # r_nk s_nk
    # Σ_n r_nk s_nk s_nl (δ_kl − r_nl) = diag(Σ r s²) − (r s)ᵀ (r s)
    curvature = np.diag((weighted * scaled).sum(axis=0)) - weighted.T @ weighted
    return curvature - np.diag(resp.sum(axis=0) / np.asarray(model.variances))


def _resp_and_scaled(model, x, mu):
    _, resp, scaled = _terms(model, x, mu)
    return resp, scaled


def _terms(model, x, mu):
    """(log p(x_n) (N,), r_nk (N, 2), s_nk = (x_n − μ_k)/v_k (N, 2)), plain numpy: called
    once per iterate, so no scipy.stats overhead."""
    mu = np.asarray(mu, dtype=np.float64)
    log_joint = model.log_joint_grid(x, mu, [0, 1])  # log w_k N(x_n | μ_k, v_k), (2, N)
    log_norm = np.logaddexp(log_joint[0], log_joint[1])
    # r_nk = w_k N_k / p(x_n)
    resp = np.exp(log_joint - log_norm).T
    return log_norm, resp, (x[:, None] - mu[None, :]) / np.asarray(model.variances)[None, :]


@dataclass(frozen=True)
class CriticalPoint:
    """A zero of the gradient of ℓ(μ1, μ2).

    Attributes
    ----------
    location : (float, float)
        (μ1, μ2).
    kind : {'maximum', 'saddle', 'minimum'}
        From the signs of the Hessian's eigenvalues.
    log_likelihood : float
    hessian_eigenvalues : (float, float)
        Ascending.
    gradient_norm : float
    """

    location: tuple[float, float]
    kind: str
    log_likelihood: float
    hessian_eigenvalues: tuple[float, float]
    gradient_norm: float


def _kind(eigenvalues: np.ndarray) -> str:
    if np.all(eigenvalues < 0):
        return "maximum"
    if np.all(eigenvalues > 0):
        return "minimum"
    return "saddle"


N_STARTS = 15  # root-finding starts per axis
GRADIENT_RTOL = 1e-6  # |∇ℓ| ≤ GRADIENT_RTOL·n counts as zero


def critical_points(model, x, *, n_starts: int = N_STARTS, gradient_rtol: float = GRADIENT_RTOL):
    """Every zero of ∇ℓ found from an n_starts × n_starts grid of starts over the data's span.

    Each root comes from scipy's hybrid Powell solver with the analytic Jacobian (the
    Hessian), is kept only if |∇ℓ| <= gradient_rtol · n, de-duplicated, and classified by
    its Hessian's eigenvalues. Sorted by log-likelihood, highest first.
    """
    x = _as_1d(x)
    low, high = x.min(), x.max()
    span = high - low
    tolerance = gradient_rtol * len(x)
    starts = np.linspace(low, high, n_starts)
    found: list[CriticalPoint] = []
    for mu1 in starts:
        for mu2 in starts:
            solution = root(
                lambda mu: gradient(model, x, mu),
                [mu1, mu2],
                jac=lambda mu: hessian(model, x, mu),
                method="hybr",
            )
            mu = solution.x
            inside = np.all((mu >= low - 0.1 * span) & (mu <= high + 0.1 * span))
            norm_g = float(np.linalg.norm(gradient(model, x, mu)))
            if not (inside and norm_g <= tolerance):
                continue
            if any(np.hypot(*(mu - p.location)) < 1e-6 * max(span, 1.0) for p in found):
                continue
            eigenvalues = np.linalg.eigvalsh(hessian(model, x, mu))
            found.append(
                CriticalPoint(
                    location=(float(mu[0]), float(mu[1])),
                    kind=_kind(eigenvalues),
                    log_likelihood=model.log_likelihood(x[:, None], model.params(*mu)),
                    hessian_eigenvalues=(float(eigenvalues[0]), float(eigenvalues[1])),
                    gradient_norm=norm_g,
                )
            )
    return sorted(found, key=lambda p: -p.log_likelihood)


def critical_point_table(points) -> list[dict]:
    """One row per critical point, for display."""
    return [
        {
            "kind": p.kind,
            "μ1": p.location[0],
            "μ2": p.location[1],
            "ℓ": p.log_likelihood,
            "Hessian eigenvalues": ", ".join(f"{v:.2f}" for v in p.hessian_eigenvalues),
            "|∇ℓ|": p.gradient_norm,
        }
        for p in points
    ]


def _at(point) -> str:
    return f"({point.location[0]:.2f}, {point.location[1]:.2f}), ℓ = {point.log_likelihood:.1f}"


def describe_surface(points) -> str:
    """What the surface's critical points (``critical_points``, highest first) show, as
    Markdown: two modes and a saddle, a single maximum, or whatever else was found."""
    maxima = [p for p in points if p.kind == "maximum"]
    saddles = [p for p in points if p.kind == "saddle"]
    if not maxima:
        return "No maximum of ℓ was found over the data's range."
    saddle_text = (
        f"between the modes lies a **saddle** at {_at(saddles[0])}"
        if len(saddles) == 1
        else f"between them lie {len(saddles)} **saddles**"
        if saddles
        else "no saddle was found between them"
    )
    if len(maxima) == 1:
        extra = f", and {len(saddles)} saddle{'s' if len(saddles) > 1 else ''}" if saddles else ""
        return (
            f"This surface has a **single maximum**, at {_at(maxima[0])}{extra}: here swapping "
            "the labels (μ₁ ↔ μ₂) gives no second mode, because the components overlap too much."
        )
    best, second = maxima[0], maxima[1]
    if len(maxima) == 2 and second.log_likelihood >= best.log_likelihood - 1e-6 * abs(
        best.log_likelihood
    ):
        return (
            f"This surface has **two equally high maxima**, at {_at(best)} and {_at(second)}: "
            "with equal weights and variances, swapping the labels (μ₁ ↔ μ₂) fits as well; "
            f"{saddle_text}."
        )
    if len(maxima) == 2:
        return (
            f"The highest mode is at {_at(best)}. Swapping the labels (μ₁ ↔ μ₂) gives a "
            f"second, lower mode at {_at(second)} — the components are not interchangeable "
            f"because their weights or variances differ — and {saddle_text}."
        )
    return (
        f"This surface has **{len(maxima)} maxima** (the highest at {_at(best)}) and "
        f"{len(saddles)} saddle{'' if len(saddles) == 1 else 's'}."
    )


# ---- coordinate ascent can stall where a joint move would climb ----


@dataclass(frozen=True)
class SaddleStall:
    """EM at a saddle of ℓ(μ1, μ2): each half-step leaves the point, a joint move climbs.

    EM is coordinate ascent on L(q, θ): the E-step maximises over q with θ fixed, the M-step
    over θ with q fixed. At the saddle both are already at their maximum, so neither moves,
    although ℓ rises along the Hessian's ascent direction (a move of θ with q following it).

    Attributes
    ----------
    saddle : (float, float)  (μ1, μ2) of the saddle
    m_step_move : float  |θ_new − θ_saddle| after one E-step and M-step from the saddle
    direction : ndarray of shape (2,)  unit eigenvector of the Hessian's positive eigenvalue
    curvature : float  that eigenvalue: ℓ(saddle + t·direction) ≈ ℓ(saddle) + ½·curvature·t²
    ts : ndarray of shape (n_ts,)  steps along ``direction``
    gains : ndarray of shape (n_ts,)  ℓ(saddle + t·direction) − ℓ(saddle)
    """

    saddle: tuple[float, float]
    m_step_move: float
    direction: np.ndarray
    curvature: float
    ts: np.ndarray
    gains: np.ndarray


def saddle_stall(model, x, saddle, *, reach: float = 0.3, n_ts: int = 7) -> SaddleStall:
    """`SaddleStall` of ``model`` on data ``x`` at ``saddle`` (a `CriticalPoint`)."""
    x = _as_1d(x)
    at = np.asarray(saddle.location, dtype=float)
    params = model.params(*at)
    data = model.prepare(x[:, None])
    moved = model.m_step(data, model.e_step(data, params)).means[:, 0]
    eigenvalues, eigenvectors = np.linalg.eigh(hessian(model, x, at))
    direction = eigenvectors[:, -1] * np.sign(eigenvectors[:, -1].sum() or 1.0)
    ts = np.linspace(-reach, reach, n_ts)
    base = evaluate(model, x, at)[0]
    gains = np.array([evaluate(model, x, at + t * direction)[0] - base for t in ts])
    return SaddleStall(
        saddle=(float(at[0]), float(at[1])),
        m_step_move=float(np.linalg.norm(moved - at)),
        direction=direction,
        curvature=float(eigenvalues[-1]),
        ts=ts,
        gains=gains,
    )


def basin_caption(basins) -> str:
    """What the basin map (an `emviz.analysis.basins.BasinMap`) shows, in two sentences."""
    shares = basins.shares()
    parts = [
        f"{shares[k]:.0%} reach the {p.kind} at ({p.location[0]:.2f}, {p.location[1]:.2f})"
        for k, p in enumerate(basins.points)
        if k in shares
    ]
    if -1 in shares:
        parts.append(f"{shares[-1]:.0%} end at no critical point (a component lost its points)")
    iterations = basins.iterations
    return (
        f"Of {basins.labels.size:,} starts, " + ", ".join(parts) + ". "
        f"They need {int(iterations.min())}–{int(iterations.max())} iterations (median "
        f"{int(np.median(iterations))}): deepest shade where EM is slowest, near the boundary "
        "between basins, which runs through the saddle. A start exactly on that boundary would "
        "stay on it and end at the saddle; no grid point lands there."
    )
