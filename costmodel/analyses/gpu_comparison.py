"""Which GPU serves the scenario's model most cheaply? (claims C4, C5, C14)

Every catalog GPU runs the scenario's model, formats and request lengths on the fewest
GPUs that hold it (``min_gpus`` at the scenario's batch; the scenario's own GPU on at
least its ``n_gpus``), each at a price: the user's (``price_rule.own``), the scenario's
for its own GPU, else the rule's (``pricing.price_gpus``: one tier as of one date; a GPU
the tier does not price is left out, named in ``skipped``). All setups over
``batch_grid()`` are one vectorised ``scan``; their headline ranges and the winner's
tornado another (``scans.scan_many``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from costmodel import sensitivity
from costmodel.adapt import derive
from costmodel.analyses.options import AnalysisOptions, change_pct
from costmodel.catalog import load_catalog
from costmodel.economics import bandwidth_per_dollar, batch_grid
from costmodel.evaluation import OUTPUT_COLUMNS, memory_outputs, scan, valid_rows
from costmodel.fields import FIELD_RANGES
from costmodel.pricing import OWN, PriceRule, price_gpus
from costmodel.scans import evaluated_row, scan_many
from costmodel.scenario import Scenario
from costmodel.spec import flag, nested, number
from costmodel.status import NOT_APPLICABLE, decide

COST = "usd_per_million_output_tokens"
A100, H100 = "a100-80gb-sxm", "h100-sxm"
#: The seed's C5: 2x A100 80GB gives "about 32% more memory bandwidth per dollar" [%].
SEED_A100_ADVANTAGE_PCT = 32.0
#: How far below the seed's advantage C5 still holds [percentage points]: the seed's own
#: prices and bandwidths are rounded, so 10 points is the judgement "about 32 %" allows.
C5_TOLERANCE_POINTS = 10.0
#: A decode step whose compute time is under this share of its memory time is memory
#: bound: its FLOPS "barely matter" (C5) [%].
C5_COMPUTE_SHARE_PCT = 50.0
C5_RULE = (
    f"C5 holds when, at the prices compared, the A100 80GB gives at least "
    f"+{SEED_A100_ADVANTAGE_PCT - C5_TOLERANCE_POINTS:.0f}% (the seed's "
    f"+{SEED_A100_ADVANTAGE_PCT:.0f}% less {C5_TOLERANCE_POINTS:.0f} points) "
    "more memory bandwidth per dollar than the H100 SXM and its decode step computes for "
    f"under {C5_COMPUTE_SHARE_PCT:.0f}% of its memory time; partly when only one of the two."
)
#: C14's GPUs with more memory and bandwidth, and those they should beat.
C14_BIG, C14_OLD = ("h200-sxm", "mi300x"), (H100, A100)
#: Columns of ``Result.table`` (units in the names).
TABLE_COLUMNS = (
    "setup",
    "gpu",
    "n_gpus",
    "usd_per_gpu_hour",
    "price_source",
    "batch_size",
    "fits",
    COST,
    f"{COST}_low",
    f"{COST}_high",
    "usd_per_million_input_tokens",
    "tokens_per_s_per_user",
    "output_tokens_per_s_per_gpu",
    "bandwidth_tb_s_per_usd_hour",
    "memory_headroom_gb",
    "max_batch_size",
    "allreduce_share_pct",
    "memory_time_ms",
    "compute_time_ms",
)
#: The columns of ``TABLE_COLUMNS`` taken from the sweep's outputs.
_FROM_SWEEP = tuple(c for c in TABLE_COLUMNS if c in OUTPUT_COLUMNS)
#: The sweep's columns of a setup's all-reduce share of each decode step.
_SHARE = ("allreduce_time_ms", "decode_step_ms")
_PRICE_RANGE = FIELD_RANGES["usd_per_gpu_hour"]
#: A decode step's times C5 compares [ms].
_TIMES = ("memory_time_ms", "compute_time_ms")


@dataclass(frozen=True)
class Options(AnalysisOptions):
    """The GPU comparison's own inputs; names are the page's URL keys."""

    change_pct: float = change_pct("the cheapest setup")
    price_rule: PriceRule = nested(PriceRule())
    optimize_batch: bool = flag(
        False,
        label="Best batch for speed",
        help="Off: every GPU at the scenario's batch [sequences]. On: each GPU at the batch "
        "of most throughput at which every user still gets min_tokens_per_s_per_user.",
    )
    min_tokens_per_s_per_user: float = number(
        20.0,
        1.0,
        500.0,
        5.0,
        unit="tokens/s",
        label="Min tokens/s per user",
        help="Tokens per second each user must still see when the batch is chosen for "
        "throughput [tokens/s]. Used only with optimize_batch.",
    )


@dataclass(frozen=True)
class Result:
    """What the GPU comparison finds. Costs in $ per million output tokens.

    ``table``: one row per setup (``TABLE_COLUMNS``), cheapest first, NaN costs last.
    ``curves``: every fitting batch of ``batch_grid()`` per setup (sweep columns and
    ``setup``). ``bandwidth_per_dollar``: every priced GPU, fitting or not.
    """

    table: pd.DataFrame
    curves: pd.DataFrame
    bandwidth_per_dollar: pd.DataFrame
    scenarios: dict
    skipped: tuple[str, ...]
    sidebar_setup: str | None
    winner: str | None
    runner_up: str | None
    winner_saving_vs_runner_up_pct: float | None
    winner_saving_vs_sidebar_pct: float | None
    ranges_overlap: bool | None
    winner_text: str
    scope_text: str
    a100_advantage_pct: float | None
    a100_price_for_seed_advantage: float | None
    a100_compute_vs_memory_pct: float | None
    c5_status: str
    c5_text: str
    c14_holds: bool | None
    c14_text: str
    best_range: dict | None
    tornado: pd.DataFrame


def pct_cheaper(cost, other):
    """How much cheaper ``cost`` is than ``other``: ``100 (1 - cost / other)`` [%].

    0 when ``other`` is free (a cheaper-or-equal ``cost`` is then free too).
    """
    return 100 * (1 - cost / other) if other > 0 else 0.0


def _prices(scenario, options: Options, catalog) -> tuple[np.ndarray, np.ndarray]:
    """Every catalog GPU's price (``pricing.price_gpus`` under ``options.price_rule``) with
    the scenario's price for its own GPU unless the rule's own prices name it (or it is the
    rule's price: the app's sidebar prices its GPU by the rule): ``usd_per_gpu_hour``
    [$/GPU-hour, NaN: none] and ``price_source`` (where it is from), in catalog order."""
    table = price_gpus(catalog.gpus.index, options.price_rule, catalog)
    usd = table["usd_per_gpu_hour"].to_numpy(float)
    mine = (table["gpu"].to_numpy(object) == scenario.gpu) & (table["tier"].to_numpy(object) != OWN)
    mine &= usd != scenario.usd_per_gpu_hour
    sources = np.where(mine, "scenario price", table["label"].to_numpy(object))
    return np.where(mine, scenario.usd_per_gpu_hour, usd), sources


def _min_gpus(scenario, catalog) -> np.ndarray:
    """Fewest GPUs of each catalog GPU (catalog order) that hold the scenario's model at
    its batch, NaN where none: ``sweep(scenario, gpu=<every GPU>)``'s ``min_gpus`` from
    the memory stage alone (``evaluation.memory_outputs``)."""
    gpus = list(catalog.gpus.index)
    return np.broadcast_to(memory_outputs(scenario, catalog, gpu=gpus)["min_gpus"], (len(gpus),))


def _derivable(scenario, catalog, **columns) -> np.ndarray:
    """Which rows of the zipped ``columns`` ``adapt.derive`` (``adapt=False``) builds a
    scenario for, in one vectorised check (``evaluation.valid_rows``); every row False
    when a value is out of its range (``derive`` then names it, row by row)."""
    try:
        return valid_rows(scenario, catalog, **columns)
    except ValueError:
        return np.zeros(len(next(iter(columns.values()))), bool)


def _setups(scenario, usd: np.ndarray, sources: np.ndarray, catalog):
    """Label -> (gpu, n_gpus, price, source) for every GPU that fits and has a price, at a
    GPU count the scenario allows (``adapt.derive``); the others named in ``skipped``, a
    count the model cannot use with the reason."""
    gpus, names = catalog.gpus.index.tolist(), catalog.names("gpus", catalog.gpus.index)
    n_min = _min_gpus(scenario, catalog)
    counts = np.where(catalog.gpus.index == scenario.gpu, np.maximum(n_min, scenario.n_gpus), n_min)
    tried = np.flatnonzero(~np.isnan(counts) & ~np.isnan(usd))
    ok = np.zeros(len(gpus), bool)
    if len(tried):
        ok[tried] = _derivable(
            scenario,
            catalog,
            gpu=[gpus[i] for i in tried],
            n_gpus=counts[tried].astype(int).tolist(),
            usd_per_gpu_hour=usd[tried],
        )
    setups, skipped = {}, []
    rows = zip(gpus, names, counts, usd, sources.tolist(), ok, strict=True)
    for gpu, name, n, price, source, valid in rows:
        if np.isnan(n) or np.isnan(price):
            skipped.append(name)
            continue
        n = int(n)
        if not valid:
            setup = derive(
                scenario, catalog, adapt=False, gpu=gpu, n_gpus=n, usd_per_gpu_hour=price
            )
            if setup.scenario is None:  # e.g. more GPUs than experts under expert parallelism
                skipped.append(f"{name} ×{n} ({setup.reason})")
                continue
        label = f"{name} ×{n}" + (" (sidebar)" if gpu == scenario.gpu else "")
        setups[label] = (gpu, n, float(price), source)
    return setups, tuple(skipped)


def _operating_rows(grid: pd.DataFrame, at_batch: np.ndarray, setups: int, options: Options):
    """Each setup's row of ``grid`` (``setups`` blocks of equal length, the scenario's
    batch last in each, ``at_batch`` there) it is compared at: the scenario's batch, or
    (``optimize_batch``) the fitting batch of most throughput whose users get the target
    speed; -1 if none."""
    per_setup = len(grid) // max(setups, 1)
    first = np.arange(setups) * per_setup
    if not options.optimize_batch:
        return first + per_setup - 1
    ok = grid["fits"].to_numpy(bool) & (
        grid["tokens_per_s_per_user"].to_numpy(float) >= options.min_tokens_per_s_per_user
    )
    ok = (ok & ~at_batch).reshape(setups, per_setup)
    speed = grid["output_tokens_per_s"].to_numpy(float).reshape(setups, per_setup)
    best = np.argmax(np.where(ok, speed, -np.inf), axis=1)  # the first of equals
    return np.where(ok.any(axis=1), first + best, -1)


def _scan_setups(scenario, options: Options, setups: dict, catalog):
    """Every setup over ``batch_grid()`` and the scenario's batch in one ``scan``: the
    fitting rows of the grid (``curves``, with ``setup``), each setup's operating row
    (``points``, -1 in ``picked`` for none) and its values to tabulate (lists)."""
    if not setups:
        return pd.DataFrame(), pd.DataFrame(), np.array([], int), {}
    batches = batch_grid()
    per_setup = [*batches, scenario.batch_size]
    columns = {
        name: [v for values in setups.values() for v in [values[i]] * len(per_setup)]
        for i, name in enumerate(("gpu", "n_gpus", "usd_per_gpu_hour"))
    }
    found = scan(scenario, catalog, **columns, batch_size=per_setup * len(setups))
    at_batch = np.tile([False] * len(batches) + [True], len(setups))
    picked = _operating_rows(found, at_batch, len(setups), options)
    kept = np.flatnonzero(found["fits"].to_numpy(bool) & ~at_batch)
    curves = found.iloc[kept].reset_index(drop=True)
    curves["setup"] = np.repeat(list(setups), len(per_setup))[kept]
    points = found.iloc[picked[picked >= 0]].reset_index(drop=True)
    values = {k: points[k].tolist() for k in (*_FROM_SWEEP, *_SHARE, "batch_size")}
    return curves, points, picked, values


def _table(scenario, options: Options, prices: tuple, catalog):
    """The setups' table (cheapest first; no ranges yet), their curves, each operating
    point's Scenario and evaluated row (``grid``'s) by label, and the GPUs skipped."""
    setups, skipped = _setups(scenario, *prices, catalog)
    curves, points, picked, values = _scan_setups(scenario, options, setups, catalog)
    rows, scenarios = [], {}
    for (label, (gpu, n, price, source)), at in zip(setups.items(), picked, strict=True):
        row = {"setup": label, "gpu": gpu, "n_gpus": n, "usd_per_gpu_hour": price}
        rows.append({**row, "price_source": source, "batch_size": np.nan, "fits": False})
        if at < 0:
            continue
        point = {k: v[len(scenarios)] for k, v in values.items()}
        scenarios[label] = scenario.replace(
            gpu=gpu, n_gpus=n, usd_per_gpu_hour=price, batch_size=point["batch_size"]
        )
        row = rows[-1]
        row.update({k: point[k] for k in _FROM_SWEEP}, batch_size=point["batch_size"])
        row["fits"] = bool(row["fits"])
        row["allreduce_share_pct"] = 100 * point["allreduce_time_ms"] / point["decode_step_ms"]
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    table = table.sort_values(COST, ignore_index=True, na_position="last")
    return table, curves, scenarios, points, skipped


def _fitting(table: pd.DataFrame) -> np.ndarray:
    """Positions of ``table``'s setups that fit and have a cost, cheapest first."""
    cost = table[COST].to_numpy()
    return np.flatnonzero(table["fits"].to_numpy(bool) & ~pd.isna(cost))


def _spreads(table: pd.DataFrame, scenarios: dict, points: pd.DataFrame, options, catalog):
    """Each operating point's headline range (``sensitivity.headline_range``) by label,
    filled into ``table``'s low and high columns, and the cheapest fitting setup's
    tornado (empty if none fits): their moves are one ``scan_many`` call."""
    ok = _fitting(table)
    best = str(table["setup"].iloc[ok[0]]) if len(ok) else None
    if not scenarios:
        return {}, pd.DataFrame()
    bases = list(scenarios.values())
    calls = [sensitivity.ranges_call(bases, points, catalog)]
    if best is not None:
        resolved = evaluated_row(points, list(scenarios).index(best))
        calls.append(
            sensitivity.tornado_call(scenarios[best], resolved, options.change_pct, None, catalog)
        )
    frames = scan_many(calls, catalog)
    spreads = sensitivity.ranges_from(bases, points, frames[0], COST, catalog)
    ranges = dict(zip(scenarios, spreads, strict=True))
    labels = table["setup"].tolist()
    for end in ("low", "high"):
        table[f"{COST}_{end}"] = [
            ranges[label][end] if label in ranges else np.nan for label in labels
        ]
    if best is None:
        return ranges, pd.DataFrame()
    return ranges, sensitivity.tornado_table(calls[1][1], resolved, COST, frames[1])


def _bandwidth_per_dollar(prices: tuple, catalog) -> pd.DataFrame:
    """Every priced GPU: peak bandwidth over its price, and against the H100 [%]."""
    usd, sources = prices
    priced = ~np.isnan(usd)
    gpus = catalog.gpus.index.to_numpy(object)[priced]
    bandwidth = catalog.gpus["bandwidth_tb_s"].to_numpy(float)[priced]
    per_dollar = bandwidth_per_dollar(bandwidth, usd[priced])
    h100 = per_dollar[gpus == H100]
    reference = float(h100[0]) if len(h100) and np.isfinite(h100[0]) else np.nan
    return pd.DataFrame(
        {
            "gpu": gpus,
            "name": catalog.gpus["name"].to_numpy()[priced],
            "bandwidth_tb_s": bandwidth,
            "usd_per_gpu_hour": usd[priced],
            "price_source": sources[priced],
            "bandwidth_tb_s_per_usd_hour": per_dollar,
            "vs_h100_pct": 100 * (per_dollar / reference - 1),
        }
    )


def scope_text(scenario, options: Options) -> str:
    """What the comparison considers, beside its answer: fewer setups than the
    throughput-interactivity frontier (``analyses.frontier``), which also searches GPU
    counts, expert parallelism, disaggregated serving and every batch, and costs prefill
    too; and the price rule every GPU is priced by."""
    parallelism = "expert" if scenario.expert_parallel else "tensor"
    batch = (
        f"the batch of most throughput still giving {options.min_tokens_per_s_per_user:g} "
        "tokens/s per user"
        if options.optimize_batch
        else f"the scenario's batch of {scenario.batch_size}"
    )
    return (
        f"Compared here: each GPU on {parallelism} parallelism over the fewest GPUs that "
        "hold the model (your GPU on at least your GPU count), aggregated serving, at one "
        f"batch ({batch}); cost is the decode GPU time per output token. The throughput "
        "vs interactivity page also searches more GPU counts, expert parallelism, "
        "disaggregated serving and every batch, and costs prefill too, so its cheapest "
        "setup for the same target can be another and cheaper. GPU prices follow one "
        f"price rule (the sidebar's in the app): {options.price_rule.text}."
    )


def _winner(table: pd.DataFrame, sidebar: str | None, catalog) -> dict:
    """Winner, runner-up, savings and whether their uncertainty ranges overlap, in words."""
    ok = _fitting(table)
    found = dict.fromkeys(
        (
            "winner",
            "runner_up",
            "winner_saving_vs_runner_up_pct",
            "winner_saving_vs_sidebar_pct",
            "ranges_overlap",
        )
    )
    if not len(ok):
        return {**found, "winner_text": "No GPU setup fits and meets the target at these settings."}
    names = ("setup", "gpu", "n_gpus", "usd_per_gpu_hour", "batch_size", COST)
    columns = {k: table[k].tolist() for k in (*names, f"{COST}_low", f"{COST}_high")}
    best, *others = ({k: v[i] for k, v in columns.items()} for i in ok)
    found["winner"] = best["setup"]
    text = (
        f"{best['setup']} at ${best['usd_per_gpu_hour']:.2f}/GPU-hour is the cheapest: "
        f"${best[COST]:.3f} per million output tokens at batch {int(best['batch_size'])}"
    )
    mine = [row for row in others if row["setup"] == sidebar]
    if mine:
        other = mine[0]
        found["winner_saving_vs_sidebar_pct"] = float(pct_cheaper(best[COST], other[COST]))
        text += (
            f", {found['winner_saving_vs_sidebar_pct']:.0f}% cheaper per million output "
            f"tokens than your sidebar setup, {int(other['n_gpus'])}x "
            f"{catalog.names('gpus', [other['gpu']])[0]} "
            f"(${other[COST]:.3f})"
        )
    elif best["setup"] == sidebar:
        found["winner_saving_vs_sidebar_pct"] = 0.0
        text += " — your sidebar setup is already the cheapest"
    if others:
        runner = others[0]
        found["runner_up"] = runner["setup"]
        found["winner_saving_vs_runner_up_pct"] = float(pct_cheaper(best[COST], runner[COST]))
        if runner["setup"] == sidebar:
            text += ", which is also the runner-up"
        else:
            text += (
                f". The runner-up, {runner['setup']}, costs ${runner[COST]:.3f}: the winner is "
                f"{found['winner_saving_vs_runner_up_pct']:.0f}% cheaper"
            )
        found["ranges_overlap"] = bool(best[f"{COST}_high"] >= runner[f"{COST}_low"])
        text += (
            ". The uncertainty ranges of the two cheapest overlap, so their order could flip"
            if found["ranges_overlap"]
            else ". The win holds even at the ends of both uncertainty ranges"
        )
    return {**found, "winner_text": text + "."}


def _c5(table: pd.DataFrame, bandwidth: pd.DataFrame) -> dict:
    """C5: the A100 80GB's bandwidth per dollar against the H100 SXM's, at the prices used.

    Advantage = ``(bw_A / p_A) / (bw_H / p_H) - 1``; the A100 price at which it would be
    the seed's +32 % is ``p_A = bw_A p_H / (1.32 bw_H)``.
    """
    found = dict.fromkeys(
        ("a100_advantage_pct", "a100_price_for_seed_advantage", "a100_compute_vs_memory_pct")
    )
    gpus = bandwidth["gpu"].tolist()
    if not {A100, H100} <= set(gpus):
        return {
            **found,
            "c5_status": NOT_APPLICABLE,
            "c5_text": "C5 needs prices for both the A100 80GB and the H100 SXM.",
        }
    columns = {
        k: bandwidth[k].tolist()
        for k in ("usd_per_gpu_hour", "bandwidth_tb_s", "bandwidth_tb_s_per_usd_hour")
    }
    a100, h100 = ({k: v[gpus.index(gpu)] for k, v in columns.items()} for gpu in (A100, H100))
    if min(a100["usd_per_gpu_hour"], h100["usd_per_gpu_hour"]) <= 0:
        return {
            **found,
            "c5_status": NOT_APPLICABLE,
            "c5_text": "C5 compares bandwidth per dollar: at $0/GPU-hour it is unbounded.",
        }
    advantage = 100 * (
        a100["bandwidth_tb_s_per_usd_hour"] / h100["bandwidth_tb_s_per_usd_hour"] - 1
    )
    price = (
        a100["bandwidth_tb_s"]
        * h100["usd_per_gpu_hour"]
        / (h100["bandwidth_tb_s"] * (1 + SEED_A100_ADVANTAGE_PCT / 100))
    )
    found = {
        "a100_advantage_pct": float(advantage),
        "a100_price_for_seed_advantage": float(price),
        "a100_compute_vs_memory_pct": None,
    }
    text = (
        f"At ${a100['usd_per_gpu_hour']:.2f}/GPU-hour the A100 80GB gives "
        f"{a100['bandwidth_tb_s_per_usd_hour']:.2f} TB/s per $/hour; the H100 SXM at "
        f"${h100['usd_per_gpu_hour']:.2f} gives {h100['bandwidth_tb_s_per_usd_hour']:.2f}. "
        f"The A100 has {abs(advantage):.0f}% {'more' if advantage >= 0 else 'less'} bandwidth "
        f"per dollar. It would have the document's +{SEED_A100_ADVANTAGE_PCT:.0f}% at "
        f"${price:.2f}/GPU-hour (with the H100 at ${h100['usd_per_gpu_hour']:.2f})."
    )
    on_a100 = table["gpu"].to_numpy(object) == A100
    setups = np.flatnonzero(on_a100 & table["memory_time_ms"].notna().to_numpy())
    if len(setups):
        row = {k: table[k].iloc[setups[0]] for k in ("batch_size", *_TIMES)}
        share = 100 * row["compute_time_ms"] / row["memory_time_ms"]
        found["a100_compute_vs_memory_pct"] = float(share)
        text += (
            f" At batch {int(row['batch_size'])} an A100 decode step spends "
            f"{row['memory_time_ms']:.1f} ms reading memory and {row['compute_time_ms']:.1f} ms "
            f"computing ({share:.0f}% of the memory time), so its lower FLOPS "
            + (
                "barely matter for decode."
                if share < C5_COMPUTE_SHARE_PCT
                else "do matter at this batch."
            )
        )
        enough = advantage >= SEED_A100_ADVANTAGE_PCT - C5_TOLERANCE_POINTS
        status = decide(
            enough and share < C5_COMPUTE_SHARE_PCT, enough or share < C5_COMPUTE_SHARE_PCT
        )
    else:
        status = NOT_APPLICABLE
    return {**found, "c5_status": status, "c5_text": text}


def _c14(table: pd.DataFrame) -> dict:
    """C14: H200 and MI300X against H100 SXM and A100 80GB, per million output tokens."""
    costs = table[COST].to_numpy(float)
    first = {}  # each GPU's cheapest setup with a cost: its position
    for i, gpu in enumerate(table["gpu"].tolist()):
        if not np.isnan(costs[i]):
            first.setdefault(gpu, i)
    if not set(C14_BIG + C14_OLD) <= first.keys():
        return {
            "c14_holds": None,
            "c14_text": "C14 needs the H200, MI300X, H100 SXM and A100 80GB in the comparison.",
        }
    setups = table["setup"].tolist()
    setup = {gpu: setups[i] for gpu, i in first.items()}
    cost = {gpu: costs[i] for gpu, i in first.items()}
    parts = []
    for gpu in C14_BIG:
        versus = ", ".join(
            f"dearer than {setup[o]} (free at $0/GPU-hour)"
            if cost[o] <= 0
            else f"{abs(pct_cheaper(cost[gpu], cost[o])):.0f}% "
            f"{'cheaper' if cost[gpu] < cost[o] else 'dearer'} than {setup[o]}"
            for o in C14_OLD
        )
        parts.append(f"{setup[gpu]} is {versus}")
    holds = bool(all(cost[g] < cost[o] for g in C14_BIG for o in C14_OLD))
    share = table["allreduce_share_pct"].to_numpy(float)[first[H100]]
    return {
        "c14_holds": holds,
        "c14_text": f"The H200 and the MI300X {'beat' if holds else 'do not beat'} both the "
        "H100 SXM and the A100 80GB on cost per output token here: "
        + "; ".join(parts)
        + f". On {setup[H100]} the tensor-parallel all-reduces take {share:.1f}% "
        "of each decode step; a setup on one GPU needs none.",
    }


def run(scenario=None, options: Options | None = None, catalog=None) -> Result:
    """Compare every catalog GPU on ``scenario`` (default ``Scenario()``) with ``options``."""
    scenario = scenario or Scenario()
    options = options or Options()
    catalog = catalog or load_catalog()
    unknown = [gpu for gpu, _ in options.price_rule.own if gpu not in catalog.gpus.index]
    if unknown:
        raise ValueError(
            f"price_rule.own: GPU ids must be one of {', '.join(catalog.gpus.index)}; got {unknown}"
        )
    prices = _prices(scenario, options, catalog)
    table, curves, scenarios, points, skipped = _table(scenario, options, prices, catalog)
    ranges, tornado = _spreads(table, scenarios, points, options, catalog)
    bandwidth = _bandwidth_per_dollar(prices, catalog)
    gpus = table["gpu"].tolist()
    sidebar = str(table["setup"].iloc[gpus.index(scenario.gpu)]) if scenario.gpu in gpus else None
    found = {**_winner(table, sidebar, catalog), **_c5(table, bandwidth), **_c14(table)}
    return Result(
        table=table,
        curves=curves,
        bandwidth_per_dollar=bandwidth,
        scenarios=scenarios,
        skipped=skipped,
        sidebar_setup=sidebar,
        scope_text=scope_text(scenario, options),
        best_range=ranges.get(found["winner"]),
        tornado=tornado,
        **found,
    )
