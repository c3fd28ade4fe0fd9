"""Helpers to drive the emviz Streamlit app with headless Chromium (Playwright, sync API).

A plain module: importing it needs neither pytest nor Playwright (both are imported lazily), so
the browser tests and `benchmarks/browser_latency.py` share it.

How it is imported
------------------
* The tests (``tests/browser/*.py``) use a relative import, ``from .harness import ...``: pytest
  imports ``tests/browser`` as a package (it has an ``__init__.py``), whatever its import mode.
* Scripts put the repository root on ``sys.path`` and ``from tests.browser.harness import ...``:
  ``tests/`` has no ``__init__.py`` and is then an implicit namespace package. Should another
  installed distribution ship a regular top-level ``tests`` package that shadows it, put
  ``tests/browser`` itself on ``sys.path`` and ``import harness`` instead (the benchmark does
  both, in that order).

Typical use
-----------
>>> from playwright.sync_api import sync_playwright
>>> with streamlit_server("app.py") as base, sync_playwright() as pw:
...     browser = launch_browser(pw)
...     page = new_page(browser)
...     page.goto(base)
...     wait_for_script_done(page)
...     assert_no_exception(page)
...     screenshot(page, "landing")
...     browser.close()
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import urljoin

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "tests" / "screenshots"

VIEWPORT = {"width": 1400, "height": 1000}
DEFAULT_TIMEOUT_MS = 30_000
SERVER_START_TIMEOUT_S = 60.0

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Selectors (Streamlit 1.67 test ids, Plotly classes, and the emviz step page's contract).
APP = '[data-testid="stApp"]'
EXCEPTION = '[data-testid="stException"]'
BUSY = '[data-testid="stSkeleton"], [data-testid="stAppSkeleton"], [data-testid="stSpinner"]'
PLOTLY_SVG = ".js-plotly-plot .main-svg"
NAV_LINKS = (
    '[data-testid="stSidebarNav"] a, [data-testid="stSidebarNavLink"],'
    ' [data-testid="stTopNavLink"], .st-key-menu [data-testid="stPageLink-NavLink"]'
)
# the app's own menu (emviz.ui.navigation) marks the shown page's link by its container's key
CURRENT_NAV = (
    '[data-testid="stSidebarNavLink"][aria-current="page"] [label],'
    ' .st-key-menu-current [data-testid="stPageLink-NavLink"] [data-testid="stMarkdownContainer"]'
)
NAV_VIEW_MORE = '[data-testid="stSidebarNavViewButton"]'
STEP_STATUS = ".st-key-step-status"
MAIN_CHART = ".st-key-main-chart"
PLAY_ANIMATION = ".st-key-play-animation"
STEP_RE = re.compile(r"Step (\d+) of (\d+)")
STEP_BUTTONS = ("E-step", "M-step", "Full iteration", "Run to convergence", "Back", "Reset")


class ServerError(RuntimeError):
    """`streamlit run` exited or did not answer its health check in time."""


# --------------------------------------------------------------------------------------------
# Chromium
# --------------------------------------------------------------------------------------------


def chromium_path() -> str | None:
    """Debian's Chromium: /usr/bin/chromium, else `chromium` on PATH, else None."""
    if os.path.isfile("/usr/bin/chromium") and os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def require_chromium() -> str:
    """Return Chromium's path; without it (or without Playwright) skip, or fail when CI=true."""
    import pytest

    problem = None
    path = chromium_path()
    if path is None:
        problem = "Chromium not found: apt-get install chromium"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "Playwright not installed: pip install -r requirements-dev.txt"
    if problem is not None:
        if in_ci():
            pytest.fail(f"{problem} (CI=true, so the browser tests may not be skipped)", False)
        pytest.skip(problem)
    return path


def launch_browser(playwright, **kwargs):
    """Launch headless Debian Chromium with the flags this sandbox needs."""
    exe = chromium_path()
    if exe is None:
        raise RuntimeError("Chromium not found: apt-get install chromium")
    options = {"executable_path": exe, "headless": True, "args": CHROMIUM_ARGS, "timeout": 60_000}
    options.update(kwargs)
    return playwright.chromium.launch(**options)


# Installed in every page made by new_page(): records the Streamlit script-run state transitions
# (stApp's data-test-script-state attribute) so that waits are not racy, and offers chart helpers.
_TRACKER_JS = r"""
(() => {
  if (window.__emviz) return;
  const s = window.__emviz = {state: null, changedAt: performance.now(), finished: 0,
                              started: 0, clickAt: null, charts: {}, log: []};
  const note = (st) => {
    if (st === s.state) return;
    if (st === 'running') s.started++;
    if (st === 'notRunning' && s.state !== null && s.state !== 'initial') s.finished++;
    s.state = st;
    s.changedAt = performance.now();
    s.log.push([s.changedAt, st]);  // [time, state] transitions, the last 100
    if (s.log.length > 100) s.log.shift();
  };
  let app = null;
  const appObserver = new MutationObserver((records) => {
    // Replay every transition, even several within one task (oldValue of the next record).
    for (let i = 1; i < records.length; i++) note(records[i].oldValue);
    note(app.getAttribute('data-test-script-state'));
  });
  const attach = () => {
    const found = document.querySelector('[data-testid="stApp"]');
    if (!found || found === app) return;
    if (app) appObserver.disconnect();
    app = found;
    note(app.getAttribute('data-test-script-state'));
    appObserver.observe(app, {attributes: true, attributeOldValue: true,
                              attributeFilter: ['data-test-script-state']});
  };
  const start = () => {
    attach();
    // Cheap: only child-list changes of <body>'s subtree until stApp exists, then stop.
    const bodyObserver = new MutationObserver(() => {
      attach();
      if (app) bodyObserver.disconnect();
    });
    if (!app) bodyObserver.observe(document.documentElement, {childList: true, subtree: true});
  };
  if (document.documentElement) start();
  else document.addEventListener('DOMContentLoaded', start);
  window.addEventListener('pointerdown', () => { s.clickAt = performance.now(); }, true);

  // Chart re-render detection: mark the graph div now; later it counts as re-rendered if it was
  // replaced by another div, or Plotly emitted plotly_afterplot on it since.
  // A chart is either drawn by st.plotly_chart or inside a live chart's same-origin iframe
  // (emviz/ui/live_chart), which keeps one Plotly graph across reruns.
  s.graph = (scope) => {
    const direct = document.querySelector(scope + ' .js-plotly-plot');
    if (direct) return direct;
    const frame = document.querySelector(scope + ' iframe');
    try {
      return frame && frame.contentDocument
        ? frame.contentDocument.querySelector('.js-plotly-plot') : null;
    } catch (e) { return null; }
  };
  s.markChart = (scope) => {
    const gd = s.graph(scope);
    if (!gd) { s.charts[scope] = {gd: null, n: 0}; return false; }
    if (!gd.__emvizAfterplot) {
      gd.__emvizAfterplot = {n: 0};
      if (typeof gd.on === 'function') gd.on('plotly_afterplot', () => gd.__emvizAfterplot.n++);
    }
    s.charts[scope] = {gd, n: gd.__emvizAfterplot.n};
    return true;
  };
  s.chartRendered = (scope) => {
    const gd = s.graph(scope);
    return !!(gd && gd.querySelector('.main-svg'));
  };
  s.chartRerendered = (scope) => {
    const mark = s.charts[scope];
    const gd = s.graph(scope);
    if (!gd || !gd.querySelector('.main-svg')) return false;
    if (!mark || gd !== mark.gd) return true;
    return gd.__emvizAfterplot.n > mark.n;
  };
  s.chartStep = (scope) => {  // the step a live chart shows (its data-step attribute)
    const gd = s.graph(scope);
    return gd && gd.dataset.step ? Number(gd.dataset.step) : null;
  };
  s.step = () => {
    const el = document.querySelector('.st-key-step-status');
    const m = el && el.innerText.match(/Step (\d+) of (\d+)/);
    return m ? [Number(m[1]), Number(m[2])] : null;
  };
})();
"""


def new_page(browser, *, viewport: dict | None = None, timeout_ms: int = DEFAULT_TIMEOUT_MS):
    """A page in a fresh browser context (its own Streamlit session) with the run tracker.

    Close it with ``page.context.close()``.
    """
    context = browser.new_context(viewport=viewport or VIEWPORT, device_scale_factor=1)
    context.set_default_timeout(timeout_ms)
    context.add_init_script(_TRACKER_JS)
    return context.new_page()


# --------------------------------------------------------------------------------------------
# The Streamlit server
# --------------------------------------------------------------------------------------------

_LIVE: set[subprocess.Popen] = set()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: str | os.PathLike, lines: int = 40) -> str:
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as exc:
        return f"<could not read {path}: {exc}>"
    return "\n".join(text.splitlines()[-lines:]) or "<empty>"


def _stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Terminate the server's whole process group (it was started in its own session)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
    _LIVE.discard(proc)


@atexit.register
def _stop_leftovers() -> None:  # e.g. an interpreter exiting inside the `with` block
    for proc in list(_LIVE):
        _stop(proc, grace=3)


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _healthy(base_url: str) -> bool:
    try:
        with _NO_PROXY.open(f"{base_url}/_stcore/health", timeout=2) as response:
            return response.read().decode(errors="replace").strip() == "ok"
    except (urllib.error.URLError, OSError, ValueError):
        return False


@contextlib.contextmanager
def streamlit_server(
    app: str | os.PathLike = "app.py",
    *,
    cwd: str | os.PathLike = REPO_ROOT,
    timeout: float = SERVER_START_TIMEOUT_S,
    extra_args: Sequence[str] = (),
) -> Iterator[str]:
    """Run ``python -m streamlit run <app>`` from `cwd` (the repo root) on a free 127.0.0.1 port.

    Yields the base URL (``http://127.0.0.1:<port>``) once ``/_stcore/health`` answers "ok";
    raises ServerError, with the tail of the server's output, if it exits or is not healthy
    within `timeout` seconds. The process group is terminated on exit, whatever happens.
    """
    app_path = Path(cwd, app)
    if not app_path.is_file():
        raise FileNotFoundError(f"Streamlit app not found: {app_path}")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    for attempt in range(3):  # a free port can be taken by someone else before streamlit binds
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        log = tempfile.NamedTemporaryFile(prefix="emviz-streamlit-", suffix=".log", delete=False)
        log.close()
        cmd = [
            sys.executable, "-m", "streamlit", "run", str(app),
            "--server.headless", "true",
            "--server.port", str(port),
            "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none",
            *extra_args,
        ]  # fmt: skip
        with open(log.name, "wb") as out:
            proc = subprocess.Popen(
                cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        _LIVE.add(proc)
        try:
            deadline = time.monotonic() + timeout
            while not _healthy(base_url):
                if proc.poll() is not None:
                    tail = _tail(log.name)
                    if f"Port {port} is already in use" in tail and attempt < 2:
                        break  # retry on another port
                    raise ServerError(
                        f"`{' '.join(cmd)}` exited with code {proc.returncode} before answering "
                        f"{base_url}/_stcore/health; log {log.name}, last lines:\n{tail}"
                    )
                if time.monotonic() > deadline:
                    raise ServerError(
                        f"`{' '.join(cmd)}`: {base_url}/_stcore/health did not answer 'ok' within "
                        f"{timeout:.0f} s; log {log.name}, last lines:\n{_tail(log.name)}"
                    )
                time.sleep(0.2)
            else:
                break  # healthy
        except BaseException:
            _stop(proc)
            raise
        _stop(proc)
        os.unlink(log.name)
    else:  # pragma: no cover - three ports in a row taken
        raise ServerError("could not find a free port for streamlit")

    try:
        yield base_url
    finally:
        _stop(proc)
        with contextlib.suppress(OSError):
            os.unlink(log.name)


# --------------------------------------------------------------------------------------------
# Waiting for Streamlit
# --------------------------------------------------------------------------------------------

_DONE_JS = """
([after, settle, t0, busy]) => {
  const s = window.__emviz;
  const app = document.querySelector('[data-testid="stApp"]');
  if (!s || !app) return false;
  const conn = app.getAttribute('data-test-connection-state') || '';
  if (!conn.endsWith('CONNECTED')) return false;
  if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (after !== null && s.finished <= after) return false;
  if (after === null && performance.now() - Math.max(s.changedAt, t0) < settle) return false;
  return !document.querySelector(busy);
}
"""


def script_runs(page) -> int:
    """Script runs finished in this document so far (for ``wait_for_script_done(after=...)``)."""
    return page.evaluate("() => window.__emviz ? window.__emviz.finished : 0")


def wait_for_script_done(
    page, timeout: float = DEFAULT_TIMEOUT_MS, *, after: int | None = None, settle_ms: int = 150
) -> None:
    """Wait until the app is connected, its script is not running and nothing shows a spinner.

    With ``after=script_runs(page)`` read before an action, wait for a run that finished after
    it. Without, require the state to have been "notRunning" for `settle_ms` ms counted from
    this call, so that a rerun triggered just before is not missed.
    """
    if page.evaluate("() => !window.__emviz"):
        page.evaluate(_TRACKER_JS)  # page not made by new_page(): track from now on
    t0 = page.evaluate("() => performance.now()")
    try:
        page.wait_for_function(_DONE_JS, arg=[after, settle_ms, t0, BUSY], timeout=timeout)
    except Exception as exc:
        state = page.evaluate(
            """() => { const a = document.querySelector('[data-testid="stApp"]');
                       const s = window.__emviz || {};
                       return {script: a && a.getAttribute('data-test-script-state'),
                               connection: a && a.getAttribute('data-test-connection-state'),
                               finishedRuns: s.finished, url: location.href}; }"""
        )
        raise AssertionError(
            f"Streamlit script did not finish within {timeout} ms: {state}"
        ) from exc


def click_and_wait(page, locator, timeout: float = DEFAULT_TIMEOUT_MS) -> None:
    """Click something that triggers a rerun, then wait for that rerun to finish."""
    runs = script_runs(page)
    locator.click(timeout=timeout)
    wait_for_script_done(page, timeout, after=runs)


def open_tab(page, label: str, timeout: float = DEFAULT_TIMEOUT_MS):
    """Click the tab ``label`` (exact name) as a learner would and wait for the rerun that
    draws its section (emviz.ui.on_demand: only the open tab's section runs). Returns the tab."""
    tab = page.get_by_role("tab", name=label, exact=True)
    if tab.get_attribute("aria-selected", timeout=timeout) == "true":
        return tab  # already open: a click would start no rerun
    click_and_wait(page, tab, timeout)
    page.wait_for_function(
        "(el) => el.getAttribute('aria-selected') === 'true'",
        arg=tab.element_handle(timeout=timeout),
        timeout=timeout,
    )
    return tab


def expander(page, label: str):
    """The expander (stExpander) whose summary holds ``label``."""
    return (
        page.locator('[data-testid="stExpander"]')
        .filter(has=page.locator("summary", has_text=label))
        .first
    )


def toggle_expander(page, label: str, timeout: float = DEFAULT_TIMEOUT_MS):
    """Click the summary of the expander ``label`` and wait for the rerun (an expander bound
    to a setting reruns the page when opened or closed). Returns the expander."""
    box = expander(page, label)
    details = box.locator("details").first
    was_open = expander_open(box)
    click_and_wait(page, box.locator("summary"), timeout)
    # closing is animated: <details> keeps its open attribute until the animation ends
    page.wait_for_function(
        "([d, open]) => d.open === open",
        arg=[details.element_handle(timeout=timeout), not was_open],
        timeout=timeout,
    )
    return box


def expander_open(box) -> bool:
    return box.locator("details").first.evaluate("(d) => d.open")


def goto(page, url: str, timeout: float = DEFAULT_TIMEOUT_MS) -> None:
    page.goto(url, wait_until="domcontentloaded", timeout=timeout)
    wait_for_script_done(page, timeout)


def current_page_title(page) -> str | None:
    """The title the navigation highlights as the shown page, if any."""
    current = page.locator(CURRENT_NAV)
    if not current.count():
        return None
    element = current.first
    return element.get_attribute("label") or " ".join(element.inner_text().split())


def nav_link(page, title: str):
    """The navigation's link to the page titled ``title``."""
    return page.locator(NAV_LINKS).filter(has_text=title).first


def page_not_found(page) -> str | None:
    """The text of Streamlit's "Page not found" dialog if it is shown, else None."""
    dialogs = page.locator('[role="dialog"]').filter(has_text="Page not found")
    return " ".join(dialogs.first.inner_text().split()) if dialogs.count() else None


def warm_up(browser, base_url: str, timeout: float = 60_000) -> None:
    """Open the app once in a throw-away context, so that later sessions find the server's
    imports done and its caches filled (deep links on a fresh server have their own test,
    tests/browser/test_deep_links.py)."""
    page = new_page(browser, timeout_ms=int(timeout))
    try:
        goto(page, base_url, timeout)
    finally:
        page.context.close()


def assert_no_exception(page) -> None:
    """No uncaught exception box (stException) is shown; error alerts are legitimate."""
    boxes = page.locator(EXCEPTION)
    if boxes.count():
        text = boxes.first.inner_text()
        raise AssertionError(f"{page.url} shows {boxes.count()} exception(s):\n{text[:3000]}")


def wait_for_plotly(page, scope: str = "", timeout: float = DEFAULT_TIMEOUT_MS):
    """Wait until a Plotly chart inside `scope` (a CSS selector, '' = anywhere) has drawn,
    whether drawn by st.plotly_chart or inside a live chart's iframe."""
    if scope:
        page.wait_for_function(
            "(scope) => window.__emviz.chartRendered(scope)", arg=scope, timeout=timeout
        )
        return page.locator(scope).first
    locator = page.locator(
        f"{PLOTLY_SVG}, [data-testid='stCustomComponentV1'], iframe[title*='emviz_live_chart'],"
        " .emviz-live-chart .main-svg"
    ).first
    locator.wait_for(state="visible", timeout=timeout)
    return locator


def mark_chart(page, scope: str) -> bool:
    """Remember the chart in `scope`; see wait_for_chart_rerender(). False if there is none."""
    return page.evaluate("(scope) => window.__emviz.markChart(scope)", scope)


def wait_for_chart_rerender(page, scope: str, timeout: float = DEFAULT_TIMEOUT_MS) -> None:
    page.wait_for_function(
        "(scope) => window.__emviz.chartRerendered(scope)", arg=scope, timeout=timeout
    )


def seconds_to_redraw(page, scope: str, act, timeout: float = 60_000) -> float:
    """Seconds from ``act()`` to the chart in ``scope`` drawn anew (the rerun then let finish)."""
    mark_chart(page, scope)
    runs = script_runs(page)
    started = time.perf_counter()
    act()
    wait_for_chart_rerender(page, scope, timeout=timeout)
    seconds = time.perf_counter() - started
    wait_for_script_done(page, after=runs, timeout=timeout)
    return seconds


# --------------------------------------------------------------------------------------------
# Screenshots and navigation
# --------------------------------------------------------------------------------------------


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-._").lower() or "page"


def screenshot(page, name: str, *, max_height: int = 8000) -> Path:
    """Save a full-page PNG as tests/screenshots/<name>.png and return its path.

    Streamlit scrolls inside its own container, so the viewport is stretched to the content's
    height for the shot and restored afterwards.
    """
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{slug(name)}.png"
    size = page.viewport_size or VIEWPORT
    height = page.evaluate(
        """() => Math.max(document.documentElement.scrollHeight,
             ...[...document.querySelectorAll(
                  '[data-testid="stMain"], [data-testid="stAppViewContainer"], section.main')]
                .map(e => e.scrollHeight))"""
    )
    height = min(max(int(height), size["height"]), max_height)
    if height > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": height})
        page.wait_for_timeout(300)
    try:
        page.screenshot(path=str(path), full_page=True, animations="disabled")
    finally:
        if height > size["height"]:
            page.set_viewport_size(size)
    return path


def nav_links(page) -> list[tuple[str, str]]:
    """(text, absolute href) of every page link of the app's navigation, in order.

    Empty for a single-page app (Streamlit then shows no navigation). Expands a collapsed
    "View more" list first.
    """
    more = page.locator(NAV_VIEW_MORE)
    if more.count() and "more" in more.first.inner_text().lower():
        more.first.click()
        page.wait_for_timeout(200)
    links = []
    seen = set()
    for link in page.locator(NAV_LINKS).all():
        href = link.get_attribute("href") or ""
        label = link.locator("[label]")  # the page title, without the icon
        words = link.locator('[data-testid="stMarkdownContainer"]')  # a page link's title
        if label.count():
            text = label.first.get_attribute("label")
        else:
            text = words.first.inner_text() if words.count() else link.inner_text()
        text = " ".join((text or "").split())
        key = (text, href)
        if key in seen:
            continue
        seen.add(key)
        links.append((text, urljoin(page.url, href)))
    return links


# --------------------------------------------------------------------------------------------
# The "Step through EM" page (contract: buttons STEP_BUTTONS, "Step <i> of <n>" inside
# .st-key-step-status, the main chart in .st-key-main-chart, the animation in
# .st-key-play-animation)
# --------------------------------------------------------------------------------------------


def read_step(page) -> tuple[int, int] | None:
    """(i, n) from "Step i of n" in the step-status container, or None if not shown."""
    return page.evaluate(
        "() => { const r = window.__emviz && window.__emviz.step(); return r || null; }"
    )


def step_button(page, label: str):
    return page.get_by_role("button", name=label, exact=True)


def wait_for_step(
    page, expected: int | None = None, *, previous: int | None = None, timeout=DEFAULT_TIMEOUT_MS
) -> tuple[int, int]:
    """Wait for "Step <expected> of n" (or, with expected=None, for "Step n of n" != previous)."""
    page.wait_for_function(
        """([expected, previous]) => {
             const r = window.__emviz.step();
             if (!r) return false;
             if (expected !== null) return r[0] === expected;
             return r[0] === r[1] && r[0] !== previous;
           }""",
        arg=[expected, previous],
        timeout=timeout,
    )
    return tuple(read_step(page))


def plotly_slider_active(page, scope: str = PLAY_ANIMATION) -> int | None:
    """The active step of the first Plotly slider of the chart inside `scope`."""
    return page.evaluate(
        """(scope) => {
             const gd = document.querySelector(scope + ' .js-plotly-plot');
             if (!gd) return null;
             const s = (gd._fullLayout && gd._fullLayout.sliders) || (gd.layout || {}).sliders;
             return s && s.length ? s[0].active : null;
           }""",
        scope,
    )


def plotly_slider_steps(page, scope: str = PLAY_ANIMATION) -> int | None:
    return page.evaluate(
        """(scope) => {
             const gd = document.querySelector(scope + ' .js-plotly-plot');
             const s = gd && gd._fullLayout && gd._fullLayout.sliders;
             return s && s.length ? s[0].steps.length : null;
           }""",
        scope,
    )


def play_button(page, scope: str = PLAY_ANIMATION, label: str = "Play"):
    """The animation's button whose text contains ``label`` ("Play", "Fast" or "Pause")."""
    return page.locator(f"{scope} .updatemenu-button").filter(has_text=label).first


class WebSocketSent:
    """Counts the frames the page sends over its websockets (to the Streamlit server).

    Attach before the page connects (right after new_page()); `reset()` starts a new count.
    Events are only delivered while Playwright is waiting (e.g. ``page.wait_for_timeout``).
    """

    def __init__(self, page):
        self.frames: list[int] = []
        page.on("websocket", self._on_socket)

    def _on_socket(self, ws) -> None:
        ws.on("framesent", lambda payload: self.frames.append(len(payload)))

    def reset(self) -> None:
        self.frames.clear()

    @property
    def count(self) -> int:
        return len(self.frames)


# --------------------------------------------------------------------------------------------
# Browser profiles (cold / warm HTTP cache)
# --------------------------------------------------------------------------------------------


def launch_profile(
    playwright, user_data_dir: str | os.PathLike, *, timeout_ms: int = DEFAULT_TIMEOUT_MS, **kwargs
):
    """A new Chromium process on the persistent profile `user_data_dir`, with the run tracker.

    An empty directory is a cold browser (empty HTTP and code caches); launching again on the
    same directory after ``context.close()`` is a warm one that kept what it cached. Returns
    ``(context, page)``; each launch's page opens its own Streamlit session. Close it with
    ``context.close()``.
    """
    exe = chromium_path()
    if exe is None:
        raise RuntimeError("Chromium not found: apt-get install chromium")
    options = {
        "executable_path": exe, "headless": True, "args": CHROMIUM_ARGS, "timeout": 60_000,
        "viewport": VIEWPORT, "device_scale_factor": 1,
    }  # fmt: skip
    options.update(kwargs)
    context = playwright.chromium.launch_persistent_context(str(user_data_dir), **options)
    context.set_default_timeout(timeout_ms)
    context.add_init_script(_TRACKER_JS)
    page = context.pages[0] if context.pages else context.new_page()
    return context, page
