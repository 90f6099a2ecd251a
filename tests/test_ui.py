"""The ui package's rules: readable tables, one colour per series, safe text."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import chart_specs, open_page

from app_pages import ui
from app_pages.ui import charts, gate, tables
from app_pages.ui.text import escape, literal


def test_labels_carry_units():
    assert tables.label("decode_step_ms") == "Decode step [ms]"
    assert tables.label("bytes_read_per_step_gb") == "Bytes read per step [GB]"
    assert tables.label("usd_per_million_output_tokens") == "$/M output tokens"
    assert tables.label("GPU id") == "GPU id"  # not snake_case: kept


def test_view_rounds_dashes_and_pins_the_key_columns():
    df = pd.DataFrame(
        {
            "decode_step_ms": [1.23456789, -0.0],
            "margin_pct": [12.3456, math.inf],
            "note": ["x", None],
            "setup": ["a", "b"],
        }
    )
    shown, config = tables.view(df)
    assert shown["decode_step_ms"].tolist() == [1.23456789, 0.0]  # full precision kept
    assert str(shown["decode_step_ms"][1]) == "0.0"  # no -0
    assert config["decode_step_ms"]["type_config"]["format"] == "%.4g"
    assert shown["margin_pct"].tolist() == ["12.35", tables.DASH]  # no "inf"
    assert "does not apply" in config["margin_pct"]["help"]
    assert shown["note"].tolist() == ["x", tables.DASH]  # no "None"
    assert config["setup"]["pinned"] is True and tables.column_order(df)[0] == "setup"
    assert config["margin_pct"]["label"] == "Margin [% of revenue]"


def test_significant_digits():
    values = pd.Series([123456.0, 0.000106789, -0.0004, 0.0, np.nan])
    got = tables.significant(values, 3).tolist()
    assert got[:4] == pytest.approx([123000.0, 0.000107, -0.0004, 0.0])
    assert math.isnan(got[4])


def test_one_colour_per_series_name():
    assert (
        charts.colour("dense, same active params")
        == charts.SERIES_COLOURS["dense, same active params"]
    )
    # a speculative setup keeps its model's colour (the dash tells them apart)
    assert charts.colour("dense, same active params, speculative") == charts.colour(
        "dense, same active params"
    )
    assert charts.colour("MoE, uniform routing") == charts.colour("MoE")
    assert charts.colour("MoE, skew 1.5") != charts.colour("MoE")
    assert charts.colour("some setup") == charts.colour("some setup")


def test_every_chart_in_the_app_gives_a_series_one_colour():
    """Across all pages: a series name drawn in several charts has the same colour."""
    seen: dict[str, set[str]] = {}
    for path in [p for p, _, _ in ui.PAGES]:
        for spec in chart_specs(open_page(path)):
            for layer in [spec, *spec.get("layer", [])]:
                scale = layer.get("encoding", {}).get("color", {}).get("scale", {})
                for name, colour in zip(
                    scale.get("domain", []), scale.get("range", []), strict=False
                ):
                    seen.setdefault(name, set()).add(colour)
    assert "dense, same active params" in seen
    assert {name: c for name, c in seen.items() if len(c) > 1} == {}


def test_literal_and_escape_leave_no_markup():
    assert literal("a`b") == "`` a`b ``"
    assert literal("``") == "``` `` ```"
    assert literal("x\ny") == "` x\\ny `"
    assert escape("[a](b) $x$ `c` :red[d]") == "\\[a\\](b) \\$x\\$ \\`c\\` \\:red\\[d\\]"


@pytest.mark.parametrize(
    ("raw", "value", "note"),
    [
        (["inf"], 2, "not a number"),
        (["Infinity"], 2, "not a number"),
        (["1e309"], 2, "too large"),
        (["9" * 400], 2, "too large"),
        (["nan"], 2, "not a number"),
        ([""], 2, "empty"),
        (["3.5"], 4, "rounded to 4"),
        (["3", "5"], 5, "given 2 times, the last value was used"),
        (["65"], 2, "out of range; allowed: an integer from 1 to 64; the default (2) was used"),
        (["4"], 4, ""),
    ],
)
def test_gate_says_what_happened(raw, value, note):
    verdict = gate.check(gate.number("n_gpus", 2, 1, 64, integer=True), raw)
    assert verdict.value == value
    assert (verdict.notes[0][1] if verdict.notes else "").startswith(note)


def test_id_numbers_check_an_entry_by_its_id_and_its_number():
    """``gpu_prices`` entries: a catalog id, a colon, a price in [0.1, 20]."""
    entries = gate.IdNumbers(["h100-sxm", "b200"], gate.number("p", None, 0.1, 20.0), 2.0)
    assert list(entries) == ["h100-sxm:2", "b200:2"]  # one example per id
    assert "h100-sxm:1.5" in entries and "b200:20" in entries
    assert "h100-sxm:25" not in entries  # out of range
    assert "a100:1.5" not in entries and "h100-sxm" not in entries and "h100-sxm:x" not in entries
    # the last entry of an id wins: h100-sxm at 3.0, not 1.5
    assert gate.IdNumbers.parse(["h100-sxm:1.5", "b200:4", "h100-sxm:3"]) == (
        ("h100-sxm", 3.0),
        ("b200", 4.0),
    )
