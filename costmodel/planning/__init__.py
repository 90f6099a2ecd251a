"""Plan and decide: workloads, latency with queueing, fleet size, energy, API vs rent vs buy.

``size_fleet`` (``fleet``) sizes the cheapest fleet per GPU for a workload, a traffic and
latency targets; ``latency`` holds the queueing model (``service_times``,
``latency_table``, ``closed_loop``), ``simulation`` its discrete-event check, ``energy``
watts and joules per token, ``buy_rent_api`` the monthly bills of an API, a rented and a
bought fleet over volume.
"""

from costmodel.planning.buy_rent_api import api_bill, compare, ownership_cost, purchase_prices
from costmodel.planning.energy import fleet_energy, gpu_power
from costmodel.planning.fleet import (
    FleetPlan,
    cheapest_at,
    cheapest_fleets,
    fleet_gpus,
    plan_fleets,
    plan_from_service,
    request_rate,
    size_fleet,
)
from costmodel.planning.latency import closed_loop, latency_table, service_times
from costmodel.planning.simulation import simulate_ttft_ms
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
    "FleetPlan",
    "LengthDistribution",
    "RequestClass",
    "Workload",
    "api_bill",
    "catalog_workloads",
    "cheapest_at",
    "cheapest_fleets",
    "closed_loop",
    "compare",
    "fleet_energy",
    "fleet_gpus",
    "get_workload",
    "gpu_power",
    "latency_table",
    "ownership_cost",
    "plan_fleets",
    "plan_from_service",
    "purchase_prices",
    "request_class",
    "request_rate",
    "service_times",
    "simulate_ttft_ms",
    "size_fleet",
    "workload",
]
