"""Speculative decoding: acceptance versus temperature, tokens per step, speed-up.

Leviathan, Kalman and Matias (2023), "Fast Inference from Transformers via Speculative
Decoding", arXiv:2211.17192.
"""

from __future__ import annotations

import numpy as np

#: Highest acceptance rate the model allows (1 would mean an infinitely long accepted run).
MAX_ACCEPTANCE = 0.99


def acceptance_rate(temperature, acceptance_at_t0, acceptance_at_t1):
    """Draft-token acceptance rate at a sampling temperature.

    A geometric model through two anchors: ``a(T) = a0 * (a1 / a0) ** T``, with a0 and a1
    the rates at T = 0 (greedy) and T = 1, capped at ``MAX_ACCEPTANCE``. Leviathan et al.
    (Table 3, T5-XXL with a T5-small draft, EnDe) measured 0.75 and 0.62. Between 0 and 1
    it interpolates between measurements; above 1 it is an extrapolation (it keeps
    falling, never below 0). If a1 > a0 the rate rises with T, as the anchors say.
    ``a0`` must be above 0 (``Scenario`` allows 0.01 to 0.99).
    """
    a0 = np.asarray(acceptance_at_t0, float)
    ratio = np.asarray(acceptance_at_t1, float) / a0
    return np.minimum(a0 * ratio ** np.asarray(temperature, float), MAX_ACCEPTANCE)


def expected_tokens_per_step(acceptance, draft_tokens, decay=1.0):
    """Tokens produced per verification step with acceptance falling by draft position.

    The draft at position i (1-based) is accepted, given all before it were, with
    probability ``a_i = a * r ** (i - 1)`` (``a`` = ``acceptance``, ``r`` = ``decay``), so

        tokens = 1 + sum_{j=1..g} prod_{i<=j} a_i = 1 + sum_{j=1..g} a^j r^(j (j-1) / 2).

    ``r = 1`` is Leviathan et al.'s constant acceptance, ``(1 - a^(g+1)) / (1 - a)``:
    with a = 0.75 and g = 7, (1 - 0.75^8) / 0.25 = 3.60 tokens. A multi-token-prediction
    head reused for later positions guesses them worse: TensorRT-LLM's DeepSeek-R1 MTP
    (blog1: 1.92, 2.58, 2.82, 2.99, 3.01 tokens per step with 1 to 5 drafts) is met
    within 0.05 tokens by a = 0.926, r = 0.73 (``MTP_ACCEPTANCE``, ``MTP_DECAY``) where a
    constant rate misses by up to 0.2.
    """
    a = np.asarray(acceptance, float)
    g = np.asarray(draft_tokens, float)
    r = np.asarray(decay, float)
    safe = np.where(a < 1.0, a, 0.0)
    constant = np.where(a < 1.0, (1.0 - safe ** (g + 1.0)) / (1.0 - safe), g + 1.0)
    if np.all(r == 1.0):
        return constant
    tokens = np.ones(np.broadcast(a, g, r).shape)
    for j in range(1, int(np.max(g)) + 1):  # at most 16 draft positions, not rows
        tokens = tokens + np.where(j <= g, a**j * r ** (j * (j - 1) / 2.0), 0.0)
    return np.where(r == 1.0, constant, tokens)


#: DeepSeek-R1's MTP head on TensorRT-LLM (blog1's sweep, greedy): first-draft
#: acceptance and its fall per later position (``expected_tokens_per_step``). DeepSeek
#: reports 85-90 % for the first MTP token (DeepSeek-V3 technical report, section 5.4.3).
MTP_ACCEPTANCE, MTP_DECAY = 0.926, 0.73


def ideal_speedup(acceptance, draft_tokens, draft_cost_ratio):
    """Leviathan et al.'s wall-time speed-up when verifying costs one ordinary step.

    ``(1 - a ** (g + 1)) / ((1 - a) * (g * c + 1))``, c the draft's cost relative to one
    target step. a = 0.75, g = 7, c = 0.02: 3.60 / 1.14 = 3.16, the paper's 3.2x.
    The full model (``sweep``) instead prices the verification pass itself, which for a
    mixture of experts at batch B reads the experts that B (g + 1) tokens are routed to.
    """
    g = np.asarray(draft_tokens, float)
    return expected_tokens_per_step(acceptance, g) / (g * draft_cost_ratio + 1.0)


def acceptance_for_tokens_per_step(tokens_per_step, draft_tokens, decay=1.0, iterations=60):
    """First-draft acceptance ``a`` at which ``expected_tokens_per_step(a, g, decay)``
    equals ``tokens_per_step`` (its inverse, by bisection on ``[0, MAX_ACCEPTANCE]``).

    ``tokens_per_step`` must be in ``[1, g + 1)``. TensorRT-LLM's DeepSeek-R1 MTP with
    g = 3 accepts 2.82 tokens per step: ``1 + a + a^2 + a^3 = 2.82`` at a = 0.7703.
    """
    t = np.asarray(tokens_per_step, float)
    g = np.asarray(draft_tokens, float)
    if np.any(~((t >= 1) & (t < g + 1))):
        raise ValueError(
            f"tokens_per_step must be in [1, draft_tokens + 1); got {tokens_per_step!r}"
        )
    low, high = np.zeros(np.broadcast(t, g).shape), np.full(np.broadcast(t, g).shape, 1.0)
    for _ in range(iterations):
        mid = (low + high) / 2.0
        below = expected_tokens_per_step(mid, g, decay) < t
        low, high = np.where(below, mid, low), np.where(below, high, mid)
    a = (low + high) / 2.0
    if np.any(a > MAX_ACCEPTANCE):
        raise ValueError(f"tokens_per_step {tokens_per_step!r} needs acceptance above 0.99")
    return a
