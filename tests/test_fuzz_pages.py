"""Random in-range links on every page under AppTest (issue 21, item 4): no exception, no
error element, no "Something went wrong", and every field the app adapts named in a
warning (tests/fuzz_pages.py).

``FUZZ_PAGE_LINKS`` links per page (default 4, so that the suite stays quick; the 200 per
page of the issue run in ``benchmarks/fuzz_pages.py``, which prints a table), the seed
from ``FUZZ_SEED`` or a new one, printed; a failure names the link.
"""

from __future__ import annotations

import os

import pytest
from fuzz_pages import check, links
from test_fuzz_urls import PAGES, SEED, url_of

LINKS = int(os.environ.get("FUZZ_PAGE_LINKS", "4"))


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p or "home")
def test_random_in_range_links_draw_the_page(path):
    print(f"FUZZ_SEED={SEED}")
    for query in links(path, LINKS, SEED):
        wrong = check(path, query)
        assert not wrong, f"FUZZ_SEED={SEED} {url_of(path, query)[:400]}: {wrong}"
