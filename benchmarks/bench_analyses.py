"""Seconds per page analysis, as a page reruns it on a new sidebar value.

Run: ``python benchmarks/bench_analyses.py``. Times each ``costmodel.analyses.<q>.run``
at default options, ``claims.check_all`` and ``sensitivity.tornado``/``headline_range``
(what the pages call, ``app_pages/ui/cache.py``), on the shipped catalog (loaded once
before timing, as the app's ``cache_resource`` does). ``default``: the default scenario;
``new batch``: the scenario with another ``batch_size`` each time, so no cache inside the
library holds the answer (a page's ``st.cache_data`` misses on a new input). Best of
``REPEATS`` (``new batch CPU``: the same runs' CPU time); the frontier's sweep cache is
cleared before each run. The load
average is printed before and after: on a shared machine compare runs made at a similar
load.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import costmodel  # noqa: E402
from costmodel import analyses, claims, sensitivity  # noqa: E402

REPEATS = 3
#: A new batch size for each repetition of the ``new batch`` column [sequences].
NEW_BATCHES = (64, 48, 96)
COST = "usd_per_million_output_tokens"
QUESTIONS = (
    "buy_or_rent",
    "disclosures",
    "fleet_sizing",
    "frontier",
    "gpu_comparison",
    "memory_fit",
    "moe_scaling",
    "price_war",
    "speculative",
    "timeline",
)


def calls() -> dict:
    """Name -> ``f(scenario)``, the call a page makes on a rerun."""
    catalog = costmodel.load_catalog()
    found = {name: _analysis_call(getattr(analyses, name), catalog) for name in QUESTIONS}
    found["claims.check_all"] = lambda s: claims.check_all(s, catalog)
    found["sensitivity.tornado"] = lambda s: sensitivity.tornado(s, 20.0, COST, catalog=catalog)
    found["sensitivity.headline_range"] = lambda s: sensitivity.headline_range(s, COST, catalog)
    return found


def _analysis_call(module, catalog):
    """``f(scenario)`` running ``module``'s analysis at its default options."""
    return lambda scenario: module.run(scenario, module.Options(), catalog)


def best_time(call, scenarios) -> tuple[float, float]:
    """Shortest wall time and shortest CPU time [s] of ``call`` over ``scenarios`` (CPU
    time is this process's: on a shared machine it moves less with the load)."""
    wall = cpu = float("inf")
    for scenario in scenarios:
        analyses.frontier._default_catalog_sweep.cache_clear()
        start, start_cpu = time.perf_counter(), time.process_time()
        call(scenario)
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return wall, cpu


def main() -> None:
    base = costmodel.Scenario()
    new = [base.replace(batch_size=b) for b in NEW_BATCHES]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average before: {load} ({os.cpu_count()} CPUs)")
    print(f"{'analysis':<30}{'default [s]':>12}{'new batch [s]':>15}{'new batch CPU [s]':>19}")
    total = [0.0, 0.0, 0.0]
    for name, call in calls().items():
        times = (best_time(call, [base] * REPEATS)[0], *best_time(call, new))
        total = [t + x for t, x in zip(total, times, strict=True)]
        print(f"{name:<30}{times[0]:>12.3f}{times[1]:>15.3f}{times[2]:>19.3f}")
    print(f"{'total':<30}{total[0]:>12.3f}{total[1]:>15.3f}{total[2]:>19.3f}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
