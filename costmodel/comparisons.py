"""Synthetic comparison models and side-by-side sweeps: MoE versus dense, more experts.

A mixture-of-experts model is compared with two dense (Llama-style, SwiGLU) models built
from the same attention block, layer count, vocabulary and heads:

- **same active parameters**: a dense model that does the same work per token;
- **same total parameters**: a dense model that stores (and at large batch reads) as
  many weights.

Only the feed-forward width changes. With ``L`` layers, hidden size ``h`` and every other
part of the parameter count ``N_other`` (attention, embeddings, lm_head, norms) equal, a
dense SwiGLU model has ``N = N_other + 3 L h F`` parameters [count], so the width that
matches a target ``N*`` is

    F = round((N* - N_other) / (3 L h))                                    [units]

For Mixtral 8x7B (12.88e9 active, 46.70e9 total) this gives F = 28,675 and F = 114,691:
the expert width 14,336 times top-k (2) or E (8), plus the router's parameters spread
over the layers (``L h E / (3 L h) = E / 3`` units, rounded).

``more_experts`` builds a what-if model from a model with another expert count and top-k, with
either the same per-expert size (the total grows with E) or the same total expert size
(each expert narrows to ``F * E / E'``).

Synthetic models get ids that start with ``catalog.CUSTOM_PREFIX`` so a ``Scenario`` may
name them; they live only in the ``Catalog`` returned (``Catalog.with_model``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from costmodel.adapt import Derived, derive
from costmodel.catalog import CUSTOM_PREFIX, MODEL_ARCHITECTURE_FIELDS, Catalog
from costmodel.evaluation import row_groups
from costmodel.scans import product_columns, scan_many
from costmodel.scenario import Scenario

#: The cost :func:`compare_models` relates to batch 1 [$ per million output tokens].
COST_COLUMN = "usd_per_million_output_tokens"

#: Keys of ``dense_model_ids`` and the labels pages show for them.
DENSE_KINDS = {
    "same_active": "dense, same active params",
    "same_total": "dense, same total params",
}

#: What ``more_experts`` may hold fixed while changing the expert count.
KEEP_FIXED = ("expert size", "total size")


def active_params(models: pd.DataFrame) -> pd.Series:
    """Parameters used per token [count]: ``total - expert_params * (E - k) / E``.

    ``models`` is ``Catalog.models`` (or rows of it). Mixtral 8x7B: 46.70e9 - 45.10e9 *
    6/8 = 12.88e9. A dense model (E = k = 1) uses all of them.
    """
    return pd.Series(_active_params(models), index=models.index)


def _active_params(models: pd.DataFrame, rows=slice(None)) -> np.ndarray:
    """:func:`active_params` of ``models``' rows ``rows`` (positions) as an array."""
    total, expert, E, k = (
        models[c].to_numpy()[rows]
        for c in ("total_params", "expert_params", "n_experts", "experts_per_token")
    )
    return total - expert * (E.astype(float) - k.astype(float)) / E.astype(float)


def hf_config(row: pd.Series, **changes) -> dict:
    """A Hugging Face ``config.json`` dict (``llama`` or ``mixtral``) for a catalog row.

    ``changes`` override the architecture fields (``intermediate_size``, ``n_experts``,
    ``experts_per_token``, ...) before writing; one expert makes a dense ``llama`` config.
    The row's ``context_window`` is kept. Only the GQA summary is written: MLA, sliding,
    linear-attention and shared-expert fields of the row are not.
    """
    arch = {
        "n_layers": int(row["n_layers"]),
        "hidden_size": int(row["hidden_size"]),
        "intermediate_size": int(row["intermediate_size"]),
        "n_heads": int(row["n_heads"]),
        "n_kv_heads": int(row["n_kv_heads"]),
        "head_dim": int(row["head_dim"]),
        "n_experts": int(row["n_experts"]),
        "experts_per_token": int(row["experts_per_token"]),
        "vocab_size": int(row["vocab_size"]),
        "tied_embeddings": bool(row["tied_embeddings"]),
        "context_window": int(row["context_window"]),
    }
    arch.update(changes)
    config = {
        "model_type": "llama" if arch["n_experts"] == 1 else "mixtral",
        "hidden_size": arch["hidden_size"],
        "intermediate_size": arch["intermediate_size"],
        "num_hidden_layers": arch["n_layers"],
        "num_attention_heads": arch["n_heads"],
        "num_key_value_heads": arch["n_kv_heads"],
        "head_dim": arch["head_dim"],
        "vocab_size": arch["vocab_size"],
        "tie_word_embeddings": arch["tied_embeddings"],
        "max_position_embeddings": arch["context_window"],
    }
    if arch["n_experts"] > 1:
        config["num_local_experts"] = arch["n_experts"]
        config["num_experts_per_tok"] = arch["experts_per_token"]
    return config


def architecture(row: pd.Series, **changes) -> dict:
    """A catalog row's whole architecture (``catalog.MODEL_ARCHITECTURE_FIELDS``), with
    ``changes``: for ``Catalog.with_architecture``. Unlike :func:`hf_config` it keeps MLA,
    sliding-window, linear-attention, compressed-attention, indexer, shared-expert and
    dense-layer fields."""
    arch = {}
    for key in MODEL_ARCHITECTURE_FIELDS:
        value = row[key]
        if isinstance(value, str):
            arch[key] = value
        else:  # counts are integers, "per token" fields (V4's 7.7421875) fractions
            number = float(value)
            arch[key] = int(number) if number.is_integer() else number
    arch["tied_embeddings"] = bool(row["tied_embeddings"])
    arch.update(changes)
    return arch


def dense_ffn_width(row: pd.Series, target_params: float) -> int:
    """Feed-forward width F of a dense model of ``target_params`` parameters [units].

    ``F = round((N* - N_other) / (3 L h))`` with ``N_other`` = attention + embedding +
    lm_head + norm parameters of ``row`` (no router: a dense model has none); at least 1.
    """
    other = row["attention_params"] + row["embedding_params"]
    other += row["lm_head_params"] + row["norm_params"]
    width = (target_params - other) / (3.0 * row["n_layers"] * row["hidden_size"])
    return max(int(round(width)), 1)


def dense_model_ids(model_id: str) -> dict[str, str]:
    """Ids of the dense equivalents of ``model_id``: ``{"same_active": ..., "same_total": ...}``."""
    base = model_id.removeprefix(CUSTOM_PREFIX)
    return {kind: f"{CUSTOM_PREFIX}{base}-dense-{kind.replace('_', '-')}" for kind in DENSE_KINDS}


#: Derived catalogs (dense equivalents, what-if models) kept per catalog, newest last.
DERIVED_KEPT = 16


def _derived(catalog: Catalog) -> dict:
    """``catalog``'s derived catalogs by (function, arguments): empty when prepared."""
    return {}


def _derive(catalog: Catalog, build, *args):
    """``build(catalog, *args)``, kept with ``catalog`` (``DERIVED_KEPT`` per catalog): a
    page asking again, on a new batch or price, reuses the copy and its prepared tables."""
    kept = catalog.prepared(_derived)
    key = (build.__name__, *args)
    if key not in kept:
        while len(kept) >= DERIVED_KEPT:
            kept.pop(next(iter(kept)), None)
        kept[key] = build(catalog, *args)
    return kept[key]


def dense_equivalents(catalog: Catalog, model_id: str) -> Catalog:
    """``catalog`` plus two dense models matching ``model_id``'s active and total parameters.

    Same layers, attention (of every kind), vocabulary and embedding tying; every layer's
    feed-forward block becomes one dense FFN (no shared experts, no separate dense
    layers) of :func:`dense_ffn_width` for the active and for the total count.
    The new ids are :func:`dense_model_ids`. Raises ``ValueError`` for an unknown model.
    """
    if model_id not in catalog.models.index:
        raise ValueError(
            f"model must be one of {', '.join(catalog.models.index)}; got {model_id!r}"
        )
    return _derive(catalog, _dense_equivalents, model_id)


def _dense_equivalents(catalog: Catalog, model_id: str) -> Catalog:
    row = catalog.models.loc[model_id]
    targets = {"same_active": active_params(catalog.models).loc[model_id]}
    targets["same_total"] = row["total_params"]
    dense = {
        "n_experts": 1,
        "experts_per_token": 1,
        "expert_ffn_layers": int(row["n_layers"]),
        "dense_ffn_layers": 0,
        "dense_intermediate_size": 0,
        "n_shared_experts": 0,
        "shared_intermediate_size": 0,
    }
    for kind, model in dense_model_ids(model_id).items():
        arch = architecture(row, **dense, intermediate_size=dense_ffn_width(row, targets[kind]))
        catalog = catalog.with_architecture(model, arch, name=f"{row['name']}, {DENSE_KINDS[kind]}")
    return catalog


def more_experts_id(model_id: str, n_experts: int, experts_per_token: int, keep_fixed: str) -> str:
    """Id of a ``more_experts`` what-if model, e.g. ``custom:mixtral-8x7b-16e-top2-expert-size``."""
    base = model_id.removeprefix(CUSTOM_PREFIX)
    fixed = keep_fixed.replace(" ", "-")
    return f"{CUSTOM_PREFIX}{base}-{n_experts}e-top{experts_per_token}-{fixed}"


def more_experts(
    catalog: Catalog, model_id: str, n_experts: int, experts_per_token: int, keep_fixed: str
) -> tuple[Catalog, str]:
    """``catalog`` plus a what-if of ``model_id``: ``n_experts`` experts, top-``experts_per_token``.

    ``keep_fixed="expert size"``: every expert keeps its width F, so expert parameters
    scale by ``E' / E``. ``keep_fixed="total size"``: the expert width becomes
    ``round(F * E / E')`` so the expert parameters (and the total) stay about the same.
    Everything else (attention, shared experts, dense layers, embeddings) is unchanged.
    Returns the catalog and the what-if model's id (:func:`more_experts_id`). Raises
    ``ValueError`` if ``experts_per_token`` is not in ``[1, n_experts]``,
    ``n_experts < 1`` or ``keep_fixed`` is not in ``KEEP_FIXED``.
    """
    if model_id not in catalog.models.index:
        raise ValueError(
            f"model must be one of {', '.join(catalog.models.index)}; got {model_id!r}"
        )
    if keep_fixed not in KEEP_FIXED:
        raise ValueError(f"keep_fixed must be one of {', '.join(KEEP_FIXED)}; got {keep_fixed!r}")
    if int(n_experts) < 1:
        raise ValueError(f"n_experts must be at least 1; got {n_experts!r}")
    k = experts_per_token
    if not 1 <= int(k) <= int(n_experts):
        raise ValueError(
            f"experts_per_token must be between 1 and n_experts ({n_experts}); got {k!r}"
        )
    what_if = more_experts_id(model_id, int(n_experts), int(k), keep_fixed)
    return _derive(catalog, _more_experts, model_id, int(n_experts), int(k), keep_fixed), what_if


def _more_experts(catalog: Catalog, model_id: str, n_experts: int, k: int, keep_fixed: str):
    row = catalog.models.loc[model_id]
    width = int(row["intermediate_size"])
    if keep_fixed == "total size":
        width = max(int(round(width * row["n_experts"] / n_experts)), 1)
    arch = architecture(row, n_experts=n_experts, experts_per_token=k, intermediate_size=width)
    name = f"{row['name']}, {n_experts} experts top-{k} (same {keep_fixed})"
    return catalog.with_architecture(
        more_experts_id(model_id, n_experts, k, keep_fixed), arch, name=name
    )


def model_summary(catalog: Catalog, models: dict[str, str]) -> pd.DataFrame:
    """One row per ``label -> model id``: experts, top-k, FFN width, total and active params.

    Columns: ``model``, ``n_experts``, ``experts_per_token``, ``intermediate_size``
    [units], ``total_params_b`` and ``active_params_b`` [billions], indexed by label.
    """
    table = catalog.models
    rows = table.index.get_indexer(list(models.values()))
    return pd.DataFrame(
        {
            "model": list(models.values()),
            "n_experts": table["n_experts"].to_numpy(int)[rows],
            "experts_per_token": table["experts_per_token"].to_numpy(int)[rows],
            "intermediate_size": table["intermediate_size"].to_numpy(int)[rows],
            "total_params_b": table["total_params"].to_numpy(float)[rows] / 1e9,
            "active_params_b": _active_params(table, rows) / 1e9,
        },
        index=pd.Index(list(models), name="setup"),
    )


def tensor_parallel(base: Scenario, catalog: Catalog) -> Derived:
    """``base`` under tensor parallelism (``adapt.derive``: the GPU counts moved to sizes
    its model's heads allow, each move named), as :func:`compare_models` compares models.

    ``ValueError`` with the reason when ``base`` cannot be made valid (an id the catalog
    lacks)."""
    derived = derive(base, catalog, expert_parallel=False)
    if derived.scenario is None:
        raise ValueError(derived.reason)
    return derived


def compare_models(
    base: Scenario, catalog: Catalog, models: dict[str, str], **axes
) -> pd.DataFrame:
    """``sweep(base.replace(model=id), catalog, **axes)`` for each ``label -> id``, stacked.

    The scenario's own model (``base.model``) keeps ``base.expert_parallel``, so its rows
    are the scenario's as every other page shows them; the other models (dense
    equivalents have no experts to spread) run under tensor parallelism. One vectorised
    ``sweep`` per parallelism, ``model`` the first (slowest) axis. Adds ``setup``
    (the label, first column),
    ``prefill_ms_per_prompt_token`` = ``prefill_ms / (batch_size * prompt_tokens)`` [ms]
    and ``cost_vs_batch_1`` = ``usd_per_million_output_tokens`` over that of the same
    setup at batch 1 with the other fields equal (NaN where no batch-1 row exists).
    """
    return compare_models_table(
        scan_many(compare_models_calls(base, catalog, models, **axes), catalog), models, axes
    )


def compare_models_calls(
    base: Scenario, catalog: Catalog, models: dict[str, str], **axes
) -> list[tuple[Scenario, dict]]:
    """The ``scan`` calls of :func:`compare_models` (``scans.scan_many``): one per
    parallelism, the grid of ``model`` (slowest) and ``axes``."""
    ids = list(models.values())
    spread = [base.expert_parallel and m == base.model for m in ids]
    # The others have no experts to spread: tensor parallelism, at GPU counts the heads
    # allow (equivalents keep the model's attention, so its counts suit them).
    tp = tensor_parallel(base, catalog).scenario if base.expert_parallel else base
    bases = {True: base, False: tp}
    return [
        (
            bases[ep],
            product_columns(model=[m for m, e in zip(ids, spread, strict=True) if e == ep], **axes),
        )
        for ep in dict.fromkeys(spread)
    ]


def compare_models_table(parts: list[pd.DataFrame], models: dict[str, str], axes) -> pd.DataFrame:
    """:func:`compare_models`' table from the frames of its calls
    (:func:`compare_models_calls`) and the names of its ``axes``: one row take and four
    new columns, each from arrays."""
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    ids = list(models.values())
    # back in the order of ``models`` (a stable sort keeps each model's axes in order)
    rank = _positions(frame["model"], ids)
    order = np.argsort(rank, kind="stable")
    rank = rank[order]
    batch, prompt, prefill = (
        frame[c].to_numpy()[order] for c in ("batch_size", "prompt_tokens", "prefill_ms")
    )
    cost = frame[COST_COLUMN].to_numpy(float)[order]
    keys = [rank, *(frame[c].to_numpy()[order] for c in axes if c != "batch_size")]
    table = frame.take(order)
    table.index = pd.RangeIndex(len(table))
    table["model"] = np.asarray(ids)[rank]
    with np.errstate(invalid="ignore"):  # NaN at a zero price (0 / 0)
        added = {
            "setup": np.asarray(list(models))[rank],
            "prefill_ms_per_prompt_token": prefill / (batch * prompt),
            "cost_vs_batch_1": cost / at_batch_1(cost, batch, keys),
        }
    # New names, so no look-up of the old ones (each a hash of the 80 names).
    for column, values in added.items():
        at = 0 if column == "setup" else table.shape[1]
        table.insert(at, column, values, allow_duplicates=True)
    return table


def _positions(model: pd.Series, ids: list[str]) -> np.ndarray:
    """Each row's position in ``ids`` of its ``model`` (a scan's categorical column of
    ids), from the categories' positions and the codes."""
    position = {m: i for i, m in enumerate(ids)}
    categories = model.array.categories
    return np.array([position.get(c, -1) for c in categories], np.int64)[model.array.codes]


def at_batch_1(values: np.ndarray, batch_size: np.ndarray, keys: list) -> np.ndarray:
    """For each row, ``values`` at the row with ``batch_size`` 1 and the same ``keys``
    (arrays, one value per row); NaN where there is none.

    ``values = [4., 2., 3.]``, ``batch_size = [1, 8, 8]``, ``keys = [[0, 0, 1]]``:
    ``[4., 4., nan]``.
    """
    group = row_groups(keys, len(values))
    reference = np.full(group.max(initial=-1) + 1, np.nan)
    ones = batch_size == 1
    reference[group[ones]] = values[ones]
    return reference[group]
