"""Parameter counts, weight bytes, KV-cache bytes and whether a scenario fits.

Every function takes numpy arrays as readily as scalars and broadcasts.
Units are in the names: ``_params`` are counts, ``_bytes`` bytes, ``_gb`` 10^9 bytes.
"""

from __future__ import annotations

import numpy as np

from costmodel import architecture

#: Bytes of a 16-bit value (embeddings, router, norms and activations stay 16-bit).
BYTES_16BIT = 2.0


def parameter_counts(
    n_layers,
    hidden_size,
    intermediate_size,
    n_heads,
    n_kv_heads,
    head_dim,
    n_experts,
    vocab_size,
    tied_embeddings,
) -> dict:
    """Parameter counts of a SwiGLU GQA decoder whose every layer is alike, by part.

    - attention: ``L * h * d_head * (2 * n_heads + 2 * n_kv_heads)`` (Q, O and K, V)
    - experts: ``L * E * 3 * h * ffn`` (gate, up, down of every expert; E = 1 if dense)
    - router: ``L * h * E`` for a mixture of experts, else 0
    - lm_head: ``vocab * h``; embedding: ``vocab * h`` unless tied to the lm_head
    - norms: ``(2L + 1) * h``

    ``quantizable`` (attention + experts) take the weight format; the rest stays 16-bit.
    Mixtral 8x7B: 1.342e9 + 45.10e9 + 1.05e6 + 0.131e9 + 0.131e9 + 0.26e6 = 46.70e9.
    Models of several layer kinds: ``architecture.parameter_counts``.
    """
    return architecture.parameter_counts(
        {
            "n_layers": n_layers,
            "hidden_size": hidden_size,
            "intermediate_size": intermediate_size,
            "n_heads": n_heads,
            "n_kv_heads": n_kv_heads,
            "head_dim": head_dim,
            "n_experts": n_experts,
            "vocab_size": vocab_size,
            "tied_embeddings": tied_embeddings,
        }
    )


def bytes_per_weight(weight_bits, group_size, scale_bits, zero_bits):
    """Bytes stored per quantised weight: ``bits/8 + (scale_bits + zero_bits) / 8 / group``.

    ``group_size`` 0 means per-tensor or per-channel scales, whose overhead is negligible.
    INT4 with group-128, 16-bit scale and 4-bit zero point: 0.5 + 20/8/128 = 0.51953 bytes.
    """
    group = np.asarray(group_size, float)
    overhead = np.where(
        group > 0,
        (np.asarray(scale_bits, float) + zero_bits) / 8.0 / np.where(group > 0, group, 1.0),
        0.0,
    )
    return np.asarray(weight_bits, float) / 8.0 + overhead


def weight_bytes(quantizable_params, sixteen_bit_params, weight_bytes_per_param):
    """Stored weight bytes: quantised part at the format's bytes, the rest at 2 bytes."""
    return quantizable_params * weight_bytes_per_param + sixteen_bit_params * BYTES_16BIT


def weight_bytes_by_format(params, expert_bytes_per_weight, other_bytes_per_weight):
    """Stored weight bytes with routed experts in one format and the rest in another.

    ``experts x b_experts + (attention + shared experts + dense FFN + lookup tables)
    x b_other + 16-bit parts x 2`` (``params``: ``architecture.parameter_counts``). gpt-oss-120b
    with MXFP4 experts (4.25 bits) and BF16 rest: 114.65e9 x 0.53125 + 0.955e9 x 2
    + 1.18e9 x 2 = 65.2e9 bytes. With one format it equals :func:`weight_bytes`.
    """
    always = params["attention_params"] + params["shared_expert_params"]
    always = always + params["dense_ffn_params"] + params.get("lookup_params", 0.0)
    return (
        params["expert_params"] * expert_bytes_per_weight
        + always * other_bytes_per_weight
        + params["sixteen_bit_params"] * BYTES_16BIT
    )


def kv_bytes_per_token(n_layers, n_kv_heads, head_dim, kv_bytes_per_value):
    """KV-cache bytes per token: ``2 (K and V) * L * n_kv_heads * d_head * bytes``.

    Mixtral 8x7B in bf16: 2 * 32 * 8 * 128 * 2 = 131,072 bytes.
    """
    return 2.0 * np.asarray(n_layers, float) * n_kv_heads * head_dim * kv_bytes_per_value


def memory_available_gb(n_gpus, hbm_gb, usable_memory_fraction):
    """Memory a serving engine may use: ``n_gpus * hbm_gb * usable_memory_fraction`` [GB]."""
    return np.asarray(n_gpus, float) * hbm_gb * usable_memory_fraction


def max_batch_size(available_gb, weights_gb, overhead_gb, kv_gb_per_sequence):
    """Most concurrent sequences whose KV cache fits beside weights and overhead.

    ``floor((available - weights - overhead) / kv_per_sequence)``, at least 0.
    """
    room = np.asarray(available_gb, float) - weights_gb - overhead_gb
    return np.maximum(np.floor(room / kv_gb_per_sequence), 0.0)


def min_gpus_to_fit(
    weights_gb,
    kv_gb,
    hbm_gb,
    usable_memory_fraction,
    memory_overhead_gb_per_gpu,
    candidates=(1, 2, 4, 8, 16, 32, 64),
):
    """Fewest GPUs (a power of two, as tensor parallelism needs) whose memory holds it all.

    Smallest n in ``candidates`` with
    ``weights + kv + n * overhead <= n * hbm * usable_fraction``; NaN if none does.
    ``kv_gb`` may be a function of n (the cache with its tensor-parallel copies,
    ``attention.sequence_cache_bytes``).
    """
    kv_at = kv_gb if callable(kv_gb) else (lambda n: kv_gb)
    per_gpu = np.asarray(hbm_gb, float) * usable_memory_fraction - memory_overhead_gb_per_gpu
    shape = np.broadcast(np.asarray(weights_gb, float), kv_at(1), per_gpu).shape
    result = np.full(shape, np.nan)
    for n in sorted(candidates, reverse=True):
        need = np.asarray(weights_gb, float) + kv_at(n)
        result = np.where(need <= n * per_gpu, float(n), result)
    return result
