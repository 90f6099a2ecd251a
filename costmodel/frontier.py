"""The throughput-interactivity frontier, and the cheapest setup that meets latency targets.

For one model, GPU and workload, every configuration (batch, GPU count, TP/EP,
aggregated/disaggregated) is one point: tokens/s per user (interactivity) against output
tokens/s per GPU (throughput, hence cost: $/M output tokens = price * 1e6 / (3600 *
tokens/s per GPU)). The frontier is the upper-right envelope: the points no other point
beats on both axes. Along it, faster users mean fewer tokens per GPU.

Planned entry point, once expert parallelism and disaggregation are in the evaluation::

    frontier(
        scenario: Scenario,
        *,
        batch_size=None,          # sequences per replica; None: economics.batch_grid()
        n_gpus=None,              # GPUs per replica; None: 1, 2, 4, 8 and, past one
                                  # scale-up domain, multiples of it up to 72 (EP only)
        expert_parallel=(False, True),
        disaggregated=(False, True),
        prefill_gpus=None,        # prefill pool per replica; None: the balancing ratio
                                  # (disaggregation.balanced_pool_ratio), rounded up
        front_only=True,          # False: the whole sweep, with an ``on_front`` column
        catalog=None,
    ) -> pandas.DataFrame

It sweeps the Cartesian product of those axes in one vectorised evaluation (tensor
parallelism only inside one scale-up domain; configurations that do not fit dropped),
then keeps :func:`pareto_front` of it: one row per frontier point, sorted by
``tokens_per_s_per_user``, with ``tokens_per_s_per_user``,
``output_tokens_per_s_per_gpu``, ``usd_per_million_output_tokens``, ``ttft_ms``,
``tpot_ms`` and the configuration (``batch_size``, ``n_gpus``, ``expert_parallel``,
``disaggregated``, ``prefill_gpus``). :func:`cheapest_meeting` answers the query for the
cheapest setup under a TTFT and a TPOT target; run it on the whole sweep, not on the
front: TTFT is not an axis of the front, so the cheapest row meeting a TTFT target may
lie off it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _require_columns(df: pd.DataFrame, columns) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"columns {', '.join(missing)} are missing; the table has {', '.join(df.columns)}"
        )


def pareto_front(
    df: pd.DataFrame, x: str = "tokens_per_s_per_user", y: str = "output_tokens_per_s_per_gpu"
) -> pd.DataFrame:
    """Rows of ``df`` on the upper-right envelope of ``(x, y)``, sorted by ``x`` ascending.

    Sort by ``x`` descending (ties: ``y`` descending) and keep each row whose ``y``
    exceeds the running maximum of the rows before it: no kept row is beaten or equalled
    on both axes by another (of exact duplicates the first is kept). Along the result
    ``x`` rises and ``y`` falls strictly. Rows with a NaN in ``x`` or ``y`` are ignored;
    the index and all columns are kept.
    """
    _require_columns(df, [x, y])
    valid = df[[x, y]].notna().all(axis=1).to_numpy()
    xs = df[x].to_numpy(float)[valid]
    ys = df[y].to_numpy(float)[valid]
    order = np.lexsort((-ys, -xs))  # x descending, then y descending
    y_sorted = ys[order]
    best_before = np.concatenate(([-np.inf], np.maximum.accumulate(y_sorted)[:-1]))
    kept = order[y_sorted > best_before]
    return df[valid].iloc[kept[::-1]]


def cheapest_meeting(
    df: pd.DataFrame,
    ttft_ms_max: float,
    tpot_ms_max: float,
    cost: str = "usd_per_million_output_tokens",
) -> pd.Series | None:
    """The cheapest row with ``ttft_ms <= ttft_ms_max`` and ``tpot_ms <= tpot_ms_max``.

    Cheapest by the ``cost`` column (the first of equal costs); rows whose ``fits`` column
    (when there is one) is False, or with a NaN cost, are skipped. Returns that row, or
    ``None`` when no row meets both targets.
    """
    for name, value in (("ttft_ms_max", ttft_ms_max), ("tpot_ms_max", tpot_ms_max)):
        if not value > 0:
            raise ValueError(f"{name} must be > 0 [ms]; got {value!r}")
    _require_columns(df, ["ttft_ms", "tpot_ms", cost])
    meets = (df["ttft_ms"] <= ttft_ms_max) & (df["tpot_ms"] <= tpot_ms_max) & df[cost].notna()
    if "fits" in df.columns:
        meets &= df["fits"].astype(bool)
    if not meets.any():
        return None
    candidates = df[meets]
    return candidates.iloc[int(np.argmin(candidates[cost].to_numpy(float)))]
