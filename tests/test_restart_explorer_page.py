"""AppTest of the restart explorer on "Where EM ends up": its controls, its numbers against
the batch of restarts, and opening a restart in "Step through EM" within one session."""

import numpy as np
from streamlit.testing.v1 import AppTest

from emviz import runs
from emviz.analysis.restarts import group_table
from emviz.settings import model_settings_from, preset_source
from tests.apptest_helpers import ROOT, decode, plotly_figure

PAGE = "pages/where-em-ends-up.py"
STEP = "pages/step-through.py"


def _session() -> AppTest:
    """The page with its restart explorer's tab open."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["etab"] = "restarts"
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    return at


def _expected(n_restarts: int, values: dict | None = None):
    values = values or {}
    source, settings = preset_source(values), model_settings_from(values)
    return runs.restarts(runs.load_data(source), settings, n_restarts)


def _histogram_total(at) -> int:
    figure = plotly_figure(at, "restart_hist")
    return sum(len(decode(trace["x"])) for trace in figure["data"])


def test_the_explorer_shows_the_batch_and_follows_the_number_of_restarts():
    at = _session()
    found = _expected(100)
    assert _histogram_total(at) == 100
    table = next(t.value for t in at.table if "solution" in t.value.columns)
    rows = group_table(found)
    assert list(table["restarts"]) == [row["runs"] for row in rows]
    np.testing.assert_allclose(table["ℓ"], [row["log_likelihood"] for row in rows])
    assert list(table["converged"]) == [
        "yes" if row["stop_reason"] == "converged" else "no" for row in rows
    ]
    at.slider(key="rr").set_value(40).run()
    assert not at.exception
    assert _histogram_total(at) == 40
    text = " ".join(m.value for m in at.markdown)
    assert "**40 restarts**" in text and "seeds 0–39" in text


def test_a_restart_opens_in_the_step_page_with_its_seed():
    at = _session()
    found = _expected(100)
    worst = int(np.argmin(found.log_likelihoods))
    at.selectbox(key="rpick").set_value(worst).run()
    at.button(key="restart_open").click().run()
    assert not at.exception, at.exception
    assert at.number_input(key="iseed").value == found.seeds[worst]
    # the step page's run is that restart: same final log-likelihood and iterations
    status = next(m.value for m in at.markdown if m.value.startswith("**Step "))
    assert f"of {2 * found.iterations[worst]}**" in status
    at.switch_page(STEP).run()  # AppTest's next runs stay on the page st.switch_page opened
    at.button(key="step_converge").click().run()
    status = next(m.value for m in at.markdown if m.value.startswith("**Step "))
    assert f"log-likelihood {found.log_likelihoods[worst]:.4f}" in status


def test_the_initialisations_compared_and_the_pitfalls():
    at = _session()
    at.toggle(key="rcmp").set_value(True).run()
    assert not at.exception
    table = next(t.value for t in at.table if "initialisation" in t.value.columns)
    source, settings = preset_source({}), model_settings_from({})
    expected = runs.initialisation_comparison(runs.load_data(source), settings, 100)
    np.testing.assert_allclose(
        table["reach the best solution"], [row["share_best"] for row in expected]
    )
    np.testing.assert_allclose(
        table["mean iterations"], [row["mean_iterations"] for row in expected]
    )
    texts = [m.value for e in at.expander for m in e.markdown]
    assert any("the largest distance between two means is 0" in t for t in texts)
    assert any("tol = 0.01" in t and "tol = 1e-08" in t for t in texts)
    assert any("numbered its components differently" in t for t in texts)
