"""Cost model for serving large language models: memory, step time, speculation, economics.

Pure numpy and pandas. Start with ``evaluate(Scenario())`` or
``sweep(Scenario(), batch_size=[1, 8, 64])``; see ``Scenario`` for the inputs and
``OUTPUT_COLUMNS`` for the outputs, with their units.
"""

from costmodel.catalog import CUSTOM_PREFIX, Catalog, date_key, load_catalog
from costmodel.economics import (
    batch_grid,
    break_even_batch_size,
    break_even_utilization,
    provider_margins,
    revenue_per_request,
)
from costmodel.hf_config import load_hf_config, parse_hf_config, read_hf_config
from costmodel.scenario import FIELD_HELP, FIELD_NAMES, FIELD_RANGES, Scenario
from costmodel.sweep import OUTPUT_COLUMNS, evaluate, scan, sweep

__all__ = [
    "CUSTOM_PREFIX",
    "Catalog",
    "FIELD_HELP",
    "FIELD_NAMES",
    "FIELD_RANGES",
    "OUTPUT_COLUMNS",
    "Scenario",
    "analyses",
    "batch_grid",
    "break_even_batch_size",
    "break_even_utilization",
    "claims",
    "date_key",
    "evaluate",
    "load_catalog",
    "load_hf_config",
    "parse_hf_config",
    "provider_margins",
    "read_hf_config",
    "revenue_per_request",
    "scan",
    "sweep",
]

# Last: the analyses and claims use the names above at import time.
from costmodel import analyses, claims  # noqa: E402
