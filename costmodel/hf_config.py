"""Read a Hugging Face ``config.json`` into the architecture figures the cost model needs.

Supported decoders: ``llama``, ``mistral``, ``qwen2`` (dense, SwiGLU), ``mixtral``
(mixture of experts) and ``dbrx`` (mixture of experts, nested config). A dense model
is the one-expert, top-1 case, so one code path serves both.

>>> arch = parse_hf_config({"model_type": "llama", "hidden_size": 8192,
...     "intermediate_size": 28672, "num_hidden_layers": 80, "num_attention_heads": 64,
...     "num_key_value_heads": 8, "vocab_size": 32000})
>>> arch["n_experts"], arch["head_dim"]
(1, 128)
"""

from __future__ import annotations

import json
from collections.abc import Mapping

SUPPORTED_MODEL_TYPES = ("llama", "mistral", "qwen2", "mixtral", "dbrx")

#: Largest config.json accepted, in bytes (the file is data, never code).
MAX_CONFIG_BYTES = 200_000

ARCHITECTURE_FIELDS = (
    "n_layers",
    "hidden_size",
    "intermediate_size",
    "n_heads",
    "n_kv_heads",
    "head_dim",
    "n_experts",
    "experts_per_token",
    "vocab_size",
    "tied_embeddings",
)


#: DBRX's nested keys for each Llama/Mixtral key name (used to read and to name errors).
_DBRX_KEYS = {
    "hidden_size": ("d_model",),
    "num_hidden_layers": ("n_layers",),
    "num_attention_heads": ("n_heads",),
    "num_key_value_heads": ("attn_config", "kv_n_heads"),
    "intermediate_size": ("ffn_config", "ffn_hidden_size"),
    "num_local_experts": ("ffn_config", "moe_num_experts"),
    "num_experts_per_tok": ("ffn_config", "moe_top_k"),
    "vocab_size": ("vocab_size",),
    "tie_word_embeddings": ("tie_word_embeddings",),
}


def _positive_int(cfg: Mapping, key: str) -> int:
    value = cfg.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        name = ".".join(_DBRX_KEYS[key]) if cfg.get("model_type") == "dbrx" else key
        raise ValueError(f"config.json: {name} must be a positive integer, got {value!r}")
    return value


def _flat_view(cfg: Mapping) -> dict:
    """Map a DBRX-style nested config onto the Llama/Mixtral key names."""
    if cfg.get("model_type") != "dbrx":
        return dict(cfg)
    for section in ("attn_config", "ffn_config"):
        if not isinstance(cfg.get(section), Mapping):
            raise ValueError(f"config.json: dbrx {section} must be an object")
    flat = {"model_type": "dbrx"}
    for key, path in _DBRX_KEYS.items():
        node = cfg
        for part in path:
            node = node.get(part) if isinstance(node, Mapping) else None
        if node is not None:
            flat[key] = node
    return flat


def parse_hf_config(cfg: Mapping) -> dict:
    """Architecture figures from a parsed ``config.json``.

    Returns a dict with the keys in ``ARCHITECTURE_FIELDS``: layer count, hidden size,
    per-expert feed-forward size, query and key/value heads, head dimension, experts and
    experts per token (1 and 1 for a dense model), vocabulary size and whether input and
    output embeddings are tied. Raises ``ValueError`` naming the key for anything that is
    not a supported decoder.
    """
    if not isinstance(cfg, Mapping):
        raise ValueError("config.json must hold a JSON object")
    model_type = cfg.get("model_type")
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise ValueError(
            f"config.json: model_type must be one of {', '.join(SUPPORTED_MODEL_TYPES)}; "
            f"got {model_type!r}"
        )
    flat = _flat_view(cfg)
    hidden = _positive_int(flat, "hidden_size")
    heads = _positive_int(flat, "num_attention_heads")
    if flat.get("num_key_value_heads") is None:
        flat["num_key_value_heads"] = heads
    if flat.get("head_dim") is None:
        flat["head_dim"] = hidden // heads
    is_moe = model_type in ("mixtral", "dbrx")
    n_experts = _positive_int(flat, "num_local_experts") if is_moe else 1
    top_k = _positive_int(flat, "num_experts_per_tok") if is_moe else 1
    arch = {
        "n_layers": _positive_int(flat, "num_hidden_layers"),
        "hidden_size": hidden,
        "intermediate_size": _positive_int(flat, "intermediate_size"),
        "n_heads": heads,
        "n_kv_heads": _positive_int(flat, "num_key_value_heads"),
        "head_dim": _positive_int(flat, "head_dim"),
        "n_experts": n_experts,
        "experts_per_token": top_k,
        "vocab_size": _positive_int(flat, "vocab_size"),
        "tied_embeddings": bool(flat.get("tie_word_embeddings", False)),
    }
    if heads % arch["n_kv_heads"]:
        raise ValueError(
            f"config.json: num_attention_heads ({heads}) must be a multiple of "
            f"num_key_value_heads ({arch['n_kv_heads']})"
        )
    if top_k > n_experts:
        raise ValueError(
            f"config.json: num_experts_per_tok ({top_k}) must be at most "
            f"num_local_experts ({n_experts})"
        )
    return arch


def read_hf_config(data: bytes | str) -> dict:
    """The dict of an uploaded ``config.json`` (size-limited, JSON only, a supported decoder).

    Raises ``ValueError`` saying what is wrong; pass the result to ``Catalog.with_model``.
    """
    if len(data) > MAX_CONFIG_BYTES:
        raise ValueError(
            f"config.json is {len(data):,} bytes; the limit is {MAX_CONFIG_BYTES:,} bytes"
        )
    try:
        cfg = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"config.json is not valid JSON: {err}") from None
    parse_hf_config(cfg)
    return cfg


def load_hf_config(data: bytes | str) -> dict:
    """Architecture figures (see ``parse_hf_config``) of an uploaded ``config.json``."""
    return parse_hf_config(read_hf_config(data))
