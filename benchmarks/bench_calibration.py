"""How close the model is to measured serving: InferenceX's DeepSeek-R1 runs, cross-validated.

Run: ``python benchmarks/bench_calibration.py`` (``--write`` also rewrites the fitted rows
of ``assets/serving_stacks.csv`` and prints the workload values to put in
``calibration.inferencex``). Reads ``assets/inferencex_dsr1.csv`` (the latest run of each
configuration whose numbers agree with each other, ``inferencex.consistent``) and prints:

1. the catalog's prediction before any fit (the priors: the 2024 calibration and the
   family defaults);
2. the fitted values (``calibration.fit.DEFAULT_PARAMETERS``) per GPU family and stack,
   with their standard errors and ranges, and how many each family and stack rests on;
3. the in-sample errors with those values, and the shipped catalog's;
4. leave-one-GPU-out: each GPU predicted from a fit on the three others, its values
   pooled per stack (``calibration.fit.leave_one_gpu_out``): the acceptance test.

Each table per GPU, serving stack, MTP or not, disaggregated or not, and concurrency
band: rows, share within 25 % on both tokens/s per user and output tokens/s per GPU,
median |error| of each [%]. It asserts nothing about time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402

from costmodel import load_catalog  # noqa: E402
from costmodel.calibration import (  # noqa: E402
    DEFAULT_PARAMETERS,
    compare,
    concurrency_band,
    error_table,
    fit,
    inferencex_table,
    leave_one_gpu_out,
    stack_rows,
    with_fit,
    without_fit,
)
from costmodel.calibration.fit import first_month  # noqa: E402
from costmodel.catalog import ASSETS_DIR  # noqa: E402

#: Groupings of every table.
GROUPS = {
    "GPU": "gpu",
    "serving stack": "serving_stack",
    "MTP": "speculative",
    "disaggregated": "disaggregated",
    "concurrency": "concurrency_band",
}


def show(title: str, rows: pd.DataFrame) -> None:
    rows = rows.assign(concurrency_band=concurrency_band(rows["concurrency"]))
    print(f"\n== {title}")
    columns = {
        "rows": "rows",
        "within_25_pct": "within 25% [%]",
        "median_abs_error_tokens_per_s_per_user_pct": "|err| user [%]",
        "median_abs_error_output_tokens_per_s_per_gpu_pct": "|err| GPU [%]",
        "median_error_tokens_per_s_per_user_pct": "err user [%]",
        "median_error_output_tokens_per_s_per_gpu_pct": "err GPU [%]",
    }
    tables = [error_table(rows).rename(index={"all": "all rows"})]
    for label, column in GROUPS.items():
        table = error_table(rows, column)
        table.index = [f"{label}: {i}" for i in table.index]
        tables.append(table)
    print(pd.concat(tables).rename(columns=columns).round(1).to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the fitted catalog rows")
    args = parser.parse_args()
    pd.set_option("display.width", 200)
    catalog = load_catalog()
    table = inferencex_table()
    print(f"InferenceX DeepSeek-R1: {len(table)} rows (latest run per configuration, consistent)")
    priors = without_fit(catalog)
    show("before: the priors (2024 calibration, family defaults), no fit", compare(table, priors))

    start = time.perf_counter()
    result = fit(table, DEFAULT_PARAMETERS, priors)
    seconds = time.perf_counter() - start
    print(f"\n== fitted values ({seconds:.1f} s): value +/- standard error [range]")
    values = result.values.assign(
        shown=lambda v: v.apply(
            lambda r: f"{r.value:.4g} +/- {r.std_error:.2g} [{r.low:g}, {r.high:g}]", axis=1
        )
    )
    print(
        values.pivot_table(
            index=["family", "serving_stack"], columns="parameter", values="shown", aggfunc="first"
        )
        .fillna("")
        .to_string()
    )
    counts = result.parameter_counts(catalog)
    print(f"\nfitted values per GPU family and stack (at most 4): max {counts.max()}")
    print(counts.to_string())
    show("in-sample: fitted per GPU family and stack", result.rows)
    show("the shipped catalog (assets/serving_stacks.csv)", compare(table, catalog))

    start = time.perf_counter()
    crossed = leave_one_gpu_out(table, catalog=catalog)
    show(f"leave one GPU out ({time.perf_counter() - start:.0f} s): the acceptance test", crossed)

    if args.write:
        source = "InferenceX dsr1 (assets/inferencex_dsr1.csv), latest run per configuration"
        pooled = fit(
            table,
            {k: ("stack" if v == "family_stack" else v) for k, v in DEFAULT_PARAMETERS.items()},
            priors,
        )
        date = first_month(table)
        rows = pd.concat([stack_rows(pooled, date, source), stack_rows(result, date, source)])
        written = with_fit(priors, result, date).serving_stacks.iloc[:0]
        out = pd.concat([priors.serving_stacks, rows], ignore_index=True)
        out = out.reindex(columns=written.columns)
        out.to_csv(ASSETS_DIR / "serving_stacks.csv", index=False)
        print(f"\nwrote {len(rows)} fitted rows; workload values: {result.shared()}")


if __name__ == "__main__":
    main()
