"""Price files users keep: LiteLLM's and OpenRouter's, read into the catalog's price table.

``tests/data/litellm-model-prices-sample.json``: 20 entries (and ``sample_spec``) copied
unchanged from ``litellm/model_prices_and_context_window_backup.json`` of LiteLLM 1.110.2's
PyPI wheel
(2026-11-20), chosen to cover the schema's cases (off-peak pricing, deprecation dates,
dated revisions, service tiers, an embedding model, zero prices, ``sample_spec``).
``tests/data/openrouter-models-sample.json``: entries in the schema of OpenRouter's
``GET /api/v1/models`` (its API reference: ``data[].id``, ``canonical_slug``,
``hugging_face_id``, ``pricing`` strings in USD per token); the values are made up for
the test, not OpenRouter's prices.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import costmodel
from costmodel import price_files as pf
from costmodel.analyses import price_war as pw
from costmodel.pricing import price_sheet

DATA = Path(__file__).parent / "data"
LITELLM = (DATA / "litellm-model-prices-sample.json").read_bytes()
OPENROUTER = (DATA / "openrouter-models-sample.json").read_bytes()
DATE = "2026-11-20"


@pytest.mark.parametrize(
    ("key", "model"),
    [
        ("together_ai/deepseek-ai/DeepSeek-V4-Flash", "deepseek-v4-flash"),
        ("deepseek/deepseek-v4-flash", "deepseek-v4-flash"),
        ("azure_ai/DeepSeek-V4-Flash-0731", "deepseek-v4-flash"),  # a dated revision
        ("fireworks_ai/accounts/fireworks/models/deepseek-v4p1-flash", "deepseek-v4.1-flash"),
        ("databricks/databricks-deepseek-v4-1-flash", "deepseek-v4.1-flash"),
        ("empiriolabs/kimi-k2-7-code:variant1", "kimi-k2.7-code"),
        ("global.zai.glm-5.3", "glm-5.2"),  # GLM-5.3: GLM-5.2's base model (alias)
        ("bedrock/us-east-1/moonshotai.kimi-k2.5", "kimi-k2.5"),
        ("openai.gpt-oss-120b-1:0", "gpt-oss-120b"),
        ("gmi/zai-org/GLM-5-FP8", "glm-5"),  # a number format of the same weights
        ("deepinfra/meta-llama/Llama-3.3-70B-Instruct", "llama-3.1-70b"),  # alias
        ("mistralai/Mixtral-8x7B-Instruct-v0.1", "mixtral-8x7b"),  # a Hugging Face id
        ("qwen.qwen3-235b-a22b-2507-v1:0", "qwen3-235b-a22b"),
    ],
)
def test_keys_map_to_catalog_models(key, model):
    mapped = pf.map_models([key]).iloc[0]
    assert (mapped["model"], mapped["reason"]) == (model, "")


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("fireworks_ai/glm-5p2-fast", "service tier: fast"),
        ("fireworks_ai/accounts/fireworks/routers/spot-deepseek-v4-flash", "service tier: spot"),
        ("openai/gpt-oss-120b:free", "service tier: free"),
        ("aihubmix/cc-glm-5.1", "no catalog model"),  # a coding plan, not a model
        ("deepseek-chat", "no catalog model"),  # an API alias whose model changes
        ("together_ai/deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "no catalog model"),
        ("glm-5.3-flash", "no catalog model"),  # another model (320B / 18B)
    ],
)
def test_keys_left_out_say_why(key, reason):
    mapped = pf.map_models([key]).iloc[0]
    assert (mapped["model"], mapped["reason"]) == ("", reason)


def test_litellm_prices_per_million_with_cached_and_off_peak():
    read = pf.read_litellm(LITELLM, DATE)
    assert read.entries == 20 and read.date == DATE  # sample_spec is not an entry
    assert list(read.prices.columns) == list(pf.FILE_PRICE_COLUMNS)
    prices = read.prices.set_index(["provider", "model", "time_of_day"])
    # groq/openai/gpt-oss-120b: 1.5e-07 / 6e-07 / 7.5e-08 per token = $0.15 / $0.60 /
    # $0.075 per million tokens.
    groq = prices.loc[("Groq", "gpt-oss-120b", "all_day")]
    assert groq[["usd_per_million_input", "usd_per_million_output"]].tolist() == pytest.approx(
        [0.15, 0.60]
    )
    assert groq["usd_per_million_cached_input"] == pytest.approx(0.075)
    # DeepSeek: peak 3e-07 / 1.2e-06 / 6e-09 = $0.30 / $1.20 / $0.006; off_peak_pricing
    # 1.5e-07 / 6e-07 / 3e-09 = $0.15 / $0.60 / $0.003. Its off-peak windows on weekdays
    # are 00:00-01:00, 04:00-06:00, 10:00-24:00 UTC: peak is 01:00-04:00 and 06:00-10:00.
    peak = prices.loc[("DeepSeek", "deepseek-v4-flash", "peak")]
    off = prices.loc[("DeepSeek", "deepseek-v4-flash", "off_peak")]
    assert peak["usd_per_million_output"] == pytest.approx(1.20)
    assert off[
        ["usd_per_million_input", "usd_per_million_output", "usd_per_million_cached_input"]
    ].tolist() == pytest.approx([0.15, 0.60, 0.003])
    assert peak["peak_hours_utc"] == off["peak_hours_utc"] == "01:00-04:00;06:00-10:00 Mon-Fri"
    assert set(read.prices["date"]) == {DATE}
    assert read.prices["source"].str.contains("LiteLLM").all()


def test_litellm_entries_collapse_to_one_price_per_provider_and_model():
    read = pf.read_litellm(LITELLM, DATE)
    prices = read.prices.set_index(["provider", "model"])
    # Azure AI sells DeepSeek-V4-Flash under three keys: $0.51, $1.32 (the -0731 revision)
    # and $0.31 (served by Fireworks): the lowest output price is kept, the keys named.
    azure = prices.loc[("Azure AI", "deepseek-v4-flash")]
    assert azure["usd_per_million_output"] == pytest.approx(0.31)
    assert azure["note"].startswith("lowest output price of keys azure_ai/FW-DeepSeek-V4-Flash")
    assert "azure_ai/DeepSeek-V4-Flash-0731" in azure["note"]
    assert not read.prices.duplicated(["provider", "model", "time_of_day"]).any()


def test_litellm_leaves_out_what_it_cannot_use_and_says_why():
    read = pf.read_litellm(LITELLM, DATE)
    why = read.left_out.set_index("key")["reason"]
    assert why["text-embedding-3-small"] == "not a chat model"
    assert why["fireworks_ai/deepseek-v4-flash"] == "deprecated on 2026-08-14"
    assert why["together_ai/moonshotai/Kimi-K2.7-Code"] == "deprecated on 2026-08-27"
    assert why["ollama/mixtral-8x7B-Instruct-v0.1"].startswith("both prices zero")
    assert why["aihubmix/cc-glm-5.1"] == "no catalog model"
    assert why["fireworks_ai/glm-5p2-fast"] == "deprecated on 2026-09-25"
    assert len(read.left_out) + 13 == read.entries  # 13 entries used, in 12 rows
    # Before its deprecation date the entry counts (Fireworks's V4-Flash at $0.28 out).
    august = pf.read_litellm(LITELLM, "2026-08-01").prices.set_index(["provider", "model"])
    assert august.loc[
        ("Fireworks", "deepseek-v4-flash"), "usd_per_million_output"
    ] == pytest.approx(0.28)


def test_a_price_file_becomes_the_price_sheet():
    catalog = costmodel.load_catalog()
    read = pf.read_litellm(LITELLM, DATE)
    mine = pf.use_prices(catalog, read.prices)
    peak = price_sheet("deepseek-v4-flash", DATE, mine, time_of_day="peak").set_index("provider")
    off = price_sheet("deepseek-v4-flash", DATE, mine, time_of_day="off_peak").set_index("provider")
    assert peak.loc["DeepSeek", "usd_per_million_output"] == pytest.approx(1.20)
    assert off.loc["DeepSeek", "usd_per_million_output"] == pytest.approx(0.60)
    assert off.loc["Novita", "usd_per_million_output"] == pytest.approx(0.28)  # all day
    # The price war reads it as it reads the catalog's.
    scenario = costmodel.Scenario(model="glm-5.2", n_gpus=8, weight_format=None)
    result = pw.run(scenario, pw.Options(price_date="today"), mine)
    assert result.price_date == DATE
    assert set(result.sheet["provider"]) == {"DeepInfra", "aihubmix", "Amazon Bedrock"}
    # Kept beside the catalog's own prices instead:
    both = pf.use_prices(catalog, read.prices, keep_catalog=True)
    assert len(both.provider_prices) == len(catalog.provider_prices) + len(read.prices)


def test_openrouter_prices_per_million_mapped_by_hugging_face_id():
    read = pf.read_openrouter(OPENROUTER, DATE)
    prices = read.prices.set_index("model")
    assert set(read.prices["provider"]) == {"OpenRouter"}
    # "0.00000016" / "0.00000032" / "0.000000032" USD per token = $0.16 / $0.32 / $0.032.
    v4 = prices.loc["deepseek-v4-flash"]
    assert v4[
        ["usd_per_million_input", "usd_per_million_output", "usd_per_million_cached_input"]
    ].tolist() == pytest.approx([0.16, 0.32, 0.032])
    assert prices.loc["glm-5.2", "usd_per_million_output"] == pytest.approx(2.5)
    assert prices.loc["mixtral-8x7b", "usd_per_million_input"] == pytest.approx(0.54)
    assert np.isnan(prices.loc["mixtral-8x7b", "usd_per_million_cached_input"])  # none listed
    assert prices.loc["kimi-k2.5", "note"] == "key moonshotai/kimi-k2.5"  # empty HF id: the id
    why = read.left_out.set_index("key")["reason"]
    assert why["openrouter/auto"] == "a negative (variable) price"
    assert why["anthropic/claude-sonnet-5"] == "no catalog model"
    assert set(read.left_out["reason"]) >= {"service tier: free", "service tier: nitro"}
    assert prices.loc["gpt-oss-120b", "usd_per_million_output"] == pytest.approx(0.18)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{not json", "the LiteLLM price file is not a JSON file"),
        (b"[1, 2]", "must be a JSON object of model entries"),
        (b'{"groq/x": 3}', "entry 'groq/x' must be an object"),
        (
            b'{"groq/openai/gpt-oss-120b": {"input_cost_per_token": "cheap"}}',
            "input_cost_per_token",
        ),
        (b'{"groq/openai/gpt-oss-120b": {"input_cost_per_token": NaN}}', "NaN is not a number"),
        (b'{"a": {"input_cost_per_token": true}}', r"input_cost_per_token\[0\] must be a number"),
        (b"[" * 100_000 + b"]" * 100_000, "not a JSON file"),
        (b"\xff\xfe", "not a JSON file"),
        (
            b'{"deepseek/deepseek-v4-flash": {"input_cost_per_token": 1e-7, '
            b'"output_cost_per_token": 2e-7, "off_peak_pricing": '
            b'{"windows": [{"hours_utc": "noon", "weekdays": [1]}]}}}',
            "hours_utc 'noon' is not HH:MM-HH:MM",
        ),
    ],
)
def test_a_malformed_litellm_file_is_a_clear_value_error(data, message):
    with pytest.raises(ValueError, match=message):
        pf.read_litellm(data, DATE)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"models": []}', 'must be an object with a "data" list'),
        (b'{"data": [{"name": "x"}]}', r"data\[0\] must be an object with an id"),
        (b'{"data": [{"id": "a/b", "pricing": {"prompt": "free"}}]}', "pricing.prompt"),
    ],
)
def test_a_malformed_openrouter_file_is_a_clear_value_error(data, message):
    with pytest.raises(ValueError, match=message):
        pf.read_openrouter(data, DATE)


def test_sizes_dates_and_a_byte_order_mark():
    with pytest.raises(ValueError, match="at most 8,000,000 are read"):
        pf.read_litellm(b" " * (pf.MAX_PRICE_FILE_BYTES + 1), DATE)
    with pytest.raises(ValueError, match="date must be the day of the file"):
        pf.read_litellm(LITELLM, "today")
    with pytest.raises(ValueError, match="date must be"):
        pf.read_litellm(LITELLM, "20 November")
    # A file saved with a UTF-8 byte-order mark (Windows editors) reads as without.
    bom = pf.read_openrouter(b"\xef\xbb\xbf" + OPENROUTER, DATE)
    assert bom.prices.equals(pf.read_openrouter(OPENROUTER, DATE).prices)
    entries = [{"id": "a/b"}] * (pf.MAX_ENTRIES + 1)
    with pytest.raises(ValueError, match="50,001 models; at most 50,000"):
        pf.read_openrouter(json.dumps({"data": entries}), DATE)
