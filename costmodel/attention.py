"""What attention stores and reads per sequence, and its FLOPs, for every attention kind.

``arch`` is a mapping of the layer-kind fields (``costmodel.architecture``), numpy arrays
or scalars; ``kv_bytes`` the bytes per cached value (2 for bf16, 1 for fp8). Per layer:

- GQA/MHA: ``2 n_kv d b`` bytes per token; a sliding-window layer holds and reads only
  the last ``min(T, window)`` tokens.
- MLA: the latent and the shared RoPE key, ``(kv_lora + rope) b`` per token.
  DeepSeek-V3 in BF16: 61 x (512 + 64) x 2 = 70,272 B/token.
- Sparse MLA (DeepSeek-V3.2): the whole latent cache is stored, plus the indexer's key,
  ``index_head_dim x INDEXER_KEY_BYTES`` per token; a decode step's indexer reads all T
  keys and attention reads only ``min(T, index_topk)`` latents.
- Linear attention (Gated DeltaNet): a fixed state ``n_v d_k d_v`` values in
  ``linear_state_bytes`` plus a convolution state ``(kernel - 1) (2 n_k d_k + n_v d_v)``
  values in ``CONV_STATE_BYTES``, whatever the context; a step reads and writes it back.

Under tensor parallelism over n GPUs (``n_gpus``), KV heads are split across the GPUs,
and replicated when n exceeds them: the replica holds ``max(1, n / n_kv)`` copies of a
GQA cache (``max(1, n / n_v)`` of a linear state). MLA's single latent "head" cannot be
split: every GPU of the group holds, and reads, the whole latent (and indexer) cache of
every sequence, n copies. Bytes here are totals over the replica's GPUs.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

#: Bytes per value of the sparse-attention indexer's key cache (FP8; its per-token
#: scale, 4 bytes per 128 values, is not counted).
INDEXER_KEY_BYTES = 1.0
#: Bytes per value of a linear-attention layer's convolution state (the model's bf16).
CONV_STATE_BYTES = 2.0
#: FLOPs per state value per token of a Gated DeltaNet step: S k, the rank-1 update, S q,
#: each a multiply-add over the ``d_k x d_v`` state of every value head.
LINEAR_FLOPS_PER_STATE_VALUE = 6.0


def _a(arch: Mapping, key: str, default: float = 0.0) -> np.ndarray:
    return np.asarray(arch.get(key, default), float)


def _kinds(arch: Mapping) -> tuple:
    """Layer counts: full GQA, sliding GQA, MLA, sparse-indexed MLA, linear."""
    full = _a(arch, "gqa_layers", arch["n_layers"])
    mla = _a(arch, "mla_layers")
    indexed = np.where(_a(arch, "index_topk") > 0, mla, 0.0)
    return full, _a(arch, "sliding_layers"), mla, indexed, _a(arch, "linear_layers")


def _copies(arch: Mapping, n_gpus) -> tuple:
    """Copies over the TP group of a GQA cache, a latent cache and a linear state."""
    n = np.asarray(n_gpus, float)
    gqa = np.maximum(1.0, n / _a(arch, "n_kv_heads", 1.0))
    heads = _a(arch, "linear_value_heads")
    linear = np.maximum(1.0, n / np.where(heads > 0, heads, 1.0))
    return gqa, n, linear


def gqa_bytes_per_token(arch: Mapping, kv_bytes) -> np.ndarray:
    """One GQA layer's cache per token: ``2 n_kv d b`` [B]. Qwen3-235B: 2 x 4 x 128 x 2 = 2,048."""
    return 2.0 * _a(arch, "n_kv_heads") * _a(arch, "head_dim") * np.asarray(kv_bytes, float)


def latent_bytes_per_token(arch: Mapping, kv_bytes) -> np.ndarray:
    """One MLA layer's cache per token: ``(kv_lora + rope) b`` [B]. DeepSeek-V3: 576 x 2."""
    return (_a(arch, "kv_lora_rank") + _a(arch, "qk_rope_head_dim")) * np.asarray(kv_bytes, float)


def linear_state_bytes(arch: Mapping) -> np.ndarray:
    """Fixed state of one sequence over all linear-attention layers [B].

    ``L_lin (n_v d_k d_v s + (kernel - 1)(2 n_k d_k + n_v d_v) CONV_STATE_BYTES)``.
    Qwen3.5-397B: 45 x (64 x 128 x 128 x 4 + 3 x 12,288 x 2) = 45 x 4,268,032 = 192.1e6.
    """
    nk, dk = _a(arch, "linear_key_heads"), _a(arch, "linear_key_head_dim")
    nv, dv = _a(arch, "linear_value_heads"), _a(arch, "linear_value_head_dim")
    state = nv * dk * dv * _a(arch, "linear_state_bytes")
    conv = (_a(arch, "linear_conv_kernel") - 1.0) * (2.0 * nk * dk + nv * dv) * CONV_STATE_BYTES
    return _a(arch, "linear_layers") * np.where(nv > 0, state + np.maximum(conv, 0.0), 0.0)


def kv_bytes_per_token(arch: Mapping, kv_bytes, n_gpus=1) -> np.ndarray:
    """Bytes one new token adds to one sequence's cache, over all layers and copies [B].

    ``(full + sliding) 2 n_kv d b c_gqa + mla (kv_lora + rope) b n + indexed d_I
    INDEXER_KEY_BYTES n`` (a sliding layer adds one and drops one once full; counted as
    written). DeepSeek-V3 BF16 on 1 GPU: 70,272; Qwen3-235B: 94 x 2,048 = 192,512.
    """
    full, sliding, mla, indexed, _ = _kinds(arch)
    c_gqa, c_latent, _ = _copies(arch, n_gpus)
    gqa = (full + sliding) * gqa_bytes_per_token(arch, kv_bytes) * c_gqa
    latent = mla * latent_bytes_per_token(arch, kv_bytes) * c_latent
    index = indexed * _a(arch, "index_head_dim") * INDEXER_KEY_BYTES * c_latent
    return gqa + latent + index


def _window(arch: Mapping, tokens) -> np.ndarray:
    window = _a(arch, "sliding_window")
    return np.where(window > 0, np.minimum(tokens, window), tokens)


def sequence_cache_bytes(arch: Mapping, tokens, kv_bytes, n_gpus=1) -> np.ndarray:
    """Memory one sequence of ``tokens`` tokens holds: KV/latent caches + fixed state [B].

    ``T (full 2 n_kv d b c_gqa + mla (kv_lora + rope) b n + indexed d_I n)
    + sliding min(T, W) 2 n_kv d b c_gqa + state c_linear``.
    gpt-oss-120b BF16 at T = 131,072: 18 x 2,048 x 131,072 + 18 x 2,048 x 128 = 4.84e9.
    """
    T = np.asarray(tokens, float)
    full, sliding, mla, indexed, _ = _kinds(arch)
    c_gqa, c_latent, c_linear = _copies(arch, n_gpus)
    per_gqa = gqa_bytes_per_token(arch, kv_bytes) * c_gqa
    latent = (
        mla * latent_bytes_per_token(arch, kv_bytes) + indexed * _a(arch, "index_head_dim")
    ) * (c_latent)
    grows = T * (full * per_gqa + latent)
    return grows + sliding * _window(arch, T) * per_gqa + linear_state_bytes(arch) * c_linear


def decode_cache_read_bytes(arch: Mapping, context, kv_bytes, n_gpus=1) -> np.ndarray:
    """Cache bytes one sequence's decode step reads at ``context`` cached tokens [B].

    Full GQA and MLA layers read all T tokens, sliding layers ``min(T, W)``; sparse MLA
    reads ``min(T, index_topk)`` latents plus T indexer keys; linear layers read their
    state and write it back (2x). DeepSeek-V3 BF16 at T = 65,536: 4.61e9;
    V3.2: 61 x (2,048 x 1,152 + 65,536 x 128) = 0.656e9.
    """
    T = np.asarray(context, float)
    full, sliding, mla, indexed, _ = _kinds(arch)
    c_gqa, c_latent, c_linear = _copies(arch, n_gpus)
    per_gqa = gqa_bytes_per_token(arch, kv_bytes) * c_gqa
    topk = _a(arch, "index_topk")
    attended = np.where(topk > 0, np.minimum(T, topk), T)
    latent = mla * attended * latent_bytes_per_token(arch, kv_bytes)
    index = indexed * T * _a(arch, "index_head_dim") * INDEXER_KEY_BYTES
    gqa = (full * T + sliding * _window(arch, T)) * per_gqa
    return gqa + (latent + index) * c_latent + 2.0 * linear_state_bytes(arch) * c_linear


def decode_attention_flops(arch: Mapping, context) -> np.ndarray:
    """Attention FLOPs (scores and values) of one decoded token at ``context`` tokens [FLOP].

    - GQA: ``4 H d T`` per full layer, ``4 H d min(T, W)`` per sliding layer.
    - MLA in the absorbed form serving engines decode with (the query is multiplied into
      the latent space, so each head scores and sums the cached latents directly):
      ``2 H (kv_lora + rope) T' + 2 H kv_lora T'`` per layer, with T' = T, or
      ``min(T, index_topk)`` for sparse MLA; its indexer adds ``2 n_I d_I T``. The
      absorbed projections themselves are weight FLOPs (``2 x attention_params``).
      DeepSeek-V3 at T = 4,096: 61 x 2 x 128 x (576 + 512) x 4,096 = 69.6e9 per token,
      against Llama-3-70B's 80 x 4 x 64 x 128 x 4,096 = 10.7e9 (6.5x the FLOPs for
      1/4.7 of the cache bytes: MLA decode is compute-heavy).
    - linear: ``LINEAR_FLOPS_PER_STATE_VALUE n_v d_k d_v`` per layer, whatever T.
    """
    T = np.asarray(context, float)
    full, sliding, mla, indexed, linear = _kinds(arch)
    H, d = _a(arch, "n_heads"), _a(arch, "head_dim")
    gqa = 4.0 * H * d * (full * T + sliding * _window(arch, T))
    kv_lora, rope = _a(arch, "kv_lora_rank"), _a(arch, "qk_rope_head_dim")
    topk = _a(arch, "index_topk")
    attended = np.where(topk > 0, np.minimum(T, topk), T)
    latent = mla * 2.0 * H * (2.0 * kv_lora + rope) * attended
    index = indexed * 2.0 * _a(arch, "index_n_heads") * _a(arch, "index_head_dim") * T
    state = _a(arch, "linear_value_heads") * _a(arch, "linear_key_head_dim")
    state = state * _a(arch, "linear_value_head_dim")
    return gqa + latent + index + linear * LINEAR_FLOPS_PER_STATE_VALUE * state


def _causal_pairs(tokens, window) -> np.ndarray:
    """Query-key pairs of a causal prompt of P tokens attending at most W back.

    ``P^2 / 2`` for ``P <= W``, else ``P W - W^2 / 2``.
    """
    P, W = np.asarray(tokens, float), np.asarray(window, float)
    return np.where(P <= W, P * P / 2.0, P * W - W * W / 2.0)


def prefill_attention_flops(arch: Mapping, prompt_tokens) -> np.ndarray:
    """Attention FLOPs (scores and values) of one prompt of P tokens [FLOP].

    ``4 H d`` per query-key pair: ``2 H d P^2`` per full GQA layer (causal: P^2/2
    pairs), ``4 H d (P W - W^2/2)`` per sliding layer; MLA prefills in the
    decompressed form, ``2 H (nope + rope + v)`` per pair over ``min(., index_topk)``
    keys for sparse MLA, plus the indexer's ``2 n_I d_I`` per pair over all
    ``P^2 / 2`` pairs; linear layers ``LINEAR_FLOPS_PER_STATE_VALUE n_v d_k d_v P``.
    """
    P = np.asarray(prompt_tokens, float)
    full, sliding, mla, indexed, linear = _kinds(arch)
    H, d = _a(arch, "n_heads"), _a(arch, "head_dim")
    window = _a(arch, "sliding_window")
    gqa = 2.0 * H * d * full * P * P + 4.0 * H * d * sliding * _causal_pairs(P, window)
    topk = _a(arch, "index_topk")
    head = _a(arch, "qk_nope_head_dim") + _a(arch, "qk_rope_head_dim") + _a(arch, "v_head_dim")
    latent = mla * 2.0 * H * head * _causal_pairs(P, np.where(topk > 0, topk, P))
    index = indexed * 2.0 * _a(arch, "index_n_heads") * _a(arch, "index_head_dim") * P * P / 2.0
    state = _a(arch, "linear_value_heads") * _a(arch, "linear_key_head_dim")
    state = state * _a(arch, "linear_value_head_dim")
    return gqa + latent + index + linear * LINEAR_FLOPS_PER_STATE_VALUE * state * P
