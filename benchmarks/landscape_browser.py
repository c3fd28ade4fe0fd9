"""Browser latency of a new start on the "Likelihood landscape" page.

Clicks the contour map at 15 places (each a new start: EM, gradient ascent and Newton are run
and drawn) and reports the median time from the click until the chart has re-drawn with the
new paths. Target: <= 400 ms. Uses the browser-test harness (Debian's Chromium, Playwright).

Run:  python benchmarks/landscape_browser.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import tests.browser.harness as h  # noqa: E402

TARGET_MS = 400.0
_RENDERS = (
    "() => Number(document.querySelector('.st-key-land_chart .emviz-live-chart')"
    "?.dataset.renders || 0)"
)


def main() -> int:
    from playwright.sync_api import sync_playwright

    if h.chromium_path() is None:
        print("Chromium not found: apt-get install chromium")
        return 2
    with h.streamlit_server() as base, sync_playwright() as playwright:
        browser = h.launch_browser(playwright)
        h.warm_up(browser, base)
        page = h.new_page(browser, timeout_ms=60_000)
        start = time.perf_counter()
        h.goto(page, f"{base}/landscape")
        frame = page  # the live chart is drawn in the page itself, not in an iframe
        frame.wait_for_function(f"() => {_RENDERS[6:]} > 0", timeout=60_000)
        print(f"page ready: {(time.perf_counter() - start) * 1e3:.0f} ms")
        area = frame.locator(".nsewdrag").first.bounding_box()
        timings = []
        for i in range(15):
            fx, fy = 0.15 + 0.7 * ((i * 0.37) % 1), 0.15 + 0.7 * ((i * 0.61) % 1)
            x, y = area["x"] + fx * area["width"], area["y"] + fy * area["height"]
            page.mouse.move(x, y)
            page.wait_for_timeout(150)
            before = frame.evaluate(_RENDERS)
            clicked = time.perf_counter()
            page.mouse.click(x, y)
            frame.wait_for_function(f"(n) => {_RENDERS[6:]} > n", arg=before, timeout=20_000)
            timings.append((time.perf_counter() - clicked) * 1e3)
            h.wait_for_script_done(page)
        median = statistics.median(timings)
        print("new start, click -> three paths drawn (ms):", " ".join(f"{t:.0f}" for t in timings))
        verdict = "ok" if median <= TARGET_MS else "MISSED"
        print(f"median {median:.0f} ms   (target <= {TARGET_MS:.0f} ms)   {verdict}")
        browser.close()
    return 0 if median <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
