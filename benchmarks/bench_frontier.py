"""Time of ``costmodel.frontier`` for DeepSeek-R1 on B200 over 10^3 to 4 x 10^4 setups.

Run: ``python benchmarks/bench_frontier.py``. Each case sweeps batch sizes (geometric,
1 to 4,096) x GPUs per replica (1, 2, 4, 8: one 8x B200 node) x TP/EP x aggregated /
disaggregated (prefill pools of 1, 2, 4 or 8 GPUs): candidates are built, the invalid
ones left out, the rest evaluated in one ``scan``, filtered (fits, finite TTFT) and
reduced to the Pareto front. A last case uses the default axes (``economics.batch_grid``,
GPU counts up to 72, prefill pools of the same counts). Prints candidates, front
points, the best of ``REPEATS`` wall times and candidates per second.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import costmodel  # noqa: E402
from costmodel.frontier import candidates  # noqa: E402

#: Batch sizes per case (geometric from 1 to 4,096, rounded, distinct); repetitions.
BATCH_COUNTS = (32, 320, 1280)
REPEATS = 3
SCENARIO = costmodel.Scenario(
    model="deepseek-r1", gpu="b200", weight_format=None, prompt_tokens=1024, output_tokens=1024
)


def batches(count: int) -> list[int]:
    """About ``count`` distinct batch sizes from 1 to 4,096, geometrically spaced."""
    return sorted({int(b) for b in np.round(np.geomspace(1, 4096, count))})


def time_frontier(count: int | None) -> tuple[int, int, float]:
    """Candidates, front points and the best wall time [s] of one frontier (None: defaults)."""
    axes = (
        {"batch_size": batches(count), "n_gpus": [1, 2, 4, 8], "prefill_gpus": [1, 2, 4, 8]}
        if count
        else {}
    )
    n = len(candidates(SCENARIO, **axes)["batch_size"])
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        front = costmodel.frontier(SCENARIO, **axes)
        best = min(best, time.perf_counter() - start)
    return n, len(front), best


def main() -> None:
    costmodel.load_catalog()
    print(f"{'candidates':>11}{'front':>7}{'seconds':>10}{'candidates/s':>14}")
    for count in (*BATCH_COUNTS, None):
        n, points, seconds = time_frontier(count)
        note = "  (default axes, up to 72 GPUs)" if count is None else ""
        print(f"{n:>11,}{points:>7}{seconds:>10.3f}{n / seconds:>14,.0f}{note}")


if __name__ == "__main__":
    main()
