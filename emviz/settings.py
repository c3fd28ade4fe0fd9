"""The learner's settings: what each is called, its default, and how it travels in a link.

Every setting the app offers is a :class:`Field` with a short, stable name. The name is both
the key under which the app keeps the setting and its name in a page's URL query string, so
that a link opens exactly the view it was copied from. Text read from a URL is validated like
any other input: :func:`parse_query` keeps what is valid and names everything it ignored.

The small frozen dataclasses (:class:`DataSource`, :class:`ModelSettings`,
:class:`LandscapeSettings`, :class:`BoundRun`) are what the pages and the cached runs are
keyed on; ``*_from(values)`` builds them from a mapping of field values.

Nothing here imports streamlit.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from emviz.data import PRESETS, preset_names
from emviz.models import TwoMeanMixture
from emviz.models.linkage import DLR_COUNTS

# ---- the choices offered -------------------------------------------------------------------

PRESET_SLUGS = {
    "blobs": "Well-separated blobs",
    "elongated": "Elongated clusters",
    "overlap": "Heavy overlap",
    "faithful": "Old Faithful (standardised)",
    "1d": "1-D two-component mixture",
}
UPLOAD = "Upload a CSV file"
INIT_CHOICES = {  # URL slug -> (label, the init name GaussianMixture.init_params takes)
    "kmeanspp": ("k-means++", "kmeans++"),
    "kmeans": ("k-means", "kmeans"),
    "random": ("random points from the data", "random_from_data"),
    "spread": ("Bishop 9.8-style start (spread out)", "spread"),
}
COVARIANCE_TYPES = ("full", "diag", "spherical", "tied")
REG_COVAR_CHOICES = (0.0, 1e-6, 1e-4, 1e-3, 1e-2, 1e-1)
TOL_CHOICES = (1e-2, 1e-3, 1e-4, 1e-6, 1e-8, 1e-10)
LEARNING_RATES = (0.01, 0.03, 0.1, 0.3, 1.0, 2.0, 3.0, 5.0)  # the landscape's paths
COMPARISON_RATES = (0.1, 0.3, 1.0, 2.0, 3.0, 5.0)  # "EM or gradient ascent?": large ones fail
SURPLUS_MEANS = (0.5, 1.0, 2.0, 3.0, 4.0)  # where the surplus component sits (the data: N(0, 1))

MAX_COMPONENTS = 8
N_SAMPLES_RANGE = (20, 5000, 10)  # (min, max, step) of a generated preset's size
SEED_MAX = 10**6
MAX_ITER_MAX = 1000
LANDSCAPE_N_RANGE = (10, 2000)
LANDSCAPE_MEAN_RANGE = (-3.0, 5.0)
LANDSCAPE_WEIGHT_RANGE = (0.05, 0.95)
LANDSCAPE_VARIANCE_RANGE = (0.1, 3.0)
START_LIMIT = 50.0  # |μ| of a two-mean start typed or read from a link
FACTOR_RANGE = (0.5, 3.5)
RESTARTS_RANGE = (10, 500)  # restarts of the step page's mixture ("Where EM ends up")
# "Where EM ends up": the two-component basin map (Xu, Hsu & Maleki) and the restarts of K
# spherical clusters (Jin et al.); ranges keep each section's computation near a second
SYMMETRIC_SEPARATIONS = tuple(0.5 * i for i in range(2, 13))  # 2|θ*| from 1 to 6
SYMMETRIC_N_RANGE = (100, 1000, 100)  # (min, max, step)
SPHERICAL_DIMENSIONS = (1, 2)
SPHERICAL_K_RANGE = (3, 6)  # in 2-D; the 1-D case has its three clusters (−R, R, D)
SPHERICAL_SEPARATIONS = tuple(0.5 * i for i in range(3, 17))  # R from 1.5 to 8
SPHERICAL_RESTARTS_RANGE = (50, 500, 50)
FAR_FACTOR = 10
"""The 1-D far cluster sits at D = FAR_FACTOR · R: far from both others."""
SELECTION_RESTARTS_RANGE = (1, 10)  # "Choosing K": restarts per fit, 32 fits twice over
CRITERION_CHOICES = ("bic", "aic", "icl")
N_PER_CLUSTER = 60  # ample for σ = 1 clusters ≥ 3σ apart, and quick for 500 restarts
# Pages drawn as tabs, only the open one drawn (so a page is ready sooner): URL slug -> tab
ENDS_SECTIONS = {
    "two": "Two components",
    "more": "Three or more components",
    "restarts": "Restarts on your data",
}
FAILURE_SECTIONS = {
    "collapse": "1 · Collapse",
    "slow": "2 · Slow convergence",
    "early": "3 · Stopping too early",
    "wrongk": "4 · The wrong K",
}
MAX_URL_VALUE = 40  # characters; longer values in a link are ignored
# Failure lab: where the isolated point of the collapse demo lies (EM collapses onto it from
# every one of these), the remedy's reg_covar, the distances of the two merging components
# (in σ), and the loose tolerances to compare with a tight one
ISOLATED_POSITIONS = (8.0, 9.0, 10.0, 11.0, 12.0)
REMEDY_REG_CHOICES = (1e-4, 1e-3, 1e-2, 1e-1)
MERGE_SEPARATIONS = (1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0)
LOOSE_TOL_CHOICES = (1e-1, 1e-2, 1e-3, 1e-4)
# Genetic linkage: each cell's count, the start θ, and the iterations run (DLR's table has 8)
LINKAGE_COUNT_MAX = 10**6
LINKAGE_START_RANGE = (0.01, 0.99)
LINKAGE_ITERATIONS = 12
# Probabilistic PCA: generated 2-D or 3-D data around a line, and where W starts
PPCA_N_RANGE = (20, 2000, 10)  # (min, max, step)
PPCA_NOISE_CHOICES = (0.1, 0.25, 0.5, 0.75, 1.0, 1.5)  # the noise's standard deviation
PPCA_INIT_CHOICES = {"random": "random", "axis": "first_axis"}  # URL slug -> init method
# "Missing data": how the values go missing, how many rows and how EM starts
MISSING_MECHANISMS = {"mcar": "MCAR", "mar": "MAR"}
MISSING_SHARE_RANGE = (0.0, 0.8)
MISSING_N_RANGE = (20, 2000, 10)
MISSING_INITS = {"cc": "complete_cases", "obs": "observed_moments"}
# Hidden Markov model: the regime-switching series (states, length) or an uploaded series
HMM_STATES_RANGE = (2, 4)
HMM_LENGTH_RANGE = (100, 2000, 50)  # (min, max, step)
HMM_SOURCES = {"regime": "Regime-switching series (generated)", "upload": UPLOAD}
HMM_INITS = {  # slug -> label (the slug is the init name GaussianHMM.init_params takes)
    "quantiles": "quantiles of the data",
    "random": "random data values (seeded)",
}


class Family(Enum):
    """Which model the "Why EM works" page shows."""

    GAUSSIAN = "gmm"
    TWO_MEANS = "two"

    @property
    def label(self) -> str:
        return {"gmm": "Gaussian mixture", "two": "Two-mean mixture (1-D)"}[self.value]


class Variant(Enum):
    """Which member of EM's family the step page and "Why EM works" run (`emviz.runs.fit`)."""

    EM = "em"
    TEMPERED = "tempered"
    KMEANS = "kmeans"
    STOCHASTIC = "sem"
    ANNEALED = "anneal"
    MAP = "map"

    @property
    def label(self) -> str:
        return {
            "em": "EM (the exact posterior)",
            "tempered": "Tempered or hard E-step",
            "kmeans": "k-means shape (soft → hard k-means)",
            "sem": "Stochastic EM (sampled labels)",
            "anneal": "Annealed EM (cooling schedule)",
            "map": "MAP-EM (a conjugate prior)",
        }[self.value]


TEMPERATURES = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0)  # of a tempered E-step; 0 is hard EM
KMEANS_SIGMAS = (0.0, 0.05, 0.1, 0.25, 0.5, 1.0)  # σ of the k-means shape, × the data's spread
ANNEAL_STARTS = (2.0, 4.0, 8.0, 16.0, 32.0)
ANNEAL_STEPS = 20
PRIOR_STRENGTHS = (
    0.01,
    0.1,
    0.3,
    1.0,
    3.0,
    10.0,
    100.0,
)  # MAP-EM: × the prior's pseudo-points  # iterations over which an annealed E-step cools to T = 1


class BreakMode(Enum):
    """How the "Why EM works" page breaks EM (or not) for its monotonicity audit."""

    NONE = "none"
    OVERSHOOT = "overshoot"
    FORGET_WEIGHTS = "weights"

    @property
    def label(self) -> str:
        return {
            "none": "Nothing: plain EM",
            "overshoot": "M-step: move the means past their optimum",
            "weights": "E-step: forget the mixing weights",
        }[self.value]


# ---- fields --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One setting: its short stable ``name``, ``default``, and its URL text both ways.

    ``parse(text)`` returns the value or raises ValueError with the reason (malformed, out of
    range); ``text(value)`` is the inverse.
    """

    name: str
    default: Any
    parse: Callable[[str], Any]
    text: Callable[[Any], str] = str
    describe: str = ""


def _int_in(low: int, high: int, step: int = 1) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not text.strip().lstrip("+").isdigit():
            raise ValueError(f"not a whole number from {low} to {high}")
        value = int(text)
        if not low <= value <= high or (value - low) % step:
            every = f" in steps of {step}" if step > 1 else ""
            raise ValueError(f"not a whole number from {low} to {high}{every}")
        return value

    return parse


def _float_in(low: float, high: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"not a number from {low:g} to {high:g}") from None
        if not (math.isfinite(value) and low <= value <= high):
            raise ValueError(f"not a number from {low:g} to {high:g}")
        return value

    return parse


def _one_of(options: Sequence[float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        for option in options:
            if math.isclose(value, option, rel_tol=1e-9, abs_tol=0.0):
                return option
        raise ValueError("not one of " + ", ".join(f"{o:g}" for o in options))

    return parse


def _slug_of(choices: Mapping[str, Any]) -> tuple[Callable[[str], Any], Callable[[Any], str]]:
    """(parse, text) for a setting whose URL text is a slug standing for a value."""
    slugs = {value: slug for slug, value in choices.items()}

    def parse(text: str):
        if text not in choices:
            raise ValueError("not one of " + ", ".join(choices))
        return choices[text]

    return parse, slugs.__getitem__


def _bool(text: str) -> bool:
    if text not in ("0", "1"):
        raise ValueError("not 0 or 1")
    return text == "1"


def _bool_text(value: bool) -> str:
    return "1" if value else "0"


def _float_text(value: float) -> str:
    return repr(float(value))  # the shortest text that reads back as the same float


_PRESET = _slug_of(PRESET_SLUGS)
_INIT = _slug_of({slug: name for slug, (_, name) in INIT_CHOICES.items()})
_COV = _slug_of({name: name for name in COVARIANCE_TYPES})
_FAMILY = _slug_of({family.value: family for family in Family})
_VARIANT = _slug_of({variant.value: variant for variant in Variant})
_BREAK = _slug_of({mode.value: mode for mode in BreakMode if mode is not BreakMode.NONE})
_ANY_STEP = _int_in(0, 10**6)
_CRITERION = _slug_of({name: name for name in CRITERION_CHOICES})
_PPCA_INIT = _slug_of(PPCA_INIT_CHOICES)
_MECHANISM = _slug_of(MISSING_MECHANISMS)
_MISSING_INIT = _slug_of(MISSING_INITS)
_HMM_SOURCE = _slug_of({slug: slug for slug in HMM_SOURCES})
_HMM_INIT = _slug_of({slug: slug for slug in HMM_INITS})
_ENDS_TAB = _slug_of({slug: slug for slug in ENDS_SECTIONS})
_FAILURE_TAB = _slug_of({slug: slug for slug in FAILURE_SECTIONS})
NO_TYPES = "none"


def _covariance_types(text: str) -> tuple[str, ...]:
    """'full-tied' -> ('full', 'tied'): covariance types in their usual order; 'none' -> ()."""
    if text == NO_TYPES:
        return ()
    names = text.split("-")
    if not set(names) <= set(COVARIANCE_TYPES) or len(set(names)) != len(names):
        raise ValueError(
            "not covariance types from " + ", ".join(COVARIANCE_TYPES) + " joined by -"
        )
    return tuple(name for name in COVARIANCE_TYPES if name in names)


def _covariance_types_text(types) -> str:
    return "-".join(types) if types else NO_TYPES


FIELDS: dict[str, Field] = {
    field.name: field
    for field in (
        # the data and the Gaussian mixture (step page, Why EM works)
        Field("data", preset_names()[0], _PRESET[0], _PRESET[1], "data set"),
        Field("n", 500, _int_in(*N_SAMPLES_RANGE), describe="number of points"),
        Field("seed", 0, _int_in(0, SEED_MAX), describe="data seed"),
        Field("std", False, _bool, _bool_text, "standardise the columns"),
        Field("k", None, _int_in(1, MAX_COMPONENTS), describe="number of components"),
        Field("cov", "full", _COV[0], _COV[1], "covariance type"),
        Field("init", "kmeans++", _INIT[0], _INIT[1], "initialisation"),
        Field("iseed", 0, _int_in(0, SEED_MAX), describe="initialisation seed"),
        Field("reg", 0.0, _one_of(REG_COVAR_CHOICES), _float_text, "reg_covar"),
        Field("tol", 1e-6, _one_of(TOL_CHOICES), _float_text, "tolerance"),
        Field("iters", 100, _int_in(1, MAX_ITER_MAX), describe="maximum iterations"),
        Field("var", Variant.EM, _VARIANT[0], _VARIANT[1], "EM variant"),
        Field("temp", 0.0, _one_of(TEMPERATURES), _float_text, "temperature of the E-step"),
        Field("ksig", 0.0, _one_of(KMEANS_SIGMAS), _float_text, "σ of the k-means shape"),
        Field("t0", 8.0, _one_of(ANNEAL_STARTS), _float_text, "starting temperature"),
        Field("pstr", 1.0, _one_of(PRIOR_STRENGTHS), _float_text, "strength of the prior"),
        Field("vseed", 0, _int_in(0, SEED_MAX), describe="seed of the sampled labels"),
        Field("step", 0, _ANY_STEP, describe="shown step"),
        Field("pt", 0, _int_in(0, 10**6), describe="inspected point"),
        Field("lab", False, _bool, _bool_text, "the labels-known comparison shown"),
        # Why EM works
        Field("fam", Family.GAUSSIAN, _FAMILY[0], _FAMILY[1], "model"),
        Field("wstep", 0, _ANY_STEP, describe="shown step of the lower-bound run"),
        Field("dir", 0, _int_in(0, 100), describe="direction of the slice"),
        Field("dseed", 0, _int_in(0, SEED_MAX), describe="direction seed"),
        Field("jp", None, _int_in(0, 10**6), describe="Jensen point"),
        Field("bk", False, _bool, _bool_text, "break it"),
        # every page with a monotonicity audit: its chart and table shown (drawn only then)
        Field("aud", False, _bool, _bool_text, "the audit's details shown"),
        Field("brk", BreakMode.OVERSHOOT, _BREAK[0], _BREAK[1], "what to break"),
        Field("f", 2.5, _float_in(*FACTOR_RANGE), _float_text, "overshoot factor"),
        # the two-mean mixture (landscape, Why EM works, EM or gradient ascent?)
        Field("ln", 92, _int_in(*LANDSCAPE_N_RANGE), describe="landscape: number of points"),
        Field("lm1", 0.0, _float_in(*LANDSCAPE_MEAN_RANGE), _float_text, "landscape: true μ₁"),
        Field("lm2", 2.5, _float_in(*LANDSCAPE_MEAN_RANGE), _float_text, "landscape: true μ₂"),
        Field("lw", 0.3, _float_in(*LANDSCAPE_WEIGHT_RANGE), _float_text, "landscape: w₁"),
        Field("lv1", 1.0, _float_in(*LANDSCAPE_VARIANCE_RANGE), _float_text, "landscape: v₁"),
        Field("lv2", 0.5, _float_in(*LANDSCAPE_VARIANCE_RANGE), _float_text, "landscape: v₂"),
        Field("lseed", 0, _int_in(0, SEED_MAX), describe="landscape: seed"),
        Field("m1", 4.0, _float_in(-START_LIMIT, START_LIMIT), _float_text, "start μ₁"),
        Field("m2", -1.0, _float_in(-START_LIMIT, START_LIMIT), _float_text, "start μ₂"),
        Field("lr", 0.3, _one_of(LEARNING_RATES), _float_text, "learning rate of the paths"),
        Field("clr", 3.0, _one_of(COMPARISON_RATES), _float_text, "learning rate compared"),
        Field("osur", 3.0, _one_of(SURPLUS_MEANS), _float_text, "mean of the surplus component"),
        Field("v3d", False, _bool, _bool_text, "3-D view"),
        Field("bas", False, _bool, _bool_text, "basin map"),
        Field("rr", 100, _int_in(*RESTARTS_RANGE), describe="number of restarts"),
        Field("rcmp", False, _bool, _bool_text, "compare the initialisations"),
        # None: the first listed (the best solution's example restart)
        Field("rpick", None, _int_in(0, RESTARTS_RANGE[1] - 1), describe="restart to open"),
        # Where EM ends up
        Field("etab", "two", *_ENDS_TAB, "section shown"),
        Field("xsep", 3.0, _one_of(SYMMETRIC_SEPARATIONS), _float_text, "distance of ±θ*"),
        Field("xn", 400, _int_in(*SYMMETRIC_N_RANGE), describe="two components: points"),
        Field("xseed", 0, _int_in(0, SEED_MAX), describe="two components: seed"),
        Field("jdim", 1, _int_in(*SPHERICAL_DIMENSIONS), describe="K clusters: dimension"),
        Field("jk", 4, _int_in(*SPHERICAL_K_RANGE), describe="K clusters: components (2-D)"),
        Field("jsep", 4.0, _one_of(SPHERICAL_SEPARATIONS), _float_text, "K clusters: R"),
        Field("jr", 200, _int_in(*SPHERICAL_RESTARTS_RANGE), describe="K clusters: restarts"),
        Field("jseed", 0, _int_in(0, SEED_MAX), describe="K clusters: seed"),
        # Choosing K
        Field("sr", 3, _int_in(*SELECTION_RESTARTS_RANGE), describe="restarts per fit"),
        Field("scrit", "bic", _CRITERION[0], _CRITERION[1], "criterion shown"),
        Field(
            "scov",
            COVARIANCE_TYPES,
            _covariance_types,
            _covariance_types_text,
            "covariance types shown",
        ),
        Field("sseed", 0, _int_in(0, SEED_MAX), describe="held-out split seed"),
        # Failure lab
        Field("ftab", "collapse", *_FAILURE_TAB, "section shown"),
        Field("flx", 8.0, _one_of(ISOLATED_POSITIONS), _float_text, "isolated point at"),
        Field("flit", None, _ANY_STEP, describe="collapse: iteration shown"),
        Field("flreg", 1e-3, _one_of(REMEDY_REG_CHOICES), _float_text, "remedy's reg_covar"),
        Field("flsep", 3.0, _one_of(MERGE_SEPARATIONS), _float_text, "distance of the centres"),
        Field("fltol", 1e-1, _one_of(LOOSE_TOL_CHOICES), _float_text, "loose tolerance"),
        # Genetic linkage
        *(
            Field(f"gy{i + 1}", y, _int_in(0, LINKAGE_COUNT_MAX), describe=f"linkage: y{i + 1}")
            for i, y in enumerate(DLR_COUNTS)
        ),
        Field("gth", 0.5, _float_in(*LINKAGE_START_RANGE), _float_text, "linkage: start θ"),
        Field("gstep", 0, _ANY_STEP, describe="shown step of the linkage run"),
        # Probabilistic PCA
        Field("ppdim", 2, _int_in(2, 3), describe="PPCA: dimension of the data"),
        Field("ppn", 200, _int_in(*PPCA_N_RANGE), describe="PPCA: number of points"),
        Field("ppnoise", 0.5, _one_of(PPCA_NOISE_CHOICES), _float_text, "PPCA: noise level"),
        Field("ppseed", 0, _int_in(0, SEED_MAX), describe="PPCA: seed"),
        Field("ppinit", "random", _PPCA_INIT[0], _PPCA_INIT[1], "PPCA: start of W"),
        Field("pstep", 0, _ANY_STEP, describe="shown step of the PPCA run"),
        # Missing data
        Field("mimech", "MAR", _MECHANISM[0], _MECHANISM[1], "missing data: mechanism"),
        Field("mishare", 0.3, _float_in(*MISSING_SHARE_RANGE), _float_text, "share missing"),
        Field("mipts", 200, _int_in(*MISSING_N_RANGE), describe="missing data: points"),
        Field("miseed", 0, _int_in(0, SEED_MAX), describe="missing data: seed"),
        Field("miup", False, _bool, _bool_text, "missing data: the uploaded file"),
        Field("miinit", "observed_moments", _MISSING_INIT[0], _MISSING_INIT[1], "EM's start"),
        Field("mistep", 0, _ANY_STEP, describe="missing data: shown step"),
        # Hidden Markov model
        Field("hsrc", "regime", _HMM_SOURCE[0], _HMM_SOURCE[1], "HMM: series"),
        Field("hk", 2, _int_in(*HMM_STATES_RANGE), describe="HMM: number of states"),
        Field("hn", 500, _int_in(*HMM_LENGTH_RANGE[:2]), describe="HMM: length of the series"),
        Field("hseed", 0, _int_in(0, SEED_MAX), describe="HMM: seed"),
        Field("hinit", "quantiles", _HMM_INIT[0], _HMM_INIT[1], "HMM: start"),
        Field("hstep", 0, _ANY_STEP, describe="HMM: shown step"),
    )
}

# What a link leaves out when the data is an upload (see `to_query`): the preset's fields, and
# the settings of the uploaded file itself, which cannot travel in a link.
DATA_FIELDS = ("data", "n", "seed")
UPLOAD_FIELDS = ("std",)


def default_of(name: str, values: Mapping[str, Any]) -> Any:
    """The default of ``name`` given the other ``values`` (K follows the data set); None for
    a name that is not a field (a setting that never travels in a link)."""
    if name == "k":
        preset = PRESETS.get(values.get("data", FIELDS["data"].default))
        return preset.n_components if preset is not None else 2
    return FIELDS[name].default if name in FIELDS else None


def value_of(name: str, values: Mapping[str, Any]) -> Any:
    """``values[name]`` when set, else its default."""
    value = values.get(name)
    return default_of(name, values) if value is None else value


# ---- links ---------------------------------------------------------------------------------


def n_points(values: Mapping[str, Any]) -> int | None:
    """How many points the data of ``values`` has (None for an upload: not known here)."""
    name = value_of("data", values)
    preset = PRESETS.get(name)
    if preset is None:
        return None
    return value_of("n", values) if preset.generated else preset.default_n_samples


def parse_query(query: Mapping[str, Sequence[str] | str]) -> tuple[dict[str, Any], list[str]]:
    """Settings from a URL's query string: (valid values, one reason per ignored name).

    ``query`` maps each name to its value or list of values. Unknown names, repeated names,
    overlong, malformed or out-of-range values are ignored (the default holds) and named in
    the reasons; so is K above the number of points and a point past the end of the data.
    Never raises.
    """
    values: dict[str, Any] = {}
    ignored: list[str] = []
    for name, given in query.items():
        texts = [given] if isinstance(given, str) else list(given)
        field = FIELDS.get(name)
        shown = _shown_name(name)
        if field is None:
            ignored.append(f"“{shown}” (not a setting of this app)")
        elif len(set(texts)) != 1:
            ignored.append(f"{name} (given {len(texts)} times)")
        elif len(texts[0]) > MAX_URL_VALUE:
            ignored.append(f"{name} (value too long)")
        else:
            try:
                values[name] = field.parse(texts[0])
            except ValueError as reason:
                ignored.append(f"{name} ({reason})")
    ignored += _drop_inconsistent(values)
    return values, ignored


def _shown_name(name: str) -> str:
    """A name from a URL as it may be quoted in a message: letters, digits, - and _ only (no
    markup can get through), cut to a readable length."""
    safe = re.sub(r"[^A-Za-z0-9-]", "?", name)
    return safe if len(safe) <= 20 else safe[:20] + "…"


def _drop_inconsistent(values: dict[str, Any]) -> list[str]:
    """Remove values that are valid alone but not together; return the reasons."""
    reasons = []
    size = n_points(values)
    if size is not None:
        for name, what in (("k", "components"), ("pt", "point number"), ("jp", "point number")):
            limit = size if name == "k" else size - 1
            if name in values and values[name] > limit:
                del values[name]
                reasons.append(f"{name} ({what} above the {size} points of the data)")
    return reasons


def to_query(values: Mapping[str, Any]) -> dict[str, str]:
    """The URL query of ``values``: only what differs from the defaults, as short text.

    An uploaded data set cannot travel in a link: its data fields are left out, so the link
    opens on the default preset; the settings of an upload (`UPLOAD_FIELDS`) never travel.
    """
    query = {}
    upload = value_of("data", values) == UPLOAD
    for name, field in FIELDS.items():
        if name not in values or values[name] is None:
            continue
        if name in UPLOAD_FIELDS or (
            upload and name in (*DATA_FIELDS, "k", "pt", "jp", "step", "wstep")
        ):
            continue
        if values[name] != default_of(name, values):
            query[name] = field.text(values[name])
    return query


# ---- the settings objects the runs are keyed on --------------------------------------------


@dataclass(frozen=True)
class DataSource:
    """Which data: a preset (name, size, seed) or an upload (file id, chosen columns)."""

    kind: str  # "preset" | "upload"
    name: str
    n_samples: int | None = None
    seed: int = 0
    file_id: str | None = None
    columns: tuple[str, ...] = ()
    standardise: bool = False  # uploads only: each column to mean 0, sd 1

    def label(self) -> str:
        if self.kind == "upload":
            scaled = ", standardised" if self.standardise else ""
            return f"{self.name} — columns {', '.join(self.columns)}{scaled}"
        size = f", {self.n_samples} points, seed {self.seed}" if self.n_samples else ""
        return f"{self.name}{size}"


def preset_source(values: Mapping[str, Any]) -> DataSource:
    """The preset of ``values`` (its size and seed only where the preset is generated)."""
    name = value_of("data", values)
    if name not in PRESETS:
        name = FIELDS["data"].default
    if not PRESETS[name].generated:
        return DataSource("preset", name)
    return DataSource("preset", name, int(value_of("n", values)), int(value_of("seed", values)))


DEFAULT_SOURCE = preset_source({})


@dataclass(frozen=True)
class VariantSettings:
    """The EM variant and its one setting (the others keep their defaults, so that a setting
    the variant does not use does not make a new run)."""

    kind: Variant = Variant.EM
    temperature: float = FIELDS["temp"].default
    sigma: float = FIELDS["ksig"].default
    start_temperature: float = FIELDS["t0"].default
    seed: int = FIELDS["vseed"].default
    prior_strength: float = FIELDS["pstr"].default

    def describe(self) -> str:
        """The variant in a few words, e.g. for a legend."""
        if self.kind is Variant.TEMPERED:
            return (
                "hard EM (T = 0)"
                if self.temperature == 0
                else f"tempered EM (T = {self.temperature:g})"
            )
        if self.kind is Variant.KMEANS:
            return "k-means" if self.sigma == 0 else f"soft k-means (σ = {self.sigma:g} × spread)"
        if self.kind is Variant.STOCHASTIC:
            return f"stochastic EM (seed {self.seed})"
        if self.kind is Variant.ANNEALED:
            return f"annealed EM (T from {self.start_temperature:g})"
        if self.kind is Variant.MAP:
            return f"MAP-EM (prior strength {self.prior_strength:g})"
        return "EM"


def variant_settings_from(values: Mapping[str, Any]) -> VariantSettings:
    kind = value_of("var", values)
    used = {
        Variant.TEMPERED: ("temperature", "temp", float),
        Variant.KMEANS: ("sigma", "ksig", float),
        Variant.STOCHASTIC: ("seed", "vseed", int),
        Variant.ANNEALED: ("start_temperature", "t0", float),
        Variant.MAP: ("prior_strength", "pstr", float),
    }.get(kind)
    if used is None:
        return VariantSettings(kind)
    attribute, name, convert = used
    return VariantSettings(kind, **{attribute: convert(value_of(name, values))})


@dataclass(frozen=True)
class ModelSettings:
    n_components: int = 2
    covariance_type: str = "full"
    init: str = "kmeans++"
    init_seed: int = 0
    reg_covar: float = 0.0
    tol: float = 1e-6
    max_iter: int = 100
    variant: VariantSettings = VariantSettings()

    def plain(self) -> ModelSettings:
        """These settings with plain EM: what the restarts and comparisons run."""
        return dataclasses.replace(self, variant=VariantSettings())


def model_settings_from(values: Mapping[str, Any]) -> ModelSettings:
    return ModelSettings(
        n_components=int(value_of("k", values)),
        covariance_type=value_of("cov", values),
        init=value_of("init", values),
        init_seed=int(value_of("iseed", values)),
        reg_covar=float(value_of("reg", values)),
        tol=float(value_of("tol", values)),
        max_iter=int(value_of("iters", values)),
        variant=variant_settings_from(values),
    )


@dataclass(frozen=True)
class LandscapeSettings:
    """Data for the two-mean surface: n points from w1·N(μ1, v1) + (1−w1)·N(μ2, v2)."""

    n_samples: int = FIELDS["ln"].default
    true_means: tuple[float, float] = (FIELDS["lm1"].default, FIELDS["lm2"].default)
    weight: float = FIELDS["lw"].default
    variances: tuple[float, float] = (FIELDS["lv1"].default, FIELDS["lv2"].default)
    seed: int = FIELDS["lseed"].default

    def model(self) -> TwoMeanMixture:
        """The sample's model: weights and variances known, the two means free."""
        return TwoMeanMixture((self.weight, 1.0 - self.weight), self.variances)

    def describe(self) -> str:
        """One line naming the sample, e.g. for a caption."""
        w, (v1, v2), (m1, m2) = self.weight, self.variances, self.true_means
        return (
            f"{self.n_samples} points from {w:g}·N({m1:g}, {v1:g}) + {1 - w:g}·N({m2:g}, {v2:g}), "
            f"seed {self.seed}"
        )


def landscape_settings_from(values: Mapping[str, Any]) -> LandscapeSettings:
    return LandscapeSettings(
        n_samples=int(value_of("ln", values)),
        true_means=(float(value_of("lm1", values)), float(value_of("lm2", values))),
        weight=float(value_of("lw", values)),
        variances=(float(value_of("lv1", values)), float(value_of("lv2", values))),
        seed=int(value_of("lseed", values)),
    )


@dataclass(frozen=True)
class SymmetricBasinSettings:
    """Data for the two-component basin map: n points from ½N(θ*, I) + ½N(−θ*, I) in 2-D,
    the centres ``separation`` = 2|θ*| apart along `SYMMETRIC_ANGLE`."""

    separation: float = FIELDS["xsep"].default
    n_samples: int = FIELDS["xn"].default
    seed: int = FIELDS["xseed"].default

    def describe(self) -> str:
        return (
            f"{self.n_samples} points from ½N(θ*, I) + ½N(−θ*, I), |θ*| = "
            f"{self.separation / 2:g}, seed {self.seed}"
        )


SYMMETRIC_ANGLE = 0.5
"""The direction of θ* in radians: off the axes, so nothing in the picture leans on them."""


def symmetric_basin_settings_from(values: Mapping[str, Any]) -> SymmetricBasinSettings:
    return SymmetricBasinSettings(
        separation=float(value_of("xsep", values)),
        n_samples=int(value_of("xn", values)),
        seed=int(value_of("xseed", values)),
    )


@dataclass(frozen=True)
class SphericalRestartSettings:
    """Restarts of EM for the means of K equal spherical clusters (σ² = 1 known): in 1-D the
    three clusters at (−R, R, `FAR_FACTOR`·R); in 2-D K clusters on a regular polygon,
    neighbours 2R apart."""

    dimension: int = FIELDS["jdim"].default
    n_components: int = 3
    separation: float = FIELDS["jsep"].default
    n_restarts: int = FIELDS["jr"].default
    seed: int = FIELDS["jseed"].default

    def describe(self) -> str:
        r = f"{self.separation:g}"
        if self.dimension == 1:
            clusters = f"3 clusters at −{r}, {r} and {FAR_FACTOR * self.separation:g}"
        else:
            gap = 2 * self.separation
            clusters = f"{self.n_components} clusters on a polygon, neighbours {gap:g} apart"
        return f"{clusters}, σ = 1, {N_PER_CLUSTER} points each, seed {self.seed}"


def spherical_restart_settings_from(values: Mapping[str, Any]) -> SphericalRestartSettings:
    """The 1-D case always has its three clusters; K is read in 2-D only."""
    dimension = int(value_of("jdim", values))
    return SphericalRestartSettings(
        dimension=dimension,
        n_components=3 if dimension == 1 else int(value_of("jk", values)),
        separation=float(value_of("jsep", values)),
        n_restarts=int(value_of("jr", values)),
        seed=int(value_of("jseed", values)),
    )


@dataclass(frozen=True)
class SelectionSettings:
    """What "Choosing K" fits and shows: restarts per fit, the split's seed (these two decide
    the fits), the criterion and the covariance types drawn."""

    n_restarts: int = FIELDS["sr"].default
    split_seed: int = FIELDS["sseed"].default
    criterion: str = FIELDS["scrit"].default
    covariance_types: tuple[str, ...] = FIELDS["scov"].default


def selection_settings_from(values: Mapping[str, Any]) -> SelectionSettings:
    return SelectionSettings(
        n_restarts=int(value_of("sr", values)),
        split_seed=int(value_of("sseed", values)),
        criterion=value_of("scrit", values),
        covariance_types=tuple(value_of("scov", values)),
    )


def start_from(values: Mapping[str, Any]) -> tuple[float, float]:
    """The two-mean start (μ1, μ2) shared by the landscape and "Why EM works"."""
    return float(value_of("m1", values)), float(value_of("m2", values))


@dataclass(frozen=True)
class BoundRun:
    """Which run the "Why EM works" page shows: a Gaussian mixture on the step page's data
    and settings, or the two-mean mixture on the landscape's sample from ``start``; broken
    (``broken``, with ``factor`` for an overshooting M-step) or not."""

    family: Family
    source: DataSource | None = None
    settings: ModelSettings | None = None
    landscape: LandscapeSettings | None = None
    start: tuple[float, float] = (FIELDS["m1"].default, FIELDS["m2"].default)
    broken: BreakMode = BreakMode.NONE
    factor: float = FIELDS["f"].default


def bound_run_from(values: Mapping[str, Any], source: DataSource) -> BoundRun:
    broken = value_of("brk", values) if value_of("bk", values) else BreakMode.NONE
    factor = float(value_of("f", values)) if broken is BreakMode.OVERSHOOT else FIELDS["f"].default
    if value_of("fam", values) is Family.GAUSSIAN:
        settings = model_settings_from(values)
        return BoundRun(Family.GAUSSIAN, source, settings, broken=broken, factor=factor)
    landscape = landscape_settings_from(values)
    start = start_from(values)
    return BoundRun(
        Family.TWO_MEANS, landscape=landscape, start=start, broken=broken, factor=factor
    )


@dataclass(frozen=True)
class PPCASettings:
    """Probabilistic PCA's run: n points of `emviz.data.ppca_sample` in 2-D or 3-D (one latent
    dimension), W started by ``init`` (seeded by ``seed`` too)."""

    dimension: int = FIELDS["ppdim"].default
    n_samples: int = FIELDS["ppn"].default
    noise: float = FIELDS["ppnoise"].default
    seed: int = FIELDS["ppseed"].default
    init: str = FIELDS["ppinit"].default

    def describe(self) -> str:
        return (
            f"{self.n_samples} points in {self.dimension}-D around a line, noise sd "
            f"{self.noise:g}, seed {self.seed}"
        )


def ppca_settings_from(values: Mapping[str, Any]) -> PPCASettings:
    return PPCASettings(
        dimension=int(value_of("ppdim", values)),
        n_samples=int(value_of("ppn", values)),
        noise=float(value_of("ppnoise", values)),
        seed=int(value_of("ppseed", values)),
        init=str(value_of("ppinit", values)),
    )


@dataclass(frozen=True)
class MissingSettings:
    """What "Missing data" fits: generated rows (mechanism, share missing, size, seed) or the
    uploaded file ``upload`` (its file id), and EM's start."""

    mechanism: str = FIELDS["mimech"].default
    share: float = FIELDS["mishare"].default
    n_samples: int = FIELDS["mipts"].default
    seed: int = FIELDS["miseed"].default
    init: str = FIELDS["miinit"].default
    upload: str | None = None


def missing_settings_from(values: Mapping[str, Any], upload: str | None = None):
    """`MissingSettings` of ``values``; ``upload`` is the file id of the page's kept file (used
    only when the learner chose the uploaded file)."""
    return MissingSettings(
        mechanism=value_of("mimech", values),
        share=float(value_of("mishare", values)),
        n_samples=int(value_of("mipts", values)),
        seed=int(value_of("miseed", values)),
        init=value_of("miinit", values),
        upload=upload if value_of("miup", values) else None,
    )


@dataclass(frozen=True)
class HMMRun:
    """What the hidden Markov model page runs: S states on the seeded regime-switching series
    (``n_samples`` steps, ``seed``) or on an uploaded series (``source``), from the start
    ``init`` (a `GaussianHMM.init_params` method; the seed also seeds a random start)."""

    n_states: int = FIELDS["hk"].default
    n_samples: int = FIELDS["hn"].default
    seed: int = FIELDS["hseed"].default
    init: str = FIELDS["hinit"].default
    source: DataSource | None = None


def hmm_run_from(values: Mapping[str, Any], source: DataSource | None = None) -> HMMRun:
    return HMMRun(
        n_states=int(value_of("hk", values)),
        n_samples=int(value_of("hn", values)),
        seed=int(value_of("hseed", values)),
        init=value_of("hinit", values),
        source=source,
    )
