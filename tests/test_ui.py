"""The ui package's rules: readable tables, one colour per series, safe text."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from conftest import chart_specs, open_page

from app_pages import ui
from app_pages.ui import charts, gate, tables
from app_pages.ui.text import escape, literal
from costmodel.spec import Spec


def test_labels_carry_units():
    # From the one table of output metadata (costmodel.outputs), else from the unit the
    # name ends in.
    assert tables.label("decode_step_ms") == "Decode step [ms]"
    assert tables.label("tpot_ms") == "Time per output token [ms]"
    assert tables.label("bytes_read_per_step_gb") == "Bytes read per step [GB]"
    assert tables.label("usd_per_million_output_tokens") == "Cost [$/M output tokens]"
    assert tables.label("some_new_latency_ms") == "Some new latency [ms]"
    assert tables.label("GPU id") == "GPU id"  # not snake_case: kept


def test_every_output_has_words_a_unit_and_a_rounding():
    from costmodel import outputs
    from costmodel.evaluation import OUTPUT_COLUMNS

    assert set(OUTPUT_COLUMNS) <= set(outputs.OUTPUTS)
    for name in OUTPUT_COLUMNS:
        out = outputs.OUTPUTS[name]
        assert out.label and "_" not in out.label and out.help == OUTPUT_COLUMNS[name], name
    # Rounded to what they mean: tokens/s per user to 0.1, times to the first token to the
    # millisecond; dollars, from $0.00001 a request to $60 a million tokens, to 4 digits.
    assert tables.number_format("tokens_per_s_per_user") == "%.1f"
    assert tables.number_format("usd_per_million_output_tokens") == "%.4g"
    assert tables.number_format("ttft_ms") == "%.0f"


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
    assert config["decode_step_ms"]["type_config"]["format"] == "%.2f"
    assert shown["margin_pct"].tolist() == ["12.35", tables.DASH]  # 4 digits; no "inf"
    assert "does not apply" in config["margin_pct"]["help"]
    assert shown["note"].tolist() == ["x", tables.DASH]  # no "None"
    assert config["setup"]["pinned"] is True and tables.column_order(df)[0] == "setup"
    assert config["margin_pct"]["label"] == "Margin [% of revenue]"


def test_view_keeps_the_index_the_order_and_the_untouched_columns():
    # The shown frame is built from its columns at once: rows keep their labels (repeated
    # ones too), the columns their order, and a column it does not change its dtype.
    df = pd.DataFrame(
        {"n_gpus": [2, 8], "fits": [True, False], "gpu": ["b200", "b200"], "x": [1.5, 2.5]},
        index=pd.Index(["a", "a"], name="setup"),
    )
    shown, _ = tables.view(df)
    assert list(shown.columns) == ["n_gpus", "fits", "gpu", "x"]
    assert shown.index.equals(df.index) and shown.index.name == "setup"
    assert shown["n_gpus"].dtype == "int64" and shown["fits"].dtype == bool
    assert shown["gpu"].dtype == object and shown["x"].tolist() == [1.5, 2.5]
    assert tables.view(df[[]])[0].index.equals(df.index)  # no columns: the rows stay


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
    for path in [p.path for p in ui.PAGES[1:]]:
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
    spec = Spec("int", 2, "GPUs", "help", low=1, high=64, step=1, name="n_gpus")
    verdict = gate.check(spec, raw)
    assert verdict.value == value
    assert (verdict.notes[0][1] if verdict.notes else "").startswith(note)


def test_a_number_closer_to_0_than_a_millionth_of_its_step_is_read_as_0():
    # GPU price, step $0.05: 1e-320 (every ratio to it infinite) and 4e-8 < 0.05 x 1e-6
    # = 5e-8 are read as 0, with a note; 6e-8 and the step itself are kept as given.
    spec = Spec("float", 2.0, "GPU price", "help", low=0.0, high=100.0, step=0.05, name="p")
    for raw, value, note in [("1e-320", 0.0, "rounded to 0"), ("4e-8", 0.0, "rounded to 0"),
                             ("6e-8", 6e-8, ""), ("0.05", 0.05, "")]:  # fmt: skip
        verdict = gate.check(spec, [raw])
        assert verdict.value == value
        assert (verdict.notes[0][1] if verdict.notes else "") == note


PRICES = Spec(
    "entries",
    (),
    "Prices",
    "help",
    low=0.1,
    high=20.0,
    step=0.05,
    choices=("h100-sxm", "b200"),
    columns=("usd_per_gpu_hour",),
    name="gpu_prices",
)


def test_entries_are_checked_by_their_id_and_their_number():
    """``gpu_prices`` entries: a catalog id, a colon, a price in [0.1, 20]."""
    verdict = gate.check(PRICES, ["h100-sxm:1.5", "b200:20"])
    assert verdict.value == (("h100-sxm", 1.5), ("b200", 20.0)) and not verdict.notes
    assert verdict.url == ["h100-sxm:1.5", "b200:20"]
    for bad in ("h100-sxm:25", "a100:1.5", "h100-sxm", "h100-sxm:x", "h100-sxm:1:2"):
        dropped = gate.check(PRICES, ["b200:4", bad])
        assert dropped.value == (("b200", 4.0),) and bad in dropped.notes[0][0], bad
    # the last entry of an id wins: h100-sxm at 3.0, not 1.5
    last = gate.check(PRICES, ["h100-sxm:1.5", "b200:4", "h100-sxm:3"])
    assert last.value == (("h100-sxm", 3.0), ("b200", 4.0))
    assert gate.check(PRICES, [""]).value == ()


def test_an_optional_choice_reads_empty_and_the_older_links_same_as_none():
    spec = Spec("choice", None, "Attention format", "help", choices=("bf16",), empty="as weights")
    assert gate.check(spec, [""]) == gate.Verdict(None, None)
    assert gate.check(spec, ["same"]) == gate.Verdict(None, None)
    assert gate.check(spec, ["bf16"]) == gate.Verdict("bf16", ["bf16"])
    forced = dataclasses.replace(spec, default="bf16")
    assert gate.check(forced, [""]) == gate.Verdict(None, [""])  # None is not the default here
