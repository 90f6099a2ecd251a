"""Several ``scan`` calls as one pass of the physics: their rows stacked, the frame split.

An analysis that needs a table, a tornado and low/high ranges asks for each as a ``scan``
call ``(base, columns)`` and runs them together with :func:`scan_many`: one call's fixed
cost (checks, lookups, the frame) instead of one per call, the same rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from costmodel.catalog import Catalog
from costmodel.evaluation import STACKED_FRAME_MAX_ROWS, scan
from costmodel.fields import FIELD_NAMES
from costmodel.scenario import Scenario


def evaluated_row(frame: pd.DataFrame, i: int) -> dict:
    """Row ``i`` of a sweep as ``evaluate`` gives a scenario's: numpy scalars as Python
    numbers (the ``resolved`` that ``sensitivity.tornado_call`` takes)."""
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in frame.iloc[i].items()}


def product_columns(**axes) -> dict:
    """The columns of ``sweep``'s grid over ``axes`` for ``scan``: every combination, the
    first axis varying slowest. ``product_columns(a=[1, 2], b=[5, 6, 7])`` gives
    ``a = [1, 1, 1, 2, 2, 2]`` and ``b = [5, 6, 7, 5, 6, 7]``; no axes give no columns
    (one row)."""
    n = math.prod(len(v) for v in axes.values())
    columns, inner = {}, n
    for name, values in axes.items():
        inner //= len(values)
        block = [v for v in values for _ in range(inner)]
        columns[name] = block * (n // len(block))
    return columns


def _length(columns: dict) -> int:
    """Rows of one call: its columns' common length (1 with none, as ``scan`` gives)."""
    return len(next(iter(columns.values()))) if columns else 1


def scan_many(calls: Sequence[tuple[Scenario, dict]], catalog: Catalog) -> list[pd.DataFrame]:
    """``[scan(base, catalog, **columns) for base, columns in calls]`` in one ``scan``.

    Every field that one call's columns name, or in which the calls' bases differ, is a
    column of the stacked call (each call's own column, else its base's value repeated);
    the result is cut back into one frame per call, each indexed from 0. Two calls of 3
    and 2 rows are one scan of 5 rows: rows 0-2 the first frame, rows 3-4 the second.
    """
    if not calls:
        return []
    sizes = [_length(columns) for _, columns in calls]
    named = {name for _, columns in calls for name in columns}
    first = calls[0][0]
    stacked = {}
    for name in FIELD_NAMES:
        if name not in named and all(getattr(b, name) == getattr(first, name) for b, _ in calls):
            continue
        stacked[name] = [
            value
            for (base, columns), size in zip(calls, sizes, strict=True)
            for value in (columns[name] if name in columns else [getattr(base, name)] * size)
        ]
    if not stacked:  # equal bases, no columns: still one row per call
        stacked["batch_size"] = [first.batch_size] * sum(sizes)
    frame = scan(first, catalog, **stacked)
    if len(frame) > STACKED_FRAME_MAX_ROWS:  # smaller frames come one block per dtype
        frame = frame.copy()  # so does a copy: rows from 80 one-column blocks cost 3-4x
    stops = pd.Series(sizes).cumsum().tolist()
    return [
        frame.iloc[stop - size : stop].reset_index(drop=True)
        for size, stop in zip(sizes, stops, strict=True)
    ]
