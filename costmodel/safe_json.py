"""Parse JSON from a file or a link as data, in time and memory linear in its size.

``loads_limited`` refuses, before it parses anything, a text over ``max_bytes`` bytes,
nested deeper than ``max_depth`` objects and arrays, with more than ``max_keys`` keys,
more than ``max_items`` items (array elements and object members, counted as the commas
and opening brackets outside strings) or a number of more than ``MAX_DIGITS`` digits;
while parsing, a key repeated within one object and the constants NaN / Infinity.

The checks before parsing are one pass of numpy over the text's bytes
(:func:`outside_strings`): escapes are removed, the quotes left toggle in and out of
strings, and brackets, colons, commas and digits are counted outside them; a running sum
of +1 / -1 over the brackets gives the depth. No regular expression scans a string:
the earlier ``"(?:[^"\\\\]|\\\\.)*"`` restarted at every quote of an unterminated string
of escaped quotes (quadratic: 19.6 s at 80 kB). ``json.loads`` (C) then parses a text
known to be small in items and depth. A number's digits are capped because converting a
long integer to and from text is quadratic in its digits.

A UTF-8 byte-order mark at the start (Windows editors write one) is dropped. Errors are
``ValueError`` messages that start with ``what`` (e.g. ``"config.json"``).
"""

from __future__ import annotations

import json

import numpy as np

_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_OPEN, _CLOSE = (ord("["), ord("{")), (ord("]"), ord("}"))
_BOM = "\ufeff"
#: Longest run of digits accepted in one number (published configs: under 25).
MAX_DIGITS = 100


def outside_strings(data: bytes) -> np.ndarray:
    """The bytes of a JSON text with every byte inside a string (quotes included) set to
    a space: ``outside_strings(b'{"a,": [1]}')`` is ``b'{     : [1]}'`` as uint8.

    Escapes are removed first, as JSON pairs them, left to right: each ``\\\\`` (an
    escaped backslash), then each ``\\"`` (an escaped quote) becomes two spaces
    (``bytes.replace``, linear). The quotes left open and close strings: their running
    parity (an XOR accumulation) marks the bytes inside; an unterminated last string runs
    to the end.
    """
    plain = data.replace(b"\\\\", b"  ").replace(b'\\"', b"  ")
    a = np.frombuffer(plain, np.uint8)
    quotes = (a == _QUOTE).view(np.uint8)
    inside = np.bitwise_xor.accumulate(quotes)
    inside |= quotes  # a closing quote itself
    return np.where(inside.view(bool), np.uint8(ord(" ")), a)


#: Maps each digit to 1 and every other byte to 0, to find a long number with ``in``.
_DIGITS = bytes(int(chr(b).isdigit() and b < 128) for b in range(256))


def structure(data: bytes) -> dict:
    """Depth, keys and items of a JSON text, and whether a number is too long, outside
    its strings.

    ``depth``: deepest nesting of objects and arrays; ``keys``: colons; ``items``:
    commas plus opening brackets (an upper bound on the values the parser creates);
    ``long_number``: a run of more than ``MAX_DIGITS`` digits.
    ``structure(b'{"a": [1, 22], "b": "x,:["}')`` is depth 2, 2 keys, 4 items.
    """
    outside = outside_strings(data)
    steps = np.isin(outside, _OPEN).astype(np.int8) - np.isin(outside, _CLOSE).astype(np.int8)
    steps = steps[steps != 0]
    depth = int(np.cumsum(steps, dtype=np.int32).max()) if steps.size else 0
    text = outside.tobytes()
    return {
        "depth": max(depth, 0),
        "keys": text.count(b":"),
        "items": text.count(b",") + text.count(b"[") + text.count(b"{"),
        "long_number": b"\x01" * (MAX_DIGITS + 1) in text.translate(_DIGITS),
    }


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def loads_limited(
    data: bytes | str,
    *,
    what: str,
    max_bytes: int,
    max_depth: int,
    max_keys: int,
    max_items: int,
):
    """The value of a JSON text, checked against the limits before and while parsing.

    ``data``: bytes (UTF-8, a byte-order mark allowed) or text. Raises ``ValueError``
    naming ``what`` and the limit exceeded, or saying why the text is not JSON.
    """
    if len(data) > max_bytes:
        raise ValueError(f"{what} is {len(data):,} bytes; the limit is {max_bytes:,} bytes")
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        raw = data if isinstance(data, bytes) else data.encode("utf-8")
    except UnicodeError as err:
        raise ValueError(f"{what} is not valid JSON: {err}") from None
    text = text.removeprefix(_BOM)
    found = structure(raw)
    if found["depth"] > max_depth:
        raise ValueError(
            f"{what} nests {found['depth']} levels deep; the limit is {max_depth} levels"
        )
    if found["keys"] > max_keys:
        raise ValueError(f"{what} has more than {max_keys:,} keys")
    if found["items"] > max_items:
        raise ValueError(f"{what} has more than {max_items:,} values")
    if found["long_number"]:
        raise ValueError(f"{what} holds a number of more than {MAX_DIGITS} digits")

    def pairs(items: list) -> dict:
        seen = {}
        for key, value in items:
            if key in seen:
                raise ValueError(f"{what}: key {_shown(key)} appears twice in one object")
            seen[key] = value
        return seen

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=_reject_constant)
    except RecursionError:  # unreachable below max_depth; kept as a last guard
        raise ValueError(f"{what} nests too deep") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{what} is not valid JSON: {err}") from None
    except ValueError as err:  # our own checks, or an integer of over 4,300 digits
        message = str(err)
        raise ValueError(message if message.startswith(what) else f"{what}: {message}") from None


def _shown(value) -> str:
    """``repr(value)``, shortened to 40 characters (a key or value quoted in a message)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:20] + f"... ({len(text)} characters)"
