"""Scenarios per second of ``costmodel.sweep``: physical grids, price grids, a peer.

Run: ``python benchmarks/bench_sweep.py`` (one process; numpy on one core by default
here). Two tables, each figure the best of ``REPEATS`` in CPU time of this process
(``time.process_time``: on a shared machine, other processes' load does not count),
including validating the axes, every formula and building the returned DataFrame; the
load average is printed:

1. **Physical grid** (the headline): ``PHYSICAL_AXES``, 524,288 scenarios that all
   differ in their physics (batch 1-1024 x 8 prompt lengths x 4 GPUs x 4 weight formats
   x 4 GPU counts, no price or utilisation axis), at uniform routing and with skewed
   routing and speculation, and the same rows zipped (``scan``: each row on its own, none
   of the grid's structure reused; a sweep computes each quantity once per combination
   of the axes it depends on); beside it, the same rate against **llm-analysis 0.2.2** (the
   peer: one Python call per scenario, ``infer``) timed in the same run, the same way
   (CPU time, best of ``REPEATS`` passes) on ``PEER_SAMPLE`` random points of a grid of
   the same shape, when it is installed (the benchmark extra, ``pip install -r
   requirements-bench.txt``; not a runtime dependency). The peer refuses the points
   whose model does not fit (an ``AssertionError``, fast); they count as scenarios at
   the time they took, which flatters the peer, so the ratio is a lower bound; its rate
   on the points it evaluates is printed too.
2. **Grids with a price axis**: 10^3 to 10^6 points crossing GPUs, batch sizes, 8 prices
   and prompt lengths. The physics runs once per physical row (1/8 of the rows), so
   these rates count rows the physics never sees: they are reported beside the physical
   rate, never instead of it.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import costmodel  # noqa: E402

#: Repetitions of each grid (the best is reported).
REPEATS = 3
#: Grid sizes of the price grids.
SIZES = (1_000, 10_000, 100_000, 1_000_000)
#: The physical grid (issue 19): 1024 x 8 x 4 x 4 x 4 = 524,288 scenarios of the default
#: model (Mixtral 8x7B: its tensor-parallel sizes are 1, 2, 4 and 8 GPUs).
PHYSICAL_AXES = {
    "gpu": ["h100-sxm", "a100-80gb-sxm", "h200-sxm", "mi300x"],
    "weight_format": ["bf16", "fp8", "int8", "int4"],
    "n_gpus": [1, 2, 4, 8],
    "prompt_tokens": [128, 256, 512, 1024, 2048, 4096, 8192, 16384],
    "batch_size": list(range(1, 1025)),
}
#: The peer's grid of the same shape: its own GPU, dtype and model names (llm-analysis
#: 0.2.2 has no MoE model; Llama 2 70B, its context raised to the longest prompt here).
PEER_AXES = {
    "gpu_name": ["h100-sxm-80gb", "a100-sxm-80gb", "h100-pcie-80gb", "a100-pcie-80gb"],
    "dtype_name": ["w16a16e16", "w8a8e16", "w8a16e16", "w4a16e16"],
    "tp_size": [1, 2, 4, 8],
    "seq_len": PHYSICAL_AXES["prompt_tokens"],
    "batch_size_per_gpu": PHYSICAL_AXES["batch_size"],
}
PEER_MODEL = "upstage_Llama-2-70b-instruct-v2"
#: Peer calls timed (random points of ``PEER_AXES``, fixed seed): at a few thousand
#: scenarios per second a sample says its rate; the whole grid would take minutes.
PEER_SAMPLE = 400
#: Figure before the physics were computed once per physical row (README, uniform 10^6).
BEFORE = {("uniform routing", 1_000_000): 3.1e6}
CASES = (
    ("uniform routing", {}),
    ("skewed routing + spec.", {"routing_skew": 1.0, "speculative": True}),
)


def axes_for(n_points: int) -> dict:
    """Axes whose Cartesian product has ``n_points`` points (n_points divisible by 1000)."""
    gpus = ["h100-sxm", "a100-80gb-sxm", "h200-sxm", "mi300x", "l40s"]
    prices = [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5]
    prompts = [128, 256, 512, 1024, 2048]
    batches = list(range(1, n_points // (len(gpus) * len(prices) * len(prompts)) + 1))
    return {
        "gpu": gpus,
        "usd_per_gpu_hour": prices,
        "prompt_tokens": prompts,
        "batch_size": batches,
    }


def time_sweep(axes: dict, **extra) -> tuple[int, float]:
    """Rows returned and best CPU time [s] of ``sweep(Scenario(**extra), **axes)``."""
    base = costmodel.Scenario(**extra)
    best = float("inf")
    for _ in range(REPEATS):
        start = time.process_time()
        frame = costmodel.sweep(base, **axes)
        best = min(best, time.process_time() - start)
    return len(frame), best


def time_scan(axes: dict) -> tuple[int, float]:
    """Rows and best CPU time [s] of ``scan`` over the rows of the grid of ``axes``,
    zipped: the same scenarios with no product structure to reuse, one by one."""
    rows = list(itertools.product(*axes.values()))
    columns = {name: [row[i] for row in rows] for i, name in enumerate(axes)}
    best = float("inf")
    for _ in range(REPEATS):
        start = time.process_time()
        frame = costmodel.scan(costmodel.Scenario(), **columns)
        best = min(best, time.process_time() - start)
    return len(frame), best


def peer_rates() -> tuple[float, float, int] | None:
    """llm-analysis 0.2.2 on ``PEER_SAMPLE`` points of ``PEER_AXES``, best CPU time of
    ``REPEATS`` passes: calls per second (a refused point counts), scenarios evaluated
    per second (the time of the calls that answered), and how many it refused; None if
    it is not installed."""
    try:
        from llm_analysis import analysis, config
    except ImportError:
        return None
    logging.disable(logging.WARNING)
    model = config.get_model_config_by_name(PEER_MODEL)
    name = f"{PEER_MODEL}-long"  # the same model, its context covering every prompt here
    config.model_configs[name] = dataclasses.replace(
        model, name=name, max_seq_len=max(PEER_AXES["seq_len"]) + 1
    )
    rng = random.Random(0)
    points = [{k: rng.choice(v) for k, v in PEER_AXES.items()} for _ in range(PEER_SAMPLE)]
    best_all = best_answered = float("inf")
    for _ in range(REPEATS):
        answered_s, refused = 0.0, 0
        start = time.process_time()
        for point in points:
            call_start = time.process_time()
            try:
                analysis.infer(name, num_tokens_to_generate=256, log_level="ERROR", **point)
                answered_s += time.process_time() - call_start
            except (AssertionError, ValueError):  # a point it refuses (does not fit)
                refused += 1
        best_all = min(best_all, time.process_time() - start)
        best_answered = min(best_answered, answered_s)
    return PEER_SAMPLE / best_all, (PEER_SAMPLE - refused) / best_answered, refused


def main() -> None:
    costmodel.load_catalog()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average before: {load} ({os.cpu_count()} CPUs); CPU time of this process")
    rates = peer_rates()
    peer = rates[0] if rates else None
    size = 1
    for values in PHYSICAL_AXES.values():
        size *= len(values)
    print(f"Physical grid: {size:,} scenarios, no price axis")
    print(f"{'case':<26}{'seconds':>10}{'scenarios/s':>14}{'x llm-analysis':>16}")
    for label, extra in CASES:
        rows, seconds = time_sweep(PHYSICAL_AXES, **extra)
        ratio = f"{rows / seconds / peer:>16,.0f}" if peer else f"{'—':>16}"
        print(f"{label:<26}{seconds:>10.3f}{rows / seconds:>14,.0f}{ratio}")
    rows, seconds = time_scan(PHYSICAL_AXES)
    ratio = f"{rows / seconds / peer:>16,.0f}" if peer else f"{'—':>16}"
    print(f"{'uniform, zipped (scan)':<26}{seconds:>10.3f}{rows / seconds:>14,.0f}{ratio}")
    if rates:
        print(
            f"llm-analysis 0.2.2: {peer:,.0f} calls/s ({PEER_SAMPLE} calls, {PEER_MODEL}; "
            f"{rates[2]} refused as not fitting); {rates[1]:,.0f} scenarios/s on the "
            f"{PEER_SAMPLE - rates[2]} it evaluated"
        )
    else:
        print("llm-analysis not installed: pip install -r requirements-bench.txt")
    print("\nGrids with a price axis (8 prices: the physics runs on 1/8 of the rows)")
    print(f"{'case':<26}{'points':>10}{'seconds':>10}{'scenarios/s':>14}{'before':>12}{'x':>6}")
    for label, extra in CASES:
        for n_points in SIZES:
            rows, seconds = time_sweep(axes_for(n_points), **extra)
            rate = rows / seconds
            before = BEFORE.get((label, n_points))
            old = f"{before:>12,.0f}{rate / before:>6.1f}" if before else f"{'':>18}"
            print(f"{label:<26}{rows:>10,}{seconds:>10.3f}{rate:>14,.0f}{old}")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average after: {load}")


if __name__ == "__main__":
    main()
