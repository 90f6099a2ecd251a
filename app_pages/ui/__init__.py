"""What the pages share, by what it holds.

- :mod:`~app_pages.ui.gate`: URL parameter rules and the check of one value (pure).
- :mod:`~app_pages.ui.params`: declare and draw URL-bound inputs, the sidebar scenario,
  the warning, Reset, presets, the share link.
- :mod:`~app_pages.ui.charts`: Altair helpers, one colour per series, the tornado.
- :mod:`~app_pages.ui.tables`: readable tables with a full-precision CSV.
- :mod:`~app_pages.ui.cache`: cached library calls.
- :mod:`~app_pages.ui.text`: text from a URL or upload made safe for Markdown.
"""

# Pages besides Home, in menu order: (path relative to app.py, title, icon).
PAGES = [
    ("app_pages/gpu_comparison.py", "GPU comparison", ":material/memory:"),
    ("app_pages/moe_batch_scaling.py", "MoE batch scaling", ":material/hub:"),
    ("app_pages/speculative_decoding.py", "Speculative decoding", ":material/bolt:"),
    ("app_pages/quantization_fit.py", "Quantization & memory fit", ":material/compress:"),
    ("app_pages/price_war.py", "Price-war margins", ":material/sell:"),
    ("app_pages/frontier.py", "Throughput vs interactivity", ":material/show_chart:"),
    ("app_pages/timeline.py", "Price-war timeline", ":material/timeline:"),
    ("app_pages/compare.py", "Compare two scenarios", ":material/compare_arrows:"),
    ("app_pages/validation.py", "Validation", ":material/fact_check:"),
]
