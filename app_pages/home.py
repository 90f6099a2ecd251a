"""Home: the question, how to read the pages, and where each claim of the seed is shown."""

import streamlit as st

from app_pages import ui

GPU, MOE, SPEC, QUANT, PRICE = (
    "app_pages/gpu_comparison.py",
    "app_pages/moe_batch_scaling.py",
    "app_pages/speculative_decoding.py",
    "app_pages/quantization_fit.py",
    "app_pages/price_war.py",
)
# (id, claim of the seed document, pages that show it)
CLAIMS = [
    ("C1", "OpenAI GPT-3.5 Turbo: \\$1.00 / M input, \\$2.00 / M output tokens.", [PRICE]),
    ("C2", "Mistral's own Mixtral API: \\$0.65 / M input, \\$1.96 / M output tokens.", [PRICE]),
    (
        "C3",
        "Within hours: Together \\$0.60 output, no input charge; Perplexity \\$0.14 / \\$0.56; "
        "Anyscale \\$0.50; DeepInfra \\$0.27; OpenRouter free (rate-limited).",
        [PRICE],
    ),
    (
        "C4",
        "Even optimistically (2x H100, BF16, \\$1.95 per GPU-hour, 24/7 at a large batch) "
        "Mistral's price barely breaks even; the others lose money.",
        [PRICE, GPU],
    ),
    (
        "C5",
        "2x A100 80GB gives about 32% more memory bandwidth per dollar than 2x H100; "
        "the A100's lower FLOPS barely matter for decode.",
        [GPU],
    ),
    ("C6", "At the collapsed prices even 2x A100 cannot make a profit.", [PRICE]),
    (
        "C7",
        "MoE at batch 1 reads 2 of 8 experts; larger batches touch every expert, so batching "
        "lowers MoE cost less than dense cost.",
        [MOE],
    ),
    ("C8", "This is one main reason models cannot just add ever more experts.", [MOE]),
    (
        "C9",
        "Together: about 170 tokens/s per sequence at temperature 0, about 80 at temperature 2; "
        "the gap points to speculative decoding.",
        [SPEC],
    ),
    (
        "C10",
        "Speculative decoding cuts bandwidth per token; drafts are accepted more often at low "
        "temperature.",
        [SPEC],
    ),
    (
        "C11",
        "It helps MoE much less: draft tokens hit other experts; MoE prefill is also dearer "
        "per token than dense.",
        [SPEC, MOE],
    ),
    (
        "C12",
        "FP8 keeps quality; INT4 on such large models does not; careless quantisation degrades "
        "output.",
        [QUANT],
    ),
    (
        "C13",
        "FP8 still needs 2 GPUs because of the KV cache of the 40-50+ concurrent users a chat "
        "service needs.",
        [QUANT],
    ),
    (
        "C14",
        "H200 (141 GB) and MI300X (192 GB) beat A100 and H100 on cost per token; dropping "
        "tensor parallelism is a large gain.",
        [GPU, QUANT],
    ),
]

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
    "- Every setting is in the page's URL: *Share this view* at the bottom of the sidebar "
    "gives a link that reopens the page exactly as you see it."
)

st.subheader("The claims, and where to check them")
widths = [1, 9, 4]
for column, text in zip(
    st.columns(widths), ["**Claim**", "**What the document says**", "**Shown on**"], strict=True
):
    column.markdown(text)
for claim_id, text, paths in CLAIMS:
    id_col, text_col, link_col = st.columns(widths, vertical_alignment="center")
    id_col.markdown(f"**{claim_id}**")
    text_col.markdown(text)
    with link_col:
        for path in paths:
            st.page_link(path, label=next(t for p, t, _ in ui.PAGES if p == path))
