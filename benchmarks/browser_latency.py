"""Latency of the "Step through EM" page in headless Chromium, against `streamlit run app.py`.

Opens <server>/step-through?data=blobs&n=1000&seed=0 (1 000 points; the page reads `data`,
`n`, `seed` from the query string) in a fresh browser session after one warm-up visit, and
measures:

  (a) page ready: navigation start until the script is not running and the main chart is drawn,
      in a new session once the page has been visited (and cached) once; the first, cold visit
      is shown as well;
  (b) "Full iteration": median over 15 clicks of click -> the main chart shows the new step
      (its data-step changed and Plotly redrew it); also, per click, until the server's rerun
      shows that step in the status line too, and a check that both agree ("Reset" is
      pressed, untimed, when the end is reached);
  (c) "▶▶ Fast" (Play at its shortest frame duration): frames per second of the in-browser
      animation (slider index sampled every animation frame for 3 s, or until the last
      frame) and the websocket messages the browser sent to the server meanwhile (0 = no
      server rerun per frame).

Targets: Full iteration median <= 250 ms; Play >= 10 frames/s with 0 reruns. Exits with 1 if a
target is missed, 2 if the page could not be measured.

Run:  python benchmarks/browser_latency.py [--n 1000] [--clicks 15] [--query "data=...&..."]
Needs Debian's Chromium (/usr/bin/chromium) and Playwright (requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
try:  # `tests` is a namespace package (no __init__.py) when the repository root is on sys.path
    import tests.browser.harness as h
except ImportError:  # another installed top-level `tests` package shadows it
    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    import harness as h

STEP_PATH = "step-through"
FULL_ITERATION_TARGET_MS = 250.0
PLAY_FPS_TARGET = 10.0

# (b): the main chart shows a step other than `before` and was redrawn since marked.
_CHART_STEP_JS = """
([before, chart]) => {
  const s = window.__emviz, shown = s.chartStep(chart);
  if (shown === null || shown === before || !s.chartRerendered(chart)) return false;
  return {step: shown, clickAt: s.clickAt, drawnAt: performance.now()};
}
"""

# (b'): the status line (drawn by the server's rerun) shows `step` too.
_STATUS_STEP_JS = """
(step) => {
  const r = window.__emviz.step();
  return r && r[0] === step ? performance.now() : false;
}
"""

# (a): navigation start (performance.now() == 0) until a finished run with the chart drawn.
_READY_JS = """
([chart, busy]) => {
  const s = window.__emviz;
  const app = document.querySelector('[data-testid="stApp"]');
  if (!s || !app || s.finished < 1) return false;
  if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (!s.chartRendered(chart) || !s.step() || document.querySelector(busy)) return false;
  return performance.now();
}
"""

# (c): sample the Play slider's active index every animation frame.
_PLAY_SAMPLER_JS = """
([scope, seconds]) => {
  const gd = document.querySelector(scope + ' .js-plotly-plot');
  const active = () => gd._fullLayout.sliders[0].active;
  const last = gd._fullLayout.sliders[0].steps.length - 1;
  const p = window.__emvizPlay = {start: active(), last, changes: [], done: false,
                                  t0: performance.now()};
  let prev = p.start;
  const tick = () => {
    const now = performance.now(), a = active();
    if (a !== prev) { p.changes.push([now, a]); prev = a; }
    if (a === last || now - (window.__emviz.clickAt || p.t0) > seconds * 1000) {
      p.done = true; p.end = now; return;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  return {start: p.start, last};
}
"""


def chart_points(page) -> int | None:
    """Points in the main chart's first trace (the data), to check that n= was applied."""
    return page.evaluate(
        """(scope) => {
             const gd = window.__emviz.graph(scope);
             const t = gd && gd._fullData && gd._fullData[0];
             return t ? (t._length ?? (t.x ? t.x.length : null)) : null;
           }""",
        h.MAIN_CHART,
    )


def open_step_page(browser, url: str):
    page = h.new_page(browser, timeout_ms=60_000)
    sent = h.WebSocketSent(page)
    start = time.perf_counter()
    page.goto(url, wait_until="commit")
    ready_ms = page.wait_for_function(
        _READY_JS, arg=[h.MAIN_CHART, h.BUSY], timeout=60_000
    ).json_value()
    wall_ms = (time.perf_counter() - start) * 1e3
    h.wait_for_script_done(page)
    h.assert_no_exception(page)
    dialog = h.page_not_found(page)
    if dialog:
        raise RuntimeError(f"{url}: {dialog}")
    return page, sent, ready_ms, wall_ms


def run_phases(page, click_at: float) -> tuple[float | None, float | None]:
    """(click -> script running, script running -> not running) in ms, from the state log."""
    log = page.evaluate("() => window.__emviz.log")
    started = next((t for t, state in log if t >= click_at and state == "running"), None)
    if started is None:
        return None, None
    done = next((t for t, state in log if t > started and state == "notRunning"), None)
    return started - click_at, None if done is None else done - started


def time_full_iterations(page, clicks: int):
    """Per click: wall ms to the chart's new step, in-browser ms to it, in-browser ms until
    the server's rerun shows the same step in the status line; the path; the run phases."""
    wall, browser_side, whole_page, path, phases = [], [], [], [], []
    full, reset = h.step_button(page, "Full iteration"), h.step_button(page, "Reset")
    while len(wall) < clicks:
        if full.is_disabled():
            if reset.is_disabled():
                raise RuntimeError("both 'Full iteration' and 'Reset' are disabled")
            h.click_and_wait(page, reset)
            h.wait_for_step(page, 0)
            path.append("Reset")
            continue
        before = h.read_step(page)[0]
        h.mark_chart(page, h.MAIN_CHART)
        runs = h.script_runs(page)
        start = time.perf_counter()
        full.click()
        result = page.wait_for_function(
            _CHART_STEP_JS, arg=[before, h.MAIN_CHART], timeout=30_000, polling="raf"
        ).json_value()
        wall.append((time.perf_counter() - start) * 1e3)
        browser_side.append(result["drawnAt"] - result["clickAt"])
        status_at = page.wait_for_function(
            _STATUS_STEP_JS, arg=result["step"], timeout=30_000, polling="raf"
        ).json_value()
        whole_page.append(status_at - result["clickAt"])
        path.append(f"{before}->{result['step']}")
        h.wait_for_script_done(page, after=runs)  # untimed: let the rerun finish
        h.assert_no_exception(page)
        if page.evaluate("(c) => window.__emviz.chartStep(c)", h.MAIN_CHART) != result["step"]:
            raise RuntimeError(f"the chart drew step {result['step']}, the server another one")
        phases.append(run_phases(page, result["clickAt"]))
    return wall, browser_side, whole_page, path, phases


def measure_play(page, sent, seconds: float = 3.0) -> dict:
    reset = h.step_button(page, "Reset")
    if reset.is_enabled():  # not needed for the animation, but leaves the page quiet
        h.click_and_wait(page, reset)
    h.wait_for_plotly(page, h.PLAY_ANIMATION)
    button = h.play_button(page, label="Fast")  # the frame rate the browser can reach
    if button.count() != 1:
        raise RuntimeError(f"no updatemenu button with 'Fast' in {h.PLAY_ANIMATION}")
    button.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    info = page.evaluate(_PLAY_SAMPLER_JS, [h.PLAY_ANIMATION, seconds])
    sent.reset()
    button.click()
    page.wait_for_function("() => window.__emvizPlay.done", timeout=(seconds + 10) * 1000)
    page.wait_for_timeout(300)  # let a late rerun request, if any, show up
    p = page.evaluate(
        "() => { const p = window.__emvizPlay; return {...p, clickAt: window.__emviz.clickAt}; }"
    )
    frames = sent.count
    changes = p["changes"]
    advanced = (changes[-1][1] - p["start"]) if changes else 0
    ended = bool(changes) and changes[-1][1] == p["last"]
    duration_ms = (changes[-1][0] if ended else p["end"]) - p["clickAt"]
    first_ms = (changes[0][0] - p["clickAt"]) if changes else None
    steady = None  # frames/s between the first and the last frame change, startup excluded
    if len(changes) >= 3:
        steady = (changes[-1][1] - changes[0][1]) / ((changes[-1][0] - changes[0][0]) / 1e3)
    return {
        "start": info["start"],
        "last": info["last"],
        "advanced": advanced,
        "ended": ended,
        "seconds": duration_ms / 1e3,
        "fps": advanced / (duration_ms / 1e3) if duration_ms > 0 else 0.0,
        "steady_fps": steady,
        "first_frame_ms": first_ms,
        "ws_frames": frames,
        "ws_sizes": sent.frames[:10],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="number of points (default 1000)")
    parser.add_argument("--clicks", type=int, default=15, help="timed Full-iteration clicks")
    parser.add_argument("--query", default=None, help="query string instead of the blobs preset")
    parser.add_argument("--play-seconds", type=float, default=3.0)
    args = parser.parse_args()

    if h.chromium_path() is None:
        print("Chromium not found: apt-get install chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    query = args.query or f"data=blobs&n={args.n}&seed=0"
    with h.streamlit_server("app.py") as base, sync_playwright() as pw:
        browser = h.launch_browser(pw)
        try:
            h.warm_up(browser, base)
            url = f"{base}/{STEP_PATH}?{query}"
            # First visit: imports the page's modules and runs EM (then cached by the server).
            first, _, cold_ms, _ = open_step_page(browser, url)
            first.context.close()
            page, sent, ready_ms, ready_wall_ms = open_step_page(browser, url)  # a new session
            points = chart_points(page)
            step, n = h.read_step(page)
            note = ""
            if args.query is None and points is not None and points != args.n:
                note = f"  (query not applied? the chart shows {points} points: default page)"
            print(f"page: {url}")
            print(f"run: {n} recorded half-steps; main chart data trace: {points} points{note}")

            wall, browser_side, whole_page, path, phases = time_full_iterations(page, args.clicks)
            play = measure_play(page, sent, args.play_seconds)
        finally:
            browser.close()

    med, med_browser = statistics.median(wall), statistics.median(browser_side)
    to_server = [a for a, _ in phases if a is not None]
    script = [b for _, b in phases if b is not None]
    print(f"Full iteration clicks (step before->after): {' '.join(path)}")
    print(
        f"Full iteration ms (click -> chart shows the new step): "
        f"{' '.join(f'{x:.0f}' for x in wall)}"
    )
    first = "?" if play["first_frame_ms"] is None else f"{play['first_frame_ms']:.0f}"
    print(
        f"Play: slider {play['start']} -> {play['start'] + play['advanced']} of {play['last']} "
        f"in {play['seconds']:.2f} s{' (reached the end)' if play['ended'] else ''}; first frame "
        f"{first} ms after the click; websocket messages sent: {play['ws_frames']} "
        f"{play['ws_sizes'] or ''}"
    )
    rows = [
        ("page ready (navigation start -> chart drawn)", f"{ready_ms:.0f} ms", "-", None),
        ("  same, wall clock from page.goto", f"{ready_wall_ms:.0f} ms", "-", None),
        ("  first visit of the page (cold: imports, EM run)", f"{cold_ms:.0f} ms", "-", None),
        (
            f"Full iteration, median of {len(wall)} (wall clock)",
            f"{med:.0f} ms",
            f"<= {FULL_ITERATION_TARGET_MS:.0f} ms",
            med <= FULL_ITERATION_TARGET_MS,
        ),
        ("  same, in-browser (pointerdown -> drawn)", f"{med_browser:.0f} ms", "-", None),
        (
            "  whole page: status line shows it too (in-browser)",
            f"{statistics.median(whole_page):.0f} ms",
            "-",
            None,
        ),
        ("  min / max (wall clock)", f"{min(wall):.0f} / {max(wall):.0f} ms", "-", None),
        (
            "  of which click -> script running (median)",
            f"{statistics.median(to_server):.0f} ms" if to_server else "?",
            "-",
            None,
        ),
        (
            "  of which script running (median)",
            f"{statistics.median(script):.0f} ms" if script else "?",
            "-",
            None,
        ),
        (
            "Play frame rate (from the click)",
            f"{play['fps']:.1f} frames/s",
            f">= {PLAY_FPS_TARGET:.0f} frames/s",
            play["fps"] >= PLAY_FPS_TARGET,
        ),
        (
            "  steady (first -> last frame change)",
            "?" if play["steady_fps"] is None else f"{play['steady_fps']:.1f} frames/s",
            "-",
            None,
        ),
        (
            "Play: messages to the server (reruns)",
            str(play["ws_frames"]),
            "0",
            play["ws_frames"] == 0,
        ),
    ]
    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'measure':<{width}}  {'value':>14}  {'target':>16}  result")
    for name, value, target, ok in rows:
        verdict = "" if ok is None else ("ok" if ok else "MISSED")
        print(f"{name:<{width}}  {value:>14}  {target:>16}  {verdict}")
    return 0 if all(ok is not False for *_, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
