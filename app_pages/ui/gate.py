"""URL parameter rules and the gate that checks a query string against them (no Streamlit).

A :class:`Param` states one URL parameter's rules: its type, range or choices, whether
it is an integer, a list or may be empty, and its default. :func:`check` parses the raw
values of one parameter (``st.query_params.get_all(key)``) by those rules and returns a
:class:`Verdict`: the value the widget should start from, the canonical URL text (or
None to remove the parameter) and, when the URL's value was not taken as it stands, a
note saying what happened. ``app_pages.ui.params`` applies verdicts to
``st.query_params`` before the bound widgets exist.

Scenario fields take their rules from the library through :func:`scenario_param`, the
one place that reads ``costmodel.FIELD_RANGES`` and the ``Scenario`` defaults.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import costmodel
from app_pages.ui.text import escape, literal

# A decimal number in ASCII: no "inf", "nan", "0x10", "1_000", unicode digits or spaces.
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
SHOWN = 40  # characters of a hostile value shown in a note
_NONE = object()


@dataclasses.dataclass(frozen=True)
class Param:
    """One URL parameter: ``key``, ``default`` and the rules a URL value must meet.

    ``kind`` is ``int``, ``float``, ``bool`` or ``str``; numbers lie in ``[low, high]``;
    a ``str`` is one of ``choices`` (ids, as the URL holds them), a list of them with
    ``many``; ``optional`` numbers may be empty (None, e.g. "family default").
    """

    key: str
    default: Any
    kind: type
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    many: bool = False
    optional: bool = False

    def allowed(self) -> str:
        """The rule in words, e.g. "an integer from 1 to 64"."""
        if self.kind is bool:
            return "true or false"
        if self.kind is str:
            listed = ", ".join(self.choices[:12]) + (", ..." if len(self.choices) > 12 else "")
            return f"{'any of' if self.many else 'one of'} {listed}"
        what = "an integer" if self.kind is int else "a number"
        rule = f"{what} from {self.low:g} to {self.high:g}"
        return rule + (" (leave it out for none)" if self.optional else "")

    def text(self, value: Any) -> str:
        """``value`` as the URL writes it."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What the gate does with one URL parameter.

    ``value``: the value the widget starts from; ``url``: the canonical URL values
    (None: remove the parameter); ``notes``: (the URL text concerned, what happened) for
    the warning, empty when the URL's value was taken as it stands.
    """

    value: Any
    url: list[str] | None
    notes: tuple[tuple[str, str], ...] = ()


def number(
    key: str, default: float | None, low: float, high: float, *, integer: bool = False
) -> Param:
    """A number parameter in ``[low, high]``; ``default=None`` makes it optional (empty)."""
    kind = int if integer else float
    return Param(key, default, kind, float(low), float(high), optional=default is None)


def choice(key: str, default: str | Sequence[str], choices: Sequence[str]) -> Param:
    """One of ``choices`` (a list of them when ``default`` is a list)."""
    many = not isinstance(default, str)
    return Param(key, list(default) if many else default, str, choices=tuple(choices), many=many)


def flag(key: str, default: bool) -> Param:
    """A boolean parameter (``true``/``false`` in the URL)."""
    return Param(key, default, bool)


class IdNumbers(tuple):
    """The allowed entries ``<id>:<number>`` of a list parameter (``gpu_prices=h100-sxm:2``):
    ``in`` checks one (an id of ``ids``, and a number ``number``'s rules take as it
    stands); it lists one example per id, with ``example`` (for the warning and the URL
    fuzz test)."""

    def __new__(cls, ids: Iterable[str], number: Param, example: float):
        ids = list(ids)
        made = super().__new__(cls, (f"{i}:{example:g}" for i in ids))
        made.ids, made.number = frozenset(ids), number
        return made

    def __contains__(self, text: object) -> bool:
        key, _, value = str(text).rpartition(":")
        return key in self.ids and not check(self.number, [value]).notes

    @staticmethod
    def parse(entries: Iterable[str]) -> tuple[tuple[str, float], ...]:
        """Checked entries as (id, number) pairs; a repeated id: its last number."""
        pairs = dict(e.rpartition(":")[::2] for e in entries)
        return tuple((key, float(value)) for key, value in pairs.items())


# --- Scenario fields (the adapter: switch it to costmodel's field specs in one place) -----

_DEFAULT = costmodel.Scenario()


def scenario_param(field: str, choices: Callable[[str], Sequence[str]] | None = None) -> Param:
    """The URL rules of ``costmodel.Scenario`` field ``field``: type, range and default.

    Numbers take ``costmodel.FIELD_RANGES``; a text field (``model``, ``gpu``, formats)
    takes ``choices(field)``, the catalog ids it may hold.
    """
    default = getattr(_DEFAULT, field)
    hint = {f.name: f.type for f in dataclasses.fields(costmodel.Scenario)}[field]
    if "bool" in str(hint):
        return flag(field, default)
    if field in costmodel.FIELD_RANGES:
        low, high = costmodel.FIELD_RANGES[field]
        return number(field, default, low, high, integer="int" in str(hint))
    if choices is None:
        raise ValueError(f"{field} needs its choices")
    return choice(field, default, choices(field))


# --- Checking ---------------------------------------------------------------------------


def shown(text: str) -> str:
    """``text`` cut to :data:`SHOWN` characters, its length said when cut."""
    if len(text) <= SHOWN:
        return text
    return f"{text[:SHOWN]}… ({len(text):,} characters)"


def _number(param: Param, text: str) -> tuple[Any, str]:
    """Parse one number by ``param``'s rules: (value, note) or (_NONE, why not)."""
    if not _NUMBER.fullmatch(text):
        return _NONE, "not a number"
    value = float(text)
    if not math.isfinite(value):
        return _NONE, "too large"
    note = ""
    if param.kind is int and not value.is_integer():
        value = math.floor(value + 0.5)
        note = f"rounded to {value:.0f}"
    if not param.low <= value <= param.high:
        return _NONE, "out of range"
    return (int(value) if param.kind is int else value), note


def _one(param: Param, text: str) -> tuple[Any, str]:
    """Parse one URL value: (value, note) or (_NONE, why not)."""
    if param.kind is bool:
        if text.lower() in ("true", "false"):
            return text.lower() == "true", ""
        return _NONE, "not true or false"
    if param.kind is str:
        return (text, "") if text in param.choices else (_NONE, "not an option")
    return _number(param, text)


def _default_used(param: Param, text: str, why: str) -> Verdict:
    default = ", ".join(param.default) if param.many else param.text(param.default)
    what = f"{why}; allowed: {param.allowed()}; the default ({default or 'empty'}) was used"
    return Verdict(param.default, None, ((text, what),))


def check(param: Param, raw: list[str]) -> Verdict:
    """The verdict on ``raw``, the URL's values of ``param.key`` (repeated keys in order)."""
    if param.many:
        return _check_many(param, raw)
    text, given = raw[-1], " & ".join(raw)  # all the values, as the warning shows them
    repeated = f"given {len(raw)} times, the last value was used; " if len(raw) > 1 else ""
    if text == "":
        return _default_used(param, given, repeated + "empty")
    value, note = _one(param, text)
    if value is _NONE:
        return _default_used(param, given, repeated + note)
    url = None if value == param.default else [param.text(value)]
    what = (repeated + note).removesuffix("; ")
    return Verdict(value, url, ((given, what),) if what else ())


def _check_many(param: Param, raw: list[str]) -> Verdict:
    """A list parameter: keep the valid entries once each, in order."""
    kept = list(dict.fromkeys(t for t in raw if t in param.choices))
    if not kept:
        return _default_used(param, "&".join(raw), "no valid entry" if raw != [""] else "empty")
    notes = [
        (t, f"not an option, dropped (allowed: {param.allowed()}); the other entries were kept")
        for t in dict.fromkeys(t for t in raw if t not in param.choices)
    ]
    if len(kept) < len([t for t in raw if t in param.choices]):
        notes.append(("&".join(raw), "repeated entries were kept once"))
    url = None if kept == list(param.default) else kept
    return Verdict(kept, url, tuple(notes))


# --- A whole query ------------------------------------------------------------------------

#: Streamlit's own query parameters: never a page's, never dropped.
STREAMLIT_KEYS = frozenset({"embed", "embed_options"})
UNKNOWN = "not a setting on this page, dropped"


def review(specs: Iterable[Param], query: Mapping[str, list[str]]) -> dict[str, Verdict]:
    """The verdict on each of ``specs`` that ``query`` (key -> URL values) holds."""
    return {p.key: check(p, list(query[p.key])) for p in specs if p.key in query}


def unknown(known: Iterable[str], query: Iterable[str]) -> list[str]:
    """The keys of ``query`` that are not ``known`` (nor Streamlit's own)."""
    known = set(known)
    return [k for k in query if k not in known and k not in STREAMLIT_KEYS]


def warning(notes: Mapping[tuple[str, str], str]) -> str:
    """The one warning (Markdown) for ``notes``, (key, URL text) -> what happened.

    What came from the URL is a code span (:func:`~app_pages.ui.text.literal`), the rest
    escaped, so no URL can add a link, an image or markup.
    """
    lines = (
        f"- {literal(shown(key) + '=' + shown(text))}: {escape(what)}"
        for (key, text), what in notes.items()
    )
    return "Some URL parameters were not used as given:\n" + "\n".join(lines)
