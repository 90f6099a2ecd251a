"""Tables for people, CSV for machines: labels with units, key columns first, a dash for
what does not apply; the CSV download keeps full precision and the raw column names.

The view only relabels (``column_config``); the DataFrame keeps the library's
unit-named columns as its keys.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import streamlit as st

import costmodel
from app_pages.ui import cache
from costmodel import outputs, pricing
from costmodel.planning import buy_rent_api

#: Columns shown first and pinned, in this order, wherever a table has them (the
#: capitalised ones are tables whose pages still key columns by their labels).
KEY_COLUMNS = (
    "setup",
    "Setup",
    "model_label",
    "usd_per_million_output_tokens",
    "$/M output tokens",
    "tokens_per_s_per_user",
    "Tokens/s per user",
)
DASH = "—"
ROW_PX, BORDER_PX = 35, 3  # st.dataframe's row height and its border [px]
SIGNIFICANT = 4  # digits shown; the data and the CSV keep them all
FORMAT = f"%.{SIGNIFICANT}g"  # printf-style, as st.column_config formats numbers


def label(column: str) -> str:
    """A column's name in words with its unit (``costmodel.outputs.label``: "Time per output
    token [ms]"); a name that is not snake_case is kept."""
    return outputs.label(column)


def words(catalog: costmodel.Catalog) -> dict[str, str]:
    """Id -> words, for every id a table may hold as text: ``catalog``'s GPUs and models
    (their names), the scenario's inputs and the outputs (labels with units), choices
    (``Spec.names``), price times ("All day", "Peak", "Off-peak") and the answers of API,
    rent or buy. Made once per catalog (``Catalog.prepared``); read-only."""
    return catalog.prepared(_words)


def _words(catalog: costmodel.Catalog) -> dict[str, str]:
    found = {name: spec.labelled for name, spec in costmodel.FIELDS.items()}
    for spec in costmodel.FIELDS.values():
        found.update(spec.names)
    found.update({column: output.labelled for column, output in outputs.OUTPUTS.items()})
    found.update(pricing.PRICE_TIME_NAMES)
    found.update(buy_rent_api.OPTION_NAMES)
    found.update(catalog.gpus["name"].astype(str))
    found.update(catalog.models["name"].astype(str))
    return found


#: Columns (and index names) whose text cells are ids: GPUs, models, inputs, outputs,
#: price times, answers; :func:`in_words` names them on screen.
ID_COLUMNS = (
    "gpu",
    "floor_gpu",
    "rent_gpu",
    "buy_gpu",
    "model",
    "time_of_day",
    "field",
    "setting",
    "metric",
    "output",
    "cheapest",
    "current page",
    "preset",
)


def in_words(df: pd.DataFrame, more: tuple[str, ...] = ()) -> pd.DataFrame:
    """``df`` with the ids of its :data:`ID_COLUMNS` and ``more`` columns (and of such an
    index) in words (:func:`words` of the session's catalog); the CSV keeps the ids."""
    named = words(cache.catalog())
    columns = [c for c in (*ID_COLUMNS, *more) if c in df.columns]
    if not columns and df.index.name not in ID_COLUMNS:
        return df
    shown = df.assign(**{c: df[c].map(lambda v: named.get(v, v)) for c in columns})
    if df.index.name in ID_COLUMNS:
        shown.index = df.index.map(lambda v: named.get(v, v)).rename(df.index.name)
    return shown


def decimals(column: str | None) -> int | None:
    """The decimals ``column`` is shown to (``costmodel.outputs``); None: significant digits."""
    found = outputs.OUTPUTS.get(column) if isinstance(column, str) else None
    return None if found is None else found.decimals


def number_format(column: str) -> str:
    """The printf format a column is shown in: its ``costmodel.outputs`` rounding, else
    :data:`SIGNIFICANT` significant digits."""
    places = decimals(column)
    return FORMAT if places is None else f"%.{places}f"


def significant(values: pd.Series, digits: int = SIGNIFICANT) -> pd.Series:
    """``values`` rounded to ``digits`` significant digits; -0 becomes 0."""
    x = values.to_numpy(dtype=float)
    finite = np.isfinite(x) & (x != 0)
    exponent = np.floor(np.log10(np.abs(np.where(finite, x, 1.0))))
    scale = 10.0 ** (exponent - digits + 1)
    rounded = np.where(finite, np.round(x / scale) * scale, x) + 0.0
    return pd.Series(rounded, index=values.index, name=values.name)


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return DASH
    if isinstance(value, float):
        return f"{value:,.{SIGNIFICANT}g}"
    return str(value)


def view(df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The table as shown and its ``column_config``: numbers shown to :data:`SIGNIFICANT`
    digits (the data keeps them); a numeric column with missing or infinite values
    becomes text, with a dash there (its help says why). The shown frame is built once
    from its columns (setting each into a copy cost 0.1 ms a column)."""
    columns: dict[Any, Any] = {}
    config: dict[str, Any] = {}
    named = words(cache.catalog())
    for column in df.columns:
        values = df[column]
        name = named.get(column, label(column))
        columns[column] = values
        if pd.api.types.is_float_dtype(values) or values.dtype == object and _numeric(values):
            numbers = pd.to_numeric(values, errors="coerce")
            if np.isfinite(numbers.to_numpy(dtype=float)).all():
                columns[column] = numbers + 0.0  # -0.0 -> 0.0; the format rounds
                config[column] = st.column_config.NumberColumn(name, format=number_format(column))
            else:
                columns[column] = dashed(numbers, column)
                config[column] = st.column_config.TextColumn(
                    name, help=f"{DASH}: does not apply (no value, or the setup does not fit)."
                )
        elif values.dtype == object or pd.api.types.is_string_dtype(values):
            columns[column] = values.astype(object).where(values.notna(), DASH)
            config[column] = st.column_config.Column(name)
        else:
            config[column] = st.column_config.Column(name)
    shown = pd.DataFrame(columns, columns=df.columns) if columns else df.copy()
    for column in KEY_COLUMNS:
        if column in config:
            config[column]["pinned"] = True
    return shown, config


def dashed(values: pd.Series, column: str | None = None) -> pd.Series:
    """Numbers as text, :data:`DASH` where missing or infinite: how :func:`view` shows a
    numeric column with gaps (rounded as ``column`` is, :func:`number_format`), for a
    read-only column of a data editor too (pair it with a ``TextColumn`` whose help says
    what the dash means)."""
    numbers = pd.to_numeric(values, errors="coerce")
    places = decimals(column)
    if places is None:
        return significant(numbers).map(_text)
    return numbers.map(lambda v: f"{v:,.{places}f}" if math.isfinite(v) else DASH)


def _numeric(values: pd.Series) -> bool:
    present = values.dropna()
    return len(present) > 0 and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in present
    )


def column_order(df: pd.DataFrame) -> list[str]:
    """The key columns first (in :data:`KEY_COLUMNS` order), then the rest as they are."""
    first = [c for c in KEY_COLUMNS if c in df.columns]
    return first + [c for c in df.columns if c not in first]


def csv_bytes(df: pd.DataFrame) -> bytes:
    """``df`` as CSV: full precision, raw column names (the index is kept unless it is a
    plain range)."""
    return df.to_csv(index=not isinstance(df.index, pd.RangeIndex)).encode()


def download_csv(df: pd.DataFrame, filename: str, label: str = "Download CSV") -> None:
    """A download button for ``df`` as CSV (:func:`csv_bytes`, made when it is clicked)."""
    st.download_button(
        label,
        functools.partial(csv_bytes, df),
        file_name=filename,
        mime="text/csv",
        key=f"download:{filename}",
        icon=":material/download:",
    )


@cache.by_contents
def _displayed(df: pd.DataFrame) -> tuple[pa.Table | pd.DataFrame, dict[str, Any]]:
    """:func:`view` of ``df``, the table shown as the Arrow table ``st.dataframe`` would
    make of it (``pa.Table.from_pandas``), once per distinct ``df`` rather than on every
    rerun; a frame Arrow cannot take as it is stays a frame (Streamlit fixes its types).
    Shared: do not change them."""
    shown, config = view(df)
    try:
        return pa.Table.from_pandas(shown), config
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return shown, config


def show_table(df: pd.DataFrame, filename: str, **dataframe_kwargs: Any) -> None:
    """``df`` as a readable table and, under it, a CSV download of exactly ``df``.

    ``column_config`` entries given here refine the generated ones (:func:`_merge`).
    """
    shown, made = _displayed(in_words(df))
    config = dict(made)
    for column, given in dataframe_kwargs.pop("column_config", {}).items():
        config[column] = _merge(config.get(column), given)
    dataframe_kwargs.setdefault("column_order", column_order(df))
    st.dataframe(shown, column_config=config, **dataframe_kwargs)
    download_csv(df, filename)


def show_rows(df: pd.DataFrame, filename: str, *, full_height: bool = False) -> None:
    """:func:`show_table` of ``df``'s rows at full width, without its index (every row at
    once with ``full_height``: :data:`ROW_PX` per row and the header)."""
    df = df.reset_index(drop=True)
    height = ROW_PX * (len(df) + 1) + BORDER_PX if full_height else "auto"
    show_table(df, filename, hide_index=True, width="stretch", height=height)


def _merge(made: dict | None, given: dict | str | None) -> dict | str | None:
    """A page's ``column_config`` entry over the generated one: its set fields win, except
    that a column turned into text (it has dashes) keeps its text type."""
    if made is None or not isinstance(given, dict):
        return given
    merged = {**made, **{k: v for k, v in given.items() if v is not None}}
    if made.get("type_config", {}).get("type") == "text":
        merged["type_config"] = made["type_config"]
    return merged


def formula_expander(title: str, markdown: str) -> None:
    """A closed expander holding the formulas or reasoning behind a result."""
    with st.expander(title, icon=":material/functions:"):
        st.markdown(markdown)


#: ``column_config`` of the price and cost columns (the cost's low / high from
#: ``headline_range``), as the GPU comparison and price-war pages show them.
COST_CONFIG = {
    "usd_per_gpu_hour": {"format": "$%.2f"},
    "usd_per_million_output_tokens": {"format": "$%.3f"},
    "usd_per_million_output_tokens_low": {"label": "$/M output, low", "format": "$%.3f"},
    "usd_per_million_output_tokens_high": {"label": "$/M output, high", "format": "$%.3f"},
    "usd_per_million_input_tokens": {"format": "$%.4f"},
    "usd_per_request": {"format": "$%.6f"},
}
