"""Parse JSON from a file or a link as data, in time and memory linear in its size.

``loads_limited`` refuses, before it parses anything, a text over ``max_bytes`` bytes,
nested deeper than ``max_depth`` objects and arrays, with more than ``max_keys`` keys or
more than ``max_items`` items (array elements and object members, counted as the commas
and opening brackets outside strings); while parsing, a key repeated within one object
and the constants NaN / Infinity. Each check is one pass over the text:

- strings are skipped by one regular expression whose every quantifier is possessive
  and which also accepts a string left open at the end of the text, so it never
  backtracks and never restarts inside a string (the earlier ``"(?:[^"\\\\]|\\\\.)*"``
  restarted at every quote of an unterminated string of escaped quotes: quadratic,
  19.6 s at 80 kB);
- brackets, colons and commas outside strings are counted on the remaining bytes with
  numpy (a running sum of +1 / -1 gives the depth);
- ``json.loads`` (C) then parses a text known to be small in items and depth.

A UTF-8 byte-order mark at the start (Windows editors write one) is dropped. Errors are
``ValueError`` messages that start with ``what`` (e.g. ``"config.json"``).
"""

from __future__ import annotations

import json
import re

import numpy as np

#: A JSON string, or one left open at the end of the text (then the text is invalid
#: JSON, which ``json.loads`` reports). Possessive quantifiers: linear, no backtracking.
_STRING = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.DOTALL)
_BOM = "\ufeff"


def structure(text: str) -> dict:
    """Depth, keys and items of a JSON text, counted outside strings in one pass.

    ``depth``: deepest nesting of objects and arrays; ``keys``: colons; ``items``:
    commas plus opening brackets (an upper bound on the values the parser creates).
    ``structure('{"a": [1, 2], "b": "x,:["}')`` is depth 2, 2 keys, 4 items.
    """
    outside = np.frombuffer(_STRING.sub("", text).encode("utf-8", "surrogatepass"), np.uint8)
    opens = (outside == ord("[")) | (outside == ord("{"))
    closes = (outside == ord("]")) | (outside == ord("}"))
    steps = opens.astype(np.int8) - closes.astype(np.int8)
    steps = steps[steps != 0]
    depth = int(np.cumsum(steps, dtype=np.int64).max()) if steps.size else 0
    commas = int(np.count_nonzero(outside == ord(",")))
    return {
        "depth": max(depth, 0),
        "keys": int(np.count_nonzero(outside == ord(":"))),
        "items": commas + int(np.count_nonzero(opens)),
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
    except UnicodeDecodeError as err:
        raise ValueError(f"{what} is not valid JSON: {err}") from None
    text = text.removeprefix(_BOM)
    found = structure(text)
    if found["depth"] > max_depth:
        raise ValueError(
            f"{what} nests {found['depth']} levels deep; the limit is {max_depth} levels"
        )
    if found["keys"] > max_keys:
        raise ValueError(f"{what} has more than {max_keys:,} keys")
    if found["items"] > max_items:
        raise ValueError(f"{what} has more than {max_items:,} values")

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
