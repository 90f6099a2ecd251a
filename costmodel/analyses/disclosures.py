"""What serving costs as those who serve have published it, restated, and the model beside it.

A disclosure (``assets/serving_disclosures.csv``, one row each, with its source) states a
service's GPUs, rental price, daily tokens and throughput per node. :func:`restate`
redoes its arithmetic from its own numbers and the catalog's prices:

- GPUs busy on average: ``usd_per_day / 24 / usd_per_gpu_hour`` (DeepSeek 2025-02:
  87,072 / 24 / 2 = 1,814 H800s = 226.75 nodes of 8, the average occupancy they state);
- nodes the day's tokens need at the stated throughputs: ``input / (86,400 x prefill
  rate) + output / (86,400 x decode rate)`` = 608e9 / (86,400 x 73,700) + 168e9 /
  (86,400 x 14,800) = 95.48 + 131.38 = 226.86 nodes: the throughputs are daily averages
  of the occupied nodes;
- revenue at the catalog's prices of ``priced_as`` (``assets/provider_prices.csv``, the
  provider's row on or before the disclosure's date): ``((input - cached) x input price +
  cached x cached price + output x output price) / 1e6`` = (266e9 x 0.55 + 342e9 x 0.14 +
  168e9 x 2.19) / 1e6 = $562,100 a day against their $562,027 (their token counts are
  rounded to 1e9); cost-profit ratio ``(revenue - cost) / cost`` = 546 % (theirs 545 %);
- cost per million tokens of node time: ``gpus_per_node x usd_per_gpu_hour / 3,600 /
  rate x 1e6``: 16 / 3,600 / 14,800 x 1e6 = $0.300 per million output tokens and
  16 / 3,600 / 73,700 x 1e6 = $0.0603 per million input tokens (cache hits included).

:func:`model_side` evaluates the same setup with the cost model (``presets.DEEPSEEK_2025``
for DeepSeek's: their 144-GPU expert-parallel decode unit) and applies the same formulas
to the model's throughputs; ``run`` puts both in one table with the ratio model /
disclosed. The model's replica runs prefill and decode on the same GPUs, where DeepSeek
ran them on separate units (4-node prefill, 18-node decode), and it does not model their
communication overlap: the ratio says how far that, and the rest of the model, puts it
from theirs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from costmodel import presets
from costmodel.analyses.options import AnalysisOptions
from costmodel.catalog import ASSETS_DIR, Catalog, load_catalog, read_table
from costmodel.economics import revenue_per_request
from costmodel.evaluation import evaluate
from costmodel.pricing import price_sheet
from costmodel.scenario import Scenario
from costmodel.spec import choice

SECONDS_PER_DAY = 86_400
HOURS_PER_DAY = 24
#: The disclosure shown by default: DeepSeek's of 2025-03-01.
DEEPSEEK = "deepseek-2025-02"
#: Columns of ``Result.comparison``.
COMPARISON_COLUMNS = ("metric", "unit", "disclosed", "model", "model_over_disclosed")


@functools.lru_cache(maxsize=2)
def load_disclosures(assets_dir: str | Path = ASSETS_DIR) -> pd.DataFrame:
    """``assets/serving_disclosures.csv`` indexed by ``disclosure`` (checked for source, date)."""
    table = read_table(Path(assets_dir) / "serving_disclosures.csv")
    return table.set_index("disclosure")


def _disclosure(disclosure: str) -> pd.Series:
    table = load_disclosures()
    if disclosure not in table.index:
        raise ValueError(f"disclosure must be one of {', '.join(table.index)}; got {disclosure!r}")
    return table.loc[disclosure]


def usd_per_million_tokens(tokens_per_s_per_node, gpus_per_node, usd_per_gpu_hour):
    """Cost of node time per million tokens at a throughput [$ per million tokens].

    ``gpus_per_node * usd_per_gpu_hour / 3,600 / rate * 1e6``: 8 H800s at $2 producing
    14,800 tokens/s: 16 / 3,600 / 14,800 x 1e6 = $0.300 per million.
    """
    node_usd_per_s = np.asarray(gpus_per_node, float) * usd_per_gpu_hour / 3600.0
    return node_usd_per_s / np.asarray(tokens_per_s_per_node, float) * 1e6


def nodes_for_the_day(row: pd.Series, prefill_tokens_per_s_per_node, decode_tokens_per_s_per_node):
    """Nodes busy all day that serve the day's tokens at these throughputs: prefill and
    decode nodes, ``input / (86,400 x prefill rate)`` and ``output / (86,400 x decode rate)``."""
    prefill = row["input_tokens_per_day"] / (SECONDS_PER_DAY * prefill_tokens_per_s_per_node)
    decode = row["output_tokens_per_day"] / (SECONDS_PER_DAY * decode_tokens_per_s_per_node)
    return float(prefill), float(decode)


def workload(disclosure: str = DEEPSEEK) -> dict:
    """Request lengths and batch that match a disclosure's daily averages.

    ``prompt_tokens / output_tokens`` is the day's input : output ratio r (608 / 168 =
    3.619) and ``P + O / 2`` (the model's ``average_context_tokens``, the mean context a
    decode step reads) is the stated KV length per output token K (4,989): ``O = K / (r +
    1/2)`` = 1,211.2, ``P = r O`` = 4,383.4. Concurrent sequences per GPU: the decode rate
    per node over the users' mean speed (20-22: 21 tokens/s) over the GPUs of a node,
    14,800 / 21 / 8 = 88.1. A disclosure that lacks K or the speeds gives NaN there.
    """
    row = _disclosure(disclosure)
    ratio = row["input_tokens_per_day"] / row["output_tokens_per_day"]
    output = row.get("kv_tokens_per_output_token", np.nan) / (ratio + 0.5)
    speed = (row.get("tokens_per_s_per_user_low") + row.get("tokens_per_s_per_user_high")) / 2
    return {
        "input_over_output": float(ratio),
        "prompt_tokens": float(ratio * output),
        "output_tokens": float(output),
        "tokens_per_s_per_user": float(speed),
        "sequences_per_gpu": float(
            row["decode_tokens_per_s_per_node"] / speed / row["gpus_per_node"]
        ),
    }


def restate(disclosure: str = DEEPSEEK, catalog: Catalog | None = None) -> dict:
    """A disclosure's own arithmetic redone, its revenue at the catalog's prices.

    Keys (units in the names): ``gpus``, ``nodes``, ``prefill_nodes``, ``decode_nodes``,
    ``nodes_from_throughput``, ``cached_share``, ``usd_per_million_input``,
    ``usd_per_million_cached_input``, ``usd_per_million_output`` (the catalog's),
    ``price_date``, ``revenue_usd_per_day`` (at them), ``revenue_over_disclosed``,
    ``cost_profit_ratio_pct`` (catalog revenue) and ``disclosed_cost_profit_ratio_pct``,
    ``usd_per_million_output_tokens``, ``usd_per_million_input_tokens`` (node time per
    million, cache hits included), ``usd_per_million_tokens`` (the day's cost over all its
    tokens). Formulas and DeepSeek's numbers: the module docstring.
    """
    catalog = catalog or load_catalog()
    row = _disclosure(disclosure)
    price = float(row["usd_per_gpu_hour"])
    gpus = row["usd_per_day"] / HOURS_PER_DAY / price
    prefill, decode = nodes_for_the_day(
        row, row["prefill_tokens_per_s_per_node"], row["decode_tokens_per_s_per_node"]
    )
    sheet = price_sheet(row["priced_as"], row["date"], catalog)
    priced = sheet[sheet["provider"] == row["provider"]]
    if priced.empty:
        raise ValueError(
            f"{disclosure}: the catalog has no {row['provider']} price for {row['priced_as']} "
            f"dated on or before {row['date']}"
        )
    prices = priced.iloc[0]
    cached_share = row["cached_input_tokens_per_day"] / row["input_tokens_per_day"]
    revenue = float(
        revenue_per_request(
            row["input_tokens_per_day"],
            row["output_tokens_per_day"],
            prices["usd_per_million_input"],
            prices["usd_per_million_output"],
            prices["usd_per_million_cached_input"],
            cached_share,
        )
    )
    cost = float(row["usd_per_day"])
    gpn = row["gpus_per_node"]
    tokens = row["input_tokens_per_day"] + row["output_tokens_per_day"]
    return {
        "gpus": float(gpus),
        "nodes": float(gpus / gpn),
        "prefill_nodes": prefill,
        "decode_nodes": decode,
        "nodes_from_throughput": prefill + decode,
        "cached_share": float(cached_share),
        **{
            k: float(prices[k])
            for k in (
                "usd_per_million_input",
                "usd_per_million_cached_input",
                "usd_per_million_output",
            )
        },
        "price_date": str(prices["date"]),
        "revenue_usd_per_day": revenue,
        "revenue_over_disclosed": revenue / row["revenue_usd_per_day"],
        "cost_profit_ratio_pct": 100 * (revenue - cost) / cost,
        "disclosed_cost_profit_ratio_pct": 100 * (row["revenue_usd_per_day"] - cost) / cost,
        "usd_per_million_output_tokens": float(
            usd_per_million_tokens(row["decode_tokens_per_s_per_node"], gpn, price)
        ),
        "usd_per_million_input_tokens": float(
            usd_per_million_tokens(row["prefill_tokens_per_s_per_node"], gpn, price)
        ),
        "usd_per_million_tokens": cost / tokens * 1e6,
    }


def model_side(scenario, disclosure: str = DEEPSEEK, catalog: Catalog | None = None) -> dict:
    """The cost model's numbers for a disclosure's setup, by the disclosure's formulas.

    ``scenario`` is evaluated at its batch, or at the largest batch that fits when it
    does not (``batch_size`` says which). Throughputs per node of ``gpus_per_node`` GPUs:
    decode ``B x tokens_per_step / decode_step_ms`` and prefill ``B x P / prefill_ms``
    (every prompt token, cache hits included, as the disclosure counts them), per GPU
    times ``gpus_per_node``. ``decode_tokens_per_s_per_user`` is a user's speed while
    decoding, ``tokens_per_step / decode_step_ms`` (what a disaggregated decode unit
    gives); ``tokens_per_s_per_user`` the co-located replica's, others' prefill included.
    Raises ``ValueError`` when the scenario's model or GPU is not in the catalog.
    """
    catalog = catalog or load_catalog()
    row = _disclosure(disclosure)
    for name, table in (("model", catalog.models), ("gpu", catalog.gpus)):
        value = getattr(scenario, name)
        if value not in table.index:
            raise ValueError(
                f"{name} {value!r} is not in the catalog, so the model's side of {disclosure} "
                f"cannot be evaluated; {name}s: {', '.join(table.index)}"
            )
    out = evaluate(scenario, catalog)
    if not out["fits"] and out["max_batch_size"] >= 1:
        batch = int(min(scenario.batch_size, out["max_batch_size"]))
        out = evaluate(scenario.replace(batch_size=batch), catalog)
    B, n, gpn = out["batch_size"], out["n_gpus"], row["gpus_per_node"]
    decode = B * out["tokens_per_step"] * 1e3 / out["decode_step_ms"] / n * gpn
    prefill = B * out["prompt_tokens"] * 1e3 / out["prefill_ms"] / n * gpn
    price = out["usd_per_gpu_hour"]
    prefill_nodes, decode_nodes = nodes_for_the_day(row, prefill, decode)
    nodes = prefill_nodes + decode_nodes
    return {
        "fits": bool(out["fits"]),
        "batch_size": int(B),
        "n_gpus": int(n),
        "decode_tokens_per_s_per_node": float(decode),
        "prefill_tokens_per_s_per_node": float(prefill),
        "decode_tokens_per_s_per_user": float(out["tokens_per_step"] * 1e3 / out["decode_step_ms"]),
        "tokens_per_s_per_user": float(out["tokens_per_s_per_user"]),
        "ttft_ms": float(out["ttft_ms"]),
        "usd_per_million_output_tokens": float(usd_per_million_tokens(decode, gpn, price)),
        "usd_per_million_input_tokens": float(usd_per_million_tokens(prefill, gpn, price)),
        "prefill_nodes": prefill_nodes,
        "decode_nodes": decode_nodes,
        "nodes_from_throughput": nodes,
        "usd_per_day": float(nodes * gpn * HOURS_PER_DAY * price),
        "evaluation": out,
    }


@dataclass(frozen=True)
class Options(AnalysisOptions):
    """The disclosure check's own inputs; names are URL keys."""

    disclosure: str = choice(
        DEEPSEEK,
        label="Disclosure",
        help="Which published serving economics to restate (assets/serving_disclosures.csv)",
    )


@dataclass(frozen=True)
class Result:
    """A disclosure restated and the model beside it.

    ``row``: the catalog row. ``restated``: :func:`restate`. ``model``: :func:`model_side`.
    ``comparison``: one row per metric (``COMPARISON_COLUMNS``), the disclosed value, the
    model's and their ratio. ``text``: both in words.
    """

    row: pd.Series
    scenario: Scenario
    restated: dict
    model: dict
    comparison: pd.DataFrame
    text: str


def _comparison(row: pd.Series, theirs: dict, ours: dict) -> pd.DataFrame:
    speed = (row["tokens_per_s_per_user_low"] + row["tokens_per_s_per_user_high"]) / 2
    rows = [
        ("decode throughput per node", "tokens/s", row["decode_tokens_per_s_per_node"]),
        (
            "prefill throughput per node (cache hits included)",
            "tokens/s",
            row["prefill_tokens_per_s_per_node"],
        ),
        ("decode speed per user (decode steps only)", "tokens/s", speed),
        ("cost per million output tokens", "$", theirs["usd_per_million_output_tokens"]),
        ("cost per million input tokens", "$", theirs["usd_per_million_input_tokens"]),
        ("nodes for the day's tokens", "nodes", theirs["nodes_from_throughput"]),
        ("cost of the day", "$", row["usd_per_day"]),
    ]
    model_keys = (
        "decode_tokens_per_s_per_node",
        "prefill_tokens_per_s_per_node",
        "decode_tokens_per_s_per_user",
        "usd_per_million_output_tokens",
        "usd_per_million_input_tokens",
        "nodes_from_throughput",
        "usd_per_day",
    )
    disclosed = [r[2] for r in rows]
    model = [ours[k] for k in model_keys]
    return pd.DataFrame(
        {
            "metric": [r[0] for r in rows],
            "unit": [r[1] for r in rows],
            "disclosed": np.asarray(disclosed, float),
            "model": np.asarray(model, float),
            "model_over_disclosed": np.asarray(model, float) / np.asarray(disclosed, float),
        }
    )


def _text(row, scenario, theirs: dict, ours: dict, catalog) -> str:
    gpu = catalog.gpus.loc[row["gpu"], "name"]
    said = (
        f"{row['provider']} ({row['date']}): ${row['usd_per_day']:,.0f} a day at "
        f"${row['usd_per_gpu_hour']:.2f}/GPU-hour is {theirs['gpus']:,.0f} {gpu} GPUs "
        f"({theirs['nodes']:,.2f} nodes of {row['gpus_per_node']}); their throughputs need "
        f"{theirs['nodes_from_throughput']:,.2f} nodes for the day's "
        f"{row['input_tokens_per_day'] / 1e9:,.0f}B input and "
        f"{row['output_tokens_per_day'] / 1e9:,.0f}B output tokens. At the catalog's "
        f"{row['priced_as']} prices (${theirs['usd_per_million_cached_input']:.2f} cached / "
        f"${theirs['usd_per_million_input']:.2f} / ${theirs['usd_per_million_output']:.2f} per "
        f"million, {theirs['price_date']}) with {row['cached_input_tokens_per_day'] / 1e9:,.0f}B "
        f"of the input tokens cached ({theirs['cached_share']:.2%}) the revenue is "
        f"${theirs['revenue_usd_per_day']:,.0f} a day (theirs "
        f"${row['revenue_usd_per_day']:,.0f}), a cost-profit ratio of "
        f"{theirs['cost_profit_ratio_pct']:.0f}%. Their cost: "
        f"${theirs['usd_per_million_output_tokens']:.3f} per million output tokens, "
        f"${theirs['usd_per_million_input_tokens']:.4f} per million input tokens."
    )
    fit = "" if ours["fits"] else " (it does not fit in memory at any batch)"
    if ours["fits"] and ours["batch_size"] < scenario.batch_size:
        fit = f" (batch {ours['batch_size']}, the largest that fits, not {scenario.batch_size})"
    model = (
        f" The model on {ours['n_gpus']}x {gpu} ({scenario.model}, {scenario.weight_format}, "
        f"batch {ours['batch_size']}{fit}, {scenario.prompt_tokens:,} + "
        f"{scenario.output_tokens:,} tokens, {scenario.prefix_cache_hit_rate:.1%} hits): "
        f"{ours['decode_tokens_per_s_per_node']:,.0f} decode and "
        f"{ours['prefill_tokens_per_s_per_node']:,.0f} prefill tokens/s per node "
        f"({ours['decode_tokens_per_s_per_node'] / row['decode_tokens_per_s_per_node']:.2f}x "
        f"and {ours['prefill_tokens_per_s_per_node'] / row['prefill_tokens_per_s_per_node']:.2f}x "
        f"theirs), ${ours['usd_per_million_output_tokens']:.3f} per million output tokens, "
        f"${ours['usd_per_day']:,.0f} for their day "
        f"({ours['usd_per_day'] / row['usd_per_day']:.2f}x theirs)."
    )
    return said + model


def run(scenario=None, options: Options | None = None, catalog=None) -> Result:
    """The disclosure restated and the model's numbers for ``scenario`` beside it.

    ``scenario`` default: ``presets.DEEPSEEK_2025`` applied to ``Scenario()``. Raises
    ``ValueError`` (naming the id) when its model is not in the catalog.
    """
    options = options or Options()
    catalog = catalog or load_catalog()
    scenario = scenario or presets.DEEPSEEK_2025.apply(Scenario())
    row = _disclosure(options.disclosure)
    theirs = restate(options.disclosure, catalog)
    ours = model_side(scenario, options.disclosure, catalog)
    return Result(
        row=row,
        scenario=scenario,
        restated=theirs,
        model=ours,
        comparison=_comparison(row, theirs, ours),
        text=_text(row, scenario, theirs, ours, catalog),
    )
