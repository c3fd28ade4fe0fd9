"""The learner's settings in the Streamlit session: one store, widgets bound to it, the URL.

Streamlit makes the page part of every widget's identity and forgets a widget's value on any
run that does not draw it, so a setting kept only in a widget key is lost on a page change
(or when its widget is hidden). Here every setting (see `emviz.settings.FIELDS`) lives in one
dict under a non-widget key. A widget is *bound* to its setting: seeded from the store before
it is drawn, and it writes back on change. So a choice holds on every page that shows it,
whichever way the learner moves.

The first run of a session reads the settings from the URL's query string (validated: what
is ignored is named in one notice); every run writes the view back, only what differs from
the defaults, so the address bar and "Link to this view" always open exactly this view.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from emviz.settings import UPLOAD, default_of, parse_query, to_query, value_of

STORE = "emviz_settings"  # field name -> value
NOTICE = "emviz_link_notice"  # what a link asked for and did not get, until the next change
CURSOR_RUNS = "emviz_cursor_runs"  # cursor field -> the run its step belongs to
UPLOAD_FILE = "emviz_upload"  # (name, file id, raw bytes) of the uploaded CSV
MISSING_UPLOAD_FILE = "emviz_missing_upload"  # the same, of "Missing data" (blanks allowed)
LAST_GOOD = "emviz_last_good_data"  # (source, upload bytes) EM last ran on, to fall back on


def open_link() -> None:
    """On a session's first run, take the settings from the URL (once; later runs keep the
    learner's choices whatever the URL says, e.g. after the browser's Back)."""
    if STORE in st.session_state:
        return
    query = {name: st.query_params.get_all(name) for name in st.query_params}
    values, ignored = parse_query(query)
    st.session_state[STORE] = values
    st.session_state[NOTICE] = ignored


def _store() -> dict[str, Any]:
    open_link()
    return st.session_state[STORE]


def get(name: str) -> Any:
    """The current value of setting ``name`` (its default until the learner chooses)."""
    return value_of(name, _store())


def put(name: str, value: Any) -> None:
    _store()[name] = value


def snapshot() -> dict[str, Any]:
    """A copy of every setting chosen so far (for the `emviz.settings` *_from helpers)."""
    return dict(_store())


def note(reason: str) -> None:
    """Add to the notice of what a link asked for and could not get."""
    st.session_state.setdefault(NOTICE, []).append(reason)


def _changed(name: str, from_widget: Callable[[Any], Any], then: Callable[[], None] | None):
    st.session_state.pop(NOTICE, None)  # the learner moved on: the link's notice is old news
    put(name, from_widget(st.session_state[name]))
    if then is not None:
        then()


def bind(
    name: str,
    *,
    options: Sequence[Any] | None = None,
    bounds: tuple[Any, Any] | None = None,
    fallback: Any = None,
    to_widget: Callable[[Any], Any] = lambda value: value,
    from_widget: Callable[[Any], Any] = lambda value: value,
    then: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Keyword arguments that bind a widget to setting ``name``: ``st.slider(..., **bind("k"))``.

    The widget's key is ``name``. Its value is seeded from the store before it is drawn (so
    give the widget no default of its own) and written back on change, then ``then()`` runs.
    A stored value the widget cannot show (unset, not among ``options``, outside ``bounds``)
    is forgotten and gives way to ``fallback`` (else the setting's default, else the first
    option or the nearest bound). Read the widget's return value, not `get(name)`.
    """
    value = to_widget(get(name))
    if not _fits(value, options, bounds):
        forget(name)  # the store never keeps what no widget can show
        value = fallback if fallback is not None else to_widget(default_of(name, _store()))
        if not _fits(value, options, bounds):
            value = options[0] if options is not None else min(max(value, bounds[0]), bounds[1])
    st.session_state[name] = value
    return {"key": name, "on_change": _changed, "args": (name, from_widget, then)}


def _fits(value: Any, options: Sequence[Any] | None, bounds: tuple[Any, Any] | None) -> bool:
    if value is None:
        return False
    if options is not None and value not in options:
        return False
    return bounds is None or bounds[0] <= value <= bounds[1]


def forget(name: str) -> None:
    """Back to the default of ``name`` (which may follow other settings, like K the data)."""
    _store().pop(name, None)


def cursor(field: str, run_id: Any, n_steps: int) -> int:
    """The shown step of the run ``run_id`` (stored under ``field``), within [0, n_steps).

    Back to the initial state when the run changed (other data or settings); a step read from
    a link is kept for the first run it meets, if that run has it.
    """
    runs = st.session_state.setdefault(CURSOR_RUNS, {})
    step = int(get(field))
    if field in runs and runs[field] != run_id:
        step = 0
    elif field not in runs and step >= n_steps:
        note(f"{field} (this run has only {n_steps} steps)")
        step = 0
    runs[field] = run_id
    step = min(max(step, 0), n_steps - 1)
    put(field, step)
    return step


def keep_upload(name: str, file_id: str, raw: bytes, slot: str = UPLOAD_FILE) -> None:
    st.session_state[slot] = (name, file_id, raw)


def kept_upload(slot: str = UPLOAD_FILE) -> tuple[str, str, bytes] | None:
    """The last uploaded file (name, file id, bytes): it outlives the upload widget. ``slot``:
    whose (the step page's, or `MISSING_UPLOAD_FILE`)."""
    return st.session_state.get(slot)


def keep_good_data(source) -> None:
    """Remember ``source`` as the last data EM ran on, to fall back on when a later choice
    cannot be fitted; an upload's bytes are kept with it, as a newer upload replaces the
    kept file."""
    st.session_state[LAST_GOOD] = (source, upload_bytes(source))


def last_good_data(default):
    """The last data source EM ran on (``default`` before any)."""
    kept = st.session_state.get(LAST_GOOD)
    return default if kept is None else kept[0]


def upload_bytes(source) -> bytes | None:
    """The bytes of the uploaded file ``source`` reads (None for a preset, or a file gone):
    the kept upload or, for an older file, the last data EM ran on."""
    if source is None or source.kind != "upload":
        return None
    kept = kept_upload()
    if kept is not None and kept[1] == source.file_id:
        return kept[2]
    good_source, good_raw = st.session_state.get(LAST_GOOD, (None, None))
    if good_source is not None and good_source.file_id == source.file_id:
        return good_raw
    return None


def view_query() -> dict[str, str]:
    """The view as URL query parameters: what differs from the defaults."""
    return to_query(_store())


def publish(url_path: str) -> None:
    """Write the view to the address bar; in the sidebar, a "Link to this view" control and
    the notice of what a link asked for and could not get. Call after the page has run."""
    query = view_query()
    if query != st.query_params.to_dict():
        st.query_params.from_dict(query)
    ignored = st.session_state.get(NOTICE)
    if ignored:
        st.sidebar.warning(
            "The link asked for settings this app cannot show; their defaults are used "
            "instead: " + "; ".join(ignored) + "."
        )
    with st.sidebar.expander("Link to this view", icon=":material/link:"):
        base = (st.context.url or "").rstrip("/")
        page = f"/{url_path}" if url_path else "/"
        base = base.removesuffix(page.rstrip("/"))  # the browser's URL may hold the page too
        link = f"{base}{page}" + (f"?{urlencode(query)}" if query else "")
        # plain text, not st.code: its syntax highlighter is a large download for one line
        st.session_state["view_link"] = link  # shown afresh on every run, whatever was typed
        st.text_input("Copy this link", key="view_link")
        if get("data") == UPLOAD:
            st.caption(
                "An uploaded data set cannot travel in a link: this link opens on a preset, "
                "with your other settings."
            )
        else:
            st.caption("Opens this page with your settings and the shown step.")
