"""Read a Hugging Face ``config.json`` into the architecture figures the cost model needs.

An upload is data, never code: ``read_hf_config`` caps its size, nesting depth and key
count before and while parsing, refuses duplicate keys and non-finite numbers, and
``describe_hf_config`` checks every architecture field's type (a string is not a boolean)
and physical range, naming the key.

Supported ``model_type``s (``SUPPORTED_MODEL_TYPES``), described as counts of layer kinds
(see ``costmodel.architecture``):

- GQA/MHA decoders: ``llama``, ``mistral``, ``qwen2``, ``qwen3`` (dense, SwiGLU; a dense
  feed-forward block is the one-expert, top-1 case), ``mixtral``, ``dbrx`` (nested),
  ``qwen2_moe``, ``qwen3_moe``, ``glm4_moe``, ``minimax_m2`` (mixtures of experts).
- ``gpt_oss``: alternating sliding-window (``layer_types``, ``sliding_window``) and full
  attention layers; attention sinks are one learned logit per head (64 per layer): no
  cache, no weight worth counting, so they are ignored.
- ``llama4`` (nested ``text_config``): MoE layers every ``interleave_moe_layer_step``
  with one shared expert, dense layers of ``intermediate_size_mlp`` between; chunked
  local attention (``attention_chunk_size``) on 3 of 4 layers is counted as a window of
  the chunk size (an upper bound on what a chunked layer caches and reads).
- ``deepseek_v2``, ``deepseek_v3``, ``kimi_k2``: MLA (``kv_lora_rank``,
  ``qk_rope_head_dim``, ...), ``first_k_dense_replace`` dense layers, routed and shared
  experts; ``deepseek_v32`` adds the sparse-attention indexer (``index_topk``, ...).
- ``qwen3_next``, ``qwen3_5_moe`` (nested ``text_config``): linear-attention (Gated
  DeltaNet) layers with a fixed state per sequence and full-attention layers.

Multi-token-prediction layers (``num_nextn_predict_layers``, ``mtp_num_hidden_layers``) are
reported as ``mtp_layers`` and not counted in the parameters: model cards quote the main
model (DeepSeek-V3's 671 B excludes its 14 B MTP module). Biases, q/k norms and the MLA
low-rank norms are not counted either (under 0.05 % of every model here).

>>> arch = parse_hf_config({"model_type": "llama", "hidden_size": 8192,
...     "intermediate_size": 28672, "num_hidden_layers": 80, "num_attention_heads": 64,
...     "num_key_value_heads": 8, "vocab_size": 32000})
>>> arch["n_experts"], arch["head_dim"]
(1, 128)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import PurePath

import numpy as np

SUPPORTED_MODEL_TYPES = (
    "llama",
    "mistral",
    "qwen2",
    "qwen3",
    "mixtral",
    "dbrx",
    "qwen2_moe",
    "qwen3_moe",
    "glm4_moe",
    "minimax_m2",
    "gpt_oss",
    "llama4",
    "deepseek_v2",
    "deepseek_v3",
    "kimi_k2",
    "deepseek_v32",
    "qwen3_next",
    "qwen3_5_moe",
)

#: Largest config.json accepted, in bytes (the file is data, never code).
MAX_CONFIG_BYTES = 200_000
#: Deepest nesting of objects and arrays accepted (published configs nest 3 deep).
MAX_CONFIG_DEPTH = 16
#: Most keys accepted, over all objects of the file (published configs have < 300).
MAX_CONFIG_KEYS = 5_000

#: The summary fields ``parse_hf_config`` returns (the GQA view of any model).
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

#: Attention-kind fields ``describe_hf_config`` adds (0 where a model has no such part).
ATTENTION_FIELDS = (
    "gqa_layers",  # full (global) GQA/MHA attention layers
    "sliding_layers",  # GQA layers that cache only the last sliding_window tokens
    "mla_layers",  # multi-head latent attention layers
    "linear_layers",  # linear-attention layers with a fixed state per sequence
    "sliding_window",  # [tokens]
    "attention_output_gate",  # 1 if the query projection also yields an output gate
    "q_lora_rank",
    "kv_lora_rank",
    "qk_nope_head_dim",
    "qk_rope_head_dim",
    "v_head_dim",
    "index_topk",  # sparse attention: latents attention reads per query [tokens]
    "index_head_dim",
    "index_n_heads",
    "linear_key_heads",
    "linear_value_heads",
    "linear_key_head_dim",
    "linear_value_head_dim",
    "linear_conv_kernel",
    "linear_state_bytes",  # bytes per value of the recurrent state (mamba_ssm_dtype)
)
#: Feed-forward-kind fields and the rest ``describe_hf_config`` adds.
FFN_FIELDS = (
    "expert_ffn_layers",  # layers whose FFN is n_experts routed experts (1 if dense)
    "dense_ffn_layers",  # further dense FFN layers of dense_intermediate_size
    "dense_intermediate_size",
    "n_shared_experts",  # experts every token uses, per expert-FFN layer
    "shared_intermediate_size",
    "mtp_layers",  # multi-token-prediction layers (not counted in the parameters)
    "context_window",  # [tokens]
)
LAYER_FIELDS = ATTENTION_FIELDS + FFN_FIELDS

#: transformers' default ``max_position_embeddings`` where a config leaves it out [tokens].
DEFAULT_CONTEXT_WINDOW = {
    "llama": 2_048,
    "mistral": 131_072,
    "mixtral": 131_072,
    "qwen2": 32_768,
    "qwen3": 32_768,
    "dbrx": 2_048,
}

#: Physical range of every integer key read (inclusive): a value outside is an error.
KEY_RANGES: dict[str, tuple[int, int]] = {
    "hidden_size": (1, 262_144),
    "num_hidden_layers": (1, 1_024),
    "intermediate_size": (1, 1_048_576),
    "moe_intermediate_size": (1, 1_048_576),
    "intermediate_size_mlp": (1, 1_048_576),
    "shared_expert_intermediate_size": (0, 1_048_576),
    "shared_intermediate_size": (0, 1_048_576),
    "num_attention_heads": (1, 4_096),
    "num_key_value_heads": (1, 4_096),
    "head_dim": (1, 4_096),
    "vocab_size": (1, 4_194_304),
    "num_local_experts": (1, 65_536),
    "num_experts": (1, 65_536),
    "n_routed_experts": (1, 65_536),
    "num_experts_per_tok": (1, 1_024),
    "n_shared_experts": (0, 64),
    "first_k_dense_replace": (0, 1_024),
    "moe_layer_freq": (1, 1_024),
    "decoder_sparse_step": (1, 1_024),
    "interleave_moe_layer_step": (1, 1_024),
    "max_position_embeddings": (1, 100_000_000),
    "sliding_window": (1, 100_000_000),
    "attention_chunk_size": (1, 100_000_000),
    "max_window_layers": (0, 1_024),
    "q_lora_rank": (1, 65_536),
    "kv_lora_rank": (1, 65_536),
    "qk_nope_head_dim": (1, 4_096),
    "qk_rope_head_dim": (1, 4_096),
    "v_head_dim": (1, 4_096),
    "index_topk": (1, 100_000_000),
    "index_head_dim": (1, 4_096),
    "index_n_heads": (1, 4_096),
    "linear_num_key_heads": (1, 4_096),
    "linear_num_value_heads": (1, 4_096),
    "linear_key_head_dim": (1, 4_096),
    "linear_value_head_dim": (1, 4_096),
    "linear_conv_kernel_dim": (1, 64),
    "num_nextn_predict_layers": (0, 64),
    "mtp_num_hidden_layers": (0, 64),
    "full_attention_interval": (1, 1_024),
}

#: Bytes per value of a recurrent state's dtype name (``mamba_ssm_dtype``).
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}

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
    "max_position_embeddings": ("max_seq_len",),
}

_NESTED_TEXT = ("llama4", "qwen3_5_moe")
_MLA = ("deepseek_v2", "deepseek_v3", "kimi_k2", "deepseek_v32")
_DENSE = ("llama", "mistral", "qwen2", "qwen3")


class _Reader:
    """Typed, range-checked access to a flat config; errors name the key as the file has it."""

    def __init__(self, cfg: Mapping, prefix: str = "", names: Mapping | None = None):
        self.cfg, self.prefix, self.names = cfg, prefix, names or {}

    def name(self, key: str) -> str:
        return self.prefix + ".".join(self.names.get(key, (key,)))

    def int(self, key: str, default=None, *, low=None, high=None) -> int:
        """An integer in ``KEY_RANGES[key]`` (or ``[low, high]``); ``default`` if absent/null."""
        value = self.cfg.get(key)
        if value is None:
            if default is None:
                raise ValueError(f"config.json: {self.name(key)} is required")
            return default
        lo, hi = KEY_RANGES[key]
        lo, hi = lo if low is None else low, hi if high is None else high
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(
                f"config.json: {self.name(key)} must be an integer in [{lo:,}, {hi:,}]; "
                f"got {_shown(value)}"
            )
        if not lo <= value <= hi:
            raise ValueError(
                f"config.json: {self.name(key)} must be in [{lo:,}, {hi:,}]; got {_shown(value)}"
            )
        return value

    def bool(self, key: str, default: bool) -> bool:
        value = self.cfg.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ValueError(
                f"config.json: {self.name(key)} must be true or false (a JSON boolean); "
                f"got {_shown(value)}"
            )
        return value

    def str_list(self, key: str, n: int, allowed: tuple[str, ...]) -> list[str] | None:
        value = self.cfg.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or len(value) != n or any(v not in allowed for v in value):
            raise ValueError(
                f"config.json: {self.name(key)} must list one of {', '.join(allowed)} "
                f"for each of the {n} layers"
            )
        return value


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:20] + f"... ({len(text)} characters)"


def _text_config(cfg: Mapping) -> tuple[Mapping, str]:
    if cfg.get("model_type") in _NESTED_TEXT:
        text = cfg.get("text_config")
        if not isinstance(text, Mapping):
            raise ValueError(f"config.json: {cfg['model_type']} text_config must be an object")
        return {"tie_word_embeddings": cfg.get("tie_word_embeddings"), **text}, "text_config."
    return cfg, ""


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


def _moe_layer_count(r: _Reader, model_type: str, n_layers: int) -> int:
    """Layers whose FFN is routed experts (the others are dense FFN layers)."""
    if model_type in ("qwen2_moe", "qwen3_moe", "qwen3_next", "qwen3_5_moe"):
        step = r.int("decoder_sparse_step", 1)
        dense = r.cfg.get("mlp_only_layers") or []
        if not isinstance(dense, list) or any(
            isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n_layers for i in dense
        ):
            raise ValueError(
                f"config.json: {r.name('mlp_only_layers')} must list layer indices "
                f"in [0, {n_layers - 1}]"
            )
        return sum(1 for i in range(n_layers) if i not in dense and (i + 1) % step == 0)
    if model_type == "llama4":
        step = r.int("interleave_moe_layer_step", 1, high=n_layers)
        return len(range(step - 1, n_layers, step))
    if model_type in (*_MLA, "glm4_moe"):
        first = r.int("first_k_dense_replace", 0, high=n_layers)
        freq = r.int("moe_layer_freq", 1)
        return sum(1 for i in range(first, n_layers) if i % freq == 0)
    return n_layers


def _attention(r: _Reader, model_type: str, n_layers: int, out: dict) -> None:
    """Fill the attention-kind fields of ``out`` (layer counts sum to ``n_layers``)."""
    out.update(dict.fromkeys(ATTENTION_FIELDS, 0), gqa_layers=n_layers)
    if model_type in _MLA:
        q_lora = r.cfg.get("q_lora_rank")
        out.update(
            gqa_layers=0,
            mla_layers=n_layers,
            q_lora_rank=0 if q_lora is None else r.int("q_lora_rank"),
            kv_lora_rank=r.int("kv_lora_rank"),
            qk_nope_head_dim=r.int("qk_nope_head_dim"),
            qk_rope_head_dim=r.int("qk_rope_head_dim"),
            v_head_dim=r.int("v_head_dim"),
        )
        if model_type == "deepseek_v32":
            out.update(
                index_topk=r.int("index_topk"),
                index_head_dim=r.int("index_head_dim"),
                index_n_heads=r.int("index_n_heads"),
            )
        return
    kinds = {"sliding_attention": "sliding_layers", "linear_attention": "linear_layers"}
    if model_type in ("gpt_oss", "qwen3_next", "qwen3_5_moe"):
        allowed = ("full_attention", "sliding_attention", "linear_attention")
        types = r.str_list("layer_types", n_layers, allowed)
        if types is None and model_type != "gpt_oss":
            every = r.int("full_attention_interval", 4)
            types = [
                "full_attention" if (i + 1) % every == 0 else "linear_attention"
                for i in range(n_layers)
            ]
        for kind, field in kinds.items():
            out[field] = (types or []).count(kind)
        if out["sliding_layers"]:
            out["sliding_window"] = r.int("sliding_window")
    elif model_type in ("mistral", "mixtral") and r.cfg.get("sliding_window") is not None:
        out.update(sliding_layers=n_layers, sliding_window=r.int("sliding_window"))
    elif model_type in ("qwen2", "qwen3", "qwen2_moe", "qwen3_moe") and r.bool(
        "use_sliding_window", False
    ):
        full = r.int("max_window_layers", n_layers, high=n_layers)
        out.update(sliding_layers=n_layers - full, sliding_window=r.int("sliding_window"))
    elif model_type == "llama4" and r.cfg.get("attention_chunk_size") is not None:
        no_rope = r.cfg.get("no_rope_layers") or [int((i + 1) % 4 != 0) for i in range(n_layers)]
        if (
            not isinstance(no_rope, list)
            or len(no_rope) != n_layers
            or any(isinstance(v, bool) or v not in (0, 1) for v in no_rope)
        ):
            raise ValueError(f"config.json: {r.name('no_rope_layers')} must list {n_layers} 0s/1s")
        chunked = sum(1 for v in no_rope if v == 1)
        out.update(sliding_layers=chunked, sliding_window=r.int("attention_chunk_size"))
    out["gqa_layers"] = n_layers - out["sliding_layers"] - out["linear_layers"]
    out["attention_output_gate"] = int(r.bool("attn_output_gate", False))
    if out["linear_layers"]:
        dtype = r.cfg.get("mamba_ssm_dtype", "float32")
        if dtype not in DTYPE_BYTES:
            raise ValueError(
                f"config.json: {r.name('mamba_ssm_dtype')} must be one of "
                f"{', '.join(DTYPE_BYTES)}; got {_shown(dtype)}"
            )
        out.update(
            linear_key_heads=r.int("linear_num_key_heads"),
            linear_value_heads=r.int("linear_num_value_heads"),
            linear_key_head_dim=r.int("linear_key_head_dim"),
            linear_value_head_dim=r.int("linear_value_head_dim"),
            linear_conv_kernel=r.int("linear_conv_kernel_dim"),
            linear_state_bytes=DTYPE_BYTES[dtype],
        )


def describe_hf_config(cfg: Mapping) -> dict:
    """Every architecture figure of a parsed ``config.json``.

    The keys of ``ARCHITECTURE_FIELDS`` (the GQA summary: ``intermediate_size`` is one
    routed expert's width, or the FFN width of a dense model; ``head_dim`` for MLA is
    ``qk_nope_head_dim + qk_rope_head_dim``), of ``LAYER_FIELDS`` (layer counts by
    attention kind and by FFN kind, and each kind's sizes) and the checkpoint's own
    formats ``checkpoint_weight_format`` (routed experts) and
    ``checkpoint_attention_format`` (everything else quantisable), see
    :func:`checkpoint_formats`. Raises ``ValueError`` naming the key for anything that
    is not a supported decoder or out of its physical range (``KEY_RANGES``).
    """
    if not isinstance(cfg, Mapping):
        raise ValueError("config.json must hold a JSON object")
    model_type = cfg.get("model_type")
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise ValueError(
            f"config.json: model_type must be one of {', '.join(SUPPORTED_MODEL_TYPES)}; "
            f"got {_shown(model_type)}"
        )
    text, prefix = _text_config(cfg)
    flat = _flat_view(text)
    r = _Reader(flat, prefix, _DBRX_KEYS if model_type == "dbrx" else None)
    hidden = r.int("hidden_size")
    heads = r.int("num_attention_heads")
    kv_heads = r.int("num_key_value_heads", heads)
    n_layers = r.int("num_hidden_layers")
    arch = {"n_layers": n_layers, "hidden_size": hidden, "n_heads": heads, "n_kv_heads": kv_heads}
    if model_type in _MLA:
        arch["head_dim"] = r.int("qk_nope_head_dim") + r.int("qk_rope_head_dim")
    elif flat.get("head_dim") is None and heads > hidden:
        raise ValueError(
            f"config.json: {r.name('num_attention_heads')} ({heads}) exceeds "
            f"{r.name('hidden_size')} ({hidden}) and no head_dim is given"
        )
    else:
        arch["head_dim"] = r.int("head_dim", hidden // heads)
    if heads % kv_heads:
        raise ValueError(
            f"config.json: {r.name('num_attention_heads')} ({heads}) must be a multiple of "
            f"{r.name('num_key_value_heads')} ({kv_heads})"
        )
    _attention(r, model_type, n_layers, arch)

    moe_layers = 0 if model_type in _DENSE else _moe_layer_count(r, model_type, n_layers)
    ffn = {"dense_intermediate_size": 0, "n_shared_experts": 0, "shared_intermediate_size": 0}
    if model_type in _DENSE or moe_layers == 0:
        n_experts, top_k, width = 1, 1, r.int("intermediate_size")
        moe_layers = n_layers
    else:
        experts_key = next(
            (k for k in ("n_routed_experts", "num_experts", "num_local_experts") if k in flat),
            "num_local_experts",
        )
        n_experts = r.int(experts_key)
        top_k = r.int("num_experts_per_tok", high=n_experts)
        own_width = model_type in ("mixtral", "dbrx", "gpt_oss", "llama4", "minimax_m2")
        width = r.int("intermediate_size" if own_width else "moe_intermediate_size")
        if moe_layers < n_layers:
            dense_key = "intermediate_size_mlp" if model_type == "llama4" else "intermediate_size"
            ffn["dense_intermediate_size"] = r.int(dense_key)
        if model_type == "llama4":
            ffn.update(n_shared_experts=1, shared_intermediate_size=width)
        elif model_type in ("qwen2_moe", "qwen3_next", "qwen3_5_moe"):
            shared = r.int("shared_expert_intermediate_size", 0)
            ffn.update(n_shared_experts=int(shared > 0), shared_intermediate_size=shared)
        elif model_type in (*_MLA, "glm4_moe"):
            shared = r.int("n_shared_experts", 0)
            ffn.update(n_shared_experts=shared, shared_intermediate_size=width if shared else 0)
    if top_k > n_experts:
        raise ValueError(
            f"config.json: {r.name('num_experts_per_tok')} ({top_k}) must be at most "
            f"num_local_experts ({n_experts})"
        )
    mtp_key = (
        "mtp_num_hidden_layers" if "mtp_num_hidden_layers" in flat else "num_nextn_predict_layers"
    )
    arch.update(
        intermediate_size=width,
        n_experts=n_experts,
        experts_per_token=top_k,
        vocab_size=r.int("vocab_size"),
        tied_embeddings=r.bool("tie_word_embeddings", False),
        expert_ffn_layers=moe_layers,
        dense_ffn_layers=n_layers - moe_layers,
        **ffn,
        mtp_layers=r.int(mtp_key, 0),
        context_window=r.int("max_position_embeddings", DEFAULT_CONTEXT_WINDOW.get(model_type)),
    )
    experts, rest = checkpoint_formats(cfg)
    arch.update(checkpoint_weight_format=experts, checkpoint_attention_format=rest)
    return arch


def parse_hf_config(cfg: Mapping) -> dict:
    """The summary figures (keys of ``ARCHITECTURE_FIELDS``) of a parsed ``config.json``.

    Layer count, hidden size, per-expert feed-forward size, query and key/value heads,
    head dimension, experts and experts per token (1 and 1 for a dense model), vocabulary
    size and whether input and output embeddings are tied; see ``describe_hf_config``
    for the full description. Raises ``ValueError`` naming the key.
    """
    arch = describe_hf_config(cfg)
    return {k: arch[k] for k in ARCHITECTURE_FIELDS}


def _mentions_attention(modules) -> bool:
    return isinstance(modules, list) and any(
        isinstance(m, str) and re.search(r"attn|attention", m) for m in modules
    )


def checkpoint_formats(cfg: Mapping) -> tuple[str, str]:
    """The checkpoint's own formats: (routed experts', everything else quantisable).

    From ``quantization_config`` (ids of ``assets/formats.csv``):

    - none: ``bf16``, ``bf16`` (``torch_dtype`` float16 has the same 2 bytes).
    - ``fp8`` (DeepSeek, Kimi, MiniMax: E4M3 with 128x128 block scales): ``fp8``,
      ``fp8``; the FP32 block scales add 32 / (128 x 128) = 0.002 bits per weight,
      not counted.
    - ``mxfp4`` (gpt-oss): ``mxfp4`` experts; the rest ``bf16`` when
      ``modules_to_not_convert`` names attention, else ``mxfp4``.
    - ``modelopt`` (NVIDIA) ``quant_algo`` NVFP4 or FP8, ``compressed-tensors``
      ``format`` nvfp4-pack-quantized or float-quantized: ``nvfp4``/``fp8`` experts, the
      rest ``bf16`` when ``exclude_modules``/``ignore`` name attention.
    - ``gptq``/``awq`` with ``bits`` 4 or 8: ``int4``/``int8`` for both.

    Anything else raises ``ValueError`` naming ``quantization_config.quant_method``.
    """
    q = cfg.get("quantization_config")
    if q is None:
        return "bf16", "bf16"
    if not isinstance(q, Mapping):
        raise ValueError("config.json: quantization_config must be an object")
    method = q.get("quant_method")
    if method == "fp8":
        return "fp8", "fp8"
    if method in ("mxfp4", "modelopt", "compressed-tensors"):
        if method == "mxfp4":
            experts = "mxfp4"
        elif method == "modelopt":
            experts = {"NVFP4": "nvfp4", "FP8": "fp8"}.get(q.get("quant_algo"))
        else:
            fmt = q.get("format")
            experts = {"nvfp4-pack-quantized": "nvfp4", "float-quantized": "fp8"}.get(fmt)
        if experts is None:
            raise ValueError(
                "config.json: quantization_config holds a format the model does not know "
                f"({_shown(q.get('quant_algo') or q.get('format'))}); supported: NVFP4, "
                "FP8, MXFP4"
            )
        kept = [q.get(k) for k in ("modules_to_not_convert", "exclude_modules", "ignore")]
        return experts, "bf16" if any(map(_mentions_attention, kept)) else experts
    if method in ("gptq", "awq"):
        bits = q.get("bits")
        if bits in (4, 8) and not isinstance(bits, bool):
            name = f"int{bits}"
            return name, name
        raise ValueError(f"config.json: quantization_config.bits must be 4 or 8; got {bits!r}")
    raise ValueError(
        "config.json: quantization_config.quant_method must be one of fp8, mxfp4, "
        f"modelopt, compressed-tensors, gptq, awq; got {_shown(method)}"
    )


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _check_nesting(text: str) -> None:
    """Raise if objects/arrays nest deeper than ``MAX_CONFIG_DEPTH`` (before parsing)."""
    brackets = re.findall(r"[\[\]{}]", _STRING.sub("", text))
    if not brackets:
        return
    steps = np.where(np.isin(np.array(brackets), ["[", "{"]), 1, -1)
    depth = int(np.cumsum(steps).max())
    if depth > MAX_CONFIG_DEPTH:
        raise ValueError(
            f"config.json nests {depth} levels deep; the limit is {MAX_CONFIG_DEPTH} levels"
        )


def _reject_constant(name: str):
    raise ValueError(f"config.json: {name} is not a number JSON allows")


def read_hf_config(data: bytes | str) -> dict:
    """The dict of an uploaded ``config.json`` (size, depth and key limits, a supported decoder).

    Checks, in order: at most ``MAX_CONFIG_BYTES`` bytes, UTF-8, nesting at most
    ``MAX_CONFIG_DEPTH`` levels (counted before parsing), at most ``MAX_CONFIG_KEYS`` keys
    and no key repeated within an object (counted while parsing), no NaN/Infinity, and
    then ``describe_hf_config``. Raises ``ValueError`` saying what is wrong; pass the
    result to ``Catalog.with_model``.
    """
    if len(data) > MAX_CONFIG_BYTES:
        raise ValueError(
            f"config.json is {len(data):,} bytes; the limit is {MAX_CONFIG_BYTES:,} bytes"
        )
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as err:
        raise ValueError(f"config.json is not valid JSON: {err}") from None
    _check_nesting(text)
    keys = 0

    def pairs(items: list) -> dict:
        nonlocal keys
        keys += len(items)
        if keys > MAX_CONFIG_KEYS:
            raise ValueError(f"config.json has more than {MAX_CONFIG_KEYS:,} keys")
        seen = {}
        for key, value in items:
            if key in seen:
                raise ValueError(f"config.json: key {_shown(key)} appears twice in one object")
            seen[key] = value
        return seen

    try:
        cfg = json.loads(text, object_pairs_hook=pairs, parse_constant=_reject_constant)
    except RecursionError:  # unreachable after _check_nesting; kept as a last guard
        raise ValueError("config.json nests too deep") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"config.json is not valid JSON: {err}") from None
    except ValueError as err:  # our own checks, or an integer of over 4,300 digits
        message = str(err)
        raise ValueError(
            message if message.startswith("config.json") else f"config.json: {message}"
        ) from None
    describe_hf_config(cfg)
    return cfg


def load_hf_config(data: bytes | str) -> dict:
    """Architecture figures (see ``parse_hf_config``) of an uploaded ``config.json``."""
    return parse_hf_config(read_hf_config(data))


#: File names that say nothing about the model (``config.json`` as downloaded).
_GENERIC_NAMES = {"config", "config.json", "upload", "uploaded"}


def model_name(cfg: Mapping, file_name: str | None = None) -> str:
    """A name for an uploaded model: ``_name_or_path``, else the file name, else
    ``architectures[0]``, else ``model_type``.

    A generic file name (``config.json``) is skipped. The name keeps only letters,
    digits and ``._/-`` (anything else becomes ``-``) and at most 60 characters:
    ``{"_name_or_path": "deepseek-ai/DeepSeek-V3"}`` -> ``deepseek-ai/DeepSeek-V3``.
    """
    stem = PurePath(file_name).stem if file_name else None
    archs = cfg.get("architectures")
    candidates = [
        cfg.get("_name_or_path"),
        stem if stem and stem.lower() not in _GENERIC_NAMES else None,
        archs[0] if isinstance(archs, list) and archs else None,
        cfg.get("model_type"),
    ]
    for raw in candidates:
        if isinstance(raw, str):
            name = re.sub(r"[^A-Za-z0-9._/-]+", "-", raw).strip("-./")[:60]
            if name:
                return name
    return "uploaded"
