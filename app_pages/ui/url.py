"""The URL's state: inputs declared through the gate, Back memory, the warning, the share link.

How a page uses it
------------------
1. Declare every URL parameter of the page first, before any of its widgets::

       url.declare(*url.option_specs(speculative.Options))

   :func:`declare` checks each parameter's URL value by its spec (``gate.check``): a bad
   value is removed from ``st.query_params`` (a repeated one reduced to its last value,
   a fraction rounded) and noted; if the URL changed, the run restarts (``st.rerun``) so
   the bound widgets start from the cleaned URL. The sidebar declares its parameters the
   same way before drawing them.
2. Draw each declared parameter with ``widgets.widget(name)``.
3. ``app.py`` calls :func:`begin` first, :func:`link_slot` after the sidebar and
   :func:`finish` after the page: it drops parameters no page declared, shows one
   warning naming every parameter not taken as it stood, and draws the share link.
4. The page's own inputs and what is drawn from them go in a function decorated with
   :func:`fragment`: a change of them reruns only that function, which then redraws the
   share link (in the sidebar, outside the fragment) with their new values.

Back and Forward: Streamlit writes a widget change into the URL with
``history.replaceState`` (no history entry), and leaving a page drops the page's own
parameters from its history entry. So this module remembers each page's own values for
the session and puts them back when the page is entered with none of them in the URL
(Back to the page, or its menu link); a link that holds any of them is taken as it is.
The sidebar's values travel in every menu link (``sidebar.menu``), so they follow the
user from page to page.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.state.query_params import (
    CLIENT_STATE_QUERY_STRING_MAX_FIELDS,
    CLIENT_STATE_QUERY_STRING_MAX_LENGTH,
)

from app_pages.ui import cache, gate
from app_pages.ui.text import escape
from costmodel.spec import Spec, specs

# Private session-state keys.
_DECLARED = "_ui_declared"  # key -> Spec, this run
_NOTES = "_ui_notes"  # key -> (URL text, note), kept across the gate's rerun
_RERUNS = "_ui_gate_reruns"  # consecutive reruns by the gate (a guard against loops)
_SHARED = "_ui_shared"  # keys declared by the sidebar, this run
_PAGE = "_ui_page"  # URL path of this run's page
_PAGE_OBJECT = "_ui_page_object"  # ... as st.navigation returned it
_MEMORY = "_ui_page_memory"  # page -> its own non-default values (URL text)
_LINK_SLOT = "_ui_link_slot"  # the sidebar's st.empty that holds the share link
APP_RERUN = "_ui_app_rerun"  # a callback set a sidebar value: a fragment reruns the app
_RUNNING = "_ui_fragments_running"  # fragment calls under way (nested ones count)
_MAX_GATE_RERUNS = 3


def concrete(spec: Spec) -> Spec:
    """``spec`` with its catalog table's ids as its choices (the session's catalog)."""
    if spec.catalog_table is None or spec.choices:
        return spec
    ids = tuple(getattr(cache.catalog(), spec.catalog_table).index)
    return dataclasses.replace(spec, choices=ids)


def option_specs(options_class: type, **changes: dict[str, Any]) -> tuple[Spec, ...]:
    """The concrete specs of an analysis's ``Options``, each with ``changes[name]`` (e.g.
    ``{"default": ...}`` for a page's own default)."""
    return tuple(
        concrete(dataclasses.replace(spec, **changes.get(name, {})))
        for name, spec in specs(options_class).items()
    )


class PageStopped(Exception):
    """Raised by :func:`stop_page`; app.py catches it and still ends the run."""


def stop_page() -> None:
    """Stop drawing the page (after it said why), but keep the URL warning and share link.

    ``st.stop()`` would also discard what app.py draws after the page.
    """
    raise PageStopped


def begin(page: Any) -> None:
    """Start a run on ``page`` (what ``st.navigation`` returned): forget last run's
    declarations. Call first in app.py, right after ``st.navigation``.

    On a new page, the last page's own values leave the session state (they are
    remembered for Back: :func:`_restore`), so an input of the same name, such as
    ``min_tokens_per_s_per_user`` on the frontier and GPU comparison pages, starts at
    this page's value, not at the last page's.
    """
    if st.session_state.get(_PAGE, page.url_path) != page.url_path:
        for key in set(declared()) - st.session_state.get(_SHARED, set()):
            if key in st.session_state:
                del st.session_state[key]
    st.session_state[_DECLARED] = {}
    st.session_state[_SHARED] = set()
    st.session_state[APP_RERUN] = False
    st.session_state[_RUNNING] = 0
    st.session_state[_PAGE] = page.url_path
    st.session_state[_PAGE_OBJECT] = page


def page_path() -> str:
    """This run's page URL path ("" for Home)."""
    return st.session_state.get(_PAGE, "")


def declared() -> dict[str, Spec]:
    """Every parameter declared so far in this run: key -> Spec."""
    return st.session_state.setdefault(_DECLARED, {})


def spec(key: str) -> Spec:
    """The declared spec of ``key``; ``KeyError`` saying to declare it first."""
    found = declared().get(key)
    if found is None:
        raise KeyError(f"declare {key!r} with url.declare(...) before drawing it")
    return found


def shared_keys() -> set[str]:
    """The keys the sidebar declared this run."""
    return st.session_state.setdefault(_SHARED, set())


def declare(*specs_: Spec, shared: bool = False) -> None:
    """Declare URL parameters and pass their URL values through the gate.

    Call before any of their widgets exists. A value not taken as it stands is noted
    and corrected in ``st.query_params``; then the run restarts once so the widgets
    start from the corrected URL (Streamlit seeds bound widgets from the URL the run
    began with). ``shared``: the sidebar's parameters, kept on every page; a page's own
    (not shared) come back as the user left them when the page is entered again with
    none of them in the URL (:func:`_restore`).
    """
    specs_ = tuple(concrete(s) for s in specs_)
    declared().update((s.name, s) for s in specs_)
    if shared:
        shared_keys().update(s.name for s in specs_)
    query = {key: st.query_params.get_all(key) for key in st.query_params}
    changed, refused = False, False
    verdicts = gate.review(specs_, query)
    for key, verdict in verdicts.items():
        for text, what in verdict.notes:
            note(key, text, what)
        if verdict.url != query[key]:
            if write(key, verdict.url):
                changed = True
            else:  # bound already; only a bad value (not mere spelling, "30.0") matters
                refused |= bool(verdict.notes)
    if refused:
        _reopen({key: verdict.value for key, verdict in verdicts.items()})
    if not shared and not any(s.name in query for s in specs_):
        changed |= _restore(specs_)
    if changed:
        rerun_once()


def rerun_once() -> None:
    """``st.rerun`` unless the gate already reran the run ``_MAX_GATE_RERUNS`` times."""
    if st.session_state.get(_RERUNS, 0) < _MAX_GATE_RERUNS:
        st.session_state[_RERUNS] = st.session_state.get(_RERUNS, 0) + 1
        st.rerun()


def _reopen(values: dict[str, Any]) -> None:
    """Reopen the page when Streamlit will not let the gate correct a URL value.

    Back to a bad link in the same session: its keys are already bound, so
    ``st.query_params`` refuses to change them and the widgets would meet the bad value.
    ``st.switch_page`` with the URL's undeclared parameters starts the page again; the
    declared ones' widgets take the gate's ``values`` from ``st.session_state``.
    """
    if st.session_state.get(_RERUNS, 0) >= _MAX_GATE_RERUNS:
        return
    st.session_state[_RERUNS] = st.session_state.get(_RERUNS, 0) + 1
    for key, value in values.items():
        st.session_state[key] = value
    known = declared()
    kept = {k: st.query_params.get_all(k) for k in st.query_params if k not in known}
    page = st.session_state.get(_PAGE_OBJECT)
    if page is not None:
        try:
            st.switch_page(page, query_params=kept)
        except st.errors.StreamlitAPIException:
            return  # another key is bound too: Streamlit drops the bad value itself


def _restore(specs_: Iterable[Spec]) -> bool:
    """When the URL lacks all of a page's own parameters: put back the values the user
    left there in this session (browser Back to the page, or its menu link); True if any.

    The page's values are all defaults after its Reset, so nothing is kept then.
    """
    kept = st.session_state.get(_MEMORY, {}).get(page_path(), {})
    return any([write(s.name, kept[s.name]) for s in specs_ if s.name in kept])


def _remember() -> None:
    """Keep this page's own non-default values (URL text) for :func:`_restore`."""
    own = {k: s for k, s in declared().items() if k not in shared_keys()}
    memory = {}
    for key, spec_ in own.items():
        if key in st.session_state:
            values = gate.url_values(spec_, widget_value(key, st.session_state[key]))
            if values is not None:
                memory[key] = values
    st.session_state.setdefault(_MEMORY, {})[page_path()] = memory


#: A choice widget's option standing for None (an optional choice, "the checkpoint's own").
NONE_OPTION = ""


def widget_value(key: str, value: Any) -> Any:
    """A widget's value as the library takes it: the None option -> None, lists -> tuples."""
    if value == NONE_OPTION and spec(key).optional:
        return None
    return tuple(value) if isinstance(value, list) else value


def value(key: str) -> Any:
    """The current value of declared parameter ``key``: its widget's, else the (gated)
    URL's (before its widget is drawn in a run), else the default."""
    if key in st.session_state:
        return widget_value(key, st.session_state[key])
    found = st.query_params.get_all(key)
    return gate.check(spec(key), found).value if found else spec(key).default


def note(key: str, text: str, what: str) -> None:
    """Name ``key=text`` and what happened to it in this run's warning."""
    st.session_state.setdefault(_NOTES, {})[(key, text)] = what


def write(key: str, values: list[str] | None) -> bool:
    """Set (or, with None, remove) one URL parameter; False if Streamlit refuses (a key
    already bound in this session: see :func:`_reopen`)."""
    try:
        if values is None:
            if key in st.query_params:
                del st.query_params[key]
        else:
            st.query_params[key] = values
    except st.errors.StreamlitAPIException:
        return False
    return True


def finish(container: Any = st) -> None:
    """End a run: drop undeclared parameters, show the one warning (in ``container``)
    and draw the share link in its slot (:func:`link_slot`)."""
    for key in gate.unknown(declared(), list(st.query_params)):
        note(key, "&".join(st.query_params.get_all(key)), gate.UNKNOWN)
        write(key, None)
    found = st.session_state.pop(_NOTES, {})
    st.session_state[_RERUNS] = 0
    _remember()
    if found:
        container.warning(gate.warning(found))
    too_long = ignored_link()
    if too_long:
        container.warning(escape(too_long), icon=":material/link_off:")
    _draw_link()


def ignored_link() -> str:
    """Why Streamlit read none of this link's query (too many parameters or characters:
    ``streamlit.runtime.state.query_params.sanitize_query_string``), in words; "" when
    it read it. The raw query is the one the browser sent for this run."""
    ctx = get_script_run_ctx()
    return gate.ignored_query(
        ctx.query_string if ctx else "",
        CLIENT_STATE_QUERY_STRING_MAX_LENGTH,
        CLIENT_STATE_QUERY_STRING_MAX_FIELDS,
    )


# --- Fragments and the share link ------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., None])


def link_slot() -> None:
    """Reserve the sidebar's place for the share link; app.py calls it before the page.

    An ``st.empty``: each write replaces the last, so the run's end (:func:`finish`) and
    a fragment's rerun (:func:`fragment`) draw the one link in the same place.
    """
    st.session_state[_LINK_SLOT] = st.sidebar.empty()


def _draw_link() -> None:
    slot = st.session_state.get(_LINK_SLOT)
    with slot if slot is not None else st.sidebar:
        share_link()


def fragment(func: F) -> F:
    """``st.fragment`` for a page's own inputs and what is drawn from them.

    A change of an input inside ``func`` reruns only ``func``; at its start and its end,
    as :func:`finish` does at a run's end, the page's values are remembered for Back
    (:func:`_remember`; at the start because a click on another page stops the rerun
    where it is), and at its end the share link is redrawn in its sidebar slot, so it
    holds the new values. Declare the parameters at the page's top, outside ``func`` (the
    gate may rerun the app). :func:`stop_page` inside ``func`` ends ``func`` only. A
    button inside whose callback ``widgets.set_values`` sets a sidebar field (a preset,
    "Swap A and B") reruns the whole app, so the sidebar shows the new values.

    Streamlit lets a fragment rerun write outside itself only where it wrote in the
    last full run. A nested fragment that its parent's rerun drew at a new place (so
    with a new id) cannot: its parent draws the link then; and if it later reruns
    alone, it reruns the whole app once rather than leave the link stale.
    """

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> None:
        if st.session_state.get(APP_RERUN):  # only a fragment rerun sees it (begin() clears it)
            st.rerun(scope="app")
        _remember()  # now too: leaving the page mid-rerun stops it before its end
        st.session_state[_RUNNING] = st.session_state.get(_RUNNING, 0) + 1
        try:
            with contextlib.suppress(PageStopped):
                func(*args, **kwargs)
        finally:
            st.session_state[_RUNNING] -= 1
        _remember()
        try:
            _draw_link()
        except st.errors.StreamlitInvalidLayoutContextError:
            if not st.session_state[_RUNNING]:  # not nested: nobody else will draw it
                st.rerun(scope="app")

    return st.fragment(run)


def share_link() -> None:
    """Show the link to this page with its current settings (st.code has a copy button).

    Only declared parameters are kept: an unknown one is not passed on. Drawn in the
    sidebar's slot by :func:`finish` and by each :func:`fragment` rerun.
    """
    known = declared()
    pairs = [(k, v) for k in st.query_params if k in known for v in st.query_params.get_all(k)]
    base = st.context.url or ""
    if base and not urlsplit(base).path:
        base += "/"
    url = base + (f"?{urlencode(pairs)}" if pairs else "")
    with st.expander("Share this view", icon=":material/link:"):
        st.code(url, language=None, wrap_lines=True)
