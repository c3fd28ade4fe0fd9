"""Deep links work for the very first visitor of a freshly started server.

Each case starts its own `streamlit run app.py` (deliberately without harness.warm_up, which
would hide the problem) and opens one page's address, with settings in its query string, as
the server's first session: no "Page not found" dialog, no exception, the sidebar highlights
that page, its title is shown and the link's settings hold.

Why this needs care: while a ``pages/`` folder sits next to app.py, Streamlit 1.67 routes a
fresh process's first runs through its legacy file-name router (``_mpa_v1``) before app.py's
st.navigation has switched that off (see emviz.ui.navigation).
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from emviz.settings import ENDS_SECTIONS, FAILURE_SECTIONS

from .harness import (
    REPO_ROOT,
    assert_no_exception,
    current_page_title,
    goto,
    new_page,
    page_not_found,
    screenshot,
    streamlit_server,
)

pytestmark = pytest.mark.browser

FIRST_LOAD_TIMEOUT_MS = 60_000  # a cold server imports numpy, scipy, plotly on the first run
# (address, navigation title, page title, a query whose setting the page then shows)
PAGES = [
    ("", "What is EM?", "Watch the EM algorithm work", ""),
    ("step-through", "Step through EM", "Step through EM", "?k=4&step=2"),
    ("why-em-works", "Why EM works", "Why EM works", "?k=4&step=2"),
    ("landscape", "Likelihood landscape", "Likelihood landscape", "?m1=1.5"),
    ("em-vs-gradient", "EM or gradient ascent?", "EM or gradient ascent?", "?clr=1.0"),
    ("where-em-ends-up", "Where EM ends up", "Where EM ends up", "?etab=restarts&xsep=4.0"),
    ("failure-lab", "Failure lab", "Failure lab", "?ftab=early&flx=10.0"),
    ("choosing-k", "Choosing K", "Choosing K", "?scrit=icl"),
    ("genetic-linkage", "Genetic linkage (1977)", "Genetic linkage (1977)", "?gth=0.3"),
    ("ppca", "Probabilistic PCA", "Probabilistic PCA", "?ppdim=3"),
    ("missing-data", "Missing data", "Missing data", "?mimech=mcar"),
    (
        "hidden-markov",
        "Hidden Markov model",
        "Hidden Markov model: Baum–Welch is EM",
        "?hk=3",
    ),
]
TABS = {"etab": ENDS_SECTIONS, "ftab": FAILURE_SECTIONS}  # tab setting: slug -> tab label


def test_every_page_module_is_named_after_its_address():
    modules = {p.stem for p in Path(REPO_ROOT, "pages").glob("*.py")}
    assert modules == {path or "home" for path, *_ in PAGES}


@pytest.fixture(scope="module")
def fresh_servers():
    """A new server per address, no warm-up, all started at once (a server's start is mostly
    waiting; each still meets its address as its very first session). address -> base URL, or
    the exception that kept it from starting."""
    servers = {path: streamlit_server("app.py") for path, *_ in PAGES}
    with contextlib.ExitStack() as stack, ThreadPoolExecutor(len(servers)) as pool:
        starting = {path: pool.submit(server.__enter__) for path, server in servers.items()}
        bases = {}
        for path, started in starting.items():
            try:
                bases[path] = started.result()
                stack.push(servers[path])  # stopped when the module's tests are done
            except Exception as exc:  # noqa: BLE001 - reported by that address's test
                bases[path] = exc
        yield bases


@pytest.mark.parametrize(("path", "title", "h1", "query"), PAGES, ids=lambda v: v or "root")
def test_deep_link_is_the_first_session_of_a_fresh_server(
    browser, fresh_servers, path, title, h1, query
):
    base = fresh_servers[path]
    if isinstance(base, Exception):
        raise base
    page = new_page(browser, timeout_ms=FIRST_LOAD_TIMEOUT_MS)
    try:
        goto(page, f"{base}/{path}{query}", FIRST_LOAD_TIMEOUT_MS)
        dialog = page_not_found(page)
        assert dialog is None, f"/{path} as the first session shows the dialog {dialog!r}"
        assert_no_exception(page)
        assert current_page_title(page) == title, f"/{path}: the navigation's shown page"
        page.locator("h1").filter(has_text=h1).first.wait_for(state="visible")
        assert page.url.split("?")[0].rstrip("/") == f"{base}/{path}".rstrip("/")
        if "step=2" in query:
            assert "Step 2 of" in page.inner_text(".st-key-step-status")
        if query:
            assert query.split("&")[0].lstrip("?") in page.url  # the view stays linked
        for name, slug in parse_qs(query.lstrip("?")).items():
            if name in TABS:  # the link's tab is the one open
                shown = page.get_by_role("tab", selected=True).inner_text().strip()
                assert shown == TABS[name][slug[0]], f"/{path}{query} opens the tab {shown!r}"
    except Exception:
        with contextlib.suppress(Exception):
            screenshot(page, f"FAILED-deep-link-{path or 'root'}")
        raise
    finally:
        page.context.close()
