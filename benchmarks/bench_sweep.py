"""Scenarios per second of ``costmodel.sweep``: physical grids, price grids, a peer.

Run: ``python benchmarks/bench_sweep.py`` (one process; numpy on one core by default
here). Three tables, each figure the best of ``REPEATS`` and the time including
validating the axes, every formula and building the returned DataFrame:

1. **Physical grid** (the headline): ``PHYSICAL_AXES``, 524,288 scenarios that all
   differ in their physics (batch 1-1024 x 8 prompt lengths x 4 GPUs x 4 weight formats
   x 4 GPU counts, no price or utilisation axis), at uniform routing and with skewed
   routing and speculation; beside it, the same rate against **llm-analysis 0.2.2** (the
   peer: one Python call per scenario, ``infer``) timed in the same run on
   ``PEER_SAMPLE`` points of the same grid shape, when it is installed (the benchmark
   extra, ``pip install -r requirements-bench.txt``; not a runtime dependency).
2. **Grids with a price axis**: 10^3 to 10^6 points crossing GPUs, batch sizes, 8 prices
   and prompt lengths. The physics runs once per physical row (1/8 of the rows), so
   these rates count rows the physics never sees: they are reported beside the physical
   rate, never instead of it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
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
    """Rows returned and best wall time [s] of ``sweep(Scenario(**extra), **axes)``."""
    base = costmodel.Scenario(**extra)
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        frame = costmodel.sweep(base, **axes)
        best = min(best, time.perf_counter() - start)
    return len(frame), best


def peer_rate() -> float | None:
    """llm-analysis 0.2.2's scenarios per second on ``PEER_SAMPLE`` points of
    ``PEER_AXES`` (a call that refuses its point counts too); None if not installed."""
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
    start = time.perf_counter()
    for point in points:
        with contextlib.suppress(AssertionError, ValueError):  # a point it refuses
            analysis.infer(name, num_tokens_to_generate=256, log_level="ERROR", **point)
    return PEER_SAMPLE / (time.perf_counter() - start)


def main() -> None:
    costmodel.load_catalog()
    peer = peer_rate()
    size = 1
    for values in PHYSICAL_AXES.values():
        size *= len(values)
    print(f"Physical grid: {size:,} scenarios, no price axis")
    print(f"{'case':<26}{'seconds':>10}{'scenarios/s':>14}{'x llm-analysis':>16}")
    for label, extra in CASES:
        rows, seconds = time_sweep(PHYSICAL_AXES, **extra)
        ratio = f"{rows / seconds / peer:>16,.0f}" if peer else f"{'—':>16}"
        print(f"{label:<26}{seconds:>10.3f}{rows / seconds:>14,.0f}{ratio}")
    if peer:
        print(f"llm-analysis 0.2.2: {peer:,.0f} scenarios/s ({PEER_SAMPLE} calls, {PEER_MODEL})")
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


if __name__ == "__main__":
    main()
