"""Home: the question, how to read the pages, and each claim of the seed with its verdict.

The verdicts are ``costmodel.claims.check_all`` at the sidebar's scenario (one cached
call): status, the numbers behind it and the rule that decides it, with links to the
pages that show it.
"""

import streamlit as st

from app_pages import ui
from app_pages.ui import cache, sidebar, tables, verdicts
from app_pages.ui.text import escape

PAGES = {page.url_path: page for page in ui.PAGES}

st.title("What does it cost to serve Mixtral 8x7B?")
st.markdown(
    "In December 2023, within hours of Mistral releasing Mixtral 8x7B, API providers cut "
    "its price from \\$1.96 to \\$0.27 per million output tokens and below. **Could anyone "
    "serve it at those prices without losing money?** This explorer estimates the cost per "
    "token from the hardware (memory, bandwidth, FLOPS, GPU price) and the serving setup "
    "(batch size, number format, speculative decoding), and compares it with the prices."
)
st.subheader("How to read the pages")
st.markdown(
    "- The **sidebar** holds the scenario every page shares: model, GPU, number formats, "
    "batch, request lengths and the GPU's price. The preset restores the document's "
    "December 2023 assumptions and leaves the rest as you set "
    "it; the sidebar's *Reset* restores the sidebar's defaults, a page's own *Reset* that "
    "page's inputs.\n"
    "- Each page varies one thing over a range and shows a chart, the table behind it "
    "(downloadable as CSV) and an expander with the formulas.\n"
    "- Every setting is in the page's URL: *Share this view* in the sidebar, under the "
    "scenario, gives a link that reopens the page exactly as you see it."
)

st.subheader("The claims, their verdicts, and where to check them")
st.caption(
    "Each claim checked by `costmodel.claims.check_all` at the sidebar's scenario: the "
    "status, the numbers behind it and the rule that decides it. Change the sidebar and "
    "the verdicts follow."
)
claims = cache.claims(sidebar.scenario())
query = sidebar.link_query()
widths = [1, 7, 2, 3]
for column, text in zip(
    st.columns(widths),
    ["**Claim**", "**What the document says**", "**Status**", "**Shown on**"],
    strict=True,
):
    column.markdown(text)
for row in claims.itertuples(index=False):
    id_col, text_col, status_col, link_col = st.columns(widths)
    id_col.markdown(f"**{row.id}**")
    text_col.markdown(escape(row.text) + ".")
    text_col.caption(escape(row.evidence))
    colour = verdicts.STATUS_COLOURS[row.status]
    status_col.markdown(f":{colour}-badge[{escape(row.status)}]")
    status_col.caption(escape(row.rule))
    with link_col:
        for stem in row.pages:  # carrying the sidebar's scenario, as the menu does
            st.page_link(PAGES[stem].path, label=PAGES[stem].title, query_params=query)
table = claims.assign(pages=claims["pages"].map(", ".join))
tables.download_csv(table, "claims.csv", label="Download the verdicts (CSV)")
