"""Options of an analysis: each a dataclass field whose metadata a page draws its widget from.

``option(default, Bounds(low, high, step), label=..., help=..., choices=...)``
declares one input; ``field_option(name, ...)`` one over a ``Scenario`` field's range
(``fields.FIELDS``); ``count_option(default, ..., most=...)`` a whole number from 1;
``change_pct_option(setup)`` a tornado's move. :class:`AnalysisOptions`
checks every field when an instance is made (``ValueError`` naming the option and its
allowed range or choices) and normalises numbers (integers for ``integer=True`` options,
floats otherwise). ``specs(cls)`` lists the fields with their default and metadata, in
order, for a page to draw widgets from.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import types
from typing import Any, NamedTuple

from costmodel.fields import FIELDS, INT

#: Metadata keys an option may carry.
METADATA_KEYS = ("label", "help", "low", "high", "step", "choices", "integer", "optional")


class Bounds(NamedTuple):
    """A numeric option's closed range ``[low, high]`` and its widget's ``step``."""

    low: float
    high: float
    step: float


def option(default: Any, bounds: Bounds | None = None, **metadata: Any) -> Any:
    """A dataclass field with a default and widget metadata (keys in ``METADATA_KEYS``).

    ``label`` and ``help``: the widget's (here or in the class's ``texts`` table, see
    :class:`AnalysisOptions`); ``bounds`` (or ``low``/``high``/``step``): closed numeric
    range and the widget's step; ``integer``: whole numbers only; ``choices``: allowed
    values (for a tuple-valued option, of each element); ``optional``: None allowed (it
    means the documented fallback).
    """
    unknown = set(metadata) - set(METADATA_KEYS)
    if unknown:
        raise ValueError(f"unknown option metadata {sorted(unknown)}; keys are {METADATA_KEYS}")
    if bounds is not None:
        metadata = {**bounds._asdict(), **metadata}
    return dataclasses.field(default=default, metadata=metadata)


def field_option(name: str, **overrides: Any) -> Any:
    """An option over the range of ``Scenario`` field ``name`` (``fields.FIELDS``).

    Its ``low``, ``high`` and (for an integer field) ``integer=True`` are the field's, and
    so are ``default``, ``label``, ``help`` and ``step`` unless ``overrides`` give them.
    """
    spec = FIELDS[name]
    metadata = {"label": spec.label, "help": spec.help, **Bounds(*spec.range, spec.step)._asdict()}
    if spec.kind == INT:
        metadata["integer"] = True
    metadata.update(overrides)
    return option(metadata.pop("default", spec.default), **metadata)


def count_option(default: int, *, most: int, **text: str) -> Any:
    """A whole-number option from 1 to ``most`` in steps of 1 (experts, GPUs, users)."""
    return option(default, Bounds(1, most, 1), integer=True, **text)


#: How far a tornado may move each assumption, and the widget's step [%].
CHANGE_PCT_BOUNDS = Bounds(1.0, 90.0, 5.0)


def change_pct_option(setup: str) -> Any:
    """``change_pct``: how far a tornado of ``setup`` moves each assumption [%]."""
    return option(
        20.0,
        CHANGE_PCT_BOUNDS,
        label="Move each assumption by ± [%]",
        help=f"Tornado of {setup}: each assumption moved down and up by this many percent, "
        "one at a time [%]",
    )


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
    """Base of every analysis's frozen ``Options`` dataclass: checks fields on creation.

    ``class Options(AnalysisOptions, texts={name: (label, help)})``: the options' labels
    and help texts in one table (over a ``field_option``'s own); every option needs both,
    there or in its ``option()``.
    """

    def __init_subclass__(cls, texts: dict | None = None, **kwargs):
        super().__init_subclass__(**kwargs)
        texts = texts or {}
        options = {n: f for n, f in vars(cls).items() if isinstance(f, dataclasses.Field)}
        unknown = set(texts) - set(options)
        if unknown:
            raise TypeError(f"{cls.__name__}: texts for no option: {sorted(unknown)}")
        for name, f in options.items():
            if name in texts:
                label, help = texts[name]
                f.metadata = types.MappingProxyType({**f.metadata, "label": label, "help": help})
            if not {"label", "help"} <= set(f.metadata):
                raise TypeError(f"{cls.__name__}.{name} needs a label and a help text")

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
