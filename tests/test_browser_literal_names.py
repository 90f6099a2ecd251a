"""A model name from a link is shown as text on every page, never as a link or an image.

A ``custom_model`` link carries a config whose ``_name_or_path`` is a bare domain, a
Markdown link or an HTML tag (issue 21, item 5). The name keeps only letters, digits and
``._/-`` (``hf_config.model_name``), so ``[x](http://evil.com)`` arrives as
``x-http-//evil.com``: still a domain, which Markdown autolinks unless escaped. On Home and
every page: no ``<a>`` pointing at the domain, no ``<img>`` made from the name, and the
name is on the page as text.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from conftest import wait_for_app

from app_pages import ui
from app_pages.ui import models
from costmodel import load_catalog
from costmodel.catalog import ASSETS_DIR

pytestmark = pytest.mark.browser

LLAMA = json.loads((ASSETS_DIR / "models" / "llama-2-70b.json").read_text())
NAMES = ["evil.com", "[x](http://evil.com)", "<img src=x>", "www.evil.example/cm"]
STEMS = [p.url_path for p in ui.PAGES]
#: Anchors whose target is on a host named in NAMES, and images made from a name.
FROM_NAME_JS = """() => [
  ...[...document.querySelectorAll('a[href]')]
    .filter(a => new URL(a.getAttribute('href'), location.href).hostname.includes('evil')),
  ...[...document.querySelectorAll('img')]
    .filter(i => i.getAttribute('src') === 'x' || (i.getAttribute('src') || '').includes('evil')),
].map(e => e.outerHTML)"""


def link_query(name: str) -> str:
    custom = models.from_config({**LLAMA, "_name_or_path": name}, load_catalog())
    return urlencode({"custom_model": custom.url, "model": custom.model_id})


def _check(page, server: str, stem: str, name: str) -> None:
    page.goto(f"{server}/{stem}?{link_query(name)}")
    wait_for_app(page, timeout=60_000)
    made = page.evaluate(FROM_NAME_JS)
    assert not made, (stem, name, made)
    assert page.locator("[data-testid='stException']").count() == 0, (stem, name)


@pytest.mark.parametrize("stem", STEMS, ids=[s or "home" for s in STEMS])
def test_a_bare_domain_name_is_text_on_every_page(page, streamlit_server, stem):
    _check(page, streamlit_server, stem, "www.evil.example/cm")
    _check(page, streamlit_server, stem, "evil.com")


@pytest.mark.parametrize("name", NAMES[1:3])
@pytest.mark.parametrize("stem", ["", "quantization_fit", "price_war", "compare"])
def test_markdown_and_html_names_are_text(page, streamlit_server, stem, name):
    _check(page, streamlit_server, stem, name)
