"""What attention stores and reads per sequence, and its FLOPs, for every attention kind.

``arch`` is a mapping of the layer-kind fields (``costmodel.architecture``), numpy arrays
or scalars; ``kv_bytes`` the bytes per cached value (2 for bf16, 1 for fp8). T is the
number of cached tokens of one sequence. Per layer:

- GQA/MHA: ``2 n_kv d b`` bytes per token; a sliding-window layer holds and reads only
  the last ``min(T, window)`` tokens; a block-sparse layer (MiniMax-M3) stores all T and
  reads ``min(T, index_topk)`` (its top blocks plus the local one).
- MLA: the latent and the shared RoPE key, ``(kv_lora + rope) b`` per token.
  DeepSeek-V3 in BF16: 61 x (512 + 64) x 2 = 70,272 B/token. Sparse MLA (DeepSeek-V3.2,
  GLM-5) stores every latent and reads ``min(T, index_topk)``.
- Compressed (DeepSeek-V4): each layer keeps its last ``sliding_window`` raw entries; a
  CSA layer stores one compressed entry per 4 tokens and reads its top ``index_topk``,
  an HCA layer one per 128 tokens and reads them all. An entry is one 512-value K=V
  vector, :func:`compressed_entry_bytes`: the layout of vLLM's DeepSeek-V4 cache
  (``deepseek_v4_attention.py``), 448 NoPE values in the KV format + 64 RoPE values in
  BF16 + 7 UE8M0 scales + 1 pad byte = 584 B in FP8. We follow vLLM's layout (5,511
  B/token for V4-Pro) rather than AIC's planning formula (512 B per entry and FP4 index
  keys, 4,444 B/token) because vLLM's is the record a serving engine actually stores,
  RoPE part and scales included; AIC's leaves them out.
- Indexers (sparse attention): ``index_keys_per_token`` keys stored per token, each
  :func:`index_key_bytes` (FP8 + one FP32 scale, 132 B, for DeepSeek/GLM; the KV format
  for MiniMax-M3's index keys); a decode step scores ``index_scans_per_token x T`` keys
  (and at most ``index_candidates`` on each of ``index_capped_layers``).
- Linear attention (Gated DeltaNet, Kimi Delta Attention): a fixed state ``n_v d_k d_v``
  values in ``linear_state_bytes`` plus a convolution state ``(kernel - 1) (2 n_k d_k +
  n_v d_v)`` values in ``CONV_STATE_BYTES``, whatever the context; a step reads and writes
  it back. DeepSeek-V4's compressors also buffer up to a ratio's worth of tokens per
  layer (``compressor_state_values``, FP32): fixed, written a token at a time, not
  counted as read.

Under tensor parallelism over n GPUs (``n_gpus``), KV heads are split across the GPUs,
and replicated when n exceeds them: the replica holds ``max(1, n / n_kv)`` copies of a
GQA cache (``max(1, n / n_v)`` of a linear state). MLA's single latent "head", DeepSeek-V4's
single K=V entry and the index keys cannot be split: every GPU of the group holds, and
reads, them whole for every sequence, n copies. Bytes here are totals over the replica's
GPUs.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

#: Bytes per value of a DeepSeek/GLM sparse-attention indexer key (FP8).
INDEXER_KEY_BYTES = 1.0
#: Bytes of the FP32 scale each such key carries (vLLM, SGLang: 128 + 4 = 132 B a key).
INDEXER_SCALE_BYTES = 4.0
#: Bytes per value of the RoPE part of a DeepSeek-V4 entry, kept in BF16 (vLLM).
ROPE_VALUE_BYTES = 2.0
#: Bytes of scales and padding of an 8-bit DeepSeek-V4 entry: one UE8M0 scale per 64 of
#: the 448 NoPE values (7) + 1 pad byte (vLLM ``head_bytes = 448 + 128 + 7 + 1 = 584``).
ENTRY_SCALE_BYTES = 8.0
#: Bytes per value of a DeepSeek-V4 compressor's buffered state (FP32; AIC
#: ``deepseek_v4.py``: ``2 ratio coff head_dim 4`` B a layer).
COMPRESSOR_STATE_BYTES = 4.0
#: Bytes per value of a linear-attention layer's convolution state (the model's bf16).
CONV_STATE_BYTES = 2.0
#: FLOPs per state value per token of a Gated DeltaNet step: S k, the rank-1 update, S q,
#: each a multiply-add over the ``d_k x d_v`` state of every value head.
LINEAR_FLOPS_PER_STATE_VALUE = 6.0


def _a(arch: Mapping, key: str, default: float = 0.0) -> np.ndarray:
    return np.asarray(arch.get(key, default), float)


def _copies(arch: Mapping, n_gpus) -> tuple:
    """Copies over the TP group of a GQA cache, a latent / entry / index cache and a
    linear state."""
    n = np.asarray(n_gpus, float)
    gqa = np.maximum(1.0, n / _a(arch, "n_kv_heads", 1.0))
    heads = _a(arch, "linear_value_heads")
    linear = np.maximum(1.0, n / np.where(heads > 0, heads, 1.0))
    return gqa, n, linear


def _topk(arch: Mapping, tokens) -> np.ndarray:
    """Tokens a top-k layer reads at ``tokens`` cached: ``min(T, index_topk)``."""
    topk = _a(arch, "index_topk")
    return np.where(topk > 0, np.minimum(tokens, topk), tokens)


def _window(arch: Mapping, tokens) -> np.ndarray:
    window = _a(arch, "sliding_window")
    return np.where(window > 0, np.minimum(tokens, window), tokens)


def _per_layer_min(layers, per_token, tokens, cap) -> np.ndarray:
    """``sum over layers of min(T / ratio, cap)`` as ``n min(T e, cap)``, e the layers' mean
    entries per token (``per_token / n``): exact when they share one ratio."""
    n = np.asarray(layers, float)
    e = np.asarray(per_token, float) / np.where(n > 0, n, 1.0)
    return n * np.minimum(np.asarray(tokens, float) * e, cap)


def gqa_bytes_per_token(arch: Mapping, kv_bytes) -> np.ndarray:
    """One GQA layer's cache per token: ``2 n_kv d b`` [B]. Qwen3-235B: 2 x 4 x 128 x 2 = 2,048."""
    return 2.0 * _a(arch, "n_kv_heads") * _a(arch, "head_dim") * np.asarray(kv_bytes, float)


def latent_bytes_per_token(arch: Mapping, kv_bytes) -> np.ndarray:
    """One MLA layer's cache per token: ``(kv_lora + rope) b`` [B]. DeepSeek-V3: 576 x 2."""
    return (_a(arch, "kv_lora_rank") + _a(arch, "qk_rope_head_dim")) * np.asarray(kv_bytes, float)


def compressed_entry_bytes(arch: Mapping, kv_bytes) -> np.ndarray:
    """One DeepSeek-V4 cache entry [B]: ``(d - rope) b + rope ROPE_VALUE_BYTES`` plus
    ``ENTRY_SCALE_BYTES`` when b < 2. V4 in FP8: 448 + 128 + 8 = 584; in BF16: 1,024."""
    b = np.asarray(kv_bytes, float)
    rope = _a(arch, "qk_rope_head_dim")
    scales = np.where(b < 2.0, ENTRY_SCALE_BYTES, 0.0)
    return (_a(arch, "head_dim") - rope) * b + rope * ROPE_VALUE_BYTES + scales


def index_key_bytes(arch: Mapping, kv_bytes) -> np.ndarray:
    """One index key [B]: ``d_I INDEXER_KEY_BYTES + INDEXER_SCALE_BYTES`` (DeepSeek, GLM:
    128 + 4 = 132), or ``d_I b`` for MiniMax-M3's keys in the KV format (BF16: 256)."""
    d_i = _a(arch, "index_head_dim")
    in_kv_format = _a(arch, "sparse_gqa_layers") > 0
    return np.where(
        in_kv_format,
        d_i * np.asarray(kv_bytes, float),
        d_i * INDEXER_KEY_BYTES + INDEXER_SCALE_BYTES,
    )


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


def cache_kinds(arch: Mapping, kv_bytes) -> dict:
    """Bytes of each cache kind of one sequence on one GPU, before tensor-parallel copies.

    ``gqa`` (:func:`gqa_bytes_per_token`), ``latent`` (:func:`latent_bytes_per_token`),
    ``entry`` (:func:`compressed_entry_bytes`), ``key`` (:func:`index_key_bytes`) per
    token or entry of one layer; ``linear`` (:func:`linear_state_bytes`) and
    ``compressor`` (``compressor_state_values COMPRESSOR_STATE_BYTES``) per sequence [B].
    They depend on the model and the KV format only: a caller evaluating several GPU
    counts computes them once and passes them as ``kinds`` to the functions below.
    """
    return {
        "gqa": gqa_bytes_per_token(arch, kv_bytes),
        "latent": latent_bytes_per_token(arch, kv_bytes),
        "entry": compressed_entry_bytes(arch, kv_bytes),
        "key": index_key_bytes(arch, kv_bytes),
        "linear": linear_state_bytes(arch),
        "compressor": _a(arch, "compressor_state_values") * COMPRESSOR_STATE_BYTES,
    }


def _parts(arch: Mapping, kv_bytes, n_gpus, kinds=None) -> dict:
    """Bytes per token (or per entry) of each cache kind, with its TP copies
    (``kinds``: :func:`cache_kinds`, computed here when None)."""
    kinds = cache_kinds(arch, kv_bytes) if kinds is None else kinds
    c_gqa, c_latent, c_linear = _copies(arch, n_gpus)
    return {
        "gqa": kinds["gqa"] * c_gqa,
        "latent": kinds["latent"] * c_latent,
        "entry": kinds["entry"] * c_latent,
        "key": kinds["key"] * c_latent,
        "linear": kinds["linear"] * c_linear,
        "compressor": kinds["compressor"] * c_latent,
    }


def _growth(arch: Mapping, p: dict) -> np.ndarray:
    """:func:`kv_growth_bytes_per_token` from the parts ``p`` (:func:`_parts`)."""
    return (
        _a(arch, "gqa_layers", arch["n_layers"]) * p["gqa"]
        + _a(arch, "mla_layers") * p["latent"]
        + _a(arch, "compressed_entries_per_token") * p["entry"]
        + _a(arch, "index_keys_per_token") * p["key"]
    )


def _window_entry(arch: Mapping, p: dict) -> np.ndarray:
    """Bytes of one token in every window: ``sliding 2 n_kv d b + compressed entry``."""
    return _a(arch, "sliding_layers") * p["gqa"] + _a(arch, "compressed_layers") * p["entry"]


def kv_growth_bytes_per_token(arch: Mapping, kv_bytes, n_gpus=1, kinds=None) -> np.ndarray:
    """Bytes the cache of one sequence grows by per token of context, windows full [B].

    ``gqa 2 n_kv d b + mla (kv_lora + rope) b + compressed_entries_per_token entry
    + index_keys_per_token key`` (with TP copies). V4-Pro in FP8: 7.7421875 x 584 + 7.5
    x 132 = 4,521.4 + 990 = 5,511.4; GLM-5 in FP8: 78 x 576 + 78 x 132 = 55,224.
    """
    return _growth(arch, _parts(arch, kv_bytes, n_gpus, kinds))


def fixed_sequence_bytes(arch: Mapping, kv_bytes, n_gpus=1, kinds=None) -> np.ndarray:
    """Memory one sequence holds whatever its length, windows full [B].

    ``sliding W 2 n_kv d b + compressed W entry + linear state + compressor state``.
    V4-Pro in FP8: 61 x 128 x 584 + 4,370,432 x 4 = 4,559,872 + 17,481,728 = 22,041,600.
    """
    p = _parts(arch, kv_bytes, n_gpus, kinds)
    window = _a(arch, "sliding_window")
    held = window * (
        _a(arch, "sliding_layers") * p["gqa"] + _a(arch, "compressed_layers") * (p["entry"])
    )
    return held + p["linear"] + p["compressor"]


def kv_bytes_per_token(arch: Mapping, kv_bytes, n_gpus=1, kinds=None) -> np.ndarray:
    """Bytes one new token writes to one sequence's cache, over all layers and copies [B].

    The growth (:func:`kv_growth_bytes_per_token`) plus one entry in every window
    (a sliding layer adds one and drops one once full; counted as written):
    ``+ sliding 2 n_kv d b + compressed entry``. DeepSeek-V3 BF16 on 1 GPU: 70,272;
    Qwen3-235B: 94 x 2,048 = 192,512; V4-Pro in FP8: 5,511.4 + 61 x 584 = 41,135.4.
    """
    p = _parts(arch, kv_bytes, n_gpus, kinds)
    return _growth(arch, p) + _window_entry(arch, p)


def sequence_cache_bytes(arch: Mapping, tokens, kv_bytes, n_gpus=1, kinds=None) -> np.ndarray:
    """Memory one sequence of ``tokens`` tokens holds: caches + fixed states [B].

    ``T growth + min(T, W) (sliding 2 n_kv d b + compressed entry) + linear state
    + compressor state`` (:func:`kv_growth_bytes_per_token`).
    gpt-oss-120b BF16 at T = 131,072: 18 x 2,048 x 131,072 + 18 x 2,048 x 128 = 4.84e9.
    """
    T = np.asarray(tokens, float)
    p = _parts(arch, kv_bytes, n_gpus, kinds)
    return (
        T * _growth(arch, p)
        + _window(arch, T) * _window_entry(arch, p)
        + p["linear"]
        + p["compressor"]
    )


def index_keys_scanned(arch: Mapping, context) -> np.ndarray:
    """Index keys the indexers score for one decoded token at ``context`` tokens [keys].

    ``index_scans_per_token T + capped min(T e, index_candidates)`` (e: entries per token
    of a capped layer). V4.1-Flash at T = 65,536: 2.5 x 65,536 + 4 x min(65,536, 16,384)
    = 229,376.
    """
    T = np.asarray(context, float)
    capped = _per_layer_min(
        _a(arch, "index_capped_layers"),
        _a(arch, "index_capped_per_token"),
        T,
        _a(arch, "index_candidates"),
    )
    return _a(arch, "index_scans_per_token") * T + capped


def compressed_entries_read(arch: Mapping, context) -> np.ndarray:
    """Entries DeepSeek-V4 attention reads for one token at ``context`` tokens, all layers.

    ``compressed min(T, W) + dense T + sparse_layers min(T e, index_topk)`` (e = entries
    per token of a sparse layer). V4-Pro at T = 65,536: 61 x 128 + 0.2421875 x 65,536
    + 30 x min(16,384, 1,024) = 7,808 + 15,872 + 30,720 = 54,400.
    """
    T = np.asarray(context, float)
    sparse = _per_layer_min(
        _a(arch, "compressed_sparse_layers"),
        _a(arch, "compressed_sparse_per_token"),
        T,
        _a(arch, "index_topk"),
    )
    window = _a(arch, "compressed_layers") * _window(arch, T)
    return window + _a(arch, "compressed_dense_per_token") * T + sparse


def decode_cache_read_bytes(arch: Mapping, context, kv_bytes, n_gpus=1, kinds=None) -> np.ndarray:
    """Cache bytes one sequence's decode step reads at ``context`` cached tokens [B].

    Full GQA and MLA layers read all T tokens, sliding layers ``min(T, W)``, top-k layers
    (sparse MLA, block-sparse GQA) ``min(T, index_topk)``; DeepSeek-V4 layers their
    :func:`compressed_entries_read`; indexers their :func:`index_keys_scanned`; linear
    layers read their state and write it back (2x). DeepSeek-V3 BF16 at T = 65,536:
    4.61e9; V3.2: 61 x (2,048 x 1,152 + 65,536 x 132) = 0.672e9.
    """
    T = np.asarray(context, float)
    p = _parts(arch, kv_bytes, n_gpus, kinds)
    full = _a(arch, "gqa_layers", arch["n_layers"]) - _a(arch, "sparse_gqa_layers")
    gqa = full * T + _a(arch, "sparse_gqa_layers") * _topk(arch, T)
    gqa = (gqa + _a(arch, "sliding_layers") * _window(arch, T)) * p["gqa"]
    latent = _a(arch, "mla_layers") * _topk(arch, T) * p["latent"]
    entries = compressed_entries_read(arch, T) * p["entry"]
    keys = index_keys_scanned(arch, T) * p["key"]
    return gqa + latent + entries + keys + 2.0 * p["linear"]


def decode_attention_flops(arch: Mapping, context) -> np.ndarray:
    """Attention FLOPs (scores and values) of one decoded token at ``context`` tokens [FLOP].

    - GQA: ``4 H d`` per token attended: T per full layer, ``min(T, W)`` per sliding
      layer, ``min(T, index_topk)`` per block-sparse layer.
    - MLA in the absorbed form serving engines decode with (the query is multiplied into
      the latent space, so each head scores and sums the cached latents directly):
      ``2 H (kv_lora + rope) T' + 2 H kv_lora T'`` per layer, with T' = T, or
      ``min(T, index_topk)`` for sparse MLA. The absorbed projections themselves are
      weight FLOPs (``2 x attention_params``).
      DeepSeek-V3 at T = 4,096: 61 x 2 x 128 x (576 + 512) x 4,096 = 69.6e9 per token,
      against Llama-3-70B's 80 x 4 x 64 x 128 x 4,096 = 10.7e9 (6.5x the FLOPs for
      1/4.7 of the cache bytes: MLA decode is compute-heavy).
    - DeepSeek-V4: ``4 H d`` per entry read (one K=V vector of d scores and sums).
    - indexers: ``2 n_I d_I`` per key scored.
    - linear: ``LINEAR_FLOPS_PER_STATE_VALUE n_v d_k d_v`` per layer, whatever T.
    """
    T = np.asarray(context, float)
    H, d = _a(arch, "n_heads"), _a(arch, "head_dim")
    full = _a(arch, "gqa_layers", arch["n_layers"]) - _a(arch, "sparse_gqa_layers")
    attended = full * T + _a(arch, "sparse_gqa_layers") * _topk(arch, T)
    attended = attended + _a(arch, "sliding_layers") * _window(arch, T)
    gqa = 4.0 * H * d * (attended + compressed_entries_read(arch, T))
    kv_lora, rope = _a(arch, "kv_lora_rank"), _a(arch, "qk_rope_head_dim")
    latent = _a(arch, "mla_layers") * 2.0 * H * (2.0 * kv_lora + rope) * _topk(arch, T)
    index = 2.0 * _a(arch, "index_n_heads") * _a(arch, "index_head_dim")
    state = _a(arch, "linear_value_heads") * _a(arch, "linear_key_head_dim")
    state = state * _a(arch, "linear_value_head_dim")
    linear = _a(arch, "linear_layers") * LINEAR_FLOPS_PER_STATE_VALUE * state
    return gqa + latent + index * index_keys_scanned(arch, T) + linear


def _causal_pairs(tokens, window) -> np.ndarray:
    """Query-key pairs of a causal prompt of P tokens attending at most W back.

    ``P^2 / 2`` for ``P <= W``, else ``P W - W^2 / 2``.
    """
    P, W = np.asarray(tokens, float), np.asarray(window, float)
    return np.where(P <= W, P * P / 2.0, P * W - W * W / 2.0)


def _capped_pairs(layers, per_token, tokens, cap) -> np.ndarray:
    """``sum over queries q <= P and layers of min(q e, cap)`` = ``n e pairs(P, cap / e)``
    (e: entries per token of one of the n layers)."""
    n = np.asarray(layers, float)
    e = np.asarray(per_token, float) / np.where(n > 0, n, 1.0)
    window = np.asarray(cap, float) / np.where(e > 0, e, 1.0)
    return np.where(e > 0, n * e * _causal_pairs(tokens, window), 0.0)


def prefill_attention_flops(arch: Mapping, prompt_tokens) -> np.ndarray:
    """Attention FLOPs (scores and values) of one prompt of P tokens [FLOP].

    ``4 H d`` per query-key pair: ``2 H d P^2`` per full GQA layer (causal: P^2/2
    pairs), ``4 H d (P W - W^2/2)`` per sliding layer, ``min(., index_topk)`` keys per
    query for block-sparse layers; MLA prefills in the decompressed form,
    ``2 H (nope + rope + v)`` per pair over ``min(., index_topk)`` keys for sparse MLA;
    DeepSeek-V4 ``4 H d`` per query-entry pair (window, all compressed entries of dense
    layers, the top ``index_topk`` of sparse layers); indexers ``2 n_I d_I`` per
    query-key pair they score; linear layers ``LINEAR_FLOPS_PER_STATE_VALUE n_v d_k d_v P``.
    """
    P = np.asarray(prompt_tokens, float)
    H, d = _a(arch, "n_heads"), _a(arch, "head_dim")
    sparse_gqa = _a(arch, "sparse_gqa_layers")
    full = _a(arch, "gqa_layers", arch["n_layers"]) - sparse_gqa
    topk = _a(arch, "index_topk")
    top_pairs = _causal_pairs(P, np.where(topk > 0, topk, P))
    pairs = full * P * P / 2.0 + sparse_gqa * top_pairs
    pairs = pairs + _a(arch, "sliding_layers") * _causal_pairs(P, _a(arch, "sliding_window"))
    entries = _a(arch, "compressed_layers") * _causal_pairs(P, _a(arch, "sliding_window"))
    entries = entries + _a(arch, "compressed_dense_per_token") * P * P / 2.0
    entries = entries + _capped_pairs(
        _a(arch, "compressed_sparse_layers"), _a(arch, "compressed_sparse_per_token"), P, topk
    )
    gqa = 4.0 * H * d * (pairs + entries)
    head = _a(arch, "qk_nope_head_dim") + _a(arch, "qk_rope_head_dim") + _a(arch, "v_head_dim")
    latent = _a(arch, "mla_layers") * 2.0 * H * head * top_pairs
    keys = _a(arch, "index_scans_per_token") * P * P / 2.0 + _capped_pairs(
        _a(arch, "index_capped_layers"),
        _a(arch, "index_capped_per_token"),
        P,
        _a(arch, "index_candidates"),
    )
    index = 2.0 * _a(arch, "index_n_heads") * _a(arch, "index_head_dim") * keys
    state = _a(arch, "linear_value_heads") * _a(arch, "linear_key_head_dim")
    state = state * _a(arch, "linear_value_head_dim")
    linear = _a(arch, "linear_layers") * LINEAR_FLOPS_PER_STATE_VALUE * state * P
    return gqa + latent + index + linear
