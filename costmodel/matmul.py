"""Achieved matrix throughput by GEMM size: tensor-core tiles filled or padded.

Tensor cores multiply fixed tiles; a kernel processes the rows of its left operand
(tokens for a weight GEMM, query rows for attention) in tiles of T rows
and pads the last one, so the useful share of its FLOPs is

    e(M) = M / (ceil(M / T) * T)          (T = GEMM_TILE_ROWS or ATTENTION_TILE_ROWS)

1 for M a multiple of T, M / T below it. It prices compute only: where a GEMM is
memory-bound (a decode step's few tokens per expert) the padding costs nothing, which is
why serving engines accept it. Where it binds:

- MoE experts: M is the tokens each expert gets, ``tokens * k / experts read`` on
  average and varying from expert to expert, so their matrix efficiency rises smoothly
  with batch (``expected_matrix_efficiency``);
- MLA decode attention: the query rows a GPU multiplies against the latent cache are
  its heads times the tokens per sequence, 128 / 8 = 16 under TP8 for one token:
  FlashMLA and TensorRT-LLM's MLA kernels pad 16 rows to a 64-row tile (a quarter
  used); data-parallel attention keeps all 128 heads on one GPU (full tiles); a
  speculative verification of g + 1 tokens fills g + 1 times more (``attention_rows``).
"""

from __future__ import annotations

import numpy as np

#: Rows of one tensor-core tile of the kernels that multiply weights by a few tokens:
#: vLLM's fused-MoE Triton kernel tiles tokens by ``BLOCK_SIZE_M`` 16 at small batch (its
#: tuned configs, vllm/model_executor/layers/fused_moe/configs), the smallest a
#: ``tl.dot`` takes; TensorRT-LLM and DeepGEMM swap the operands for few tokens to the
#: same effect [rows].
GEMM_TILE_ROWS = 16.0

#: Rows of one tile of an MLA decode attention kernel: FlashMLA multiplies 64 query rows
#: (heads x tokens of a sequence) per block against the latent cache
#: (deepseek-ai/FlashMLA: ``h_q * s_q`` rows, 64 per tile), as TensorRT-LLM's and
#: SGLang's MLA decode kernels do; GQA decode kernels group a KV head's query heads the
#: same way [rows].
ATTENTION_TILE_ROWS = 64.0


def matrix_efficiency(rows, tile_rows=GEMM_TILE_ROWS):
    """Useful share of a tiled matrix multiply's FLOPs: ``M / (ceil(M / T) T)`` [0-1].

    ``rows`` (M) may be a mean (fractional); with 64-row tiles 16 rows -> 0.25, 48 ->
    0.75, 64 -> 1.0, 96 -> 0.75, 1,000 -> 0.98; with 16-row tiles 1 row -> 0.0625,
    12 -> 0.75. At least one row.
    """
    m = np.maximum(np.asarray(rows, float), 1.0)
    return m / (np.ceil(m / tile_rows) * tile_rows)


def expected_matrix_efficiency(mean_rows, tile_rows=GEMM_TILE_ROWS):
    """Useful share of a tiled multiply whose row count varies around ``mean_rows``
    (the tokens an expert gets in a step: a count that varies from expert to expert and
    step to step) [0-1]: ``m / (m + T / 2)``.

    Over counts spread across a tile or more, the last tile of each is half empty on
    average: T / 2 padded rows per group. Smooth and rising with m, where the exact
    ``matrix_efficiency`` of one count saw-tooths: 1 token per expert with 16-row
    tiles -> 1 / 9 = 0.11; 8 -> 0.5; 64 -> 0.89; 1,000 -> 0.99.
    """
    m = np.maximum(np.asarray(mean_rows, float), 1.0)
    return m / (m + tile_rows / 2.0)


def attention_rows(arch: dict, heads_split, query_tokens):
    """Query rows one GPU multiplies against each cached key in a pass [rows].

    MLA (``mla_layers`` > 0): its heads on the GPU, ``n_heads / heads_split`` (the TP
    size; 1 with data-parallel attention), times ``query_tokens`` per sequence (1 for
    a decode step, g + 1 for a verification, the prompt for a prefill). GQA: the query
    heads sharing one KV head, ``n_heads / n_kv_heads``, times ``query_tokens``.
    DeepSeek-R1 under TP8, one token: 128 / 8 = 16 rows; Mixtral: 32 / 8 = 4.
    """
    heads = np.asarray(arch["n_heads"], float)
    mla = heads / np.asarray(heads_split, float)
    gqa = heads / np.asarray(arch["n_kv_heads"], float)
    per_token = np.where(np.asarray(arch["mla_layers"]) > 0, mla, gqa)
    return per_token * np.asarray(query_tokens, float)
