"""Measured against predicted: a table's errors, grouped as the issue asks.

``compare(table)`` predicts every row with the catalog as it is (before a fit);
``error_table(rows, by)`` summarises any table with ``error_<metric>_pct`` columns
(``compare``, ``fit``'s rows, ``leave_one_gpu_out``) per group: how many rows, the share
within ``WITHIN_PCT`` on both metrics, and the median absolute error of each.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from costmodel.calibration.fit import FIT_METRICS, compared
from costmodel.calibration.predict import predict
from costmodel.catalog import Catalog, load_catalog

#: A row is "within" when both its errors are at most this [%].
WITHIN_PCT = 25.0

#: Concurrency bands (requests in flight over the system), lower edges.
CONCURRENCY_BANDS = (1, 5, 17, 65, 257)


def concurrency_band(concurrency) -> pd.Categorical:
    """``"1-4"``, ``"5-16"``, ``"17-64"``, ``"65-256"``, ``"257+"`` of each value."""
    edges = [*CONCURRENCY_BANDS, np.inf]
    labels = [f"{lo}-{hi - 1}" for lo, hi in zip(edges[:-2], edges[1:-1], strict=True)]
    labels.append(f"{edges[-2]}+")
    return pd.cut(np.asarray(concurrency, float), [e - 0.5 for e in edges], labels=labels)


def compare(table: pd.DataFrame, catalog: Catalog | None = None, overrides=None) -> pd.DataFrame:
    """``table`` with ``predicted_<metric>`` and ``error_<metric>_pct`` of the catalog's
    prediction (``overrides``: Scenario field -> one value per row)."""
    catalog = catalog or load_catalog()
    return compared(table, predict(table, catalog, overrides))


def within(rows: pd.DataFrame) -> pd.Series:
    """Whether each row's errors are all within ``WITHIN_PCT`` (NaN metrics ignored)."""
    errors = rows[[f"error_{m}_pct" for m in FIT_METRICS]].abs()
    return (errors.le(WITHIN_PCT) | errors.isna()).all(axis=1)


def error_table(rows: pd.DataFrame, by=None) -> pd.DataFrame:
    """Per group of ``by`` (a column, a list of columns, or None for one total row):
    ``rows``, ``within_25_pct`` [% of rows within ``WITHIN_PCT`` on both metrics],
    ``median_abs_error_<metric>_pct`` and ``median_error_<metric>_pct`` (signed: positive
    means the model predicts more)."""
    frame = rows.assign(_within=within(rows).to_numpy())
    for m in FIT_METRICS:
        frame[f"_abs_{m}"] = frame[f"error_{m}_pct"].abs()
    grouped = (
        frame.groupby(by, observed=True, sort=True) if by else frame.groupby(np.zeros(len(frame)))
    )
    out = pd.DataFrame({"rows": grouped.size(), "within_25_pct": 100 * grouped["_within"].mean()})
    for m in FIT_METRICS:
        out[f"median_abs_error_{m}_pct"] = grouped[f"_abs_{m}"].median()
        out[f"median_error_{m}_pct"] = grouped[f"error_{m}_pct"].median()
    if not by:
        out.index = ["all"]
    return out
