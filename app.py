"""Entry point: `streamlit run app.py`.

Runs on every page: checks the URL's shared parameters, draws the shared scenario
sidebar (so its parameters stay in the URL on every page), runs the chosen page, then
drops parameters no page declared, names, in one warning, every one not used as given,
and draws the share link (which a page's ``params.fragment`` redraws when it reruns).
An unexpected error shows a short message and a link to the defaults instead of a
traceback (``client.showErrorDetails = "none"`` in .streamlit/config.toml hides the
details Streamlit itself would show).
"""

import contextlib
import logging

import streamlit as st
from streamlit.runtime.scriptrunner import RerunException, StopException

from app_pages import ui
from app_pages.ui import params

LOG = logging.getLogger(__name__)

st.set_page_config(page_title="LLM serving cost explorer", page_icon="💸", layout="wide")


def main() -> None:
    """The app: navigation, sidebar, the page, the URL warning and the share link."""
    home = st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True)
    pages = [st.Page(path, title=title, icon=icon) for path, title, icon in ui.PAGES]
    page = st.navigation([home, *pages])
    params.begin(page)
    params.scenario_sidebar()
    params.link_slot()  # the share link's place; finish() and fragment reruns fill it
    notices = st.container()  # above the page, filled once the page's own widgets exist
    with contextlib.suppress(params.PageStopped):  # the page said why it cannot go on
        page.run()
    params.finish(notices)


try:
    main()
except (RerunException, StopException):
    raise  # Streamlit's own control flow (st.rerun, st.stop, st.switch_page)
except Exception:
    LOG.exception("unexpected error")  # the server log keeps the traceback
    st.error(
        "Something went wrong while drawing this page. The link may hold a combination of "
        "settings the app cannot handle yet.",
        icon=":material/error:",
    )
    st.link_button("Open this page with the default settings", st.context.url or "/")
