"""The data catalogs in ``assets/``: GPUs, GPU families, prices, models, formats, measurements.

Every row carries a ``source`` and a ``date``. ``load_catalog()`` reads and checks them
once per process; a ``Catalog`` is immutable and ``with_model`` returns a new one.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from costmodel.architecture import parameter_counts
from costmodel.hf_config import ARCHITECTURE_FIELDS, LAYER_FIELDS, describe_hf_config
from costmodel.memory import bytes_per_weight
from costmodel.overheads import FIXED_TIME_PARAMETERS, fixed_time_scale

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"

#: Model ids that start with this come from a user's own config.json, not the catalog.
CUSTOM_PREFIX = "custom:"
#: Values of ``status`` in ``assets/gpus.csv``: ``shipping`` (generally available to rent
#: or buy) or ``announced`` (announced, or in first deliveries, with no public rental
#: price). Announced GPUs stay out of ``Catalog.gpus`` unless asked for
#: (``Catalog.with_announced_gpus``).
GPU_STATUSES = ("shipping", "announced")

#: The columns of ``assets/provider_prices.csv`` besides ``date``, ``source`` and ``note``
#: (``pricing`` and ``price_files`` say what each holds).
PROVIDER_PRICE_COLUMNS = (
    "provider",
    "model",
    "usd_per_million_input",
    "usd_per_million_output",
    "usd_per_million_cached_input",
    "time_of_day",
    "peak_hours_utc",
)

_REQUIRED = {
    "gpus.csv": (
        "gpu",
        "name",
        "vendor",
        "family",
        "hbm_gb",
        "bandwidth_tb_s",
        "bf16_dense_tflops",
        "fp8_dense_tflops",
        "int8_dense_tops",
        "fp4_dense_tflops",
        "scale_up_gb_s",
        "mesh_links",
        "scale_up_domain_gpus",
        "scale_out_gb_s",
        "status",
    ),
    "gpu_families.csv": (
        "family",
        "bandwidth_efficiency",
        "compute_efficiency",
        "allreduce_latency_us",
        "link_efficiency",
        "layer_overhead_us",
        "efficiency_uncertainty",
        "calibrated_on",
    ),
    "gpu_prices.csv": ("gpu", "usd_per_gpu_hour", "kind", "tier", "basis"),
    "provider_prices.csv": PROVIDER_PRICE_COLUMNS,
    "formats.csv": (
        "weight_format",
        "weight_bits",
        "group_size",
        "scale_bits",
        "zero_bits",
        "compute_dtype",
        "bandwidth_efficiency_factor",
        "compute_efficiency_factor",
    ),
    "models.csv": ("model", "name", "config_file"),
    "model_aliases.csv": ("alias", "model"),
    "serving_stacks.csv": ("serving_stack", "family", "fitted_on"),
    "serving_stack_parameters.csv": ("parameter", "unit", "low", "high", "base", "meaning"),
    "serving_disclosures.csv": (
        "disclosure",
        "provider",
        "gpu",
        "gpus_per_node",
        "usd_per_gpu_hour",
        "usd_per_day",
        "input_tokens_per_day",
        "cached_input_tokens_per_day",
        "prefix_cache_hit_rate",
        "output_tokens_per_day",
        "prefill_tokens_per_s_per_node",
        "decode_tokens_per_s_per_node",
        "priced_as",
    ),
    "workloads.csv": (
        "workload",
        "request_class",
        "share",
        "prompt_distribution",
        "output_distribution",
        "prefix_cache_hit_rate",
        "description",
    ),
    "gpu_power.csv": ("gpu", "board_power_w", "all_in_power_w", "all_in_system"),
    "serving_path.csv": (
        "serving_stack",
        "request_overhead_ms",
        "output_delay_steps",
        "handoff_ms",
    ),
    "gpu_purchase_prices.csv": ("gpu", "usd_per_server", "gpus_per_server", "system"),
    "measurements.csv": (
        "id",
        "model",
        "gpu",
        "n_gpus",
        "weight_format",
        "kv_format",
        "parallelism",
        "batch_size",
        "prompt_tokens",
        "output_tokens",
        "metric",
        "value",
    ),
}


def date_key(date: str) -> str:
    """A catalog date ('2024', '2024-03' or '2026-03-17') as the last day of its period.

    The result sorts as text: '2024' -> '2024-12-31', '2024-03' -> '2024-03-31' (every
    month is given day 31, which sorts correctly), '2026-03-17' unchanged.
    """
    parts = str(date).split("-")
    return "-".join(parts + ["12", "31"][len(parts) - 1 :])


def read_table(path: Path) -> pd.DataFrame:
    """Read one catalog CSV and check its columns, its source and its date."""
    table = pd.read_csv(path)
    missing = [c for c in (*_REQUIRED[path.name], "date", "source") if c not in table.columns]
    if missing:
        raise ValueError(f"{path.name}: missing column(s) {', '.join(missing)}")
    blank = table[table["source"].isna() | table["date"].isna()]
    if len(blank):
        raise ValueError(f"{path.name}: rows {list(blank.index)} lack a source or a date")
    return table


def _indexed(table: pd.DataFrame, key: str, name: str) -> pd.DataFrame:
    if table[key].duplicated().any():
        raise ValueError(f"{name}: duplicate {key} {list(table[key][table[key].duplicated()])}")
    return table.set_index(key)


def model_row(arch: dict, name: str) -> dict:
    """A models-table row: the architecture (``describe_hf_config``) and its parameter counts."""
    counts = parameter_counts(arch)
    return {"name": name, **arch, **{k: float(v) for k, v in counts.items()}}


@dataclass(frozen=True)
class Catalog:
    """All catalogs as DataFrames. ``gpus``, ``models``, ``formats`` are indexed by id.

    ``gpus`` carries its family's default efficiencies as columns.
    ``gpus`` holds the shipping GPUs (``GPU_STATUSES``); ``announced_gpus`` the
    announced ones, which no comparison of today sees unless a caller asks
    (``with_announced_gpus``).
    ``models`` carries the architecture (``hf_config.ARCHITECTURE_FIELDS`` and
    ``LAYER_FIELDS``: layer counts by attention and FFN kind, ``context_window``), the
    checkpoint's own formats (``checkpoint_weight_format`` of the routed experts,
    ``checkpoint_attention_format`` of the rest) and the parameter counts by part of
    ``architecture.parameter_counts`` (``total_params``, ``active_params``, ...).
    """

    gpus: pd.DataFrame
    models: pd.DataFrame
    formats: pd.DataFrame
    gpu_families: pd.DataFrame
    gpu_prices: pd.DataFrame
    provider_prices: pd.DataFrame
    measurements: pd.DataFrame
    announced_gpus: pd.DataFrame | None = None
    #: ``assets/serving_stacks.csv``: a serving stack's efficiencies per GPU family, dated.
    serving_stacks: pd.DataFrame = field(default_factory=lambda: _stack_tables()[0])
    #: ``assets/serving_stack_parameters.csv``: each stack parameter's physical range.
    serving_stack_parameters: pd.DataFrame = field(default_factory=lambda: _stack_tables()[1])
    arrays: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "arrays", _lookup_arrays(self))

    def prepared(self, build: Callable[[Catalog], object]) -> object:
        """``build(self)``, computed on first use and kept with this catalog: a table
        prepared for queries (``pricing``'s as-of tables). A catalog never changes, so a
        kept table never goes stale; a changed copy (``dataclasses.replace``) starts anew."""
        kept = self.__dict__.setdefault("_prepared", {})
        if build not in kept:
            kept[build] = build(self)
        return kept[build]

    def names(self, table: str, ids: Iterable[str]) -> list[str]:
        """The names in words of ``ids`` of the ``table`` ("models" or "gpus"), for a
        sentence: ``catalog.names("gpus", ["h100-sxm"])`` is ``["H100 SXM5 80GB"]``; an id
        the table lacks stays as it is."""
        names = self.prepared(_names)[table]
        return [str(names.get(i, i)) for i in ids]

    def with_announced_gpus(self) -> Catalog:
        """A copy whose ``gpus`` hold the announced GPUs too (``GPU_STATUSES``): the
        explicit choice to put them beside today's."""
        if self.announced_gpus is None or self.announced_gpus.empty:
            return self
        return self.prepared(_with_announced)  # one copy, so its prepared tables are kept

    @property
    def stacks(self) -> pd.DataFrame:
        """The serving stacks (index: ``serving_stack`` ids, in file order), a choice table."""
        return self.prepared(_stack_table)

    @property
    def stack_dates(self) -> pd.DataFrame:
        """The dates of ``serving_stacks`` rows, oldest first (index), a choice table."""
        return self.prepared(_stack_date_table)

    def with_serving_stacks(self, rows: pd.DataFrame) -> Catalog:
        """A copy whose ``serving_stacks`` table is ``rows`` (checked like the file's)."""
        checked = _checked_stacks(rows, self.serving_stack_parameters)
        return dataclasses.replace(self, serving_stacks=checked)

    def with_model(self, model_id: str, config: dict, name: str | None = None) -> Catalog:
        """A copy with one more model, parsed from a Hugging Face ``config.json`` dict."""
        return self.with_architecture(model_id, describe_hf_config(config), name)

    def with_architecture(self, model_id: str, arch: dict, name: str | None = None) -> Catalog:
        """A copy with one more model given by its architecture (``describe_hf_config``'s
        keys: ``MODEL_ARCHITECTURE_FIELDS``), e.g. a catalog row with fields changed."""
        row = pd.DataFrame([model_row(arch, name or model_id)], index=[model_id])
        models = pd.concat([self.models[self.models.index != model_id], row])
        models.index.name = "model"
        return dataclasses.replace(self, models=models)

    def with_gpu(
        self,
        gpu_id: str,
        *,
        family: str,
        hbm_gb: float,
        bandwidth_tb_s: float,
        bf16_dense_tflops: float,
        scale_up_gb_s: float,
        scale_out_gb_s: float,
        scale_up_domain_gpus: int,
        fp8_dense_tflops: float = float("nan"),
        fp4_dense_tflops: float = float("nan"),
        usd_per_gpu_hour: float | None = None,
        name: str | None = None,
    ) -> Catalog:
        """A copy with one more GPU typed by its specs (units in the names; NaN TFLOPS: no
        such tensor units). Its row takes ``family``'s efficiencies (gpu_families.csv) and
        ``source`` "user input", dated as the newest catalog GPU; with ``usd_per_gpu_hour``
        a price row of tier ``own`` too (used under every ``pricing.PriceRule``).
        ``ValueError`` for a taken id, an unknown family or a spec that is not a positive
        number."""
        if gpu_id in self.gpus.index:
            raise ValueError(f"gpu_id must be a new id, not one of the catalog's; got {gpu_id!r}")
        if family not in self.gpu_families.index:
            raise ValueError(
                f"family must be one of {', '.join(self.gpu_families.index)}; got {family!r}"
            )
        specs = {"hbm_gb": hbm_gb, "bandwidth_tb_s": bandwidth_tb_s}
        specs.update(bf16_dense_tflops=bf16_dense_tflops, scale_up_gb_s=scale_up_gb_s)
        specs.update(scale_out_gb_s=scale_out_gb_s, scale_up_domain_gpus=scale_up_domain_gpus)
        for key, value in specs.items():
            if not (isinstance(value, int | float) and np.isfinite(value) and value > 0):
                raise ValueError(f"{key} must be a positive number; got {value!r}")
        date = max(self.gpus["date"].astype(str), key=date_key)
        row = {c: np.nan for c in self.gpus.columns}
        row.update(self.gpu_families.loc[family].reindex(self.gpus.columns).dropna())
        row.update(
            specs,
            name=name or gpu_id,
            vendor="user input",
            family=family,
            fp8_dense_tflops=fp8_dense_tflops,
            fp4_dense_tflops=fp4_dense_tflops,
            date=date,
            source="user input",
            note="typed by the user",
        )
        gpus = pd.concat([self.gpus, pd.DataFrame([row], index=[gpu_id])])
        gpus.index.name = self.gpus.index.name
        prices = self.gpu_prices
        if usd_per_gpu_hour is not None:
            price = {"gpu": gpu_id, "usd_per_gpu_hour": float(usd_per_gpu_hour)}
            price.update(kind="your price", tier="own", basis="listed", date=date)
            price.update(source="user input")
            prices = pd.concat([prices, pd.DataFrame([price])], ignore_index=True)
        return dataclasses.replace(self, gpus=gpus, gpu_prices=prices)


def _with_announced(catalog: Catalog) -> Catalog:
    """:meth:`Catalog.with_announced_gpus`' copy."""
    gpus = pd.concat([catalog.gpus, catalog.announced_gpus])
    return dataclasses.replace(catalog, gpus=gpus, announced_gpus=catalog.announced_gpus.iloc[:0])


def _names(catalog: Catalog) -> dict:
    """Table ("models", "gpus") -> {id: name in words}, for :meth:`Catalog.names`."""
    tables = {"models": catalog.models, "gpus": catalog.gpus}
    return {
        key: dict(zip(t.index, map(str, t["name"].tolist()), strict=True))
        for key, t in tables.items()
    }


def _stack_table(catalog: Catalog) -> pd.DataFrame:
    ids = pd.unique(catalog.serving_stacks["serving_stack"])
    return pd.DataFrame(index=pd.Index([i for i in ids if i != ANY_STACK], name="serving_stack"))


def _stack_date_table(catalog: Catalog) -> pd.DataFrame:
    dates = sorted(catalog.serving_stacks["date"].astype(str).unique(), key=date_key)
    return pd.DataFrame(index=pd.Index(dates, name="date"))


def _lookup_arrays(catalog: Catalog) -> dict:
    """Numpy arrays in index order, so rows are looked up by integer code, never by string."""
    formats = catalog.formats
    models = catalog.models
    arrays = dict(_hardware_arrays(catalog))
    arrays.update({f"model.{c}": models[c].to_numpy(float) for c in MODEL_NUMERIC_FIELDS})
    for col in ("checkpoint_weight_format", "checkpoint_attention_format"):
        codes = formats.index.get_indexer(models[col])
        if (codes < 0).any():
            raise ValueError(f"models: {col} {sorted(set(models[col][codes < 0]))} not in formats")
        arrays[f"model.{col}"] = codes
    return arrays


def _gpu_and_format_arrays(catalog: Catalog) -> dict:
    """The lookup arrays of GPUs, formats and serving stacks (none of the models)."""
    formats = catalog.formats
    arrays = {f"gpu.{c}": catalog.gpus[c].to_numpy(float) for c in _GPU_NUMERIC}
    arrays["format.bytes_per_weight"] = np.asarray(
        bytes_per_weight(
            formats["weight_bits"],
            formats["group_size"],
            formats["scale_bits"],
            formats["zero_bits"],
        ),
        float,
    )
    for col in ("bandwidth_efficiency_factor", "compute_efficiency_factor", "weight_bits"):
        arrays[f"format.{col}"] = formats[col].to_numpy(float)
    arrays["peak_tflops"] = peak_tflops(catalog.gpus, formats["compute_dtype"])
    arrays["compute_factor"] = compute_factors(catalog.gpus, formats)
    for name, values in stack_values(catalog).items():
        arrays[f"stack.{name}"] = values
    return arrays


#: Catalog column holding each compute type's dense peak [TFLOP/s, TOP/s for int8].
PEAK_COLUMNS = {
    "bf16": "bf16_dense_tflops",
    "fp8": "fp8_dense_tflops",
    "int8": "int8_dense_tops",
    "fp4": "fp4_dense_tflops",
}

#: Where a GPU has no tensor units for a compute type, the formats it computes in
#: instead, nearest first: the weights stay in their stored format (bytes are still
#: saved) and are dequantised to the next format the GPU has. FP4 -> FP8 -> BF16.
PEAK_FALLBACK = {"fp4": ("fp8", "bf16"), "fp8": ("bf16",), "int8": ("bf16",), "bf16": ()}


def peak_tflops(gpus: pd.DataFrame, compute_dtypes) -> np.ndarray:
    """Dense peak of each compute type on each GPU (rows = GPUs, columns = dtypes) [TFLOP/s].

    A GPU's own figure for the type where it has one, else the first of
    ``PEAK_FALLBACK[dtype]`` it has: B200 running NVFP4 (compute ``fp4``) gets its 9,000
    FP4 TFLOP/s; H100 running MXFP4 has no FP4 units and gets its 1,978.9 FP8 TFLOP/s;
    an A100 (no FP8, no FP4) its 312 BF16 TFLOP/s.
    """
    columns = []
    for dtype in compute_dtypes:
        if dtype not in PEAK_COLUMNS:
            raise ValueError(
                f"compute_dtype must be one of {', '.join(PEAK_COLUMNS)}; got {dtype!r}"
            )
        peak = gpus[PEAK_COLUMNS[dtype]]
        for fallback in PEAK_FALLBACK[dtype]:
            peak = peak.fillna(gpus[PEAK_COLUMNS[fallback]])
        columns.append(peak.to_numpy(float))
    return np.column_stack(columns)


def compute_factors(gpus: pd.DataFrame, formats: pd.DataFrame) -> np.ndarray:
    """Each format's ``compute_efficiency_factor`` on each GPU (rows = GPUs, columns =
    formats): its own where the GPU has tensor units of its ``compute_dtype``, else that
    of the format it is dequantised to (``PEAK_FALLBACK``: the first fallback type the
    GPU has, priced as the catalog format of that name): an H100 reading NVFP4 weights
    runs FP8 GEMMs at FP8's 0.9, a B200 runs NVFP4 at its own 0.62 (MLPerf)."""
    own = formats["compute_efficiency_factor"].to_numpy(float)
    columns = []
    for j, dtype in enumerate(formats["compute_dtype"]):
        factor = pd.Series(own[j], index=gpus.index)
        native = gpus[PEAK_COLUMNS[dtype]].notna()
        for fallback in PEAK_FALLBACK[dtype]:
            has = ~native & gpus[PEAK_COLUMNS[fallback]].notna()
            fallback_factor = formats.loc[fallback, "compute_efficiency_factor"]
            factor = factor.where(~has, float(fallback_factor))
            native = native | has
        columns.append(factor.to_numpy(float))
    return np.column_stack(columns)


_GPU_NUMERIC = (
    "hbm_gb",
    "bandwidth_tb_s",
    "bf16_dense_tflops",
    "fp8_dense_tflops",
    "scale_up_gb_s",
    "mesh_links",
    "scale_up_domain_gpus",
    "scale_out_gb_s",
    "bandwidth_efficiency",
    "compute_efficiency",
    "allreduce_latency_us",
    "link_efficiency",
    "layer_overhead_us",
)
#: Every key of ``describe_hf_config``: what ``Catalog.with_architecture`` takes.
MODEL_ARCHITECTURE_FIELDS = (
    *ARCHITECTURE_FIELDS,
    *LAYER_FIELDS,
    "checkpoint_weight_format",
    "checkpoint_attention_format",
)
MODEL_NUMERIC_FIELDS = (
    *ARCHITECTURE_FIELDS,
    *LAYER_FIELDS,
    "attention_params",
    "expert_params",
    "shared_expert_params",
    "dense_ffn_params",
    "router_params",
    "lm_head_params",
    "embedding_params",
    "norm_params",
    "lookup_params",
    "quantizable_params",
    "sixteen_bit_params",
    "total_params",
    "active_params",
)


#: Parameters a serving stack's row may set: the columns of ``assets/serving_stacks.csv``
#: after its keys, each with its physical range in ``assets/serving_stack_parameters.csv``.
STACK_PARAMETERS = (
    "kernel_us",
    "moe_kernel_efficiency",
    "moe_half_experts",
    "allreduce_latency_us",
    "compute_efficiency",
    "bandwidth_efficiency",
)

#: ``family`` of a ``serving_stacks.csv`` row that holds for every GPU family without a
#: row of its own for that stack; ``serving_stack`` of a row that holds for every stack
#: on that family (a GPU family's own calibrated values).
ANY_FAMILY = ANY_STACK = "any"

#: Where a stack has no value for a GPU family (not even an ``any`` row), the stack whose
#: value it takes: ATOM runs AMD's AITER kernels as SGLang on ROCm does; Dynamo and MoRI
#: disaggregate the engine they wrap (the decode pool runs its kernels).
STACK_FALLBACK = {
    "atom": "sglang",
    "dynamo-trt": "trt-llm",
    "dynamo-sglang": "sglang",
    "mori-sglang": "dynamo-sglang",
}


def _newest(candidates: list, parameter: str, key: str):
    """The value of ``parameter`` in the newest of ``candidates`` (row groups
    ``{"keys": date keys, column: values}``, most specific first) dated on or before
    ``key`` (their oldest if all are later); on equal dates the more specific group's.
    ``(value, index of its group in candidates)``; None if no row sets it."""
    dates, values, rank = [], [], []
    for specificity, rows in enumerate(candidates):
        if rows is None:
            continue
        given = ~np.isnan(rows[parameter])
        dates.extend(rows["keys"][given])
        values.extend(rows[parameter][given])
        rank.extend([specificity] * int(given.sum()))
    if not values:
        return None
    before = [i for i, date in enumerate(dates) if date <= key]
    pool = before or [i for i, date in enumerate(dates) if date == min(dates)]
    newest = max(dates[i] for i in pool)
    specificity, best = min((rank[i], i) for i in pool if dates[i] == newest)
    return float(values[best]), specificity


def _stack_groups(table: pd.DataFrame) -> dict:
    """``serving_stacks`` rows by (stack, family): their date keys and parameter values."""
    columns = {"keys": table["date"].astype(str).map(date_key).to_numpy()}
    columns.update({p: table[p].to_numpy(float) for p in STACK_PARAMETERS})
    groups = {}
    for group, where in table.groupby(["serving_stack", "family"], sort=False).indices.items():
        groups[group] = {name: values[where] for name, values in columns.items()}
    return groups


def _resolved(groups: dict, family: str, stack: str, parameter: str, key: str):
    """The chain of :func:`stack_value` over prepared ``groups``: ``(value, pooled)``,
    pooled where the value is a stack's ``any``-family row; ``(None, False)``: the base."""
    while stack is not None:
        for candidates in (
            [groups.get((stack, family)), groups.get((stack, ANY_FAMILY))],
            [groups.get((ANY_STACK, family))],
        ):
            found = _newest(candidates, parameter, key)
            if found is not None:
                return found[0], len(candidates) == 2 and found[1] == 1
        stack = STACK_FALLBACK.get(stack)
    return None, False


def _base(catalog: Catalog, parameter: str, family: str, gpu: str | None = None) -> float:
    base = catalog.serving_stack_parameters.set_index("parameter").loc[parameter, "base"]
    if base != "family":
        return float(base)
    if gpu is not None:
        return float(catalog.gpus.loc[gpu, parameter])
    return float(catalog.gpu_families.loc[family, parameter])


def stack_value(catalog: Catalog, gpu: str, stack: str, parameter: str, as_of: str) -> float:
    """One serving-stack parameter for a GPU, as the evaluation resolves it.

    The newest row on or before ``as_of`` (the oldest if every row is later) among the
    stack's rows for the GPU's own family and for ``any`` family (its values pooled over
    the families it was fitted on), the own family's on equal dates: a newer release's
    pooled values supersede an older one's own-family values. Without such a row, the
    family on ``any`` stack (the family's own calibrated values); then the same for
    ``STACK_FALLBACK[stack]``; else the parameter's ``base``
    (``serving_stack_parameters.csv``: a number, or ``family`` for the GPU family's value
    in ``gpu_families.csv``). So a stack's value *replaces* the family's where it has one.
    A pooled fixed time (``overheads.FIXED_TIME_PARAMETERS``) is stated at the
    reference GPU's memory system and carries to this GPU by
    ``overheads.fixed_time_scale`` of its bandwidth; the own family's rows are its own.
    """
    family = catalog.gpus.loc[gpu, "family"]
    groups = _stack_groups(catalog.serving_stacks)
    value, pooled = _resolved(groups, family, stack, parameter, date_key(as_of))
    if value is None:
        return _base(catalog, parameter, family, gpu)
    if pooled and parameter in FIXED_TIME_PARAMETERS:
        return value * float(fixed_time_scale(catalog.gpus.loc[gpu, "bandwidth_tb_s"]))
    return value


def stack_values(catalog: Catalog) -> dict:
    """``stack_value`` of every parameter for every (GPU, stack, date) of the catalog:
    arrays of shape (GPUs, stacks, dates) in the catalog's index orders, resolved once
    per GPU family (a GPU's own ``family``-based value where the base is its family's;
    a pooled fixed time scaled to each GPU, :func:`stack_value`)."""
    groups = _stack_groups(catalog.serving_stacks)
    keys = [date_key(d) for d in catalog.stack_dates.index]
    stacks = list(catalog.stacks.index)
    families = list(pd.unique(catalog.gpus["family"]))
    row_family = catalog.gpus["family"].map({f: i for i, f in enumerate(families)}).to_numpy()
    out = {}
    scale = fixed_time_scale(catalog.gpus["bandwidth_tb_s"].to_numpy(float))[:, None, None]
    bases = catalog.serving_stack_parameters.set_index("parameter")["base"]
    for parameter in STACK_PARAMETERS:
        found = [
            [[_resolved(groups, f, s, parameter, k) for k in keys] for s in stacks]
            for f in families
        ]
        shape = (len(families), len(stacks), len(keys))
        resolved = np.array([[[v for v, _ in d] for d in s] for s in found], float)
        pooled = np.array([[[p for _, p in d] for d in s] for s in found], bool)
        per_gpu = resolved.reshape(shape)[row_family]
        if parameter in FIXED_TIME_PARAMETERS:
            per_gpu = np.where(pooled.reshape(shape)[row_family], per_gpu * scale, per_gpu)
        missing = np.isnan(per_gpu)
        if missing.any():
            base = bases[parameter]
            per_gpu_base = (
                catalog.gpus[parameter].to_numpy(float) if base == "family" else float(base)
            )
            per_gpu = np.where(missing, np.reshape(per_gpu_base, (-1, 1, 1)), per_gpu)
        out[parameter] = per_gpu
    return out


#: ``_gpu_and_format_arrays`` of the latest catalogs, keyed by the identity of the tables
#: they are made from (the entry keeps those tables, so an id is not reused while it
#: lives): a copy that changes only its models (``with_architecture``: an uploaded model,
#: the MoE page's dense equivalents) reuses its parent's arrays instead of resolving every
#: (GPU, stack, date) again (tens of ms).
_HARDWARE_ARRAYS: dict = {}
#: How many catalogs' arrays ``_HARDWARE_ARRAYS`` keeps (the oldest goes first).
HARDWARE_ARRAYS_KEPT = 8
_HARDWARE_ARRAYS_LOCK = threading.Lock()


def _hardware_arrays(catalog: Catalog) -> dict:
    tables = (
        catalog.gpus,
        catalog.gpu_families,
        catalog.formats,
        catalog.serving_stacks,
        catalog.serving_stack_parameters,
    )
    key = tuple(map(id, tables))
    with _HARDWARE_ARRAYS_LOCK:
        kept = _HARDWARE_ARRAYS.get(key)
    if kept is not None:
        return kept[1]
    values = _gpu_and_format_arrays(catalog)
    with _HARDWARE_ARRAYS_LOCK:
        while len(_HARDWARE_ARRAYS) >= HARDWARE_ARRAYS_KEPT:
            del _HARDWARE_ARRAYS[next(iter(_HARDWARE_ARRAYS))]
        _HARDWARE_ARRAYS[key] = (tables, values)
    return values


def _checked_stacks(table: pd.DataFrame, parameters: pd.DataFrame) -> pd.DataFrame:
    """``serving_stacks.csv`` rows checked: every parameter within its physical range
    (``parameters``: ``serving_stack_parameters.csv``), one row per (stack, family, date)."""
    ranges = parameters.set_index("parameter")
    table = table.copy()
    table["date"] = table["date"].astype(str)
    for name in STACK_PARAMETERS:
        if name not in table.columns:
            table[name] = np.nan
        values = pd.to_numeric(table[name])
        low, high = ranges.loc[name, ["low", "high"]].astype(float)
        bad = values.notna() & ~values.between(low, high)
        if bad.any():
            row = table[bad].iloc[0]
            raise ValueError(
                f"serving_stacks: {name} of {row['serving_stack']} on {row['family']} must be "
                f"in [{low}, {high}] (serving_stack_parameters.csv); got {row[name]}"
            )
        table[name] = values
    keys = ["serving_stack", "family", "date"]
    if table.duplicated(keys).any():
        raise ValueError(f"serving_stacks: repeated {keys} {table[table.duplicated(keys)][keys]}")
    return table


@functools.lru_cache(maxsize=4)
def _stack_tables(assets_dir: str | Path = ASSETS_DIR) -> tuple:
    root = Path(assets_dir)
    parameters = read_table(root / "serving_stack_parameters.csv")
    return _checked_stacks(read_table(root / "serving_stacks.csv"), parameters), parameters


@functools.lru_cache(maxsize=4)
def load_catalog(assets_dir: str | Path = ASSETS_DIR) -> Catalog:
    """Read every catalog in ``assets_dir`` (default: the project's ``assets/``), once."""
    root = Path(assets_dir)
    families = _indexed(read_table(root / "gpu_families.csv"), "family", "gpu_families.csv")
    gpus = _indexed(read_table(root / "gpus.csv"), "gpu", "gpus.csv")
    unknown = sorted(set(gpus["family"]) - set(families.index))
    if unknown:
        raise ValueError(f"gpus.csv: family {unknown} not in gpu_families.csv")
    statuses = sorted(set(gpus["status"]) - set(GPU_STATUSES))
    if statuses:
        raise ValueError(f"gpus.csv: status {statuses} not one of {', '.join(GPU_STATUSES)}")
    defaults = families.loc[gpus["family"], list(_REQUIRED["gpu_families.csv"][1:])]
    gpus = gpus.join(defaults.set_axis(gpus.index))
    shipping = gpus["status"] == "shipping"

    index = read_table(root / "models.csv")
    rows = []
    for rec in index.itertuples():
        config = json.loads((root / rec.config_file).read_text())
        rows.append(model_row(describe_hf_config(config), rec.name))
    models = pd.DataFrame(rows, index=pd.Index(index["model"], name="model"))
    models = models.join(index.set_index("model")[["config_file", "date", "source"]])

    return Catalog(
        gpus=gpus[shipping],
        models=models,
        formats=_indexed(read_table(root / "formats.csv"), "weight_format", "formats.csv"),
        gpu_families=families,
        gpu_prices=read_table(root / "gpu_prices.csv"),
        provider_prices=read_table(root / "provider_prices.csv"),
        measurements=read_table(root / "measurements.csv"),
        announced_gpus=gpus[~shipping],
        serving_stacks=_stack_tables(root)[0],
        serving_stack_parameters=_stack_tables(root)[1],
    )
