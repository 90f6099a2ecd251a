"""Tables on screen speak words: no cell or column header of a table a page shows is a
catalog id (a GPU, a model) or a snake_case identifier (``on_demand``, ``all_day``); the
CSV keeps ids."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

import costmodel
from app_pages import ui
from tests.conftest import open_page

#: A snake_case identifier: lower-case words joined by underscores.
IDENTIFIER = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")
CATALOG = costmodel.load_catalog()
#: Catalog ids whose names differ from them (gpt-oss-120b's name is its id).
IDS = {i for table in (CATALOG.gpus, CATALOG.models) for i, n in table["name"].items() if i != n}
#: Links opening each page with models and GPUs whose tables name many ids: DeepSeek
#: (peak and off-peak prices, expert parallelism) and gpt-oss (a checkpoint's own format).
QUERIES = ({}, {"model": "deepseek-v4-flash", "n_gpus": "8"}, {"model": "gpt-oss-120b"})


def identifiers(at) -> dict[str, set[str]]:
    """Column -> the cells of the shown tables that are ids, not words."""
    found: dict[str, set[str]] = {}
    for frame in at.dataframe:
        table = frame.value
        config = json.loads(frame.proto.columns or "{}")
        # A column labelled as ids ("Field (URL key)") shows them on purpose.
        hidden = {
            c for c, v in config.items() if v is None or "URL key" in (v or {}).get("label", "")
        }
        shown = list(frame.proto.column_order) or list(table.columns)
        for column in [c for c in shown if c in table.columns and c not in hidden]:
            header = (config.get(column) or {}).get("label") or str(column)
            if header in IDS or IDENTIFIER.match(header):
                found.setdefault("headers", set()).add(header)
            if pd.api.types.is_numeric_dtype(table[column]):
                continue
            for cell in table[column].dropna().unique():
                if isinstance(cell, str) and (cell in IDS or IDENTIFIER.match(cell)):
                    found.setdefault(str(column), set()).add(cell)
    return found


@pytest.mark.parametrize("query", QUERIES, ids=["default", "deepseek", "gpt-oss"])
@pytest.mark.parametrize("path", [p.path for p in ui.PAGES])
def test_no_table_shows_an_identifier(path, query):
    at = open_page(None if path == ui.PAGES[0].path else path, **query)
    assert not at.exception
    assert identifiers(at) == {}
