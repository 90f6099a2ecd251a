"""Hostile config.json texts and custom_model links (issue 21, item 1), for the reader's
linearity test (tests/test_hostile_inputs.py) and benchmarks/bench_hostile_inputs.py.

``payloads(n)`` gives each shape at about n bytes: what a visitor can send as an upload
(within ``MAX_CONFIG_BYTES``) or, compressed, as a short link. ``link(text)`` is the
``custom_model`` URL value of a text: base64url(zlib(text)), as app_pages/ui/models.py
reads it.
"""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path

#: Llama 3.1 70B's own config.json: hostile parts go beside its valid keys.
LLAMA = json.loads(
    (Path(__file__).resolve().parent.parent / "assets/models/llama-3.1-70b.json").read_text()
)


def _in_config(key: str, raw_value: str) -> str:
    """A valid config with ``key`` set to the JSON text ``raw_value``."""
    return json.dumps(LLAMA)[:-1] + f', "{key}": {raw_value}}}'


def _repeat(unit: str, n: int) -> str:
    return unit * max(n // len(unit), 1)


def payloads(n: int) -> dict[str, str]:
    """Each hostile shape as a JSON text of about ``n`` characters."""
    return {
        # The link: an unterminated string of backslash-escaped quotes.
        "unterminated escaped quotes": '"' + _repeat('\\"', n),
        "escaped quotes in a value": _in_config("note", '"' + _repeat('\\"', n) + '"'),
        "quotes": _repeat('"', n),
        "backslashes in a string": _in_config("note", '"' + _repeat("\\\\", n) + '"'),
        "unicode escapes": _in_config("note", '"' + _repeat("\\ud83d", n) + '"'),
        "long string": _in_config("note", '"' + _repeat("a", n) + '"'),
        "deep arrays": _repeat("[", n),
        "deep objects": _repeat('{"a":', n),
        "closing brackets": _repeat("]}", n),
        "huge integer": _in_config("note", _repeat("9", n)),
        "long fraction": _in_config("note", "0." + _repeat("1", n)),
        "big integers": _in_config(
            "note", "[" + ",".join([_repeat("9", 4_000)] * (n // 4_001)) + "]"
        ),
        "many keys": "{" + ",".join(f'"k{i}":0' for i in range(n // 12)) + "}",
        "repeated keys": "{" + _repeat('"a":0,', n) + '"a":0}',
        "many zeros": "[" + _repeat("0,", n) + "0]",
        "many empty objects": "[" + _repeat("{},", n) + "{}]",
        "many empty strings": "[" + _repeat('"",', n) + '""]',
        "many layer types": _in_config("layer_types", json.dumps(["full_attention"] * (n // 18))),
        "many modules to keep": _in_config(
            "quantization_config",
            json.dumps(
                {
                    "quant_method": "fp8",
                    "modules_to_not_convert": ["model.layers.1.mlp.gate"] * (n // 27),
                }
            ),
        ),
        "many mlp-only layers": json.dumps(
            {
                **LLAMA,
                "model_type": "qwen3_moe",
                "num_experts": 8,
                "num_experts_per_tok": 2,
                "moe_intermediate_size": 1024,
                "mlp_only_layers": [0] * (n // 3),
            }
        ),
    }


#: A valid ``price_list`` row (app_pages/ui/price_list.py): provider, model, time of
#: day, input, output, cached input, peak hours.
PRICE_ROW = ["Together", "mixtral-8x7b", "all_day", 0.6, 0.6, None, ""]


def price_lists(n: int) -> dict[str, str]:
    """Each hostile shape of a ``price_list`` link's JSON at about ``n`` characters: the
    config shapes above, and lists of many rows (valid ones; every row with a long name)."""
    row = json.dumps(PRICE_ROW)
    named = json.dumps(["P" * 200, *PRICE_ROW[1:]])
    return {
        **payloads(n),
        "many valid rows": '["litellm", [' + ",".join([row] * (n // (len(row) + 1))) + "]]",
        "many long names": '["litellm", [' + ",".join([named] * (n // (len(named) + 1))) + "]]",
        "deep rows": '["litellm", ' + _repeat("[", n) + "]",
    }


def link(text: str) -> str:
    """The ``custom_model`` URL value holding ``text``: base64url(zlib), no padding."""
    packed = zlib.compress(text.encode("utf-8"), 9)
    return base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")
