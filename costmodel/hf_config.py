"""Read a Hugging Face ``config.json`` into the architecture figures the cost model needs.

An upload is data, never code: ``read_hf_config`` caps its size, nesting depth, key and
value counts before parsing, each check one linear pass (``costmodel.safe_json``), refuses
duplicate keys and non-finite numbers while parsing, and ``describe_hf_config`` checks
every architecture field's type (a string is not a boolean) and physical range, naming
the key. A key the file leaves out takes the default of the model type's configuration
class in transformers (``costmodel.hf_defaults``, transformers 5.25.0), and
``defaults_used`` names each such key and its value.

Supported ``model_type``s (``SUPPORTED_MODEL_TYPES``), described as counts of layer kinds
(see ``costmodel.architecture`` and ``costmodel.attention``):

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
- ``deepseek_v2``, ``deepseek_v3``, ``kimi_k2``, ``kimi_k25`` (nested, Kimi K2.5-K2.7):
  MLA (``kv_lora_rank``, ``qk_rope_head_dim``, ...), ``first_k_dense_replace`` dense
  layers, routed and shared experts; ``deepseek_v32`` and ``glm_moe_dsa`` (GLM-5) add
  the sparse-attention indexer (``index_topk``, ...), GLM-5.2 only on the layers whose
  ``indexer_types`` entry is ``full`` (IndexShare: the others reuse its selection).
- ``deepseek_v4`` and ``deepseek_v41`` (nested): compressed attention. Every layer keeps
  its last ``sliding_window`` tokens; ``compress_ratios`` gives each layer's ratio: 4
  (CSA, the top ``index_topk`` compressed entries chosen by an indexer), 128 (HCA, all
  compressed entries) or 0 (window only). V4.1: ratios 2 and 1, compressed entries and
  index keys stored only on ``kv_source_layer_ids`` (others read the nearest source
  below them), indexers on ``index_source_layer_ids``, those after
  ``candidate_source_layer_id`` scoring only its ``candidate_topk_blocks x
  candidate_block_size`` candidates; its Engram n-gram tables are stored, not read.
- ``qwen3_next``, ``qwen3_5_moe``, ``qwen3_5`` (nested ``text_config``): linear-attention
  (Gated DeltaNet) layers with a fixed state per sequence and full-attention layers;
  ``kimi_k3`` (nested ``kimi_linear``): Kimi Delta Attention layers (``linear_attn_config``,
  counted as Gated DeltaNet layers of ``num_heads`` key and value heads) and MLA layers,
  LatentMoE experts of width ``routed_expert_hidden_size``.
- ``minimax_m3_vl`` (nested) and ``minimax_m3`` (flat): GQA whose sparse layers
  (``sparse_attention_config``) attend to the top ``sparse_topk_blocks`` blocks of
  ``sparse_block_size`` tokens plus ``sparse_local_block`` local ones, chosen by an
  indexer over one index key per token.

Multi-token-prediction layers (``num_nextn_predict_layers``, ``mtp_num_hidden_layers``) are
reported as ``mtp_layers`` and not counted in the parameters: model cards quote the main
model (DeepSeek-V3's 671 B excludes its 14 B MTP module). Biases, q/k norms, the MLA
low-rank norms, attention sinks and DeepSeek-V4's hyper-connection mixers are not counted
either (under 0.05 % of every model here).

>>> arch = parse_hf_config({"model_type": "llama", "hidden_size": 8192,
...     "intermediate_size": 28672, "num_hidden_layers": 80, "num_attention_heads": 64,
...     "num_key_value_heads": 8, "vocab_size": 32000})
>>> arch["n_experts"], arch["head_dim"]
(1, 128)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePath

from costmodel import safe_json
from costmodel.hf_defaults import DEFAULTS, HEADS, HIDDEN_PER_HEAD

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
    "kimi_k25",
    "deepseek_v32",
    "glm_moe_dsa",
    "deepseek_v4",
    "deepseek_v41",
    "qwen3_next",
    "qwen3_5",
    "qwen3_5_moe",
    "kimi_k3",
    "minimax_m3",
    "minimax_m3_vl",
)

#: Largest config.json accepted, in bytes: NVIDIA's MiniMax-M3-NVFP4 config.json, the
#: largest published config we know, is 3,087,083 bytes (its per-layer quantisation list).
MAX_CONFIG_BYTES = 4_000_000
#: Deepest nesting of objects and arrays accepted (published configs nest at most 7 deep).
MAX_CONFIG_DEPTH = 16
#: Most keys accepted, over all objects of the file (MiniMax-M3-NVFP4: 66,827).
MAX_CONFIG_KEYS = 100_000
#: Most values (array elements and object members) accepted (MiniMax-M3-NVFP4: 67,071).
MAX_CONFIG_VALUES = 200_000

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
#: "per token" fields are sums over layers of 1 / compress ratio (fractions allowed).
ATTENTION_FIELDS = (
    "gqa_layers",  # full (global) GQA/MHA attention layers
    "sliding_layers",  # GQA layers that cache only the last sliding_window tokens
    "sparse_gqa_layers",  # of the gqa_layers, those reading only the top index_topk tokens
    "mla_layers",  # multi-head latent attention layers
    "linear_layers",  # linear-attention layers with a fixed state per sequence
    "compressed_layers",  # DeepSeek-V4 layers: a window of raw entries + compressed entries
    "sliding_window",  # [tokens]
    "attention_output_gate",  # 1 if the query projection also yields an output gate
    "q_lora_rank",
    "kv_lora_rank",
    "qk_nope_head_dim",
    "qk_rope_head_dim",
    "v_head_dim",
    "o_lora_rank",  # DeepSeek-V4 grouped low-rank output projection: rank per group
    "o_groups",
    "compressed_entries_per_token",  # compressed entries stored per token [1/token]
    "compressed_dense_per_token",  # entries per context token read whole (HCA) [1/token]
    "compressed_sparse_layers",  # layers reading their top index_topk entries (CSA)
    "compressed_sparse_per_token",  # their entries per context token [1/token]
    "compressor_series",  # compressed series (CSA 2, HCA 1): 2 h head_dim weights each
    "compressor_state_values",  # compressors' buffered values per sequence (fp32)
    "index_topk",  # sparse attention: tokens / entries attention reads per query
    "index_head_dim",
    "index_n_heads",
    "index_layers",  # layers that compute an indexer (own its weights)
    "index_keys_per_token",  # index keys stored per token [1/token]
    "index_scans_per_token",  # keys scored per decoded token, per context token
    "index_capped_layers",  # indexers scoring at most index_candidates keys (V4.1)
    "index_capped_per_token",  # their keys per context token below the cap
    "index_candidates",  # [keys]
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
    "expert_hidden_size",  # LatentMoE: the experts' own width (0: hidden_size)
    "lookup_table_params",  # stored lookup tables (V4.1 Engram), read a few rows a token
    "mtp_layers",  # multi-token-prediction layers (not counted in the parameters)
    "context_window",  # [tokens]
)
LAYER_FIELDS = ATTENTION_FIELDS + FFN_FIELDS

#: Physical range of every integer key read (inclusive): a value outside is an error.
KEY_RANGES: dict[str, tuple[int, int]] = {
    "hidden_size": (1, 262_144),
    "num_hidden_layers": (1, 1_024),
    "intermediate_size": (1, 1_048_576),
    "moe_intermediate_size": (1, 1_048_576),
    "intermediate_size_mlp": (1, 1_048_576),
    "dense_intermediate_size": (1, 1_048_576),
    "shared_expert_intermediate_size": (0, 1_048_576),
    "shared_intermediate_size": (0, 1_048_576),
    "routed_expert_hidden_size": (1, 262_144),
    "num_attention_heads": (1, 4_096),
    "num_key_value_heads": (1, 4_096),
    "head_dim": (1, 4_096),
    "vocab_size": (1, 4_194_304),
    "num_local_experts": (1, 65_536),
    "num_experts": (1, 65_536),
    "n_routed_experts": (1, 65_536),
    "num_experts_per_tok": (1, 1_024),
    "num_experts_per_token": (1, 1_024),
    "n_shared_experts": (0, 64),
    "num_shared_experts": (0, 64),
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
    "o_lora_rank": (1, 65_536),
    "o_groups": (1, 4_096),
    "index_topk": (1, 100_000_000),
    "index_head_dim": (1, 4_096),
    "index_n_heads": (1, 4_096),
    "index_topk_freq": (1, 1_024),
    "index_skip_topk_offset": (0, 1_024),
    "index_block_size": (1, 1_048_576),
    "index_topk_blocks": (1, 1_048_576),
    "index_local_blocks": (0, 1_048_576),
    "candidate_source_layer_id": (0, 1_023),
    "candidate_topk_blocks": (1, 1_048_576),
    "candidate_block_size": (1, 1_048_576),
    "linear_num_key_heads": (1, 4_096),
    "linear_num_value_heads": (1, 4_096),
    "linear_key_head_dim": (1, 4_096),
    "linear_value_head_dim": (1, 4_096),
    "linear_conv_kernel_dim": (1, 64),
    "linear_num_heads": (1, 4_096),
    "linear_head_dim": (1, 4_096),
    "num_nextn_predict_layers": (0, 64),
    "mtp_num_hidden_layers": (0, 64),
    "full_attention_interval": (1, 1_024),
    "engram_head_dim": (1, 65_536),
}
#: Range of each compress ratio of ``compress_ratios`` (0: window only) [tokens/entry].
COMPRESS_RATIO_RANGE = (0, 65_536)
#: Range of each entry of ``engram_num_embeddings`` [rows].
ENGRAM_ROWS_RANGE = (0, 10_000_000_000)

#: Bytes per value of a recurrent state's dtype name (``mamba_ssm_dtype``).
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}
#: Kimi Delta Attention keeps its recurrent state in FP32 (no key names it; AIC kimi_k3.py).
KDA_STATE_DTYPE = "float32"

#: DeepSeek-V4 compress ratio of each layer type (transformers ``DeepseekV4Config``): the
#: CSA layers select entries with an indexer, the HCA layers read them all.
V4_LAYER_RATIOS = {
    "sliding_attention": 0,
    "compressed_sparse_attention": 4,
    "heavily_compressed_attention": 128,
}
#: Compress ratio at which a compressor runs two overlapping series (CSA: each entry pools
#: 2 x 4 tokens; vLLM ``deepseek_v4_attention.py``, ``overlap = compress_ratio == 4``).
OVERLAP_RATIO = 4

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

_NESTED_TEXT = (
    "llama4",
    "qwen3_5_moe",
    "qwen3_5",
    "kimi_k25",
    "kimi_k3",
    "minimax_m3_vl",
    "deepseek_v41",
)
_MLA = ("deepseek_v2", "deepseek_v3", "kimi_k2", "kimi_k25", "deepseek_v32", "glm_moe_dsa")
_INDEXED_MLA = ("deepseek_v32", "glm_moe_dsa")
_COMPRESSED = ("deepseek_v4", "deepseek_v41")
_MINIMAX_M3 = ("minimax_m3", "minimax_m3_vl")
_DENSE = ("llama", "mistral", "qwen2", "qwen3", "qwen3_5")
_LINEAR_GQA = ("qwen3_next", "qwen3_5_moe", "qwen3_5")
_QWEN_MOE = ("qwen2_moe", "qwen3_moe", "qwen3_next", "qwen3_5_moe")
#: Types whose experts' width is ``intermediate_size`` (the others: moe_intermediate_size).
_OWN_WIDTH = ("mixtral", "dbrx", "gpt_oss", "llama4", "minimax_m2", *_MINIMAX_M3)


class _Reader:
    """Typed, range-checked access to a flat config; errors name the key as the file has it.

    An absent (or null) key takes the model type's transformers default
    (``hf_defaults.DEFAULTS``), recorded in ``used``; else the caller's ``default``.
    """

    def __init__(
        self,
        cfg: Mapping,
        prefix: str = "",
        names: Mapping | None = None,
        defaults: Mapping | None = None,
        used: dict | None = None,
    ):
        self.cfg, self.prefix, self.names = cfg, prefix, names or {}
        self.defaults = defaults or {}
        self.used = {} if used is None else used

    def name(self, key: str) -> str:
        return self.prefix + ".".join(self.names.get(key, (key,)))

    def sub(self, key: str) -> _Reader:
        """A reader of the nested object ``key`` (empty if absent), naming keys by path."""
        value = self.cfg.get(key)
        if value is not None and not isinstance(value, Mapping):
            raise ValueError(f"config.json: {self.name(key)} must be an object")
        return _Reader(value or {}, self.name(key) + ".", used=self.used)

    def default(self, key: str, fallback=None):
        """The value an absent ``key`` takes: the model type's default, else ``fallback``."""
        if key not in self.defaults:
            return fallback
        value = self.defaults[key]
        if value == HEADS:
            value = self.int("num_attention_heads")
        elif value == HIDDEN_PER_HEAD:
            hidden, heads = self.int("hidden_size"), self.int("num_attention_heads")
            if heads > hidden:
                raise ValueError(
                    f"config.json: {self.name('num_attention_heads')} ({heads}) exceeds "
                    f"{self.name('hidden_size')} ({hidden}) and no head_dim is given"
                )
            value = hidden // heads
        self.used[self.name(key)] = value
        return value

    def int(self, key: str, default=None, *, low=None, high=None) -> int:
        """An integer in ``KEY_RANGES[key]`` (or ``[low, high]``); its default if absent/null."""
        value = self.cfg.get(key)
        if value is None:
            value = self.default(key, default)
            if value is None:
                raise ValueError(f"config.json: {self.name(key)} is required")
            return value
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

    def optional_int(self, key: str, **limits) -> int | None:
        """Like :meth:`int`, but an explicit null means "none" (no window, no low rank)."""
        if key in self.cfg and self.cfg[key] is None:
            return None
        return self.int(key, **limits) if key in self.cfg else self.default(key)

    def bool(self, key: str, default: bool) -> bool:
        value = self.cfg.get(key)
        if value is None:
            return self.default(key, default)
        if not isinstance(value, bool):
            raise ValueError(
                f"config.json: {self.name(key)} must be true or false (a JSON boolean); "
                f"got {_shown(value)}"
            )
        return value

    def str_list(self, key: str, n: int, allowed: tuple[str, ...]) -> list[str] | None:
        """A list of ``n`` (or more: the first n are used) names from ``allowed``."""
        value = self.cfg.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or len(value) < n or any(v not in allowed for v in value):
            raise ValueError(
                f"config.json: {self.name(key)} must list one of {', '.join(allowed)} "
                f"for each of the {n} layers"
            )
        return value[:n]

    def int_list(self, key: str, n: int | None, low: int, high: int) -> list[int] | None:
        """A list of integers in ``[low, high]``, at least ``n`` of them (the first n used)."""
        value = self.cfg.get(key)
        if value is None:
            return None
        if (
            not isinstance(value, list)
            or (n is not None and len(value) < n)
            or any(
                isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high for v in value
            )
        ):
            count = "a list of integers" if n is None else f"{n} integers"
            raise ValueError(
                f"config.json: {self.name(key)} must be {count} in [{low:,}, {high:,}]"
            )
        return value if n is None else value[:n]


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:20] + f"... ({len(text)} characters)"


def _text_config(cfg: Mapping) -> tuple[Mapping, str]:
    if cfg.get("model_type") in _NESTED_TEXT:
        text = cfg.get("text_config", {})
        if not isinstance(text, Mapping):
            raise ValueError(f"config.json: {cfg['model_type']} text_config must be an object")
        return {"tie_word_embeddings": cfg.get("tie_word_embeddings"), **text}, "text_config."
    return cfg, ""


def _flat_view(cfg: Mapping) -> dict:
    """Map a DBRX-style nested config onto the Llama/Mixtral key names."""
    if cfg.get("model_type") != "dbrx":
        return dict(cfg)
    for section in ("attn_config", "ffn_config"):
        if not isinstance(cfg.get(section, {}), Mapping):
            raise ValueError(f"config.json: dbrx {section} must be an object")
    flat = {"model_type": "dbrx"}
    for key, path in _DBRX_KEYS.items():
        node = cfg
        for part in path:
            node = node.get(part) if isinstance(node, Mapping) else None
        if node is not None:
            flat[key] = node
    return flat


def _flags(r: _Reader, key: str, n: int, values: dict[str, bool]) -> list[bool] | None:
    """Per-layer flags from a list of names (``values``) or of 0/1, the first n used."""
    value = r.cfg.get(key)
    if value is None:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [values[v] for v in r.str_list(key, n, tuple(values))]
    return [bool(v) for v in r.int_list(key, n, 0, 1)]


def _moe_flags(r: _Reader, model_type: str, n_layers: int) -> list[bool]:
    """Which layers' FFN is routed experts (the others are dense FFN layers)."""
    if model_type in _QWEN_MOE:
        step = r.int("decoder_sparse_step", 1)
        dense = r.int_list("mlp_only_layers", None, 0, n_layers - 1) or []
        dense = set(dense)
        return [i not in dense and (i + 1) % step == 0 for i in range(n_layers)]
    if model_type == "llama4":
        step = r.int("interleave_moe_layer_step", 1, high=n_layers)
        return [(i + 1) % step == 0 for i in range(n_layers)]
    if model_type in _COMPRESSED:  # every layer is MoE (DeepSeek-V4: hash_moe or moe)
        return [True] * n_layers
    kinds = {"dense": False, "sparse": True}
    if model_type in _MINIMAX_M3:
        found = _flags(r, "mlp_layer_types", n_layers, kinds)
        return found or _flags(r, "moe_layer_freq", n_layers, kinds) or [True] * n_layers
    if model_type in (*_MLA, "glm4_moe", "kimi_k3"):
        found = _flags(r, "mlp_layer_types", n_layers, kinds)
        if found is not None:
            return found
        first = r.int("first_k_dense_replace", 1 if model_type == "kimi_k3" else 0, high=n_layers)
        freq = r.int("moe_layer_freq", 1)
        return [i >= first and i % freq == 0 for i in range(n_layers)]
    return [True] * n_layers


def _mla(r: _Reader, out: dict) -> None:
    """MLA's sizes (``q_lora_rank`` null or 0: a full-rank query projection)."""
    out.update(
        q_lora_rank=r.optional_int("q_lora_rank") or 0,
        kv_lora_rank=r.int("kv_lora_rank"),
        qk_nope_head_dim=r.int("qk_nope_head_dim"),
        qk_rope_head_dim=r.int("qk_rope_head_dim"),
        v_head_dim=r.int("v_head_dim"),
    )


def _indexer(r: _Reader, out: dict, layers: int, keys_per_token: float) -> None:
    """Sparse-attention indexer on ``layers`` layers, ``keys_per_token`` keys stored."""
    out.update(
        index_topk=r.int("index_topk"),
        index_head_dim=r.int("index_head_dim"),
        index_n_heads=r.int("index_n_heads"),
        index_layers=layers,
        index_keys_per_token=keys_per_token,
        index_scans_per_token=keys_per_token,
    )


def _glm_indexer_layers(r: _Reader, n_layers: int) -> int:
    """Layers that run their own indexer (GLM-5.2 IndexShare; transformers' rules)."""
    types = r.str_list("indexer_types", n_layers, ("full", "shared"))
    if types is None:
        pattern = r.cfg.get("index_topk_pattern")
        if isinstance(pattern, str):
            if len(pattern) < n_layers or set(pattern[:n_layers]) - {"F", "S"}:
                raise ValueError(
                    f"config.json: {r.name('index_topk_pattern')} must hold F or S for "
                    f"each of the {n_layers} layers"
                )
            types = ["full" if c == "F" else "shared" for c in pattern[:n_layers]]
        elif pattern is not None:
            types = r.str_list("index_topk_pattern", n_layers, ("full", "shared"))
        else:
            freq = r.int("index_topk_freq", 1)
            offset = r.int("index_skip_topk_offset", 2)
            types = [
                "full" if max(i - offset + 1, 0) % freq == 0 else "shared" for i in range(n_layers)
            ]
    return types.count("full")


def _v4_ratios(r: _Reader, n_layers: int) -> list[int]:
    """DeepSeek-V4 compress ratio per layer: ``compress_ratios``, ``layer_types`` or the
    transformers default (2 HCA layers, then HCA and CSA alternating)."""
    ratios = r.int_list("compress_ratios", n_layers, *COMPRESS_RATIO_RANGE)
    if ratios is None:
        types = r.str_list("layer_types", n_layers, tuple(V4_LAYER_RATIOS))
        if types is None:
            types = ["heavily_compressed_attention"] * min(n_layers, 2) + [
                "compressed_sparse_attention" if i % 2 else "heavily_compressed_attention"
                for i in range(max(n_layers - 2, 0))
            ]
            r.used[r.name("compress_ratios")] = "2 HCA layers, then HCA and CSA alternating"
        ratios = [V4_LAYER_RATIOS[t] for t in types]
    allowed = set(V4_LAYER_RATIOS.values())
    if set(ratios) - allowed:
        raise ValueError(
            f"config.json: {r.name('compress_ratios')} must hold "
            f"{', '.join(map(str, sorted(allowed)))} for each of the {n_layers} layers"
        )
    return ratios


def _layer_ids(r: _Reader, key: str, ratios: list[int]) -> list[int]:
    """Layer indices of ``key`` (each a compressed layer: ratio > 0)."""
    ids = r.int_list(key, None, 0, len(ratios) - 1) or []
    if any(ratios[i] == 0 for i in ids):
        raise ValueError(f"config.json: {r.name(key)} must name compressed layers (ratio > 0)")
    return sorted(set(ids))


def _compressed(r: _Reader, model_type: str, n_layers: int, out: dict) -> None:
    """DeepSeek-V4 / V4.1 compressed attention (see the module docstring)."""
    d = r.int("head_dim")
    d_index = r.int("index_head_dim")
    if model_type == "deepseek_v4":
        ratios = _v4_ratios(r, n_layers)
        sparse = [
            i for i, x in enumerate(ratios) if x == V4_LAYER_RATIOS["compressed_sparse_attention"]
        ]
        stores = [i for i, x in enumerate(ratios) if x > 0]
        dense = [i for i in stores if i not in set(sparse)]
        index_sources, capped, candidates = sparse, [], 0
    else:
        ratios = r.int_list("compress_ratios", n_layers, *COMPRESS_RATIO_RANGE)
        if ratios is None:
            raise ValueError(f"config.json: {r.name('compress_ratios')} is required")
        sparse = [i for i, x in enumerate(ratios) if x > 0]
        stores = _layer_ids(r, "kv_source_layer_ids", ratios)
        dense = []
        index_sources = _layer_ids(r, "index_source_layer_ids", ratios)
        if r.cfg.get("candidate_source_layer_id") is None:
            capped, candidates = [], 0
        else:
            last = r.int("candidate_source_layer_id", high=n_layers - 1)
            capped = [i for i in index_sources if i > last]
            candidates = r.int("candidate_topk_blocks") * r.int("candidate_block_size")
    index_stores = sparse if model_type == "deepseek_v4" else stores
    uncapped = [i for i in index_sources if i not in set(capped)]

    def per_token(layers):
        return sum(1.0 / ratios[i] for i in layers)

    def series(i):
        return 2 if ratios[i] == OVERLAP_RATIO else 1

    state = sum(2 * ratios[i] * series(i) * d for i in stores)
    state += sum(2 * ratios[i] * series(i) * d_index for i in index_stores)
    out.update(
        gqa_layers=0,
        compressed_layers=n_layers,
        sliding_window=r.int("sliding_window"),
        q_lora_rank=r.int("q_lora_rank"),
        qk_rope_head_dim=r.int("qk_rope_head_dim"),
        o_lora_rank=r.int("o_lora_rank"),
        o_groups=r.int("o_groups"),
        compressed_entries_per_token=per_token(stores),
        compressed_dense_per_token=per_token(dense),
        compressed_sparse_layers=len(sparse),
        compressed_sparse_per_token=per_token(sparse),
        compressor_series=sum(series(i) for i in stores),
        compressor_state_values=state,
        index_topk=r.int("index_topk"),
        index_head_dim=d_index,
        index_n_heads=r.int("index_n_heads"),
        index_layers=len(index_sources),
        index_keys_per_token=per_token(index_stores),
        index_scans_per_token=per_token(uncapped),
        index_capped_layers=len(capped),
        index_capped_per_token=per_token(capped),
        index_candidates=candidates,
    )


def _minimax_m3(r: _Reader, n_layers: int, out: dict) -> None:
    """MiniMax-M3's block-sparse layers (transformers ``MiniMaxM3VLTextConfig`` rules:
    ``sparse_attention_config``'s legacy keys override the flat ``index_*`` ones)."""
    sparse = r.sub("sparse_attention_config")
    legacy = {
        "index_n_heads": "sparse_num_index_heads",
        "index_head_dim": "sparse_index_dim",
        "index_block_size": "sparse_block_size",
        "index_topk_blocks": "sparse_topk_blocks",
        "index_local_blocks": "sparse_local_block",
    }
    size = {flat: _sub_int(sparse, old, r, flat) for flat, old in legacy.items()}
    flags = _flags(r, "layer_types", n_layers, {"full_attention": False, "minimax_m3_sparse": True})
    if flags is None:
        flags = _flags(sparse, "sparse_attention_freq", n_layers, {})
    layers = sum(flags or [])
    if layers:
        topk = (size["index_topk_blocks"] + size["index_local_blocks"]) * size["index_block_size"]
        out.update(
            sparse_gqa_layers=layers,
            index_topk=topk,
            index_head_dim=size["index_head_dim"],
            index_n_heads=size["index_n_heads"],
            index_layers=layers,
            index_keys_per_token=layers,
            index_scans_per_token=layers,
        )


def _kimi_layers(r: _Reader, n_layers: int) -> list[str]:
    """Kimi K3's layer kinds: ``linear_attn_config`` (1-based lists), ``layer_types`` or
    the ``KimiLinearConfig`` default (full attention every 4th layer from the 5th)."""
    linear = r.sub("linear_attn_config")
    full = linear.int_list("full_attn_layers", None, 1, n_layers)
    kda = linear.int_list("kda_layers", None, 1, n_layers)
    if full is not None and kda is not None:
        types = [None] * n_layers
        for i in full:
            types[i - 1] = "full_attention"
        for i in kda:
            types[i - 1] = "linear_attention"
        if None in types:
            raise ValueError(
                f"config.json: {linear.name('full_attn_layers')} and "
                f"{linear.name('kda_layers')} must name each of the {n_layers} layers"
            )
        return types
    allowed = ("full_attention", "linear_attention")
    return r.str_list("layer_types", n_layers, allowed) or [
        "full_attention" if i and i % 4 == 0 else "linear_attention" for i in range(n_layers)
    ]


def _linear(r: _Reader, out: dict, dtype: str | None = None) -> None:
    """A Gated DeltaNet layer's sizes (``dtype``: the state's, if no key names it)."""
    dtype = dtype or r.cfg.get("mamba_ssm_dtype", "float32")
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


def _kimi_k3(r: _Reader, n_layers: int, out: dict) -> None:
    """Kimi K3: KDA layers (as Gated DeltaNet layers of ``num_heads`` key and value heads,
    the ``KimiLinearConfig`` keys) and MLA layers (with an output gate)."""
    types = _kimi_layers(r, n_layers)
    linear = r.sub("linear_attn_config")
    heads = _sub_int(linear, "num_heads", r, "linear_num_heads")
    dim = _sub_int(linear, "head_dim", r, "linear_head_dim")
    kernel = _sub_int(linear, "short_conv_kernel_size", r, "linear_conv_kernel_dim")
    _mla(r, out)
    kda = {
        "linear_num_key_heads": heads,
        "linear_num_value_heads": heads,
        "linear_key_head_dim": dim,
        "linear_value_head_dim": dim,
        "linear_conv_kernel_dim": kernel,
    }
    _linear(_Reader(kda), out, KDA_STATE_DTYPE)
    out.update(
        gqa_layers=0,
        mla_layers=types.count("full_attention"),
        linear_layers=types.count("linear_attention"),
        attention_output_gate=int(r.bool("mla_use_output_gate", False)),
    )


def _sub_int(sub: _Reader, key: str, r: _Reader, fallback_key: str) -> int:
    """``sub[key]`` (an integer in ``fallback_key``'s range) if given, else ``r[fallback_key]``."""
    if sub.cfg.get(key) is None:
        return r.int(fallback_key)
    low, high = KEY_RANGES[fallback_key]
    return _Reader({fallback_key: sub.cfg[key]}, sub.prefix, {fallback_key: (key,)}).int(
        fallback_key, low=low, high=high
    )


def _attention(r: _Reader, model_type: str, n_layers: int, out: dict) -> None:
    """Fill the attention-kind fields of ``out`` (layer counts sum to ``n_layers``)."""
    out.update(dict.fromkeys(ATTENTION_FIELDS, 0), gqa_layers=n_layers)
    if model_type in _MLA:
        out.update(gqa_layers=0, mla_layers=n_layers)
        _mla(r, out)
        if model_type == "deepseek_v32":
            _indexer(r, out, n_layers, n_layers)
        elif model_type == "glm_moe_dsa":
            layers = _glm_indexer_layers(r, n_layers)
            _indexer(r, out, layers, layers)
        return
    if model_type in _COMPRESSED:
        _compressed(r, model_type, n_layers, out)
        return
    if model_type == "kimi_k3":
        _kimi_k3(r, n_layers, out)
        return
    kinds = {"sliding_attention": "sliding_layers", "linear_attention": "linear_layers"}
    if model_type in ("gpt_oss", *_LINEAR_GQA):
        allowed = ("full_attention", "sliding_attention", "linear_attention")
        types = r.str_list("layer_types", n_layers, allowed)
        if types is None and model_type == "gpt_oss":  # GptOssConfig: sliding on even layers
            types = [
                "sliding_attention" if i % 2 == 0 else "full_attention" for i in range(n_layers)
            ]
            r.used[r.name("layer_types")] = "sliding and full attention alternating"
        elif types is None:
            every = r.int("full_attention_interval", 4)
            types = [
                "full_attention" if (i + 1) % every == 0 else "linear_attention"
                for i in range(n_layers)
            ]
        for kind, field in kinds.items():
            out[field] = (types or []).count(kind)
        if out["sliding_layers"]:
            out["sliding_window"] = r.int("sliding_window")
    elif model_type in ("mistral", "mixtral"):
        window = r.optional_int("sliding_window")
        if window is not None:
            out.update(sliding_layers=n_layers, sliding_window=window)
    elif model_type in ("qwen2", "qwen3", "qwen2_moe", "qwen3_moe") and r.bool(
        "use_sliding_window", False
    ):
        full = r.int("max_window_layers", n_layers, high=n_layers)
        out.update(sliding_layers=n_layers - full, sliding_window=r.int("sliding_window"))
    elif model_type == "llama4":
        chunk = r.optional_int("attention_chunk_size")
        if chunk is not None:
            no_rope = r.int_list("no_rope_layers", n_layers, 0, 1) or [
                int((i + 1) % 4 != 0) for i in range(n_layers)
            ]
            out.update(sliding_layers=sum(no_rope), sliding_window=chunk)
    elif model_type in _MINIMAX_M3:
        _minimax_m3(r, n_layers, out)
    out["gqa_layers"] = n_layers - out["sliding_layers"] - out["linear_layers"]
    gate_key = "attention_output_gate" if model_type in _MINIMAX_M3 else "attn_output_gate"
    out["attention_output_gate"] = int(r.bool(gate_key, False))
    if out["linear_layers"]:
        _linear(r, out)


def _ffn(r: _Reader, model_type: str, n_layers: int, hidden: int) -> dict:
    """Feed-forward fields: expert and dense layer counts, widths, shared experts."""
    moe_flags = [True] * n_layers if model_type in _DENSE else _moe_flags(r, model_type, n_layers)
    moe_layers = sum(moe_flags)
    ffn = {
        "dense_intermediate_size": 0,
        "n_shared_experts": 0,
        "shared_intermediate_size": 0,
        "expert_hidden_size": 0,
    }
    if model_type in _DENSE or moe_layers == 0:
        return {
            **ffn,
            "intermediate_size": r.int("intermediate_size"),
            "n_experts": 1,
            "experts_per_token": 1,
            "expert_ffn_layers": n_layers,
        }
    experts_key = next(
        (k for k in ("n_routed_experts", "num_experts", "num_local_experts") if k in r.cfg),
        next(
            (
                k
                for k in ("n_routed_experts", "num_experts", "num_local_experts")
                if k in r.defaults
            ),
            "num_local_experts",
        ),
    )
    n_experts = r.int(experts_key)
    top_key = "num_experts_per_token" if model_type == "kimi_k3" else "num_experts_per_tok"
    top_k = r.int(top_key, high=n_experts)
    width = r.int("intermediate_size" if model_type in _OWN_WIDTH else "moe_intermediate_size")
    if moe_layers < n_layers:
        dense_key = {
            "llama4": "intermediate_size_mlp",
            "minimax_m3": "dense_intermediate_size",
            "minimax_m3_vl": "dense_intermediate_size",
        }.get(model_type, "intermediate_size")
        ffn["dense_intermediate_size"] = r.int(dense_key)
    if model_type == "llama4":
        ffn.update(n_shared_experts=1, shared_intermediate_size=width)
    elif model_type in ("qwen2_moe", "qwen3_next", "qwen3_5_moe"):
        shared = r.int("shared_expert_intermediate_size", 0)
        ffn.update(n_shared_experts=int(shared > 0), shared_intermediate_size=shared)
    elif model_type in _MINIMAX_M3:
        shared = r.int("shared_intermediate_size", 0)
        ffn.update(n_shared_experts=int(shared > 0), shared_intermediate_size=shared)
    elif model_type in (*_MLA, *_COMPRESSED, "glm4_moe", "kimi_k3"):
        key = "num_shared_experts" if model_type == "kimi_k3" else "n_shared_experts"
        shared = r.int(key, 0)
        ffn.update(n_shared_experts=shared, shared_intermediate_size=width if shared else 0)
    if model_type == "kimi_k3":
        ffn["expert_hidden_size"] = r.int("routed_expert_hidden_size", hidden)
    return {
        **ffn,
        "intermediate_size": width,
        "n_experts": n_experts,
        "experts_per_token": top_k,
        "expert_ffn_layers": moe_layers,
    }


def _engram_params(r: _Reader) -> int:
    """Parameters of DeepSeek-V4.1's Engram n-gram tables: rows x ``engram_head_dim``."""
    rows = r.int_list("engram_num_embeddings", None, *ENGRAM_ROWS_RANGE)
    return sum(rows) * r.int("engram_head_dim") if rows else 0


def _describe(cfg: Mapping) -> tuple[dict, dict]:
    """The architecture of a parsed ``config.json`` and the defaults it took."""
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
    names = _DBRX_KEYS if model_type == "dbrx" else None
    r = _Reader(flat, prefix, names, DEFAULTS.get(model_type))
    hidden = r.int("hidden_size")
    heads = r.int("num_attention_heads")
    kv_heads = r.int("num_key_value_heads", heads)
    n_layers = r.int("num_hidden_layers")
    arch = {"n_layers": n_layers, "hidden_size": hidden, "n_heads": heads, "n_kv_heads": kv_heads}
    if model_type in (*_MLA, "kimi_k3"):
        arch["head_dim"] = r.int("qk_nope_head_dim") + r.int("qk_rope_head_dim")
    elif model_type in _COMPRESSED:
        arch["head_dim"] = r.int("head_dim")
    else:
        arch["head_dim"] = r.int("head_dim", _per_head(r, hidden, heads))
    if heads % kv_heads:
        raise ValueError(
            f"config.json: {r.name('num_attention_heads')} ({heads}) must be a multiple of "
            f"{r.name('num_key_value_heads')} ({kv_heads})"
        )
    _attention(r, model_type, n_layers, arch)
    ffn = _ffn(r, model_type, n_layers, hidden)
    mtp_key = (
        "mtp_num_hidden_layers" if "mtp_num_hidden_layers" in flat else ("num_nextn_predict_layers")
    )
    arch.update(
        vocab_size=r.int("vocab_size"),
        tied_embeddings=r.bool("tie_word_embeddings", False),
        **ffn,
        dense_ffn_layers=n_layers - ffn["expert_ffn_layers"],
        lookup_table_params=_engram_params(r),
        mtp_layers=r.int(mtp_key, 0),
        context_window=r.int("max_position_embeddings"),
    )
    experts, rest = checkpoint_formats(cfg)
    arch.update(checkpoint_weight_format=experts, checkpoint_attention_format=rest)
    return arch, r.used


def _per_head(r: _Reader, hidden: int, heads: int) -> int | None:
    """``hidden // heads`` where a type without a head_dim default falls back to it."""
    if "head_dim" in r.defaults:
        return None
    if heads > hidden and r.cfg.get("head_dim") is None:
        raise ValueError(
            f"config.json: {r.name('num_attention_heads')} ({heads}) exceeds "
            f"{r.name('hidden_size')} ({hidden}) and no head_dim is given"
        )
    return hidden // heads


def describe_hf_config(cfg: Mapping) -> dict:
    """Every architecture figure of a parsed ``config.json``.

    The keys of ``ARCHITECTURE_FIELDS`` (the GQA summary: ``intermediate_size`` is one
    routed expert's width, or the FFN width of a dense model; ``head_dim`` for MLA is
    ``qk_nope_head_dim + qk_rope_head_dim``), of ``LAYER_FIELDS`` (layer counts by
    attention and by FFN kind, and each kind's sizes) and the checkpoint's own
    formats ``checkpoint_weight_format`` (routed experts) and
    ``checkpoint_attention_format`` (everything else quantisable), see
    :func:`checkpoint_formats`. Keys the file leaves out take transformers' defaults
    (:func:`defaults_used` names them). Raises ``ValueError`` naming the key for anything
    that is not a supported decoder or out of its physical range (``KEY_RANGES``).
    """
    return _describe(cfg)[0]


def defaults_used(cfg: Mapping) -> list[tuple[str, object]]:
    """The keys ``cfg`` leaves out and the default each took, in reading order.

    Each key is named as the file would hold it (``text_config.head_dim``), its value
    the default of the model type's configuration class in transformers 5.25.0
    (``hf_defaults``): ``[("head_dim", 128)]`` for a Qwen3 config without ``head_dim``
    (``Qwen3Config.head_dim``), not ``hidden_size / num_attention_heads``.
    """
    return list(_describe(cfg)[1].items())


def parse_hf_config(cfg: Mapping) -> dict:
    """The summary figures (keys of ``ARCHITECTURE_FIELDS``) of a parsed ``config.json``.

    Layer count, hidden size, per-expert feed-forward size, query and key/value heads,
    head dimension, experts and experts per token (1 and 1 for a dense model), vocabulary
    size and whether input and output embeddings are tied; see ``describe_hf_config``
    for the full description. Raises ``ValueError`` naming the key.
    """
    arch = describe_hf_config(cfg)
    return {k: arch[k] for k in ARCHITECTURE_FIELDS}


# --- checkpoint formats -------------------------------------------------------------


#: A module name (one per line) of attention kept unquantised: it names attention but
#: no norm, bias or indexer part (GLM-5-FP8 keeps ``self_attn.indexer.k_norm`` and
#: ``post_attention_layernorm`` in BF16, its attention projections in FP8).
_KEPT_ATTENTION = re.compile(r"^(?![^\n]*(?:norm|bias|indexer))[^\n]*(?:attn|attention)", re.M)


def _keeps_attention(modules) -> bool:
    """Whether a list of modules left unquantised names attention projections (one
    regular-expression pass over the names, one per line)."""
    if not isinstance(modules, list):
        return False
    names = "\n".join(m.replace("\n", " ") for m in modules if isinstance(m, str))
    return _KEPT_ATTENTION.search(names) is not None


#: ModelOpt / compressed-tensors algorithm names -> ``assets/formats.csv`` ids. MXFP8
#: (E4M3 + one E8M0 scale per 32: 8.25 bits) is counted as fp8, its scales not counted,
#: as FP8's block scales are not.
_ALGOS = {
    "NVFP4": "nvfp4",
    "W4A16_NVFP4": "nvfp4_w4a16",
    "FP8": "fp8",
    "MXFP8": "fp8",
    "MXFP4": "mxfp4",
}
#: Module names of ``quantized_layers`` entries: routed experts, a dense MLP's
#: projections, attention projections (shared experts are skipped).
_MIXED_PARTS = re.compile(
    r"(?P<experts>experts)|(?P<mlp>mlp\.(?:gate|up|down|gate_up)_proj)|(?P<attention>attn|attention)"
)
#: compressed-tensors ``format`` -> format id.
_CT_FORMATS = {
    "nvfp4-pack-quantized": "nvfp4",
    "mxfp4-pack-quantized": "mxfp4",
    "float-quantized": "fp8",
}
#: Group size of the ``int4_g32`` format (compressed-tensors pack-quantized W4A16, Kimi).
INT4_G32_GROUP = 32


def _quantization(cfg: Mapping) -> Mapping | None:
    q = cfg.get("quantization_config")
    text = cfg.get("text_config")
    if q is None and isinstance(text, Mapping):
        q = text.get("quantization_config")
    if q is not None and not isinstance(q, Mapping):
        raise ValueError("config.json: quantization_config must be an object")
    return q


def _expert_dtype(cfg: Mapping, q: Mapping) -> str:
    """DeepSeek-V4's ``expert_dtype`` (in the quantisation config or at the top level);
    vLLM's ``DeepseekV4FP8Config`` defaults it to fp4 for the V4 family."""
    default = "fp4" if cfg.get("model_type") in _COMPRESSED else "fp8"
    return q.get("expert_dtype") or cfg.get("expert_dtype") or default


def _mixed_entries(layers: Mapping) -> dict:
    """The first ``quantized_layers`` entry of a known format naming routed experts, a
    dense MLP's projections and attention (shared experts skipped), by module name."""
    chosen: dict[str, tuple[str, Mapping]] = {}
    for name, entry in layers.items():
        algo = _ALGOS.get(entry.get("quant_algo")) if isinstance(entry, Mapping) else None
        part = _MIXED_PARTS.search(name) if algo is not None and "shared" not in name else None
        if part is not None:
            chosen.setdefault(part.lastgroup, (name, entry))
            if len(chosen) == len(_MIXED_PARTS.groupindex):
                break
    return dict(chosen.values())


def _mixed_precision(q: Mapping, base: str) -> tuple[str, str]:
    """ModelOpt MIXED_PRECISION: the formats of the routed experts' entries of
    ``quantized_layers`` (of the MLP's, in a dense model) and of attention's; attention
    absent from it stays in ``base`` (a DeepSeek-V4 FP8 checkpoint's FP8, else BF16)."""
    layers = q.get("quantized_layers")
    if not isinstance(layers, Mapping):
        raise ValueError("config.json: quantization_config.quantized_layers must be an object")
    found = {
        _MIXED_PARTS.search(name).lastgroup: _ALGOS[entry["quant_algo"]]
        for name, entry in _mixed_entries(layers).items()
    }
    experts = found.get("experts") or found.get("mlp")
    if experts is None:
        raise ValueError(
            "config.json: quantization_config.quantized_layers names no expert or MLP "
            f"format the model knows; supported: {', '.join(_ALGOS)}"
        )
    return experts, found.get("attention", base)


def _compressed_tensors(q: Mapping) -> str | None:
    """The format of a compressed-tensors config: its ``format``, or its first group's
    weights (int 4-bit group 32: ``int4_g32``; int 8: ``int8``)."""
    if q.get("format") in _CT_FORMATS:
        return _CT_FORMATS[q["format"]]
    groups = q.get("config_groups")
    weights = {}
    if isinstance(groups, Mapping) and groups:
        first = next(iter(groups.values()))
        weights = first.get("weights") or {} if isinstance(first, Mapping) else {}
    if not isinstance(weights, Mapping):
        return None
    bits, kind = weights.get("num_bits"), weights.get("type")
    if kind == "int" and bits == 4:
        return "int4_g32" if weights.get("group_size") == INT4_G32_GROUP else "int4"
    if kind == "int" and bits == 8:
        return "int8"
    if kind == "float" and bits == 8:
        return "fp8"
    if kind == "float" and bits == 4:
        return "mxfp4" if weights.get("group_size") == 32 else "nvfp4"
    return None


def checkpoint_formats(cfg: Mapping) -> tuple[str, str]:
    """The checkpoint's own formats: (routed experts', everything else quantisable).

    From ``quantization_config`` (at the top level or in ``text_config``; ids of
    ``assets/formats.csv``):

    - none: ``bf16``, ``bf16`` (``torch_dtype`` float16 has the same 2 bytes).
    - ``fp8`` (DeepSeek, Kimi, GLM, MiniMax: E4M3 with 128x128 block scales): ``fp8``,
      ``fp8``; the FP32 block scales add 32 / (128 x 128) = 0.002 bits per weight, not
      counted. DeepSeek-V4 / V4.1 (``expert_dtype`` fp4, vLLM's default for them):
      ``mxfp4`` experts. ``modules_to_not_convert`` naming attention projections: the
      rest ``bf16``.
    - ``mxfp4`` (gpt-oss): ``mxfp4`` experts; the rest ``bf16`` when
      ``modules_to_not_convert`` names attention, else ``mxfp4``.
    - ``modelopt`` (NVIDIA) ``quant_algo`` NVFP4 or FP8, ``compressed-tensors``
      ``format`` nvfp4/mxfp4-pack-quantized, float-quantized or pack-quantized (int 4-bit:
      ``int4_g32`` at group 32, Kimi K2.5): that format for the experts, the rest ``bf16``
      when ``exclude_modules``/``ignore`` name attention; ModelOpt ``MIXED_PRECISION``:
      the formats of the experts' and attention's entries of ``quantized_layers``
      (W4A16_NVFP4: ``nvfp4_w4a16``, MXFP8: ``fp8``).
    - ``gptq``/``awq`` with ``bits`` 4 or 8: ``int4``/``int8`` for both.

    Anything else raises ``ValueError`` naming ``quantization_config.quant_method``.
    """
    q = _quantization(cfg)
    if q is None:
        return "bf16", "bf16"
    method = q.get("quant_method")
    kept = [q.get(k) for k in ("modules_to_not_convert", "exclude_modules", "ignore")]
    rest_bf16 = any(map(_keeps_attention, kept))
    if method == "fp8" and q.get("quant_algo") != "MIXED_PRECISION":
        experts = "mxfp4" if _expert_dtype(cfg, q) == "fp4" else "fp8"
        return experts, "bf16" if rest_bf16 else "fp8"
    if method in ("mxfp4", "modelopt", "compressed-tensors", "fp8"):
        if q.get("quant_algo") == "MIXED_PRECISION":
            return _mixed_precision(q, "fp8" if method == "fp8" else "bf16")
        if method == "mxfp4":
            experts = "mxfp4"
        elif method == "modelopt":
            experts = _ALGOS.get(q.get("quant_algo"))
        else:
            experts = _compressed_tensors(q)
        if experts is None:
            raise ValueError(
                "config.json: quantization_config holds a format the model does not know "
                f"({_shown(q.get('quant_algo') or q.get('format'))}); supported: "
                f"{', '.join(_ALGOS)}, INT4, INT8"
            )
        return experts, "bf16" if rest_bf16 else experts
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


def compact(cfg: Mapping) -> dict:
    """``cfg`` with its quantisation lists cut to the entries that decide its formats.

    NVIDIA's per-module lists say no more to the cost model than their first routed
    expert, MLP and attention entries (``quantized_layers``; MiniMax-M3-NVFP4 lists 22,422
    modules in 3 MB), one module naming attention among those left unquantised
    (``ignore``, ``exclude_modules``, ``modules_to_not_convert``) and one target per
    compressed-tensors group: ``describe_hf_config(compact(cfg)) ==
    describe_hf_config(cfg)``, in a few kilobytes, so a link can carry it.
    """
    q = _quantization(cfg)
    if q is None:
        return dict(cfg)
    small = dict(q)
    for key in ("modules_to_not_convert", "exclude_modules", "ignore"):
        if isinstance(q.get(key), list):
            small[key] = [m for m in q[key] if _keeps_attention([m])][:1]
    if isinstance(q.get("quantized_layers"), Mapping):
        small["quantized_layers"] = _mixed_entries(q["quantized_layers"])
    if isinstance(q.get("config_groups"), Mapping):
        small["config_groups"] = {
            name: {**g, "targets": g["targets"][:1]}
            if isinstance(g, Mapping) and isinstance(g.get("targets"), list)
            else g
            for name, g in q["config_groups"].items()
        }
    if "quantization_config" in cfg:
        return {**cfg, "quantization_config": small}
    return {**cfg, "text_config": {**cfg["text_config"], "quantization_config": small}}


def read_quant_config(data: bytes | str) -> dict:
    """The ``quantization_config`` of NVIDIA's ``hf_quant_config.json`` (ModelOpt), read
    with the same limits as a config.json: ``{"quant_method": "modelopt", **quantization}``.

    Attach it to a config.json as its ``quantization_config`` when the config lacks one.
    """
    raw = _load(data, "hf_quant_config.json")
    q = raw.get("quantization") if isinstance(raw, Mapping) else None
    if not isinstance(q, Mapping):
        raise ValueError("hf_quant_config.json: quantization must be an object")
    quant = {"quant_method": "modelopt", **q}
    checkpoint_formats({"quantization_config": quant})
    return quant


# --- reading an upload ----------------------------------------------------------------


def _load(data: bytes | str, what: str):
    return safe_json.loads_limited(
        data,
        what=what,
        max_bytes=MAX_CONFIG_BYTES,
        max_depth=MAX_CONFIG_DEPTH,
        max_keys=MAX_CONFIG_KEYS,
        max_items=MAX_CONFIG_VALUES,
    )


def read_hf_config(data: bytes | str) -> dict:
    """The dict of an uploaded ``config.json`` (size, depth and key limits, a supported decoder).

    Checks, in order: at most ``MAX_CONFIG_BYTES`` bytes, UTF-8 (a byte-order mark is
    dropped), nesting at most ``MAX_CONFIG_DEPTH`` levels, at most ``MAX_CONFIG_KEYS``
    keys and ``MAX_CONFIG_VALUES`` values (all counted before parsing, in one linear pass:
    ``safe_json``), no key repeated within an object and no NaN/Infinity (while parsing),
    and then ``describe_hf_config``. Raises ``ValueError`` saying what is wrong; pass the
    result to ``Catalog.with_model``.
    """
    cfg = _load(data, "config.json")
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
