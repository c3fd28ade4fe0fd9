"""Ready time of every emviz page, cold and warm, and the latency of each page's main interaction.

Runs `streamlit run app.py` and headless Debian Chromium (Playwright) and, for every page:

  first visit  the page's very first visit after the server started (server cold: imports and
               cached computations run now), in a fresh browser profile. The pages are visited
               in the order below, the landing page first (a first session that deep-links to
               another page gets Streamlit's spurious "Page not found" dialog), so later pages
               find the modules the earlier ones imported already loaded.
  cold ready   server warm (the page was visited once, its st.cache_* filled), browser cold: a
               new Chromium process on an empty persistent profile (empty HTTP and code caches).
               Median of --repeats visits, each in its own new profile.
  warm ready   the same profile launched again after the cold visit (a new Chromium process,
               HTTP cache kept, a new Streamlit session). Median of --repeats relaunches.
  interaction  the median latency of the page's main interaction over --reps repetitions, in
               the session of the last warm visit:
                 home            click the "Step through EM" page link -> that page is ready
                                 (the landing page reloaded before each click; the browser
                                 has shown the step page before, so its renderer may reuse
                                 compiled scripts: a best case)
                 step-through    "Full iteration" -> the main chart (.st-key-main-chart) shows
                                 the new step ("Reset", untimed, when the run's end is reached)
                 why-em-works, genetic-linkage, hidden-markov, missing-data, ppca
                                 "Full iteration" -> rerun finished and the charts redrawn
                                 ("Reset", untimed, at the run's end)
                 landscape       click inside the contour map (its .nsewdrag) -> the map
                                 re-rendered with the new paths
                 em-vs-gradient, where-em-ends-up, failure-lab, choosing-k
                                 ArrowRight/ArrowLeft on the thumb of the page's first slider
                                 (the one named in the table: .st-key-<setting>) -> rerun
                                 finished and the charts redrawn
               The pages are those of pages/: the script refuses to run (exit 2) while PAGES
               misses one of them or names one that is not there.
  tab clicks   on the pages drawn as tabs (where-em-ends-up, failure-lab: only the open tab's
               section runs and draws), in the same session after the main interaction:
               clicking each other tab (from the first, to which an untimed click returns
               before the next) -> the "ready" rule below, counted from just before the
               click. One untimed pass first (its times shown as "first click": that tab's
               computations were never run on this server before); then the median of --reps
               passes per tab, printed in a table of its own after the main one. A tab
               shows other charts than the one before: that change also counts as its run
               (a quick rerun's "running" state may never reach the DOM, and was once missed).

"Ready" (measured in the page, from navigation start = performance.now() 0):
  * the Streamlit script finished a run (stApp data-test-script-state "notRunning" after
    "running"), the app is connected and nothing shows a spinner or skeleton (a lazy-loaded
    element and a component iframe that has not said "componentReady" show a skeleton), and
  * every chart has drawn. The charts expected are the chart containers on the page:
    [data-testid=stPlotlyChart] elements, plus the live charts: either iframes (a v1
    component, iframe[title*=emviz_live_chart], same-origin; their chart is the #chart div,
    class js-plotly-plot once Plotly drew) or Streamlit v2 components drawn in the page itself
    ([data-testid=stBidiComponentRegular|Isolated]; every v2 component but the plotly.js
    preloader (.st-key-plotly_preload, it draws nothing) counts as a chart, its
    graph found in the page or in its open shadow root). A chart is drawn when its
    .js-plotly-plot has a .main-svg. Required: graphs
    found == drawn == containers, and the set of graphs with their draw counts (new graph
    elements, plotly_afterplot events) has not changed for --settle ms (so a chart still
    arriving, or one redrawn, moves the time). The ready time is the moment that state was
    reached (max of when it was first observed and the last chart change), polled every
    animation frame; the settle window only delays the answer, it is not counted.
  The same rule, counted from just before the action, ends the "Full iteration", slider and
  tab-click interactions (after a rerun that finished after the action) and the home page's
  link (then on the new page, whether shown in the same document or a new one: times are
  compared as performance.timeOrigin + performance.now()).

The server gets a private TMPDIR: the live chart copies its index.html and plotly.min.js to
$TMPDIR/emviz-live-chart-<plotly version>, replacing them when their size differs, so two emviz
servers sharing /tmp (e.g. this one on another checkout) would swap each other's files.

Also printed, per page, where the cold visit's time went (see --help for the columns): the app
shell, the script run as the browser saw it, chart drawing after the script, bytes fetched,
plotly.min.js fetches by live-chart iframes, long tasks and CDP Performance.getMetrics.

Target: every page ready <= 3 s cold. Exit 1 if missed, 2 if a page could not be measured
(an exception on the page, a timeout).

Run:  python benchmarks/browser_pages.py [--repeats 3] [--reps 8] [--pages landscape,...]
      [--root DIR: another checkout of the app, e.g. one made with `git archive`]
Needs Debian's Chromium (/usr/bin/chromium) and Playwright (requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
try:  # `tests` is a namespace package (no __init__.py) when the repository root is on sys.path
    import tests.browser.harness as h
except ImportError:  # another installed top-level `tests` package shadows it
    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    import harness as h

from emviz.settings import ENDS_SECTIONS, FAILURE_SECTIONS  # noqa: E402 - after sys.path

READY_TARGET_MS = 3000.0
LIVE_FRAME = 'iframe[title*="emviz_live_chart"]'

# Installed in the top frame of every page: chart bookkeeping for the "ready" rule, long tasks,
# and the time of the last key press.
_PAGES_JS = r"""
(() => {
  if (window !== window.top || window.__emvizReady) return;
  const LIVE = 'iframe[title*="emviz_live_chart"]';
  const V2 = '[data-testid="stBidiComponentRegular"], [data-testid="stBidiComponentIsolated"]';
  const r = window.__emvizReady = {seq: 0, sig: '', lastChange: 0, okSince: null,
                                   long: [], keyAt: null};
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) r.long.push([e.startTime, e.duration]);
    }).observe({type: 'longtask', buffered: true});
  } catch (e) {}
  window.addEventListener('keydown', () => { r.keyAt = performance.now(); }, true);
  // the chart containers' widget keys (st-key-<key> classes), sorted: which charts are shown
  r.keys = () => [...document.querySelectorAll(V2)]
    .map((host) => host.closest('[class*="st-key-"]'))
    .filter((el) => el && !el.classList.contains('st-key-plotly_preload'))
    .map((el) => [...el.classList].find((c) => c.startsWith('st-key-'))).sort().join(' ');
  r.graphs = () => {
    const out = [...document.querySelectorAll('.js-plotly-plot')];
    for (const host of document.querySelectorAll(V2)) {  // a v2 component's open shadow root
      if (host.shadowRoot) out.push(...host.shadowRoot.querySelectorAll('.js-plotly-plot'));
    }
    for (const f of document.querySelectorAll(LIVE)) {
      try {
        const g = f.contentDocument && f.contentDocument.querySelector('.js-plotly-plot');
        if (g) out.push(g);
      } catch (e) {}
    }
    return out;
  };
  r.snapshot = () => {
    const containers = document.querySelectorAll('[data-testid="stPlotlyChart"]').length
                       + document.querySelectorAll(LIVE).length
                       + [...document.querySelectorAll(V2)].filter(
                           (host) => !host.closest('.st-key-plotly_preload')).length;
    const graphs = r.graphs();
    let drawn = 0;
    const parts = [];
    for (const g of graphs) {
      if (g.__emvizId === undefined) {
        g.__emvizId = ++r.seq;
        g.__emvizDraws = 0;
        // this closure belongs to the top window: performance.now() is the top's clock
        if (typeof g.on === 'function') {
          g.on('plotly_afterplot', () => { g.__emvizDraws++; r.lastChange = performance.now(); });
        }
      }
      const ok = !!g.querySelector('.main-svg');
      if (ok) drawn++;
      parts.push(g.__emvizId + ':' + (ok ? 1 : 0) + ':' + g.__emvizDraws);
    }
    const sig = parts.join(',');
    if (sig !== r.sig) { r.sig = sig; r.lastChange = Math.max(r.lastChange, performance.now()); }
    return {containers, graphs: graphs.length, drawn};
  };
})();
"""

# Ready: a run finished after `after` runs (of the document whose timeOrigin is `origin`; any
# run in a new document), nothing busy, every chart container drawn, and no chart change for
# `settle` ms. Returns the time that state was reached: `at` from this document's navigation
# start, `abs` as epoch ms (performance.timeOrigin + at), comparable across documents.
_READY_JS = """
([after, settle, busy, since, origin, chartsBefore]) => {
  const s = window.__emviz, r = window.__emvizReady;
  const app = document.querySelector('[data-testid="stApp"]');
  if (!s || !r || !app) return false;
  const now = performance.now();
  const sameDoc = Math.abs(performance.timeOrigin - origin) < 1;
  const needRuns = sameDoc ? after : 0;
  since = since - performance.timeOrigin;  // epoch ms -> this document's clock
  const snap = r.snapshot();
  const conn = app.getAttribute('data-test-connection-state') || '';
  // a run finished since, or (when given the charts shown before) other charts are shown: a
  // quick rerun's "running" state may never reach the DOM, so its run goes uncounted
  const ran = s.finished > needRuns || (chartsBefore !== null && r.keys() !== chartsBefore);
  const ok = conn.endsWith('CONNECTED') && ran
    && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector(busy)
    && snap.graphs === snap.containers && snap.drawn === snap.containers;
  if (!ok) { r.okSince = null; return false; }
  if (r.okSince === null || r.okSince < since) r.okSince = now;
  const at = Math.max(r.okSince, r.lastChange);
  if (now - at < settle) return false;
  return {at, abs: performance.timeOrigin + at, charts: snap.containers, path: location.pathname};
}
"""

# The step page's main chart shows a step other than `before` and was redrawn since marked.
_CHART_STEP_JS = """
([before, chart]) => {
  const s = window.__emviz, shown = s.chartStep(chart);
  if (shown === null || shown === before || !s.chartRerendered(chart)) return false;
  return {step: shown, at: performance.now()};
}
"""

_RESOURCES_JS = """
() => performance.getEntriesByType('resource').map(e => ({
  name: e.name, start: e.startTime, end: e.responseEnd, transfer: e.transferSize,
  body: e.encodedBodySize, decoded: e.decodedBodySize}))
"""


@dataclass
class PageSpec:
    title: str
    path: str  # url path after the base URL ("" = home)
    interaction: str  # what the main interaction does, for the table
    act: Callable  # (page, base url, args) -> the interaction's latency in ms
    tabs: tuple[str, ...] = ()  # the labels of the page's tabs, the one open at first first


@dataclass
class Visit:
    ready_ms: float
    charts: int
    shell_ms: float | None = None  # first script-state seen (stApp mounted, websocket up)
    run_start_ms: float | None = None
    run_end_ms: float | None = None
    bytes_total: int = 0
    plotly_js: list = field(default_factory=list)  # (transfer bytes, fetch ms) per fetch
    plotly_ready_ms: float | None = None  # the live charts' plotly.js loaded (see visit())
    long_tasks: list = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    resources: list = field(default_factory=list)


class PageError(RuntimeError):
    pass


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


def install(context) -> None:
    context.add_init_script(_PAGES_JS)


def wait_ready(
    page,
    *,
    after: int = 0,
    since: float = 0.0,
    origin: float = 0.0,
    settle_ms: int,
    timeout_ms: int,
    charts_before: str | None = None,
):
    """Wait for "ready" (module docstring). `since`: epoch ms (see now()) before the action;
    `after`: script runs finished before it, in the document with timeOrigin `origin`;
    `charts_before`: the chart keys shown before it (`r.keys()`), for an action that shows
    other charts: their change counts as a run."""
    try:
        return page.wait_for_function(
            _READY_JS,
            arg=[after, settle_ms, h.BUSY, since, origin, charts_before],
            polling="raf",
            timeout=timeout_ms,
        ).json_value()
    except Exception as exc:
        state = page.evaluate(
            """() => { const a = document.querySelector('[data-testid="stApp"]');
                       const r = window.__emvizReady;
                       return {script: a && a.getAttribute('data-test-script-state'),
                               runs: window.__emviz && window.__emviz.finished,
                               charts: r && r.snapshot(), url: location.href}; }"""
        )
        raise PageError(f"not ready within {timeout_ms} ms: {state}") from exc


def check_page(page) -> None:
    boxes = page.locator(h.EXCEPTION)
    if boxes.count():
        first = " ".join(boxes.first.inner_text().split())[:300]
        raise PageError(f"exception on the page: {first}")
    dialog = h.page_not_found(page)
    if dialog:
        raise PageError(f"dialog: {dialog}")


def live_plotly_ready(page) -> float | None:
    """When the live charts' plotly.js had been run, ms from navigation start: the page's
    "emviz-plotly-ready" performance mark (an in-page live chart sets it), or the last live
    chart iframe's DOMContentLoaded (its <script src=plotly.min.js> is synchronous)."""
    times = page.evaluate(
        "() => performance.getEntriesByName('emviz-plotly-ready').map(e => e.startTime)"
    )
    top = page.evaluate("() => performance.timeOrigin")
    for frame in page.frames[1:]:
        if "emviz_live_chart" not in frame.url:
            continue
        try:
            origin, dcl = frame.evaluate(
                """() => { const n = performance.getEntriesByType('navigation')[0];
                           const dcl = n ? n.domContentLoadedEventStart : 0;
                           return [performance.timeOrigin, dcl]; }"""
            )
        except Exception:  # noqa: BLE001 - detached
            continue
        if dcl:
            times.append(origin - top + dcl)
    return max(times) if times else None


def frame_resources(page) -> list[dict]:
    out = []
    for frame in page.frames:
        try:
            entries = frame.evaluate(_RESOURCES_JS)
        except Exception:  # detached frame
            continue
        if frame != page.main_frame:
            offset = frame.evaluate("() => performance.timeOrigin") - page.evaluate(
                "() => performance.timeOrigin"
            )
            for e in entries:
                e["start"] += offset
                e["end"] += offset
        out.extend(entries)
    return out


def visit(context, page, url: str, *, settle_ms: int, timeout_ms: int) -> Visit:
    """Navigate `page` to `url` and measure until ready (see the module docstring)."""
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.goto(url, wait_until="commit", timeout=timeout_ms)
    ready = wait_ready(page, settle_ms=settle_ms, timeout_ms=timeout_ms)
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    check_page(page)
    log = page.evaluate("() => window.__emviz.log")
    result = Visit(ready_ms=ready["at"], charts=ready["charts"], metrics=metrics)
    result.shell_ms = log[0][0] if log else None
    result.run_start_ms = next((t for t, s in log if s == "running"), None)
    if result.run_start_ms is not None:
        result.run_end_ms = next(
            (t for t, s in log if t > result.run_start_ms and s == "notRunning"), None
        )
    resources = frame_resources(page)
    result.resources = resources
    result.bytes_total = sum(e["transfer"] for e in resources)
    result.plotly_js = [
        (e["transfer"], e["end"] - e["start"]) for e in resources if "plotly.min.js" in e["name"]
    ]
    result.plotly_ready_ms = live_plotly_ready(page)
    result.long_tasks = [
        (t, d) for t, d in page.evaluate("() => window.__emvizReady.long") if t <= ready["at"]
    ]
    return result


def profile_visit(pw, profile: str, url: str, args) -> tuple[Visit, object, object]:
    """Launch Chromium on `profile`, visit `url`; returns (visit, context, page), still open."""
    context, page = h.launch_profile(pw, profile, timeout_ms=args.timeout)
    install(context)
    try:
        result = visit(context, page, url, settle_ms=args.settle, timeout_ms=args.timeout)
    except BaseException:
        context.close()
        raise
    return result, context, page


def run_finished_after(page, runs: int, timeout_ms: int) -> None:
    h.wait_for_script_done(page, timeout_ms, after=runs)


def now(page) -> tuple[float, float]:
    """(epoch ms now, this document's timeOrigin), from the page's high-resolution clock."""
    t, origin = page.evaluate(
        "() => [performance.timeOrigin + performance.now(), performance.timeOrigin]"
    )
    return t, origin


def ready_after(
    page, act: Callable[[], object], args, *, other_charts: bool = False
) -> tuple[dict, float]:
    """Do ``act()`` (something that reruns the script) and wait for "ready" after it, the page
    then checked: (the ready state, see _READY_JS; epoch ms just before ``act()``).
    ``other_charts``: the action shows other charts (a tab), which also witnesses its run."""
    runs = h.script_runs(page)
    charts_before = page.evaluate("() => window.__emvizReady.keys()") if other_charts else None
    t0, origin = now(page)
    act()
    ready = wait_ready(
        page,
        after=runs,
        since=t0,
        origin=origin,
        settle_ms=args.settle,
        timeout_ms=args.timeout,
        charts_before=charts_before,
    )
    check_page(page)
    return ready, t0


def interact_home(page, base: str, args) -> float:
    """Click the "Step through EM" page link on the landing page -> the step page is ready."""
    if page.evaluate("() => location.pathname").rstrip("/") != "":
        page.goto(base + "/", wait_until="commit")
        wait_ready(page, origin=-1, settle_ms=args.settle, timeout_ms=args.timeout)
    links = '[data-testid="stPageLink"] a, [data-testid="stPageLink-NavLink"]'
    link = page.locator(f'[data-testid="stMain"] :is({links})').filter(has_text="Step through EM")
    if not link.count():  # not in the page's body: any page link (e.g. a sidebar menu)
        link = page.locator(links).filter(has_text="Step through EM")
    if not link.count():
        raise PageError('no page link "Step through EM" on the landing page')
    link = link.first
    runs = h.script_runs(page)
    t0, origin = now(page)
    link.click()  # the new page may be shown in this document or load a new one
    ready = wait_ready(
        page, after=runs, since=t0, origin=origin, settle_ms=args.settle, timeout_ms=args.timeout
    )
    if not ready["path"].rstrip("/").endswith("step-through"):
        raise PageError(f"the page link led to {ready['path']}")
    check_page(page)
    return ready["abs"] - t0


def _full_iteration_button(page, args, settle):
    """The enabled "Full iteration" button, pressing "Reset" (untimed, then ``settle()``)
    while the run is at its end."""
    full, reset = h.step_button(page, "Full iteration"), h.step_button(page, "Reset")
    while full.is_disabled():
        if reset.is_disabled():
            raise PageError("both 'Full iteration' and 'Reset' are disabled")
        h.click_and_wait(page, reset, args.timeout)
        settle()
    return full


def interact_step(page, base: str, args) -> float:
    """ "Full iteration" -> the main chart shows the new step (Reset, untimed, at the end)."""
    full = _full_iteration_button(page, args, lambda: page.wait_for_timeout(200))
    before = page.evaluate("(c) => window.__emviz.chartStep(c)", h.MAIN_CHART)
    h.mark_chart(page, h.MAIN_CHART)
    runs = h.script_runs(page)
    t0, origin = now(page)
    full.click()
    shown = page.wait_for_function(
        _CHART_STEP_JS, arg=[before, h.MAIN_CHART], polling="raf", timeout=args.timeout
    ).json_value()
    run_finished_after(page, runs, args.timeout)  # untimed: let the rerun finish
    wait_ready(page, after=runs, origin=origin, settle_ms=args.settle, timeout_ms=args.timeout)
    check_page(page)
    return shown["at"] + origin - t0


def interact_full_iteration(page, base: str, args) -> float:
    """ "Full iteration" -> its rerun finished and every chart drawn, no change for --settle."""
    full = _full_iteration_button(
        page,
        args,
        lambda: wait_ready(
            page, origin=now(page)[1], settle_ms=args.settle, timeout_ms=args.timeout
        ),
    )
    ready, t0 = ready_after(page, full.click, args)
    return ready["abs"] - t0


def _landscape_chart(page):
    """(frame, scope) of the contour map: inside a live chart's iframe (scope ""), or in the
    page itself (a v2 component: scope = its keyed container)."""
    for selector in (f".st-key-land_chart {LIVE_FRAME}", ".st-key-land_chart iframe", LIVE_FRAME):
        loc = page.locator(selector)
        if loc.count():
            return loc.first.element_handle().content_frame(), ""
    if page.locator(".st-key-land_chart .js-plotly-plot").count():
        return page.main_frame, ".st-key-land_chart"
    contour = page.locator(".js-plotly-plot").filter(has=page.locator(".contourlayer path"))
    if contour.count():
        contour.first.evaluate("(g) => g.classList.add('emviz-bench-contour')")
        return page.main_frame, ".emviz-bench-contour"
    raise PageError("no contour map on the landscape page")


# Renders of the chart in `scope` (a CSS selector, "" = the document): its data-renders count
# (the live chart's) plus 1e6 per plotly_afterplot seen by the ready tracker.
_RENDERS = """(scope) => {
  const root = scope ? document.querySelector(scope) : document;
  const g = root && (root.matches && root.matches('.js-plotly-plot') ? root
            : root.querySelector('.js-plotly-plot') || root.querySelector('#chart'));
  if (!g) return 0;
  return Number(g.dataset.renders || 0) + (g.__emvizDraws || 0) * 1e6;
}"""


def interact_landscape(page, base: str, args, _state={"i": 0}) -> float:  # noqa: B006
    """Click inside the contour map -> it re-rendered (data-renders or plotly_afterplot).

    Starts from a quiet page (no rerun, no chart change for --settle ms), so that the render
    waited for is this click's. A click that starts no rerun (e.g. one that hit no trace) is
    retried, untimed, at the next point."""
    for _attempt in range(3):
        wait_ready(page, origin=now(page)[1], settle_ms=args.settle, timeout_ms=args.timeout)
        frame, scope = _landscape_chart(page)
        area = frame.locator(f"{scope} .nsewdrag".strip()).first.bounding_box()
        i = _state["i"] = _state["i"] + 1
        fx, fy = 0.15 + 0.7 * ((i * 0.37) % 1), 0.15 + 0.7 * ((i * 0.61) % 1)
        x, y = area["x"] + fx * area["width"], area["y"] + fy * area["height"]
        page.mouse.move(x, y)
        page.wait_for_timeout(150)
        before = frame.evaluate(_RENDERS, scope)
        runs = h.script_runs(page)
        t0, _ = now(page)
        page.mouse.click(x, y)
        try:
            frame.wait_for_function(
                f"([n, scope]) => ({_RENDERS})(scope) > n",
                arg=[before, scope],
                polling="raf",
                timeout=15_000,
            )
        except Exception:  # noqa: BLE001 - no new render: try another point
            continue
        at, _ = now(page)  # right after the frame saw the new render (within one frame)
        run_finished_after(page, runs, args.timeout)
        check_page(page)
        return at - t0
    raise PageError("three clicks on the contour map drew nothing new")


def slider_interaction(key: str):
    """The interaction "ArrowRight/Left on the thumb of the slider of setting `key` (its
    .st-key-<key> container) -> rerun done, charts redrawn". The presses alternate in
    direction (every value is seen after the first two), turning back at either end."""
    direction = {"step": 1}  # the next press's, kept by this page's interaction only

    def interact(page, base: str, args) -> float:
        thumb = page.locator(f".st-key-{key}").get_by_role("slider").first  # <input type=range>
        if not thumb.count():
            raise PageError(f"no slider .st-key-{key}")
        value, low, high = (_number(thumb, *names) for names in _SLIDER_ATTRIBUTES)
        step = direction["step"]
        if (step > 0 and value >= high) or (step < 0 and value <= low):
            step = -step
        direction["step"] = -step
        thumb.focus()
        ready, t0 = ready_after(
            page, lambda: thumb.press("ArrowRight" if step > 0 else "ArrowLeft"), args
        )
        return ready["abs"] - t0

    return interact


def click_tab(page, label: str, args) -> tuple[float, int]:
    """Click the tab ``label`` (not the open one) -> its rerun finished and every chart drawn
    (the "ready" rule). Returns (ms from just before the click, charts drawn)."""
    tab = page.get_by_role("tab", name=label, exact=True)
    if not tab.count():
        raise PageError(f"no tab {label!r}")
    if tab.get_attribute("aria-selected") == "true":
        raise PageError(f"the tab {label!r} is open already: a click would not rerun")
    try:
        ready, t0 = ready_after(page, tab.click, args, other_charts=True)
    except PageError as exc:
        shown = page.get_by_role("tab", selected=True).inner_text().strip()
        raise PageError(f"after a click on the tab {label!r} ({shown!r} open): {exc}") from exc
    if tab.get_attribute("aria-selected") != "true":
        raise PageError(f"the tab {label!r} did not open")
    return ready["abs"] - t0, ready["charts"]


def tab_pass(page, tabs: tuple[str, ...], args) -> dict[str, tuple[float, int]]:
    """From the first tab, click each other tab (timed), going back to the first tab
    (untimed) before the next: tab label -> (ms, charts)."""
    timed = {}
    for label in tabs[1:]:
        timed[label] = click_tab(page, label, args)
        click_tab(page, tabs[0], args)
    return timed


# A slider thumb's value, minimum and maximum: the ARIA attributes, else the input's own.
_SLIDER_ATTRIBUTES = (
    ("aria-valuenow", "value"),
    ("aria-valuemin", "min"),
    ("aria-valuemax", "max"),
)


def _number(locator, *names: str) -> float:
    """The first of the attributes `names` that `locator` has, as a number (0 if none)."""
    for name in names:
        value = locator.get_attribute(name)
        if value not in (None, ""):
            return float(value)
    return 0.0


def full_iteration_page(title: str, path: str) -> PageSpec:
    """A page whose main interaction is its step controls' "Full iteration"."""
    return PageSpec(title, path, '"Full iteration" -> rerun + charts', interact_full_iteration)


def slider_page(
    title: str, path: str, key: str, control: str, tabs: tuple[str, ...] = ()
) -> PageSpec:
    """A page whose main interaction is a step of the slider of setting `key`, `control`
    (in the first of its `tabs`, if it has tabs)."""
    return PageSpec(title, path, f"{control} slider -> charts", slider_interaction(key), tabs)


PAGES = [  # the navigation's order (emviz/ui/navigation.py), the landing page first
    PageSpec("What is EM?", "", 'link "Step through EM" -> page ready', interact_home),
    PageSpec("Step through EM", "step-through", '"Full iteration" -> main chart', interact_step),
    full_iteration_page("Why EM works", "why-em-works"),
    PageSpec("Likelihood landscape", "landscape", "click contour -> map", interact_landscape),
    slider_page("EM or gradient ascent?", "em-vs-gradient", "clr", "learning rate η"),
    slider_page(
        "Where EM ends up",
        "where-em-ends-up",
        "xsep",
        "centre distance 2|θ*|",
        tuple(ENDS_SECTIONS.values()),
    ),
    slider_page(
        "Failure lab", "failure-lab", "flx", "isolated point x", tuple(FAILURE_SECTIONS.values())
    ),
    slider_page("Choosing K", "choosing-k", "sr", "restarts per fit"),
    full_iteration_page("Genetic linkage (1977)", "genetic-linkage"),
    full_iteration_page("Hidden Markov model", "hidden-markov"),
    full_iteration_page("Missing data", "missing-data"),
    full_iteration_page("Probabilistic PCA", "ppca"),
]


def coverage_problem(root: Path) -> str | None:
    """Why PAGES does not list exactly the page modules in `root`/pages (each named after its
    URL path, home.py serving "/"), the landing page first; None when it does."""
    modules = {"" if p.stem == "home" else p.stem for p in (root / "pages").glob("*.py")}
    listed = [spec.path for spec in PAGES]
    problems = [
        f"{what}: {', '.join('/' + p for p in sorted(paths))}"
        for what, paths in (
            ("pages/ has pages that PAGES misses", modules - set(listed)),
            ("PAGES lists pages that pages/ has not", set(listed) - modules),
        )
        if paths
    ]
    if listed[:1] != [""]:
        problems.append('PAGES must start with the landing page (path "")')
    return "; ".join(problems) or None


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------


def fmt(x, unit="") -> str:
    return "-" if x is None else f"{x:.0f}{unit}"


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def breakdown_rows(spec: PageSpec, v: Visit) -> list[str]:
    run = (
        v.run_end_ms - v.run_start_ms
        if v.run_start_ms is not None and v.run_end_ms is not None
        else None
    )
    after_run = v.ready_ms - v.run_end_ms if v.run_end_ms is not None else None
    lt = [d for _, d in v.long_tasks]
    pj = v.plotly_js
    m = v.metrics
    return [
        spec.title,
        fmt(v.shell_ms),
        fmt(v.run_start_ms),
        fmt(run),
        fmt(after_run),
        fmt(v.ready_ms),
        str(v.charts),
        f"{v.bytes_total / 1e6:.1f}",
        f"{len(pj)}x{pj[0][0] / 1e6:.1f}" if pj else "0",
        fmt(v.plotly_ready_ms),
        f"{len(lt)}/{sum(lt):.0f}/{max(lt):.0f}" if lt else "0",
        f"{m.get('ScriptDuration', 0) * 1e3:.0f}",
        f"{m.get('TaskDuration', 0) * 1e3:.0f}",
    ]


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    lines = [" | ".join(str(c).ljust(w) for c, w in zip(headers, widths))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="Breakdown columns (cold visit, ms from navigation start unless noted): shell = "
        "first Streamlit script state seen (frontend booted, stApp mounted); run start; run = "
        "script running -> notRunning as the browser saw it; charts = script done -> ready; "
        "MB = bytes fetched (all frames); plotly.min.js = its fetches x MB over the wire (by "
        "the live charts); live plotly ready = the live charts' plotly.js has run; long "
        "tasks = count/total/max ms until ready; CDP ScriptDuration and TaskDuration (ms, the "
        "page's renderer).",
    )
    parser.add_argument("--repeats", type=int, default=3, help="cold and warm visits per page")
    parser.add_argument("--reps", type=int, default=8, help="timed interactions per page")
    parser.add_argument("--settle", type=int, default=500, help="ms without chart changes")
    parser.add_argument("--timeout", type=int, default=90_000, help="ms per wait")
    parser.add_argument("--pages", default="", help="comma-separated url paths (home = /)")
    parser.add_argument("--root", default=str(ROOT), help="directory holding app.py")
    parser.add_argument("--details", action="store_true", help="print the largest fetches")
    return parser.parse_args()


@dataclass
class Results:
    first: dict = field(default_factory=dict)  # path -> Visit | None
    cold: dict = field(default_factory=dict)  # path -> [Visit]
    warm: dict = field(default_factory=dict)  # path -> [Visit]
    interaction: dict = field(default_factory=dict)  # path -> [ms]
    tab_first: dict = field(default_factory=dict)  # path -> {tab: (ms, charts)}, untimed pass
    tab_clicks: dict = field(default_factory=dict)  # path -> {tab: [ms]}
    errors: dict = field(default_factory=dict)  # path -> message


def measure(pw, base: str, pages: list[PageSpec], args, new_profile, out: Results) -> None:
    # 1. First visits, server cold. The landing page always goes first.
    for spec in [PAGES[0]] + [p for p in pages if p.path != ""]:
        try:
            v, context, _ = profile_visit(pw, new_profile(), f"{base}/{spec.path}", args)
            context.close()
        except Exception as exc:  # noqa: BLE001 - reported per page
            v = None
            out.errors[spec.path] = f"first visit: {exc}"
        out.first[spec.path] = v
        print(f"  first visit /{spec.path}: {fmt(v and v.ready_ms)} ms", flush=True)
    # 2. Cold and warm profiles, then the interaction in the last warm session.
    for spec in pages:
        if spec.path in out.errors:
            continue
        url = f"{base}/{spec.path}"
        cold = out.cold[spec.path] = []
        warm = out.warm[spec.path] = []
        timed = out.interaction[spec.path] = []
        try:
            for _ in range(args.repeats):
                profile = new_profile()
                v, context, _ = profile_visit(pw, profile, url, args)
                context.close()
                cold.append(v)
            for i in range(args.repeats):
                v, context, page = profile_visit(pw, profile, url, args)
                warm.append(v)
                if i < args.repeats - 1:
                    context.close()
            try:
                act = spec.act
                act(page, base, args)  # one untimed: the first may fill caches
                for _ in range(args.reps):
                    timed.append(act(page, base, args))
                if spec.tabs:
                    measure_tabs(page, spec, args, out)
            finally:
                context.close()
        except Exception as exc:  # noqa: BLE001 - reported per page
            out.errors[spec.path] = f"{type(exc).__name__}: {exc}"
        print(
            f"  /{spec.path}: cold {[round(v.ready_ms) for v in cold]} "
            f"warm {[round(v.ready_ms) for v in warm]} interaction {[round(x) for x in timed]}",
            flush=True,
        )


def measure_tabs(page, spec: PageSpec, args, out: Results) -> None:
    """The tab clicks of a page drawn as tabs (module docstring), in its session `page`."""
    out.tab_first[spec.path] = tab_pass(page, spec.tabs, args)
    clicks = out.tab_clicks[spec.path] = {label: [] for label in spec.tabs[1:]}
    for _ in range(args.reps):
        for label, (ms, _charts) in tab_pass(page, spec.tabs, args).items():
            clicks[label].append(ms)
    shown = {label: [round(ms) for ms in times] for label, times in clicks.items()}
    print(f"  /{spec.path} tab clicks: {shown}", flush=True)


def tab_rows(pages: list[PageSpec], out: Results) -> list[list[str]]:
    """page, tab, charts, first click ms, median ms: one row per measured tab click."""
    rows = []
    for spec in pages:
        for label, (first_ms, charts) in out.tab_first.get(spec.path, {}).items():
            times = out.tab_clicks.get(spec.path, {}).get(label, [])
            rows.append(
                [
                    f"{spec.title} (/{spec.path})",
                    label,
                    str(charts),
                    fmt(first_ms),
                    fmt(median(times)),
                ]
            )
    return rows


def report(pages: list[PageSpec], out: Results, args) -> bool:
    """Print the tables; True if every page was ready <= 3 s cold."""
    rows = []
    for spec in pages:
        fv = out.first.get(spec.path)
        rows.append(
            [
                f"{spec.title} (/{spec.path})",
                fmt(fv and fv.ready_ms),
                fmt(median([v.ready_ms for v in out.cold.get(spec.path, [])])),
                fmt(median([v.ready_ms for v in out.warm.get(spec.path, [])])),
                spec.interaction,
                fmt(median(out.interaction.get(spec.path, []))),
            ]
        )
    headers = ["page", "first visit ms (server cold)", "cold ready ms", "warm ready ms"]
    print()
    print(table([*headers, "main interaction", "median ms"], rows))
    print(
        f"(cold, warm: median of {args.repeats} visits; interaction: median of {args.reps}; "
        f"ready = script finished + every chart drawn, settle {args.settle} ms)"
    )

    trows = tab_rows(pages, out)
    if trows:
        print()
        print(f"tab clicks (from the first tab, in the last warm session; median of {args.reps}):")
        headers = ["page", "tab clicked", "charts", "first click ms", "median ms"]
        print(table(headers, trows))

    brows = []
    for spec in pages:
        visits = out.cold.get(spec.path) or []
        if visits:
            v = sorted(visits, key=lambda v: v.ready_ms)[len(visits) // 2]  # the median visit
            brows.append(breakdown_rows(spec, v))
    if brows:
        headers = ["page", "shell", "run start", "run", "charts after run", "ready", "charts"]
        headers += ["MB", "plotly.min.js", "live plotly ready", "long tasks n/sum/max"]
        headers += ["CDP script", "CDP tasks"]
        print()
        print("where the cold visit's time goes (the median visit; ms from navigation start):")
        print(table(headers, brows))
    if args.details:
        for spec in pages:
            visits = out.cold.get(spec.path) or []
            if not visits:
                continue
            print(f"\n/{spec.path}: fetches over 100 kB (cold visit): start-end ms, transfer kB")
            for e in sorted(visits[0].resources, key=lambda e: e["start"]):
                if e["decoded"] > 100_000:
                    name = e["name"].split("?")[0].rsplit("/", 1)[-1]
                    kb = e["transfer"] / 1e3
                    print(f"  {e['start']:6.0f}-{e['end']:6.0f}  {kb:7.0f}  {name}")

    for path, message in out.errors.items():
        print(f"ERROR /{path}: {message}")
    colds = [median([v.ready_ms for v in out.cold.get(p.path, [])]) for p in pages]
    ok = all(c is not None and c <= READY_TARGET_MS for c in colds) and not out.errors
    print(f"every page ready <= {READY_TARGET_MS / 1e3:.0f} s cold: {'ok' if ok else 'MISSED'}")
    return ok


def main() -> int:
    args = parse_args()
    args.repeats, args.reps = max(1, args.repeats), max(1, args.reps)
    if h.chromium_path() is None:
        print("Chromium not found: apt-get install chromium", file=sys.stderr)
        return 2
    problem = coverage_problem(Path(args.root))
    if problem:
        print(f"benchmarks/browser_pages.py is out of date: {problem}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    wanted = {p.strip().strip("/") for p in args.pages.split(",") if p.strip()}
    pages = [p for p in PAGES if not wanted or p.path in wanted]
    tmp = Path(tempfile.mkdtemp(prefix="emviz-profiles-"))
    counter = iter(range(10**6))

    def new_profile() -> str:
        path = tmp / f"profile-{next(counter)}"
        path.mkdir()
        return str(path)

    # The live chart copies its files to $TMPDIR/emviz-live-chart-<plotly version> (by size):
    # a private TMPDIR keeps this server and any other emviz server from swapping them.
    server_tmp = tmp / "server-tmp"
    server_tmp.mkdir()
    saved_tmpdir = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(server_tmp)
    out = Results()
    load_before = os.getloadavg()  # the machine is shared: other work inflates every time
    try:
        with h.streamlit_server("app.py", cwd=args.root) as base, sync_playwright() as pw:
            paths = ", ".join("/" + p.path for p in pages)
            print(f"server {base} (app in {args.root}); pages: {paths}")
            measure(pw, base, pages, args, new_profile, out)
    finally:
        if saved_tmpdir is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved_tmpdir
        shutil.rmtree(tmp, ignore_errors=True)

    ok = report(pages, out, args)
    loads = " -> ".join(", ".join(f"{x:.1f}" for x in la) for la in (load_before, os.getloadavg()))
    print(f"load average (1, 5, 15 min) before -> after: {loads} on {os.cpu_count()} cores")
    if out.errors:
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
