"""Energy per token and the cost of API, renting and buying, worked by hand."""

import numpy as np
import pandas as pd
import pytest

from costmodel.planning import get_workload
from costmodel.planning.buy_rent_api import (
    annuity_per_month,
    api_bill,
    compare,
    ownership_cost,
    purchase_prices,
    tokens_in_words,
)
from costmodel.planning.energy import PUE, fleet_energy, gpu_power
from costmodel.planning.fleet import fleet_candidates
from costmodel.planning.latency import service_times


def test_every_gpu_has_a_sourced_power_and_the_fallback_is_the_median_ratio():
    power = gpu_power()
    assert power["source"].str.len().min() > 20
    # Published all-in / board: DGX A100 812.5 / 400 (twice), DGX H100 and H200 1,275 /
    # 700, DGX B200 1,787.5 / 1,000, GB200 NVL72 1,667 / 1,200: the median is 1.8214.
    assert power["host_power_factor"].iloc[0] == pytest.approx(1275 / 700)
    assert power.loc["mi300x", "all_in_power_w"] == pytest.approx(750 * 1275 / 700)
    assert power.loc["mi300x", "all_in_basis"].startswith("estimated")


def test_energy_of_one_fleet_by_hand():
    # 16 H100 (DGX H100: 10.2 kW / 8 = 1,275 W each), PUE 1.3, $0.08/kWh, serving 10,000
    # output tokens/s, rented at $2/GPU-hour:
    #   IT power 16 x 1,275 W = 20.4 kW; facility 20.4 x 1.3 = 26.52 kW
    #   joules per output token 26,520 W / 10,000 tokens/s = 2.652 J
    #   tokens/s per MW 10,000 / 0.02652 MW = 377,074
    #   electricity 26.52 kW x $0.08 = $2.1216 an hour, over 36e6 tokens an hour:
    #   $0.058933 per million output tokens; $1,548.77 a month (730 h)
    #   rent 16 x $2 x 730 = $23,360 a month: electricity is 6.63 % of it.
    e = fleet_energy("h100-sxm", 16, 10_000, 16 * 2.0 * 730, pue=1.3, usd_per_kwh=0.08).iloc[0]
    assert e["it_power_kw"] == pytest.approx(20.4)
    assert e["facility_power_kw"] == pytest.approx(26.52)
    assert e["joules_per_output_token"] == pytest.approx(2.652)
    assert e["output_tokens_per_s_per_mw"] == pytest.approx(10_000 / 0.02652)
    assert e["electricity_usd_per_million_output_tokens"] == pytest.approx(2.1216 / 36)
    assert e["electricity_usd_per_month"] == pytest.approx(2.1216 * 730)
    assert e["electricity_share_pct"] == pytest.approx(100 * 2.1216 * 730 / 23_360)
    assert "inside the rental price" in e["electricity_is"]
    owned = fleet_energy("h100-sxm", 16, 10_000, owned=True).iloc[0]
    assert "cost line" in owned["electricity_is"] and np.isnan(owned["electricity_share_pct"])
    # Half the power drawn: half the joules; vectorised over fleets.
    both = fleet_energy(["h100-sxm", "b200"], [16, 8], [1e4, 1e4], load_power_fraction=0.5)
    assert both["joules_per_output_token"].iloc[0] == pytest.approx(2.652 / 1.3 * PUE / 2)
    with pytest.raises(ValueError, match="pue"):
        fleet_energy("h100-sxm", 1, 1, pue=0.9)


def test_ownership_cost_by_hand():
    # DGX H100 $270,000 over 5 years at 10 %: r = 0.1/12, n = 60,
    # 270,000 r / (1 - (1 + r)^-60) = $5,736.70 a month; / 8 GPUs / 730 h = $0.98231.
    assert annuity_per_month(270_000, 0.10, 5) == pytest.approx(5736.70, abs=0.01)
    assert annuity_per_month(120, 0.0, 1) == pytest.approx(10.0)
    cost = ownership_cost(["h100-sxm"], pue=1.5, usd_per_kwh=0.1).iloc[0]
    assert cost["capital_usd_per_gpu_hour"] == pytest.approx(5736.70 / 8 / 730, abs=1e-5)
    # Hosting 1.275 kW x $184 / 730 h = $0.32137; electricity 1.275 x 1.5 x 0.1 = $0.19125.
    assert cost["hosting_usd_per_gpu_hour"] == pytest.approx(1.275 * 184 / 730)
    assert cost["electricity_usd_per_gpu_hour"] == pytest.approx(0.19125)
    assert cost["owning_usd_per_gpu_hour"] == pytest.approx(
        5736.70 / 5840 + 1.275 * 184 / 730 + 0.19125
    )
    assert purchase_prices()["source"].str.len().min() > 20
    with pytest.raises(ValueError, match="cost_of_capital"):
        ownership_cost(cost_of_capital=2.0)


def test_api_bill_by_hand():
    # InferenceX 1k/1k: 921.5 prompt + 921.5 output tokens a request; 1.843e9 tokens a
    # month = 1e6 requests at DeepSeek-R1's $0.55 in / $2.19 out: 1e6 x (921.5 x 0.55 +
    # 921.5 x 2.19) / 1e6 = $2,524.91. The agentic workload bills 94.2 % of each prompt
    # at the cached price.
    work = get_workload("inferencex-1k1k")
    row = {"usd_per_million_input": 0.55, "usd_per_million_output": 2.19}
    assert api_bill(work, 1.843e9, row) == pytest.approx(921.5 * (0.55 + 2.19))
    agent = get_workload("agentic-coding")
    means = agent.mean_tokens()
    cached = {**row, "usd_per_million_cached_input": 0.14}
    per_request = (means["prompt"] * (0.058 * 0.55 + 0.942 * 0.14) + means["output"] * 2.19) / 1e6
    volume = 1e9
    assert api_bill(agent, volume, cached) == pytest.approx(
        volume / (means["prompt"] + means["output"]) * per_request
    )


def test_api_bill_of_a_price_sheet_is_each_rows_bill():
    # Arrays of prices give one bill per price list (the cached price NaN: the input
    # price), each the bill of that row alone, bit for bit.
    work = get_workload("agentic-coding")
    sheet = {
        "usd_per_million_input": np.array([0.55, 3.0, 0.2]),
        "usd_per_million_output": np.array([2.19, 15.0, 0.8]),
        "usd_per_million_cached_input": np.array([0.14, np.nan, 0.05]),
    }
    bills = api_bill(work, 1e9, sheet)
    alone = [api_bill(work, 1e9, {k: v[i] for k, v in sheet.items()}) for i in range(3)]
    assert bills.tolist() == alone
    # No cached price: the input price, as a row without the column.
    plain = {k: v[1] for k, v in sheet.items() if k != "usd_per_million_cached_input"}
    assert bills[1] == api_bill(work, 1e9, plain)


def test_words_for_volumes():
    assert tokens_in_words(9.18e10) == "91.8 billion"
    assert tokens_in_words(1e8) == "100 million"
    assert tokens_in_words(5000) == "5,000"


def test_compare_states_where_the_answer_changes():
    import costmodel

    scenario = costmodel.Scenario(model="llama-3.1-70b", weight_format="fp8", kv_format="fp8")
    work = get_workload("mlperf-llama2-70b")
    configs = fleet_candidates(scenario, ["h100-sxm"], batch_sizes=(64, 256), n_gpus=(4, 8))
    service = service_times(scenario, work, configs)
    volumes = np.geomspace(1e8, 1e13, 11)
    row = pd.Series({"usd_per_million_input": 0.88, "usd_per_million_output": 0.88})
    found = compare(
        service,
        work,
        volumes,
        {"ttft_p90_ms": 2000, "tpot_p90_ms": 50},
        api_price=row,
        api_label="Together",
        rent_usd_per_gpu_hour={"h100-sxm": 2.0},
        rent_label="$2",
    )
    table = found.table
    # The API bill is linear in volume; fleets cost whole GPUs: the API wins small,
    # a fleet wins large, and owning an H100 ($1.46/GPU-hour) beats renting at $2.
    assert table["api_usd_per_month"].iloc[-1] / table["api_usd_per_month"].iloc[0] == (
        pytest.approx(1e5)
    )
    assert table["cheapest"].iloc[0] == "api" and table["cheapest"].iloc[-1] == "buy"
    assert (table["buy_usd_per_month"] < table["rent_usd_per_month"]).all()
    assert table["rent_usd_per_month"].is_monotonic_increasing
    assert found.verdict.startswith("At 100 million tokens a month the API (Together)")
    assert "buying" in found.verdict and "inside the rental price" in found.electricity
