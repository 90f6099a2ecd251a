"""What the pages share, by what it holds.

- :mod:`~app_pages.ui.gate`: URL text -> values by each input's ``Spec`` (pure).
- :mod:`~app_pages.ui.url`: the URL's state: declare inputs through the gate, Back
  memory, the warning, fragments, the share link.
- :mod:`~app_pages.ui.widgets`: one spec, one widget; presets and Reset.
- :mod:`~app_pages.ui.sidebar`: the shared scenario and the menu that carries it.
- :mod:`~app_pages.ui.charts`: Altair helpers, one colour per series, the tornado.
- :mod:`~app_pages.ui.tables`: readable tables with a full-precision CSV.
- :mod:`~app_pages.ui.cache`: cached library calls.
- :mod:`~app_pages.ui.models`: an uploaded model that travels in the URL.
- :mod:`~app_pages.ui.text`: text from a URL or upload made safe for Markdown.
"""

from typing import NamedTuple


class PageInfo(NamedTuple):
    """A page of the menu: its file (relative to app.py), title, icon, and the sidebar
    fields it does not use (it sweeps or searches them: drawn disabled, saying so)."""

    path: str
    title: str
    icon: str
    ignored: tuple[str, ...] = ()
    default: bool = False

    @property
    def url_path(self) -> str:
        """The page's URL path, as ``st.navigation`` makes it ("" for Home)."""
        return "" if self.default else self.path.removeprefix("app_pages/").removesuffix(".py")


#: Sidebar fields the planning pages (fleet sizing; API, rent or buy) do not use: the
#: sizer picks GPUs per replica, batch caps and parallelism for the page's GPU types, and
#: costs a fleet as its GPUs x price x hours (no utilization).
PLANNING_IGNORED = ("gpu", "n_gpus", "batch_size", "expert_parallel", "utilization")

#: Sidebar fields a page that takes each setup from measurements does not use (Validation,
#: Calibrate): each measured run brings its formats, batch, lengths and parallelism.
MEASURED_SETUP = (
    *("weight_format", "attention_format", "kv_format"),
    *("batch_size", "prompt_tokens", "output_tokens", "prefix_cache_hit_rate"),
    *("expert_parallel", "redundant_experts", "usd_per_gpu_hour", "utilization"),
)

#: Every page in menu order, Home first.
PAGES = [
    PageInfo("app_pages/home.py", "Home", ":material/home:", default=True),
    PageInfo("app_pages/gpu_comparison.py", "GPU comparison", ":material/memory:"),
    PageInfo("app_pages/moe_batch_scaling.py", "MoE batch scaling", ":material/hub:"),
    PageInfo("app_pages/speculative_decoding.py", "Speculative decoding", ":material/bolt:"),
    PageInfo("app_pages/quantization_fit.py", "Quantization & memory fit", ":material/compress:"),
    PageInfo("app_pages/price_war.py", "Price-war margins", ":material/sell:"),
    PageInfo(
        "app_pages/frontier.py",
        "Throughput vs interactivity",
        ":material/show_chart:",
        ignored=("gpu", "n_gpus", "batch_size", "usd_per_gpu_hour"),
    ),
    PageInfo(
        "app_pages/fleet_sizing.py", "Fleet sizing", ":material/dns:", ignored=PLANNING_IGNORED
    ),
    PageInfo(
        "app_pages/buy_or_rent.py",
        "API, rent or buy",
        ":material/balance:",
        ignored=PLANNING_IGNORED,
    ),
    PageInfo(
        "app_pages/timeline.py",
        "Price-war timeline",
        ":material/timeline:",
        ignored=("gpu", "n_gpus", "weight_format", "attention_format", "usd_per_gpu_hour"),
    ),
    PageInfo("app_pages/compare.py", "Compare two scenarios", ":material/compare_arrows:"),
    PageInfo(
        "app_pages/validation.py",
        "Validation",
        ":material/fact_check:",
        ignored=("model", "gpu", "n_gpus", *MEASURED_SETUP),
    ),
    PageInfo(
        "app_pages/calibration.py",
        "Calibrate to your benchmark",
        ":material/tune:",
        # the model, GPU, count and stack fill what a file does not say
        ignored=(*MEASURED_SETUP, "serving_stack_as_of"),
    ),
]


def page_of(url_path: str) -> PageInfo:
    """The page whose URL path is ``url_path`` (Home for an unknown one)."""
    return next((p for p in PAGES if p.url_path == url_path), PAGES[0])
