"""The queueing model's TTFT against InferenceX's measured DeepSeek-R1 runs.

Run: ``python benchmarks/bench_ttft.py [--all]``. Each row of
``/work/shared/reference/inferencex/dsr1-public.csv`` (its ``latest`` runs; ``--all``:
earlier runs too) is a closed loop of ``conc`` requests in flight on InferenceX's 1k/1k,
8k/1k or 1k/8k random workload (``assets/workloads.csv``): its median TTFT is predicted
by ``costmodel.planning.latency.closed_loop`` (the arrival rate that the loop lets
through, by Little's law, and the queues at that rate; the wait for a batch slot where
``conc`` exceeds what fits in memory). Prints, per GPU and aggregated/disaggregated, the
rows compared, the median |error| and the median signed error of the median TTFT (and
of the p99 for information), and the rows left out (a configuration that does not fit
the model's memory).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import costmodel  # noqa: E402
from costmodel import presets  # noqa: E402
from costmodel.planning import get_workload  # noqa: E402
from costmodel.planning.latency import closed_loop, service_times  # noqa: E402

INFERENCEX = Path("/work/shared/reference/inferencex/dsr1-public.csv")

#: InferenceX hardware ids -> catalog GPU ids.
GPUS = {"h200": "h200-sxm", "b200": "b200", "mi300x": "mi300x", "mi355x": "mi355x"}


# --- TEMPORARY mapping of an InferenceX row to a Scenario and a configuration ----------
# The issue17 helper is writing costmodel/calibration's reader of this file (each row to
# a Scenario); its branch did not have it when this benchmark was written. Replace
# inferencex_rows() with that reader once it is merged.


def _weight_format(row) -> str:
    if row["precision"] == "fp8":
        return "fp8"
    return "mxfp4" if row["hardware"].startswith("mi") else "nvfp4"


def _expert_parallel(tp, ep, dp_attention) -> bool:
    """Data-parallel attention with experts spread (or one GPU of attention per rank)."""
    return bool(dp_attention) or (int(tp) == 1 and int(ep) > 1)


def inferencex_rows(table: pd.DataFrame) -> pd.DataFrame:
    """TEMPORARY: each row's scenario fields, configuration, replicas and workload.

    Aggregated rows: one replica of ``decode_tp`` GPUs (the file's ``num_decode_gpu`` is
    tp x ep there); disaggregated rows: ``prefill_num_workers`` prefill instances of
    ``num_prefill_gpu / prefill_num_workers`` GPUs and ``decode_num_workers`` decode
    instances of ``num_decode_gpu / decode_num_workers``. Weights NVFP4 (NVIDIA) or
    MXFP4 (AMD) for fp4 runs, attention and KV cache in FP8; MTP with 3 drafts at the
    acceptance of ``presets.DEEPSEEK_R1_MTP_B200``.
    """
    split = table["disagg"].astype(bool).to_numpy()
    decode_replicas = np.where(split, table["decode_num_workers"].clip(lower=1), 1)
    decode_gpus = np.where(
        split, table["num_decode_gpu"] // decode_replicas, table["decode_tp"]
    ).astype(int)
    prefill_instances = np.where(split, table["prefill_num_workers"].clip(lower=1), 1)
    prefill_gpus = np.where(
        split, table["num_prefill_gpu"] // prefill_instances, table["decode_tp"]
    ).astype(int)
    return pd.DataFrame(
        {
            "gpu": table["hardware"].map(GPUS),
            "weight_format": table.apply(_weight_format, axis=1),
            "mtp": table["spec_method"].eq("mtp"),
            "workload": "inferencex-"
            + (table["isl"] // 1024).astype(str)
            + "k"
            + (table["osl"] // 1024).astype(str)
            + "k",
            "n_gpus": decode_gpus,
            "expert_parallel": [
                _expert_parallel(*v)
                for v in zip(
                    np.where(split, table["decode_tp"], table["decode_tp"]),
                    table["decode_ep"],
                    table["decode_dp_attention"],
                    strict=True,
                )
            ],
            "prefill_expert_parallel": [
                _expert_parallel(*v)
                for v in zip(
                    table["prefill_tp"],
                    table["prefill_ep"],
                    table["prefill_dp_attention"],
                    strict=True,
                )
            ],
            "disaggregated": split,
            "prefill_gpus": prefill_gpus,
            "replicas": decode_replicas,
            "prefill_instances": prefill_instances,
            "concurrency": table["conc"].astype(float),
        },
        index=table.index,
    )


def scenario_for(weight_format: str, mtp: bool) -> costmodel.Scenario:
    """TEMPORARY: DeepSeek-R1 as InferenceX serves it (see :func:`inferencex_rows`)."""
    mtp_fields = {
        k: presets.DEEPSEEK_R1_MTP_B200[k]
        for k in ("draft_tokens", "acceptance_at_t0", "acceptance_at_t1")
    }
    return costmodel.Scenario(
        model="deepseek-r1",
        weight_format=weight_format,
        attention_format="fp8",
        kv_format="fp8",
        speculative=mtp,
        mtp=mtp,
        **mtp_fields,
    )


# --- end of the temporary mapping --------------------------------------------------------


def predict(rows: pd.DataFrame, catalog, overhead_ms: float = 0.0) -> pd.DataFrame:
    """Predicted median and p99 TTFT [s] of each row (NaN where the setup does not fit);
    ``overhead_ms``: a time outside the GPUs added to every TTFT (a what-if)."""
    out = pd.DataFrame(index=rows.index, columns=["pred_median_ttft", "pred_p99_ttft"], dtype=float)
    # Prefill and decode instances share one expert-parallel flag in a configuration:
    # rows whose pools differ take the decode pool's.
    keys = ["weight_format", "mtp", "workload"]
    for (fmt, mtp, name), group in rows.groupby(keys):
        scenario = scenario_for(fmt, bool(mtp))
        workload = get_workload(name)
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
        table = closed_loop(
            service,
            group["concurrency"].to_numpy()[fits],
            replicas=group["replicas"].to_numpy()[fits],
            prefill_instances=group["prefill_instances"].to_numpy()[fits],
            overhead_ms=overhead_ms,
        )
        index = group.index[fits][ok]
        out.loc[index, "pred_median_ttft"] = table["ttft_p50_ms"].to_numpy()[ok] / 1e3
        out.loc[index, "pred_p99_ttft"] = table["ttft_p99_ms"].to_numpy()[ok] / 1e3
    return out


def error_table(measured: pd.DataFrame, predicted: pd.DataFrame) -> pd.DataFrame:
    """Per GPU and serving mode: rows, median |error| and median error [%]."""
    df = measured[["hardware", "disagg", "median_ttft", "p99_ttft"]].join(predicted)
    df["serving"] = np.where(df["disagg"], "disaggregated", "aggregated")
    df["err_median"] = 100 * (df["pred_median_ttft"] / df["median_ttft"] - 1)
    df["err_p99"] = 100 * (df["pred_p99_ttft"] / df["p99_ttft"] - 1)
    ok = df.dropna(subset=["err_median"])
    ok = ok[np.isfinite(ok["err_median"])]

    def summary(g):
        return pd.Series(
            {
                "rows": len(g),
                "median_abs_error_pct": g["err_median"].abs().median(),
                "median_error_pct": g["err_median"].median(),
                "p99_median_abs_error_pct": g["err_p99"].abs().median(),
            }
        )

    table = ok.groupby(["hardware", "serving"]).apply(summary, include_groups=False)
    table.loc[("all", "all"), :] = summary(ok)
    table["left_out"] = df.groupby(["hardware", "serving"]).size() - table["rows"]
    table.loc[("all", "all"), "left_out"] = len(df) - len(ok)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="earlier runs too, not only latest")
    parser.add_argument(
        "--overhead-ms",
        type=float,
        default=0.0,
        help="what-if: a fixed time outside the GPUs added to every TTFT [ms]",
    )
    args = parser.parse_args()
    measured = pd.read_csv(INFERENCEX)
    if not args.all:
        measured = measured[measured["snapshot"] == "latest"]
    catalog = costmodel.load_catalog()
    predicted = predict(inferencex_rows(measured), catalog, args.overhead_ms)
    table = error_table(measured, predicted)
    with pd.option_context("display.float_format", "{:.1f}".format, "display.width", 120):
        runs = "all" if args.all else "latest"
        print(f"InferenceX DeepSeek-R1, {runs} runs, overhead {args.overhead_ms:g} ms: median TTFT")
        print(table.to_string())


if __name__ == "__main__":
    main()
