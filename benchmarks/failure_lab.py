"""How fast the "Failure lab" page answers each of its controls (target: <= 1 s each).

Streamlit's AppTest runs the app's script as a server would on every widget change: for each
control of the page, every value it offers is chosen in turn (left to right, from the page
as it is after the previous control), and the rerun that change starts is timed. A value
chosen for the first time computes what it needs (the collapse run, the remedies, the fits):
these are the cold figures a learner meets. The sidebar's K (which drives sections 2–4:
the rate study, the tight run and three fits per K) is timed too. Prints, per control, the
median and the largest time, and whether the largest is within the target.

--browser adds the browser's view: the time from a key press on each control to its chart
drawn anew (headless Chromium, the browser tests' harness), over each control's values.

Run:  python benchmarks/failure_lab.py [--browser]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# imported before anything is timed: the timings measure the page, not module loading
from streamlit.testing.v1 import AppTest  # noqa: E402

from emviz.settings import (  # noqa: E402
    ISOLATED_POSITIONS,
    LOOSE_TOL_CHOICES,
    MAX_COMPONENTS,
    MERGE_SEPARATIONS,
    REMEDY_REG_CHOICES,
)

PAGE = "pages/failure-lab.py"
TARGET_S = 1.0
# (what the learner moves, widget kind, key, the values it is moved through)
CONTROLS = (
    ("isolated point", "select_slider", "flx", ISOLATED_POSITIONS[1:] + ISOLATED_POSITIONS[:1]),
    ("iteration shown", "slider", "flit", (0, 4, 8, 12, 16)),
    ("remedy's reg_covar", "select_slider", "flreg", REMEDY_REG_CHOICES),
    ("distance of the centres", "select_slider", "flsep", MERGE_SEPARATIONS),
    ("loose tolerance", "select_slider", "fltol", LOOSE_TOL_CHOICES[1:]),
    ("sidebar: components K", "slider", "k", tuple(range(1, MAX_COMPONENTS + 1))),
)


def app_test_timings() -> dict[str, list[float]]:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page(PAGE)
    started = time.perf_counter()
    at.run()
    print(f"first run of the page (every section computed): {time.perf_counter() - started:.2f} s")
    assert not at.exception, at.exception
    timings = {}
    for name, kind, key, values in CONTROLS:
        timings[name] = []
        for value in values:
            widget = getattr(at, kind)(key=key).set_value(value)
            started = time.perf_counter()
            widget.run()
            timings[name].append(time.perf_counter() - started)
            assert not at.exception, (key, value, at.exception)
    return timings


def browser_timings() -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    import tests.browser.harness as h
    from tests.browser.test_failure_lab import press_and_time

    moves = (  # (name, control, key, chart, presses)
        ("iteration shown", "flit", "ArrowLeft", "fl_collapse_fit", 4),  # x = 8: 16 of them
        ("isolated point", "flx", "ArrowRight", "fl_collapse_trace", 4),
        ("remedy's reg_covar", "flreg", "ArrowRight", "fl_remedies", 2),
        ("distance of the centres", "flsep", "ArrowRight", "fl_separation", 4),
        ("loose tolerance", "fltol", "ArrowRight", "fl_early_stop", 3),
    )
    timings = {}
    with h.streamlit_server() as base, sync_playwright() as playwright:
        browser = h.launch_browser(playwright)
        h.warm_up(browser, base)
        page = h.new_page(browser, timeout_ms=60_000)
        h.goto(page, f"{base}/failure-lab", 120_000)
        h.wait_for_plotly(page, ".st-key-fl_wrong_k", timeout=120_000)
        for name, control, key, chart, presses in moves:
            timings[name] = [press_and_time(page, control, key, chart) for _ in range(presses)]
        browser.close()
    return timings


def report(title: str, timings: dict[str, list[float]]) -> bool:
    print(f"\n{title}")
    print(f"{'control':26s} {'changes':>7s} {'median s':>9s} {'max s':>7s}  within {TARGET_S:g} s")
    fine = True
    for name, seconds in timings.items():
        largest = max(seconds)
        fine &= largest <= TARGET_S
        print(
            f"{name:26s} {len(seconds):7d} {statistics.median(seconds):9.3f} {largest:7.3f}  "
            f"{'yes' if largest <= TARGET_S else 'NO'}"
        )
    return fine


def main() -> int:
    fine = report("AppTest: script run per control change", app_test_timings())
    if "--browser" in sys.argv:
        fine &= report("Browser: key press to the chart drawn anew", browser_timings())
    return 0 if fine else 1


if __name__ == "__main__":
    sys.exit(main())
