"""Every setting on every page: no exception, no NaN or ∞ in any text, every section drawn.

The matrix: each page that uses the Gaussian settings (step page, Why EM works) × every
preset × every covariance type × K ∈ {1, 2, 5, 8} × reg_covar ∈ {0, 0.1} × {first, last
step}. One AppTest per (page, preset) is reused: the settings are written to the settings
store (as a link or a widget would) and the page runs again, so a case costs one rerun, not a
fresh session. A run that ends 'singular' (a component collapsed) must still draw every
section. The pages without these settings are opened once each.
"""

from __future__ import annotations

import itertools
import json
import math
import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from emviz.settings import COVARIANCE_TYPES, PRESET_SLUGS
from emviz.ui.state import STORE
from tests.apptest_helpers import ROOT

STEP, WHY = "pages/step-through.py", "pages/why-em-works.py"
N_POINTS = 20  # small: the matrix must stay fast; the generated presets honour it
MAX_ITER = 15  # long enough to collapse or converge, short enough for 640 cases in ~2 minutes
LAST = 10**6  # a step past the end: the cursor clamps it to the last recorded step
CASES = list(
    itertools.product(COVARIANCE_TYPES, (1, 2, 5, 8), (0.0, 0.1), (0, LAST)),
)
# a word "nan"/"inf" (any case) or a ∞ sign: what a non-finite number looks like when printed
NON_FINITE = re.compile(r"\b(nan|inf|infinity)\b|∞", re.IGNORECASE)
# "1 iterations", "1 components": a count of one with a plural noun
ONE_PLURAL = re.compile(r"(?<![\d.,])1 (iterations|steps|components|points|E-steps|M-steps)\b")

# what each page must draw: its section headings and the chart keys of every section
SECTIONS = {
    STEP: (
        (
            "Why does a point get its colour?",
            "The formulas of each half-step",
            "Play the whole run",
        ),
        ("main_chart", "ll_chart", "play_chart"),
    ),
    WHY: (
        (
            "1 · ln p(X | θ) = ELBO + KL, step by step",
            "2 · Bishop's Fig. 9.14, from this run",
            "3 · Q and the entropy of q",
            "4 · Why the log? Jensen's inequality for one point",
            "5 · Monotonicity audit",
        ),
        ("decomposition_chart", "slice_chart", "q_entropy_chart", "jensen_chart", "audit_chart"),
    ),
}
ENDS, FAILURE = "pages/where-em-ends-up.py", "pages/failure-lab.py"
RESTARTS = 10  # the fewest "Where EM ends up" allows: the matrix stays fast
# the charts of the sidebar's mixture on these pages, and the sentence that may replace them
# (a chart missing is excused by a box that says why: "Cannot start EM" excuses them all)
CHARTS = {
    ENDS: {
        "restarts": {  # by tab (the page draws only the open one), then chart
            "restart_hist": None,
            "restart_groups": "Every restart failed",
            "restart_best_worst": "Every restart failed",
        }
    },
    FAILURE: {  # its first tab, the collapse, does not take the sidebar's mixture
        "slow": {"fl_separation": None, "fl_log_error": "This run has no limit to converge to"},
        "early": {"fl_early_stop": None},
        "wrongk": {"fl_wrong_k": "K = "},
    },
}
TAB_SETTING = {ENDS: "etab", FAILURE: "ftab"}
# a chart that may give way to a sentence saying why it cannot apply: (chart key, sentence)
EXCUSED = {"slice_chart": "no completed iteration"}


def _chart_specs(at: AppTest) -> dict[str, dict]:
    """Every live chart's Plotly figure by key (not the plotly.js preloader)."""
    specs = {}
    for element in at.get("bidi_component"):
        args = json.loads(element.proto.json)
        if "spec" in args:
            specs[element.proto.id.rsplit("-", 1)[-1]] = json.loads(args["spec"])
    return specs


def _title(value) -> str:
    return value.get("text", "") if isinstance(value, dict) else str(value or "")


def _chart_texts(figure: dict) -> list[str]:
    """What a figure writes: its title, axis titles, annotations and legend entries."""
    layout = figure.get("layout", {})
    texts = [_title(layout.get("title"))]
    texts += [
        _title(v.get("title")) for k, v in layout.items() if "axis" in k and isinstance(v, dict)
    ]
    texts += [str(a.get("text", "")) for a in layout.get("annotations", [])]
    texts += [str(trace.get("name", "")) for trace in figure.get("data", [])]
    return texts


def _frame_cells(frame: pd.DataFrame) -> list[str]:
    """A table's cells as text; a missing or non-finite number becomes 'nan'/'inf'."""
    cells = []
    for value in frame.to_numpy().ravel():
        if isinstance(value, float | int) and not math.isfinite(value):
            cells.append("nan")
        else:
            cells.append(str(value))
    return cells


def shown_texts(at: AppTest) -> list[str]:
    """Every text the page shows a learner: prose, formulas, boxes, tables, chart words."""
    texts = []
    for kind in ("markdown", "latex", "caption", "info", "warning", "error", "success"):
        texts += [element.value for element in getattr(at, kind)]
    texts += [h.value for kind in ("title", "header", "subheader") for h in getattr(at, kind)]
    for table in (*at.table, *at.dataframe):
        texts += _frame_cells(table.value)
    for figure in _chart_specs(at).values():
        texts += _chart_texts(figure)
    return texts


def _problems(at: AppTest, page: str) -> list[str]:
    """What is wrong with the shown page: an exception, a non-finite number, a lost section."""
    if at.exception:
        return [f"exception: {at.exception[0].message}"]
    texts = shown_texts(at)
    problems = [f"shows {text[:160]!r}" for text in texts if NON_FINITE.search(text)]
    problems += [f"plural: {text[:160]!r}" for text in texts if ONE_PLURAL.search(text)]
    if page in SECTIONS and _is_singular(at):
        headings, charts = SECTIONS[page]
        shown = {h.value for kind in ("header", "subheader") for h in getattr(at, kind)}
        problems += [f"section {h!r} missing" for h in headings if h not in shown]
        keys = set(_chart_specs(at))
        infos = " ".join(i.value for i in at.info)
        problems += [
            f"chart {key!r} missing"
            for key in charts
            if key not in keys and not (key in EXCUSED and EXCUSED[key] in infos)
        ]
    return problems


def _lost_charts(at: AppTest, page: str, tab: str) -> list[str]:
    """The charts of `CHARTS[page][tab]` missing with no box saying why."""
    boxes = [box.value for kind in ("info", "warning", "error") for box in getattr(at, kind)]
    shown = _chart_specs(at)

    def excused(reason: str | None) -> bool:
        reasons = ("Cannot start EM", reason) if reason else ("Cannot start EM",)
        return any(r in box for box in boxes for r in reasons)

    return [
        f"chart {key!r} missing, no sentence"
        for key, reason in CHARTS[page][tab].items()
        if key not in shown and not excused(reason)
    ]


def _is_singular(at: AppTest) -> bool:
    """The shown run stopped because a component collapsed (said at its last step)."""
    return any("collapsed" in w.value for w in at.warning)


def _session(page: str, preset: str, restarts: int | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    # the audit's details open: its chart and table are drawn only then
    at.query_params.update({"data": preset, "n": str(N_POINTS), "iters": str(MAX_ITER), "aud": "1"})
    if restarts is not None:
        at.query_params["rr"] = str(restarts)
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    assert not any("The link asked" in w.value for w in at.sidebar.warning)  # all taken
    return at


def _shown_step(at: AppTest) -> tuple[int, int]:
    """(shown step, last step) from the status line "**Step 3 of 12** · …"."""
    status = next(m.value for m in at.markdown if m.value.startswith("**Step "))
    found = re.match(r"\*\*Step (\d+) of (\d+)\*\*", status)
    return int(found[1]), int(found[2])


def _show(at: AppTest, cov: str, k: int, reg: float, step: int, **more) -> None:
    """Run the page with these settings (and ``more``, e.g. the open tab)."""
    settings = dict(at.session_state[STORE])
    settings.update(cov=cov, k=k, reg=reg, step=step, **more)
    at.session_state[STORE] = settings
    at.run()


@pytest.mark.parametrize("preset", list(PRESET_SLUGS))
@pytest.mark.parametrize("page", [STEP, WHY])
def test_every_gaussian_setting_draws_every_section(page, preset):
    at = _session(page, preset)
    failures = []
    for cov, k, reg, step in CASES:
        _show(at, cov, k, reg, step)
        failures += [f"{cov}, K={k}, reg={reg}, step={step}: {p}" for p in _problems(at, page)]
        if not at.exception:  # the cursor went where asked: the first or the last step
            shown, last = _shown_step(at)
            assert shown == (last if step == LAST else 0), (cov, k, reg, step)
        if page == STEP:  # the caption names what this dimension's view draws
            ellipses = any("ellipses" in c.value for c in at.caption)
            if ellipses == (preset == "1d"):
                failures.append(
                    f"{cov}, K={k}: caption {'names' if ellipses else 'lacks'} ellipses"
                )
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("page", [STEP, WHY])
def test_the_reported_collapse_draws_every_section(page):
    """Why EM works → K = 5, spherical → run to convergence (blobs, 500 points): component 3
    collapses in the M-step of iteration 4. Every section still draws at its last step."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(page)
    at.run()
    _show(at, "spherical", 5, 0.0, 0, aud=True)  # the audit's chart open too
    at.button(key="step_converge").click().run()
    assert _is_singular(at) and "collapsed" in at.warning[-1].value
    assert not _problems(at, page), _problems(at, page)
    if page == WHY:  # Bishop 9.14 shows the last completed iteration, and says so
        assert any("the last completed one" in c.value for c in at.caption)


@pytest.mark.parametrize("preset", list(PRESET_SLUGS))
@pytest.mark.parametrize("page", [ENDS, FAILURE])
def test_every_mixture_setting_on_the_pages_that_take_the_sidebars_mixture(page, preset):
    """Where EM ends up and the failure lab run the sidebar's mixture (no step to show):
    every covariance type × K × reg_covar, each tab with every chart or a sentence in its
    place."""
    at = _session(page, preset, restarts=RESTARTS)
    failures = []
    cases = itertools.product(COVARIANCE_TYPES, (1, 2, 5, 8), (0.0, 0.1), CHARTS[page])
    for cov, k, reg, tab in cases:
        _show(at, cov, k, reg, 0, **{TAB_SETTING[page]: tab})
        case = f"{cov}, K={k}, reg={reg}, tab {tab}"
        failures += [f"{case}: {p}" for p in _problems(at, page)]
        failures += [f"{case}: {p}" for p in _lost_charts(at, page, tab)]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "page",
    [
        "pages/home.py",
        "pages/landscape.py",
        "pages/em-vs-gradient.py",
        "pages/choosing-k.py",
        "pages/genetic-linkage.py",
        "pages/ppca.py",
        "pages/missing-data.py",
        "pages/hidden-markov.py",
    ],
)
def test_the_other_pages_show_only_finite_numbers(page):
    at = _session(page, "blobs")
    assert not _problems(at, page), _problems(at, page)
