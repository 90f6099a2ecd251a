"""Views of the ``Scenario`` fields' specs, for the rest of the library and the app.

``FIELDS`` is ``spec.specs(Scenario)`` (name -> ``Spec``); ``FIELD_RANGES``,
``FIELD_HELP``, ``FIELD_LABELS``, ``FIELD_STEPS`` and the tuples of names below are
derived from it. ``check_field`` checks type and range only; catalog ids (model, GPU,
formats) are checked against the catalog actually used, when a scenario is evaluated
(``evaluation.check_ids``).
"""

from __future__ import annotations

import numpy as np

from costmodel.scenario import KV_FORMATS, Scenario
from costmodel.spec import (
    ALWAYS,
    CHOICE,
    EXPERT_PARALLEL,
    FLOAT,
    INT,
    NUMERIC,
    SPECULATIVE,
    specs,
)

__all__ = ["FIELDS", "KV_FORMATS", "check_field", "check_values", "normalized"]

#: Every Scenario field's spec, in Scenario's order.
FIELDS = specs(Scenario)
FIELD_NAMES: tuple[str, ...] = tuple(FIELDS)
#: Allowed closed range of every numeric field (ints for integer fields).
FIELD_RANGES: dict[str, tuple[float, float]] = {
    n: s.range for n, s in FIELDS.items() if s.kind in NUMERIC
}
#: One-line meaning and unit of every field (docs and the app's help texts).
FIELD_HELP: dict[str, str] = {n: s.help for n, s in FIELDS.items()}
#: Short UI label with the unit, e.g. "GPU price [$/GPU-hour]".
FIELD_LABELS: dict[str, str] = {n: s.labelled for n, s in FIELDS.items()}
#: Widget step of every numeric field.
FIELD_STEPS: dict[str, float] = {n: s.step for n, s in FIELDS.items() if s.kind in NUMERIC}
INTEGER_FIELDS: tuple[str, ...] = tuple(n for n, s in FIELDS.items() if s.kind == INT)
#: Numeric fields whose None means a catalog default (the GPU family and serving stack's).
FAMILY_DEFAULT_FIELDS: tuple[str, ...] = tuple(
    n for n, s in FIELDS.items() if s.kind == FLOAT and s.optional
)
#: Assumptions the cost depends on only under expert parallelism (the all-to-all).
EXPERT_PARALLEL_SENSITIVITY_FIELDS: tuple[str, ...] = tuple(
    n for n, s in FIELDS.items() if s.sensitivity == EXPERT_PARALLEL
)
#: Every achieved efficiency and fixed latency of the step-time model (what Validation
#: calibrates, the sidebar's "Efficiencies" box): per GPU, then its links, then the
#: expert-parallel network.
EFFICIENCY_FIELDS: tuple[str, ...] = (
    "bandwidth_efficiency",
    "compute_efficiency",
    "moe_kernel_efficiency",
    "moe_half_experts",
    "layer_overhead_us",
    "kernel_us",
    "allreduce_latency_us",
    "link_efficiency",
    *EXPERT_PARALLEL_SENSITIVITY_FIELDS,
)
CHOICE_FIELDS: tuple[str, ...] = tuple(n for n, s in FIELDS.items() if s.kind == CHOICE)
#: Choice fields that may be None (``Spec.empty`` says what None means).
OPTIONAL_CHOICE_FIELDS: tuple[str, ...] = tuple(n for n in CHOICE_FIELDS if FIELDS[n].optional)
#: Named assumptions the cost depends on, moved one at a time by ``sensitivity.tornado``.
SENSITIVITY_FIELDS: tuple[str, ...] = tuple(n for n, s in FIELDS.items() if s.sensitivity == ALWAYS)
#: Assumptions the cost depends on only with speculative decoding.
SPECULATIVE_SENSITIVITY_FIELDS: tuple[str, ...] = tuple(
    n for n, s in FIELDS.items() if s.sensitivity == SPECULATIVE
)


def _spec(name: str):
    spec = FIELDS.get(name)
    if spec is None:
        raise ValueError(f"unknown scenario field {name!r}; fields are {', '.join(FIELD_NAMES)}")
    return spec


def normalized(name: str, value):
    """``value`` checked (``ValueError`` naming ``name``) and as the field's Python type.

    Catalog ids are only checked to be strings here (and ``kv_format`` one of
    ``KV_FORMATS``); ``evaluation.check_ids`` checks them against a catalog.
    """
    return _spec(name).check(value)


def check_field(name: str, value) -> None:
    """Raise ``ValueError`` naming ``name`` if ``value`` has the wrong type or range."""
    normalized(name, value)


def check_values(name: str, values) -> None:
    """``check_field`` for each of ``values``; long numeric lists are checked as one array.

    The array path accepts only integer (or, for real fields, integer and float) dtypes
    and no bools; anything else is checked value by value. A bad value raises the same
    ``ValueError`` as ``check_field``.
    """
    spec = _spec(name)
    kinds = {INT: "iu", FLOAT: "iuf"}.get(spec.kind)
    if kinds and len(values) > 16 and not any(isinstance(v, bool) for v in values):
        array = np.asarray(values)
        if array.dtype.kind in kinds:
            bad = ~((array >= spec.low) & (array <= spec.high))
            if bad.any():
                check_field(name, values[int(np.argmax(bad))])
            return
    for value in values:
        check_field(name, value)
