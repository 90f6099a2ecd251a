"""Validation page: every catalog measurement beside the prediction, through AppTest."""

from __future__ import annotations

import io
import json

import pandas as pd
import pyarrow as pa
import pytest
from conftest import ignored, open_page, shown

import costmodel
from app_pages.ui import charts
from costmodel import presets, validation
from costmodel.fields import EFFICIENCY_FIELDS

PAGE = "app_pages/validation.py"
FIELDS = list(EFFICIENCY_FIELDS)
IDEAL = dict(presets.IDEAL_HARDWARE)


def inputs(at) -> dict:
    """The sidebar's Efficiencies box (the page has no efficiency inputs of its own)."""
    return {f: at.sidebar.number_input(key=f).value for f in FIELDS}


def test_renders_defaults():
    at = open_page(PAGE)
    assert not at.exception
    assert not at.warning and not at.error
    assert at.title[0].value.startswith("Validation")
    # One chart per metric: tokens/s per user, output and decode tokens/s per GPU, $ per
    # million output tokens, TPOT, TTFT.
    assert len(at.get("vega_lite_chart")) == 6
    assert inputs(at) == {f: getattr(costmodel.Scenario(), f) for f in FIELDS}
    text = " ".join(m.value for m in at.markdown)
    assert "queueing" in text and "predicted_at_batch_size" in text
    assert "predicted_at_n_gpus" in text


def test_every_measurement_id_is_in_the_table():
    at = open_page(PAGE)
    table = shown(at, "setup")
    catalog_ids = list(costmodel.load_catalog().measurements["id"])
    assert list(table["id"]) == catalog_ids


def test_numbers_equal_costmodel_compare():
    at = open_page(PAGE)
    table = shown(at, "setup")
    direct = validation.compare()
    assert table["predicted"].tolist() == pytest.approx(direct["predicted"].tolist())
    assert table["error_pct"].tolist() == pytest.approx(direct["error_pct"].tolist())
    assert table["predicted_at_n_gpus"].tolist() == direct["predicted_at_n_gpus"].tolist()
    summary = shown(at, "median_abs_error_pct")
    medians = direct.groupby("metric")["abs_error_pct"].median().round(1)
    for metric, value in medians.items():
        assert summary.loc[metric, "median_abs_error_pct"] == pytest.approx(value)
    assert summary.equals(validation.summary(direct).round(1).astype(summary.dtypes))


def test_sidebar_efficiency_applies_on_other_pages_too():
    # One URL value moves the validation errors and the memory-free cost on the MoE page.
    link = {"bandwidth_efficiency": "0.5"}
    moe = open_page("app_pages/moe_batch_scaling.py", **link)
    assert not moe.exception and not moe.error
    assert moe.sidebar.number_input(key="bandwidth_efficiency").value == 0.5
    slow = costmodel.analyses.moe_scaling.run(costmodel.Scenario(bandwidth_efficiency=0.5))
    assert shown(moe, "experts_read_per_layer")["decode_step_ms"].tolist() == pytest.approx(
        slow.batch["decode_step_ms"].tolist(), rel=1e-3
    )


def test_url_overrides_move_the_errors():
    at = open_page(PAGE, bandwidth_efficiency="0.7", layer_overhead_us="2.5")
    assert not at.exception and not at.warning
    assert at.number_input(key="bandwidth_efficiency").value == 0.7
    assert at.number_input(key="layer_overhead_us").value == 2.5
    assert at.number_input(key="compute_efficiency").value is None
    table = shown(at, "setup")
    direct = validation.compare(bandwidth_efficiency=0.7, layer_overhead_us=2.5)
    assert table["predicted"].tolist() == pytest.approx(direct["predicted"].tolist())
    defaults = validation.compare()
    assert table["error_pct_at_family_defaults"].tolist() == pytest.approx(
        defaults["error_pct"].tolist()
    )
    assert table["error_pct"].tolist() != pytest.approx(defaults["error_pct"].tolist())


def test_changed_input_changes_predictions():
    at = open_page(PAGE)
    at.number_input(key="moe_kernel_efficiency").set_value(0.9).run()
    assert not at.exception
    table = shown(at, "setup")
    direct = validation.compare(moe_kernel_efficiency=0.9)
    assert table["predicted"].tolist() == pytest.approx(direct["predicted"].tolist())


@pytest.mark.parametrize(
    "params",
    [
        {"bandwidth_efficiency": "abc"},
        {"bandwidth_efficiency": "2"},
        {"allreduce_latency_us": "-5"},
        {"moe_kernel_efficiency": "0"},
    ],
)
def test_bad_parameter_is_named_in_a_warning(params):
    at = open_page(PAGE, **params)
    (name,) = params
    assert f"`{name}=" in ignored(at)
    assert inputs(at)[name] == getattr(costmodel.Scenario(), name)


def test_presets_and_reset():
    at = open_page(PAGE, bandwidth_efficiency="0.5")
    ideal = "validation_preset:Ideal hardware"
    at.button(key=ideal).click().run()
    assert not at.exception
    assert {k: v for k, v in inputs(at).items() if k in IDEAL} == IDEAL
    # At peak speed the model can only get faster: predicted throughput rises.
    table = shown(at, "setup")
    defaults = validation.compare()
    speed = (table["metric"] == "tokens_per_s_per_user").to_numpy()
    assert (table["predicted"][speed].to_numpy() > defaults["predicted"][speed].to_numpy()).all()
    direct = validation.compare(**IDEAL)
    assert table["predicted"].tolist() == pytest.approx(direct["predicted"].tolist())

    at.button(key="validation_preset:Family defaults").click().run()
    assert inputs(at) == {f: getattr(costmodel.Scenario(), f) for f in FIELDS}
    at.button(key=ideal).click().run()
    at.button(key="validation_preset:reset").click().run()
    assert not at.exception
    assert inputs(at) == {f: getattr(costmodel.Scenario(), f) for f in FIELDS}
    assert "error_pct_at_family_defaults" not in shown(at, "setup").columns


def test_csv_downloads_equal_tables_shown(downloads):
    at = open_page(PAGE, compute_efficiency="0.5")
    tables = {
        "validation.csv": (shown(at, "setup"), None),
        "validation_summary.csv": (shown(at, "median_abs_error_pct"), 0),
        "gpu_families.csv": (shown(at, "calibrated_on"), 0),
    }
    for name, (table, index_col) in tables.items():
        csv = pd.read_csv(io.BytesIO(downloads[name]), index_col=index_col)
        expected = table.to_csv(index=index_col is not None)
        assert csv.to_csv(index=index_col is not None) == expected, name


def test_family_table_is_the_catalog():
    at = open_page(PAGE)
    families = shown(at, "calibrated_on")
    catalog = costmodel.load_catalog().gpu_families
    assert list(families.index) == list(catalog.index)
    for column in ("bandwidth_efficiency", "efficiency_uncertainty", "source"):
        assert families[column].tolist() == catalog[column].tolist()


def drawn_charts(at) -> list[tuple[dict, dict[str, pd.DataFrame]]]:
    """Each drawn chart's spec and its datasets by name."""
    out = []
    for element in at.get("vega_lite_chart"):
        datasets = {
            d.name: pa.ipc.open_stream(d.data.data).read_all().to_pandas()
            for d in element.proto.datasets
        }
        out.append((json.loads(element.proto.spec), datasets))
    return out


def test_each_chart_draws_its_metrics_points_inside_the_identity_line():
    at = open_page(PAGE, bandwidth_efficiency="0.45")
    direct = validation.compare(bandwidth_efficiency=0.45)
    drawn = drawn_charts(at)
    assert len(drawn) == direct["metric"].nunique()
    for spec, data in drawn:
        points, line = data["validation_points"], data["identity_line"]
        (metric,) = direct.loc[direct["id"].isin(points["id"]), "metric"].unique()
        rows = direct[direct["metric"] == metric]
        assert points["id"].tolist() == rows["id"].tolist()
        assert points["predicted"].tolist() == rows["predicted"].tolist()
        # The scales span the line: 1.3x room below the least and above the largest value.
        values = [*rows["value"], *rows["predicted"]]
        ends = [min(values) / charts.IDENTITY_MARGIN, max(values) * charts.IDENTITY_MARGIN]
        assert line["x"].tolist() == ends and line["y"].tolist() == ends
        assert spec["layer"][0]["encoding"]["x"]["scale"] == {"nice": False, "type": "log"}


def test_a_new_efficiency_builds_no_chart_frame_again(monkeypatch):
    # The charts' frames (Altair, the costly part) depend on the metric only: a new
    # efficiency hands them new data.
    at = open_page(PAGE)
    built = []
    build = charts.vega_lite
    monkeypatch.setattr(charts, "vega_lite", lambda chart: built.append(chart) or build(chart))
    for value in (0.411, 0.412):
        at.number_input(key="bandwidth_efficiency").set_value(value).run()
        assert not at.exception
    assert built == []
    points = drawn_charts(at)[0][1]["validation_points"]
    direct = validation.compare(bandwidth_efficiency=0.412)
    rows = direct[direct["id"].isin(points["id"])]
    assert points["predicted"].tolist() == rows["predicted"].tolist()
