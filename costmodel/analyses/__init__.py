"""Each page's question as a library call: ``costmodel.analyses.<question>.run(scenario, options)``.

Every module has a frozen ``Options`` dataclass (the question's own inputs, named as the
page's URL keys, each with its default, range, label and help in the field metadata;
see ``options.specs``), a ``Result`` dataclass (unit-named DataFrames and the decisions
in numbers and words) and ``run(scenario=None, options=None, catalog=None) -> Result``.
"""

from costmodel.analyses import (
    buy_or_rent,
    calibration,
    disclosures,
    fleet_sizing,
    frontier,
    gpu_comparison,
    memory_fit,
    moe_scaling,
    options,
    price_war,
    speculative,
    timeline,
)

__all__ = [
    "buy_or_rent",
    "calibration",
    "disclosures",
    "fleet_sizing",
    "frontier",
    "gpu_comparison",
    "memory_fit",
    "moe_scaling",
    "options",
    "price_war",
    "speculative",
    "timeline",
]
