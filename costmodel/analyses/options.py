"""Options of an analysis: each a dataclass field whose metadata a page draws its widget from.

``option(default, label=..., help=..., low=..., high=..., step=..., choices=...)``
declares one input; :class:`AnalysisOptions` checks every field when an instance is made
(``ValueError`` naming the option and its allowed range or choices) and normalises
numbers (integers for ``integer=True`` options, floats otherwise). ``specs(cls)`` lists
the fields with their default and metadata, in order, for a page to draw widgets from.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any

#: Metadata keys an option may carry.
METADATA_KEYS = ("label", "help", "low", "high", "step", "choices", "integer", "optional")


def option(default: Any, *, label: str, help: str, **metadata: Any) -> Any:
    """A dataclass field with a default and widget metadata (keys in ``METADATA_KEYS``).

    ``low``/``high``: closed numeric range; ``integer``: whole numbers only; ``choices``:
    allowed values (for a tuple-valued option, of each element); ``optional``: None
    allowed (it means the documented fallback); ``step``: the widget's step.
    """
    unknown = set(metadata) - set(METADATA_KEYS)
    if unknown:
        raise ValueError(f"unknown option metadata {sorted(unknown)}; keys are {METADATA_KEYS}")
    return dataclasses.field(default=default, metadata={"label": label, "help": help, **metadata})


def check_number(name: str, value: Any, low: float, high: float, integer: bool = False):
    """``value`` as an int (``integer``) or float in ``[low, high]``; else ``ValueError``."""
    kind = "an integer" if integer else "a number"
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    ok = ok and math.isfinite(value) and (not integer or float(value).is_integer())
    if not ok or not low <= value <= high:
        raise ValueError(f"{name} must be {kind} in [{low}, {high}]; got {value!r}")
    return int(value) if integer else float(value)


def _checked(name: str, value: Any, meta: dict, default: Any) -> Any:
    if value is None and meta.get("optional"):
        return None
    choices = meta.get("choices")
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be True or False; got {value!r}")
        return value
    if isinstance(default, tuple):
        if not isinstance(value, list | tuple):
            raise ValueError(f"{name} must be a list; got {value!r}")
        value = tuple(value)
        bad = [v for v in value if choices is not None and v not in choices]
        if bad:
            raise ValueError(f"{name} must hold only {', '.join(map(str, choices))}; got {bad}")
        return value
    if choices is not None:
        if value not in choices:
            raise ValueError(f"{name} must be one of {', '.join(map(str, choices))}; got {value!r}")
        return value
    if "low" in meta:
        return check_number(name, value, meta["low"], meta["high"], meta.get("integer", False))
    return value


class AnalysisOptions:
    """Base of every analysis's frozen ``Options`` dataclass: checks fields on creation."""

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value = _checked(f.name, getattr(self, f.name), f.metadata, f.default)
            object.__setattr__(self, f.name, value)

    def replace(self, **changes):
        """A copy with some options changed (checked)."""
        return dataclasses.replace(self, **changes)


def specs(options_class: type) -> dict[str, dict[str, Any]]:
    """Option name -> ``{"default": ..., "label": ..., "help": ..., "low": ...}``, in order."""
    return {f.name: {"default": f.default, **f.metadata} for f in dataclasses.fields(options_class)}
