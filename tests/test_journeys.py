"""The app is one app: settings follow the learner across pages, and links open the view.

AppTest within one session (`switch_page`), as a learner moves with the sidebar; and fresh
sessions opened with a view's query string, as a teacher's link would.
"""

import json
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from emviz import runs
from emviz.settings import BreakMode, Family, ModelSettings, Variant, preset_source
from tests.apptest_helpers import ROOT, choose, decode, plotly_figure

STEP, WHY, LAND, CMP = (
    "pages/step-through.py",
    "pages/why-em-works.py",
    "pages/landscape.py",
    "pages/em-vs-gradient.py",
)
WIDGETS = ("slider", "selectbox", "number_input", "radio", "toggle", "select_slider", "multiselect")


def _session(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, at.exception
    return at


def _go(at: AppTest, page: str) -> AppTest:
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def _status(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Step "))


def _settings(at) -> dict:
    """Every keyed widget's value on the shown page (main area and sidebar)."""
    shown = {}
    for kind in WIDGETS:
        for widget in getattr(at, kind):
            if widget.key:
                shown[widget.key] = widget.value
    return shown


def _figures(at) -> dict:
    """Every figure's data on the shown page: live charts and st.plotly_chart, by key."""
    figures = {}
    for element in at.get("bidi_component"):
        args = json.loads(element.proto.json)
        if "spec" in args:  # not the plotly.js preloader
            figures[element.proto.id.rsplit("-", 1)[-1]] = json.loads(args["spec"])["data"]
    for element in at.get("plotly_chart"):
        figures[element.proto.id] = json.loads(element.proto.spec)["data"]
    return figures


def _click(at, action: str, times: int = 1) -> None:
    for _ in range(times):
        at.button(key=f"step_{action}").click().run()
        assert not at.exception, at.exception


def _components(at) -> int:
    """K as the step page's parameter table shows it: one row per component."""
    return len(at.table[0].value.index)


# ---- one session, page to page ----

GAUSSIAN_CHOICES = {  # a non-default value for every setting the two Gaussian pages share
    "data": "Heavy overlap",
    "n": 300,
    "seed": 2,
    "k": 4,
    "cov": "diag",
    "init": "random_from_data",
    "iseed": 3,
    "reg": 1e-4,
    "tol": 1e-8,
    "iters": 150,
}


def _choose_gaussian(at) -> None:
    for key, value in GAUSSIAN_CHOICES.items():
        widget = next(w for kind in WIDGETS for w in getattr(at, kind) if w.key == key)
        widget.set_value(value).run()
        assert not at.exception, (key, at.exception)


def _reference_gaussian():
    source = preset_source(GAUSSIAN_CHOICES)
    settings = ModelSettings(4, "diag", "random_from_data", 3, 1e-4, 1e-8, 150)
    history, error = runs.fit(runs.load_data(source), settings)
    assert history is not None, error
    return history


def _check_gaussian(at, page: str, step: int) -> None:
    settings = _settings(at)
    assert {key: settings[key] for key in GAUSSIAN_CHOICES} == GAUSSIAN_CHOICES, page
    reference = _reference_gaussian()
    assert _status(at).startswith(f"**Step {step} of {len(reference) - 1}**"), page
    if page == STEP:
        assert _components(at) == 4
        figure = json.loads(json.loads(at.get("bidi_component")[0].proto.json)["spec"])
        assert figure["layout"]["title"]["text"].startswith(f"Step {step} ")
        means = next(t for t in figure["data"] if t.get("name", "").startswith("means"))
        np.testing.assert_allclose(decode(means["x"]), reference[step].params.means[:, 0])
    else:
        ll = next(
            t
            for t in plotly_figure(at, "decomposition_chart")["data"]
            if t.get("name") == "ln p(X | θ)"
        )
        np.testing.assert_allclose(decode(ll["y"]), reference.column("log_likelihood"))


@pytest.mark.parametrize("first, second", [(STEP, WHY), (WHY, STEP)])
def test_gaussian_settings_and_step_hold_between_pages(first, second):
    at = _go(_session(), first)
    _choose_gaussian(at)
    _click(at, "iteration", 3)
    _check_gaussian(at, first, 6)
    _go(at, second)
    _check_gaussian(at, second, 6)
    _click(at, "back")  # a step moved here holds there too
    _go(at, first)
    _check_gaussian(at, first, 5)


def test_two_mean_start_and_sample_hold_between_landscape_and_why_em_works():
    at = _go(_session(), LAND)
    at.slider(key="ln").set_value(150).run()
    at.number_input(key="m1").set_value(1.0).run()
    at.number_input(key="m2").set_value(3.5).run()
    landscape = _figures(at)["land_chart"]
    start = next(t for t in landscape if t.get("name", "").startswith("start"))
    assert (start["x"][0], start["y"][0]) == (1.0, 3.5)

    _go(at, WHY)
    at.sidebar.radio(key="fam").set_value(Family.TWO_MEANS).run()
    assert (at.number_input(key="m1").value, at.number_input(key="m2").value) == (1.0, 3.5)
    assert "150 points" in " ".join(c.value for c in at.sidebar.caption)
    sample = runs.landscape_sample(runs.LandscapeSettings(n_samples=150))
    model = runs.LandscapeSettings(n_samples=150).model()
    reference = runs.run_em(model, sample[:, None], model.params(1.0, 3.5), max_iter=200, tol=1e-8)
    traces = plotly_figure(at, "decomposition_chart")["data"]
    ll = next(t for t in traces if t.get("name") == "ln p(X | θ)")
    np.testing.assert_allclose(decode(ll["y"]), reference.column("log_likelihood"))
    _click(at, "iteration", 2)
    at.number_input(key="m2").set_value(3.0).run()  # chosen here, seen on the landscape

    _go(at, LAND)
    assert (at.number_input(key="m1").value, at.number_input(key="m2").value) == (1.0, 3.0)
    assert at.slider(key="ln").value == 150
    _go(at, WHY)
    assert at.sidebar.radio(key="fam").value is Family.TWO_MEANS
    assert at.number_input(key="m2").value == 3.0


def test_hidden_then_shown_widgets_keep_their_values():
    at = _go(_session(), WHY)
    at.toggle(key="bk").set_value(True).run()
    at.slider(key="f").set_value(1.5).run()
    at.toggle(key="bk").set_value(False).run()  # the factor's slider is gone…
    assert not any(s.key == "f" for s in at.slider)
    at.toggle(key="bk").set_value(True).run()  # …and back with its value
    assert at.slider(key="f").value == 1.5
    at.radio(key="brk").set_value(BreakMode.FORGET_WEIGHTS).run()
    at.radio(key="brk").set_value(BreakMode.OVERSHOOT).run()
    assert at.slider(key="f").value == 1.5

    at.slider(key="k").set_value(5).run()
    at.selectbox(key="cov").set_value("spherical").run()
    at.sidebar.radio(key="fam").set_value(Family.TWO_MEANS).run()
    at.sidebar.radio(key="fam").set_value(Family.GAUSSIAN).run()
    assert (at.slider(key="k").value, at.selectbox(key="cov").value) == (5, "spherical")

    at.slider(key="n").set_value(300).run()
    at.selectbox(key="data").set_value("Old Faithful (standardised)").run()  # no size to set
    assert not any(s.key == "n" for s in at.slider)
    at.selectbox(key="data").set_value("Heavy overlap").run()
    assert at.slider(key="n").value == 300


def test_the_step_pages_mixture_is_the_one_restarted_and_the_restarts_hold():
    ends = "pages/where-em-ends-up.py"
    at = _go(_session(), STEP)
    at.slider(key="k").set_value(4).run()
    at.selectbox(key="cov").set_value("diag").run()
    _go(at, ends)
    choose(at, etab="restarts")  # the tab of the restarts
    text = " ".join(m.value for m in at.markdown)
    assert "(K = 4, diag covariances)" in text
    at.slider(key="rr").set_value(50).run()
    _go(at, LAND)
    _go(at, ends)
    assert at.slider(key="rr").value == 50
    assert "**50 restarts**" in " ".join(m.value for m in at.markdown)
    _go(at, STEP)
    assert (at.slider(key="k").value, at.selectbox(key="cov").value) == (4, "diag")


AUDIT_PAGES = [
    "pages/genetic-linkage.py",
    "pages/missing-data.py",
    "pages/ppca.py",
    "pages/hidden-markov.py",
]


def test_the_open_tab_and_the_audits_details_hold_across_pages():
    """Tabs and the audit's expander are bound to settings like any widget: the tab opened on
    a page is open when the learner comes back, and the audit's details opened on one page
    are open on every page with an audit, until closed on any of them."""
    failure, ends = "pages/failure-lab.py", "pages/where-em-ends-up.py"
    at = choose(_go(_session(), failure), ftab="early")
    choose(_go(at, ends), etab="restarts")
    assert "audit_chart" not in _figures(_go(at, WHY))  # closed by default
    assert "audit_chart" in _figures(choose(at, aud=True))
    for page in AUDIT_PAGES:
        assert "audit_chart" in _figures(_go(at, page)), page
    choose(at, aud=False)
    assert "audit_chart" not in _figures(_go(at, WHY))
    assert set(_figures(_go(at, failure))) == {"fl_early_stop"}
    assert set(_figures(_go(at, ends))) == {"restart_hist", "restart_groups", "restart_best_worst"}
    assert dict(at.query_params) == {"etab": "restarts", "ftab": "early"}


# ---- links ----


def _step_view(at):
    at.slider(key="k").set_value(4).run()
    at.selectbox(key="cov").set_value("spherical").run()
    at.number_input(key="seed").set_value(5).run()
    _click(at, "iteration", 2)
    at.number_input(key="pt").set_value(17).run()
    choose(at, lab=True)  # the labels-known comparison open (K = 4: it says why it cannot)
    assert any("set K = 3" in box.value for box in at.info)


def _why_view(at):
    at.slider(key="k").set_value(2).run()
    at.selectbox(key="dir").set_value(1).run()
    at.number_input(key="jp").set_value(10).run()
    at.toggle(key="bk").set_value(True).run()
    at.radio(key="brk").set_value(BreakMode.FORGET_WEIGHTS).run()
    _click(at, "iteration")


def _why_two_mean_view(at):
    at.sidebar.radio(key="fam").set_value(Family.TWO_MEANS).run()
    at.number_input(key="m1").set_value(-0.25).run()
    directions = at.selectbox(key="dir").options
    at.selectbox(key="dir").set_value(len(directions) - 1).run()  # a random direction
    at.number_input(key="dseed").set_value(7).run()
    _click(at, "iteration", 2)


def _landscape_view(at):
    at.slider(key="ln").set_value(150).run()
    at.slider(key="lm2").set_value(1.5).run()
    at.select_slider(key="lr").set_value(1.0).run()
    at.button(key="land_saddle").click().run()


def _comparison_view(at):
    at.select_slider(key="clr").set_value(1.0).run()


def _ends_view(at):  # a setting in each tab, the last tab left open
    at.slider(key="xsep").set_value(2.0).run()
    choose(at, etab="more")
    at.radio(key="jdim").set_value(2).run()
    at.slider(key="jk").set_value(5).run()
    choose(at, etab="restarts")
    at.slider(key="rr").set_value(60).run()
    at.toggle(key="rcmp").set_value(True).run()


def _failure_view(at):
    at.select_slider(key="flx").set_value(10.0).run()
    at.slider(key="flit").set_value(3).run()
    at.select_slider(key="flreg").set_value(1e-2).run()
    choose(at, ftab="slow").select_slider(key="flsep").set_value(2.5).run()
    choose(at, ftab="early").select_slider(key="fltol").set_value(1e-3).run()


def _choosing_view(at):
    at.slider(key="sr").set_value(2).run()
    at.number_input(key="sseed").set_value(4).run()
    at.radio(key="scrit").set_value("icl").run()
    at.multiselect(key="scov").unselect("diag").run()


def _linkage_view(at):
    at.number_input(key="gy2").set_value(25).run()
    at.number_input(key="gth").set_value(0.8).run()
    _click(at, "iteration", 2)


def _ppca_view(at):
    at.radio(key="ppdim").set_value(3).run()
    at.select_slider(key="ppnoise").set_value(1.0).run()
    at.radio(key="ppinit").set_value("first_axis").run()
    at.button(key="step_iteration").click().run()


def _missing_view(at):
    at.radio(key="mimech").set_value("MCAR").run()
    at.slider(key="mishare").set_value(0.5).run()
    at.number_input(key="miseed").set_value(2).run()
    at.button(key="step_e_step").click().run()


def _hidden_markov_view(at):
    at.slider(key="hk").set_value(3).run()
    at.slider(key="hn").set_value(800).run()
    at.selectbox(key="hinit").select("random").run()
    at.number_input(key="hseed").set_value(5).run()
    _click(at, "iteration", 2)


VIEWS = {
    "step": (STEP, _step_view),
    "why": (WHY, _why_view),
    "why-two-means": (WHY, _why_two_mean_view),
    "landscape": (LAND, _landscape_view),
    "comparison": (CMP, _comparison_view),
    "ends": ("pages/where-em-ends-up.py", _ends_view),
    "failure": ("pages/failure-lab.py", _failure_view),
    "choosing": ("pages/choosing-k.py", _choosing_view),
    "linkage": ("pages/genetic-linkage.py", _linkage_view),
    "ppca": ("pages/ppca.py", _ppca_view),
    "missing": ("pages/missing-data.py", _missing_view),
    "hidden-markov": ("pages/hidden-markov.py", _hidden_markov_view),
}


@pytest.mark.parametrize("view", list(VIEWS))
def test_a_link_opens_the_same_view(view):
    page, interact = VIEWS[view]
    at = _go(_session(), page)
    interact(at)
    query = dict(at.query_params)
    assert query, "the view differs from the defaults, so its link carries settings"
    link = at.sidebar.text_input(key="view_link").value
    assert all(f"{name}=" in link for name in query)
    fresh = _go(_session(query), page)
    assert _settings(fresh) == _settings(at)
    assert _figures(fresh) == _figures(at)
    if page in (STEP, WHY):
        assert _status(fresh) == _status(at)
    assert not fresh.sidebar.warning  # nothing was ignored
    assert dict(fresh.query_params) == query


def test_every_page_with_settings_has_a_link_view(keys_by_page):
    with_settings = {page for page in PAGE_FILES if keys_by_page[page]}
    assert with_settings == {page for page, _ in VIEWS.values()}


HOSTILE_LINKS = [
    {"k": "0"},
    {"k": "-3"},
    {"k": "abc"},
    {"k": ["3", "5"]},
    {"n": "1000000000"},
    {"n": "NaN"},
    {"seed": "9" * 5000},
    {"tol": "0.5"},
    {"iters": "1e9"},
    {"data": "upload"},
    {"cov": "<b>full</b>"},
    {"step": "999999"},
    {"pt": "600"},
    {"m1": "inf", "lr": "7"},
    {"foo": "bar"},
    {"[x](javascript:alert(1))": "1"},
    {"fam": "two\u0000"},
    {"rpick": "100000"},
    {"hk": "99"},
    {"gy1": "-5"},
    {"flx": "7"},
    {"ftab": "all", "aud": "yes"},
]


@pytest.fixture(scope="module")
def default_step_view():
    started = time.perf_counter()
    at = _go(_session(), STEP)
    return _settings(at), _figures(at), _status(at), time.perf_counter() - started


@pytest.mark.parametrize("query", HOSTILE_LINKS, ids=lambda q: "&".join(q)[:30])
def test_a_hostile_link_opens_the_default_view_with_a_notice(query, default_step_view):
    settings, figures, status, seconds = default_step_view
    started = time.perf_counter()
    at = _go(_session(query), STEP)
    elapsed = time.perf_counter() - started
    assert not at.error
    assert (_settings(at), _figures(at), _status(at)) == (settings, figures, status)
    notice = " ".join(w.value for w in at.sidebar.warning)
    assert "defaults are used instead" in notice
    for name in query:
        shown = name if name.isalnum() else "?"
        assert shown in notice
    assert "<b>" not in notice and "](" not in notice
    # the same computation as the default view (cached here, so no slower than it was cold)
    assert elapsed <= seconds + 5.0


# ---- every ordered pair of pages that share a setting ----

PAGE_FILES = sorted(f"pages/{path.name}" for path in (ROOT / "pages").glob("*.py"))
NOT_A_SETTING = {"view_link"}  # the link box is on every page, but it shows the view
# the pages that show a setting another page shows too (checked against the pages below)
SHARING_PAGES = [
    "pages/choosing-k.py",
    "pages/failure-lab.py",
    "pages/step-through.py",
    "pages/where-em-ends-up.py",
    "pages/why-em-works.py",
]
SHARED_CHOICES = {  # a non-default value for every setting two pages show by default
    **GAUSSIAN_CHOICES,
    "var": Variant.TEMPERED,
    "temp": 0.5,
}


def _keys(at) -> set[str]:
    return set(_settings(at)) - NOT_A_SETTING


@pytest.fixture(scope="module")
def keys_by_page() -> dict[str, set[str]]:
    """The settings each page shows by default, read from the pages themselves."""
    at = _session()
    return {page: _keys(_go(at, page)) for page in PAGE_FILES}


def _partners(keys_by_page, page: str) -> list[str]:
    return [
        other for other in PAGE_FILES if other != page and keys_by_page[page] & keys_by_page[other]
    ]


def _choose(at, keys: set[str]) -> None:
    """Set every chosen setting the page shows (the variant first: its control follows)."""
    for key in sorted(keys & set(SHARED_CHOICES), key=lambda k: (k != "var", k)):
        widget = next(w for kind in WIDGETS for w in getattr(at, kind) if w.key == key)
        widget.set_value(SHARED_CHOICES[key]).run()
        assert not at.exception, (key, at.exception)
    if "temp" in _keys(at):
        at.select_slider(key="temp").set_value(SHARED_CHOICES["temp"]).run()


def _chosen(at, keys: set[str]) -> dict:
    shown = _settings(at)
    return {key: shown[key] for key in keys}


def test_every_setting_two_pages_show_has_a_choice(keys_by_page):
    shared = {
        key
        for page in PAGE_FILES
        for other in _partners(keys_by_page, page)
        for key in keys_by_page[page] & keys_by_page[other]
    }
    assert shared - {"step"} <= set(SHARED_CHOICES), shared - set(SHARED_CHOICES)
    assert [p for p in PAGE_FILES if _partners(keys_by_page, p)] == SHARING_PAGES


@pytest.fixture(scope="module")
def linked_figures():
    """The figures of `page` opened fresh with `query` (each view opened once per module)."""
    opened = {}

    def figures(page: str, query: dict) -> dict:
        view = (page, tuple(sorted(query.items())))
        if view not in opened:
            opened[view] = _figures(_go(_session(query), page))
        return opened[view]

    return figures


@pytest.mark.parametrize("first", SHARING_PAGES, ids=lambda p: p[6:-3])
def test_shared_settings_hold_from_each_page_to_every_other(first, keys_by_page, linked_figures):
    """Set every shared setting on `first` (and step three iterations where it steps), visit
    each page that shows one of them and come back: the values, the shown step and the
    figures are kept, and each visited page draws what a fresh link to that view draws."""
    partners = _partners(keys_by_page, first)
    at = _go(_session(), first)
    _choose(at, _keys(at))
    if any(b.key == "step_iteration" for b in at.button):
        _click(at, "iteration", 3)
    keys, figures = _keys(at), _figures(at)
    values = _chosen(at, keys)
    for second in partners:
        _go(at, second)
        shared = keys & _keys(at)
        assert _chosen(at, shared) == {key: values[key] for key in shared}, second
        assert _figures(at) == linked_figures(second, dict(at.query_params)), second
        _go(at, first)
        assert _chosen(at, keys) == values, (first, second)
        assert _figures(at) == figures, (first, second)
