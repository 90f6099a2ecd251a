"""The queueing model's TTFT quantiles against a discrete-event simulation of the same system.

Run: ``python benchmarks/bench_queueing.py``. ``planning.simulation.check_against_simulation``
for every workload of ``assets/workloads.csv`` but MLPerf's (lognormal shapes like
``rag``'s): Llama 3.1 70B on 4x H100 (FP8), one aggregated replica (an M/G/1 prefill
queue) and a disaggregated pool of four prefill instances (M/G/4), at 10 % to 90 % of
the queue's capacity; Poisson arrivals, the model's own service times, 10 streams of
20,000 requests per point. Prints the error of the model's p90 TTFT per load and the
largest |error| of p50, p90 and p99 [%].
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from costmodel.planning import catalog_workloads  # noqa: E402
from costmodel.planning.simulation import check_against_simulation  # noqa: E402


def main() -> None:
    table = pd.concat(
        [
            check_against_simulation(workload)
            for name, workload in catalog_workloads().items()
            if not name.startswith("mlperf")
        ],
        ignore_index=True,
    )
    with pd.option_context("display.float_format", "{:+.1f}".format, "display.width", 120):
        p90 = table[table["quantile"] == 0.9]
        print(p90.pivot_table(index=["workload", "queue"], columns="load", values="error_pct"))
        print()
        print("largest |error| over loads 0.1-0.9 [%]")
        worst = table.assign(error_pct=table["error_pct"].abs())
        print(
            worst.pivot_table(
                index=["workload", "queue"], columns="quantile", values="error_pct", aggfunc="max"
            )
        )


if __name__ == "__main__":
    main()
