"""Every page renders without an exception; the "Step through EM" page steps and plays.

The step page's contract (pages/step-through.py, url_path "step-through"): buttons labelled
exactly "E-step", "M-step", "Full iteration", "Run to convergence", "Back", "Reset"; the text
"Step <i> of <n>" inside the container with class st-key-step-status; the main chart inside
st-key-main-chart; a Plotly figure with frames, a "▶ Play" updatemenu button and a slider inside
st-key-play-animation.
"""

from __future__ import annotations

import pytest

from .harness import (
    MAIN_CHART,
    PLAY_ANIMATION,
    STEP_BUTTONS,
    WebSocketSent,
    assert_no_exception,
    click_and_wait,
    goto,
    mark_chart,
    nav_links,
    page_not_found,
    play_button,
    plotly_slider_active,
    plotly_slider_steps,
    read_step,
    screenshot,
    step_button,
    toggle_expander,
    wait_for_chart_rerender,
    wait_for_plotly,
    wait_for_step,
)

pytestmark = pytest.mark.browser

LANDING_TITLE = "What is EM?"  # the only page without a Plotly chart
STEP_TITLE = "Step through EM"
STEP_PATH = "step-through"


def open_step_page(page, base_url: str, query: str = "") -> tuple[int, int]:
    """Open the step page and return the shown (step, n); fail clearly if the page is missing."""
    goto(page, f"{base_url}/{STEP_PATH}{query}")
    assert_no_exception(page)
    links = nav_links(page)
    dialog = page_not_found(page)
    if dialog or not any(
        t == STEP_TITLE or h.rstrip("/").endswith("/" + STEP_PATH) for t, h in links
    ):
        pytest.fail(
            f"The {STEP_TITLE!r} page (pages/step-through.py, url_path {STEP_PATH!r}) did not "
            f"open: dialog {dialog!r}; navigation {links}",
            pytrace=False,
        )
    try:
        page.wait_for_function("() => window.__emviz.step() !== null", timeout=15_000)
    except Exception:
        pytest.fail(
            f"{page.url}: no 'Step <i> of <n>' text inside .st-key-step-status", pytrace=False
        )
    return read_step(page)


def press(page, label: str, expected: int | None) -> tuple[int, int]:
    """Click a step button; wait for the rerun, the new step text and the re-drawn main chart."""
    before = read_step(page)[0]
    mark_chart(page, MAIN_CHART)
    click_and_wait(page, step_button(page, label))
    try:
        shown = wait_for_step(page, expected, previous=before, timeout=15_000)
    except Exception:
        raise AssertionError(
            f"after {label!r} from step {before}: expected step "
            f"{'n' if expected is None else expected}, the page shows {read_step(page)}"
        ) from None
    wait_for_plotly(page, MAIN_CHART)
    if shown[0] != before:  # an unchanged figure need not be redrawn
        try:
            wait_for_chart_rerender(page, MAIN_CHART, timeout=15_000)
        except Exception:
            raise AssertionError(
                f"after {label!r} the main chart ({MAIN_CHART}) was not redrawn"
            ) from None
    # The chart may draw the step before the server answers (preloaded); both must agree.
    try:
        page.wait_for_function(
            "([chart, step]) => window.__emviz.chartStep(chart) === step",
            arg=[MAIN_CHART, shown[0]],
            timeout=15_000,
        )
    except Exception:
        chart_step = page.evaluate("(c) => window.__emviz.chartStep(c)", MAIN_CHART)
        raise AssertionError(
            f"after {label!r} the status shows step {shown[0]}, the chart step {chart_step}"
        ) from None
    assert_no_exception(page)
    return shown


def test_step_buttons_move_through_the_run(page, server):
    open_step_page(page, server)
    for label in STEP_BUTTONS:
        assert step_button(page, label).count() == 1, f"expected one {label!r} button"
    if step_button(page, "Reset").is_enabled():
        press(page, "Reset", 0)
    step, n = read_step(page)
    assert step == 0, f"after Reset the page shows step {step} of {n}"
    assert n >= 5, f"the default run has only {n} half-steps; the test needs at least 5"
    wait_for_plotly(page, MAIN_CHART)
    assert step_button(page, "M-step").is_disabled(), "M-step enabled though E-step comes next"

    assert press(page, "E-step", 1) == (1, n)
    assert step_button(page, "E-step").is_disabled(), "E-step enabled though M-step comes next"
    assert press(page, "M-step", 2) == (2, n)
    assert press(page, "Full iteration", 4) == (4, n)
    assert press(page, "Back", 3) == (3, n)
    assert press(page, "Run to convergence", None) == (n, n)
    screenshot(page, "step-through-after-sequence")


def test_play_runs_in_the_browser(page, server):
    sent = WebSocketSent(page)  # before the page connects
    open_step_page(page, server)
    wait_for_plotly(page, PLAY_ANIMATION)
    start = plotly_slider_active(page)
    steps = plotly_slider_steps(page)
    assert start is not None, f"no Plotly slider in {PLAY_ANIMATION}"
    assert steps - 1 - start >= 3, (
        f"slider at {start} of {steps} steps: too few frames left to play"
    )
    button = play_button(page)
    assert button.count() == 1, f"no updatemenu button with 'Play' in {PLAY_ANIMATION}"
    button.scroll_into_view_if_needed()
    page.wait_for_timeout(200)
    sent.reset()

    button.click()
    page.wait_for_timeout(2500)  # "▶ Play" shows at most 400 ms per frame
    active = plotly_slider_active(page)
    frames_sent = sent.count
    screenshot(page, "step-through-playing")
    assert active - start >= 3, f"slider went from {start} to {active} in 2.5 s of Play"
    assert frames_sent == 0, (
        f"the browser sent {frames_sent} websocket message(s) to the server while playing "
        f"(sizes {sent.frames[:10]}): playback must not rerun the script"
    )
    assert_no_exception(page)


def _main_chart_points(page) -> int:
    wait_for_plotly(page, MAIN_CHART)
    return page.evaluate(f"() => window.__emviz.graph('{MAIN_CHART}')._fullData[0].x.length")


def _upload(page, name: str, content: bytes) -> None:
    chooser = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    chooser.set_input_files({"name": name, "mimeType": "text/csv", "buffer": content})
    page.wait_for_timeout(300)
    wait_for_plotly_or_error(page)


def wait_for_plotly_or_error(page) -> None:
    from .harness import wait_for_script_done

    wait_for_script_done(page)


def test_csv_upload_good_and_bad(page, server, tmp_path):
    """A bad file shows its DataError message and keeps the previous data; a good one is used."""
    open_step_page(page, server, "?data=faithful")
    assert _main_chart_points(page) == 272
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="Upload a CSV file").click()
    wait_for_plotly_or_error(page)

    _upload(page, "bad.csv", b"x,y\n1,2\nabc,3\n4,5\n")
    error = page.locator('[data-testid="stSidebar"] [data-testid="stAlertContentError"]')
    error.first.wait_for(timeout=15_000)
    assert 'non-numeric value "abc"' in error.first.inner_text()
    assert_no_exception(page)
    assert _main_chart_points(page) == 272, "the previous data (Old Faithful) stays on screen"
    screenshot(page, "step-through-bad-upload")

    rows = "\n".join(f"{i * 0.5},{(i % 7) * 1.5}" for i in range(40))
    _upload(page, "good.csv", f"a,b\n{rows}\n".encode())
    page.wait_for_function(
        f"() => window.__emviz.graph('{MAIN_CHART}')?._fullData[0].x.length === 40",
        timeout=15_000,
    )
    assert_no_exception(page)
    assert (
        page.locator('[data-testid="stSidebar"] [data-testid="stAlertContentError"]').count() == 0
    )
    screenshot(page, "step-through-good-upload")


@pytest.mark.parametrize("query", ["", "?data=blobs&n=5000"], ids=["default", "5000-points"])
def test_clicking_a_point_opens_it_in_the_inspector(page, server, query):
    """Also with more points than a chart draws: the 2 000 drawn are a sample, said so in the
    chart, drawn in SVG under the ellipses, and a click still names the point's own row."""
    open_step_page(page, server, query)
    press(page, "Full iteration", 2)
    if query:
        assert _main_chart_points(page) == 2000
        assert "2,000 of 5,000 points drawn" in page.inner_text(MAIN_CHART)
        assert page.locator(f"{MAIN_CHART} .gl-canvas").count() == 0  # no WebGL layer
    # the point's pixel position from Plotly's own axes
    inner = page.evaluate(
        f"""() => {{ const gd = window.__emviz.graph('{MAIN_CHART}');
                   const t = gd._fullData[0], L = gd._fullLayout;
                   const r = gd.getBoundingClientRect();
                   return [r.left + L.xaxis._offset + L.xaxis.l2p(t.x[7]),
                           r.top + L.yaxis._offset + L.yaxis.l2p(t.y[7])]; }}"""
    )
    x, y = inner  # the chart is drawn in the page itself: its box is in page coordinates
    page.mouse.move(x, y)
    page.wait_for_timeout(200)
    page.mouse.click(x, y)
    number = page.locator(".st-key-pt input").first
    page.wait_for_function(
        "() => document.querySelector('.st-key-pt input')?.value !== '0'", timeout=15_000
    )
    picked = int(number.input_value())
    # Plotly picks the point under the cursor: drawn point 7, or one drawn on the same spot;
    # the inspector shows its row in the data (customdata), whatever sample is drawn
    xy = page.evaluate(
        f"(row) => {{ const t = window.__emviz.graph('{MAIN_CHART}')._fullData[0];"
        " const i = Array.from(t.customdata).indexOf(row);"
        " return i < 0 ? null : [[t.x[i], t.y[i]], [t.x[7], t.y[7]]]; }",
        picked,
    )
    assert xy is not None, f"the inspector shows point {picked}, which is not drawn"
    assert xy[0] == pytest.approx(xy[1], abs=0.15), f"clicked point 7, inspector shows {picked}"
    assert f"Point {picked} at" in page.inner_text("body")
    assert_no_exception(page)


LAND_CHART = ".st-key-land_chart"


def _land_frame(page):
    """The landscape chart lives in the page itself (emviz.ui.live_chart)."""
    page.wait_for_function("() => Number(__emviz.graph('.st-key-land_chart')?.dataset.renders) > 0")
    return page


def _renders(frame) -> int:
    return frame.evaluate("() => Number(__emviz.graph('.st-key-land_chart').dataset.renders)")


def test_landscape_click_sets_a_new_start_and_the_saddle_demo(page, server):
    goto(page, f"{server}/landscape")
    assert_no_exception(page)
    frame = _land_frame(page)
    area = frame.locator(".nsewdrag").first.bounding_box()
    x, y = area["x"] + 0.3 * area["width"], area["y"] + 0.3 * area["height"]
    before = _renders(frame)
    page.mouse.move(x, y)
    page.wait_for_timeout(200)
    page.mouse.click(x, y)
    frame.wait_for_function(
        "(n) => Number(__emviz.graph('.st-key-land_chart').dataset.renders) > n", arg=before
    )
    start = frame.evaluate(
        "() => __emviz.graph('.st-key-land_chart')._fullData.find(t => t.name === 'start').x[0]"
    )
    axis = frame.evaluate("() => __emviz.graph('.st-key-land_chart')._fullLayout.xaxis.range")
    assert start == pytest.approx(axis[0] + 0.3 * (axis[1] - axis[0]), abs=0.15)
    assert_no_exception(page)

    before = _renders(frame)
    click_and_wait(page, page.get_by_role("button", name="Start at the saddle"))
    frame.wait_for_function(
        "(n) => Number(__emviz.graph('.st-key-land_chart').dataset.renders) > n", arg=before
    )
    em_end, saddle = frame.evaluate(
        """() => { const d = __emviz.graph('.st-key-land_chart')._fullData;
                   const em = d.find(t => t.name.startsWith('EM'));
                   const s = d.find(t => t.name === 'saddle');
                   const last = em.x.length - 1;
                   return [[em.x[last], em.y[last]], [s.x[0], s.y[0]]]; }"""
    )
    assert em_end == pytest.approx(saddle, abs=1e-6), "EM started at the saddle stays there"
    screenshot(page, "landscape-saddle-demo")
    assert_no_exception(page)


WHY_PATH = "why-em-works"


def _alert_text(page, text: str, timeout: float = 15_000) -> str:
    alert = page.locator('[data-testid="stAlert"]', has_text=text).first
    alert.wait_for(timeout=timeout)
    return alert.inner_text()


def test_why_em_works_steps_and_the_audit_catches_a_broken_m_step(page, server):
    goto(page, f"{server}/{WHY_PATH}")
    assert_no_exception(page)
    assert page_not_found(page) is None
    for chart in ("decomposition_chart", "slice_chart", "q_entropy_chart", "jensen_chart"):
        wait_for_plotly(page, f".st-key-{chart}")
    assert "ℓ never fell" in _alert_text(page, "ℓ never fell")
    mark_chart(page, ".st-key-decomposition_chart")
    click_and_wait(page, step_button(page, "Full iteration"))
    assert read_step(page)[0] == 2
    wait_for_chart_rerender(page, ".st-key-decomposition_chart")
    assert "M-step:" in page.inner_text("body")
    screenshot(page, "why-em-works-step-2")

    page.get_by_text("Break it", exact=True).click()  # default: the over-shooting M-step
    text = _alert_text(page, "ℓ fell")
    assert "the M-step lowered the lower bound" in text
    assert read_step(page)[0] == 0  # a new run starts at its initial state
    assert_no_exception(page)
    screenshot(page, "why-em-works-broken")

    page.get_by_text("Two-mean mixture (1-D)").click()
    click_and_wait(page, step_button(page, "Full iteration"))
    wait_for_plotly(page, ".st-key-surface_chart")
    assert_no_exception(page)
    screenshot(page, "why-em-works-two-means")


def test_step_page_shows_what_the_hidden_labels_cost(page, server):
    goto(page, f"{server}/{STEP_PATH}?data=elongated")
    assert_no_exception(page)
    assert page.locator(".st-key-kl_chart").count() == 0  # closed: nothing computed or drawn
    expander = toggle_expander(page, "What the hidden labels cost")  # opening reruns the page
    wait_for_plotly(page, ".st-key-kl_chart")
    assert "lab=1" in page.url  # open is a setting: in the view's link
    text = expander.inner_text()
    assert "labels known (one step)" in text and "EM, labels hidden" in text
    assert "What the hidden labels cost:" in text
    screenshot(page, "step-known-labels")
    goto(page, f"{server}/{STEP_PATH}?data=faithful&lab=1")  # a link with it open
    expander = page.locator('[data-testid="stExpander"]', has_text="What the hidden labels cost")
    expander.get_by_text("generated presets").wait_for()
    assert_no_exception(page)
