"""Today's models in the price war and beside DeepSeek's disclosure.

Parametrised over the ids of issue 10 the catalog has: they arrive with the architecture
work (assets/models.csv); until then these tests have no cases.
"""

import pytest

import costmodel
from costmodel.analyses import disclosures as d
from costmodel.analyses import price_war as pw

CATALOG = costmodel.load_catalog()


def present(*ids: str) -> list[str]:
    """The ids the catalog has."""
    return [m for m in ids if m in CATALOG.models.index]


@pytest.mark.parametrize("model", present("deepseek-v3.2", "gpt-oss-120b", "qwen3-235b-a22b"))
def test_who_makes_money_serving_todays_models_today(model):
    result = pw.run(costmodel.Scenario(model=model, n_gpus=8, prefix_cache_hit_rate=0.5))
    rows = CATALOG.provider_prices[CATALOG.provider_prices["model"] == model]
    assert result.price_date == max(rows["date"], key=costmodel.date_key)  # the default: today
    assert result.seed_setup is None and result.c4_status == "not applicable"
    assert any(label.startswith("Market") for label in result.setups)
    name = CATALOG.models.loc[model, "name"]
    assert result.verdict_text.startswith(
        f"Who makes money serving {name} at the prices of {result.price_date}?"
    )
    on_best = result.margins[result.margins["setup"] == result.cheapest_setup]
    assert len(on_best) == len(result.sheet)
    for row in on_best.itertuples():
        assert f"{row.provider} ({row.margin_pct:+.0f}%)" in result.verdict_text


@pytest.mark.parametrize("model", present("deepseek-v3.2"))
def test_deepseek_v32_revenue_with_cache_hits_by_hand(model):
    # DeepSeek (2025-09-29): $0.28 input, $0.028 cached, $0.42 output; half of 512 prompt
    # tokens cached, 256 output: (256 x 0.28 + 256 x 0.028 + 256 x 0.42) / 1e6
    # = 256 x 0.728 / 1e6 = $186.368e-6.
    result = pw.run(costmodel.Scenario(model=model, n_gpus=8, prefix_cache_hit_rate=0.5))
    deepseek = result.margins[result.margins["provider"] == "DeepSeek"]
    assert deepseek["revenue_per_request_usd"].tolist() == pytest.approx(
        [186.368e-6] * len(deepseek)
    )
    assert deepseek["cached_price_published"].all()


@pytest.mark.parametrize("model", present("deepseek-r1"))
def test_the_model_beside_deepseeks_disclosed_day(model):
    # The preset: R1 on DeepSeek's 144-GPU expert-parallel decode unit, batch 12,686.
    result = d.run()
    assert result.scenario.model == model
    assert result.model["fits"] and result.model["batch_size"] == 12_686
    ratio = result.comparison.set_index("metric")["model_over_disclosed"]
    # How far the model is from DeepSeek's published figures (2026-12-01: decode 0.98x,
    # prefill 0.63x, the day's cost 1.26x): the model co-locates prefill with decode and
    # does not model DeepSeek's communication overlap.
    assert 0.8 <= ratio["decode throughput per node"] <= 1.25
    assert 0.5 <= ratio["prefill throughput per node (cache hits included)"] <= 2.0
    assert 0.75 <= ratio["cost of the day"] <= 1.5


@pytest.mark.parametrize("model", present("gpt-oss-120b"))
def test_market_setups_may_serve_the_checkpoints_own_formats(model):
    # gpt-oss-120b is released with MXFP4 experts (4 bits + an 8-bit scale per 32: 4.25
    # bits) and BF16 attention: reading half the expert bytes of FP8, it is the cheapest
    # format on every market GPU at batch 32.
    scenario = costmodel.Scenario(model=model, n_gpus=8)
    at_batch = pw.Options(operating_point="batch_size")
    released = pw.run(scenario, at_batch).market.set_index("gpu")
    assert (released["weight_format"] == "mxfp4").all()
    assert (released["attention_format"] == "bf16").all()
    fp8 = pw.run(scenario, at_batch.replace(weight_formats=("fp8",))).market.set_index("gpu")
    assert (fp8["weight_format"] == "fp8").all()
    assert (released["usd_per_request"] < fp8["usd_per_request"]).all()
    label = next(k for k in pw.run(scenario, at_batch).setups if k.startswith("Market: 1x B200"))
    assert "mxfp4 experts + bf16" in label
