"""Text from a URL, an upload or an error message, made safe to show in Markdown."""

from __future__ import annotations

import re

_BACKTICKS = re.compile(r"`+")


def printable(text: str) -> str:
    """``text`` with control and format characters (newlines, RTL overrides) escaped."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def literal(text: str) -> str:
    """``text`` as a Markdown code span that nothing inside can end or turn into markup.

    The fence is one backtick longer than the longest run of backticks in ``text`` and
    padded with a space on each side (CommonMark strips exactly those), so a backtick in
    a URL value cannot close the span early: ``[x](http://...)`` stays literal text.
    """
    text = printable(text)
    fence = "`" * (max((len(m) for m in _BACKTICKS.findall(text)), default=0) + 1)
    return f"{fence} {text} {fence}"


#: Characters that can start Markdown markup in running text: emphasis, code, links,
#: images, HTML, formulas, strikethrough, tables, Streamlit's ``:colour[...]`` directives.
MARKUP = frozenset("\\`*_[]<>$~|!#:{}")


def escape(text: str) -> str:
    """``text`` for running Markdown: every markup character backslash-escaped (CommonMark
    allows it for any ASCII punctuation), so no link, image, formula or emphasis."""
    return "".join(f"\\{c}" if c in MARKUP else c for c in printable(text))
