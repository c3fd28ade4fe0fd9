"""Settings and links (emviz.settings): defaults, validation of URL text, round trips."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emviz.data import PRESETS
from emviz.settings import (
    FIELDS,
    PRESET_SLUGS,
    UPLOAD,
    BoundRun,
    BreakMode,
    Family,
    ModelSettings,
    bound_run_from,
    default_of,
    landscape_settings_from,
    model_settings_from,
    parse_query,
    preset_source,
    start_from,
    to_query,
    value_of,
)


def test_defaults_build_the_default_views():
    assert model_settings_from({}) == ModelSettings(n_components=3)  # the blobs' three
    assert preset_source({}).n_samples == 500
    assert landscape_settings_from({}).n_samples == 92
    run = bound_run_from({}, preset_source({}))
    assert run == BoundRun(Family.GAUSSIAN, preset_source({}), ModelSettings(n_components=3))
    assert to_query({}) == {}


def test_k_follows_the_data_set_unless_chosen():
    for slug in ("faithful", "1d"):
        name = PRESET_SLUGS[slug]
        values, ignored = parse_query({"data": slug})
        assert not ignored and value_of("k", values) == PRESETS[name].n_components
        assert to_query(values) == {"data": slug}  # K is its default: not in the link
    values, _ = parse_query({"data": "faithful", "k": "3"})
    assert to_query(values) == {"data": "faithful", "k": "3"}


def test_a_link_carries_only_what_differs_from_the_defaults():
    values = {
        "k": 5,
        "cov": "diag",
        "tol": 1e-8,
        "m1": 0.1 + 0.2,
        "fam": Family.TWO_MEANS,
        "bk": True,
        "brk": BreakMode.FORGET_WEIGHTS,
        "n": 500,
        "step": 7,
        "v3d": False,
    }
    query = to_query(values)
    assert query == {
        "k": "5",
        "cov": "diag",
        "tol": "1e-08",
        "step": "7",
        "fam": "two",
        "bk": "1",
        "brk": "weights",
        "m1": "0.30000000000000004",
    }
    back, ignored = parse_query(query)
    assert not ignored
    assert {name: value_of(name, back) for name in values} == values  # floats exactly


def test_an_upload_does_not_travel_in_a_link():
    query = to_query({"data": UPLOAD, "k": 4, "cols": ("a", "b"), "step": 3, "cov": "tied"})
    assert query == {"cov": "tied"}


def test_broken_runs_read_their_factor_only_when_overshooting():
    source = preset_source({})
    assert bound_run_from({"bk": True, "f": 1.5}, source).factor == 1.5
    forget = bound_run_from({"bk": True, "brk": BreakMode.FORGET_WEIGHTS, "f": 1.5}, source)
    assert forget.broken is BreakMode.FORGET_WEIGHTS and forget.factor == FIELDS["f"].default
    assert bound_run_from({"bk": False, "f": 1.5}, source).broken is BreakMode.NONE
    two = bound_run_from({"fam": Family.TWO_MEANS, "m1": 1.0}, source)
    assert two.start == (1.0, FIELDS["m2"].default) and two.landscape.n_samples == 92


HOSTILE = {
    "k=0": "k",
    "k=-3": "k",
    "k=99": "k",
    "k=abc": "k",
    "k=3.5": "k",
    "n=1000000000": "n",
    "n=25": "n",  # not on the slider's steps of 10
    "n=NaN": "n",
    "seed=-1": "seed",
    "tol=0.5": "tol",
    "reg=nan": "reg",
    "m1=inf": "m1",
    "m1=1e308": "m1",
    "lr=7": "lr",
    "data=secret": "data",
    "data=upload": "data",
    "cov=FULL": "cov",
    "fam=gmm%00": "fam",
    "iters=1e9": "iters",
    "bk=yes": "bk",
    "f=9": "f",
}


@pytest.mark.parametrize("query", list(HOSTILE))
def test_hostile_values_are_ignored_and_named(query):
    name, text = query.split("=", 1)
    values, ignored = parse_query({name: [text.replace("%00", "\x00")]})
    assert values == {}
    assert len(ignored) == 1 and ignored[0].startswith(HOSTILE[query] + " (")


def test_unknown_repeated_and_overlong_names():
    values, ignored = parse_query(
        {"foo": ["bar"], "k": ["3", "5"], "seed": ["9" * 5000], "[x](javascript:1)": ["1"]}
    )
    assert values == {}
    assert ignored[0] == "“foo” (not a setting of this app)"
    assert ignored[1] == "k (given 2 times)"
    assert ignored[2] == "seed (value too long)"
    assert "(" not in ignored[3].split("”")[0] and "javascript" in ignored[3]  # no markup
    values, ignored = parse_query({"k": ["4", "4"]})  # the same twice is no conflict
    assert values == {"k": 4} and not ignored


def test_points_beyond_the_data_are_ignored():
    values, ignored = parse_query({"n": "100", "pt": "150", "jp": "99"})
    assert values == {"n": 100, "jp": 99}
    assert ignored == ["pt (point number above the 100 points of the data)"]
    values, ignored = parse_query({"data": "faithful", "pt": "271"})
    assert values["pt"] == 271 and not ignored


def test_every_default_is_valid_and_reads_back():
    for name, field in FIELDS.items():
        default = default_of(name, {})
        if default is None:
            continue
        assert field.parse(field.text(default)) == default, name


@given(
    k=st.integers(1, 8),
    n=st.integers(2, 500).map(lambda i: 10 * i),
    m1=st.floats(-50, 50, allow_nan=False),
    lw=st.floats(0.05, 0.95),
    step=st.integers(0, 10**6),
)
def test_round_trip_of_any_valid_view(k, n, m1, lw, step):
    values = {"k": k, "n": n, "m1": m1, "lw": lw, "step": step}
    back, ignored = parse_query(to_query(values))
    assert not ignored
    for name, value in values.items():
        assert value_of(name, back) == value or math.isclose(value_of(name, back), value)
    assert start_from(back)[0] == m1
