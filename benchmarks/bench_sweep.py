"""Scenarios per second of ``costmodel.sweep`` on grids of 10^3 to 10^6 points.

Run: ``python benchmarks/bench_sweep.py`` (one process; numpy on one core by default
here). Each grid crosses GPUs, batch sizes, prices and prompt lengths; the time includes
validating the axes, every formula and building the returned DataFrame. Prints a table,
with the figure before the physics were computed once per physical row where one was
recorded (``BEFORE``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import costmodel  # noqa: E402

#: Grid sizes to time, and repetitions of each (the best is reported).
SIZES = (1_000, 10_000, 100_000, 1_000_000)
REPEATS = 3

#: Scenarios/s measured before the evaluation stages (README, uniform 10^6 grid: 0.32 s).
BEFORE = {("uniform routing", 1_000_000): 3.1e6}


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


def time_sweep(n_points: int, **extra) -> tuple[int, float]:
    """Rows returned and best wall time [s] of one sweep of about ``n_points`` points."""
    base = costmodel.Scenario(**extra)
    axes = axes_for(n_points)
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        frame = costmodel.sweep(base, **axes)
        best = min(best, time.perf_counter() - start)
    return len(frame), best


def main() -> None:
    costmodel.load_catalog()
    print(f"{'case':<26}{'points':>10}{'seconds':>10}{'scenarios/s':>14}{'before':>12}{'x':>6}")
    for label, extra in (
        ("uniform routing", {}),
        ("skewed routing + spec.", {"routing_skew": 1.0, "speculative": True}),
    ):
        for size in SIZES:
            rows, seconds = time_sweep(size, **extra)
            rate = rows / seconds
            before = BEFORE.get((label, size))
            old = f"{before:>12,.0f}{rate / before:>6.1f}" if before else f"{'':>18}"
            print(f"{label:<26}{rows:>10,}{seconds:>10.3f}{rate:>14,.0f}{old}")


if __name__ == "__main__":
    main()
