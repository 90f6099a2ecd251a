"""Fleet sizing page through AppTest: the numbers shown are the analysis's Result."""

import io
import json

import pandas as pd
import pyarrow as pa
import pytest
from conftest import (
    APP_DEFAULT,
    app_scenario,
    chart_specs,
    ignored,
    markdown_text,
    open_page,
    shown,
)

from app_pages.ui import planning
from app_pages.ui.text import escape
from costmodel.analyses import fleet_sizing
from costmodel.planning import get_workload, request_rate
from costmodel.pricing import PriceRule

PAGE = "app_pages/fleet_sizing.py"
NO_TARGETS = dict.fromkeys(planning.TARGET_KEYS)


def options(**changes) -> fleet_sizing.Options:
    return fleet_sizing.Options(price_rule=PriceRule(), **changes)


def same_fleets(at, result: fleet_sizing.Result) -> None:
    """The fleet table is the plan's cheapest fleet per GPU, every column; the verdict and
    the headline are the Result's."""
    cheapest = result.plan.cheapest
    pd.testing.assert_frame_equal(shown(at, "setup"), cheapest, check_dtype=False)
    assert escape(result.verdict) in markdown_text(at)
    best, power = result.plan.best, result.energy.iloc[0]
    values = {m.label: m.value for m in at.metric}
    assert values["Cost a month"] == f"${best['usd_per_month']:,.0f}"
    assert values["Per million output tokens"] == f"${best['usd_per_million_output_tokens']:,.3f}"
    assert values["Energy per output token"] == f"{power['joules_per_output_token']:,.2f} J"


def test_renders_defaults_as_the_analysis(downloads):
    at = open_page(PAGE)
    assert not at.exception and not at.error and not at.warning
    assert at.title[0].value == "Fleet sizing"
    result = fleet_sizing.run(APP_DEFAULT, options())
    same_fleets(at, result)
    # The four GPU types, each priced on demand, one fleet each, cheapest first; every one
    # meets the targets when evaluated back through the queueing model.
    cheapest = result.plan.cheapest
    assert set(cheapest["gpu"]) == set(result.prices.index) == set(fleet_sizing.Options().gpus)
    assert cheapest["meets_targets"].all() and cheapest["usd_per_month"].is_monotonic_increasing
    # The fleet's CSV is the plan's cheapest fleets, every column at full precision.
    assert downloads["fleet.csv"] == cheapest.to_csv(index=False).encode()
    csv = pd.read_csv(io.BytesIO(downloads["fleet.csv"]))
    assert list(csv["total_gpus"]) == list(cheapest["total_gpus"])
    # The energy table holds the Result's numbers (rented: electricity inside the price).
    energy = shown(at, "all_in_basis")
    assert list(energy["joules_per_output_token"]) == pytest.approx(
        list(result.energy["joules_per_output_token"]), rel=1e-12
    )
    assert "their electricity is inside the rental price" in " ".join(c.value for c in at.caption)
    assert len(at.get("vega_lite_chart")) == 3  # cost per GPU type, TTFT and TPOT quantiles


def datasets(chart) -> dict[str, pd.DataFrame]:
    """A drawn chart's datasets by name (Streamlit sends them beside the spec, as Arrow)."""
    return {d.name: pa.ipc.open_stream(d.data.data).read_pandas() for d in chart.proto.datasets}


def test_charts_draw_the_costs_and_the_targets():
    at = open_page(PAGE)
    cost, ttft, tpot = chart_specs(at)
    assert cost["layer"][0]["encoding"]["x"]["title"] == "Rent of the fleet [$ a month]"
    tooltips = {t["title"] for t in cost["layer"][0]["encoding"]["tooltip"]}
    assert {"What binds", "GPUs", "$ a month"} <= tooltips
    # The targets: p90 TTFT 2,000 ms and p90 TPOT 50 ms, one red tick each.
    drawn = at.get("vega_lite_chart")
    for i, (spec, target) in enumerate(((ttft, 2000.0), (tpot, 50.0)), start=1):
        assert spec["layer"][1]["mark"]["type"] == "tick"
        (name,) = (d.name for d in drawn[i].proto.datasets if d.name in str(spec["layer"][1]))
        rows = datasets(drawn[i])[name]
        assert rows.to_dict("records") == [{"quantile": "p90", "ms": target}]


def test_url_keys_open_the_same_view():
    query = {
        "workload": "mlperf-mixtral-8x7b",
        "requests_per_s": "20",
        "gpus": ["h100-sxm", "h200-sxm"],
        "ttft_p90_ms": "",  # no target
        "ttft_p99_ms": "3000",
        "tpot_p90_ms": "",
        "tpot_p50_ms": "30",
        "headroom": "0.5",
        "batch_size": "64",  # the sidebar's batch: not used here
    }
    at = open_page(PAGE, **query)
    assert not at.exception and not at.error and not at.warning
    assert at.selectbox(key="workload").value == "mlperf-mixtral-8x7b"
    assert at.number_input(key="ttft_p90_ms").value is None
    assert at.multiselect(key="gpus").value == ["h100-sxm", "h200-sxm"]
    changes = {
        "workload": "mlperf-mixtral-8x7b",
        "requests_per_s": 20.0,
        "gpus": ("h100-sxm", "h200-sxm"),
        **NO_TARGETS,
        "ttft_p99_ms": 3000.0,
        "tpot_p50_ms": 30.0,
        "headroom": 0.5,
    }
    # The analysis at the sidebar's batch of 64 gives the same fleets: the batch is unused.
    result = fleet_sizing.run(app_scenario(batch_size=64), options(**changes))
    same_fleets(at, result)
    assert result.plan.targets == {"ttft_p99_ms": 3000.0, "tpot_p50_ms": 30.0}
    labels = [json.loads(d.proto.columns).get("ttft_p99_ms", {}).get("label") for d in at.dataframe]
    assert "TTFT p99 [ms] (≤ 3,000)" in labels  # the latency table says the target set


def test_a_target_emptied_leaves_the_link_with_no_target():
    """Streamlit empties a number input only if its default is empty: the p90 targets
    (defaults 2,000 ms and 50 ms) are drawn without one and keep their URL value themselves."""
    at = open_page(PAGE, tpot_p99_ms="40")
    at.number_input(key="tpot_p90_ms").set_value(None).run()
    assert not at.exception and not at.error
    assert at.query_params["tpot_p90_ms"] in ("", [""])  # the link says: no target
    result = fleet_sizing.run(APP_DEFAULT, options(tpot_p90_ms=None, tpot_p99_ms=40.0))
    assert result.plan.targets == {"ttft_p90_ms": 2000.0, "tpot_p99_ms": 40.0}
    same_fleets(at, result)
    at.number_input(key="tpot_p90_ms").set_value(50.0).run()  # back to the default
    assert "tpot_p90_ms" not in at.query_params


def test_tokens_a_day_set_the_traffic():
    at = open_page(PAGE, tokens_per_day="1e9", workload="inferencex-1k1k")
    assert not at.exception and not at.error
    assert at.number_input(key="requests_per_s").disabled
    # 1e9 tokens a day of requests averaging 921.5 + 921.5 tokens (uniform 819-1,024 each):
    # 1e9 / 86,400 / 1,843 = 6.28 requests/s.
    work = get_workload("inferencex-1k1k")
    rate = request_rate(work, tokens_per_day=1e9)
    assert rate == pytest.approx(1e9 / 86_400 / sum(work.mean_tokens().values()))
    assert rate == pytest.approx(6.28, abs=0.01)
    result = fleet_sizing.run(APP_DEFAULT, options(tokens_per_day=1e9, workload="inferencex-1k1k"))
    assert result.plan.requests_per_s == pytest.approx(rate)
    same_fleets(at, result)
    assert f"Traffic: {rate:,.3g} requests/s" in " ".join(c.value for c in at.caption)


@pytest.mark.parametrize(
    "params",
    [
        {"ttft_p90_ms": "fast"},
        {"gpus": "tpu-v9"},
        {"max_gpus": "64"},  # the page tries at most 16 GPUs per replica
        {"requests_per_s": "1e6"},  # the page sizes up to 100,000 requests/s
        {"workload": "poetry"},
        {"serving": "both"},
        {"tokens_per_day": "-1"},
    ],
)
def test_bad_value_is_named_and_the_default_used(params):
    at = open_page(PAGE, **params)
    (name,) = params
    assert f"`{name}=" in ignored(at)
    default = getattr(fleet_sizing.Options(), name)
    if isinstance(default, tuple):
        assert at.multiselect(key=name).value == list(default)
    elif name == "workload":
        assert at.selectbox(key=name).value == default
    else:
        assert at.number_input(key=name).value == default


def test_no_target_is_named_and_the_defaults_shown():
    at = open_page(PAGE, ttft_p90_ms="", tpot_p90_ms="")
    assert not at.exception
    assert "set one or more targets of ttft_p50_ms" in at.warning[0].value
    same_fleets(at, fleet_sizing.run(APP_DEFAULT, options()))


def test_too_many_gpu_types_are_refused_before_sizing():
    gpus = ["h100-sxm", "h200-sxm", "b200", "gb200", "mi300x", "mi325x", "mi355x"]
    at = open_page(PAGE, gpus=gpus)
    assert not at.exception and not at.error
    (warning,) = [w.value for w in at.warning]
    assert f"7 GPU types chosen: size at most {planning.MOST_GPU_TYPES} at once" in warning
    assert not at.dataframe and not at.metric


def test_unmeetable_target_says_why_per_gpu():
    at = open_page(PAGE, ttft_p50_ms="1", gpus=["h100-sxm", "b200"])  # 1 ms to first token
    assert not at.exception and not at.error
    result = fleet_sizing.run(APP_DEFAULT, options(ttft_p50_ms=1.0, gpus=("h100-sxm", "b200")))
    assert result.plan.best is None
    assert escape(result.verdict) in markdown_text(at)
    assert "No GPU type meets every target" in at.warning[0].value
    why = shown(at, "why")
    assert list(why["why"]) == list(result.plan.infeasible["why"])
    assert all("cannot meet TTFT p50" in text for text in why["why"])


def test_preset_sets_the_six_targets_and_reset_restores_them():
    at = open_page(PAGE, requests_per_s="4")
    at.button(key="fleet_preset:Snappy (p99: 1 s, 25 ms)").click().run()
    assert not at.exception and not at.error
    snappy = {**NO_TARGETS, "ttft_p99_ms": 1000.0, "tpot_p99_ms": 25.0}
    for key, value in snappy.items():
        assert at.number_input(key=key).value == value
    assert at.query_params["ttft_p90_ms"] in ("", [""])  # the link holds the preset
    assert float(at.query_params["ttft_p99_ms"]) == 1000.0
    same_fleets(at, fleet_sizing.run(APP_DEFAULT, options(requests_per_s=4.0, **snappy)))
    at.button(key="fleet_preset:reset").click().run()
    assert at.number_input(key="tpot_p99_ms").value is None
    assert not {"ttft_p90_ms", "ttft_p99_ms", "requests_per_s"} & set(at.query_params)
    assert at.number_input(key="tpot_p90_ms").value == 50.0
    assert at.number_input(key="requests_per_s").value == 10.0


def test_scenario_workload_takes_the_sidebar_lengths():
    at = open_page(PAGE, workload="scenario", length_cv="0.5", prompt_tokens="2048")
    assert not at.exception and not at.error
    assert not at.number_input(key="length_cv").disabled
    result = fleet_sizing.run(
        app_scenario(prompt_tokens=2048), options(workload="scenario", length_cv=0.5)
    )
    same_fleets(at, result)
    classes = shown(at, "request_class")
    assert list(classes["prompt_tokens"]) == ["lognormal, mean 2,048, cv 0.5"]


def test_no_priced_gpu_type_says_what_to_change():
    # Under "your own prices" only the sidebar's GPU (H100 SXM) has a price; the GPU types
    # tried are others: the page says so by name and what to change, not an error box.
    at = open_page(PAGE, price_tier="own", gpus=["gb300", "a100-40gb-sxm"], usd_per_gpu_hour="3")
    assert not at.exception and not at.error
    warned = " ".join(w.value for w in at.warning)
    assert "Cannot answer for these settings" in warned and "GB300" in warned
    assert "another price tier" in warned
