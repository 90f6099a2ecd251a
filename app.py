"""Entry point: `streamlit run app.py`.

Runs on every page: the menu and the shared scenario in the sidebar (its parameters
checked by the URL gate first, so they stay in the URL on every page and travel in every
menu link), then the chosen page, then one warning naming every URL parameter not used
as given, and the share link (which a page's ``url.fragment`` redraws when it reruns).
An unexpected error shows a short message and a link to the defaults instead of a
traceback (``client.showErrorDetails = "none"`` in .streamlit/config.toml hides the
details Streamlit itself would show).
"""

import contextlib
import logging

import streamlit as st
from streamlit.runtime.scriptrunner import RerunException, StopException

from app_pages import ui
from app_pages.ui import sidebar, url
from app_pages.ui.text import escape

LOG = logging.getLogger(__name__)

st.set_page_config(page_title="LLM serving cost explorer", page_icon="💸", layout="wide")


def main() -> None:
    """The app: navigation, sidebar, the page, the URL warning and the share link."""
    pages = [st.Page(p.path, title=p.title, icon=p.icon, default=p.default) for p in ui.PAGES]
    page = st.navigation(pages, position="hidden")
    url.begin(page)
    menu = st.sidebar.container()
    sidebar.draw(ignored=ui.page_of(page.url_path).ignored)
    sidebar.menu(pages, menu)
    url.link_slot()  # the share link's place; finish() and fragment reruns fill it
    notices = st.container()  # above the page, filled once the page's own widgets exist
    with contextlib.suppress(url.PageStopped):  # the page said why it cannot go on
        page.run()
    url.finish(notices)
    adapted = sidebar.pop_adaptations()
    if adapted:
        notices.warning(f"Changed to fit the model: {escape(adapted)}.", icon=":material/tune:")


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
