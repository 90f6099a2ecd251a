"""GPU comparison page through AppTest: defaults, URL parameters, presets, CSV, numbers."""

import io
import re

import pandas as pd
import pytest
from conftest import ignored, markdown_text, open_page, shown

import costmodel
from costmodel import sensitivity

PAGE = "app_pages/gpu_comparison.py"
COST = "usd_per_million_output_tokens"
CATALOG = costmodel.load_catalog()


def latest_price(gpu: str) -> float:
    """The catalog's latest price of ``gpu`` (a year alone counts as its end; ties: lowest)."""
    rows = CATALOG.gpu_prices[CATALOG.gpu_prices["gpu"] == gpu]
    key = rows["date"].map(costmodel.date_key)
    return float(rows.loc[key == key.max(), "usd_per_gpu_hour"].min())


def test_renders_defaults():
    at = open_page(PAGE)
    assert not at.exception
    assert not at.warning and not at.error
    assert at.title[0].value == "GPU comparison"
    assert len(at.get("vega_lite_chart")) == 2  # cost versus batch, tornado
    table = shown(at, "Setup")
    assert set(table["GPU id"]) == set(CATALOG.gpus.index)
    assert table["$/M output tokens"].is_monotonic_increasing
    assert at.selectbox(key="gpu_price").value == "latest"
    assert at.toggle(key="optimize_batch").value is False
    assert at.number_input(key="change_pct").value == 20.0
    for claim in ("**C4**", "**C5**", "**C14**"):
        assert claim in at.markdown[0].value


def test_rows_match_costmodel():
    """Each row is costmodel at its GPU count, catalog price and batch."""
    at = open_page(PAGE)
    table = shown(at, "Setup")
    base = costmodel.Scenario()
    for row in table.itertuples(index=False):
        gpu = row[1]
        need = costmodel.evaluate(base.replace(gpu=gpu, n_gpus=1))["min_gpus"]
        expected_n = max(int(need), base.n_gpus) if gpu == base.gpu else int(need)
        price = base.usd_per_gpu_hour if gpu == base.gpu else latest_price(gpu)
        assert row[2] == expected_n, gpu
        assert row[3] == pytest.approx(price), gpu
        out = costmodel.evaluate(base.replace(gpu=gpu, n_gpus=expected_n, usd_per_gpu_hour=price))
        assert row[7] == pytest.approx(out[COST]), gpu
        assert row[11] == pytest.approx(out["tokens_per_s_per_user"]), gpu


def test_winner_sentence_is_computed():
    at = open_page(PAGE)
    table = shown(at, "Setup")
    best, sidebar = table.iloc[0], table[table["GPU id"] == "h100-sxm"].iloc[0]
    saving = 100 * (1 - best["$/M output tokens"] / sidebar["$/M output tokens"])
    words = markdown_text(at)
    assert f"**{best['Setup']}** at" in words
    assert f"**{saving:.0f}% cheaper**" in words
    assert f"\\${best['$/M output tokens']:.3f}" in words


def test_c5_bandwidth_per_dollar():
    at = open_page(PAGE)
    a100 = CATALOG.gpus.loc["a100-80gb-sxm", "bandwidth_tb_s"]
    h100 = CATALOG.gpus.loc["h100-sxm", "bandwidth_tb_s"]
    p_a = latest_price("a100-80gb-sxm")
    advantage = 100 * ((a100 / p_a) / (h100 / 1.95) - 1)
    price_32 = a100 * 1.95 / (h100 * 1.32)
    words = markdown_text(at)
    verdict = "more" if advantage >= 0 else "less"
    assert f"**{abs(advantage):.0f}% {verdict} bandwidth per dollar**" in words
    assert f"**\\${price_32:.2f}/GPU-hour**" in words
    table = shown(at, "Setup").set_index("GPU id")
    assert table.loc["a100-80gb-sxm", "Bandwidth per $ [TB/s per $/GPU-h]"] == pytest.approx(
        a100 / p_a
    )


def test_url_parameters_fill_inputs():
    at = open_page(
        PAGE,
        gpu="a100-80gb-sxm",
        batch_size="64",
        gpu_price="lowest",
        optimize_batch="true",
        min_tokens_per_s_per_user="30",
        change_pct="30",
    )
    assert not at.exception and not at.warning
    assert at.sidebar.selectbox(key="gpu").value == "a100-80gb-sxm"
    assert at.sidebar.number_input(key="batch_size").value == 64
    assert at.selectbox(key="gpu_price").value == "lowest"
    assert at.toggle(key="optimize_batch").value is True
    assert at.number_input(key="min_tokens_per_s_per_user").value == 30.0
    assert at.number_input(key="change_pct").value == 30.0
    table = shown(at, "Setup")
    assert "A100 80GB SXM4 ×2 (sidebar)" in set(table["Setup"])
    h100 = table[table["GPU id"] == "h100-sxm"].iloc[0]
    lowest = CATALOG.gpu_prices.query("gpu == 'h100-sxm'")["usd_per_gpu_hour"].min()
    assert h100["$/GPU-hour"] == pytest.approx(lowest)


def test_speed_target_picks_the_best_fitting_batch():
    at = open_page(PAGE, optimize_batch="true", min_tokens_per_s_per_user="30")
    table = shown(at, "Setup")
    for row in table.dropna(subset=["Batch"]).itertuples(index=False):
        setup = costmodel.Scenario(gpu=row[1], n_gpus=row[2], usd_per_gpu_hour=row[3])
        grid = costmodel.sweep(setup, batch_size=costmodel.batch_grid())
        ok = grid[grid["fits"] & (grid["tokens_per_s_per_user"] >= 30)]
        assert row[5] == ok.loc[ok["output_tokens_per_s"].idxmax(), "batch_size"], row[0]
        assert row[11] >= 30
    winner = next(m.value for m in at.markdown if "is the cheapest" in m.value)
    assert winner.count("H100 SXM5 80GB ×2") == 1  # the sidebar setup, named once


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"gpu_price": "cheapest"}, "gpu_price"),
        ({"min_tokens_per_s_per_user": "9999"}, "min_tokens_per_s_per_user"),
        ({"change_pct": "abc"}, "change_pct"),
        ({"optimize_batch": "maybe"}, "optimize_batch"),
    ],
)
def test_bad_page_parameter_is_named(params, bad):
    assert f"`{bad}=" in ignored(open_page(PAGE, **params))


def test_presets_and_reset():
    at = open_page(PAGE, batch_size="64")
    at.button(key="gpu_preset:Chat: ≥ 30 tokens/s").click().run()
    assert at.toggle(key="optimize_batch").value is True
    assert at.number_input(key="min_tokens_per_s_per_user").value == 30.0
    at.button(key="gpu_preset:Lowest catalog prices").click().run()
    assert at.selectbox(key="gpu_price").value == "lowest"
    at.button(key="gpu_preset:December 2023 baseline").click().run()
    assert at.toggle(key="optimize_batch").value is False
    assert at.selectbox(key="gpu_price").value == "latest"
    assert at.session_state["usd_per_gpu_hour"] == 1.95
    at.button(key="gpu_preset:Lowest catalog prices").click().run()
    at.button(key="gpu_preset:reset").click().run()
    assert not at.exception
    assert at.selectbox(key="gpu_price").value == "latest"
    assert at.sidebar.number_input(key="batch_size").value == 64  # the page's Reset keeps it
    assert at.session_state["usd_per_gpu_hour"] == 1.95


def test_csv_downloads_hold_the_tables_shown(downloads):
    at = open_page(PAGE)
    assert not at.exception
    for name, column in (("gpu_comparison.csv", "Setup"), (f"tornado_{COST}.csv", "swing")):
        csv = pd.read_csv(io.BytesIO(downloads[name]))
        pd.testing.assert_frame_equal(csv, shown(at, column), check_dtype=False)


def test_tornado_and_range_are_the_cheapest_setups():
    at = open_page(PAGE, change_pct="30")
    table = shown(at, "Setup")
    best = table.iloc[0]
    scen = costmodel.Scenario(
        gpu=best["GPU id"], n_gpus=int(best["GPUs"]), usd_per_gpu_hour=best["$/GPU-hour"]
    )
    expected = sensitivity.tornado(scen, 30.0, COST)
    pd.testing.assert_frame_equal(shown(at, "swing"), expected, check_dtype=False)
    spread = sensitivity.headline_range(scen, COST)
    assert best["$/M output, low"] == pytest.approx(spread["low"])
    assert best["$/M output, high"] == pytest.approx(spread["high"])
    words = markdown_text(at)
    assert f"\\${spread['low']:,.3f} / \\${spread['central']:,.3f} / \\${spread['high']:,.3f}" in (
        words
    )
    if spread["calibrated_on"]:
        assert re.search(rf"measurements {spread['calibrated_on']}\b", words)


def test_c14_sentence_is_computed():
    at = open_page(PAGE)
    table = shown(at, "Setup").set_index("GPU id")
    cost = table["$/M output tokens"]
    wins = all(
        cost[g] < cost[o] for g in ("h200-sxm", "mi300x") for o in ("h100-sxm", "a100-80gb-sxm")
    )
    sentence = next(m.value for m in at.markdown if m.value.startswith("**C14"))
    assert sentence.startswith("**C14 holds**" if wins else "**C14 does not hold")
    saving = 100 * (1 - cost["h200-sxm"] / cost["h100-sxm"])
    assert f"{table.loc['h200-sxm', 'Setup']} is {abs(saving):.0f}% " in sentence
