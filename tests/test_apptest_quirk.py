"""The conftest patch for AppTest's pages-folder quirk must keep app.py's output on reruns.

Without it, the second run of a multipage app with a ``pages/`` folder drops what app.py
draws (the shared sidebar), so AppTest tests would silently check a different app.
"""

from conftest import open_page
from streamlit.runtime.pages_manager import PagesManager


def test_sidebar_survives_rerun():
    at = open_page()
    first = [w.key for w in at.sidebar.number_input]
    at.run()
    assert not at.exception
    assert PagesManager.uses_pages_directory is False
    assert first, "app.py drew no sidebar inputs on the first run"
    assert [w.key for w in at.sidebar.number_input] == first
    assert at.title[0].value.startswith("What does it cost")


def test_sidebar_survives_widget_change():
    at = open_page()
    at.number_input(key="batch_size").set_value(64).run()
    assert not at.exception
    assert at.number_input(key="batch_size").value == 64
    assert at.title, "the home page disappeared after a widget change"
