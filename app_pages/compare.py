"""Compare two scenarios: A is the sidebar's, B is bound in the URL with a ``b_`` prefix.

B has one input per Scenario field the sidebar shows, under the same name with ``b_``
in front (``b_gpu=h200-sxm&b_weight_format=fp8``) and the same rules (the sidebar's
declared parameter with the key changed, so the gate checks each the same way). One
cached ``costmodel.shapley.compare`` call gives both scenarios' key outputs and the
Shapley attribution of the metric's difference, drawn as a waterfall.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

import costmodel
from app_pages.ui import cache, charts, sidebar, tables, url, widgets
from app_pages.ui.text import escape, literal
from costmodel import outputs, pricing, shapley
from costmodel.adapt import adapted
from costmodel.evaluation import OUTPUT_COLUMNS
from costmodel.spec import Spec

PREFIX = "b_"
METRICS = tuple(name for name in OUTPUT_COLUMNS if name != "fits")  # the numeric outputs
METRIC = Spec(
    "choice",
    "usd_per_million_output_tokens",
    "Output to explain",
    "Any numeric output of costmodel.evaluate (OUTPUT_COLUMNS)",
    choices=METRICS,
    name="metric",
)
#: Scenario fields the sidebar declared this run (it runs before the page), in field order.
FIELDS = [name for name in costmodel.FIELDS if name in url.declared()]
B_PARAMS = [dataclasses.replace(url.declared()[n], name=PREFIX + n) for n in FIELDS]


def copy_values(swap: bool) -> None:
    """Callback: B takes A's values; with ``swap``, A takes B's too (the URL follows)."""
    a = {name: url.value(name) for name in FIELDS}
    b = {name: url.value(PREFIX + name) for name in FIELDS}
    widgets.set_values({PREFIX + name: value for name, value in a.items()})
    if swap:
        widgets.set_values(b)


def _price_of_b(gpu: str) -> float:
    """B's GPU price under the sidebar's price rule; where no tier prices it, the default
    price, said (as the sidebar does for A)."""
    try:
        return pricing.scenario_price(gpu, sidebar.price_rule(), cache.catalog()).usd_per_gpu_hour
    except ValueError as err:
        default = costmodel.Scenario().usd_per_gpu_hour
        st.warning(
            f"B: {escape(str(err))}. B is priced at \\${default:.2f}/GPU-hour until you type one.",
            icon=":material/sell:",
        )
        return default


st.title("Compare two scenarios")
st.markdown(
    "Scenario **A** is the sidebar's; scenario **B** is set here. Both are evaluated, side by "
    "side, and the difference of the chosen output is split over the fields that differ: "
    "each field's share is its **Shapley value**, its effect averaged over every order in "
    "which the changes could be made, so the shares add up exactly to the difference."
)

url.declare(*B_PARAMS, METRIC)
a = sidebar.scenario()


@url.fragment
def comparison() -> None:
    """B's inputs, the output to explain and everything drawn from A and B (a change of
    them reruns only this: ``url.fragment``)."""
    left, right = st.columns(2)
    with left:
        st.subheader("A: the sidebar")
        st.dataframe(
            pd.DataFrame(
                {
                    "field": FIELDS,
                    "label": [costmodel.FIELD_LABELS[n] for n in FIELDS],
                    "value": [sidebar.shown_value(n, getattr(a, n)) for n in FIELDS],
                }
            ),
            hide_index=True,
            column_config={
                "field": st.column_config.Column("Field (URL key)"),
                "label": st.column_config.Column("Input"),
                "value": st.column_config.Column("A's value"),
            },
        )
        buttons = (
            ("Copy A to B", False, ":material/content_copy:", "Give B every value of A."),
            ("Swap A and B", True, ":material/swap_horiz:", "A takes B's values and B takes A's."),
        )
        for column, (label, swap, icon, help) in zip(st.columns(2), buttons, strict=True):
            column.button(
                label, on_click=copy_values, args=(swap,), icon=icon, width="stretch", help=help
            )
        widgets.widget("metric", names={m: outputs.label(m) for m in METRICS})
    with right:
        st.subheader("B")
        boxes = st.columns(2)
        widgets.inputs([PREFIX + name for name in FIELDS], boxes)

    values = {name: url.value(PREFIX + name) for name in FIELDS}
    if values["usd_per_gpu_hour"] is None:  # B's GPU under the sidebar's price rule
        values["usd_per_gpu_hour"] = _price_of_b(values["gpu"])
    try:
        made = adapted(costmodel.Scenario(), cache.catalog(), **values)
        if made.changes:
            st.warning(f"B changed to fit its model: {escape(made.text)}.", icon=":material/tune:")
        result = cache.comparison(a, made.scenario, url.value("metric"))
    except ValueError as err:
        st.error(f"Scenario B cannot be compared: {literal(str(err))}. Change B's inputs above.")
        url.stop_page()

    metric = outputs.label(result.metric)
    fits = result.outputs.set_index("output").loc["fits", ["a", "b"]]
    not_fitting = [name for name, value in fits.items() if not value]
    if not_fitting:
        st.warning(
            f"Scenario {' and '.join(n.upper() for n in not_fitting)} does not fit in memory "
            "(weights + KV cache + overhead exceed the GPUs' usable memory): its numbers are "
            "computed anyway, but it could not serve this batch."
        )
    cols = st.columns(3)
    cols[0].metric(f"A: {metric}", f"{result.a_value:,.4g}")
    cols[1].metric(f"B: {metric}", f"{result.b_value:,.4g}")
    cols[2].metric(
        "Difference (B − A)",
        f"{result.difference:+,.4g}",
        delta=None if result.a_value == 0 else f"{100 * result.difference / result.a_value:+.1f}%",
        delta_color="off",
    )
    if result.driver is None:
        st.info(
            escape(result.text) + " Change an input of B (or the sidebar) to see what moves it."
        )
    else:
        st.markdown(f"**Biggest driver.** {escape(result.text)}")

    table = result.attribution
    steps = table.set_index("label")["delta"]
    title = f"{metric}: from A to B, field by field"
    charts.show_chart(
        charts.waterfall(steps, ("A", result.a_value), ("B", result.b_value), metric, title)
    )
    st.caption(
        "A's value, then each changed field's Shapley share as a floating bar (red raises "
        "the output, green lowers it), then B's value. The shares add up to B − A."
    )
    if not table.empty:
        words = {
            end: [
                shapley.value_text(v, f, cache.catalog())
                for v, f in zip(table[end], table["field"], strict=True)
            ]
            for end in ("from", "to")
        }
        tables.show_table(
            table.assign(**words),
            "attribution.csv",
            hide_index=True,
            column_order=["label", "from", "to", "delta", "field"],
            column_config={"label": {"label": "Input"}, "field": {"label": "Input (URL key)"}},
        )

    st.subheader("Key outputs side by side")
    numbers = result.outputs[result.outputs["output"] != "fits"]  # said above, in words
    tables.show_table(
        numbers.assign(label=numbers["output"].map(outputs.label)),
        "compare_outputs.csv",
        hide_index=True,
        column_order=["label", "a", "b", "difference", "change_pct", "output"],
        column_config={
            "label": {"label": "Output"},
            "output": {"label": "Output (library name)"},
            "difference": {"label": "B − A"},
        },
    )


comparison()
