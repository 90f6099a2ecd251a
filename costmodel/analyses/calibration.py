"""Calibrate to your benchmark: a result file read into scenarios, compared and fitted.

``run(data, scenario, options)`` takes the bytes of a benchmark result (``calibration.
FORMATS``: InferenceX CSV or API JSON, vLLM ``--save-result`` JSON, SGLang
``bench_serving`` JSON Lines, AIPerf / GenAI-Perf profile export), reads each run into a
scenario (what the file does not say, the model, GPU, GPU count or serving stack, taken
from ``scenario``: ``Result.assumed``), predicts it with the catalog as shipped, fits the
few efficiencies the rows can pin (``calibration.suggested_parameters``: at most
``calibration.fit.MAX_PARAMETERS_PER_GROUP`` per GPU family and stack, each bounded to
its physical range) and predicts it again:

    error [%] = 100 (modelled - measured) / measured

for tokens/s per user and output tokens/s per GPU. ``Result.settings`` holds, per GPU
family and stack, the fitted values as the Scenario fields to set (the efficiencies,
the GPU and the stack), so the app's scenario, and its link, carry the calibration.

A bad file raises ``ValueError`` naming what is wrong or missing: too big
(``MAX_FILE_BYTES``), not UTF-8, empty, of no known format, lacking a field, or holding
more runs than a fit takes at once (``MAX_ROWS``).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from costmodel import calibration
from costmodel.analyses.options import AnalysisOptions
from costmodel.calibration.fit import FIT_METRICS, bounds
from costmodel.calibration.predict import resolved_fields
from costmodel.calibration.readers import RUN_FIELDS
from costmodel.catalog import ANY_FAMILY, STACK_PARAMETERS, Catalog, load_catalog
from costmodel.evaluation import evaluate
from costmodel.fields import EFFICIENCY_FIELDS, FIELDS
from costmodel.scenario import Scenario
from costmodel.spec import flag

#: Largest file read [bytes]: an InferenceX export of every run of one model is ~0.5 MB;
#: a benchmark summary a few kB.
MAX_FILE_BYTES = 5_000_000

#: Most runs fitted at once: a fit costs about 0.1 s per run on one core (254 InferenceX
#: runs: 25 s, ``benchmarks/bench_calibration.py``), so a page stays responsive.
MAX_ROWS = 300

#: Each format in words.
FORMAT_NAMES = {
    "inferencex": "InferenceX results (CSV or API JSON)",
    "vllm": "vLLM serving benchmark result (benchmark_serving.py --save-result, vllm bench serve)",
    "sglang": "SGLang bench_serving output (JSON Lines)",
    "aiperf": "NVIDIA AIPerf / GenAI-Perf profile export",
}

#: The metrics compared, in words with units.
METRIC_NAMES = {
    "tokens_per_s_per_user": "Tokens/s per user",
    "output_tokens_per_s_per_gpu": "Output tokens/s per GPU",
}

#: The two predictions compared with the measurement.
STAGES = ("as shipped", "fitted")

#: Columns of ``Result.table``, one row per run (units in the names).
TABLE_COLUMNS = (
    "run",
    "model",
    "gpu",
    "serving_stack",
    "parallelism",
    "concurrency",
    "batch_size",
    "prompt_tokens",
    "output_tokens",
    *(
        f"{kind}{m}"
        for m in FIT_METRICS
        for kind in ("measured_", "shipped_", "fitted_", "shipped_error_", "fitted_error_")
    ),
    "fits",
    "assumed",
    "date",
    "source",
)


@dataclass(frozen=True)
class Options(AnalysisOptions):
    """The calibration's own input; its name is the page's URL key."""

    latest_only: bool = flag(
        True,
        label="Latest run of each configuration",
        help="InferenceX files: fit only the rows whose snapshot is latest (the newest run "
        "of each configuration); off: every run in the file. Other formats: no effect.",
    )


@dataclass(frozen=True)
class Setting:
    """The fitted values of one GPU family on one serving stack, as a scenario takes
    them: ``fields`` (the efficiencies, ``gpu`` and ``serving_stack``: Scenario field ->
    value) and ``workload`` (fitted workload properties that are no efficiency, such as
    the MTP acceptance)."""

    label: str
    family: str
    serving_stack: str
    rows: int
    fields: dict
    workload: dict
    applied: bool


@dataclass(frozen=True)
class Result:
    """What the file holds and what the fit made of it.

    ``table``: one row per run (``TABLE_COLUMNS``): measured, modelled as shipped and
    fitted, errors [%]. ``values``: each fitted value with its group, ``shipped`` (the
    value it started from), ``value``, ``std_error``, its range ``low``-``high`` and
    ``at_bound``. ``errors``: per stage, rows, ``within_25_pct`` [%] and the median
    |error| of each metric [%]. ``points``: measured against modelled, long (``stage``,
    ``metric``). ``settings``: per family and stack, what to set (:class:`Setting`).
    ``assumed``: the scenario's fields that filled what the file does not say (field ->
    id), ``assumed_text`` the same in words.
    """

    format: str
    format_name: str
    assumed: dict
    assumed_text: str
    left_out: int
    table: pd.DataFrame
    values: pd.DataFrame
    errors: pd.DataFrame
    points: pd.DataFrame
    settings: tuple[Setting, ...]
    parameter_counts: pd.Series
    verdict: str


def checked_text(data: bytes) -> bytes:
    """``data`` as UTF-8 bytes without a byte-order mark; ``ValueError`` when it is not
    bytes, is over ``MAX_FILE_BYTES`` or is not UTF-8 text."""
    if not isinstance(data, bytes | bytearray):
        raise ValueError(f"data must be the file's bytes; got {type(data).__name__}")
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(
            f"the file is {len(data):,} bytes; at most {MAX_FILE_BYTES:,} are read (a benchmark "
            "summary is a few kB: upload the result file, not the per-request log)"
        )
    try:
        text = bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"the file is not UTF-8 text (byte 0x{data[err.start]:02x} at position "
            f"{err.start:,}); a benchmark result is JSON or CSV text"
        ) from None
    return text.encode("utf-8")


def read(data: bytes, scenario: Scenario, options: Options, catalog: Catalog):
    """(format, the file's runs as the common table, rows left out): ``scenario``'s
    ``RUN_FIELDS`` fill what the file does not say; InferenceX rows whose numbers
    disagree (``calibration.inferencex.consistent``) are left out."""
    data = checked_text(data)
    try:
        format = calibration.detect_format(data)
        if format == "inferencex":
            table = calibration.read_inferencex(
                data, latest_only=options.latest_only, catalog=catalog
            )
        else:
            defaults = {name: getattr(scenario, name) for name in RUN_FIELDS}
            table = calibration.read_measurements(
                data, format=format, catalog=catalog, defaults=defaults
            )
    except (KeyError, TypeError, AttributeError, IndexError) as err:
        # A field of an unexpected type (a list where a number was expected...).
        raise ValueError(
            f"the file has an unexpected structure ({type(err).__name__}: {err})"
        ) from None
    kept = table["consistent"].astype(bool) if "consistent" in table else np.ones(len(table), bool)
    table = table[kept].reset_index(drop=True)
    if table.empty:
        raise ValueError("no run in the file has numbers that agree with each other")
    if len(table) > MAX_ROWS:
        hint = " (turn on 'Latest run of each configuration')" if not options.latest_only else ""
        raise ValueError(
            f"the file holds {len(table):,} runs; at most {MAX_ROWS} are fitted at once{hint}"
        )
    return format, table, int((~kept).sum())


def parallelism(table: pd.DataFrame) -> pd.Series:
    """Each run's parallelism in words: ``"TP 8"``, ``"EP 8 x 2 replicas"``,
    ``"disaggregated: 2 x 8 prefill, 1 x 16 decode (EP)"``."""
    false = pd.Series(False, index=table.index)
    ep = table.get("expert_parallel", false).fillna(False).astype(bool)
    kind = pd.Series(np.where(ep, "EP", "TP"), index=table.index)

    def text(column):
        return table[column].astype(int).astype(str)

    n, replicas = text("n_gpus"), text("decode_replicas")
    many = table["decode_replicas"].astype(int) > 1
    aggregated = kind + " " + n + (" x " + replicas + " replicas").where(many, "")
    split = table.get("disaggregated", false).fillna(False).astype(bool)
    if not split.any():
        return aggregated
    disaggregated = (
        "disaggregated: "
        + text("prefill_replicas")
        + " x "
        + text("prefill_gpus")
        + " prefill, "
        + replicas
        + " x "
        + n
        + " decode ("
        + kind
        + ")"
    )
    return disaggregated.where(split, aggregated)


def _names(ids: pd.Series, frame: pd.DataFrame) -> np.ndarray:
    """Catalog ids as their names (an id the catalog lacks as itself)."""
    ids = pd.Series(ids).astype(str)
    return ids.map(frame["name"]).fillna(ids).astype(str).to_numpy()


def _stack_name(stack: str) -> str:
    return dict(FIELDS["serving_stack"].names).get(stack, stack)


def _in_words(name: str, value, catalog: Catalog) -> str:
    """A run field's value as the app shows it: a catalog id as its name."""
    if name == "model":
        return _names(pd.Series([value]), catalog.models)[0]
    if name == "gpu":
        return _names(pd.Series([value]), catalog.gpus)[0]
    if name == "serving_stack":
        return _stack_name(value)
    return str(value)


def _table(shipped: pd.DataFrame, fitted: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "run": np.arange(1, len(shipped) + 1),
            "model": _names(shipped["model"], catalog.models),
            "gpu": _names(shipped["gpu"], catalog.gpus),
            "serving_stack": shipped["serving_stack"].map(_stack_name).to_numpy(),
            "parallelism": parallelism(shipped).to_numpy(),
        }
    )
    for name in ("concurrency", "batch_size", "prompt_tokens", "output_tokens"):
        out[name] = shipped[name].to_numpy()
    for m in FIT_METRICS:
        out[f"measured_{m}"] = shipped[m].to_numpy(float)
        out[f"shipped_{m}"] = shipped[f"predicted_{m}"].to_numpy(float)
        out[f"fitted_{m}"] = fitted[f"predicted_{m}"].to_numpy(float)
        out[f"shipped_error_{m}"] = shipped[f"error_{m}_pct"].to_numpy(float)
        out[f"fitted_error_{m}"] = fitted[f"error_{m}_pct"].to_numpy(float)
    out["fits"] = np.isfinite(out[[f"shipped_{m}" for m in FIT_METRICS]]).all(axis=1)
    out["assumed"] = shipped.get("assumed", pd.Series("", index=shipped.index)).fillna("")
    out["date"] = shipped["date"].astype(str).to_numpy()
    out["source"] = shipped["source"].astype(str).to_numpy()
    return out[list(TABLE_COLUMNS)]


def _values(result, table: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    values = result.values.copy()
    start = resolved_fields(table, catalog, list(values["parameter"].unique()))
    family = catalog.gpus.loc[table["gpu"], "family"].to_numpy()
    shipped = []
    for row in values.itertuples():
        mine = np.ones(len(table), bool)
        if row.family != ANY_FAMILY:
            mine &= family == row.family
        if row.serving_stack != "all":
            mine &= table["serving_stack"].to_numpy() == row.serving_stack
        shipped.append(float(start.loc[mine, row.parameter].mean()))
    values["shipped"] = shipped
    values["label"] = [FIELDS[p].labelled for p in values["parameter"]]
    span = values["high"] - values["low"]
    values["at_bound"] = ((values["value"] - values["low"]).abs() < 1e-3 * span) | (
        (values["high"] - values["value"]).abs() < 1e-3 * span
    )
    return values


def _on_step(name: str, value: float) -> float:
    """``value`` rounded to the decimals of field ``name``'s input step (0.7357 -> 0.74
    for a step of 0.01), so what the app shows is what the model uses."""
    return round(float(value), max(0, -math.floor(math.log10(FIELDS[name].step))))


def _settings(result, table: pd.DataFrame, scenario: Scenario, catalog: Catalog):
    family = catalog.gpus.loc[table["gpu"], "family"].to_numpy()
    pairs = pd.DataFrame({"family": family, "stack": table["serving_stack"], "gpu": table["gpu"]})
    out = []
    for (fam, stack), group in pairs.groupby(["family", "stack"], sort=True):
        gpu = scenario.gpu if scenario.gpu in set(group["gpu"]) else group["gpu"].mode().iloc[0]
        fitted = result.scenario_fields(fam, stack, catalog.gpus.at[gpu, "bandwidth_tb_s"])
        values = {k: _on_step(k, v) for k, v in fitted.items()}
        fields = {k: v for k, v in values.items() if k in EFFICIENCY_FIELDS}
        fields.update(gpu=gpu, serving_stack=stack)
        applied = all(getattr(scenario, k) == v for k, v in fields.items())
        label = f"{catalog.gpus.at[gpu, 'name']} on {_stack_name(stack)}"
        # The second draft's acceptance is the first's (calibration.fit): said once.
        workload = {
            k: v for k, v in values.items() if k not in (*EFFICIENCY_FIELDS, "acceptance_at_t1")
        }
        out.append(Setting(label, fam, stack, len(group), fields, workload, applied))
    return tuple(out)


def _points(table: pd.DataFrame) -> pd.DataFrame:
    frames = []
    for m, words in METRIC_NAMES.items():
        for stage, prefix in zip(STAGES, ("shipped_", "fitted_"), strict=True):
            frames.append(
                pd.DataFrame(
                    {
                        "run": table["run"],
                        "gpu": table["gpu"],
                        "serving_stack": table["serving_stack"],
                        "metric": words,
                        "stage": stage,
                        "measured": table[f"measured_{m}"],
                        "modelled": table[f"{prefix}{m}"],
                        "error_pct": table[f"{prefix}error_{m}"],
                    }
                )
            )
    points = pd.concat(frames, ignore_index=True)
    return points[np.isfinite(points["measured"]) & np.isfinite(points["modelled"])]


def _errors(shipped: pd.DataFrame, fitted: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([calibration.error_table(shipped), calibration.error_table(fitted)]).set_axis(
        list(STAGES)
    )


def _said(row: pd.Series, n: int) -> str:
    """``"1 of 2 runs within 25 % on both (median |error| 27 % per user, 28 % per GPU)"``."""
    within = int(round(row["within_25_pct"] * n / 100))
    medians = ", ".join(
        f"{row[f'median_abs_error_{m}_pct']:.0f} % {words}"
        for m, words in zip(FIT_METRICS, ("per user", "per GPU"), strict=True)
        if np.isfinite(row[f"median_abs_error_{m}_pct"])
    )
    return (
        f"{within} of {n} runs within {calibration.WITHIN_PCT:.0f} % on both metrics "
        f"(median |error| {medians or 'not measured'})"
    )


def _verdict(errors: pd.DataFrame, values: pd.DataFrame, n: int, left_out: int) -> str:
    names = ", ".join(dict.fromkeys(label.split(" [")[0] for label in values["label"]))
    text = (
        f"As shipped: {_said(errors.loc[STAGES[0]], n)}. Fitted ({len(values)} "
        f"value{'s' * (len(values) != 1)}: {names}): {_said(errors.loc[STAGES[1]], n)}."
    )
    if values["at_bound"].any():
        edge = ", ".join(dict.fromkeys(values.loc[values["at_bound"], "label"]))
        text += (
            f" At the edge of its physical range: {edge}. The physics misses something these "
            "runs show (or the file's setup is not the one read): read those values with care."
        )
    if left_out:
        text += f" Left out: {left_out} runs whose numbers disagree with each other."
    return text


def ranges(scenario: Scenario | None = None, catalog: Catalog | None = None) -> pd.DataFrame:
    """What a calibration may move, for ``scenario``'s GPU family on its serving stack:
    per ``STACK_PARAMETERS`` value, its physical range ``low``-``high`` (the catalog's),
    ``shipped`` (the family and stack's value as shipped), ``current`` (the scenario's:
    its own where set, else the shipped) and ``position`` of each in the range, 0 at
    ``low`` and 1 at ``high``: ``(v - low) / (high - low)``.
    """
    scenario = scenario or Scenario()
    catalog = catalog or load_catalog()
    shipped = evaluate(dataclasses.replace(scenario, **dict.fromkeys(STACK_PARAMETERS)), catalog)
    out = pd.DataFrame({"parameter": list(STACK_PARAMETERS)})
    out["label"] = [FIELDS[p].labelled for p in STACK_PARAMETERS]
    limits = [bounds(p, catalog) for p in STACK_PARAMETERS]
    out["low"], out["high"] = [lo for lo, _ in limits], [hi for _, hi in limits]
    out["shipped"] = [float(shipped[p]) for p in STACK_PARAMETERS]
    own = [getattr(scenario, p) for p in STACK_PARAMETERS]
    out["current"] = [
        s if v is None else float(v) for v, s in zip(own, out["shipped"], strict=True)
    ]
    span = out["high"] - out["low"]
    out["shipped_position"] = (out["shipped"] - out["low"]) / span
    out["current_position"] = (out["current"] - out["low"]) / span
    return out


def run(
    data: bytes,
    scenario: Scenario | None = None,
    options: Options | None = None,
    catalog: Catalog | None = None,
) -> Result:
    """Read the benchmark result ``data`` (the file's bytes), compare, fit (module doc).

    ``scenario``: what the file does not say (model, GPU, GPU count, serving stack) and
    the scenario the settings are checked against (``Setting.applied``).
    """
    scenario = scenario or Scenario()
    options = options or Options()
    catalog = catalog or load_catalog()
    format, table, left_out = read(data, scenario, options, catalog)
    shipped = calibration.compare(table, catalog)
    fit = calibration.fit(table, calibration.suggested_parameters(table, catalog), catalog)
    rows = _table(shipped, fit.rows, catalog)
    values = _values(fit, table, catalog)
    errors = _errors(shipped, fit.rows)
    assumed = {
        n: getattr(scenario, n) for n in RUN_FIELDS if n in ", ".join(rows["assumed"]).split(", ")
    }
    return Result(
        format=format,
        format_name=FORMAT_NAMES[format],
        assumed=assumed,
        assumed_text=", ".join(
            f"{FIELDS[n].label} {_in_words(n, v, catalog)}" for n, v in assumed.items()
        ),
        left_out=left_out,
        table=rows,
        values=values,
        errors=errors,
        points=_points(rows),
        settings=_settings(fit, table, scenario, catalog),
        parameter_counts=fit.parameter_counts(catalog),
        verdict=_verdict(errors, values, len(rows), left_out),
    )
