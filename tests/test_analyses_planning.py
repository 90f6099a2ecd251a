"""The planning analyses: fleet sizing with energy, and API vs rent vs buy."""

import pytest

import costmodel
from costmodel.analyses import buy_or_rent, fleet_sizing
from costmodel.spec import specs

LLAMA = costmodel.Scenario(model="llama-3.1-70b", weight_format="fp8", kv_format="fp8")
SMALL = dict(gpus=("h100-sxm", "h200-sxm"), max_gpus=8, batch_max=256)


def test_fleet_sizing_answers_with_fleets_energy_and_words():
    r = fleet_sizing.run(LLAMA, fleet_sizing.Options(workload="rag", requests_per_s=3, **SMALL))
    best = r.plan.best
    assert best is not None and best["meets_targets"]
    assert best["ttft_p90_ms"] <= 2000 and best["tpot_p90_ms"] <= 50
    assert list(r.plan.cheapest["gpu"]) == list(r.energy["gpu"])
    # The scenario's own GPU at the scenario's price; the others at the catalog's.
    assert r.prices.loc["h100-sxm", "price_label"] == "scenario price"
    assert best["setup"] in r.verdict and "J per output token" in r.verdict
    assert r.energy["electricity_share_pct"].between(0, 100).all()


def test_fleet_sizing_from_tokens_a_day_and_the_scenario_workload():
    options = fleet_sizing.Options(
        workload="scenario", tokens_per_day=5e8, ttft_p90_ms=None, ttft_p99_ms=3000.0, **SMALL
    )
    r = fleet_sizing.run(LLAMA.replace(prompt_tokens=1000, output_tokens=250), options)
    # 5e8 / 86,400 / 1,250 = 4.63 requests/s.
    assert r.plan.requests_per_s == pytest.approx(5e8 / 86400 / 1250)
    assert set(r.plan.targets) == {"ttft_p99_ms", "tpot_p90_ms"}


def test_options_are_checked():
    assert specs(fleet_sizing.Options)["ttft_p90_ms"].default == 2000.0
    with pytest.raises(ValueError, match="targets"):
        fleet_sizing.Options(ttft_p90_ms=None, tpot_p90_ms=None)
    with pytest.raises(ValueError, match="workload"):
        fleet_sizing.Options(workload="nope")
    with pytest.raises(ValueError, match="tokens_min"):
        buy_or_rent.Options(tokens_min=1e12, tokens_max=1e9)


def test_buy_or_rent_compares_three_answers_over_volume():
    options = buy_or_rent.Options(workload="mlperf-llama2-70b", points=8, **SMALL)
    r = buy_or_rent.run(LLAMA, options)
    assert len(r.table) == 8
    assert {"api", "buy"} <= set(r.table["cheapest"])
    assert r.verdict.startswith("At 100 million tokens a month the API")
    assert r.api_price["model"] == "llama-3.1-70b"
    with pytest.raises(ValueError, match="api_provider"):
        buy_or_rent.run(LLAMA, options.replace(api_provider="Nobody"))
