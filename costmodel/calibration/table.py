"""The common measurement table every reader returns, and its checks.

One row per measured configuration: the ``Scenario`` fields of the setup (``model``,
``gpu``, ``n_gpus``, formats, ``serving_stack``, ``batch_size`` per decode replica,
lengths, ``expert_parallel``, speculative decoding, ``disaggregated`` with
``prefill_gpus`` per prefill worker), how the system was built (``decode_replicas``,
``prefill_replicas``, ``concurrency``: requests in flight over the whole system), the
measured metrics with their units in the names (``METRIC_COLUMNS``; NaN where the file
has no such number) and where the row comes from (``source``, ``date``,
``measurement``).

What a file does not say (a vLLM result has no GPU; an AIPerf export no parallelism),
its reader takes from the caller's ``given`` dict of Scenario fields; a field neither
in the file nor given raises ``ValueError`` naming it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from costmodel.catalog import Catalog, load_catalog
from costmodel.evaluation import check_id
from costmodel.fields import FIELDS, check_values, normalized

#: Measured metrics a row may carry, each a ``sweep`` result column of the same name.
METRIC_COLUMNS = (
    "tokens_per_s_per_user",
    "output_tokens_per_s_per_gpu",
    "ttft_ms",
    "tpot_ms",
)

#: Scenario fields every row must state (from the file or the caller's ``given``).
REQUIRED_FIELDS = (
    "model",
    "gpu",
    "n_gpus",
    "batch_size",
    "prompt_tokens",
    "output_tokens",
)

#: System columns: decode replicas and prefill workers (each of ``prefill_gpus`` GPUs)
#: serving ``concurrency`` requests in flight together, ``decoding_requests`` of them
#: decoding at any time (the rest queued or in prefill).
SYSTEM_COLUMNS = ("decode_replicas", "prefill_replicas", "concurrency", "decoding_requests")

#: Where each row comes from.
META_COLUMNS = ("measurement", "source", "date")


def require(values: dict, names, where: str) -> None:
    """Raise ``ValueError`` naming every field of ``names`` missing (or None) in ``values``."""
    missing = [n for n in names if values.get(n) is None]
    if missing:
        raise ValueError(
            f"{where}: missing {', '.join(missing)}; the file does not say it, so pass it "
            f"in given={{...}} (Scenario fields, e.g. given={{'{missing[0]}': ...}})"
        )


def scenario_value(name: str, text: str):
    """A Scenario field's value written as text (``"True"``, ``"8"``, ``"0.77"``,
    ``"fp8"``), checked (``ValueError`` naming the field and its rule)."""
    if name not in FIELDS:
        raise ValueError(f"unknown Scenario field {name!r}")
    kind = FIELDS[name].kind
    text = str(text).strip()
    try:
        if kind == "bool":
            if text not in ("True", "False"):
                raise ValueError(f"{name} must be True or False; got {text!r}")
            value = text == "True"
        elif kind == "int":
            value = int(text)
        elif kind in ("float", "family_float"):
            value = float(text)
        else:
            value = text
    except ValueError as err:
        if str(err).startswith(name):
            raise
        raise ValueError(f"{name} must be a {kind}; got {text!r}") from None
    return normalized(name, value)


def checked_given(given) -> dict:
    """The caller's ``given`` Scenario fields, each checked (``ValueError`` naming it)."""
    if given is None:
        return {}
    if not isinstance(given, dict):
        raise ValueError(f"given must be a dict of Scenario fields; got {type(given).__name__}")
    unknown = [k for k in given if k not in FIELDS and k not in SYSTEM_COLUMNS]
    if unknown:
        raise ValueError(f"given: unknown field(s) {', '.join(map(str, unknown))}")
    return {k: (normalized(k, v) if k in FIELDS else v) for k, v in given.items()}


def measurement_table(
    frame: pd.DataFrame, where: str = "file", catalog: Catalog | None = None
) -> pd.DataFrame:
    """A frame of Scenario fields, system columns, metrics and meta as the common table.

    Each Scenario field column is checked as a whole (``fields.check_values``, and the
    ids of choice fields against ``catalog``: ``ValueError`` naming the field and the bad
    value); missing system columns default
    to one decode replica, no prefill worker (one if disaggregated), ``concurrency`` =
    ``batch_size * decode_replicas``; missing metrics are NaN. A table without rows,
    without a required field or without any measured value raises ``ValueError``.
    """
    if frame is None or len(frame) == 0:
        raise ValueError(f"{where}: the file holds no measurement")
    table = frame.reset_index(drop=True).copy()
    missing = [n for n in REQUIRED_FIELDS if n not in table or table[n].isna().any()]
    if missing:
        require({}, missing, where)
    for name in scenario_columns(table):
        values = [None if _missing(v) else _native(v) for v in table[name]]
        try:
            check_values(name, values)
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None
        if FIELDS[name].kind == "choice":
            for value in dict.fromkeys(v for v in values if v is not None):
                try:
                    check_id(name, value, catalog or load_catalog())
                except ValueError as err:
                    raise ValueError(f"{where}: {err}") from None
        table[name] = pd.Series(values, dtype=object if FIELDS[name].kind != "int" else int)
    if "decode_replicas" not in table:
        table["decode_replicas"] = 1
    if "prefill_replicas" not in table:
        disaggregated = table.get("disaggregated", pd.Series(False, index=table.index))
        table["prefill_replicas"] = disaggregated.astype(bool).astype(int)
    if "concurrency" not in table:
        table["concurrency"] = table["batch_size"] * table["decode_replicas"]
    if "decoding_requests" not in table:
        table["decoding_requests"] = table["concurrency"]
    for name in METRIC_COLUMNS:
        table[name] = pd.to_numeric(table[name], errors="coerce") if name in table else np.nan
    for name in META_COLUMNS:
        if name not in table:
            table[name] = ""
    if table[list(METRIC_COLUMNS)].isna().all(axis=None):
        raise ValueError(f"{where}: no measured value; expected one of {', '.join(METRIC_COLUMNS)}")
    return table


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _native(value):
    """A numpy scalar as its Python type (``check_field`` takes Python numbers and bools)."""
    return value.item() if isinstance(value, np.generic) else value


def scenario_columns(table: pd.DataFrame) -> list[str]:
    """The table's columns that are Scenario fields."""
    return [c for c in table.columns if c in FIELDS]
