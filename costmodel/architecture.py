"""A model as counts of layer kinds, and its parameter counts by part.

A layer is one attention kind (``gqa_layers`` full GQA/MHA, ``sliding_layers`` GQA with a
window, ``mla_layers`` multi-head latent attention, optionally sparse, ``linear_layers``
linear attention, ``compressed_layers`` DeepSeek-V4's compressed attention; sparse
indexers on ``index_layers`` of them) plus one feed-forward kind (``expert_ffn_layers``:
``n_experts`` routed experts of width ``intermediate_size``, top-``experts_per_token``, plus
``n_shared_experts`` of width ``shared_intermediate_size`` that every token uses; a dense
model is the one-expert, top-1 case; ``dense_ffn_layers``: a dense FFN of
``dense_intermediate_size``, as DeepSeek's first 3 layers or Llama 4 Maverick's every other
layer). A layer's attention and FFN costs add up independently, so the counts of each
kind suffice (no table of attention kind x FFN kind is needed). The fields are those of
``hf_config.ARCHITECTURE_FIELDS`` and ``LAYER_FIELDS``;
every function takes a mapping of numpy arrays (catalog columns) or scalars.

Units: ``_params`` are counts. h hidden size, H query heads, d head dimension, SwiGLU
FFNs (gate, up, down: 3 h F per expert).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def _a(arch: Mapping, key: str, default: float = 0.0) -> np.ndarray:
    return np.asarray(arch.get(key, default), float)


def gqa_layer_params(arch: Mapping) -> np.ndarray:
    """One GQA/MHA layer's attention weights: ``h d (2 H + 2 n_kv) (+ h H d for a gate)``.

    Q and O are ``h x H d``, K and V ``h x n_kv d``; an output gate (Qwen3.5
    ``attn_output_gate``) doubles the query projection.
    Qwen3-235B: 4096 x 128 x (2 x 64 + 2 x 4) = 71,303,168.
    """
    h, H, d = _a(arch, "hidden_size"), _a(arch, "n_heads"), _a(arch, "head_dim")
    gate = _a(arch, "attention_output_gate") * h * H * d
    return h * d * (2.0 * H + 2.0 * _a(arch, "n_kv_heads")) + gate


def mla_layer_params(arch: Mapping) -> np.ndarray:
    """One MLA layer's weights (DeepSeek-V2/V3, Kimi K2, GLM-5).

    q: ``h q_lora + q_lora H (nope + rope)`` (or ``h H (nope + rope)`` without a q
    low-rank, ``q_lora_rank`` 0); kv_a: ``h (kv_lora + rope)``; kv_b:
    ``kv_lora H (nope + v)``; o: ``H v h``; an output gate (Kimi K3
    ``mla_use_output_gate``) another ``h H v``. The indexer is :func:`indexer_params`.
    DeepSeek-V3: 11,010,048 + 37,748,736 + 4,128,768 + 16,777,216 + 117,440,512
    = 187,105,280.
    """
    h, H = _a(arch, "hidden_size"), _a(arch, "n_heads")
    q_lora, kv_lora = _a(arch, "q_lora_rank"), _a(arch, "kv_lora_rank")
    nope, rope, v = (
        _a(arch, "qk_nope_head_dim"),
        _a(arch, "qk_rope_head_dim"),
        _a(arch, "v_head_dim"),
    )
    q = np.where(q_lora > 0, h * q_lora + q_lora * H * (nope + rope), h * H * (nope + rope))
    kv = h * (kv_lora + rope) + kv_lora * H * (nope + v)
    gate = _a(arch, "attention_output_gate") * h * H * v
    return q + kv + H * v * h + gate


def compressed_layer_params(arch: Mapping) -> np.ndarray:
    """One DeepSeek-V4 attention layer's weights, its compressor left out.

    q_a ``h q_lora``, q_b ``q_lora H d``, one shared K=V projection ``h d``, and the
    grouped low-rank output: o_a ``H d r`` (each of the g groups maps its ``H d / g``
    values to r) and o_b ``g r h`` (transformers ``DeepseekV4Attention``).
    V4-Pro (h 7168, q_lora 1536, H 128, d 512, r 1024, g 16): 11,010,048 + 100,663,296
    + 3,670,016 + 67,108,864 + 117,440,512 = 299,892,736.
    """
    h, H, d = _a(arch, "hidden_size"), _a(arch, "n_heads"), _a(arch, "head_dim")
    q_lora, r, g = _a(arch, "q_lora_rank"), _a(arch, "o_lora_rank"), _a(arch, "o_groups")
    return h * q_lora + q_lora * H * d + h * d + H * d * r + g * r * h


def compressor_params(arch: Mapping) -> np.ndarray:
    """All compressors' weights: ``compressor_series x 2 h d`` (a K=V and a gate
    projection of head_dim per series; CSA runs two overlapping series, HCA one).
    V4-Pro: (30 x 2 + 31) x 2 x 7168 x 512 = 667,942,912.
    """
    return _a(arch, "compressor_series") * 2.0 * _a(arch, "hidden_size") * _a(arch, "head_dim")


def indexer_params(arch: Mapping) -> np.ndarray:
    """One sparse-attention indexer's weights: query ``q_in n_I d_I`` (q_in the query
    low-rank, or h without one), key ``h d_I`` (DeepSeek-V4: its own two-series
    compressor, ``4 h d_I``) and head weights ``h n_I``.
    DeepSeek-V3.2: 1536 x 64 x 128 + 7168 x 128 + 7168 x 64 = 13,959,168.
    """
    h, q_lora = _a(arch, "hidden_size"), _a(arch, "q_lora_rank")
    n_i, d_i = _a(arch, "index_n_heads"), _a(arch, "index_head_dim")
    key = np.where(_a(arch, "compressed_layers") > 0, 4.0, 1.0) * h * d_i
    return np.where(q_lora > 0, q_lora, h) * n_i * d_i + key + h * n_i


def linear_layer_params(arch: Mapping) -> np.ndarray:
    """One linear-attention (Gated DeltaNet) layer: projections, convolution, output.

    With key dim ``K = n_k d_k`` and value dim ``V = n_v d_v``: in_proj
    ``h (2K + 2V)`` (q, k, v, z) + ``h 2 n_v`` (b, a), conv ``(2K + V) kernel``, out
    ``V h``. Qwen3.5-397B: 83,886,080 + 524,288 + 49,152 + 33,554,432 = 118,013,952.
    """
    h = _a(arch, "hidden_size")
    K = _a(arch, "linear_key_heads") * _a(arch, "linear_key_head_dim")
    nv = _a(arch, "linear_value_heads")
    V = nv * _a(arch, "linear_value_head_dim")
    conv = (2.0 * K + V) * _a(arch, "linear_conv_kernel")
    return h * (2.0 * K + 2.0 * V) + h * 2.0 * nv + conv + V * h


def parameter_counts(arch: Mapping) -> dict:
    """Parameter counts of a decoder by part, from its layer-kind counts.

    - attention: ``(gqa + sliding) x gqa_layer + mla x mla_layer + linear x linear_layer
      + compressed x compressed_layer + compressors + index_layers x indexer``
    - experts (routed): ``expert_ffn_layers x E x 3 h_e F`` (h_e the experts' width,
      ``expert_hidden_size``, h unless LatentMoE)
    - shared experts: ``expert_ffn_layers x (n_shared x 3 h F_shared + 2 h h_e)``, the
      last term LatentMoE's projections into and out of the experts' width (Kimi K3)
    - dense FFN: ``dense_ffn_layers x 3 h F_dense``
    - router: ``expert_ffn_layers x h x E`` for a mixture of experts, else 0
    - lm_head ``V h``; embedding ``V h`` unless tied; norms ``(2 L + 1) h``
    - lookup tables (DeepSeek-V4.1 Engram): ``lookup_table_params``, stored in the
      attention format, a few rows read per token (not counted as read or active)

    ``quantizable`` (attention, experts, shared experts, dense FFN, lookup tables) take
    the weight formats; the rest stays 16-bit. ``active`` = total minus the routed experts
    a token does not use and the lookup tables, ``total - experts (E - k) / E - lookup``
    (embeddings included, as Mixtral's 12.9 B, Llama 4's 17 B and DeepSeek-V3's 37 B
    count them; gpt-oss's card leaves the input embedding out: 5.1 B = active - embedding).
    DeepSeek-V3: attention 11.41e9 + routed 653.91e9 + shared 2.55e9 + dense 1.19e9
    + router 0.11e9 + lm_head 0.93e9 + embedding 0.93e9 + norms 0.9e6 = 671.03e9 total;
    active 671.03e9 - 653.91e9 x 248/256 = 37.55e9.
    """
    L, h = _a(arch, "n_layers"), _a(arch, "hidden_size")
    E = _a(arch, "n_experts", 1.0)
    moe_layers = _a(arch, "expert_ffn_layers", arch["n_layers"])
    attention = (_a(arch, "gqa_layers", arch["n_layers"]) + _a(arch, "sliding_layers")) * (
        gqa_layer_params(arch)
    )
    for kind, per_layer in (
        ("mla_layers", mla_layer_params),
        ("linear_layers", linear_layer_params),
        ("compressed_layers", compressed_layer_params),
        ("index_layers", indexer_params),
    ):
        layers = _a(arch, kind)
        attention = attention + np.where(layers > 0, layers * per_layer(arch), 0.0)
    attention = attention + compressor_params(arch)
    width = _a(arch, "expert_hidden_size")
    latent = width > 0
    h_e = np.where(latent, width, h)
    experts = moe_layers * E * 3.0 * h_e * _a(arch, "intermediate_size")
    shared = (
        moe_layers * _a(arch, "n_shared_experts") * 3.0 * h * _a(arch, "shared_intermediate_size")
    )
    shared = shared + np.where(latent & (E > 1), moe_layers * 2.0 * h * h_e, 0.0)
    dense = _a(arch, "dense_ffn_layers") * 3.0 * h * _a(arch, "dense_intermediate_size")
    router = np.where(E > 1, moe_layers * h * E, 0.0)
    lm_head = _a(arch, "vocab_size") * h
    embedding = np.where(np.asarray(arch["tied_embeddings"], bool), 0.0, lm_head)
    norms = (2.0 * L + 1.0) * h
    lookup = _a(arch, "lookup_table_params")
    quantizable = attention + experts + shared + dense + lookup
    sixteen_bit = router + lm_head + embedding + norms
    total = quantizable + sixteen_bit
    k = _a(arch, "experts_per_token", 1.0)
    return {
        "attention_params": attention,
        "expert_params": experts,
        "shared_expert_params": shared,
        "dense_ffn_params": dense,
        "router_params": router,
        "lm_head_params": lm_head,
        "embedding_params": embedding,
        "norm_params": norms,
        "lookup_params": lookup,
        "quantizable_params": quantizable,
        "sixteen_bit_params": sixteen_bit,
        "total_params": total,
        "active_params": total - experts * (E - k) / E - lookup,
    }
