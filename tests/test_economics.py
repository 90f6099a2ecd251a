"""Cost, revenue, margins and break-even (claims C1-C6, C14).

Seed prices (C1-C3) are the seed document's December 2023 figures, as listed in
shared/seed/README.md. Cost formulas are recomputed by hand from the model's own step
times, so these tests pin the economics, not the step-time model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from costmodel import (
    Scenario,
    batch_grid,
    break_even_batch_size,
    break_even_utilization,
    evaluate,
    load_catalog,
    provider_margins,
    revenue_per_request,
    sweep,
)
from costmodel.margins import margin_columns, margins_table

EXACT = 1e-12

# --- Hand-computed cost ------------------------------------------------------------------


def test_usd_per_million_output_tokens_by_hand():
    r = evaluate(Scenario())
    # $ per second of a 2-GPU replica at $1.95/GPU-h, busy all the time:
    # 2 * 1.95 / 3600 / 1.0 = 0.00108333 $/s. One decode step (27.78 ms today) yields
    # 32 tokens, so per million tokens: 0.00108333 * 27.78 / 1000 / 32 * 1e6 = $0.94.
    usd_per_s = 2 * 1.95 / 3600 / 1.0
    expected = usd_per_s * r["decode_step_ms"] / 1000 / 32 * 1e6
    assert r["usd_per_million_output_tokens"] == pytest.approx(expected, rel=EXACT)
    # usd_per_request: the same $/s over 256 decode steps plus the batch's prefill, shared
    # by 32 requests: 0.00108333 * (256 * 27.78 + 542.3) / 1000 / 32 = $0.000259.
    per_request = usd_per_s * (256 * r["decode_step_ms"] + r["prefill_ms"]) / 1000 / 32
    assert r["usd_per_request"] == pytest.approx(per_request, rel=EXACT)
    # Input tokens: prefill time over 32 * 512 prompt tokens.
    per_m_input = usd_per_s * r["prefill_ms"] / 1000 / (32 * 512) * 1e6
    assert r["usd_per_million_input_tokens"] == pytest.approx(per_m_input, rel=EXACT)
    # Time per output token includes each request's prefill share: (256 * step + prefill)/256.
    assert r["tpot_ms"] == pytest.approx(
        (256 * r["decode_step_ms"] + r["prefill_ms"]) / 256, rel=EXACT
    )


def test_usd_per_million_output_tokens_with_speculation_by_hand():
    s = Scenario(model="llama-2-70b", speculative=True, batch_size=8, utilization=0.5)
    r = evaluate(s)
    # A verification step yields tokens_per_step = (1 - 0.75^5) / 0.25 = 3.05 tokens per
    # sequence: $/M = 2 * 1.95 / 3600 / 0.5 * step_ms / 3.05 / 1000 / 8 * 1e6.
    assert r["tokens_per_step"] == pytest.approx((1 - 0.75**5) / 0.25, rel=EXACT)
    expected = 2 * 1.95 / 3600 / 0.5 * r["decode_step_ms"] / r["tokens_per_step"] / 1000 / 8 * 1e6
    assert r["usd_per_million_output_tokens"] == pytest.approx(expected, rel=EXACT)


def test_cost_proportional_to_price_and_inverse_to_utilization():
    cost_cols = ["usd_per_million_output_tokens", "usd_per_million_input_tokens", "usd_per_request"]
    by_price = sweep(Scenario(), usd_per_gpu_hour=[1.0, 2.0, 4.0])[cost_cols].to_numpy()
    np.testing.assert_allclose(by_price / by_price[0], [[1] * 3, [2] * 3, [4] * 3], rtol=EXACT)
    by_util = sweep(Scenario(), utilization=[1.0, 0.5, 0.25])[cost_cols].to_numpy()
    np.testing.assert_allclose(by_util / by_util[0], [[1] * 3, [2] * 3, [4] * 3], rtol=EXACT)
    # Neither changes the speed.
    speed = sweep(Scenario(), usd_per_gpu_hour=[1.0, 4.0], utilization=[1.0, 0.25])
    assert speed["tpot_ms"].nunique() == 1


def test_revenue_per_request_by_hand():
    # Mistral (C2) for 512 prompt + 256 output tokens:
    # (512 * 0.65 + 256 * 1.96) / 1e6 = (332.8 + 501.76) / 1e6 = $0.00083456.
    assert float(revenue_per_request(512, 256, 0.65, 1.96)) == pytest.approx(834.56e-6, rel=EXACT)
    # Vectorised over providers: Together (0 / 0.60) = 153.6e-6, OpenRouter 0.
    got = revenue_per_request(512, 256, np.array([0.0, 0.0]), np.array([0.60, 0.0]))
    np.testing.assert_allclose(got, [153.6e-6, 0.0], rtol=EXACT)


def test_break_even_utilization_by_hand():
    # u_be = u * cost / revenue: at u = 0.5 a cost of $2e-4 against revenue $4e-4 means
    # a fully busy GPU would cost 1e-4, which breaks even at 25% utilisation.
    assert float(break_even_utilization(0.5, 2e-4, 4e-4)) == pytest.approx(0.25, rel=EXACT)
    assert float(break_even_utilization(1.0, 3e-4, 1.5e-4)) == pytest.approx(2.0, rel=EXACT)
    assert np.isinf(break_even_utilization(1.0, 3e-4, 0.0))
    # And it is the utilisation that really equalises cost and revenue in the model.
    cost = evaluate(Scenario(utilization=0.8))["usd_per_request"]
    u_be = float(break_even_utilization(0.8, cost, 834.56e-6))
    at_u_be = evaluate(Scenario(utilization=u_be))["usd_per_request"]
    assert at_u_be == pytest.approx(834.56e-6, rel=1e-9)


def test_batch_grid():
    assert batch_grid(64) == [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64]
    assert batch_grid()[-1] == 65536 and batch_grid()[-2] == 49152


@pytest.mark.parametrize("revenue", [834.56e-6, 384e-6, 207.36e-6, 153.6e-6])
def test_break_even_batch_size_is_the_first_that_breaks_even(revenue):
    s = Scenario()
    batch = float(break_even_batch_size(s, revenue)[0])
    grid = batch_grid()
    i = grid.index(int(batch))
    rows = sweep(s, batch_size=grid[max(i - 1, 0) : i + 1])
    # The returned batch fits and costs at most the revenue; the grid batch before it
    # costs more.
    assert rows["fits"].iloc[-1]
    assert rows["usd_per_request"].iloc[-1] <= revenue
    if i > 0:
        assert rows["usd_per_request"].iloc[0] > revenue


def test_break_even_batch_size_vectorised_and_nan():
    got = break_even_batch_size(Scenario(), [834.56e-6, 0.0, 1e-9])
    # Mistral's revenue breaks even at batch 12; a zero or tiny price never does (NaN).
    assert got[0] == 12
    assert np.isnan(got[1]) and np.isnan(got[2])
    # Explicit batch list: only those sizes are tried.
    assert float(break_even_batch_size(Scenario(), 834.56e-6, batch_sizes=[10, 20])[0]) == 10


# --- Provider prices (C1-C3) ---------------------------------------------------------------

SEED_PRICES = {
    # provider: (model, $/M input, $/M output), seed README C1-C3, dated 2023-12
    "OpenAI": ("gpt-3.5-turbo", 1.00, 2.00),
    "Mistral": ("mixtral-8x7b", 0.65, 1.96),
    "Together": ("mixtral-8x7b", 0.00, 0.60),
    "Perplexity": ("mixtral-8x7b", 0.14, 0.56),
    "Anyscale": ("mixtral-8x7b", None, 0.50),
    "DeepInfra": ("mixtral-8x7b", None, 0.27),
    "OpenRouter": ("mixtral-8x7b", 0.00, 0.00),
}
CHEAPER = ["Together", "Perplexity", "Anyscale", "DeepInfra", "OpenRouter"]


def _dec_2023_prices():
    prices = load_catalog().provider_prices
    return prices[prices["date"] == "2023-12"].reset_index(drop=True)


def test_c1_c3_seed_prices_in_catalog():
    prices = _dec_2023_prices().set_index("provider")
    assert sorted(prices.index) == sorted(SEED_PRICES)
    for provider, (model, p_in, p_out) in SEED_PRICES.items():
        row = prices.loc[provider]
        assert row["model"] == model
        assert row["usd_per_million_output"] == pytest.approx(p_out, abs=1e-9)
        if p_in is not None:  # the document names only the output price for these
            assert row["usd_per_million_input"] == pytest.approx(p_in, abs=1e-9)


def test_provider_margins_columns_by_hand():
    s = Scenario()
    table = provider_margins(s, _dec_2023_prices()).set_index("provider")
    cost = evaluate(s)["usd_per_request"]
    assert (table["usd_per_request"] == cost).all()
    for provider, row in table.iterrows():
        revenue = (512 * row["usd_per_million_input"] + 256 * row["usd_per_million_output"]) / 1e6
        assert row["revenue_per_request_usd"] == pytest.approx(revenue, rel=EXACT), provider
        assert row["margin_usd_per_million_requests"] == pytest.approx(
            (revenue - cost) * 1e6, rel=EXACT
        )
        if revenue > 0:
            assert row["margin_pct"] == pytest.approx(100 * (revenue - cost) / revenue, rel=EXACT)
            assert row["break_even_utilization"] == pytest.approx(cost / revenue, rel=EXACT)
        else:
            assert np.isnan(row["margin_pct"]) and np.isinf(row["break_even_utilization"])
            assert np.isnan(row["break_even_batch_size"])


# --- C4: at the seed's optimistic baseline, Mistral barely breaks even, the rest lose ---
#
# Baseline: 2x H100 SXM, bf16, $1.95/GPU-h, utilisation 1 (24/7), 512 prompt + 256 output
# tokens. The model's cost per request falls steeply with the batch (0.000878 $ at batch 8,
# 0.000634 at 12, 0.000259 at 32, 0.000141 at 64), so the claim depends on the batch:
#   break-even batch (batch grid): Mistral 12, Anyscale 24, Perplexity 48, DeepInfra 48,
#   Together 64, OpenRouter never (free).
# Batch 12 is where Mistral's price moves from a small loss (-5% at batch 8) to a profit
# (+24%): the batch at which the seed's "Mistral barely breaks even" holds in the model, and
# there all cheaper providers lose money. At batch 32 (the Scenario default) Anyscale
# already profits, and from batch 64 every paying provider does: the model disagrees with
# the seed's "running at a large batch ... all of these providers lose money".
C4_BATCH = 12


def _margins(batch: int, **fields):
    table = provider_margins(Scenario(batch_size=batch, **fields), _dec_2023_prices())
    return table.set_index("provider")


def test_c4_mistral_near_break_even_and_cheaper_providers_lose():
    table = _margins(C4_BATCH)
    # Mistral: cost $0.000634 vs revenue $0.000835: margin +24%; near break-even or positive.
    assert 0 <= table.loc["Mistral", "margin_pct"] < 30
    for provider in CHEAPER:
        assert table.loc[provider, "margin_usd_per_million_requests"] < 0, provider
    # OpenAI's GPT-3.5 price (a different model) would profit too.
    assert table.loc["OpenAI", "margin_pct"] > 0


def test_c4_mistral_loses_a_little_one_grid_step_lower():
    # Batch 8: cost 2 * 1.95 / 3600 * (256 * 24.78 + 136.2) ms / 8 = $0.000878 vs $0.000835:
    # -5%, "barely".
    assert -10 < _margins(8).loc["Mistral", "margin_pct"] < 0


def test_c4_break_even_batches_order():
    table = _margins(C4_BATCH)
    be = table["break_even_batch_size"]
    assert be["Mistral"] == C4_BATCH
    # Every cheaper provider needs a larger batch than Mistral, or never breaks even.
    for provider in CHEAPER:
        assert np.isnan(be[provider]) or be[provider] > be["Mistral"], provider
    assert np.isnan(be["OpenRouter"])
    # Today's values: Anyscale 24, Perplexity 48, DeepInfra 48, Together 64.
    assert be[["Anyscale", "Perplexity", "DeepInfra", "Together"]].tolist() == [24, 48, 48, 64]


def test_c4_model_disagrees_at_large_batch():
    # At batch 64 (14% of the 462 that fit) the cost is $0.000141 per request: every paying
    # December-2023 provider is profitable, Together by the smallest margin ($0.000154).
    # Only the free OpenRouter loses. Recorded so a change in the model's verdict is seen.
    table = _margins(64)
    for provider in ["Mistral", "Together", "Perplexity", "Anyscale", "DeepInfra"]:
        assert table.loc[provider, "margin_pct"] > 0, provider
    assert table.loc["OpenRouter", "margin_usd_per_million_requests"] < 0


# --- C5: A100 80GB gives ~32% more bandwidth per dollar ----------------------------------
# bandwidth_tb_s_per_usd_hour = TB/s per GPU / $ per GPU-hour.
#   H100 SXM at the seed's $1.95: 3.35 / 1.95 = 1.7179.
#   For A100 80GB (2.039 TB/s) to give 1.32x that: p = 2.039 * 1.95 / (1.32 * 3.35) = $0.899.
#   At the catalog's 2024-08 RunPod prices (A100 $1.94, H100 $3.99):
#   (2.039 / 1.94) / (3.35 / 3.99) = 1.0510 / 0.8396 = 1.252.
A100_C5_PRICE = 2.039 * 1.95 / (1.32 * 3.35)


def _runpod_2024_price(gpu: str) -> float:
    prices = load_catalog().gpu_prices
    row = prices[
        (prices["gpu"] == gpu)
        & (prices["date"] == "2024-08")
        & (prices["kind"] == "RunPod on-demand")
    ]
    assert len(row) == 1
    return float(row["usd_per_gpu_hour"].iloc[0])


def test_c5_bandwidth_per_dollar_column():
    a100_price = A100_C5_PRICE  # 2.039 * 1.95 / (1.32 * 3.35) = 3.97605 / 4.422 = 0.8992
    assert a100_price == pytest.approx(0.899, abs=5e-4)
    rows = sweep(
        Scenario(),
        gpu=["h100-sxm", "a100-80gb-sxm"],
        usd_per_gpu_hour=[1.95, A100_C5_PRICE],
    ).set_index(["gpu", "usd_per_gpu_hour"])
    h100 = rows.loc[("h100-sxm", 1.95), "bandwidth_tb_s_per_usd_hour"]
    a100 = rows.loc[("a100-80gb-sxm", A100_C5_PRICE), "bandwidth_tb_s_per_usd_hour"]
    assert h100 == pytest.approx(3.35 / 1.95, rel=EXACT)
    assert a100 == pytest.approx(2.039 / A100_C5_PRICE, rel=EXACT)
    assert a100 / h100 == pytest.approx(1.32, rel=EXACT)


def test_c5_catalog_2024_prices_give_25_percent():
    a100_price, h100_price = _runpod_2024_price("a100-80gb-sxm"), _runpod_2024_price("h100-sxm")
    assert (a100_price, h100_price) == (1.94, 3.99)
    a100 = evaluate(Scenario(gpu="a100-80gb-sxm", usd_per_gpu_hour=a100_price))
    h100 = evaluate(Scenario(gpu="h100-sxm", usd_per_gpu_hour=h100_price))
    ratio = a100["bandwidth_tb_s_per_usd_hour"] / h100["bandwidth_tb_s_per_usd_hour"]
    assert ratio == pytest.approx((2.039 / 1.94) / (3.35 / 3.99), rel=EXACT)
    assert ratio == pytest.approx(1.252, abs=1e-3)


@pytest.mark.parametrize("batch", [1, 8, 32])
def test_c5_flops_barely_matter_for_decode(batch):
    # Both families achieve 80% of peak bandwidth, and decode is memory bound, so the
    # cost per output token follows bandwidth per dollar: today 1.34x (batch 1) and 1.33x
    # (batch 8, 32) cheaper on A100 at $0.899, close to the 1.32 of the bandwidth alone.
    a100 = evaluate(Scenario(gpu="a100-80gb-sxm", usd_per_gpu_hour=A100_C5_PRICE, batch_size=batch))
    h100 = evaluate(Scenario(batch_size=batch))
    ratio = h100["usd_per_million_output_tokens"] / a100["usd_per_million_output_tokens"]
    assert ratio == pytest.approx(1.32, abs=0.05)
    # A100 compute time, tensor-core tiles padded (matmul: one token per expert fills
    # 1 of 16 rows), is under a fifth of its memory time even with 1/3 the FLOPS.
    assert a100["compute_time_ms"] < 0.2 * a100["memory_time_ms"]


# --- C6: at the collapsed prices even 2x A100 cannot make a profit ------------------------


@pytest.mark.parametrize("a100_price", [A100_C5_PRICE, 1.94])
def test_c6_two_a100_lose_at_collapsed_prices(a100_price):
    # Same batch as C4 (12). Cost per request on 2x A100 80GB: $0.000490 at $0.899/h and
    # $0.001058 at $1.94/h, against Together $0.000154 and DeepInfra $0.000207 revenue.
    table = _margins(C4_BATCH, gpu="a100-80gb-sxm", usd_per_gpu_hour=a100_price)
    for provider in ["Together", "DeepInfra", "Perplexity", "OpenRouter"]:
        assert table.loc[provider, "margin_usd_per_million_requests"] < 0, provider
    # Together's price needs batch > 32 even at the C5-implied $0.899 (cost $0.000208 at 32).
    assert table.loc["Together", "break_even_batch_size"] > 32


# --- C14: H200 without tensor parallelism beats 2x H100 ----------------------------------


def _coreweave_2026_price(gpu: str) -> float:
    prices = load_catalog().gpu_prices
    row = prices[(prices["gpu"] == gpu) & prices["kind"].str.startswith("CoreWeave")]
    assert len(row) == 1
    return float(row["usd_per_gpu_hour"].iloc[0])


@pytest.mark.parametrize("batch", [1, 8, 32, 64, 128])
def test_c14_one_h200_cheaper_than_two_h100_fp8(batch):
    # Per-GPU prices from one source and date (CoreWeave, 2026-02): H100 $6.155, H200 $6.305.
    h100_price, h200_price = _coreweave_2026_price("h100-sxm"), _coreweave_2026_price("h200-sxm")
    assert (h100_price, h200_price) == (6.155, 6.305)
    fp8 = Scenario(weight_format="fp8", kv_format="fp8", batch_size=batch)
    two_h100 = evaluate(fp8.replace(gpu="h100-sxm", n_gpus=2, usd_per_gpu_hour=h100_price))
    one_h200 = evaluate(fp8.replace(gpu="h200-sxm", n_gpus=1, usd_per_gpu_hour=h200_price))
    assert two_h100["fits"] and one_h200["fits"]
    # Bandwidth per dollar alone: (4.8 / 6.305) / (2 * 3.35 / (2 * 6.155)) = 1.40x, plus no
    # all-reduce on one GPU. Today: $/M 0.61x (batch 1) to 0.68x (batch 64) of 2x H100.
    ratio = one_h200["usd_per_million_output_tokens"] / two_h100["usd_per_million_output_tokens"]
    assert ratio < 0.75, ratio
    assert one_h200["allreduce_time_ms"] == 0.0 < two_h100["allreduce_time_ms"]


def test_margin_columns_by_hand():
    # 512 prompt + 256 output tokens at $1 in / $2 out per million, no cached price:
    # revenue (512 x 1 + 256 x 2) / 1e6 = $0.001024 a request; our cost $0.0005.
    prices = pd.DataFrame({"usd_per_million_input": [1.0], "usd_per_million_output": [2.0]})
    grid = pd.DataFrame(
        {"batch_size": [1, 8], "fits": [True, True], "usd_per_request": [0.002, 0.0008]}
    )
    s = Scenario(utilization=0.5)
    columns = margin_columns(s, prices, 0.0005, grid)
    assert columns["revenue_per_request_usd"][0] == pytest.approx(0.001024, rel=EXACT)
    assert columns["usd_per_million_cached_input_billed"][0] == 1.0  # the input price
    assert not columns["cached_price_published"][0]
    assert columns["margin_usd_per_million_requests"][0] == pytest.approx(524.0, rel=EXACT)
    assert columns["margin_pct"][0] == pytest.approx(100 * 0.000524 / 0.001024, rel=EXACT)
    assert columns["break_even_utilization"][0] == pytest.approx(0.5 * 0.0005 / 0.001024, rel=EXACT)
    assert columns["break_even_batch_size"][0] == 8.0  # $0.0008 <= $0.001024 < $0.002
    # margins_table: the same columns, in this order, after the price columns
    table = margins_table(s, prices, 0.0005, grid)
    assert list(table.columns) == [*prices.columns, *columns]
