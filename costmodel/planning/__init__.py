"""Plan and decide: workloads, latency with queueing, fleet size, energy, API vs rent vs buy."""

from costmodel.planning.workloads import (
    LengthDistribution,
    RequestClass,
    Workload,
    catalog_workloads,
    get_workload,
    request_class,
    workload,
)

__all__ = [
    "LengthDistribution",
    "RequestClass",
    "Workload",
    "catalog_workloads",
    "get_workload",
    "request_class",
    "workload",
]
