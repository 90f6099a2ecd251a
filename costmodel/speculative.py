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


def expected_tokens_per_step(acceptance, draft_tokens):
    """Tokens produced per verification step: ``(1 - a ** (g + 1)) / (1 - a)``.

    With a = 0.75 and g = 7: (1 - 0.75^8) / 0.25 = 3.60 tokens.
    """
    a = np.asarray(acceptance, float)
    g = np.asarray(draft_tokens, float)
    safe = np.where(a < 1.0, a, 0.0)
    return np.where(a < 1.0, (1.0 - safe ** (g + 1.0)) / (1.0 - safe), g + 1.0)


def ideal_speedup(acceptance, draft_tokens, draft_cost_ratio):
    """Leviathan et al.'s wall-time speed-up when verifying costs one ordinary step.

    ``(1 - a ** (g + 1)) / ((1 - a) * (g * c + 1))``, c the draft's cost relative to one
    target step. a = 0.75, g = 7, c = 0.02: 3.60 / 1.14 = 3.16, the paper's 3.2x.
    The full model (``sweep``) instead prices the verification pass itself, which for a
    mixture of experts at batch B reads the experts that B (g + 1) tokens are routed to.
    """
    g = np.asarray(draft_tokens, float)
    return expected_tokens_per_step(acceptance, g) / (g * draft_cost_ratio + 1.0)


def acceptance_for_tokens_per_step(tokens_per_step, draft_tokens, iterations=60):
    """Per-token acceptance ``a`` at which ``expected_tokens_per_step(a, g)`` equals
    ``tokens_per_step`` (its inverse, by bisection on ``[0, MAX_ACCEPTANCE]``).

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
        below = expected_tokens_per_step(mid, g) < t
        low, high = np.where(below, mid, low), np.where(below, high, mid)
    a = (low + high) / 2.0
    if np.any(a > MAX_ACCEPTANCE):
        raise ValueError(f"tokens_per_step {tokens_per_step!r} needs acceptance above 0.99")
    return a
