"""The queueing model's TTFT quantiles against a discrete-event simulation of the same system.

Run: ``python benchmarks/bench_queueing.py``. Llama 3.1 70B on 4x H100 (FP8): one
aggregated replica (an M/G/1 prefill queue) and a disaggregated pool of four prefill
instances (M/G/4), each workload of ``assets/workloads.csv`` at 10 % to 90 % of the
queue's capacity; Poisson arrivals, the model's own service times
(``costmodel.planning.simulation``), 10 streams of 20,000 requests per point. Prints the
error of the model's p50, p90 and p99 TTFT against the simulation's [%].
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import costmodel  # noqa: E402
from costmodel.planning import catalog_workloads  # noqa: E402
from costmodel.planning.latency import latency_table, service_times  # noqa: E402
from costmodel.planning.simulation import simulate_ttft_ms  # noqa: E402

SCENARIO = costmodel.Scenario(
    model="llama-3.1-70b", gpu="h100-sxm", n_gpus=4, weight_format="fp8", kv_format="fp8"
)
CONFIGS = pd.DataFrame(
    {
        "gpu": ["h100-sxm"] * 2,
        "n_gpus": [4, 4],
        "expert_parallel": [False, False],
        "batch_size": [64, 64],
        "disaggregated": [False, True],
        "prefill_gpus": [4, 4],
    }
)
SERVERS = (1, 4)
LOADS = np.round(np.arange(0.1, 0.91, 0.1), 1)
QUANTILES = (0.5, 0.9, 0.99)


def main() -> None:
    rows = []
    for name, workload in catalog_workloads().items():
        if name.startswith("mlperf"):
            continue
        service = service_times(SCENARIO, workload, CONFIGS)
        for i, servers in enumerate(SERVERS):
            queue = service.take(np.full(len(LOADS), i))
            rates = LOADS / latency_table(queue, 1.0, prefill_instances=servers)["utilization"][0]
            model = latency_table(queue, rates, prefill_instances=servers)
            simulated = simulate_ttft_ms(queue, rates, prefill_instances=servers, seed=i)
            for j, load in enumerate(LOADS):
                row = {"workload": name, "queue": f"M/G/{servers}", "load": load}
                for q in QUANTILES:
                    key = f"ttft_p{100 * q:g}_ms"
                    sim = np.quantile(simulated[j], q)
                    row[f"p{100 * q:g}_error_pct"] = 100 * (model[key][j] / sim - 1)
                rows.append(row)
    table = pd.DataFrame(rows)
    with pd.option_context("display.float_format", "{:+.1f}".format, "display.width", 120):
        print(
            table.pivot_table(
                index=["workload", "queue"], columns="load", values="p90_error_pct"
            ).to_string()
        )
        print()
        worst = table.groupby(["workload", "queue"])[
            [f"p{100 * q:g}_error_pct" for q in QUANTILES]
        ].agg(lambda e: e.abs().max())
        print("largest |error| over loads 0.1-0.9 [%]")
        print(worst.to_string())


if __name__ == "__main__":
    main()
