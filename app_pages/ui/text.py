"""Text from a URL, an upload or an error message, made safe to show in Markdown."""

from __future__ import annotations

import re

_BACKTICKS = re.compile(r"`+")


def printable(text: str) -> str:
    """``text`` with control and format characters (newlines, RTL overrides) escaped."""
    if text.isprintable():  # nearly always: a page's own sentences
        return text
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
#: images, HTML, formulas, strikethrough, tables, Streamlit's ``:colour[...]`` directives;
#: the dot of an ordered list's ``1.`` and the at sign of an e-mail address.
MARKUP = frozenset("\\`*_[]<>$~|!#:{}.@")
_ESCAPES = str.maketrans({c: f"\\{c}" for c in MARKUP})
#: Where GFM's literal autolinks start in escaped text: ``www.``, ``scheme://``, ``a@b.c``.
#: Streamlit's Markdown finds them in the text after escapes are resolved, so a backslash
#: does not stop them; an invisible word joiner (U+2060) there does.
_AUTOLINK = re.compile(r"www(?=\\\.)|\\:(?=//)|\\@", re.IGNORECASE)
WORD_JOINER = "\u2060"


def escape(text: str) -> str:
    """``text`` for running Markdown: every markup character backslash-escaped (CommonMark
    allows it for any ASCII punctuation), so no link, image, formula or emphasis; and a
    word joiner where GFM would make a link of bare text (``www.evil.example/x``,
    ``http://evil.example``, ``a@evil.example``), so a domain stays text."""
    escaped = printable(text).translate(_ESCAPES)
    return _AUTOLINK.sub(lambda m: m[0] + WORD_JOINER, escaped)
