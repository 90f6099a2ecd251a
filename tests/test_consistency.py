"""One scenario, one answer (issue 16): a quantity two pages show is the same on both.

Over the sidebar's presets (the app's defaults and each of ``sidebar.PRESETS``) and
:data:`N_RANDOM` random valid scenarios (seeded: ``CONSISTENCY_SEED`` in the environment,
default :data:`SEED`; the seed is printed), every page is opened as a link would open it
(AppTest) and the values are read from what the page shows, its tables and metrics:

- a GPU's price: the sidebar's GPU price, the GPU comparison's price table (the rule's
  price or yours) and setups, the frontier's tables, the price war's setups and, for the
  presets, the fleet sizing's and API-rent-buy's price tables;
- the cost of one setup: the sidebar's setup on the GPU comparison (its row for the
  sidebar's GPU, at the sidebar's batch), the price war (its "Sidebar" setup) and the
  compare page (scenario A), in $ per million output tokens, and its tokens/s per user
  there and on the speculative page (decoding without speculation);
- the cheapest setup for one target: the frontier searches every setup the GPU
  comparison considers (and more; the GPU comparison says so beside its answer), so its
  cheapest setup at least as fast as the GPU comparison's setup costs no more, all-in,
  than that setup;
- the speculative speed-up: the speculative page's speed-up is its tokens/s with
  speculation over its tokens/s without, and the speed-up its tables show for the
  scenario's batch and temperature.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest
from conftest import as_ids, metrics, open_page

import costmodel
from app_pages.ui import gate, sidebar
from costmodel import pricing
from costmodel.analyses import speculative

SEED = 16
N_RANDOM = 20
CATALOG = costmodel.load_catalog()
#: The tolerance of two numbers that must be equal: pages show numbers rounded to what
#: they mean (4 significant digits at the least), so 0.2 % is a real disagreement.
REL = 2e-3
COST = "usd_per_million_output_tokens"
ALL_IN = "usd_per_million_output_tokens_all_in"
#: What the random scenarios draw from (each value shown to users on some page).
BATCHES = (1, 4, 16, 32, 64, 128)
PROMPTS = (256, 1024, 4096)
OUTPUTS = (128, 512, 1024)
FORMATS = (None, "bf16", "fp8", "int4", "nvfp4", "mxfp4")
MOST_GPUS = 8  # GPUs per replica in a random scenario: one node


def query_of(values: dict) -> dict[str, str | list[str]]:
    """Scenario field values (a preset's, ``gpu_prices`` as pairs) as a link's query."""
    query: dict[str, str | list[str]] = {}
    for name, value in values.items():
        if name == sidebar.RULE_KEYS["own"]:
            query[name] = [f"{gpu}:{price}" for gpu, price in value]
        elif value is not None:
            query[name] = gate.text(costmodel.FIELDS[name], value)
    return query


def random_scenarios(seed: int, count: int) -> list[dict[str, str | list[str]]]:
    """``count`` random scenarios valid for the catalog (``check_scenario``) that fit in
    memory, as queries: a model, a GPU the default price rule prices, a GPU count the
    model allows on one node, a weight format, batch, lengths and, for a mixture of
    experts, expert parallelism or not."""
    rng = np.random.default_rng(seed)
    models = [m for m in CATALOG.models.index if not m.startswith(costmodel.CUSTOM_PREFIX)]
    priced = pricing.price_gpus(None, pricing.PriceRule(), CATALOG)
    gpus = list(priced.loc[priced["usd_per_gpu_hour"].notna(), "gpu"])
    found = []
    while len(found) < count:
        model = str(rng.choice(models))
        moe = int(CATALOG.models.loc[model, "n_experts"]) > 1
        counts = [n for n in costmodel.tensor_parallel_sizes(model, CATALOG) if n <= MOST_GPUS]
        fields = {
            "model": model,
            "gpu": str(rng.choice(gpus)),
            "n_gpus": int(rng.choice(counts)),
            "weight_format": FORMATS[rng.integers(len(FORMATS))],
            "batch_size": int(rng.choice(BATCHES)),
            "prompt_tokens": int(rng.choice(PROMPTS)),
            "output_tokens": int(rng.choice(OUTPUTS)),
            "expert_parallel": bool(moe and rng.random() < 0.5),
        }
        try:
            costmodel.check_scenario(costmodel.Scenario(**fields), CATALOG)
        except ValueError:
            continue
        if not costmodel.evaluate(costmodel.Scenario(**fields), CATALOG)["fits"]:
            continue  # a setup that cannot serve its batch is on no page's ranking
        found.append(query_of(fields))
    return found


def scenarios() -> list:
    seed = int(os.environ.get("CONSISTENCY_SEED", SEED))
    print(f"test_consistency: random scenarios from seed {seed} (CONSISTENCY_SEED)")
    presets = [pytest.param({}, id="app default")] + [
        pytest.param(query_of(values), id=name) for name, values in sidebar.PRESETS.items()
    ]
    drawn = random_scenarios(seed, N_RANDOM)
    return presets + [pytest.param(q, id=f"seed {seed} #{i}") for i, q in enumerate(drawn)]


SCENARIOS = scenarios()


# --- Reading the pages -------------------------------------------------------------------


def table_with(at, *columns: str) -> pd.DataFrame:
    """The first table on the page that has every one of ``columns`` (as shown, with the
    ids its id columns show in words back: ``as_ids``)."""
    for df in [*at.dataframe, *at.table]:
        if set(columns) <= set(df.value.columns):
            return as_ids(df.value)
    raise AssertionError(f"no table with {columns} on the page")


def number(text) -> float:
    """A shown number as a float: "$1,234.5" -> 1234.5, "2.28x" -> 2.28, "—" -> NaN."""
    if isinstance(text, int | float | np.number):
        return float(text)
    cleaned = str(text).replace("$", "").replace(",", "").rstrip("x").strip()
    return float("nan") if cleaned in ("—", "") else float(cleaned.split()[0])


def same(a: float, b: float, what: str, rel: float = REL) -> None:
    assert math.isclose(a, b, rel_tol=rel, abs_tol=1e-9), f"{what}: {a} against {b}"


def sidebar_state(at) -> dict:
    """The sidebar's GPU, GPU count, batch and the GPU price it shows (yours, or the rule's
    as the box's placeholder)."""
    price = next(n for n in at.sidebar.number_input if n.label.startswith("GPU price"))
    return {
        "gpu": at.sidebar.selectbox(key="gpu").value,  # an id (the box shows its name)
        "n_gpus": int(at.sidebar.selectbox(key="n_gpus").value),
        "batch_size": int(at.sidebar.number_input(key="batch_size").value),
        "prompt_tokens": int(at.sidebar.number_input(key="prompt_tokens").value),
        "output_tokens": int(at.sidebar.number_input(key="output_tokens").value),
        "usd_per_gpu_hour": number(
            price.value if price.value is not None else price.proto.placeholder
        ),
    }


def gpu_prices(at) -> pd.Series:
    """GPU id -> the price the GPU comparison uses for it: yours, else the rule's."""
    editor = table_with(at, "gpu", "rule", "label", "usd_per_gpu_hour")
    own = pd.to_numeric(editor["usd_per_gpu_hour"], errors="coerce")
    return own.fillna(pd.to_numeric(editor["rule"], errors="coerce")).set_axis(editor["gpu"])


def assert_prices(table: pd.DataFrame, prices: pd.Series, where: str) -> None:
    """Every GPU in ``table`` (columns ``gpu``, ``usd_per_gpu_hour``) at its price in
    ``prices``."""
    assert len(table), f"no GPU on {where}"
    ids = {name: gpu for gpu, name in CATALOG.gpus["name"].items()}  # a table may show names
    for gpu, price in zip(
        table["gpu"].map(lambda g: ids.get(g, g)), table["usd_per_gpu_hour"], strict=True
    ):
        same(number(price), prices[gpu], f"price of {gpu} on {where}")


def sidebar_row(setups: pd.DataFrame, state: dict) -> pd.Series | None:
    """The setups' row of the sidebar's GPU on the sidebar's GPU count and batch, fitting;
    None when the page has none (it needs more GPUs, or the setup does not fit)."""
    rows = setups[
        (setups["gpu"] == state["gpu"])
        & (setups["n_gpus"] == state["n_gpus"])
        & (setups["batch_size"] == state["batch_size"])
    ]
    rows = rows[rows["fits"].astype(bool)]
    return None if rows.empty else rows.iloc[0]


# --- The test ----------------------------------------------------------------------------


@pytest.mark.parametrize("query", SCENARIOS)
def test_every_quantity_two_pages_show_is_the_same(query):
    comparison = open_page("app_pages/gpu_comparison.py", **query)
    assert not comparison.exception and not comparison.error
    state = sidebar_state(comparison)
    prices = gpu_prices(comparison)
    checked = []

    # A GPU's price: the sidebar's, the GPU comparison's (its price table and setups).
    same(state["usd_per_gpu_hour"], prices[state["gpu"]], "sidebar's GPU price")
    setups = table_with(comparison, "setup", "gpu", "n_gpus", "usd_per_gpu_hour", COST)
    assert_prices(setups, prices, "the GPU comparison's setups")
    mine = sidebar_row(setups, state)

    # The compare page: scenario A is the sidebar's setup.
    compare = open_page("app_pages/compare.py", **query)
    assert not compare.exception
    assert sidebar_state(compare) == state
    a = table_with(compare, "output", "a").set_index("output")["a"].map(number)
    if mine is not None:
        same(number(mine[COST]), a[COST], "cost of the sidebar's setup: GPU comparison, compare")
        same(
            number(mine["tokens_per_s_per_user"]),
            a["tokens_per_s_per_user"],
            "tokens/s per user of the sidebar's setup: GPU comparison, compare",
        )
        checked.append("sidebar setup: GPU comparison = compare")
    cost_metric = next(v for k, v in metrics(compare).items() if k.startswith("A: "))
    same(number(cost_metric), a[COST], "compare: the metric and its table", rel=1e-3)

    # The price war: its setups at the rule's prices, its "Sidebar" setup as the compare's A.
    war = open_page("app_pages/price_war.py", **query)
    assert not war.exception
    costs = table_with(war, "setup", "gpu", "usd_per_gpu_hour", "utilization", COST)
    # The sidebar's setup and the 2x A100 (its price input starts at the rule's) at the
    # sidebar's rule; the market's setups at the price war's date, as its GPU table says;
    # the seed's setup at the seed document's price, which its label states.
    market = costs["setup"].str.startswith("Market:")
    seed = costs["setup"].str.startswith("Seed:")
    assert costs.loc[seed, "setup"].str.endswith("@ $1.95").all()
    assert_prices(costs[~market & ~seed], prices, "the price war's setups")
    if market.any():
        listed = table_with(war, "gpu", "name", "usd_per_gpu_hour", "price_date")
        at_date = listed.set_index("gpu")["usd_per_gpu_hour"].map(number)
        assert_prices(costs[market], at_date, "the price war's market setups")
    ours = costs[costs["setup"].str.startswith("Sidebar:")]
    assert len(ours) == 1, list(costs["setup"])
    ours = ours.iloc[0]
    if bool(ours["fits"]):
        same(number(ours[COST]), a[COST], "cost of the sidebar's setup: price war, compare")
        checked.append("sidebar setup: price war = compare")

    # The speculative page: without speculation, the sidebar's tokens/s per user; its
    # speed-up is its tokens/s with speculation over without, and its tables'.
    spec = open_page("app_pages/speculative_decoding.py", **query)
    assert not spec.exception
    shown = {m.label: m for m in spec.metric}
    fast = number(shown["MoE tokens/s per user"].value)
    plain = fast - number(shown["MoE tokens/s per user"].delta)
    speedup = number(shown["MoE speed-up"].value)
    # rounding: tokens/s to 0.1 (the delta too), the speed-up to 0.01
    slack = 0.005 + (fast / plain) * (0.05 / fast + 0.1 / plain)
    assert abs(fast / plain - speedup) <= slack, (fast, plain, speedup)
    # without speculation, the sidebar's setup: shown to 0.1 less a delta shown to 0.1
    assert abs(plain - a["tokens_per_s_per_user"]) <= 0.1 + 1e-9, (plain, a)
    checked.append("tokens/s per user: speculative page = compare")
    by_batch = table_with(
        spec, "setup", "batch_size", "speculative_speedup", "tokens_per_s_per_user"
    )
    moe = by_batch[by_batch["setup"] == f"{speculative.MOE}, speculative"]
    here = moe[moe["batch_size"] == state["batch_size"]]
    if len(here):
        same(
            number(here["speculative_speedup"].iloc[0]),
            speedup,
            "speed-up: metric, batch table",
            5e-3,
        )
        checked.append("speed-up: metric = batch table")

    # The cheapest setup for a target: the frontier searches every setup the GPU
    # comparison considers for the sidebar's GPU (aggregated, TP or EP, one node), so its
    # cheapest setup at least as fast as the sidebar's costs no more all-in than it.
    target = None if mine is None else math.floor(number(mine["tokens_per_s_per_user"]) - 0.1)
    frontier_query = {
        **query,
        "gpus": [state["gpu"]],
        "ttft_ms_max": "600000",
        "tpot_ms_max": "10000",
        "max_gpus": str(MOST_GPUS),
        "serving": ["aggregated"],
        "min_tokens_per_s_per_user": str(max(target or 1, 1)),
    }
    frontier = open_page("app_pages/frontier.py", **frontier_query)
    assert not frontier.exception
    if frontier.dataframe:
        ranking = table_with(frontier, "rank", "gpu", "usd_per_gpu_hour", ALL_IN)
        cheapest = table_with(frontier, "gpu", "setup", "usd_per_gpu_hour", "ttft_ms")
        assert_prices(ranking, prices, "the frontier's ranking")
        assert_prices(cheapest, prices, "the frontier's cheapest setups")
        domain = int(CATALOG.gpus.loc[state["gpu"], "scale_up_domain_gpus"])
        if mine is not None and target and target >= 1 and state["n_gpus"] <= domain:
            prompt, output = state["prompt_tokens"], state["output_tokens"]
            all_in = (
                number(mine[COST]) + number(mine["usd_per_million_input_tokens"]) * prompt / output
            )
            best = ranking[ranking["gpu"] == state["gpu"]]
            assert len(best), f"the frontier finds no setup of {target} tokens/s per user"
            assert number(best[ALL_IN].iloc[0]) <= all_in * (1 + REL), (best.iloc[0], mine)
            checked.append("cheapest: frontier <= GPU comparison's setup")
    print(query, "checked:", "; ".join(checked))
    # every scenario here fits: each quantity was found on both pages and compared
    assert {
        "sidebar setup: GPU comparison = compare",
        "sidebar setup: price war = compare",
        "tokens/s per user: speculative page = compare",
        "speed-up: metric = batch table",
    } <= set(checked), checked


@pytest.mark.parametrize("query", SCENARIOS[: 1 + len(sidebar.PRESETS)])
def test_the_planning_pages_price_gpus_as_the_gpu_comparison(query):
    """Fleet sizing and API-rent-buy price their GPU types by the sidebar's rule: the
    same price as the GPU comparison's for each (at the presets: these pages are slow)."""
    prices = gpu_prices(open_page("app_pages/gpu_comparison.py", **query))
    for page in ("app_pages/fleet_sizing.py", "app_pages/buy_or_rent.py"):
        at = open_page(page, **query)
        assert not at.exception
        # the rented GPUs' table (API-rent-buy's owning costs are another quantity)
        assert_prices(table_with(at, "gpu", "usd_per_gpu_hour", "price_label"), prices, page)


def test_the_gpu_comparison_and_the_frontier_agree_at_one_target():
    """At one interactivity target, with the batch chosen for speed, each GPU's setup on
    the GPU comparison is one the frontier considers: the frontier's cheapest setup for
    that GPU at the target costs no more all-in (and is the same price per GPU)."""
    target = 30
    query = {"model": "mixtral-8x7b", "gpu": "h100-sxm"}
    comparison = open_page(
        "app_pages/gpu_comparison.py",
        **query,
        optimize_batch="true",
        min_tokens_per_s_per_user=str(target),
    )
    setups = table_with(comparison, "setup", "gpu", "n_gpus", "batch_size", COST)
    setups = setups[setups["fits"].astype(bool)]
    gpus = [g for g in setups["gpu"] if int(setups.set_index("gpu").loc[g, "n_gpus"]) <= MOST_GPUS]
    frontier = open_page(
        "app_pages/frontier.py",
        **query,
        gpus=gpus,
        ttft_ms_max="600000",
        tpot_ms_max="10000",
        max_gpus=str(MOST_GPUS),
        min_tokens_per_s_per_user=str(target),
    )
    ranking = table_with(frontier, "rank", "gpu", "usd_per_gpu_hour", ALL_IN).set_index("gpu")
    assert_prices(ranking.reset_index(), gpu_prices(comparison), "the frontier's ranking")
    compared = 0
    for row in setups.itertuples():
        if row.gpu not in gpus:
            continue
        assert number(row.tokens_per_s_per_user) >= target
        all_in = number(getattr(row, COST)) + number(row.usd_per_million_input_tokens) * 512 / 256
        assert number(ranking.loc[row.gpu, ALL_IN]) <= all_in * (1 + REL), row.setup
        compared += 1
    assert compared >= 5
