"""Does the model fit, and how many users can one replica serve? (claims C12, C13, C14)

Weights, KV cache and overhead against each GPU's usable memory for every weight
format; the fewest GPUs that hold it; most concurrent users versus context length; and
the C13 boundary: the longest context per user at which N users fit (``longest_context``,
solved from the memory model and checked with one ``scan``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from costmodel.analyses.options import AnalysisOptions, count
from costmodel.attention import kv_growth_bytes_per_token
from costmodel.catalog import load_catalog
from costmodel.evaluation import memory_outputs, scan
from costmodel.fields import FIELD_RANGES
from costmodel.scans import product_columns, scan_many
from costmodel.scenario import Scenario
from costmodel.spec import choice, integer
from costmodel.status import decide

DEFAULT_GPUS = ("a100-80gb-sxm", "h100-sxm", "h200-sxm", "mi300x")
ROW_CHOICES = ("format", "GPU")
#: Heatmap context lengths (prompt + output) from 512 tokens in steps of 1.5x and 4/3.
CONTEXT_STEPS = tuple(int(512 * 2**i * m) for i in range(9) for m in (1, 1.5))
#: Memory parts of ``Result.memory_parts`` and their labels.
COMPONENTS = {"weights_gb": "Weights", "kv_cache_gb": "KV cache", "overhead_gb": "Overhead"}
#: C13's setup: FP8 weights on one H100 80GB with a bf16 KV cache.
C13_SETUP = {"gpu": "h100-sxm", "n_gpus": 1, "weight_format": "fp8", "kv_format": "bf16"}
#: The seed's "40-50+ concurrent users a chat service needs" (C13) [users].
CHAT_USERS = (40, 50)
#: Most concurrent users the page asks about [users].
MAX_USERS = 4096
_CONTEXT_LIMIT = FIELD_RANGES["prompt_tokens"][1]
#: Contexts tried per row and ``scan`` call by ``longest_context``'s search.
SEARCH_POINTS = 32
C13_RULE = (
    "C13 holds when, at the scenario's context per user and KV format, one H100 with FP8 "
    "weights holds fewer than 40 users and two H100s hold at least 40; partly when one "
    "holds 40 but not 50, or even two hold fewer than 40; else it does not hold."
)


@dataclass(frozen=True)
class Options(AnalysisOptions):
    """The memory-fit page's own inputs; names are its URL keys."""

    gpus: tuple[str, ...] = choice(
        DEFAULT_GPUS,
        label="GPUs to compare",
        help="GPU ids from assets/gpus.csv, compared side by side; none: the scenario's GPU "
        "[GPU ids]",
        catalog_table="gpus",
        many=True,
        empty="the sidebar's GPU",
    )
    users: int = count(
        CHAT_USERS[0],
        most=MAX_USERS,
        unit="users",
        label="Concurrent users (target)",
        help="Sequences a replica must hold at once; a chat service needs 40-50+ (seed "
        "claim C13) [users]",
    )
    context_tokens: int = integer(
        32768,
        1024,
        _CONTEXT_LIMIT,
        1024,
        unit="tokens",
        label="Longest context in the heatmap",
        help="Right end of the heatmap: prompt + output tokens per user; Mixtral's window "
        "is 32,768 [tokens]",
    )
    heatmap_rows: str = choice(
        ROW_CHOICES[0],
        label="Heatmap rows",
        help="format: every weight format on the scenario's GPU; GPU: every GPU above in "
        "the scenario's weight format [-]",
        choices=ROW_CHOICES,
    )


@dataclass(frozen=True)
class Result:
    """Memory, GPU counts, users versus context, and the C13 and C14 findings.

    ``memory``: the sweep of every GPU x weight format at ``users`` sequences (with
    ``overhead_gb``); ``memory_parts``: the same, one row per part (``COMPONENTS``).
    ``min_gpus``: fewest GPUs per format (rows) and GPU (columns), ``<NA>`` where even 64
    do not hold it. ``heatmap``: one cell per row and context (``max_users``,
    ``verdict``); ``heatmap_table``: ``max_users`` pivoted. ``c13``: the longest context
    [tokens] of each C13 case.
    """

    gpus: tuple[str, ...]
    memory: pd.DataFrame
    memory_parts: pd.DataFrame
    min_gpus: pd.DataFrame
    heatmap: pd.DataFrame
    heatmap_table: pd.DataFrame
    quality: pd.DataFrame
    kv_bytes_per_token: float
    c13: pd.DataFrame
    c13_max_users_at_context: int
    c13_status: str
    c13_text: str
    single_gpu: tuple[str, ...]
    multi_gpu: tuple[str, ...]
    no_fit: tuple[str, ...]
    c14_text: str


def longest_context(base, users, catalog=None, **columns) -> np.ndarray:
    """Longest context per user (prompt + output tokens) at which ``users`` sequences fit.

    Row i is ``base`` with the i-th value of each of ``columns`` (zipped, as ``scan``)
    and ``users[i]`` (or one ``users`` for all), at most the model's context window
    (and ``FIELD_RANGES["prompt_tokens"]``). Memory grows with the context, but not
    always linearly (sliding and chunked windows fill up, linear-attention states are
    fixed), so every row is searched at once between 2 and its limit with ``scan``
    (prompt = context - 1, one output token), ``SEARCH_POINTS`` contexts per row and
    call: about 6 ``scan`` calls. 0 where not even ``users`` two-token sequences fit.
    """
    catalog = catalog or load_catalog()
    start = search_start(base, catalog, **columns)
    first, call = _fits_call(base, columns, start)
    return search(base, users, catalog, columns, start, scan(first, catalog, **call))


def search_start(base, catalog, **columns) -> np.ndarray:
    """Each row's first contexts of :func:`longest_context`'s search (n x 2): 2 and its
    limit, the model's context window at most ``FIELD_RANGES["prompt_tokens"]``."""
    n = len(next(iter(columns.values()))) if columns else 1
    models = list(columns["model"]) if "model" in columns else [base.model] * n
    windows = catalog.prepared(_context_windows)
    high = np.minimum([windows[m] for m in models], _CONTEXT_LIMIT).astype(int)
    return np.stack([np.full(n, 2), high], axis=1)


def _context_windows(catalog) -> dict:
    """Model id -> its context window [tokens] (``Catalog.prepared``)."""
    return catalog.models["context_window"].to_dict()


def _fits_call(base, columns: dict, context: np.ndarray) -> tuple:
    """The ``scan`` call of row i at each context of ``context[i]`` (n x m, row i's m
    rows together): prompt = context - 1, one output token, batch 1."""
    n, m = context.shape
    repeated = {k: np.repeat(list(v), m).tolist() for k, v in columns.items()}
    return base, {
        **repeated,
        "prompt_tokens": (context.ravel() - 1).tolist(),
        "output_tokens": [1] * (n * m),
        "batch_size": [1] * (n * m),
    }


def search(base, users, catalog, columns: dict, start: np.ndarray, rows) -> np.ndarray:
    """:func:`longest_context` from its first contexts (:func:`search_start`) and the
    ``rows`` their ``scan`` call (:func:`_fits_call`) gave: an analysis runs that call
    with its other rows (``scans.scan_many``)."""
    n = len(start)
    users = np.broadcast_to(np.asarray(users, float), (n,))

    def fitting(most, shape) -> np.ndarray:
        return np.broadcast_to(most, (np.prod(shape),)).reshape(shape) >= users[:, None]

    def fits(context: np.ndarray) -> np.ndarray:
        """Whether row i fits at each context of ``context[i]`` (n x m)."""
        first, call = _fits_call(base, columns, context)
        return fitting(memory_outputs(first, catalog, **call)["max_batch_size"], context.shape)

    at_low, at_high = fitting(rows["max_batch_size"].to_numpy(), start.shape).T
    low, high = start.T
    # Invariant: fits(low) and not fits(high); rows that fit at their limit are done.
    low, high = np.where(at_high, high, low), np.where(at_high, high + 1, high)
    steps = np.arange(1, SEARCH_POINTS + 1) / (SEARCH_POINTS + 1)
    while (open_rows := at_low & (high - low > 1)).any():
        # Contexts strictly between low and high (repeats where the gap is small).
        points = low[:, None] + np.maximum((high - low)[:, None] * steps, 1).astype(int)
        points = np.minimum(points, np.maximum(high - 1, low)[:, None])
        points = np.where(open_rows[:, None], points, low[:, None])
        ok = fits(points)
        # Memory grows with the context: the last fitting point and the one after it.
        last = ok.sum(axis=1)
        low = np.where(open_rows & (last > 0), points[np.arange(n), np.maximum(last, 1) - 1], low)
        after = points[np.arange(n), np.minimum(last, SEARCH_POINTS - 1)]
        high = np.where(open_rows & (last < SEARCH_POINTS), after, high)
    return np.where(at_low, low, 0)


def verdict_labels(users: int) -> list[str]:
    """Heatmap classes: no room for one user, fewer than the target, the target or more."""
    return ["does not fit", f"< {users} users", f"≥ {users} users"]


def context_grid(longest: int) -> list[int]:
    """Heatmap context lengths: ``CONTEXT_STEPS`` below ``longest``, then ``longest``."""
    return [c for c in CONTEXT_STEPS if c < longest] + [int(longest)]


def _parts(memory: pd.DataFrame) -> pd.DataFrame:
    """Long table for stacked bars: one row per GPU, format and memory part (every
    replica's first part, then every replica's second, ...)."""
    gpu = memory["gpu"].to_numpy(str).astype(object)
    weight_format = memory["weight_format"].to_numpy(str).astype(object)
    n, k = len(memory), len(COMPONENTS)
    return pd.DataFrame(
        {
            "replica": np.tile(gpu + " · " + weight_format, k),
            "gpu": np.tile(gpu, k),
            "weight_format": np.tile(weight_format, k),
            "memory_available_gb": np.tile(memory["memory_available_gb"].to_numpy(), k),
            "fits": np.tile(memory["fits"].to_numpy(), k),
            "component": np.repeat(np.array(list(COMPONENTS.values()), object), n),
            "gb": np.concatenate([memory[c].to_numpy() for c in COMPONENTS]),
            "order": np.repeat(np.arange(k, dtype=np.int64), n),
        }
    )


def _min_gpus(memory: pd.DataFrame, gpus: tuple, formats: list[str]) -> pd.DataFrame:
    """Fewest GPUs per format (rows) and GPU (columns, sorted by id); <NA> where even 64
    do not hold it. ``memory``: the sweep of ``gpus`` x ``formats``, GPUs outer."""
    counts = memory["min_gpus"].to_numpy().reshape(len(gpus), len(formats))
    by_gpu = dict(zip(gpus, counts, strict=True))
    return pd.DataFrame(
        {gpu: pd.array(by_gpu[gpu], dtype="Int64") for gpu in sorted(by_gpu)},
        index=pd.Index(formats, name="weight_format"),
    )


def _heatmap_call(scenario, options: Options, gpus: tuple, catalog) -> tuple:
    """The heatmap's ``scan`` call: each row (format or GPU) at each context of
    ``context_grid`` (within the model's window), batch 1."""
    window = int(catalog.models.loc[scenario.model, "context_window"])
    grid = context_grid(min(options.context_tokens, window))  # longer requests are refused
    out_tokens = min(scenario.output_tokens, grid[0] // 2)
    field = "weight_format" if options.heatmap_rows == "format" else "gpu"
    rows = list(catalog.formats.index) if field == "weight_format" else list(gpus)
    return scenario.replace(batch_size=1, output_tokens=out_tokens), product_columns(
        **{field: rows}, prompt_tokens=[c - out_tokens for c in grid]
    )


def _heatmap(heat: pd.DataFrame, options: Options) -> pd.DataFrame:
    """Most users per row (format or GPU) and context, with the target's verdict, from
    the rows of :func:`_heatmap_call`."""
    field = "weight_format" if options.heatmap_rows == "format" else "gpu"
    users = heat["max_batch_size"].to_numpy().astype(int)
    labels = verdict_labels(options.users)
    return pd.DataFrame(
        {
            "row": heat[field].to_numpy(str).astype(object),
            "context_tokens": heat["prompt_tokens"].to_numpy() + heat["output_tokens"].to_numpy(),
            "max_users": users,
            "weights_gb": heat["weights_gb"].to_numpy(),
            "kv_gb_per_user": heat["kv_cache_gb"].to_numpy(),
            "memory_available_gb": heat["memory_available_gb"].to_numpy(),
            "verdict": np.select([users <= 0, users < options.users], labels[:2], labels[2]),
        }
    )


def _heatmap_table(heatmap: pd.DataFrame, options: Options) -> pd.DataFrame:
    """``max_users`` of :func:`_heatmap`'s cells, one row per heatmap row and a column
    per context (``<context>_tokens``); ``heatmap`` holds each row's contexts together."""
    rows = list(dict.fromkeys(heatmap["row"].tolist()))
    contexts = heatmap["context_tokens"].to_numpy()[: len(heatmap) // len(rows)]
    users = heatmap["max_users"].to_numpy().reshape(len(rows), len(contexts))
    return pd.DataFrame(
        users,
        index=pd.Index(rows, name="weight_format" if options.heatmap_rows == "format" else "gpu"),
        columns=[f"{c}_tokens" for c in contexts],
    )


def quality_table(catalog) -> pd.DataFrame:
    """Each weight format's bits, bytes per weight and quality note (C12)."""
    return catalog.prepared(_quality_table).copy()


def _quality_table(catalog) -> pd.DataFrame:
    """:func:`quality_table`, built once per catalog (``Catalog.prepared``)."""
    formats = catalog.formats
    return pd.DataFrame(
        {
            "weight_bits": formats["weight_bits"],
            "bytes_per_weight": catalog.arrays["format.bytes_per_weight"].round(4),
            "quality_note": formats["quality_note"],
            "accuracy_change": formats["accuracy_change"].fillna("reference"),
            "source": formats["source"],
        },
        index=formats.index,
    )


def _c13_cases(options: Options) -> tuple[list, dict]:
    """C13's cases (label, setup, users) and their setups as ``scan`` columns."""
    users = options.users
    # A list, not a dict: at users = CHAT_USERS[1] two cases share a label.
    cases = [
        (f"1x H100, FP8, bf16 KV, {users} users", C13_SETUP, users),
        (f"2x H100, FP8, bf16 KV, {users} users", {**C13_SETUP, "n_gpus": 2}, users),
        (f"1x H100, FP8, fp8 KV, {users} users", {**C13_SETUP, "kv_format": "fp8"}, users),
        (f"1x H100, FP8, bf16 KV, {CHAT_USERS[1]} users", C13_SETUP, CHAT_USERS[1]),
        (
            f"1x A100 80GB, FP8, bf16 KV, {users} users",
            {**C13_SETUP, "gpu": "a100-80gb-sxm"},
            users,
        ),
    ]
    return cases, {k: [s[k] for _, s, _ in cases] for k in C13_SETUP}


def _c13_here_call(scenario) -> tuple:
    """The ``scan`` call of C13's setup on one and two H100s at the scenario."""
    setup = {k: [v, v] for k, v in C13_SETUP.items() if k in ("gpu", "weight_format")}
    return scenario, {**setup, "n_gpus": [1, 2]}


def _c13(
    scenario, options: Options, catalog, here_rows, start, first_rows
) -> tuple[pd.DataFrame, int, str, str]:
    """C13's cases: longest context for the target users on one and two H100s, and more;
    from the rows of :func:`_c13_here_call` and of the search's first call."""
    users = options.users
    cases, columns = _c13_cases(options)
    longest = search(scenario, [u for _, _, u in cases], catalog, columns, start, first_rows)
    table = pd.DataFrame(
        {
            "case": [c for c, _, _ in cases],
            **{k: [s[k] for _, s, _ in cases] for k in C13_SETUP},
            "users": [u for _, _, u in cases],
            "longest_context_tokens": longest,
        }
    )
    context = scenario.prompt_tokens + scenario.output_tokens
    here = here_rows["max_batch_size"].to_numpy(int)
    one, two = longest[0], longest[1]
    label = "C13 in numbers" if scenario.model == "mixtral-8x7b" else f"C13 for {scenario.model}"
    if one == 0:
        text = (
            f"{label}. FP8 weights and overhead leave no room for {users} users on one H100 "
            f"80GB; two H100s hold {users} users up to {two:,} tokens of context each."
        )
    else:
        text = (
            f"{label}. With FP8 weights on one H100 80GB, {users} concurrent users fit only up "
            f"to {one:,} tokens of context each (bf16 KV cache). Beyond that one GPU holds "
            f"fewer than the {users} users a chat service needs, and FP8 needs 2 GPUs; two "
            f"H100s hold {users} users up to {two:,} tokens each."
        )
    text += f" With an FP8 KV cache the limit is {longest[2]:,} tokens."
    if users < CHAT_USERS[1]:
        text += f" For {CHAT_USERS[1]} users it is {longest[3]:,} tokens (bf16 KV)."
    text += (
        f" At the scenario's {context:,} tokens per user one H100 holds {here[0]:,} users in "
        f"FP8 ({scenario.kv_format} KV), two hold {here[1]:,}. An A100 80GB stores FP8 "
        f"weights in the same bytes (limit {longest[4]:,} tokens) but has no FP8 tensor "
        "cores to compute in FP8."
    )
    # holds: one H100 holds fewer than 40 users and two hold 40; partly: both hold fewer
    # than 40, or one holds 40 but not 50; does not hold: one holds 50 or more.
    short = here[0] < CHAT_USERS[0]
    status = decide(short and here[1] >= CHAT_USERS[0], here[0] < CHAT_USERS[1])
    return table, int(here[0]), status, text


def _c14(min_gpus: pd.DataFrame, users: int, context: int) -> dict:
    """Which GPUs hold the model in bf16 on one GPU (no tensor parallelism)."""
    bf16 = min_gpus.loc["bf16"] if "bf16" in min_gpus.index else pd.Series(dtype="Int64")
    single = tuple(g for g, n in bf16.items() if not pd.isna(n) and n == 1)
    multi = tuple(g for g, n in bf16.items() if not pd.isna(n) and n > 1)
    none = tuple(g for g, n in bf16.items() if pd.isna(n))
    where = f"for {users} users at {context:,} tokens each"
    if single:
        text = (
            f"In bf16, {where}, {', '.join(single)} hold the model on one GPU: no tensor "
            "parallelism and no all-reduce."
        )
    else:
        text = f"No GPU compared holds the model in bf16 on one GPU {where}."
    if multi:
        text += f" {', '.join(multi)} need more than one."
    if none:
        text += f" {', '.join(none)} cannot hold it even on 64 GPUs."
    return {"single_gpu": single, "multi_gpu": multi, "no_fit": none, "c14_text": text}


def run(scenario=None, options: Options | None = None, catalog=None) -> Result:
    """Memory fit of ``scenario``'s model on ``options.gpus`` for ``options.users`` users."""
    scenario = scenario or Scenario()
    options = options or Options()
    catalog = catalog or load_catalog()
    unknown = [g for g in options.gpus if g not in catalog.gpus.index]
    if unknown:
        raise ValueError(f"gpus must hold only {', '.join(catalog.gpus.index)}; got {unknown}")
    gpus = options.gpus or (scenario.gpu,)
    if len(set(gpus)) < len(gpus):
        raise ValueError(f"gpus must name each GPU once; got {list(gpus)}")
    formats = list(catalog.formats.index)
    _, columns = _c13_cases(options)
    start = search_start(scenario, catalog, **columns)
    memory, heat, here, first = scan_many(
        [
            (
                scenario.replace(batch_size=options.users),
                product_columns(gpu=list(gpus), weight_format=formats),
            ),
            _heatmap_call(scenario, options, gpus, catalog),
            _c13_here_call(scenario),
            _fits_call(scenario, columns, start),
        ],
        catalog,
    )
    memory["overhead_gb"] = (
        memory["memory_required_gb"].to_numpy()
        - memory["weights_gb"].to_numpy()
        - memory["kv_cache_gb"].to_numpy()
    )
    min_gpus = _min_gpus(memory, gpus, formats)
    heatmap = _heatmap(heat, options)
    table = _heatmap_table(heatmap, options)
    c13, max_users, c13_status, c13_text = _c13(scenario, options, catalog, here, start, first)
    context = scenario.prompt_tokens + scenario.output_tokens
    arch = catalog.models.loc[scenario.model]
    # What grows with context, every attention kind (MLA latents, windows capped, V4's
    # compressed entries, index keys): costmodel.attention.
    kv_per_token = kv_growth_bytes_per_token(
        arch, catalog.formats.loc[scenario.kv_format, "weight_bits"] / 8
    )
    return Result(
        gpus=tuple(gpus),
        memory=memory,
        memory_parts=_parts(memory),
        min_gpus=min_gpus,
        heatmap=heatmap,
        heatmap_table=table,
        quality=quality_table(catalog),
        kv_bytes_per_token=float(kv_per_token),
        c13=c13,
        c13_max_users_at_context=max_users,
        c13_status=c13_status,
        c13_text=c13_text,
        **_c14(min_gpus, options.users, context),
    )
