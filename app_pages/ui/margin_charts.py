"""The price war's margin charts: each provider's margin on each setup, green or red."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from app_pages.ui import charts, tables

#: Charts side by side; a page with more setups draws more rows (every setup is drawn).
CHARTS_PER_ROW = 3


def show_all(margins: pd.DataFrame, column: str) -> None:
    """One chart per setup of ``margins`` (a price-war Result's), ``CHARTS_PER_ROW`` a row,
    of ``column`` (``margin_pct`` or ``margin_usd_per_million_requests``)."""
    labels = list(dict.fromkeys(margins["setup"]))
    width = min(len(labels), CHARTS_PER_ROW)
    for start in range(0, len(labels), width):
        row = labels[start : start + width]
        for place, label in zip(st.columns(width)[: len(row)], row, strict=True):
            with place:
                charts.show_chart(margin_chart(margins[margins["setup"] == label], column, label))


@charts.cached
def margin_chart(rows: pd.DataFrame, column: str, title: str) -> alt.LayerChart:
    """Green/red horizontal bars: each provider's margin on one setup."""
    x_title = tables.label(column)
    data = rows.assign(
        result=np.where(rows["margin_usd_per_million_requests"] >= 0, "profit", "loss"),
        label=np.where(
            (rows["revenue_per_request_usd"] <= 0) & (column == "margin_pct"), "free: no %", ""
        ),
    )
    notes = (
        alt.Chart(data[data["label"] != ""])
        .mark_text(align="left", dx=4, color="#d62728")
        .encode(
            x=alt.XDatum(0),
            y=alt.Y("provider:N", sort=list(data["provider"])),
            text=alt.Text("label:N"),
        )
    )
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(f"{column}:Q", title=x_title),
            y=alt.Y("provider:N", title="Provider", sort=list(data["provider"])),
            color=charts.color_encoding(
                "result:N", ["profit", "loss"], "Result", legend=alt.Legend(orient="bottom")
            ),
            tooltip=[
                alt.Tooltip("provider:N", title="Provider"),
                alt.Tooltip("model:N", title="Model priced"),
                alt.Tooltip("verdict:N", title="Verdict"),
                alt.Tooltip("revenue_per_request_usd:Q", title="Revenue [$/request]", format=".6f"),
                alt.Tooltip("usd_per_request:Q", title="Our cost [$/request]", format=".6f"),
                alt.Tooltip(
                    "margin_usd_per_million_requests:Q",
                    title="Margin [$ per million requests]",
                    format=",.0f",
                ),
                alt.Tooltip("margin_pct:Q", title="Margin [% of revenue]", format="+.1f"),
                alt.Tooltip("break_even_batch_size:Q", title="Break-even batch", format=".0f"),
            ],
        )
    )
    # The setup's label in two lines ("Market: 4x H100 SXM5 80GB," / "fp8 @ $2.69"), so
    # that a chart a third of the page wide shows all of it.
    head, _, tail = title.partition(", ")
    lines = [f"{head}," if tail else head, *([tail] if tail else [])]
    return alt.layer(bars, notes, title=alt.TitleParams(lines, anchor="start")).properties(
        height=alt.Step(24)
    )
