"""Charts drawn from cached Vega-Lite specs (``charts.cached``) are the charts
``st.altair_chart`` draws, built once per distinct data and never changed in the cache."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import types

import altair as alt
import pandas as pd
import pyarrow as pa
import pytest
import streamlit as st
from conftest import PAGE_LOCAL, open_page
from streamlit.testing.v1 import AppTest

import costmodel
from app_pages import ui
from app_pages.ui import cache, charts

ROWS = pd.DataFrame(
    {
        "setup": ["MoE", "MoE", "dense, same active params", "dense, same active params"],
        "batch_size": [1, 64, 1, 64],
        "decode_step_ms": [8.5, 21.0, 6.0, 7.5],
        "fits": [True, False, True, True],
    }
)


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def layered(rows: pd.DataFrame) -> alt.LayerChart:
    """A line chart per setup with crosses on the rows that do not fit: two datasets."""
    line = charts.line_chart(
        rows,
        "batch_size:Q",
        "decode_step_ms:Q",
        x_title="Batch [sequences]",
        y_title="Decode step [ms]",
        color="setup:N",
        color_title="Model",
        log_x=True,
    )
    crosses = (
        alt.Chart(rows[~rows["fits"]])
        .mark_point(shape="cross")
        .encode(x=alt.X("batch_size:Q"), y=alt.Y("decode_step_ms:Q"))
    )
    return line + crosses


def both_ways(rows) -> None:  # no annotations: AppTest runs its source alone
    """The app script of the first test: one chart by st.altair_chart, then by its spec."""
    import streamlit as st
    from test_chart_specs import layered

    from app_pages.ui import charts

    st.altair_chart(layered(rows), width="stretch")
    charts.show_chart(charts.vega_lite(layered(rows)))


def _drawn(element) -> tuple[dict, list[pd.DataFrame]]:
    """A drawn chart's spec, its dataset names replaced by their order, and its datasets."""
    spec = element.proto.spec
    names = [d.name for d in element.proto.datasets]
    for i, name in enumerate(names):
        spec = spec.replace(name, f"dataset-{i}")
    assert not re.search(r'"data-[0-9a-f]{6,}"', spec), "a dataset name was left unreplaced"
    frames = [
        pa.ipc.open_stream(d.data.data).read_pandas().reset_index(drop=True)
        for d in element.proto.datasets
    ]
    return json.loads(spec), frames


def test_a_spec_draws_exactly_what_st_altair_chart_draws():
    at = AppTest.from_function(both_ways, args=(ROWS,)).run()
    assert not at.exception
    (by_altair, by_spec) = at.get("vega_lite_chart")
    spec_a, data_a = _drawn(by_altair)
    spec_b, data_b = _drawn(by_spec)
    assert spec_b == spec_a
    assert len(data_a) == len(data_b) == 2  # the rows, and the rows that do not fit
    for a, b in zip(data_a, data_b, strict=True):
        # The spec keeps the columns the chart uses: "fits", which it never reads, is left out.
        assert list(b.columns) == ["setup", "batch_size", "decode_step_ms"]
        pd.testing.assert_frame_equal(b, a[b.columns])
    assert by_spec.proto.theme == by_altair.proto.theme == "streamlit"


def test_a_spec_keeps_every_column_its_chart_reads_and_no_other():
    rows = ROWS.assign(
        usd_per_million_output_tokens=[1.0, 2.0, 3.0, 4.0], unused_column=0.0, gpu="h100"
    )
    chart = (
        alt.Chart(rows)
        .mark_line()
        .transform_calculate(cost_cents="datum.usd_per_million_output_tokens * 100")
        .encode(
            x=alt.X("batch_size:Q"),
            y=alt.Y("cost_cents:Q"),
            color="setup:N",
            tooltip=["decode_step_ms:Q"],
        )
        .transform_filter(alt.datum.fits)
    )
    spec = charts.vega_lite(chart)
    (table,) = spec["datasets"].values()
    # Read by the encoding, the tooltip, the expression and the filter; "gpu" and
    # "unused_column" are not.
    kept = {"batch_size", "setup", "decode_step_ms", "usd_per_million_output_tokens", "fits"}
    assert set(table.column_names) == kept
    assert spec["data"]["name"] in spec["datasets"]
    assert "held-frame" not in json.dumps({k: v for k, v in spec.items() if k != "datasets"})


def test_the_tests_validate_each_spec_against_the_vega_lite_schema_the_app_does_not(
    monkeypatch,
):
    bad = alt.Chart(ROWS).mark_line().encode(x=alt.X("batch_size:Q", title=5))  # not a text
    assert charts.VALIDATE  # set by conftest: every page test's charts are checked
    with pytest.raises(alt.utils.schemapi.SchemaValidationError):
        charts.vega_lite(bad)
    good = alt.Chart(ROWS).mark_line().encode(x=alt.X("batch_size:Q", title="Batch"))
    checked = charts.vega_lite(good)
    monkeypatch.setattr(charts, "VALIDATE", False)
    assert charts.vega_lite(bad)["encoding"]["x"]["title"] == 5  # drawn as built
    assert charts.vega_lite(good) == checked  # validation changes nothing in a spec


def test_a_cached_chart_is_built_once_per_distinct_data():
    built = []

    @charts.cached
    def chart(rows: pd.DataFrame, title: str) -> alt.Chart:
        built.append(title)
        return layered(rows).properties(title=title)

    first = chart(ROWS, "a")
    assert chart(ROWS.copy(), "a") is first  # the same contents: the shared spec
    assert built == ["a"]
    chart(ROWS.assign(decode_step_ms=ROWS["decode_step_ms"] * 2), "a")  # new values
    chart(ROWS, "b")  # a new argument
    assert built == ["a", "a", "b"]
    assert first["title"] == "a" and set(first["datasets"]) == {
        layer["data"]["name"] for layer in first["layer"]
    }


def test_series_are_keyed_by_their_contents_too():
    calls = []

    @cache.by_contents
    def total(values: pd.Series) -> float:
        calls.append(1)
        return float(values.sum())

    steps = pd.Series([1.0, -0.5], index=["n_gpus", "batch_size"])
    assert total(steps) == total(steps.copy()) == 0.5
    assert total(steps * 2) == 1.0
    assert len(calls) == 2


def test_with_legend_sizes_the_plot_and_leaves_the_shared_spec_as_it_was():
    spec = charts.vega_lite(layered(ROWS))
    before = copy.deepcopy(spec)
    shown = charts.with_legend(spec, legend_rows=3)
    # 320 px of plot + 30 px for each of the 3 entries and the legend's title = 440 px
    assert shown["height"] == charts.PLOT_HEIGHT_PX + 4 * charts.LEGEND_LINE_PX == 440
    assert shown["config"]["legend"] == {
        "orient": "bottom",
        "direction": "vertical",
        "labelLimit": 0,
    }
    assert spec == before


@pytest.mark.parametrize("path", [p.path for p in ui.PAGES[1:]])
def test_going_back_to_earlier_settings_builds_no_chart_again(path, monkeypatch):
    """Back at settings drawn before (a sidebar input the page uses, then the page's own
    input), every chart comes from the cache: the page's data come from shared library
    results, so their contents key the charts alike on each rerun."""
    page = path
    built = []
    build = charts.vega_lite
    monkeypatch.setattr(charts, "vega_lite", lambda chart: built.append(chart) or build(chart))
    at = open_page(page)
    assert not at.exception and at.get("vega_lite_chart")
    assert built, "the first run builds its charts (the caches were cleared)"
    ignored = ui.page_of(page.removeprefix("app_pages/").removesuffix(".py")).ignored
    # The first sidebar input the page uses (a page that sweeps the batch uses the lengths;
    # Validation, whose measurements bring their setups, only the efficiencies).
    moves = (("batch_size", 32), ("output_tokens", 32), ("moe_kernel_efficiency", 0.05))
    used, step = next((key, step) for key, step in moves if key not in ignored)
    current = at.number_input(key=used).value  # None: the stack's default
    changes = [("number_input", used, step if current is None else current + step)]
    if page in PAGE_LOCAL:
        changes.append(PAGE_LOCAL[page])
    for kind, key, new in changes:
        old = getattr(at, kind)(key=key).value
        getattr(at, kind)(key=key).set_value(new).run()
        before = len(built)
        getattr(at, kind)(key=key).set_value(old).run()
        assert not at.exception
        assert len(built) == before, f"back at {key}={old!r}, {len(built) - before} chart(s) built"


def test_checked_values_are_cached_by_a_repr_that_names_every_field():
    """``cache.KEYS`` keys the library's checked values by their repr: every such class is
    in it, no field is left out of the repr, and values that differ in one field (or a
    nested one) get different keys while equal values share one."""
    from costmodel.spec import Checked

    classes = set(cache.KEYS) - {types.ModuleType}
    assert costmodel.Scenario in classes and costmodel.analyses.price_war.Options in classes
    assert all(issubclass(c, Checked) for c in classes)
    for cls in classes:
        assert all(f.repr for f in dataclasses.fields(cls)), cls
    calls = []

    @cache.shared(max_entries=8)
    def batch_of(scenario: costmodel.Scenario, options) -> int:
        calls.append(1)
        return scenario.batch_size

    base, options = costmodel.Scenario(), costmodel.analyses.price_war.Options()
    assert batch_of(base, options) == batch_of(costmodel.Scenario(), options) == 32
    assert batch_of(base.replace(usd_per_gpu_hour=1.9500000000000002), options) == 32
    nested = options.replace(price_rule=options.price_rule.replace(tier="contract_1y"))
    assert batch_of(base, nested) == 32
    assert len(calls) == 3
