"""Options of an analysis: a frozen dataclass of specced fields (``costmodel.spec``).

Each analysis declares ``class Options(AnalysisOptions)`` with its fields made by
``spec.number``, ``integer``, ``flag``, ``choice`` or ``entries`` (each carrying its
default, range, unit, label and help), and the shared shapes here:
:func:`scenario_field` (over a ``Scenario`` field's range), :func:`count` (a whole number
from 1) and :func:`change_pct` (a tornado's move). ``AnalysisOptions`` checks every field
when an instance is made (``ValueError`` naming the option and its allowed range or
choices) and normalises numbers; ``spec.specs(Options)`` lists the specs for a page.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from costmodel.fields import FIELDS
from costmodel.spec import Checked, field, integer, number

#: How far a tornado may move each assumption, and the widget's step [%].
CHANGE_PCT_RANGE = (1.0, 90.0, 5.0)


class AnalysisOptions(Checked):
    """Base of every analysis's frozen ``Options`` dataclass: checks fields on creation."""


def scenario_field(name: str, **changes: Any) -> Any:
    """An option over the range of ``Scenario`` field ``name``: its spec (kind, range,
    step, unit, label, help, default) with ``changes`` (e.g. another default or label)."""
    return field(dataclasses.replace(FIELDS[name], name="", **changes))


def count(default: int, *, most: int, label: str, help: str, unit: str = "") -> Any:
    """A whole-number option from 1 to ``most`` in steps of 1 (experts, GPUs, users)."""
    return integer(default, 1, most, 1, label=label, help=help, unit=unit)


def change_pct(setup: str) -> Any:
    """``change_pct``: how far a tornado of ``setup`` moves each assumption [%]."""
    return number(
        20.0,
        *CHANGE_PCT_RANGE,
        unit="%",
        label="Move each assumption by ±",
        help=f"Tornado of {setup}: each assumption moved down and up by this many percent, "
        "one at a time [%]",
    )
