"""URL text -> values, by each input's ``costmodel.spec.Spec`` (no Streamlit here).

:func:`check` parses the raw values of one URL parameter (``st.query_params.get_all(key)``)
by its spec and returns a :class:`Verdict`: the value the widget should start from, the
canonical URL text (or None to remove the parameter) and, when the URL's value was not
taken as it stands, a note saying what happened. ``app_pages.ui.url`` applies verdicts
to ``st.query_params`` before the bound widgets exist.

A spec's ``choices`` must be concrete here: the app fills in a catalog table's ids
(``url.concrete``) before it declares the spec. URL forms: numbers in ASCII decimal,
``true``/``false``, ids as they are, a list as repeated keys, an entry as
``id:number[:number...]``, and an empty value (``key=``) for None where the spec allows
it (``Spec.empty``; ``same``, the older links' word, is read as empty too).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from app_pages.ui.text import escape, literal
from costmodel.spec import BOOL, CHOICE, ENTRIES, INT, NUMERIC, Spec

# A decimal number in ASCII: no "inf", "nan", "0x10", "1_000", unicode digits or spaces.
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
SHOWN = 40  # characters of a hostile value shown in a note
#: A number closer to 0 than this share of its input's step is read as 0 (a price of
#: 1e-320 $/GPU-hour would make every ratio to it infinite).
TINY_SHARE_OF_STEP = 1e-6
#: URL texts that mean None for an input that allows it (``same``: links written before
#: the empty value, e.g. ``attention_format=same``).
NONE_TEXTS = ("", "same")
_NONE = object()


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


def allowed(spec: Spec) -> str:
    """The rule in words for a URL: "an integer from 1 to 64", "one of a, b"."""
    if spec.kind == BOOL:
        rule = "true or false"
    elif spec.kind == CHOICE:
        listed = ", ".join(spec.choices[:12]) + (", ..." if len(spec.choices) > 12 else "")
        rule = f"{'any of' if spec.many else 'one of'} {listed}"
    elif spec.kind == ENTRIES:
        ids = ", ".join(spec.choices[:6]) + (", ..." if len(spec.choices) > 6 else "")
        numbers = ":".join(f"<{c}>" for c in spec.columns)
        example = ":".join([spec.choices[0] if spec.choices else "x", *["2"] * len(spec.columns)])
        rule = (
            f"entries <id>:{numbers}, e.g. {example} (ids: {ids}; numbers from {spec.low:g} "
            f"to {spec.high:g})"
        )
    else:
        what = "an integer" if spec.kind == INT else "a number"
        rule = f"{what} from {spec.low:g} to {spec.high:g}"
    return rule + (" (empty for none)" if spec.optional else "")


def number_text(value: float) -> str:
    """A number as the URL writes it: ``2``, ``1.95``."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def text(spec: Spec, value: Any) -> str:
    """One value (one entry of a list) as the URL writes it."""
    if value is None:
        return ""
    if spec.kind == BOOL:
        return str(bool(value)).lower()
    if spec.kind == ENTRIES:
        return ":".join([str(value[0]), *(number_text(v) for v in value[1:])])
    if spec.kind in NUMERIC:
        return number_text(value)
    return str(value)


def url_values(spec: Spec, value: Any) -> list[str] | None:
    """``value``'s canonical URL values; None when it is the default (left out)."""
    if _same(value, spec.default):
        return None
    if spec.many or spec.kind == ENTRIES:
        return [text(spec, v) for v in value] or [""]
    return [text(spec, value)]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return tuple(a) == tuple(b)
    return a == b


def shown(text: str) -> str:
    """``text`` cut to :data:`SHOWN` characters, its length said when cut."""
    if len(text) <= SHOWN:
        return text
    return f"{text[:SHOWN]}… ({len(text):,} characters)"


def _number(spec: Spec, text: str, integer: bool) -> tuple[Any, str]:
    """Parse one number by ``spec``'s range: (value, note) or (_NONE, why not)."""
    if not _NUMBER.fullmatch(text):
        return _NONE, "not a number"
    value = float(text)
    if not math.isfinite(value):
        return _NONE, "too large"
    note = ""
    if integer and not value.is_integer():
        value = math.floor(value + 0.5)
        note = f"rounded to {value:.0f}"
    elif 0 < abs(value) < spec.step * TINY_SHARE_OF_STEP:
        value, note = 0.0, "rounded to 0"
    if not spec.low <= value <= spec.high:
        return _NONE, "out of range"
    return (int(value) if integer else value), note


def _entry(spec: Spec, text: str) -> tuple[Any, str]:
    """Parse ``id:number[:number...]``: (row tuple, "") or (_NONE, why not)."""
    parts = text.split(":")
    if len(parts) != 1 + len(spec.columns):
        return _NONE, "not an entry"
    if spec.choices and parts[0] not in spec.choices:
        return _NONE, "not an option"
    numbers = [_number(spec, part, False) for part in parts[1:]]
    if any(value is _NONE or note for value, note in numbers):
        return _NONE, "not a number in range"
    return (parts[0], *(value for value, _ in numbers)), ""


def _one(spec: Spec, text: str) -> tuple[Any, str]:
    """Parse one URL value: (value, note) or (_NONE, why not)."""
    if spec.kind == BOOL:
        if text.lower() in ("true", "false"):
            return text.lower() == "true", ""
        return _NONE, "not true or false"
    if spec.kind == CHOICE:
        return (text, "") if text in spec.choices else (_NONE, "not an option")
    if spec.kind == ENTRIES:
        return _entry(spec, text)
    return _number(spec, text, spec.kind == INT)


def _default_used(spec: Spec, text: str, why: str) -> Verdict:
    default = ", ".join(map(str, spec.default)) if spec.many else text_of_default(spec)
    what = f"{why}; allowed: {allowed(spec)}; the default ({default or 'empty'}) was used"
    return Verdict(spec.default, None, ((text, what),))


def text_of_default(spec: Spec) -> str:
    """The default as the warning names it."""
    if spec.kind == ENTRIES:
        return ", ".join(text(spec, row) for row in spec.default)
    return text(spec, spec.default)


def check(spec: Spec, raw: list[str]) -> Verdict:
    """The verdict on ``raw``, the URL's values of ``spec.name`` (repeated keys in order)."""
    if spec.many or spec.kind == ENTRIES:
        return _check_many(spec, raw)
    text_, given = raw[-1], " & ".join(raw)  # all the values, as the warning shows them
    repeated = f"given {len(raw)} times, the last value was used; " if len(raw) > 1 else ""
    if text_ in NONE_TEXTS and spec.optional:
        note = repeated.removesuffix("; ")
        return Verdict(None, url_values(spec, None), ((given, note),) if note else ())
    if text_ == "":
        return _default_used(spec, given, repeated + "empty")
    value, note = _one(spec, text_)
    if value is _NONE:
        return _default_used(spec, given, repeated + note)
    what = (repeated + note).removesuffix("; ")
    return Verdict(value, url_values(spec, value), ((given, what),) if what else ())


def _check_many(spec: Spec, raw: list[str]) -> Verdict:
    """A list or entries: keep the valid entries once each, in order (an entry's id once:
    its last value)."""
    parsed = [(t, _one(spec, t)) for t in raw] if raw != [""] else []
    good = [(t, value) for t, (value, _) in parsed if value is not _NONE]
    if spec.kind == ENTRIES:
        kept = list({value[0]: value for _, value in good}.values())
    else:
        kept = list(dict.fromkeys(value for _, value in good))
    if not kept:
        if raw == [""] and spec.kind == ENTRIES:
            return Verdict((), None)  # no entries: the default
        if raw == [""] and spec.empty:  # an empty list that means something
            return Verdict((), url_values(spec, ()))
        return _default_used(spec, "&".join(raw), "no valid entry" if raw != [""] else "empty")
    notes = [
        (t, f"not an option, dropped (allowed: {allowed(spec)}); the other entries were kept")
        for t in dict.fromkeys(t for t, (value, _) in parsed if value is _NONE)
    ]
    if len(kept) < len(good):
        notes.append(("&".join(raw), "repeated entries were kept once (the last of each)"))
    return Verdict(tuple(kept), url_values(spec, tuple(kept)), tuple(notes))


# --- A whole query ------------------------------------------------------------------------

#: Streamlit's own query parameters: never a page's, never dropped.
STREAMLIT_KEYS = frozenset({"embed", "embed_options"})
UNKNOWN = "not a setting on this page, dropped"


def review(specs: Iterable[Spec], query: Mapping[str, list[str]]) -> dict[str, Verdict]:
    """The verdict on each of ``specs`` that ``query`` (key -> URL values) holds."""
    return {s.name: check(s, list(query[s.name])) for s in specs if s.name in query}


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


def ignored_query(query_string: str, max_chars: int, max_fields: int) -> str:
    """Why a link's whole query was not read, in words ("" when it was): Streamlit drops
    a query of more than ``max_chars`` characters or ``max_fields`` parameters unparsed.
    Counts characters and ``&`` only, so its work is linear in the link (2 ms at 1 MB).

    >>> ignored_query("a=1&" * 1500, 524288, 1000)[:43]
    'This link was not read: it holds 1,501 para'
    """
    chars, fields = len(query_string), query_string.count("&") + 1
    if chars > max_chars:
        held, most = f"{chars:,} characters", f"{max_chars:,} characters"
    elif query_string and fields > max_fields:
        held, most = f"{fields:,} parameters", f"{max_fields:,} parameters"
    else:
        return ""
    return (
        f"This link was not read: it holds {held} after the '?', and a link may hold at "
        f"most {most}. The page shows the default settings."
    )
