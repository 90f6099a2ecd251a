"""Cost model for serving large language models: memory, step time, speculation, economics.

Pure numpy and pandas. Start with ``evaluate(Scenario())`` or
``sweep(Scenario(), batch_size=[1, 8, 64])``; ``frontier(Scenario(...))`` gives the
throughput-interactivity front over batch, GPUs, TP/EP and disaggregation (its helpers
live in the ``costmodel.frontier`` module: ``from costmodel.frontier import ...``); see
``Scenario`` for the inputs (``FIELDS`` for each one's ``Spec``: unit, range and label)
and ``OUTPUT_COLUMNS`` for the outputs. Each page's question is an analysis,
``costmodel.analyses.<question>.run(scenario, options)``.

This module only hands names on: no module of the package imports it.
"""

from costmodel import (
    analyses,
    claims,
    presets,
    price_files,
    pricing,
    sensitivity,
    shapley,
    validation,
)
from costmodel.catalog import CUSTOM_PREFIX, Catalog, date_key, load_catalog
from costmodel.economics import batch_grid, break_even_utilization, revenue_per_request
from costmodel.evaluation import (
    MAX_SWEEP_ROWS,
    OUTPUT_COLUMNS,
    average_context_tokens,
    check_scenario,
    evaluate,
    scan,
    sweep,
    tensor_parallel_sizes,
)
from costmodel.fields import (
    FIELD_HELP,
    FIELD_LABELS,
    FIELD_NAMES,
    FIELD_RANGES,
    FIELD_STEPS,
    FIELDS,
)
from costmodel.frontier import frontier, frontier_for_gpus
from costmodel.hf_config import (
    describe_hf_config,
    load_hf_config,
    model_name,
    parse_hf_config,
    read_hf_config,
)
from costmodel.margins import break_even_batch_size, provider_margins
from costmodel.scenario import Scenario
from costmodel.shapley import attribution
from costmodel.spec import Spec, specs

__all__ = [
    "CUSTOM_PREFIX",
    "Catalog",
    "FIELDS",
    "FIELD_HELP",
    "FIELD_LABELS",
    "FIELD_NAMES",
    "FIELD_RANGES",
    "FIELD_STEPS",
    "MAX_SWEEP_ROWS",
    "OUTPUT_COLUMNS",
    "Scenario",
    "Spec",
    "analyses",
    "attribution",
    "average_context_tokens",
    "batch_grid",
    "break_even_batch_size",
    "break_even_utilization",
    "check_scenario",
    "claims",
    "date_key",
    "describe_hf_config",
    "evaluate",
    "frontier",
    "frontier_for_gpus",
    "load_catalog",
    "load_hf_config",
    "model_name",
    "parse_hf_config",
    "presets",
    "price_files",
    "pricing",
    "provider_margins",
    "read_hf_config",
    "revenue_per_request",
    "scan",
    "sensitivity",
    "shapley",
    "specs",
    "sweep",
    "tensor_parallel_sizes",
    "validation",
]
