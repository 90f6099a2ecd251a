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
    BOOL,
    CHOICE,
    EXPERT_PARALLEL,
    FLOAT,
    INT,
    NUMERIC,
    SPECULATIVE,
    Spec,
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
    """``check_field`` for each of ``values`` (a list, tuple or array), as arrays.

    The values are grouped by type (:func:`first_bad`): numbers, flags and ids are
    checked by array operations, None by whether the field is optional, any other type
    value by value. The first bad value raises the same ``ValueError`` as
    ``check_field`` (so a bool among integers, a 2.5 or a NaN is named as it is).
    """
    spec = _spec(name)
    if not isinstance(values, list | tuple | np.ndarray):
        values = list(values)
    first = first_bad(spec, values)
    if first is not None:
        spec.check(values[first])  # raises; first_bad agrees with Spec.check


#: Types whose values :func:`first_bad` checks as one float array, per kind of number
#: (a bool is not a number; ``np.longdouble`` would round in float64).
_NUMBER_TYPES = {
    INT: (int, np.integer),
    FLOAT: (int, float, np.integer, np.float16, np.float32, np.float64),
}


def _array_checked(spec: Spec, kind: type) -> bool:
    """Whether :func:`first_bad` checks values of type ``kind`` as an array for ``spec``."""
    if spec.kind in NUMERIC:
        return issubclass(kind, _NUMBER_TYPES[spec.kind]) and not issubclass(kind, bool)
    if spec.kind == BOOL:
        return issubclass(kind, bool | np.bool_)
    return spec.kind == CHOICE and not spec.many and issubclass(kind, str)


def _bad_in_array(spec: Spec, values: np.ndarray) -> np.ndarray:
    """Which of ``values`` (all of types :func:`_array_checked` accepts) ``spec`` rejects.

    Numbers: outside ``[low, high]`` or NaN (as floats: every bound is a small integer
    or a float, so the conversion moves no value across one); ids: not in ``choices``
    (each distinct id looked up once); flags: none.
    """
    if spec.kind in NUMERIC:
        numbers = values.astype(float) if values.dtype == object else values
        return ~((numbers >= spec.low) & (numbers <= spec.high))
    if spec.kind == CHOICE and spec.choices:
        ids, which = np.unique(values.astype(object), return_inverse=True)
        return ~np.array([i in spec.choices for i in ids], bool)[which.reshape(-1)]
    return np.zeros(len(values), bool)


#: Up to this many values :func:`first_bad` checks one by one (quicker than the arrays'
#: fixed cost of some 10 us).
_ONE_BY_ONE_MAX = 16


def first_bad(spec: Spec, values) -> int | None:
    """Index of the first of ``values`` (a list, tuple or 1-D array) that ``spec.check``
    rejects, or None.

    An array of a number, bool or text dtype is one type; otherwise each value's type
    is read once and the values are grouped by it: None is bad unless the field is
    optional; the types :func:`_array_checked` accepts are checked together as an array
    (:func:`_bad_in_array`; a Python int too large for a float, value by value); any
    other type value by value (``Spec.check``), stopping at the first bad one. Up to
    ``_ONE_BY_ONE_MAX`` values are checked one by one.
    ``first_bad(FIELDS["batch_size"], [8, True, 0])``: 1.
    """
    n = len(values)
    if n <= _ONE_BY_ONE_MAX:
        for i, value in enumerate(values):
            try:
                spec.check(value)
            except ValueError:
                return i
        return None
    every = np.ones(n, bool)
    if isinstance(values, np.ndarray) and values.dtype != object:
        kinds, objects = {values.dtype.type: every}, values
    else:
        distinct = set(map(type, values))
        if len(distinct) == 1:  # one type (the usual column): numpy picks the dtype
            (kind,) = distinct
            kinds = {kind: every}
            one = _array_checked(spec, kind) and kind is not type(None)
            objects = np.asarray(values) if one else np.fromiter(values, object, n)
        else:
            code = {t: i for i, t in enumerate(distinct)}
            type_code = np.fromiter(map(code.__getitem__, map(type, values)), np.intp, n)
            kinds = {t: type_code == i for t, i in code.items()}
            objects = np.fromiter(values, object, n)
    bad = np.zeros(n, bool)
    checked = np.zeros(n, bool)
    for kind, rows in kinds.items():
        if kind is type(None):
            bad |= rows & (not spec.optional)
        elif _array_checked(spec, kind):
            checked |= rows
        else:
            bad |= rows & _bad_one_by_one(spec, values, rows)
    if checked.all():
        bad = _array_bad(spec, values, objects, checked)
    elif checked.any():
        where = np.flatnonzero(checked)
        bad[where] = _array_bad(spec, values, objects[where], checked)[where]
    return int(np.argmax(bad)) if bad.any() else None


def _array_bad(spec: Spec, values, objects: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """:func:`_bad_in_array` of ``objects`` (``values`` at ``rows``), value by value
    (over all ``values``' ``rows``) if one is an int beyond any float."""
    try:
        bad = _bad_in_array(spec, objects)
    except OverflowError:
        return _bad_one_by_one(spec, values, rows)
    if len(bad) == len(rows):
        return bad
    out = np.zeros(len(rows), bool)
    out[rows] = bad
    return out


def _bad_one_by_one(spec: Spec, values, rows: np.ndarray) -> np.ndarray:
    """Which of ``values`` at ``rows`` ``spec.check`` rejects, up to the first one."""
    bad = np.zeros(len(rows), bool)
    for i in np.flatnonzero(rows):
        try:
            spec.check(values[i])
        except ValueError:
            bad[i] = True
            break
    return bad
