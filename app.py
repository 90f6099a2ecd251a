"""Entry point: `streamlit run app.py`.

Runs on every page: records the URL, draws the shared scenario sidebar (so its
parameters stay in the URL on every page), then runs the chosen page and names any
URL parameter that was ignored. Pages are listed once their file exists.
"""

import streamlit as st

from pages import ui

st.set_page_config(page_title="Mixtral serving cost explorer", page_icon="💸", layout="wide")
ui.snapshot_query_params()

home = st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)
pages = [
    st.Page(path, title=title, icon=icon) for path, title, icon in ui.PAGES if ui.page_exists(path)
]
page = st.navigation([home, *pages])

ui.scenario_sidebar()
with st.sidebar:
    ui.preset_buttons(ui.PRESETS)

notices = st.container()  # above the page, filled once the page's own widgets exist
page.run()
ui.warn_invalid_params(notices)
with st.sidebar:
    ui.share_link()
