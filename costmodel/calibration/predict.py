"""The model's prediction of every row of a measurement table, in one ``scan``.

Aggregated rows are the model's replica as it is: ``tokens_per_s_per_user``,
``output_tokens_per_s_per_gpu``, ``ttft_ms`` and ``tpot_ms`` of ``scan``. A
disaggregated system of ``decode_replicas`` decode replicas (``n_gpus`` each, batch
``batch_size``) and ``prefill_replicas`` prefill workers (``prefill_gpus`` each) serves

    output tokens/s = min(D * 1000 / tpot_ms, R_p * N_p * prefill tokens/s per GPU * O / u)

(decode-limited with D = ``decoding_requests``, at most ``R_d * B``: one request on
nine replicas keeps one busy; or prefill-limited, u the prefilled tokens of a prompt),
over its
``R_d n + R_p N_p`` GPUs. When the prefill workers limit it, fewer requests decode at
once than are in flight: the decode batch is ``B * share`` (share = prefill capacity
over decode demand), and the tokens/s per user are the model's at that batch (a
second ``scan`` of those rows only).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from costmodel.calibration.table import METRIC_COLUMNS, scenario_columns
from costmodel.catalog import Catalog, date_key, load_catalog
from costmodel.evaluation import scan
from costmodel.scenario import Scenario


def stack_as_of(dates, catalog: Catalog) -> list:
    """For each run date, the newest ``serving_stacks.csv`` date on or before it (the
    oldest where the run is older than every row): the ``serving_stack_as_of`` of the
    software the run used. Empty dates give None (the newest)."""
    choices = list(catalog.stack_dates.index)
    keys = np.array([date_key(d) for d in choices])
    out = []
    for d in pd.Series(dates).astype(str):  # distinct dates are few; each a bisection
        if not d or d in ("nan", "None"):
            out.append(None)
            continue
        i = int(np.searchsorted(keys, date_key(d), side="right")) - 1
        out.append(choices[max(i, 0)])
    return out


def _scan(table: pd.DataFrame, catalog: Catalog, overrides: dict) -> pd.DataFrame:
    columns = {name: table[name].tolist() for name in scenario_columns(table)}
    if "serving_stack_as_of" not in columns and "date" in table:
        columns["serving_stack_as_of"] = stack_as_of(table["date"], catalog)
    columns.update({k: list(v) for k, v in overrides.items()})
    return scan(Scenario(), catalog, **columns)


def resolved_fields(table: pd.DataFrame, catalog: Catalog, names) -> pd.DataFrame:
    """The values of Scenario fields ``names`` each row resolves to with ``catalog``
    (efficiencies left empty: the family and stack defaults)."""
    return _scan(table, catalog, {})[list(names)].set_axis(table.index)


def predict(
    table: pd.DataFrame, catalog: Catalog | None = None, overrides: dict | None = None
) -> pd.DataFrame:
    """Predicted ``METRIC_COLUMNS`` of each row of ``table`` (same index), plus ``fits``.

    ``overrides``: Scenario field -> one value per row (the calibration moves the
    efficiencies this way), applied on top of the table's own fields.
    """
    catalog = catalog or load_catalog()
    overrides = overrides or {}
    rows = _scan(table, catalog, overrides)
    out = pd.DataFrame(index=table.index)
    for name in METRIC_COLUMNS:
        out[name] = rows[name].to_numpy()
    out["fits"] = rows["fits"].to_numpy()
    split = table.get("disaggregated", pd.Series(False, index=table.index)).astype(bool).to_numpy()
    if split.any():
        _disaggregated_system(table, rows, out, split, catalog, overrides)
    return out


def _disaggregated_system(table, rows, out, split, catalog, overrides) -> None:
    B = table["batch_size"].to_numpy(float)
    n, O = table["n_gpus"].to_numpy(float), rows["output_tokens"].to_numpy(float)
    Rd = table["decode_replicas"].to_numpy(float)
    Rp = np.maximum(table["prefill_replicas"].to_numpy(float), 1.0)
    Np = table["prefill_gpus"].to_numpy(float)
    tpot = rows["tpot_ms"].to_numpy(float)
    decoding = np.minimum(table["decoding_requests"].to_numpy(float), Rd * B)
    decode = decoding * 1e3 / tpot
    prefill = Rp * Np * rows["prefill_tokens_per_s_per_gpu"].to_numpy(float)
    prefill = prefill * O / rows["prefilled_tokens"].to_numpy(float)
    system = np.minimum(decode, prefill) / (Rd * n + Rp * Np)
    out["output_tokens_per_s_per_gpu"] = np.where(split, system, out["output_tokens_per_s_per_gpu"])
    share = np.minimum(prefill / decode, 1.0)
    starved = split & (share < 1.0)
    if starved.any():
        index = np.flatnonzero(starved)
        sub = table.iloc[index].copy()
        sub["batch_size"] = np.maximum(np.round(B[index] * share[index]), 1).astype(int)
        again = _scan(sub, catalog, {k: np.asarray(v)[index] for k, v in overrides.items()})
        user = out["tokens_per_s_per_user"].to_numpy().copy()
        user[index] = again["tokens_per_s_per_user"].to_numpy()
        out["tokens_per_s_per_user"] = user
