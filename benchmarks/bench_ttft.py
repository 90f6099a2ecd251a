"""The queueing model's TTFT against InferenceX's measured DeepSeek-R1 runs.

Run: ``python benchmarks/bench_ttft.py [--all] [--rows FILE]``. Each row of InferenceX's
public file ``dsr1-public.csv`` (the app's copy, ``calibration.inferencex.INFERENCEX_FILE``;
its ``latest`` runs, ``--all``: earlier runs too), read by
``calibration.inferencex.read_inferencex`` (the library's one mapping of a row to a
Scenario and a system), is a closed loop of
``conc`` requests in flight on InferenceX's 1k/1k, 8k/1k or 1k/8k random workload
(``assets/workloads.csv``): its median TTFT is predicted by
``costmodel.planning.latency.closed_loop`` (the arrival rate that the loop lets
through, by Little's law, and the queues at that rate; the wait for a batch slot where
``conc`` exceeds what fits in memory; the burst of every user's first request at t = 0,
one in ``PROMPTS_PER_USER`` of the requests measured; the launch scripts' admission
settings, ``inferencex.scheduler_settings``; the serving path outside the GPU steps,
``assets/serving_path.csv``; on disaggregated rows the decode server's hand-off,
``latency.DECODE_HANDOFF_STEPS``, and the prefill instances' batched passes at load,
``latency.batched_pass_wait_ms``). Prints, per GPU and aggregated/disaggregated, the
rows compared, the median |error| and the median signed error of the median TTFT (and
of the p99 for information), and the rows left out (a configuration that does not fit
the model's memory). ``--rows``: every row's measured and predicted TTFT as a CSV.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import costmodel  # noqa: E402
from costmodel.calibration.inferencex import (  # noqa: E402
    INFERENCEX_FILE,
    PROMPTS_PER_USER,
    read_inferencex,
)
from costmodel.calibration.predict import stack_as_of  # noqa: E402
from costmodel.planning import get_workload  # noqa: E402
from costmodel.planning.latency import closed_loop, service_times  # noqa: E402

#: Scenario fields shared by the rows of one ``service_times`` call (the rest of a row,
#: its GPUs and parallelism, is a configuration of that call).
SCENARIO_KEYS = (
    "model",
    "weight_format",
    "attention_format",
    "kv_format",
    "serving_stack",
    "serving_stack_as_of",
    "speculative",
    "mtp",
    "draft_tokens",
    "acceptance_at_t0",
    "acceptance_at_t1",
    "acceptance_decay",
)


#: The launch scripts' admission settings, per row (``closed_loop``'s arguments).
ADMISSION = ("poll_steps", "window_steps", "window_requests")


def predict(table: pd.DataFrame, catalog) -> pd.DataFrame:
    """Predicted median and p99 TTFT [ms] of each row of the measurement ``table``
    (NaN where the setup does not fit the model's memory)."""
    rows = table.assign(
        serving_stack_as_of=stack_as_of(table["date"], catalog),
        replicas=table["decode_replicas"].clip(lower=1),
        prefill_instances=table["prefill_replicas"].clip(lower=1),
    )
    out = pd.DataFrame(index=rows.index, columns=["pred_ttft_ms", "pred_ttft_p99_ms"], dtype=float)
    for keys, group in rows.groupby([*SCENARIO_KEYS, "workload"], dropna=False):
        scenario = costmodel.Scenario(**dict(zip(SCENARIO_KEYS, keys[:-1], strict=True)))
        workload = get_workload(keys[-1])
        users = (group["concurrency"] / group["replicas"]).round().clip(lower=1).astype(int)
        configs = group[["gpu", "n_gpus", "expert_parallel", "disaggregated", "prefill_gpus"]]
        first = service_times(scenario, workload, configs.assign(batch_size=users), catalog)
        cap = np.minimum(users.to_numpy(), first.max_batch_size).astype(int)
        fits = cap >= 1
        if not fits.any():
            continue
        configs = configs.assign(batch_size=np.maximum(cap, 1))[fits]
        service = service_times(scenario, workload, configs, catalog)
        ok = service.fits
        loop = closed_loop(
            service,
            group["concurrency"].to_numpy()[fits],
            replicas=group["replicas"].to_numpy()[fits],
            prefill_instances=group["prefill_instances"].to_numpy()[fits],
            burst_share=1 / PROMPTS_PER_USER,
            **{k: group[k].to_numpy()[fits] for k in ADMISSION},
        )
        index = group.index[fits][ok]
        out.loc[index, "pred_ttft_ms"] = loop["ttft_p50_ms"].to_numpy()[ok]
        out.loc[index, "pred_ttft_p99_ms"] = loop["ttft_p99_ms"].to_numpy()[ok]
    return out


def compared(table: pd.DataFrame, predicted: pd.DataFrame) -> pd.DataFrame:
    """Each row's setup, measured and predicted TTFTs [ms] and errors [%]."""
    df = table[
        ["gpu", "serving_stack", "workload", "concurrency", "disaggregated", "weight_format"]
        + ["mtp", "ttft_ms", "ttft_p99_ms"]
    ].join(predicted)
    df["serving"] = np.where(df["disaggregated"].astype(bool), "disaggregated", "aggregated")
    df["err_median"] = 100 * (df["pred_ttft_ms"] / df["ttft_ms"] - 1)
    df["err_p99"] = 100 * (df["pred_ttft_p99_ms"] / df["ttft_p99_ms"] - 1)
    return df


def error_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per GPU and serving mode: rows, median |error| and median error [%]."""
    ok = df[np.isfinite(df["err_median"])]

    def summary(g):
        return pd.Series(
            {
                "rows": len(g),
                "median_abs_error_pct": g["err_median"].abs().median(),
                "median_error_pct": g["err_median"].median(),
                "p99_median_abs_error_pct": g["err_p99"].abs().median(),
            }
        )

    table = ok.groupby(["gpu", "serving"]).apply(summary, include_groups=False)
    table.loc[("all", "all"), :] = summary(ok)
    table["left_out"] = df.groupby(["gpu", "serving"]).size() - table["rows"]
    table.loc[("all", "all"), "left_out"] = len(df) - len(ok)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="earlier runs too, not only latest")
    parser.add_argument("--rows", type=Path, help="write every row's comparison to this CSV")
    args = parser.parse_args()
    catalog = costmodel.load_catalog()
    table = read_inferencex(INFERENCEX_FILE, latest_only=not args.all, catalog=catalog)
    df = compared(table, predict(table, catalog))
    if args.rows:
        df.to_csv(args.rows, index=False)
    with pd.option_context("display.float_format", "{:.1f}".format, "display.width", 120):
        runs = "all" if args.all else "latest"
        print(f"InferenceX DeepSeek-R1, {runs} runs: median TTFT")
        print(error_table(df).to_string())


if __name__ == "__main__":
    main()
