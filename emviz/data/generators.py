"""Seeded synthetic data sets, the Old Faithful data, and the app's named presets.

Every function here is pure: all randomness comes from the ``seed`` argument (an ``int`` or a
``numpy.random.Generator``), never from NumPy's global state, so the same seed always gives
the same points -- which is what lets the app redraw a data set without storing it.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np

from emviz.data.reader import read_points

SeedLike = int | np.random.Generator

# Jitter of each cluster's orientation, as a fraction of the spacing between orientations:
# enough to look hand-made, too little for two clusters to end up parallel.
_ORIENTATION_JITTER = 0.3


# --------------------------------------------------------------------------- validation


def _as_generator(seed: SeedLike) -> np.random.Generator:
    # A Generator is used as is (the caller owns its state); an int seeds a fresh one.
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise ValueError(f"seed must be a non-negative int or a numpy.random.Generator, got {seed!r}")


def _check_int(name: str, value, minimum: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_real(name: str, value, minimum: float) -> float:
    is_real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not is_real or not math.isfinite(value) or value < minimum:
        raise ValueError(f"{name} must be a finite number >= {minimum}, got {value!r}")
    return float(value)


def _check_vector(name: str, values, length: int | None = None) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0 or not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be a non-empty sequence of finite numbers, got {values!r}")
    if length is not None and array.size != length:
        raise ValueError(f"{name} has {array.size} entries but means has {length}")
    return array


# --------------------------------------------------------------------------- generators


def _balanced_counts(n_samples: int, n_components: int) -> np.ndarray:
    # Equal cluster sizes (up to one point) keep the presets free of accidental imbalance.
    counts = np.full(n_components, n_samples // n_components)
    counts[: n_samples % n_components] += 1
    return counts


def _polygon_centres(n_components: int, spacing: float, rotation: float) -> np.ndarray:
    # Centres on a regular polygon: every cluster has its nearest neighbours exactly
    # `spacing` away, so `separation` means the same thing for any number of clusters.
    if n_components == 1:
        return np.zeros((1, 2))
    radius = spacing / (2.0 * math.sin(math.pi / n_components))
    angles = rotation + 2.0 * math.pi * np.arange(n_components) / n_components
    return radius * np.column_stack([np.cos(angles), np.sin(angles)])


def _orientations(n_components: int, rng: np.random.Generator) -> np.ndarray:
    # Long axes spread evenly over half a turn, with a seeded offset and jitter.
    spacing = math.pi / n_components
    jitter = rng.uniform(-_ORIENTATION_JITTER, _ORIENTATION_JITTER, n_components) * spacing
    return rng.uniform(0.0, math.pi) + spacing * np.arange(n_components) + jitter


def _rotation_matrix(angle: float) -> np.ndarray:
    cos, sin = math.cos(angle), math.sin(angle)
    return np.array([[cos, -sin], [sin, cos]])


def make_blobs(
    n_samples: int = 500,
    n_components: int = 3,
    *,
    separation: float = 3.0,
    elongation: float = 1.0,
    overlap: float = 0.0,
    seed: SeedLike = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw 2-D Gaussian clusters whose shape and overlap are easy to dial in.

    Each cluster has standard deviation ``s`` along its short axis and ``elongation * s``
    along its long axis, where ``s = 1 + overlap``; orientations are spread over half a
    turn with a seeded offset and jitter. The centres sit on a regular polygon (seeded
    rotation) with neighbouring centres ``separation * (1 - overlap) * elongation`` apart,
    i.e. ``separation`` long-axis standard deviations when ``overlap == 0``. Measuring the
    distance in long-axis units keeps elongated clusters from running into each other.

    Parameters
    ----------
    n_samples : int, default 500
        Total number of points, at least 2 and at least ``n_components``. Clusters get
        equal sizes (they differ by at most one point).
    n_components : int, default 3
        Number of clusters, at least 1.
    separation : float, default 3.0
        Distance between neighbouring centres in units of the long-axis standard
        deviation; must be >= 0.
    elongation : float, default 1.0
        Ratio of long-axis to short-axis standard deviation; must be >= 1 (1 = round).
    overlap : float, default 0.0
        In [0, 1). Pulls the centres together by a factor ``1 - overlap`` and inflates all
        spreads by ``1 + overlap``, so the distance-to-spread ratio falls to
        ``separation * (1 - overlap) / (1 + overlap)``.
    seed : int or numpy.random.Generator, default 0
        Source of randomness. An int gives reproducible output; a Generator is advanced.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
        The points, in random order.
    labels : ndarray of shape (n_samples,), int64
        The cluster each point was drawn from, in ``range(n_components)``.

    Raises
    ------
    ValueError
        If an argument is out of range.
    """
    n_components = _check_int("n_components", n_components, 1)
    n_samples = _check_int("n_samples", n_samples, max(2, n_components))
    separation = _check_real("separation", separation, 0.0)
    elongation = _check_real("elongation", elongation, 1.0)
    overlap = _check_real("overlap", overlap, 0.0)
    if overlap >= 1.0:  # at 1 every centre would coincide
        raise ValueError(f"overlap must be in [0, 1), got {overlap!r}")
    rng = _as_generator(seed)

    short_std = 1.0 + overlap
    axis_stds = np.array([elongation * short_std, short_std])
    spacing = separation * (1.0 - overlap) * elongation
    centres = _polygon_centres(n_components, spacing, rotation=rng.uniform(0.0, 2.0 * math.pi))
    angles = _orientations(n_components, rng)
    counts = _balanced_counts(n_samples, n_components)

    clusters = [
        (rng.standard_normal((count, 2)) * axis_stds) @ _rotation_matrix(angle).T + centre
        for count, angle, centre in zip(counts, angles, centres)
    ]
    labels = np.repeat(np.arange(n_components, dtype=np.int64), counts)
    order = rng.permutation(n_samples)  # shuffled, so the row order gives nothing away
    return np.concatenate(clusters)[order], labels[order]


def make_mixture_1d(
    n_samples: int = 400,
    means: Sequence[float] = (-2.0, 1.5),
    stds: Sequence[float] = (0.8, 1.0),
    weights: Sequence[float] = (0.4, 0.6),
    seed: SeedLike = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw from a 1-D Gaussian mixture, the textbook first example of EM.

    Each point first picks a component with probability ``weights[k]`` and is then drawn
    from ``Normal(means[k], stds[k] ** 2)``, so the component sizes vary from seed to seed
    exactly as the model says they should.

    Parameters
    ----------
    n_samples : int, default 400
        Number of points, at least 2.
    means : sequence of float, length n_components
        Component means.
    stds : sequence of float, length n_components
        Component standard deviations, all > 0.
    weights : sequence of float, length n_components
        Mixing proportions: non-negative and summing to 1.
    seed : int or numpy.random.Generator, default 0
        Source of randomness. An int gives reproducible output; a Generator is advanced.

    Returns
    -------
    x : ndarray of shape (n_samples,), float64
        The points.
    labels : ndarray of shape (n_samples,), int64
        The component each point was drawn from.

    Raises
    ------
    ValueError
        If an argument is out of range or the sequences differ in length.
    """
    n_samples = _check_int("n_samples", n_samples, 2)
    means_arr = _check_vector("means", means)
    stds_arr = _check_vector("stds", stds, means_arr.size)
    weights_arr = _check_vector("weights", weights, means_arr.size)
    if np.any(stds_arr <= 0):
        raise ValueError(f"stds must all be > 0, got {stds!r}")
    if np.any(weights_arr < 0) or not math.isclose(weights_arr.sum(), 1.0, abs_tol=1e-9):
        raise ValueError(f"weights must be non-negative and sum to 1, got {weights!r}")
    rng = _as_generator(seed)

    labels = rng.choice(means_arr.size, size=n_samples, p=weights_arr).astype(np.int64)
    x = rng.normal(means_arr[labels], stds_arr[labels])
    return x, labels


def make_two_mean_sample(
    n_samples: int = 92,
    means: Sequence[float] = (0.0, 2.5),
    weights: Sequence[float] = (0.3, 0.7),
    variances: Sequence[float] = (1.0, 0.5),
    seed: SeedLike = 0,
) -> np.ndarray:
    """A sample for the two-mean mixture w1·N(μ1, v1) + w2·N(μ2, v2), shape (n_samples,).

    The defaults are the textbook example whose likelihood has two modes and a saddle:
    n = 92 points from 0.3·N(0, 1) + 0.7·N(2.5, 1/2). Variances, not standard deviations.
    """
    variances_arr = _check_vector("variances", variances)
    if np.any(variances_arr <= 0):
        raise ValueError(f"variances must all be > 0, got {variances!r}")
    x, _ = make_mixture_1d(n_samples, means, np.sqrt(variances_arr), weights, seed)
    return x


def symmetric_sample(
    n_samples: int = 400, separation: float = 2.0, *, angle: float = 0.0, seed: SeedLike = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A 2-D sample of ½N(θ*, I) + ½N(−θ*, I), the model of Xu, Hsu & Maleki (NeurIPS 2016).

    Parameters
    ----------
    n_samples : int, default 400
        Number of points (at least 2); half come from each component (one more from +θ*
        when odd), in random order.
    separation : float, default 2.0
        Distance between the two centres, 2|θ*| (>= 0).
    angle : float, default 0.0
        Direction of θ*, in radians from the first axis.
    seed : int or numpy.random.Generator, default 0

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    theta_star : ndarray of shape (2,)
    """
    n_samples = _check_int("n_samples", n_samples, 2)
    separation = _check_real("separation", separation, 0.0)
    angle = _check_real("angle", angle, -math.inf)
    rng = _as_generator(seed)
    theta_star = 0.5 * separation * np.array([math.cos(angle), math.sin(angle)])
    signs = np.repeat([1.0, -1.0], _balanced_counts(n_samples, 2))
    X = signs[:, None] * theta_star + rng.standard_normal((n_samples, 2))
    return X[rng.permutation(n_samples)], theta_star


def jin_centres_1d(spacing: float = 4.0, far: float = 40.0) -> np.ndarray:
    """The 1-D centres (−R, R, D) of Jin et al. (NeurIPS 2016), shape (3, 1).

    Two clusters 2R apart and a third at D, far from both: the bad local maximum puts one
    mean between −R and R and splits the far cluster between two.
    """
    spacing = _check_real("spacing", spacing, 0.0)
    far = _check_real("far", far, -math.inf)
    if far <= spacing:
        raise ValueError(f"far must lie beyond spacing, got far={far!r}, spacing={spacing!r}")
    return np.array([[-spacing], [spacing], [far]])


def jin_centres_2d(n_components: int = 3, separation: float = 8.0) -> np.ndarray:
    """K centres on a regular polygon, neighbours ``separation`` apart, shape (K, 2)."""
    n_components = _check_int("n_components", n_components, 1)
    separation = _check_real("separation", separation, 0.0)
    return _polygon_centres(n_components, separation, rotation=math.pi / 2)


def jin_sample(
    centres, n_per_cluster: int = 100, *, variance: float = 1.0, seed: SeedLike = 0
) -> np.ndarray:
    """Equal clusters N(c_k, σ² I), ``n_per_cluster`` points each, in random order.

    Parameters
    ----------
    centres : array-like of shape (K, D)
        E.g. `jin_centres_1d` or `jin_centres_2d`.
    n_per_cluster : int, default 100
    variance : float, default 1.0
        σ², the same along every axis of every cluster.
    seed : int or numpy.random.Generator, default 0

    Returns
    -------
    ndarray of shape (K · n_per_cluster, D)
    """
    centres = np.asarray(centres, dtype=np.float64)
    if centres.ndim != 2 or centres.size == 0 or not np.isfinite(centres).all():
        raise ValueError(f"centres must be a (K, D) array of finite numbers, got {centres!r}")
    n_per_cluster = _check_int("n_per_cluster", n_per_cluster, 1)
    variance = _check_real("variance", variance, 0.0)
    rng = _as_generator(seed)
    X = np.repeat(centres, n_per_cluster, axis=0)
    X += math.sqrt(variance) * rng.standard_normal(X.shape)
    return X[rng.permutation(len(X))]


def ppca_sample(
    n_samples: int = 200, n_features: int = 2, noise: float = 0.5, *, seed: SeedLike = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A sample of probabilistic PCA with one latent dimension: x = w* z + μ* + ε.

    z ~ N(0, 1), ε ~ N(0, noise² I); w* has length 2 along a fixed direction (30° from the
    x-axis in 2-D, (3, 2, 1)/√14 in 3-D) and μ* = (2, 1, 0)[:n_features].

    Parameters
    ----------
    n_samples : int, default 200
        At least 2.
    n_features : {2, 3}, default 2
    noise : float, default 0.5
        Standard deviation of the isotropic noise (>= 0).
    seed : int or numpy.random.Generator, default 0

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    w_star : ndarray of shape (n_features,)
    """
    n_samples = _check_int("n_samples", n_samples, 2)
    if n_features not in (2, 3):
        raise ValueError(f"n_features must be 2 or 3, got {n_features!r}")
    noise = _check_real("noise", noise, 0.0)
    rng = _as_generator(seed)
    if n_features == 2:
        direction = np.array([math.cos(math.pi / 6), math.sin(math.pi / 6)])
    else:
        direction = np.array([3.0, 2.0, 1.0]) / math.sqrt(14.0)
    w_star = 2.0 * direction
    X = np.outer(rng.standard_normal(n_samples), w_star) + np.array([2.0, 1.0, 0.0])[:n_features]
    X += noise * rng.standard_normal(X.shape)
    return X, w_star


# --------------------------------------------------------------------------- Old Faithful


@functools.cache
def _faithful_raw() -> np.ndarray:
    # Parsed once per process; callers get copies, so the cache cannot be mutated.
    csv_bytes = resources.files("emviz.data").joinpath("faithful.csv").read_bytes()
    data = read_points(csv_bytes, columns=["eruptions", "waiting"])
    data.setflags(write=False)
    return data


def load_faithful(standardize: bool = False) -> np.ndarray:
    """Load the Old Faithful geyser data (R's ``datasets::faithful``).

    Parameters
    ----------
    standardize : bool, default False
        If True, shift and scale each column to mean 0 and (population, ``ddof=0``)
        standard deviation 1, as in Bishop, PRML Fig. 9.8. The raw columns differ in scale
        by a factor of ~20, which would make round initial covariances a poor start.

    Returns
    -------
    X : ndarray of shape (272, 2), float64
        Columns ``eruptions`` (eruption length, minutes) and ``waiting`` (minutes to the
        next eruption). A fresh, writable copy on every call.
    """
    data = np.array(_faithful_raw())
    if standardize:
        data = (data - data.mean(axis=0)) / data.std(axis=0)
    return data


# --------------------------------------------------------------------------- presets

# A factory maps (n_samples, seed) to (X of shape (n, d), labels of shape (n,) or None).
PresetFactory = Callable[[int, SeedLike], tuple[np.ndarray, np.ndarray | None]]


@dataclass(frozen=True)
class Preset:
    """A named data set offered by the app.

    Attributes
    ----------
    description : str
        One sentence for the app, saying what the data set teaches.
    n_components : int
        A sensible number of mixture components to fit.
    n_features : int
        Number of columns of the data (2, or 1 for the 1-D mixture).
    default_n_samples : int
        Number of points when ``n_samples`` is not given.
    generated : bool
        True if the points are simulated (so ``n_samples`` and ``seed`` matter); False for
        real data such as Old Faithful, whose size and content are fixed.
    factory : callable
        ``factory(n_samples, seed) -> (X, labels)``; use :meth:`sample` instead.
    """

    description: str
    n_components: int
    n_features: int
    default_n_samples: int
    generated: bool
    factory: PresetFactory

    def sample(
        self, n_samples: int | None = None, seed: SeedLike = 0
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Draw the data set together with its true labels.

        Parameters
        ----------
        n_samples : int or None
            Number of points; None means ``default_n_samples``. Ignored by fixed data sets.
        seed : int or numpy.random.Generator, default 0
            Ignored by fixed data sets.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features), float64
        labels : ndarray of shape (n_samples,), int64, or None
            The generating component of each point; None for real data.
        """
        n = self.default_n_samples if n_samples is None else n_samples
        X, labels = self.factory(n, seed)
        return np.asarray(X, dtype=np.float64).reshape(len(X), self.n_features), labels


def _blobs_factory(**blob_options) -> PresetFactory:
    def factory(n_samples: int, seed: SeedLike):
        return make_blobs(n_samples, 3, seed=seed, **blob_options)

    return factory


def _faithful_factory(n_samples: int, seed: SeedLike):
    return load_faithful(standardize=True), None


def _mixture_1d_factory(n_samples: int, seed: SeedLike):
    x, labels = make_mixture_1d(n_samples, seed=seed)
    return x[:, np.newaxis], labels  # models expect X of shape (n_samples, n_features)


PRESETS: dict[str, Preset] = {
    "Well-separated blobs": Preset(
        "Three round, well-separated clusters: EM finds them in a few iterations.",
        n_components=3,
        n_features=2,
        default_n_samples=500,
        generated=True,
        factory=_blobs_factory(separation=7.0),
    ),
    "Elongated clusters": Preset(
        "Three stretched, tilted clusters: round (spherical) covariances cannot fit them.",
        n_components=3,
        n_features=2,
        default_n_samples=500,
        generated=True,
        factory=_blobs_factory(separation=3.5, elongation=4.0),
    ),
    "Heavy overlap": Preset(
        "Three clusters that overlap a lot: responsibilities stay soft and EM converges slowly.",
        n_components=3,
        n_features=2,
        default_n_samples=500,
        generated=True,
        factory=_blobs_factory(separation=4.0, overlap=0.4),
    ),
    "Old Faithful (standardised)": Preset(
        "Real geyser eruptions (length vs. waiting time), standardised as in Bishop Fig. 9.8.",
        n_components=2,
        n_features=2,
        default_n_samples=272,
        generated=False,
        factory=_faithful_factory,
    ),
    "1-D two-component mixture": Preset(
        "Points on a line from two Gaussians: the simplest picture of EM.",
        n_components=2,
        n_features=1,
        default_n_samples=400,
        generated=True,
        factory=_mixture_1d_factory,
    ),
}


def _get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except (KeyError, TypeError):  # TypeError: unhashable names such as lists
        known = ", ".join(f'"{key}"' for key in PRESETS)
        raise ValueError(f"Unknown preset {name!r}; choose one of {known}") from None


def preset_names() -> list[str]:
    """Return the preset names, in the order the app should list them.

    Returns
    -------
    list of str
    """
    return list(PRESETS)


def preset_is_generated(name: str) -> bool:
    """Tell whether a preset is simulated (so its size and seed can be changed).

    Parameters
    ----------
    name : str
        A name from :func:`preset_names`.

    Returns
    -------
    bool
        False for real data sets such as Old Faithful, whose size and seed are fixed.

    Raises
    ------
    ValueError
        If ``name`` is not a preset.
    """
    return _get_preset(name).generated


def load_preset(name: str, *, n_samples: int | None = None, seed: SeedLike = 0) -> np.ndarray:
    """Load a preset data set by name.

    Parameters
    ----------
    name : str
        A name from :func:`preset_names`.
    n_samples : int or None, keyword-only
        Number of points; None gives the preset's default. Ignored (like ``seed``) when
        :func:`preset_is_generated` is False.
    seed : int or numpy.random.Generator, default 0, keyword-only

    Returns
    -------
    X : ndarray of shape (n_samples, 2), or (n_samples, 1) for 1-D data, float64
        Always 2-D, because the models take X of shape (n_samples, n_features).

    Raises
    ------
    ValueError
        If ``name`` is not a preset or ``n_samples``/``seed`` are invalid.
    """
    return _get_preset(name).sample(n_samples, seed)[0]
