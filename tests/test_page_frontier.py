"""Throughput-vs-interactivity page, through AppTest (no browser)."""

import io
import json

import pandas as pd
import pyarrow as pa
import pytest
from conftest import chart_specs, ignored, markdown_text, open_page

import costmodel
from app_pages.frontier import PAGE_GPUS
from app_pages.ui import charts, models
from app_pages.ui.text import escape
from costmodel.analyses import frontier as analysis
from costmodel.analyses.frontier import COST

PAGE = "app_pages/frontier.py"
LLAMA = (costmodel.catalog.ASSETS_DIR / "models" / "llama-2-70b.json").read_bytes()
DEEPSEEK = {"model": "deepseek-r1", "weight_format": "fp8"}


def table_with(at, column: str):
    """The first table on the page with ``column``, as the page passed it."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def ranking(at):
    return table_with(at, "rank")


def assert_equal_to_run(at, scenario, options, catalog=None):
    """The verdict, the cheapest setups and the ranking are ``analysis.run``'s."""
    res = analysis.run(scenario, options, catalog)
    assert escape(res.verdict) in markdown_text(at)
    shown = table_with(at, "ttft_ms").set_index("gpu_name")  # the first: cheapest per GPU
    names = costmodel.load_catalog().gpus["name"]
    assert list(shown.index) == [names[g] for g in res.cheapest.index]
    for gpu, row in res.cheapest.iterrows():
        got = shown.loc[names[gpu]]
        assert got["setup"] == row["setup"]
        for column in ("tokens_per_s_per_user", "output_tokens_per_s_per_gpu", COST, "ttft_ms"):
            assert float(got[column]) == pytest.approx(row[column], rel=1e-3)
    ranks = ranking(at)
    assert list(ranks["gpu_name"]) == [names[g] for g in res.ranking.index]
    assert list(ranks[COST].astype(float)) == pytest.approx(list(res.ranking[COST]), rel=1e-3)
    return res


def test_mixtral_default_runs_with_a_hint():
    at = open_page(PAGE)
    assert not at.exception and not at.error and not at.warning
    assert at.title[0].value == "Throughput vs interactivity"
    assert "deepseek-r1" in at.info[0].value
    assert at.multiselect(key="gpus").value == list(PAGE_GPUS)
    assert_equal_to_run(at, costmodel.Scenario(), analysis.Options(gpus=PAGE_GPUS))  # rule's prices


def test_deepseek_link_numbers_equal_run_and_inferencex_caption():
    at = open_page(PAGE, **DEEPSEEK)
    assert not at.exception and not at.error and not at.info
    scenario = costmodel.Scenario(**DEEPSEEK)
    res = assert_equal_to_run(at, scenario, analysis.Options(gpus=PAGE_GPUS))
    # Expert parallelism wins somewhere for a 671B MoE (256 experts).
    assert res.cheapest["expert_parallel"].any()
    (caption,) = [c.value for c in at.caption if "InferenceX" in c.value]
    fronts = res.fronts[res.fronts["tokens_per_s_per_user"] >= 75]
    for gpu, published in (("b200", 2558), ("gb200", 5790)):
        best = fronts[fronts["gpu"] == gpu]["output_tokens_per_s_per_gpu"].max()
        assert f"{best:,.0f} against {published:,.0f} ({best / published:.2f}x)" in caption


def chart_rows(at, index: int) -> list[dict]:
    """Every data row of chart ``index`` (Streamlit sends the data beside the spec)."""
    sets = at.get("vega_lite_chart")[index].proto.datasets
    return [
        row
        for d in sets
        for row in pa.ipc.open_stream(d.data.data).read_pandas().to_dict("records")
    ]


def test_every_catalog_gpu_has_its_own_colour():
    names = costmodel.load_catalog().gpus["name"]
    assert len({charts.colour(n) for n in names}) == len(names)


def test_charts_log_axes_tooltips_targets_and_prices():
    at = open_page(PAGE, **DEEPSEEK, tpot_ms_max="25")
    specs = chart_specs(at)
    assert len(specs) == 2
    text = json.dumps(specs)
    assert text.count('"type": "log"') >= 4  # x and y of both charts
    for title in ("Setup", "Batch [sequences]", "Parallelism", "TTFT [ms]", "TPOT [ms]"):
        assert f'"title": "{title}"' in text
    # TPOT 25 ms drawn as 1000 / 25 = 40 tokens/s per user on both charts.
    rows = [chart_rows(at, 0), chart_rows(at, 1)]
    for chart in rows:
        (rule,) = [r for r in chart if r.get("label") == "TPOT ≤ 25.0 ms"]
        assert rule["tokens_per_s_per_user"] == 40.0
    # Provider prices on the cost view: DeepInfra's (0.50 in, 2.15 out, 2026-11-20) at 512 in /
    # 256 out is (512 * 0.50 + 256 * 2.15) / 256 = 3.15 $ per million output tokens.
    assert "DeepInfra $3.15" in [r.get("label") for r in rows[1]]
    assert "DeepInfra $3.15" not in [r.get("label") for r in rows[0]]


def test_targets_and_gpus_from_the_url(downloads):
    query = {"gpus": ["b200", "gb200"], "ttft_ms_max": "500", "tpot_ms_max": "20"}
    at = open_page(PAGE, **DEEPSEEK, **query, min_tokens_per_s_per_user="100")
    assert not at.exception and not at.error
    assert at.multiselect(key="gpus").value == ["b200", "gb200"]
    assert at.number_input(key="tpot_ms_max").value == 20.0
    options = analysis.Options(
        gpus=("b200", "gb200"), ttft_ms_max=500.0, tpot_ms_max=20.0, min_tokens_per_s_per_user=100.0
    )
    res = assert_equal_to_run(at, costmodel.Scenario(**DEEPSEEK), options)
    assert (res.cheapest["tpot_ms"] <= 20).all() and (res.cheapest["ttft_ms"] <= 500).all()
    assert (res.ranking["tokens_per_s_per_user"] >= 100).all()
    # The CSV holds the cheapest rows with every column of the sweep, at full precision.
    csv = pd.read_csv(io.BytesIO(downloads["frontier_cheapest.csv"]))
    assert list(csv["gpu"]) == list(res.cheapest.index)
    assert list(csv[COST]) == pytest.approx(list(res.cheapest[COST]), rel=1e-12)
    assert {"usd_per_request", "alltoall_time_ms", "expert_parallel"} <= set(csv.columns)


@pytest.mark.parametrize(
    "params",
    [{"tpot_ms_max": "fast"}, {"gpus": "tpu-v9"}, {"max_gpus": "500"}, {"serving": "both"}],
)
def test_bad_value_is_named_and_the_default_used(params):
    at = open_page(PAGE, **params)
    (name,) = params
    assert f"`{name}=" in ignored(at)
    default = {"gpus": list(PAGE_GPUS), "serving": list(analysis.SERVING)}
    widget = at.multiselect(key=name) if name in default else at.number_input(key=name)
    expected = default.get(name, getattr(analysis.Options(), name))
    assert widget.value == expected


def test_options_that_do_not_fit_together_are_named():
    at = open_page(PAGE, batch_min="64", batch_max="8")
    assert not at.exception
    assert "batch_min (64) must be at most batch_max (8)" in at.warning[0].value
    assert_equal_to_run(at, costmodel.Scenario(), analysis.Options(gpus=PAGE_GPUS))  # rule's prices


def test_preset_sets_the_sidebar():
    at = open_page(PAGE)
    at.button(key="frontier_preset:DeepSeek-R1 MTP on 8x B200").click().run()
    assert not at.exception and not at.error
    preset = costmodel.presets.DEEPSEEK_R1_MTP_B200
    for key in ("model", "gpu", "weight_format", "prompt_tokens", "output_tokens"):
        assert at.session_state[key] == preset[key]
    assert "DeepSeek-R1 at 1,024 in / 2,048 out" in markdown_text(at)


def test_an_uploaded_model_is_swept():
    # The page runs its analysis on the session's catalog: your model is in it.
    custom = models.from_upload(LLAMA, "config.json", costmodel.load_catalog())
    at = open_page(PAGE, model=custom.model_id, custom_model=custom.url)
    assert not at.exception and not at.error and not at.warning
    catalog = models.with_custom(costmodel.load_catalog(), custom)
    scenario = costmodel.Scenario(model=custom.model_id)
    assert_equal_to_run(at, scenario, analysis.Options(gpus=PAGE_GPUS), catalog)


def test_a_single_batch_where_nothing_fits_draws_the_page():
    at = open_page(PAGE, batch_min="65536", batch_max="65536")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Something went wrong" not in markdown_text(at)
