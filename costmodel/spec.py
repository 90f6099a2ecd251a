"""One input spec, from the library to the URL: ``Spec`` and the dataclass fields that carry it.

Every input of the library is a field of a plain, written-out frozen dataclass
(``Scenario``, each analysis's ``Options``) whose metadata holds its :class:`Spec`: kind,
default, range or choices, what an empty value means, unit, label, help and step. The
URL gate parses text by it and the app draws one widget from it; the library checks a
value by it (:meth:`Spec.check`, ``ValueError`` naming the input and the allowed range).

Declare a field with one of :func:`number`, :func:`integer`, :func:`flag`, :func:`choice`
or :func:`entries` (or :func:`nested`: a value that is itself such a dataclass)::

    @dataclass(frozen=True)
    class Options(Checked):
        users: int = integer(40, 1, 4096, unit="users", label="Concurrent users", help="...")

:func:`specs` lists a class's specs by field name, in order; :class:`Checked` is the base
that checks and normalises every field when an instance is made.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Kinds of input: whole numbers, reals, true/false, an id (or a tuple of ids with
#: ``many``), and entries: a tuple of ``(id, number, ...)`` rows (your own GPU prices).
INT, FLOAT, BOOL, CHOICE, ENTRIES = "int", "float", "bool", "choice", "entries"
KINDS = (INT, FLOAT, BOOL, CHOICE, ENTRIES)
NUMERIC = (INT, FLOAT)

#: Which tornado moves an input (``Spec.sensitivity``): always, only with speculative
#: decoding, only under expert parallelism; "" never.
ALWAYS, SPECULATIVE, EXPERT_PARALLEL = "always", "speculative", "expert_parallel"


@dataclass(frozen=True)
class Spec:
    """One input: what it holds, its default and rules, and how it is shown.

    ``kind``: one of ``KINDS``. Numbers lie in ``[low, high]`` and move by ``step`` in a
    widget. A choice is one of ``choices`` or an id of the catalog table
    ``catalog_table`` (checked against the catalog used), a tuple of them with ``many``.
    Entries are rows ``(id, number, ...)``: the id one of ``choices`` (any text if
    none), each number in ``[low, high]``, ``columns`` naming the numbers. ``names``:
    (choice, what it means in words) pairs, for a choice whose ids are not words. ``empty``
    says what None means, for a list what an empty list means (``""``: not allowed).
    ``label`` is the short label without the unit (:attr:`labelled` adds it);
    ``sensitivity`` which tornado moves it.
    ``name`` is filled in by :func:`specs`.
    """

    kind: str
    default: Any
    label: str
    help: str
    unit: str = ""
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple = ()
    catalog_table: str | None = None
    many: bool = False
    columns: tuple[str, ...] = ()
    names: tuple[tuple[str, str], ...] = ()
    empty: str = ""
    sensitivity: str = ""
    name: str = ""

    def __post_init__(self):
        who = self.name or self.label
        if self.kind not in KINDS:
            raise ValueError(f"{who}: kind must be one of {', '.join(KINDS)}; got {self.kind!r}")
        ranged = self.kind in NUMERIC or (self.kind == ENTRIES and bool(self.columns))
        if ranged != (None not in (self.low, self.high, self.step)):
            raise ValueError(f"{who}: numeric inputs (only) need low, high and step")
        if not self.label or not self.help:
            raise ValueError(f"{who}: every input needs a label and a help text")

    @property
    def range(self) -> tuple[float, float]:
        """``(low, high)``, the closed allowed range."""
        return (self.low, self.high)

    @property
    def labelled(self) -> str:
        """The label with its unit in brackets: "GPU price [$/GPU-hour]"."""
        return f"{self.label} [{self.unit}]" if self.unit else self.label

    @property
    def optional(self) -> bool:
        """Whether None is allowed (and means :attr:`empty`): a single value's."""
        return bool(self.empty) and not self.many

    def allowed(self) -> str:
        """The rule in words, for a message: "an integer from 1 to 64"."""
        if self.kind == BOOL:
            return "True or False"
        if self.kind == CHOICE:
            listed = ", ".join(map(str, self.choices[:12])) + (
                ", ..." if len(self.choices) > 12 else ""
            )
            ids = listed or f"an id of the catalog's {self.catalog_table}"
            return f"{'any of' if self.many else 'one of'} {ids}"
        if self.kind == ENTRIES:
            return f"rows (id, {', '.join(self.columns)}), each number in [{self.low}, {self.high}]"
        what = "an integer" if self.kind == INT else "a number"
        return f"{what} in [{self.low}, {self.high}]"

    def check(self, value: Any) -> Any:
        """``value`` checked and normalised (int, float, bool, str, tuple or None).

        ``ValueError`` naming the input and the allowed values otherwise. Choices of a
        ``catalog_table`` are only checked to be text here; the catalog checks the ids.
        """
        if value is None and self.optional:
            return None
        if self.kind in NUMERIC:
            return self._number(self.name, value)
        if self.kind == BOOL:
            if not isinstance(value, bool | np.bool_):
                raise ValueError(f"{self.name} must be True or False; got {value!r}")
            return bool(value)
        if self.kind == CHOICE:
            if not self.many:
                return self._id(self.name, value)
            if not isinstance(value, list | tuple):
                raise ValueError(f"{self.name} must be a list of ids; got {value!r}")
            return tuple(self._id(self.name, v) for v in value)
        return self._entries(value)

    def _number(self, name: str, value: Any) -> int | float:
        return check_number(name, value, self.low, self.high, integer=self.kind == INT)

    def _id(self, name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(f"{name} must be an id (a string); got {value!r}")
        if self.choices and value not in self.choices:
            raise ValueError(
                f"{name} must be one of {', '.join(map(str, self.choices))}; got {value!r}"
            )
        return value

    def _entries(self, value: Any) -> tuple:
        if not isinstance(value, list | tuple):
            raise ValueError(f"{self.name} must be a list of rows; got {value!r}")
        rows = []
        for i, row in enumerate(value):
            if not isinstance(row, list | tuple) or len(row) != 1 + len(self.columns):
                raise ValueError(
                    f"{self.name}[{i}] must be a row (id, {', '.join(self.columns)}); got {row!r}"
                )
            key = self._id(f"{self.name}[{i}]", row[0])
            rows.append(
                (
                    key,
                    *(
                        self._number(f"{self.name}[{key}].{c}", v)
                        for c, v in zip(self.columns, row[1:], strict=True)
                    ),
                )
            )
        return tuple(rows)


def check_number(name: str, value: Any, low: float, high: float, integer: bool = False):
    """``value`` as an int (``integer``) or float in ``[low, high]``; else ``ValueError``
    naming ``name`` and the range. No bool, NaN, infinity or int beyond a float (10**400)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)
    ok = ok and (isinstance(value, numbers.Integral) or not integer)
    try:
        ok = ok and math.isfinite(value) and low <= value <= high
    except OverflowError:
        ok = False
    if not ok:
        kind = "an integer" if integer else "a number"
        raise ValueError(f"{name} must be {kind} in [{low}, {high}]; got {value!r}")
    return int(value) if integer else float(value)


def field(spec: Spec) -> Any:
    """A dataclass field with ``spec``'s default and ``spec`` in its metadata."""
    return dataclasses.field(default=spec.default, metadata={"spec": spec})


def number(default, low, high, step, *, label, help, unit="", empty="", sensitivity="") -> Any:
    """A real input in ``[low, high]``; ``empty`` says what None means (None not allowed
    when it is ``""``)."""
    return field(
        Spec(
            FLOAT, default, label, help, unit, low, high, step, empty=empty, sensitivity=sensitivity
        )
    )


def integer(default, low, high, step=1, *, label, help, unit="", empty="", sensitivity="") -> Any:
    """A whole-number input in ``[low, high]``."""
    return field(
        Spec(INT, default, label, help, unit, low, high, step, empty=empty, sensitivity=sensitivity)
    )


def flag(default: bool, *, label: str, help: str) -> Any:
    """A true/false input."""
    return field(Spec(BOOL, default, label, help))


def choice(
    default,
    *,
    label,
    help,
    unit="",
    choices=(),
    catalog_table=None,
    many=False,
    empty="",
    names: Mapping[str, str] | None = None,
) -> Any:
    """An id of ``choices`` or of the catalog table ``catalog_table`` (a tuple of them with
    ``many``); ``empty`` says what None means; ``names``: choice -> its meaning in words."""
    default = tuple(default) if many else default
    spec = Spec(
        CHOICE,
        default,
        label,
        help,
        unit,
        choices=tuple(choices),
        catalog_table=catalog_table,
        many=many,
        empty=empty,
        names=tuple((names or {}).items()),
    )
    return field(spec)


def entries(
    columns, low, high, step, *, label, help, unit="", choices=(), catalog_table=None
) -> Any:
    """Rows ``(id, number, ...)``, empty by default: ``columns`` names the numbers, each in
    ``[low, high]``; the id is one of ``choices`` or of ``catalog_table``."""
    return field(
        Spec(
            ENTRIES,
            (),
            label,
            help,
            unit,
            low,
            high,
            step,
            choices=tuple(choices),
            catalog_table=catalog_table,
            columns=tuple(columns),
        )
    )


def nested(default: Checked) -> Any:
    """A field whose value is itself a :class:`Checked` dataclass of specced inputs (a
    ``pricing.PriceRule`` in an analysis's options): checked to be of its type; its own
    fields carry their specs (``specs(type(default))``)."""
    return dataclasses.field(default=default, metadata={"nested": type(default)})


@functools.cache
def specs(cls: type) -> Mapping[str, Spec]:
    """Field name -> its :class:`Spec` (with ``name`` filled in), in the class's order
    (read-only; made once per class)."""
    return types.MappingProxyType(
        {
            f.name: dataclasses.replace(f.metadata["spec"], name=f.name)
            for f in dataclasses.fields(cls)
            if "spec" in f.metadata
        }
    )


class Checked:
    """Base of a frozen dataclass of specced fields: checks and normalises each on creation
    (``ValueError`` naming the field), and :meth:`replace` makes a checked copy."""

    def __post_init__(self):
        for name, spec in specs(type(self)).items():
            object.__setattr__(self, name, spec.check(getattr(self, name)))
        for f in dataclasses.fields(self):
            kind = f.metadata.get("nested")
            if kind is not None and not isinstance(getattr(self, f.name), kind):
                where = kind.__module__.removeprefix("costmodel.")
                raise ValueError(
                    f"{f.name} must be a {where}.{kind.__name__}; got {getattr(self, f.name)!r}"
                )

    def replace(self, **changes):
        """A copy with some fields changed (checked).

        Only the changed fields are checked again (the others were checked when ``self``
        was made), unless the class adds checks of its own in ``__post_init__``: then the
        copy is made, and checked whole, by ``dataclasses.replace``.
        """
        if type(self).__post_init__ is not Checked.__post_init__:
            return dataclasses.replace(self, **changes)
        unknown = changes.keys() - self.__dataclass_fields__.keys()
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {', '.join(sorted(unknown))}")
        field_specs = specs(type(self))
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        for name, value in changes.items():
            object.__setattr__(copy, name, value)
        for name, spec in field_specs.items():  # in field order, as on creation
            if name in changes:
                object.__setattr__(copy, name, spec.check(changes[name]))
        if changes.keys() - field_specs.keys():
            Checked.__post_init__(copy)  # a nested field changed: its type checked as made
        return copy
