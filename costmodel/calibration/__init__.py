"""Calibrate the model to measurements: read a benchmark's results, compare, fit, apply.

A page's path through it:

1. ``read_measurements(data, given)``: a file (InferenceX CSV or API JSON, vLLM
   ``benchmark_serving.py --save-result`` / ``vllm bench serve`` JSON, SGLang
   ``bench_serving`` JSONL, AIPerf / genai-perf export) as the common measurement table
   (``calibration.table``), what the file lacks taken from ``given`` Scenario fields;
2. ``compare(table)``: measured against predicted with the catalog as it is;
3. ``fit(table, parameters)``: a few named efficiencies fitted (bounded, robust least
   squares on log error) with standard errors, and the table predicted with them;
4. ``FitResult.scenario_fields(family, stack)``: the fitted values as Scenario fields,
   to set on the scenario (they are URL fields, so a link carries them).

``leave_one_gpu_out`` cross-validates a calibration; ``error_table`` summarises any of
these tables per GPU, stack, MTP, disaggregation or concurrency band.
"""

from costmodel.calibration.compare import (
    WITHIN_PCT,
    compare,
    concurrency_band,
    error_table,
    within,
)
from costmodel.calibration.fit import (
    DEFAULT_PARAMETERS,
    FIT_METRICS,
    LEVELS,
    FitResult,
    fit,
    leave_one_gpu_out,
    stack_rows,
    suggested_parameters,
    with_fit,
    without_fit,
)
from costmodel.calibration.inferencex import inferencex_table, read_inferencex
from costmodel.calibration.predict import predict
from costmodel.calibration.readers import FORMATS, detect_format, read_measurements
from costmodel.calibration.table import METRIC_COLUMNS

__all__ = [
    "DEFAULT_PARAMETERS",
    "FORMATS",
    "FIT_METRICS",
    "LEVELS",
    "METRIC_COLUMNS",
    "WITHIN_PCT",
    "FitResult",
    "compare",
    "concurrency_band",
    "detect_format",
    "error_table",
    "fit",
    "inferencex_table",
    "leave_one_gpu_out",
    "predict",
    "read_inferencex",
    "read_measurements",
    "stack_rows",
    "suggested_parameters",
    "with_fit",
    "within",
    "without_fit",
]
