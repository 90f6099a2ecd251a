"""The throughput-interactivity frontier, and the cheapest setup that meets latency targets.

For one model, GPU and workload, every configuration (batch, GPU count, TP/EP,
aggregated/disaggregated) is one point: tokens/s per user (interactivity) against output
tokens/s per GPU (throughput, hence cost: $/M output tokens = price * 1e6 / (3600 *
tokens/s per GPU)). The frontier is the upper-right envelope: the points no other point
beats on both axes. Along it, faster users mean fewer tokens per GPU.

Entry points: :func:`frontier` (one model, GPU and workload: the front over batch
size, GPU count, TP/EP and aggregated/disaggregated), :func:`frontier_for_gpus`
(several GPUs, each at its catalog price, in the same single sweep), :func:`candidates`
(the configurations they evaluate, invalid ones left out before the sweep),
:func:`pareto_front` and :func:`cheapest_meeting` (the cheapest setup under a TTFT and a
TPOT target; run it on the whole sweep, ``front_only=False``, not on the front: TTFT is
not an axis of the front, so the cheapest row meeting a TTFT target may lie off it).

Cost on the front: ``usd_per_million_output_tokens_all_in = usd_per_request * 1e6 / O``,
the whole GPU time of a request (prefill and decode, both pools when disaggregated) over
its output tokens, ``= price * 1e6 / (3600 * output_tokens_per_s_per_gpu * utilization)``;
``usd_per_million_output_tokens`` keeps its evaluation meaning (decode time only).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from costmodel.catalog import Catalog, load_catalog
from costmodel.economics import batch_grid
from costmodel.evaluation import check_ids, scan, tensor_parallel_ok
from costmodel.pricing import PriceRule, price_gpus
from costmodel.scenario import Scenario

#: Most GPUs per replica (or per prefill pool) :func:`frontier` tries by default: one
#: NVL72 rack, and SGLang's 72 H100 decode GPUs (measurement R6).
DEFAULT_MAX_GPUS = 72
#: Ways to spread a model over GPUs one may sweep, and what each means.
PARALLELISMS = {"tp": "tensor parallel", "ep": "expert parallel"}
#: Ways to serve one may sweep: prefill beside decode, or a prefill pool of its own.
SERVING = {"aggregated": "aggregated", "disaggregated": "disaggregated"}

#: Columns of :func:`frontier`'s result besides the scenario's: the axes, the costs,
#: latencies and the configuration.
FRONTIER_COLUMNS = (
    "setup",
    "tokens_per_s_per_user",
    "output_tokens_per_s_per_gpu",
    "usd_per_million_output_tokens_all_in",
    "usd_per_million_output_tokens",
    "usd_per_request",
    "ttft_ms",
    "tpot_ms",
    "batch_size",
    "n_gpus",
    "expert_parallel",
    "disaggregated",
    "prefill_gpus",
    "gpus_per_replica",
    "gpu",
    "usd_per_gpu_hour",
)


def _require_columns(df: pd.DataFrame, columns) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"columns {', '.join(missing)} are missing; the table has {', '.join(df.columns)}"
        )


def pareto_front(
    df: pd.DataFrame, x: str = "tokens_per_s_per_user", y: str = "output_tokens_per_s_per_gpu"
) -> pd.DataFrame:
    """Rows of ``df`` on the upper-right envelope of ``(x, y)``, sorted by ``x`` ascending.

    Sort by ``x`` descending (ties: ``y`` descending) and keep each row whose ``y``
    exceeds the running maximum of the rows before it: no kept row is beaten or equalled
    on both axes by another (of exact duplicates the first is kept). Along the result
    ``x`` rises and ``y`` falls strictly. Rows with a NaN in ``x`` or ``y`` are ignored;
    the index and all columns are kept.
    """
    _require_columns(df, [x, y])
    xs, ys = df[x].to_numpy(float), df[y].to_numpy(float)
    valid = np.flatnonzero(~np.isnan(xs) & ~np.isnan(ys))
    return df.iloc[valid[_front(xs[valid], ys[valid])[::-1]]]


def _front(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Positions of :func:`pareto_front`'s points among ``(xs, ys)`` (no NaN), ``xs``
    descending: sorted by x descending (ties: y descending), each point whose y exceeds
    the running maximum of the points before it. ``xs = [1, 2, 3], ys = [3, 2, 2]``:
    ``[2, 0]`` (the point (2, 2) is equalled in y by the faster (3, 2))."""
    order = np.lexsort((-ys, -xs))  # x descending, then y descending
    y_sorted = ys[order]
    best_before = np.concatenate(([-np.inf], np.maximum.accumulate(y_sorted)[:-1]))
    return order[y_sorted > best_before]


def cheapest_meeting(
    df: pd.DataFrame,
    ttft_ms_max: float,
    tpot_ms_max: float,
    cost: str = "usd_per_million_output_tokens",
) -> pd.Series | None:
    """The cheapest row with ``ttft_ms <= ttft_ms_max`` and ``tpot_ms <= tpot_ms_max``.

    Cheapest by the ``cost`` column (the first of equal costs); rows whose ``fits`` column
    (when there is one) is False, or with a NaN cost, are skipped. Returns that row, or
    ``None`` when no row meets both targets.
    """
    at = cheapest_meeting_position(df, ttft_ms_max, tpot_ms_max, cost)
    return None if at is None else df.iloc[at]


def cheapest_meeting_position(
    df: pd.DataFrame,
    ttft_ms_max: float,
    tpot_ms_max: float,
    cost: str = "usd_per_million_output_tokens",
    groups: list[np.ndarray] | None = None,
):
    """The position in ``df`` of :func:`cheapest_meeting`'s row (None if no row meets the
    targets); with ``groups`` (arrays of row positions) one such position per group, in
    one pass over the columns: ``[3, None]`` when row 3 is the first group's."""
    for name, value in (("ttft_ms_max", ttft_ms_max), ("tpot_ms_max", tpot_ms_max)):
        if not value > 0:
            raise ValueError(f"{name} must be > 0 [ms]; got {value!r}")
    _require_columns(df, ["ttft_ms", "tpot_ms", cost])
    costs = df[cost].to_numpy(float)
    meets = (df["ttft_ms"].to_numpy(float) <= ttft_ms_max) & ~np.isnan(costs)
    meets &= df["tpot_ms"].to_numpy(float) <= tpot_ms_max
    if "fits" in df.columns:
        meets &= df["fits"].to_numpy(bool)
    found = []
    for rows in [np.arange(len(df))] if groups is None else groups:
        rows = rows[meets[rows]]
        found.append(int(rows[np.argmin(costs[rows])]) if len(rows) else None)
    return found[0] if groups is None else found


def default_gpu_counts(scale_up_domain_gpus: int, max_gpus: int = DEFAULT_MAX_GPUS) -> list[int]:
    """GPU counts tried by default: powers of two up to the scale-up domain, the domain
    itself, and its multiples up to ``max_gpus`` (HGX, D = 8: 1, 2, 4, 8, 16, 24, ..., 72;
    NVL72: 1, 2, 4, ..., 64, 72)."""
    D = int(scale_up_domain_gpus)
    counts = {1 << i for i in range(8) if (1 << i) <= min(D, max_gpus)}
    counts.update(range(D, max_gpus + 1, D))
    return sorted(n for n in counts if n <= max_gpus)


def _sizes_ok(n, ep, model_row, redundant, domain):
    """Whether ``n`` GPUs can split the model: TP inside one domain, EP over >= 2 GPUs
    with at least one expert each (``evaluation.check_consistency``'s rules)."""
    n = np.asarray(n)
    tp_ok = tensor_parallel_ok(n, model_row["n_heads"], model_row["n_kv_heads"]) & (n <= domain)
    experts = model_row["n_experts"]
    ep_ok = (experts > 1) & (n >= 2) & (experts + redundant >= n)
    return np.where(ep, ep_ok, tp_ok)


def candidates(
    scenario: Scenario,
    *,
    batch_size=None,
    n_gpus=None,
    expert_parallel=(False, True),
    disaggregated=(False, True),
    prefill_gpus=None,
    max_gpus: int = DEFAULT_MAX_GPUS,
    catalog: Catalog | None = None,
) -> dict:
    """The configurations :func:`frontier` evaluates, as zipped arrays (``scan``'s columns).

    The product of ``batch_size`` (default ``economics.batch_grid()``), ``n_gpus``
    (default :func:`default_gpu_counts` of the GPU's scale-up domain, up to ``max_gpus``),
    ``expert_parallel``
    and ``disaggregated``, and for disaggregated rows ``prefill_gpus`` (default: the same
    GPU counts), without the invalid ones: tensor-parallel sizes that do not divide the
    heads or leave the scale-up domain, expert parallelism on a dense model, on one GPU
    or with fewer experts than GPUs. Aggregated rows keep the scenario's ``prefill_gpus``
    (unused). Returns ``batch_size``, ``n_gpus``, ``expert_parallel``, ``disaggregated``
    and ``prefill_gpus`` arrays of equal length, or ``{}`` when no configuration is
    allowed (expert parallelism alone with ``max_gpus=1``).
    """
    catalog = catalog or load_catalog()
    check_ids(scenario, catalog)
    model = catalog.models.loc[scenario.model]
    domain = int(catalog.gpus.loc[scenario.gpu, "scale_up_domain_gpus"])
    counts = default_gpu_counts(domain, max_gpus) if n_gpus is None else list(n_gpus)
    counts = np.asarray(counts, np.int64)
    pools = counts if prefill_gpus is None else np.asarray(list(prefill_gpus), np.int64)
    batches = np.asarray(batch_grid() if batch_size is None else list(batch_size), np.int64)
    R = scenario.redundant_experts
    rows = []
    for ep in dict.fromkeys(bool(e) for e in expert_parallel):
        n_ok = counts[_sizes_ok(counts, ep, model, R, domain)]
        p_ok = pools[_sizes_ok(pools, ep, model, R, domain)]
        for dis in dict.fromkeys(bool(d) for d in disaggregated):
            n, p = (
                np.meshgrid(n_ok, p_ok, indexing="ij")
                if dis
                else (n_ok[:, None], np.full((len(n_ok), 1), scenario.prefill_gpus))
            )
            n, p = n.ravel(), p.ravel()
            rows.append(
                {
                    "n_gpus": np.repeat(n, len(batches)),
                    "prefill_gpus": np.repeat(p, len(batches)),
                    "batch_size": np.tile(batches, len(n)),
                    "expert_parallel": np.full(len(n) * len(batches), ep),
                    "disaggregated": np.full(len(n) * len(batches), dis),
                }
            )
    found = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]} if rows else {}
    return found if found and len(found["batch_size"]) else {}  # none allowed: no rows


def setup_labels(df: pd.DataFrame) -> pd.Series:
    """``"EP 8, batch 64"``, ``"TP 4, batch 1, disaggregated 4+8"`` (prefill + decode GPUs)."""
    kind = np.where(df["expert_parallel"].to_numpy(bool), "EP ", "TP ").astype(object)
    n = _texts(df["n_gpus"].to_numpy())
    label = kind + n + ", batch " + _texts(df["batch_size"].to_numpy())
    pools = ", disaggregated " + _texts(df["prefill_gpus"].to_numpy()) + "+" + n
    split = df["disaggregated"].to_numpy(bool)
    return pd.Series(label + np.where(split, pools, ""), df.index, dtype=str)


def _texts(values: np.ndarray) -> np.ndarray:
    """Each value as text (``str``), each distinct value written once [object array]."""
    distinct, at = np.unique(values, return_inverse=True)
    return np.array([str(v) for v in distinct.tolist()], object)[at.reshape(-1)]


def gpu_groups(df: pd.DataFrame) -> dict:
    """GPU -> the positions of its rows in ``df`` (its ``gpu`` column), GPUs in order of
    first appearance (as ``groupby("gpu", sort=False)``)."""
    codes, gpus = pd.factorize(df["gpu"], sort=False)
    return {str(gpu): np.flatnonzero(codes == i) for i, gpu in enumerate(gpus)}


def _sweep_candidates(scenario, catalog, per_gpu: dict) -> pd.DataFrame:
    """One ``scan`` of every GPU's candidates (``per_gpu``: gpu -> (price, candidates))."""
    columns: dict[str, list] = {}
    for gpu, (price, rows) in per_gpu.items():
        if not rows:
            continue
        n = len(rows["batch_size"])
        for name, values in {**rows, "gpu": [gpu] * n, "usd_per_gpu_hour": [price] * n}.items():
            columns.setdefault(name, []).extend(np.asarray(values).tolist())
    if not columns:
        return pd.DataFrame()
    if len(per_gpu) == 1:  # one GPU and price: the scenario's fields, not columns
        columns.pop("gpu")
        columns.pop("usd_per_gpu_hour")
        scenario = scenario.replace(gpu=next(iter(per_gpu)), usd_per_gpu_hour=price)
    return scan(scenario, catalog, **columns)


def _finish(df: pd.DataFrame, front_only: bool) -> pd.DataFrame:
    """Fitting rows with a finite TTFT, the labels and costs; the front of each GPU."""
    if df.empty:
        return df
    df = df.iloc[np.flatnonzero(df["fits"].to_numpy(bool) & np.isfinite(df["ttft_ms"]))]
    split, pool = df["disaggregated"].to_numpy(bool), df["prefill_gpus"].to_numpy()
    xs = df["tokens_per_s_per_user"].to_numpy(float)
    ys = df["output_tokens_per_s_per_gpu"].to_numpy(float)
    on = np.zeros(len(df), bool)
    for rows in gpu_groups(df).values():
        rows = rows[~np.isnan(xs[rows]) & ~np.isnan(ys[rows])]
        on[rows[_front(xs[rows], ys[rows])]] = True
    df = df.assign(
        prefill_gpus=np.where(split, pool, 0),
        gpu=df["gpu"].astype(str),
        setup=setup_labels(df),
        gpus_per_replica=df["n_gpus"].to_numpy() + np.where(split, pool, 0),
        usd_per_million_output_tokens_all_in=df["usd_per_request"].to_numpy()
        * 1e6
        / df["output_tokens"].to_numpy(),
        on_front=on,
    )
    if front_only:
        df = df[on].sort_values(["gpu", "tokens_per_s_per_user"], kind="stable")
    first = [c for c in FRONTIER_COLUMNS if c in df.columns]
    return df[first + [c for c in df.columns if c not in first]].reset_index(drop=True)


def frontier(
    scenario: Scenario, *, front_only=True, catalog: Catalog | None = None, **axes
) -> pd.DataFrame:
    """The throughput-interactivity front of one model, GPU and workload.

    One vectorised ``scan`` of :func:`candidates` (``axes``: its ``batch_size``,
    ``n_gpus``, ``expert_parallel``, ``disaggregated``, ``prefill_gpus``, ``max_gpus``,
    same defaults), rows that do not fit in memory or whose prefill pool cannot keep up
    (TTFT infinite) dropped, then :func:`pareto_front`. Columns: ``FRONTIER_COLUMNS``
    first (``setup`` names each configuration; ``prefill_gpus`` 0 on aggregated rows;
    ``gpus_per_replica`` both pools), then the rest of the sweep's; sorted by
    ``tokens_per_s_per_user``. With ``front_only=False`` every fitting row is returned,
    with an ``on_front`` column. Empty if no configuration fits.
    """
    catalog = catalog or load_catalog()
    rows = candidates(scenario, catalog=catalog, **axes)
    per_gpu = {scenario.gpu: (scenario.usd_per_gpu_hour, rows)}
    return _finish(_sweep_candidates(scenario, catalog, per_gpu), front_only)


def frontier_for_gpus(
    scenario: Scenario,
    gpus,
    *,
    usd_per_gpu_hour: dict | None = None,
    front_only=True,
    catalog: Catalog | None = None,
    price_rule: PriceRule | None = None,
    **axes,
) -> pd.DataFrame:
    """:func:`frontier` of several GPUs in one sweep, one front per GPU (``gpu`` column).

    Each GPU is priced at ``usd_per_gpu_hour[gpu]`` if given, else by ``price_rule``
    (default ``PriceRule()``: on-demand, today; ``pricing.price_gpus``); a GPU neither
    prices is left out (no price of another tier is taken), and an empty frame comes back
    when none is priced. ``axes``: :func:`candidates`' ``batch_size``, ``n_gpus``,
    ``expert_parallel``, ``disaggregated``, ``prefill_gpus``, ``max_gpus`` (``n_gpus``
    None: each GPU's own default counts).
    """
    catalog = catalog or load_catalog()
    gpus = list(dict.fromkeys(gpus))
    if not gpus:
        raise ValueError("gpus must name at least one GPU")
    listed = price_gpus(gpus, price_rule, catalog)["usd_per_gpu_hour"].set_axis(gpus).to_dict()
    listed.update(usd_per_gpu_hour or {})
    priced = [gpu for gpu in gpus if np.isfinite(listed[gpu])]
    if not priced:
        return pd.DataFrame()
    per_gpu = {
        gpu: (float(listed[gpu]), candidates(scenario.replace(gpu=gpu), catalog=catalog, **axes))
        for gpu in priced
    }
    return _finish(_sweep_candidates(scenario, catalog, per_gpu), front_only)
