"""Latency with queueing: TTFT and TPOT distributions of a fleet at a request rate.

Service times come from the evaluation (``costmodel.scan``), once per configuration and
quadrature node of the workload (:func:`service_times`); ``costmodel.queueing`` turns them
into distributions (:func:`fleet_state`, :func:`ttft_cdf`, :func:`tpot_cdf`,
:func:`latency_table`). Times in ms, rates in requests/s. A prompt of P tokens with a
prefix-cache hit rate h prefills ``u = max((1 - h) P, 1)`` tokens.

**Aggregated replica** (prefill and decode on the same GPUs, chunked prefill). A step
carries the decode batch and up to C = ``chunk_tokens`` prompt tokens
(``CHUNKED_PREFILL_TOKENS`` per attention group) and takes ``t_d`` plus the chunk's
prefill time:

- ``W_p(u)``: the prompt's prefill time in a chunk of ``floor(C / u)`` such prompts (the
  evaluation's ``prefill_ms`` over that batch) plus its share ``u / C`` of the pass's CPU
  dispatch ``d = PREFILL_DISPATCH_MS_PER_LAYER x layers``; ``t_d``: the decode step per
  output token at the batch cap (``decode_step_ms / tokens_per_step``), ``t_s`` the
  whole step (``decode_step_ms``: with MTP or speculative decoding a step verifies the
  drafts and yields ``tokens_per_step`` tokens, so a request waiting for a step boundary
  waits in whole steps, not per-token times);
- the replica's prompts wait in one first-come-first-served queue, an M/G/1 queue
  (``queueing.mgc_wait``, ``queueing.wait_law``: the Pollaczek-Khinchine mean, the wait a
  geometric sum of residual services) whose service is the prompt's share of the steps'
  time, ``S(u) = W_p(u) + (u / C) t_d`` (while prompts
  wait, every step carries a full chunk);
- ``TTFT(u) = W + W_p(u) + ceil(u / C) (t_s + d) - (u / C) d + t_s / 2 + path +
  overhead_ms``: the steps that carry the prompt with their dispatch, half a step for the
  step under way when it arrives, and the serving path outside the GPU steps (``path``,
  :func:`path_times_ms`: HTTP, tokenizing, hand-over to the scheduler, detokenizing, and
  an overlap scheduler's one step, per stack from ``assets/serving_path.csv``);
- TPOT: decode advances only between prefill chunks, so on average ``t_d / (1 - rho_p)``
  with ``rho_p = lambda E[W_p]``; a request of O tokens shares its ``O * TPOT`` of decode
  with a Poisson number of other prompts' prefill work Y: ``TPOT = t_d + Y / O``, Y
  compound Poisson of mean ``lambda O TPOT E[W_p]`` and variance ``lambda O TPOT
  E[W_p^2]``, taken as gamma (``queueing.gamma_cdf``), mixed over the output lengths.

**Disaggregated** (a prefill pool of ``prefill_instances`` instances of ``prefill_gpus``
GPUs, decode on ``replicas`` instances of ``n_gpus``):

- the pool is one M/G/c queue, c = ``prefill_instances``, service ``W_p(u)`` (a prompt's
  share of a pass at the chunk batch: instances batch the prompts that wait);
- ``TTFT(u) = W + t_1(u) + d + kv_transfer(P) + DECODE_HANDOFF_STEPS t_s + path +
  pass_wait + overhead_ms``, ``t_1(u)`` the prompt's own pass alone (the evaluation's
  ``ttft_ms - decode_step_ms`` of one prompt) with its dispatch d, the KV transfer the
  evaluation's ``kv_transfer_ms`` from the pool's GPUs, the decode instance's scheduler
  around it (``DECODE_HANDOFF_STEPS``: the KV pre-allocation before the prefill starts,
  the poll that sees the transfer done, and the step that emits the first token), the
  serving path with the hand-off's control round trips, and ``pass_wait`` (load
  dependent, :func:`batched_pass_wait_ms`): the prefill instance's pass under way and
  the longer pass that carries the prompts that came meanwhile;
- TPOT: the decode instance's own step at its batch cap, ``t_d`` (no prefill between).

**Batch slots (memory).** A replica holds at most ``batch_size`` sequences (the batch
cap, which must fit in memory). The number of requests in a replica is Poisson with mean
``lambda_r D`` (an M/G/infinity count; D the time a request holds a slot: TTFT + O TPOT
aggregated, O t_d on a decode instance); ``slot_overflow_probability = P(N > cap)``
(Poisson by Wilson-Hilferty on its chi-square form). The TTFT leaves the wait for a slot
out: a fleet is sized so that the cap is rarely full (``fleet.SLOT_OVERFLOW_PROBABILITY``).

**A benchmark's closed loop** (:func:`closed_loop`): the rate the loop lets through, the
wait for a slot, the scheduler's admission settings (:func:`admission_wait_steps`) and
the burst of every user's first request at t = 0.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from costmodel.catalog import ASSETS_DIR, Catalog, load_catalog, read_table
from costmodel.evaluation import scan
from costmodel.planning.workloads import QUANTILE_NODES, Workload
from costmodel.queueing import (
    QUANTILE_TOLERANCE,
    gamma_cdf,
    gamma_quantile,
    mgc_wait,
    mixture_quantiles,
    wait_cdf,
    wait_cdf_integral,
    wait_law,
    wait_quantile_bound,
)
from costmodel.scenario import Scenario

#: Prompt tokens one step carries beside the decode batch, per attention group (a
#: tensor-parallel replica, or each GPU under data-parallel attention) [tokens]:
#: SGLang's default ``chunked_prefill_size`` on 80-160 GB GPUs and vLLM V1's default
#: ``max_num_batched_tokens`` for its OpenAI server on GPUs of 70 GiB or more, both 8,192.
CHUNKED_PREFILL_TOKENS = 8192

#: CPU time to dispatch one layer's kernels in a prefill pass, which runs without CUDA
#: graphs [ms per layer]: NVIDIA AIConfigurator's vLLM backend adds ``0.8 ms x
#: num_layers`` to the TTFT ("CPU-side dispatch cost absent from kernel measurements";
#: ai-dynamo/aiconfigurator, vllm_backend.py ``_prefill_dispatch_overhead_ms``).
PREFILL_DISPATCH_MS_PER_LAYER = 0.8

#: Decode steps [steps] between a disaggregated prompt's arrival and its first token that
#: the decode instance's scheduler adds, beside the prefill and the KV transfer (SGLang's
#: decode server, python/sglang/srt/disaggregation/decode.py, "Life cycle of a request in
#: the decode server"; Dynamo's SGLang KV-transfer explainer: the decode worker allocates
#: the cache and sends the page indices to the prefill worker before the prefill runs):
#: half a step for the scheduler's next loop to pre-allocate the KV cache (PreallocQueue),
#: half a step for the loop that polls the transfer done (TransferQueue), and the step
#: that decodes the first token after the request joins the running batch (its prefill
#: forward is skipped, PrebuiltExtendBatch). TensorRT-LLM's disaggregated generation
#: worker also takes a transferred request in at an iteration boundary.
DECODE_HANDOFF_STEPS = 2.0

#: The serving path outside the GPU step, per serving stack (``serving_path``).
SERVING_PATH_CSV = ASSETS_DIR / "serving_path.csv"

#: Quantiles reported by default [0-1].
QUANTILES = (0.5, 0.9, 0.99)

#: Columns of a configuration (zipped arrays; ``prefill_gpus`` used when disaggregated).
CONFIG_COLUMNS = (
    "gpu",
    "n_gpus",
    "expert_parallel",
    "batch_size",
    "disaggregated",
    "prefill_gpus",
)

MS_PER_S = 1e3


@dataclass(frozen=True)
class ServiceTimes:
    """What the queueing needs of each configuration (rows) and prompt node (columns) [ms].

    ``configs``: the configurations (``CONFIG_COLUMNS``), the rows ``config_rows`` of
    ``source_configs`` (all of them where None), taken when first read (a subset taken
    for the queueing alone never builds its frame); per configuration ``fits``
    (the batch cap, and a disaggregated pool, fit in memory), ``max_batch_size``,
    ``decode_ms_per_token`` t_d, ``decode_step_ms`` (one decode step, t_d times the
    tokens a step yields), ``chunk_tokens``; per configuration and prompt node
    ``prefill_work_ms`` W_p, ``queue_service_ms`` (S on aggregated rows) and
    ``own_prefill_ms`` (what follows the wait: the steps carrying the prompt aggregated,
    t_1 + the KV transfer disaggregated), ``pass_alone_ms`` (a prefill instance's pass
    of the prompt alone, t_1 + d, used by :func:`prefill_pass_wait_ms` on disaggregated
    rows); ``prompt_weight`` and ``output_weight`` (node
    probabilities), ``output_tokens`` per output node; ``mean_output_tokens``,
    ``mean_prompt_tokens``; ``clipped_share``: the share of prompt nodes cut to the
    model's context window; ``nodes_per_class``: the nodes of each class, in class order.
    """

    source_configs: pd.DataFrame
    fits: np.ndarray
    max_batch_size: np.ndarray
    decode_ms_per_token: np.ndarray
    decode_step_ms: np.ndarray
    chunk_tokens: np.ndarray
    prefill_work_ms: np.ndarray
    queue_service_ms: np.ndarray
    own_prefill_ms: np.ndarray
    pass_alone_ms: np.ndarray
    prompt_weight: np.ndarray
    output_tokens: np.ndarray
    output_weight: np.ndarray
    mean_prompt_tokens: float
    mean_output_tokens: float
    clipped_share: float
    nodes_per_class: int
    config_rows: np.ndarray | None = None

    @functools.cached_property
    def configs(self) -> pd.DataFrame:
        """The configurations (``CONFIG_COLUMNS``), one row per row of the arrays."""
        if self.config_rows is None:
            return self.source_configs
        return self.source_configs.iloc[self.config_rows].reset_index(drop=True)

    @functools.cached_property
    def gpu_codes(self) -> tuple:
        """Each configuration's GPU as a code into the distinct GPU ids, and those ids
        (``pd.factorize``)."""
        return pd.factorize(self.configs["gpu"].to_numpy())

    @functools.cached_property
    def disaggregated(self) -> np.ndarray:
        """Whether each configuration has a prefill pool of its own."""
        return self.configs["disaggregated"].to_numpy(bool)

    @functools.cached_property
    def batch_cap(self) -> np.ndarray:
        """Each configuration's batch cap [sequences]."""
        return self.configs["batch_size"].to_numpy(float)

    @functools.cached_property
    def queue_moments(self) -> list:
        """E[S], E[S^2], E[S^3] of the prefill queue's service [ms^k]: ``queue_service_ms``
        aggregated, ``prefill_work_ms`` disaggregated (:func:`node_pieces`)."""
        service = np.where(self.disaggregated[:, None], self.prefill_work_ms, self.queue_service_ms)
        return piece_moments(*node_pieces(service, self.prompt_weight, self.nodes_per_class))

    @functools.cached_property
    def work_moments(self) -> list:
        """E[W_p], E[W_p^2] of the prompts' prefill work [ms^k]."""
        pieces = node_pieces(self.prefill_work_ms, self.prompt_weight, self.nodes_per_class)
        return piece_moments(*pieces, (1, 2))

    @functools.cached_property
    def mean_own_ms(self) -> np.ndarray:
        """E[``own_prefill_ms``] over the prompts' law [ms]."""
        return piece_moments(*self.own_pieces, (1,))[0]

    @functools.cached_property
    def mean_pass_alone_ms(self) -> np.ndarray:
        """The workload's mean of ``pass_alone_ms`` over the prompt nodes [ms]."""
        return self.pass_alone_ms @ self.prompt_weight

    @functools.cached_property
    def mean_work_ms(self) -> np.ndarray:
        """The workload's mean of ``prefill_work_ms`` over the prompt nodes [ms]."""
        return self.prefill_work_ms @ self.prompt_weight

    @functools.cached_property
    def piece_mass(self) -> np.ndarray:
        """The masses of the uniform pieces of every per-node law (:func:`node_pieces`)."""
        return piece_mass(self.prompt_weight, self.nodes_per_class)

    @functools.cached_property
    def own_pieces(self) -> tuple:
        """``own_prefill_ms`` as uniform pieces (:func:`node_pieces`)."""
        return node_pieces(self.own_prefill_ms, self.prompt_weight, self.nodes_per_class)

    def take(self, rows) -> ServiceTimes:
        """The same for a subset of configurations (an index array or a boolean mask);
        the moments and pieces every queue needs are worked out once, here, and taken
        along."""
        rows = np.asarray(rows)
        rows = np.flatnonzero(rows) if rows.dtype == bool else rows
        out = ServiceTimes(
            self.source_configs,
            self.fits[rows],
            self.max_batch_size[rows],
            self.decode_ms_per_token[rows],
            self.decode_step_ms[rows],
            self.chunk_tokens[rows],
            self.prefill_work_ms[rows],
            self.queue_service_ms[rows],
            self.own_prefill_ms[rows],
            self.pass_alone_ms[rows],
            self.prompt_weight,
            self.output_tokens,
            self.output_weight,
            self.mean_prompt_tokens,
            self.mean_output_tokens,
            self.clipped_share,
            self.nodes_per_class,
            rows if self.config_rows is None else self.config_rows[rows],
        )
        # cached_property values live in the instance's __dict__
        for name in (
            "disaggregated",
            "batch_cap",
            "mean_own_ms",
            "mean_pass_alone_ms",
            "mean_work_ms",
        ):
            out.__dict__[name] = getattr(self, name)[rows]
        for name in ("queue_moments", "work_moments"):
            out.__dict__[name] = [m[rows] for m in getattr(self, name)]
        # own_pieces: worked out again where read (elementwise: the same values)
        return out


@functools.lru_cache(maxsize=2)
def serving_path(path: str | Path = SERVING_PATH_CSV) -> pd.DataFrame:
    """The serving path outside the GPU step, indexed by serving stack: ``request_overhead_ms``
    (HTTP, tokenizing the prompt, the hand-over to the scheduler and detokenizing the first
    token) [ms], ``output_delay_steps`` (steps a token waits before it leaves: 1 under an
    overlap scheduler, which handles a step's results while the next step runs) and
    ``handoff_ms`` (disaggregated: the control round trips between prefill and decode
    instances around the KV transfer) [ms], with ``source``."""
    return read_table(Path(path)).set_index("serving_stack")


def path_times_ms(serving_stack: str, decode_step_ms, disaggregated) -> np.ndarray:
    """The TTFT's time outside the GPU steps and queues [ms], per configuration:

    ``request_overhead_ms + output_delay_steps * t_s + disaggregated * handoff_ms``,
    ``t_s`` the whole decode step (an overlap scheduler hands a step's tokens out while
    the next step runs).

    Example: SGLang (3 ms, one step, 5 ms) at ``t_s`` = 10 ms, disaggregated:
    3 + 10 + 5 = 18 ms. ``ValueError`` for a stack the catalog lacks.
    """
    table = serving_path()
    if serving_stack not in table.index:
        raise ValueError(
            f"serving_stack must be one of {', '.join(table.index)} (assets/serving_path.csv); "
            f"got {serving_stack!r}"
        )
    row = table.loc[serving_stack]
    steps = float(row["output_delay_steps"]) * np.asarray(decode_step_ms, float)
    handoff = float(row["handoff_ms"]) * np.asarray(disaggregated, float)
    return float(row["request_overhead_ms"]) + steps + handoff


def _configs(configs) -> pd.DataFrame:
    frame = pd.DataFrame(configs).reset_index(drop=True)
    missing = [c for c in CONFIG_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"configs need columns {', '.join(CONFIG_COLUMNS)}; missing {missing}")
    if frame.empty:
        raise ValueError("configs must hold at least one configuration")
    frame["expert_parallel"] = frame["expert_parallel"].astype(bool)
    frame["disaggregated"] = frame["disaggregated"].astype(bool)
    for name in ("n_gpus", "batch_size", "prefill_gpus"):
        frame[name] = frame[name].astype(np.int64)
    frame["gpu"] = frame["gpu"].astype(str)
    return frame


def _distinct(keys: dict) -> tuple[dict, np.ndarray]:
    """The distinct rows of ``keys`` (name -> equal-length arrays) in order of first
    appearance (name -> arrays), and each row's position among them (each column's
    codes combined into one integer per row)."""
    code = 0
    for values in keys.values():
        codes, uniques = pd.factorize(values)
        code = code * len(uniques) + codes
    _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty(order.size, np.int64)
    rank[order] = np.arange(order.size)
    rows = first[order]
    return {name: values[rows] for name, values in keys.items()}, rank[inverse.ravel()]


def service_times(
    scenario: Scenario,
    workload: Workload,
    configs,
    catalog: Catalog | None = None,
    nodes: int = QUANTILE_NODES,
    chunk_tokens: int = CHUNKED_PREFILL_TOKENS,
) -> ServiceTimes:
    """Every configuration's service times over ``workload``'s nodes, in one ``scan``.

    ``configs``: a frame (or mapping of equal-length lists) with ``CONFIG_COLUMNS``; the
    scenario gives the model, formats, speculative decoding and efficiencies. Rows of
    the scan: one decode row per distinct (gpu, n_gpus, expert_parallel, batch_size) at
    the workload's mean prompt and output (the KV read is linear in the context, so the
    mean context gives the mean step), and one prefill row per distinct prefill
    instance (gpu, GPUs, expert_parallel) and prompt node: ``floor(chunk / u)`` prompts
    of that node (at least one), chunk = ``chunk_tokens`` per attention group. Prompt
    nodes longer than the model's context window (less one output token) are cut to it
    (``clipped_share`` says how much of the workload). ``ValueError`` if the mean prompt
    and output do not fit the window.
    """
    catalog = catalog or load_catalog()
    frame = _configs(configs)
    node = workload.nodes(nodes)
    prompt, output = node["prompt"], node["output"]
    window = float(catalog.models.loc[scenario.model, "context_window"])
    means = workload.mean_tokens(nodes)
    mean_p, mean_o = round(means["prompt"]), max(round(means["output"]), 1)
    if mean_p + mean_o > window:
        raise ValueError(
            f"workload {workload.name}: mean prompt + output ({mean_p:,} + {mean_o:,} tokens) "
            f"must fit the context window of {scenario.model}, {window:,.0f} tokens"
        )
    p_tokens = np.minimum(prompt["tokens"].to_numpy(float), window - 1)
    clipped = float(prompt["weight"][prompt["tokens"] > window - 1].sum())
    hit = prompt["prefix_cache_hit_rate"].to_numpy(float)
    prefilled = np.maximum((1 - hit) * p_tokens, 1.0)

    ep = frame["expert_parallel"].to_numpy(bool)
    split = frame["disaggregated"].to_numpy(bool)
    instance = np.where(split, frame["prefill_gpus"], frame["n_gpus"]).astype(np.int64)
    groups = np.where(ep, instance, 1)
    chunk = chunk_tokens * groups

    gpu = frame["gpu"].to_numpy()
    decode_unique, decode_of = _distinct(
        {
            "gpu": gpu,
            "n_gpus": frame["n_gpus"].to_numpy(),
            "expert_parallel": ep,
            "batch_size": frame["batch_size"].to_numpy(),
        }
    )
    prefill_unique, prefill_of = _distinct({"gpu": gpu, "n": instance, "ep": ep, "chunk": chunk})

    J = len(p_tokens)
    nu = len(prefill_unique["gpu"])
    per_chunk = np.maximum(
        np.floor(prefill_unique["chunk"].astype(float)[:, None] / prefilled[None, :]), 1
    )
    d = len(decode_unique["gpu"])

    def column(decode, prefill):  # decode rows then prefill rows, as Python scalars
        return np.concatenate([np.asarray(decode), np.asarray(prefill)]).tolist()

    columns = {
        "gpu": column(decode_unique["gpu"], np.repeat(prefill_unique["gpu"], J)),
        "n_gpus": column(decode_unique["n_gpus"], np.repeat(prefill_unique["n"], J)),
        "expert_parallel": column(
            decode_unique["expert_parallel"], np.repeat(prefill_unique["ep"], J)
        ),
        "batch_size": column(decode_unique["batch_size"], per_chunk.ravel().astype(np.int64)),
        "prompt_tokens": column(np.full(d, mean_p), np.tile(p_tokens, nu).astype(int)),
        "output_tokens": column(np.full(d, mean_o), np.ones(nu * J, np.int64)),
        "prefix_cache_hit_rate": column(np.zeros(d), np.tile(hit, nu)),
    }
    rows = scan(scenario.replace(disaggregated=False), catalog, **columns)
    dec = rows.iloc[:d]
    pre = rows.iloc[d:]
    work = (pre["prefill_ms"].to_numpy() / pre["batch_size"].to_numpy()).reshape(nu, J)
    alone = (pre["ttft_ms"].to_numpy() - pre["decode_step_ms"].to_numpy()).reshape(nu, J)
    transfer = pre["kv_transfer_ms"].to_numpy().reshape(nu, J)
    prefill_fits = pre["fits"].to_numpy(bool).reshape(nu, J).all(axis=1)

    t_d = (dec["decode_step_ms"] / dec["tokens_per_step"]).to_numpy()[decode_of]
    t_s = dec["decode_step_ms"].to_numpy()[decode_of]
    share = prefilled[None, :] / chunk[:, None]
    dispatch = PREFILL_DISPATCH_MS_PER_LAYER * float(catalog.models.loc[scenario.model, "n_layers"])
    work = work[prefill_of]
    # Aggregated: the steps that carry the prompt, each with its prefill dispatch, and
    # half a step under way; disaggregated: the pass alone with its dispatch, the KV
    # transfer, and the decode instance's scheduler around it (DECODE_HANDOFF_STEPS).
    # Both in whole decode steps t_s, and both add the serving path outside the GPU
    # steps (:func:`path_times_ms`).
    steps = np.ceil(share) + 0.5
    path = path_times_ms(scenario.serving_stack, t_s, split)[:, None]
    pass_alone = alone[prefill_of] + dispatch
    own = path + np.where(
        split[:, None],
        pass_alone + transfer[prefill_of] + DECODE_HANDOFF_STEPS * t_s[:, None],
        work + steps * t_s[:, None] + np.ceil(share) * dispatch,
    )
    # The prompt's share of the prefill passes' time, their dispatch included.
    work = work + share * dispatch
    fits = dec["fits"].to_numpy(bool)[decode_of] & (~split | prefill_fits[prefill_of])
    return ServiceTimes(
        source_configs=frame,
        fits=fits,
        max_batch_size=dec["max_batch_size"].to_numpy(float)[decode_of],
        decode_ms_per_token=t_d,
        decode_step_ms=t_s,
        chunk_tokens=chunk.astype(float),
        prefill_work_ms=work,
        queue_service_ms=work + share * t_d[:, None],
        own_prefill_ms=own,
        pass_alone_ms=pass_alone,
        prompt_weight=prompt["weight"].to_numpy(float),
        output_tokens=output["tokens"].to_numpy(float),
        output_weight=output["weight"].to_numpy(float),
        mean_prompt_tokens=float(means["prompt"]),
        mean_output_tokens=float(means["output"]),
        clipped_share=clipped,
        nodes_per_class=nodes,
    )


def piece_mass(weights, nodes_per_class: int) -> np.ndarray:
    """The masses of :func:`node_pieces`' pieces: per class of total weight ``share``,
    ``share / (2n)`` for each end node's atom and ``share / n`` for each of the n - 1
    gaps."""
    n = nodes_per_class
    share = np.asarray(weights, float).reshape(-1, n).sum(axis=1)
    slices = np.r_[0.5, np.ones(n - 1), 0.5] / n
    return (share[:, None] * slices[None, :]).ravel()


def node_pieces(values, weights, nodes_per_class: int) -> tuple:
    """The law that the quadrature nodes stand for, as uniform pieces ``(low, high, mass)``.

    Within each class, node k sits at probability ``(k + 0.5) / n``; between two nodes the
    value is linear in the probability, so each of the n - 1 gaps is a uniform piece of
    mass ``share / n``, and each end node an atom of mass ``share / (2n)`` (the slices
    beyond the outer nodes). ``values``: configurations x nodes; returns ``low``,
    ``high`` (configurations x pieces) and ``mass`` (pieces). The simulation
    (``planning.simulation``) draws from the same law.
    """
    v = np.asarray(values, float)
    rows, n = v.shape[0], nodes_per_class
    v = v.reshape(rows, -1, n)
    starts = np.concatenate([v[..., :1], v[..., :-1], v[..., -1:]], axis=2)
    ends = np.concatenate([v[..., :1], v[..., 1:], v[..., -1:]], axis=2)
    mass = piece_mass(weights, n)
    low = np.minimum(starts, ends).reshape(rows, -1)
    high = np.maximum(starts, ends).reshape(rows, -1)
    return low, high, mass


def piece_moments(low, high, mass, orders=(1, 2, 3)) -> list:
    """``E[X^k]`` of the uniform pieces, ``(b^(k+1) - a^(k+1)) / ((k + 1) (b - a))``
    (``a^k`` for an atom), for each order k, per configuration."""
    width = high - low
    wide = width > 1e-9 * np.maximum(high, 1e-300)
    out = []
    for k in orders:
        uniform = (high ** (k + 1) - low ** (k + 1)) / ((k + 1) * np.where(wide, width, 1.0))
        out.append(np.where(wide, uniform, low**k) @ mass)
    return out


def batched_pass_wait_ms(pass_alone_ms, work_ms, requests_per_ms, max_prompts=np.inf):
    """Mean time a prompt adds on a prefill instance that runs its waiting prompts in
    batched passes, beyond its pass alone [ms] (arrays broadcast).

    A prefill worker of a disaggregated pool (SGLang's prefill server, TensorRT-LLM's
    context worker) takes the prompts that wait into one forward pass at its scheduler
    loop: a prompt that arrives during a pass waits for it to end, then rides the next
    pass with the prompts that came meanwhile. A pass of B prompts takes ``T = t_1 + (B
    - 1) w`` (``t_1`` = ``pass_alone_ms``, a prompt alone with the pass's fixed costs;
    ``w`` = ``work_ms``, each further prompt's share); at ``lambda`` =
    ``requests_per_ms`` per instance the prompts that came during a pass ride the next,
    ``B = 1 + lambda T``, so

    - ``T = t_1 / (1 - rho)``, ``rho = lambda w``, at most the pass of ``max_prompts``
      (the chunk's prompts; beyond it they wait in the pool's queue);
    - the instance is in a pass a share ``busy = lambda T / (1 + lambda T)`` of the time
      (``lambda / B`` passes per ms, T each), and an arrival then waits ``T / 2`` for it
      to end;
    - the added time is ``(T - t_1) + busy T / 2``: 0 at no load, infinite at rho >= 1.

    Example: t_1 = 60 ms, w = 15 ms, lambda = 0.02 per ms (20 prompts/s): rho = 0.3,
    T = 60 / 0.7 = 85.7 ms, busy = 1.714 / 2.714 = 0.632, added 25.7 + 0.632 x 42.9 =
    52.8 ms.
    """
    t1 = np.asarray(pass_alone_ms, float)
    w = np.asarray(work_ms, float)
    lam = np.asarray(requests_per_ms, float)
    if np.any(~(t1 >= 0)) or np.any(~(w >= 0)) or np.any(~(lam >= 0)):
        raise ValueError(
            "pass_alone_ms, work_ms and requests_per_ms must be >= 0; got "
            f"{pass_alone_ms!r}, {work_ms!r}, {requests_per_ms!r}"
        )
    most = np.asarray(max_prompts, float)
    if np.any(~(most >= 1)):
        raise ValueError(f"max_prompts must be >= 1; got {max_prompts!r}")
    rho = lam * w
    stable = rho < 1
    full = t1 + np.where(np.isfinite(most), most - 1, 0.0) * w  # the chunk's pass
    T = np.minimum(t1 / np.where(stable, 1 - rho, 1.0), np.where(np.isfinite(most), full, np.inf))
    busy = lam * T / (1 + lam * T)
    return np.where(stable, T - t1 + busy * T / 2, np.inf)


def prefill_pass_wait_ms(service: ServiceTimes, arrival_rate, prefill_instances=1) -> np.ndarray:
    """:func:`batched_pass_wait_ms` of each configuration at ``arrival_rate`` requests/s
    spread over ``prefill_instances`` [ms]: ``t_1`` and ``w`` the workload's means of
    ``pass_alone_ms`` and ``prefill_work_ms``, at most ``chunk_tokens`` over the mean
    prompt in a pass; 0 on aggregated rows (their chunks share the decode steps, which
    the M/G/1 queue and the steps carrying the prompt count)."""
    per_instance = np.asarray(arrival_rate, float) / np.asarray(prefill_instances, float)
    prompts = np.maximum(service.chunk_tokens / max(service.mean_prompt_tokens, 1.0), 1.0)
    wait = batched_pass_wait_ms(
        service.mean_pass_alone_ms,
        service.mean_work_ms,
        per_instance / MS_PER_S * np.ones(len(service.fits)),
        prompts,
    )
    return np.where(service.disaggregated, wait, 0.0)


def slot_overflow_probability(batch_cap, arrival_rate, holding_ms) -> np.ndarray:
    """``P(N > cap)`` [0-1] of a replica's requests in flight, N Poisson of mean
    ``lambda D / 1000`` (``arrival_rate`` lambda [1/s], ``holding_ms`` D [ms]): ``P(chi-square
    with 2 (cap + 1) degrees of freedom <= 2 lambda D / 1000)``, by Wilson-Hilferty
    (``queueing.gamma_cdf``); 1 where the holding time is infinite. Example: cap 0,
    mean 1: P(N > 0) = 1 - e^-1 = 0.632 (Wilson-Hilferty: 0.631)."""
    occupancy = arrival_rate * holding_ms / MS_PER_S
    cap = np.asarray(batch_cap, float)
    return np.where(
        np.isfinite(occupancy), gamma_cdf(2 * occupancy, 2 * (cap + 1), 4 * (cap + 1)), 1.0
    )


@dataclass(frozen=True)
class FleetState:
    """The queues of each configuration at its load (arrays over configurations) [ms].

    ``utilization``: of the prefill queue, or the share of replica time spent prefilling
    (the larger) [0-1]; ``law``: the wait's law (``queueing.wait_law``); ``mean_wait_ms``;
    ``offset_low_ms``, ``offset_high_ms``, ``offset_mass``: what follows the wait (TTFT =
    wait + offset), as uniform pieces (:func:`node_pieces`) of the nodes
    ``offset_nodes_ms`` (configurations x nodes), the service's own pieces moved by
    ``offset_added_ms`` (configurations x 1); ``tpot_floor_ms`` (t_d),
    ``tpot_mean_ms``, ``tpot_excess_variance`` (per output node) [ms^2], from
    ``replica_rate`` (requests/s per replica);
    ``mean_ttft_ms``, ``slot_overflow_probability`` [0-1]; ``stable`` where every queue
    keeps up.
    """

    service: ServiceTimes
    utilization: np.ndarray
    law: dict
    mean_wait_ms: np.ndarray
    offset_added_ms: np.ndarray
    offset_mass: np.ndarray
    offset_nodes_ms: np.ndarray
    tpot_floor_ms: np.ndarray
    tpot_mean_ms: np.ndarray
    replica_rate: np.ndarray
    mean_ttft_ms: np.ndarray
    slot_overflow_probability: np.ndarray
    stable: np.ndarray

    # Worked out when first read (the sizer's checks need neither).
    @functools.cached_property
    def offset_low_ms(self) -> np.ndarray:
        return self.service.own_pieces[0] + self.offset_added_ms

    @functools.cached_property
    def offset_high_ms(self) -> np.ndarray:
        return self.service.own_pieces[1] + self.offset_added_ms

    @functools.cached_property
    def tpot_excess_variance(self) -> np.ndarray:
        """Var[TPOT | O] = lambda TPOT E[W_p^2] / O (aggregated), 0 disaggregated."""
        service = self.service
        return np.where(
            service.disaggregated[:, None],
            0.0,
            (self.replica_rate / MS_PER_S * self.tpot_mean_ms * service.work_moments[1])[:, None]
            / service.output_tokens[None, :],
        )

    @property
    def slowest_wait_ms(self) -> np.ndarray:
        """A time scale beyond which the wait's tail is negligible per 60 of it [ms]."""
        law = {k: v[:, 0] for k, v in self.law.items()}
        slow = np.where(law["hyper"], -1 / np.minimum(law["l1"], -1e-300), 0.0)
        return np.where(self.stable, slow + law["shift"] + law["theta"], 0.0)


def _loads(service: ServiceTimes, arrival_rate, replicas, prefill_instances, overhead_ms):
    """What :func:`fleet_state` works out per configuration before the latency laws:
    the prefill queue (``mgc_wait``), ``rho_p``, ``stable``, ``tpot_mean``, the time
    ``added`` to every TTFT (configurations x 1), ``mean_ttft`` (infinite where
    unstable only through the wait) and ``holding`` (the time a request holds its slot)
    [ms]; ``lam``, ``R``, ``K`` the inputs broadcast (checked)."""
    n = len(service.fits)
    lam = np.asarray(arrival_rate, float) * np.ones(n)
    R = np.asarray(replicas, float) * np.ones(n)
    K = np.asarray(prefill_instances, np.int64) * np.ones(n, np.int64)
    if np.any(~(lam >= 0)) or np.any(~(R >= 1)) or np.any(K < 1):
        raise ValueError(
            "arrival_rate must be >= 0 and replicas, prefill_instances >= 1; got "
            f"{arrival_rate!r}, {replicas!r}, {prefill_instances!r}"
        )
    split = service.disaggregated
    t_d = service.decode_ms_per_token
    # Aggregated: per replica, one server, service S; disaggregated: K servers, W_p.
    mean_s, second_s, third_s = service.queue_moments
    scv = np.maximum(second_s / np.maximum(mean_s, 1e-300) ** 2 - 1, 0)
    queue_rate = np.where(split, lam, lam / R) / MS_PER_S  # per ms
    q = mgc_wait(queue_rate, mean_s, scv, np.where(split, K, 1), third_s)
    rho_p = np.where(split, 0.0, lam / R / MS_PER_S * service.work_moments[0])
    stable = (q["utilization"] < 1) & (rho_p < 1)
    tpot_mean = np.where(stable, t_d / np.where(stable, 1 - rho_p, 1), np.inf)
    # An unstable pool's TTFT is infinite by its queue; its passes add nothing finite.
    passes = np.where(q["utilization"] < 1, prefill_pass_wait_ms(service, lam, K), 0.0)
    added = overhead_ms + passes[:, None]
    mass = service.piece_mass
    mean_ttft = q["mean_wait_s"] + service.mean_own_ms + added[:, 0] * mass.sum()
    holding = np.where(
        split, service.mean_output_tokens * t_d, mean_ttft + service.mean_output_tokens * tpot_mean
    )
    return {
        "lam": lam,
        "R": R,
        "q": q,
        "rho_p": rho_p,
        "stable": stable,
        "tpot_mean": tpot_mean,
        "added": added,
        "mean_ttft": mean_ttft,
        "holding": holding,
    }


def holding_ms(service: ServiceTimes, arrival_rate, overhead_ms=0.0) -> np.ndarray:
    """The time a request holds its batch slot in one replica at ``arrival_rate``
    requests/s [ms] (:func:`fleet_state`'s, without the latency laws): ``E[TTFT] + E[O]
    E[TPOT]`` aggregated, ``E[O] t_d`` on a decode instance; infinite where unstable."""
    return _loads(service, arrival_rate, 1, 1, overhead_ms)["holding"]


def fleet_state(
    service: ServiceTimes,
    arrival_rate,
    replicas=1,
    prefill_instances=1,
    overhead_ms=0.0,
) -> FleetState:
    """The queues of each configuration at ``arrival_rate`` requests/s (array or scalar).

    Aggregated rows: the rate splits evenly over ``replicas`` (each its own M/G/1 prefill
    queue); disaggregated rows: one M/G/c prefill queue over ``prefill_instances`` and
    the rate split over the ``replicas`` decode instances. ``overhead_ms``: a fixed time
    added to every TTFT (serving-stack latency outside the GPUs).
    """
    loads = _loads(service, arrival_rate, replicas, prefill_instances, overhead_ms)
    lam, R, q, stable = loads["lam"], loads["R"], loads["q"], loads["stable"]
    overflow = slot_overflow_probability(service.batch_cap, lam / R, loads["holding"])
    law = wait_law(q["wait_probability"], q["utilization"], q["residual_s"], q["residual_scv"])
    law = {k: v[:, None] for k, v in law.items()}
    return FleetState(
        service=service,
        utilization=np.maximum(q["utilization"], loads["rho_p"]),
        law=law,
        mean_wait_ms=q["mean_wait_s"],
        offset_added_ms=loads["added"],
        offset_mass=service.piece_mass,
        offset_nodes_ms=service.own_prefill_ms + loads["added"],
        tpot_floor_ms=service.decode_ms_per_token,
        tpot_mean_ms=loads["tpot_mean"],
        replica_rate=lam / R,
        mean_ttft_ms=np.where(stable, loads["mean_ttft"], np.inf),
        slot_overflow_probability=overflow,
        stable=stable,
    )


def ttft_cdf(state: FleetState, t_ms, rows=slice(None)) -> np.ndarray:
    """``P(TTFT <= t_ms)`` of each configuration (or of ``rows``, an index array) [0-1]:
    the wait plus each uniform piece of the offset, ``(G(t - a) - G(t - b)) / (b - a)``
    (``queueing.wait_cdf_integral``), an atom ``P(W <= t - a)``, mixed by the pieces'
    masses."""
    stable, law = state.stable[rows], {k: v[rows] for k, v in state.law.items()}
    t = (np.asarray(t_ms, float) * np.ones(len(stable)))[:, None]
    # G at each node once: a piece between nodes a and b takes (G(t - a) - G(t - b)) /
    # (b - a) (the same in either order), an end node's atom P(W <= t - a).
    nodes = state.offset_nodes_ms[rows]
    per_class = state.service.nodes_per_class
    shape = (len(stable), nodes.shape[1] // per_class, per_class)
    v = nodes.reshape(shape)
    g = wait_cdf_integral(t - nodes, law).reshape(shape)
    width = v[..., 1:] - v[..., :-1]
    high = np.maximum(v[..., 1:], v[..., :-1])
    wide = np.abs(width) > 1e-9 * np.maximum(high, 1e-300)
    gaps = (g[..., :-1] - g[..., 1:]) / np.where(wide, width, 1.0)
    if not wide.all():  # equal nodes: an atom
        law3 = {k: x[:, :, None] for k, x in law.items()}
        low = np.minimum(v[..., 1:], v[..., :-1])
        gaps = np.where(wide, gaps, wait_cdf(t[:, :, None] - low, law3))
    ends = wait_cdf(t[:, :, None] - v[..., [0, -1]], {k: x[:, :, None] for k, x in law.items()})
    per_piece = np.concatenate([ends[..., :1], gaps, ends[..., 1:]], axis=2)
    per_piece = per_piece.reshape(len(stable), state.offset_mass.size)
    return np.where(stable, per_piece @ state.offset_mass, 0.0)


def tpot_cdf(state: FleetState, t_ms, rows=slice(None)) -> np.ndarray:
    """``P(TPOT <= t_ms)`` of each configuration (or of ``rows``) [0-1], mixed over the
    output nodes."""
    stable, floor = state.stable[rows], state.tpot_floor_ms[rows]
    t = np.asarray(t_ms, float) * np.ones(len(stable))
    variance = state.tpot_excess_variance[rows]
    excess_mean = (state.tpot_mean_ms[rows] - floor)[:, None]
    per_node = gamma_cdf(
        t[:, None] - floor[:, None], np.broadcast_to(excess_mean, variance.shape), variance
    )
    return np.where(stable, per_node @ state.service.output_weight, 0.0)


def ttft_quantile_bounds(state: FleetState, q: float) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form trial bounds on each configuration's TTFT q-quantile [ms] (checked by
    ``mixture_quantiles``, which needs them only to be good guesses).

    TTFT = W + X, X the offset (:func:`node_pieces` of ``offset_nodes_ms``) and W the wait,
    independent. A mixture's quantile lies between its classes' quantiles, and a class's
    q-quantile is the linear interpolation of its sorted nodes at position ``q n - 1/2``
    (node k holds probability ``(k + 1/2) / n``). Low: ``min_c X_c(q)`` (W >= 0); high:
    ``max_c X_c(sqrt q) + w(sqrt q)``, ``w`` the wait's bound
    (``queueing.wait_quantile_bound``), as ``P(X + W <= x + w) >= P(X <= x) P(W <= w)``.
    """
    n = state.service.nodes_per_class
    nodes = np.sort(state.offset_nodes_ms.reshape(len(state.stable), -1, n), axis=2)

    def class_quantiles(p):
        position = min(max(p * n - 0.5, 0.0), n - 1.0)
        k = int(np.floor(position))
        upper = nodes[..., min(k + 1, n - 1)]
        return nodes[..., k] + (position - k) * (upper - nodes[..., k])

    root = np.sqrt(q)
    wait = wait_quantile_bound(root, {k: v[:, 0] for k, v in state.law.items()})
    return class_quantiles(q).min(axis=1), class_quantiles(root).max(axis=1) + wait


def tpot_quantile_bounds(state: FleetState, q: float) -> tuple[np.ndarray, np.ndarray]:
    """Trial bounds on each configuration's TPOT q-quantile [ms]: the floor ``t_d`` plus
    the smallest and largest of the output nodes' gamma quantiles
    (``queueing.gamma_quantile``; a mixture's quantile lies between its parts'), each
    moved out by the search's tolerance (``QUANTILE_TOLERANCE``) for rounding."""
    floor = state.tpot_floor_ms
    excess = np.broadcast_to(
        (state.tpot_mean_ms - floor)[:, None], state.tpot_excess_variance.shape
    )
    per_node = gamma_quantile(q, excess, state.tpot_excess_variance)
    low = per_node.min(axis=1, initial=np.inf) * (1 - QUANTILE_TOLERANCE)
    high = per_node.max(axis=1, initial=0.0) * (1 + QUANTILE_TOLERANCE)
    return floor + np.where(np.isfinite(low), low, 0.0), floor + high


def _quantiles(cdf, state: FleetState, low, high, quantiles, inner=None):
    found = mixture_quantiles(cdf, low, high, quantiles, inner)
    return np.where(state.stable[:, None], found, np.inf)


def latency_quantiles(state: FleetState, quantiles=QUANTILES) -> dict[str, np.ndarray]:
    """``ttft_p50_ms``, ``tpot_p90_ms``, ... of each configuration (inf where unstable)."""
    stable = state.stable
    low = np.where(stable, state.offset_low_ms.min(axis=1), 0.0)
    high = np.where(stable, state.offset_high_ms.max(axis=1) + 60 * state.slowest_wait_ms, 1.0)
    ttft = _quantiles(
        lambda t, rows: ttft_cdf(state, t, rows),
        state,
        low,
        high,
        quantiles,
        lambda q: ttft_quantile_bounds(state, q),
    )
    sd = np.sqrt(state.tpot_excess_variance.max(axis=1, initial=0.0))
    mean = np.where(stable, state.tpot_mean_ms, 0.0)
    tpot = _quantiles(
        lambda t, rows: tpot_cdf(state, t, rows),
        state,
        np.where(stable, state.tpot_floor_ms, 0.0),
        np.where(stable, mean * 4 + 60 * sd + 1e-9, 1.0),
        quantiles,
        lambda q: tpot_quantile_bounds(state, q),
    )
    out = {}
    for i, q in enumerate(quantiles):
        out[f"ttft_p{100 * q:g}_ms"] = ttft[:, i]
    for i, q in enumerate(quantiles):
        out[f"tpot_p{100 * q:g}_ms"] = tpot[:, i]
    return out


def latency_table(
    service: ServiceTimes,
    arrival_rate,
    replicas=1,
    prefill_instances=1,
    overhead_ms=0.0,
    quantiles=QUANTILES,
) -> pd.DataFrame:
    """Each configuration at ``arrival_rate``: its queues and TTFT/TPOT quantiles [ms].

    Columns: the configuration, ``arrival_rate`` [1/s], ``replicas``,
    ``prefill_instances``, ``utilization`` (of the busiest prefill queue or share of
    replica time spent prefilling) [0-1], ``wait_probability`` [0-1], ``mean_wait_ms``,
    ``mean_ttft_ms``, ``ttft_p50_ms`` ..., ``tpot_mean_ms``, ``tpot_p50_ms`` ...,
    ``slot_overflow_probability`` [0-1], ``fits``, ``stable``.
    """
    state = fleet_state(service, arrival_rate, replicas, prefill_instances, overhead_ms)
    table = service.configs.copy()
    table["arrival_rate"] = np.asarray(arrival_rate, float) * np.ones(len(table))
    table["replicas"] = np.asarray(replicas) * np.ones(len(table), np.int64)
    table["prefill_instances"] = np.where(
        service.disaggregated, np.asarray(prefill_instances) * np.ones(len(table), np.int64), 0
    )
    table["utilization"] = state.utilization
    table["wait_probability"] = state.law["wait_probability"][:, 0]
    table["mean_wait_ms"] = state.mean_wait_ms
    table["mean_ttft_ms"] = state.mean_ttft_ms
    for name, values in latency_quantiles(state, quantiles).items():
        table[name] = values
    table["tpot_mean_ms"] = state.tpot_mean_ms
    table["slot_overflow_probability"] = state.slot_overflow_probability
    table["fits"] = service.fits
    table["stable"] = state.stable
    return table


def admission_wait_steps(
    requests_per_step, poll_steps=1, window_steps=0, window_requests=1
) -> np.ndarray:
    """Mean decode steps a new request waits before the scheduler prefills it, beyond the
    half step under way (arrays broadcast) [steps].

    Two scheduler settings delay the admission of a prompt while a batch decodes:

    - **polling** every ``poll_steps`` N steps (SGLang's ``--scheduler-recv-interval``,
      default 1: the scheduler reads new requests once per N decode steps): a request
      arriving at a uniform time waits N/2 steps for the next read, ``(N - 1) / 2``
      beyond the half step the model already counts;
    - a **batching window** (TensorRT-LLM's ``batch_wait_timeout_iters`` with
      ``batch_wait_max_tokens_ratio``, and its attention-DP balance ``timeout_iters``,
      which holds prompts until every DP rank has one): the first prompt opens a window
      that closes after ``window_steps`` T steps or once ``window_requests`` n prompts
      have come, whichever is first. At r = ``requests_per_step`` arrivals per step
      (taken as evenly spaced), the window lasts ``L = min(T, (n - 1) / r)``, holds
      ``1 + r L`` prompts that wait ``L`` (the first) down to 0 (the last), so the mean
      wait is ``(L + r L^2 / 2) / (1 + r L)``.

    Example: N = 10 -> 4.5 steps; T = 60, n = 8, r = 0.05 per step: L = min(60, 140) =
    60, wait = (60 + 0.05 x 3600 / 2) / (1 + 3) = 150 / 4 = 37.5 steps.
    """
    r = np.maximum(np.asarray(requests_per_step, float), 0.0)
    n = np.asarray(window_requests, float)
    T = np.asarray(window_steps, float)
    if np.any(np.asarray(poll_steps) < 1) or np.any(n < 1) or np.any(T < 0):
        raise ValueError(
            "poll_steps and window_requests must be >= 1 and window_steps >= 0; got "
            f"{poll_steps!r}, {window_requests!r}, {window_steps!r}"
        )
    to_fill = (n - 1) / np.maximum(r, 1e-12)  # steps for n - 1 more arrivals
    L = np.where(n > 1, np.minimum(T, to_fill), 0.0)
    window = (L + r * L**2 / 2) / (1 + r * L)
    return (np.asarray(poll_steps, float) - 1) / 2 + window


#: Bisection steps of :func:`closed_loop`'s fixed point.
FIXED_POINT_STEPS = 80


def closed_loop(
    service: ServiceTimes,
    concurrency,
    *,
    replicas=1,
    prefill_instances=1,
    overhead_ms=0.0,
    burst_share=0.0,
    poll_steps=1,
    window_steps=0,
    window_requests=1,
    quantiles=QUANTILES,
) -> pd.DataFrame:
    """Each configuration under a closed loop of ``concurrency`` users (no think time).

    A benchmark such as InferenceX keeps ``concurrency`` requests in flight: each user
    sends the next request when the last one ends, so the arrival rate is what the
    system lets through. By Little's law, with ``a = min(concurrency / replicas,
    batch_size)`` requests admitted per decode replica (the configuration's batch_size is
    its cap), ``lambda (E[TTFT](lambda) + E[O] E[TPOT](lambda)) = replicas a``; the
    left side rises with lambda, so bisection finds it. The other ``concurrency -
    replicas a`` users wait for a slot, ``(concurrency - replicas a) / lambda`` each
    (Little again), added to the TTFT. The queues are then taken as if the arrivals at
    that rate were Poisson (a closed loop is smoother: the model reads high).

    **Admission** (aggregated rows): ``poll_steps``, ``window_steps`` and
    ``window_requests`` (per configuration) are the scheduler's settings of
    :func:`admission_wait_steps`; the mean wait, in decode steps (``decode_step_ms``) at
    the replica's arrival rate, adds to every TTFT of the row.

    **The burst at start** (``burst_share`` b [0-1]): a benchmark run starts with every
    user's first request at t = 0, so a share b of the requests measured (1 / the
    requests each user sends) arrive together. The n prompts of one queue (``a`` per
    aggregated replica; all ``replicas a`` on a disaggregated pool of c =
    ``prefill_instances``) are served one after another: the k-th waits ``(k - 1) E[S]
    / c``, so the burst's TTFT is uniform on ``[m, m + (n - 1) E[S] / c]``, m the mean
    time after the wait. The TTFT's law is the mixture ``(1 - b) F_steady + b
    F_burst``. Returns :func:`latency_table`'s columns with ``arrival_rate`` the fixed
    point and ``slot_wait_ms``.
    """
    n = len(service.fits)
    users = np.asarray(concurrency, float) * np.ones(n)
    R = np.asarray(replicas, float) * np.ones(n)
    K = np.asarray(prefill_instances, np.int64) * np.ones(n, np.int64)
    if not 0 <= burst_share < 1:
        raise ValueError(f"burst_share must be in [0, 1); got {burst_share!r}")
    admitted = R * np.minimum(users / R, service.batch_cap)
    split = service.disaggregated
    # The largest stable rate: every prefill queue below utilisation 1.
    mean_s, mean_wp = service.queue_moments[0], service.work_moments[0]
    per_server = MS_PER_S / np.where(split, mean_s, np.maximum(mean_s, mean_wp))
    low, high = np.zeros(n), np.where(split, K, R) * per_server
    step_ms = service.decode_step_ms

    def overhead(rate):
        per_step = rate / R * step_ms / MS_PER_S
        waits = admission_wait_steps(per_step, poll_steps, window_steps, window_requests)
        return overhead_ms + np.where(split, 0.0, waits * step_ms)[:, None]

    for _ in range(FIXED_POINT_STEPS):
        mid = 0.5 * (low + high)
        state = fleet_state(service, mid, R, K, overhead(mid))
        cycle_ms = state.mean_ttft_ms + service.mean_output_tokens * state.tpot_mean_ms
        inside = mid * cycle_ms / MS_PER_S
        short = state.stable & (inside < admitted)
        low, high = np.where(short, mid, low), np.where(short, high, mid)
    rate = low
    table = latency_table(service, rate, R, K, overhead(rate), quantiles)
    slot_wait = np.where(rate > 0, (users - admitted) / np.where(rate > 0, rate, 1) * MS_PER_S, 0)
    state = fleet_state(service, rate, R, K, overhead(rate))
    start = state.mean_ttft_ms - state.mean_wait_ms
    in_burst = np.where(split, admitted, admitted / R)
    end = start + np.maximum(in_burst - 1, 0) * mean_s / np.where(split, K, 1)

    def cdf(t, rows):
        width = np.maximum(end[rows] - start[rows], 1e-9)
        burst = np.clip((t - start[rows]) / width, 0.0, 1.0)
        share = np.broadcast_to(burst_share, start.shape)[rows]
        return (1 - share) * ttft_cdf(state, t - slot_wait[rows], rows) + share * burst

    stable = state.stable
    low_t = np.where(stable, np.minimum(state.offset_low_ms.min(axis=1), start), 0.0)
    high_t = state.offset_high_ms.max(axis=1) + 60 * state.slowest_wait_ms + slot_wait
    high_t = np.where(stable, np.maximum(high_t, end), 1.0)
    found = _quantiles(cdf, state, low_t, high_t, quantiles)
    for i, q in enumerate(quantiles):
        table[f"ttft_p{100 * q:g}_ms"] = found[:, i]
    steady_mean = table["mean_ttft_ms"] + slot_wait
    table["mean_ttft_ms"] = (1 - burst_share) * steady_mean + burst_share * (start + end) / 2
    table["slot_wait_ms"] = slot_wait
    table["concurrency"] = users
    return table
