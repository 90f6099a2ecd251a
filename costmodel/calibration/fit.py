"""Fit a few named efficiencies to measurements: bounded least squares on log error.

Each fitted value is a Scenario field shared by a group of rows: all rows (a workload
property the file does not state, such as the MTP acceptance), one serving stack on every
GPU family, one family on every stack, or one family on one stack (``LEVELS``). Values
stay within the physical range ``assets/serving_stack_parameters.csv`` states (or
``SHARED_RANGES``). The residuals are

    r = log(predicted / measured)

of every measured metric of every row (``FIT_METRICS``), so a 10 % miss weighs the same
on a 20 tokens/s row as on a 2,000 tokens/s one, under a soft-L1 loss
(``ROBUST_SCALE``) so that a few rows the physics does not describe cannot drag every
value. The solver is Levenberg-Marquardt with the step projected onto the bounds, in
numpy: the Jacobian by forward differences, one vectorised ``predict`` per parameter
name per iteration (a group's value moves only its own rows, so every group of one
name is differenced in the same call). Uncertainty: each value's standard error
``sqrt(diag(s^2 (J' J)^-1))``, ``s^2`` the residual variance.

scipy would do the same (``scipy.optimize.least_squares`` with bounds and
``loss="soft_l1"``); it is not a dependency of the app, and the problem is small (a few
dozen values, a few hundred rows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from costmodel.calibration.predict import predict, resolved_fields
from costmodel.catalog import ANY_FAMILY, ANY_STACK, STACK_PARAMETERS, Catalog, load_catalog
from costmodel.overheads import (
    FIXED_TIME_PARAMETERS,
    REFERENCE_BANDWIDTH_TB_S,
    fixed_time_scale,
)

#: Metrics the fit matches: a user's speed and the system's throughput per GPU.
FIT_METRICS = ("tokens_per_s_per_user", "output_tokens_per_s_per_gpu")

#: Most fitted values per GPU family and serving stack.
MAX_PARAMETERS_PER_GROUP = 4

#: What a fitted value is shared by: every row (a workload property), a serving stack on
#: every GPU family, a GPU family on every stack, or one family on one stack.
LEVELS = ("all", "stack", "family", "family_stack")

#: Workload properties a file does not state, fitted once over all its rows: their
#: physical range.
#: - ``acceptance_at_t0``: first-draft acceptance of an MTP head. DeepSeek reports 85-90 %
#:   for its second-token prediction on real text (DeepSeek-V3 technical report, 5.4.3),
#:   TensorRT-LLM 92.6 % (``speculative.MTP_ACCEPTANCE``); random prompts in a chat
#:   template draw less (ROCm/ATOM issue 609: the MTP head was trained before the chat
#:   post-training). 0.4 is where MTP stops paying for itself.
#: - ``routing_skew``: Zipf exponent of expert popularity (``moe.routing_probabilities``):
#:   0 is uniform; DeepSeek balances real text with an auxiliary-loss-free bias and still
#:   ships EPLB because expert loads differ several-fold (deepseek-ai/EPLB README); 1.5
#:   puts a third of the routing on the 10 hottest of 256 experts.
SHARED_RANGES = {"acceptance_at_t0": (0.4, 0.95), "routing_skew": (0.0, 1.5)}

#: The values a calibration on InferenceX-like data fits: each GPU family and stack's
#: fixed time per kernel, MoE weight streaming and all-reduce latency; the grouped
#: GEMM's half-rate expert count, one for all (a kernel property the rows pin only
#: together); and the workload's MTP acceptance.
DEFAULT_PARAMETERS = {
    "kernel_us": "family_stack",
    "moe_kernel_efficiency": "family_stack",
    "allreduce_latency_us": "family_stack",
    "moe_half_experts": "all",
    "acceptance_at_t0": "all",
}

#: Relative step of the forward differences (of the parameter's range).
DIFFERENCE_STEP = 1e-3

#: Levenberg-Marquardt: most iterations, first damping (relative to diag(J'J)), and the
#: relative fall of the loss below which it stops.
ITERATIONS, DAMPING, TOLERANCE = 30, 1e-2, 1e-6

#: Scale of the soft-L1 loss on log errors: residuals well below it count as squares,
#: well above it linearly [log error].
ROBUST_SCALE = 0.15

#: ``source`` of the ``serving_stacks.csv`` rows a fit writes (``stack_rows``); rows
#: with another source are priors (the 2024 calibration, the stacks' declarations).
FIT_SOURCE = "costmodel.calibration.fit"


def residuals(table: pd.DataFrame, predicted: pd.DataFrame) -> np.ndarray:
    """``log(predicted / measured)`` of each row (rows) and ``FIT_METRICS`` (columns);
    NaN where a metric was not measured."""
    measured = table[list(FIT_METRICS)].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(predicted[list(FIT_METRICS)].to_numpy(float) / measured)


def robust_cost(r) -> float:
    """Soft-L1 loss ``sum 2 d^2 (sqrt(1 + (r / d)^2) - 1)`` over the measured residuals
    (d = ``ROBUST_SCALE``); ``sum r^2`` for small r, ``2 d |r|`` for large."""
    z = np.asarray(r, float) / ROBUST_SCALE
    return float(np.nansum(2.0 * ROBUST_SCALE**2 * (np.sqrt(1.0 + z**2) - 1.0)))


def robust_weights(r):
    """Iteratively reweighted least-squares weights of the soft-L1 loss:
    ``1 / sqrt(1 + (r / d)^2)``."""
    return 1.0 / np.sqrt(1.0 + (np.asarray(r, float) / ROBUST_SCALE) ** 2)


@dataclass
class FitResult:
    """Fitted ``values`` (one row per parameter and group: ``parameter``, ``level``,
    ``family``, ``serving_stack``, ``value``, ``std_error``, its range ``low``/``high``,
    the ``rows`` it rests on) and the table with ``predicted_*`` and ``error_*_pct``."""

    values: pd.DataFrame
    rows: pd.DataFrame

    def shared(self) -> dict:
        """Workload values fitted once for all rows (level ``all``, ``SHARED_RANGES``):
        field -> value."""
        rows = self.values[
            (self.values["level"] == "all") & self.values["parameter"].isin(SHARED_RANGES)
        ]
        return dict(zip(rows["parameter"], rows["value"], strict=True))

    def scenario_fields(
        self, family: str, stack: str, bandwidth_tb_s: float = REFERENCE_BANDWIDTH_TB_S
    ) -> dict:
        """Scenario field -> fitted value for a GPU family on a stack (the group's own
        value, else its stack's or its family's, and the shared ones): what to set on a
        scenario to use the calibration. A fixed time pooled over families (level
        ``stack``) is carried to a GPU of HBM bandwidth ``bandwidth_tb_s`` [TB/s]
        (``overheads.fixed_time_scale``; the default, the reference's, leaves it as
        fitted). ``{}`` where nothing was fitted for them."""
        out = {}
        for level, fam, stk in (
            ("all", ANY_FAMILY, "all"),
            ("family", family, "all"),
            ("stack", ANY_FAMILY, stack),
            ("family_stack", family, stack),
        ):
            values = self.values
            mine = values[
                (values["level"] == level)
                & (values["family"] == fam)
                & (values["serving_stack"] == stk)
            ]
            scale = fixed_time_scale(bandwidth_tb_s) if level == "stack" else 1.0
            out.update(
                {
                    p: v * (scale if p in FIXED_TIME_PARAMETERS else 1.0)
                    for p, v in zip(mine["parameter"], mine["value"], strict=True)
                }
            )
        if "acceptance_at_t0" in out:
            out["acceptance_at_t1"] = out["acceptance_at_t0"]
        return {k: round(float(v), 4) for k, v in out.items()}

    def parameter_counts(self, catalog: Catalog | None = None) -> pd.Series:
        """Fitted stack values (``catalog.STACK_PARAMETERS``, at any level) each GPU
        family and stack of the table rests on (at most ``MAX_PARAMETERS_PER_GROUP``);
        workload values (``SHARED_RANGES``) are not stack values."""
        catalog = catalog or load_catalog()
        family = catalog.gpus.loc[self.rows["gpu"], "family"].to_numpy()
        pairs = pd.DataFrame({"family": family, "serving_stack": self.rows["serving_stack"]})
        pairs = pairs.drop_duplicates().sort_values(["family", "serving_stack"])
        grouped = self.values[self.values["parameter"].isin(STACK_PARAMETERS)]
        counts = [
            grouped[
                grouped["family"].isin([f, ANY_FAMILY]) & grouped["serving_stack"].isin([s, "all"])
            ]["parameter"].nunique()
            for f, s in pairs.itertuples(index=False)
        ]
        return pd.Series(counts, index=pd.MultiIndex.from_frame(pairs), name="fitted_values")


def suggested_parameters(table: pd.DataFrame, catalog: Catalog | None = None) -> dict:
    """The values a table can pin, per GPU family and stack (level ``family_stack``):

    - the weight streaming: ``moe_kernel_efficiency`` for a mixture of experts,
      ``bandwidth_efficiency`` for a dense model;
    - ``kernel_us`` when the rows span at least two batch sizes (the fixed time and the
      streaming then part);
    - ``allreduce_latency_us`` when tensor-parallel rows span at least two GPU counts;
    - ``acceptance_at_t0`` (level ``all``) when some rows decode speculatively.

    One vLLM run at one concurrency pins one value: the streaming efficiency.
    """
    catalog = catalog or load_catalog()
    experts = catalog.models.loc[table["model"], "n_experts"].to_numpy()
    streaming = "moe_kernel_efficiency" if (experts > 1).any() else "bandwidth_efficiency"
    out = {streaming: "family_stack"}
    if table["batch_size"].nunique() >= 2:
        out["kernel_us"] = "family_stack"
    tp = ~table.get("expert_parallel", pd.Series(False, index=table.index)).astype(bool)
    if table.loc[tp, "n_gpus"].nunique() >= 2:
        out["allreduce_latency_us"] = "family_stack"
    if table.get("speculative", pd.Series(False, index=table.index)).astype(bool).any():
        out["acceptance_at_t0"] = "all"
    return out


def _labels(table: pd.DataFrame, catalog: Catalog, level: str) -> np.ndarray:
    """Each row's group ``"family/stack"`` at ``level`` (``any`` / ``all`` where pooled)."""
    family = catalog.gpus.loc[table["gpu"], "family"].to_numpy().astype(str)
    stack = table["serving_stack"].astype(str).to_numpy()
    if level == "all":
        return np.full(len(table), f"{ANY_FAMILY}/all")
    if level == "stack":
        return np.char.add(f"{ANY_FAMILY}/", stack)
    if level == "family":
        return np.char.add(family, "/all")
    return np.char.add(np.char.add(family, "/"), stack)


def _row_scale(table: pd.DataFrame, catalog: Catalog, name: str, level: str) -> np.ndarray:
    """Each row's factor on a fitted value: a fixed time pooled over GPU families (level
    ``stack``) is stated at the reference memory system and carries to each row's GPU by
    ``overheads.fixed_time_scale``, as ``catalog.stack_value`` resolves it; else 1."""
    if level != "stack" or name not in FIXED_TIME_PARAMETERS:
        return np.ones(len(table))
    return fixed_time_scale(catalog.gpus.loc[table["gpu"], "bandwidth_tb_s"].to_numpy(float))


def bounds(name: str, catalog: Catalog | None = None) -> tuple:
    """Physical range ``(low, high)`` a fitted value of field ``name`` may take."""
    if name in SHARED_RANGES:
        return SHARED_RANGES[name]
    if name not in STACK_PARAMETERS:
        known = ", ".join((*STACK_PARAMETERS, *SHARED_RANGES))
        raise ValueError(f"parameters: each name must be one of {known}; got {name!r}")
    table = (catalog or load_catalog()).serving_stack_parameters.set_index("parameter")
    return float(table.loc[name, "low"]), float(table.loc[name, "high"])


def _checked(parameters: dict, catalog: Catalog) -> dict:
    if not isinstance(parameters, dict) or not parameters:
        raise ValueError("parameters: a dict of Scenario field -> level, at least one")
    for name, level in parameters.items():
        bounds(name, catalog)
        if level not in LEVELS:
            raise ValueError(f"parameters[{name!r}] must be one of {', '.join(LEVELS)}")
    per_group = sum(name in STACK_PARAMETERS for name in parameters)
    if per_group > MAX_PARAMETERS_PER_GROUP:
        raise ValueError(
            f"parameters: at most {MAX_PARAMETERS_PER_GROUP} values per GPU family and "
            f"stack; got {per_group}"
        )
    return parameters


def fit(
    table: pd.DataFrame, parameters: dict | None = None, catalog: Catalog | None = None
) -> FitResult:
    """Fit ``parameters`` (Scenario field -> level, ``LEVELS``; default
    ``DEFAULT_PARAMETERS``) to the measured rows of ``table`` (``calibration.table``).

    ``{"kernel_us": "stack", "acceptance_at_t0": "all"}`` fits one fixed time per kernel for
    each serving stack and one MTP acceptance for all rows. A group starts at what its
    rows resolve to with ``catalog`` and stays within its range (:func:`bounds`).
    ``ValueError`` for an unknown name or level, more than
    ``MAX_PARAMETERS_PER_GROUP`` per group, or a table without measured rows.
    """
    catalog = catalog or load_catalog()
    parameters = _checked(DEFAULT_PARAMETERS if parameters is None else parameters, catalog)
    table = table.reset_index(drop=True)
    if not np.isfinite(table[list(FIT_METRICS)].to_numpy(float)).any():
        raise ValueError(f"the table has no measured {' or '.join(FIT_METRICS)} to fit")
    start = resolved_fields(table, catalog, list(parameters))
    blocks, x0, lower, upper = [], [], [], []
    for name, level in parameters.items():
        low, high = bounds(name, catalog)
        codes, names = pd.factorize(_labels(table, catalog, level))
        scale = _row_scale(table, catalog, name, level)
        begin = start[name].to_numpy(float) / scale
        x0 += [float(np.clip(begin[codes == g].mean(), low, high)) for g in range(len(names))]
        lower += [low] * len(names)
        upper += [high] * len(names)
        blocks.append((name, level, codes, names, len(x0) - len(names), scale))
    x, lower, upper = np.array(x0), np.array(lower), np.array(upper)

    def overrides(x):
        out = {name: x[offset + codes] * scale for name, _, codes, _, offset, scale in blocks}
        if "acceptance_at_t0" in out:
            out["acceptance_at_t1"] = out["acceptance_at_t0"]
        return out

    def evaluate(x):
        return residuals(table, predict(table, catalog, overrides(x)))

    x, r = _levenberg_marquardt(evaluate, x, lower, upper, blocks)
    mask = ~np.isnan(r)
    J = _jacobian(evaluate, x, r, blocks, lower, upper, mask)
    errors = _std_errors(J, np.where(mask, r, 0.0).ravel(), int(mask.sum()))
    values = []
    for name, level, codes, names, offset, _ in blocks:
        for g, label in enumerate(names):
            family, stack = label.split("/")
            values.append(
                {
                    "parameter": name,
                    "level": level,
                    "family": family,
                    "serving_stack": stack,
                    "value": float(x[offset + g]),
                    "std_error": float(errors[offset + g]),
                    "low": float(lower[offset + g]),
                    "high": float(upper[offset + g]),
                    "rows": int((codes == g).sum()),
                }
            )
    return FitResult(pd.DataFrame(values), compared(table, predict(table, catalog, overrides(x))))


def compared(table: pd.DataFrame, predicted: pd.DataFrame) -> pd.DataFrame:
    """``table`` with ``predicted_<metric>`` and ``error_<metric>_pct`` (100 (p - m) / m)
    for each of ``FIT_METRICS``."""
    rows = table.copy()
    for name in FIT_METRICS:
        rows[f"predicted_{name}"] = predicted[name].to_numpy()
        rows[f"error_{name}_pct"] = 100.0 * (rows[f"predicted_{name}"] / table[name] - 1.0)
    return rows


def _levenberg_marquardt(evaluate, x, lower, upper, blocks):
    """Minimise ``robust_cost(evaluate(x))`` within ``[lower, upper]``: damped
    Gauss-Newton steps on the reweighted residuals, clipped to the bounds; the damping
    falls after a step that lowers the loss and rises after one that does not."""
    r = evaluate(x)
    cost, damping = robust_cost(r), DAMPING
    for _ in range(ITERATIONS):
        mask = ~np.isnan(r)
        J = _jacobian(evaluate, x, r, blocks, lower, upper, mask)
        resid = np.where(mask, r, 0.0).ravel()
        w = robust_weights(resid)
        A = J.T @ (w[:, None] * J)
        A = A + damping * np.diag(np.diag(A) + 1e-12)
        trial = np.clip(x - np.linalg.lstsq(A, J.T @ (w * resid), rcond=None)[0], lower, upper)
        r_trial = evaluate(trial)
        trial_cost = robust_cost(r_trial)
        if trial_cost < cost:
            done = cost - trial_cost < TOLERANCE * cost
            x, r, cost, damping = trial, r_trial, trial_cost, damping / 3.0
            if done:
                break
        else:
            damping *= 4.0
            if damping > 1e6:
                break
    return x, r


def _jacobian(evaluate, x, r, blocks, lower, upper, mask):
    """d r / d x as a (residuals, values) matrix. A value moves only its group's rows, so
    every group of one parameter is differenced in one evaluation."""
    m = r.size
    J = np.zeros((m, x.size))
    rows = np.repeat(np.arange(r.shape[0]), r.shape[1])
    for _, _, codes, names, offset, _ in blocks:
        index = offset + np.arange(len(names))
        h = DIFFERENCE_STEP * (upper[index] - lower[index])
        up = x[index] + h <= upper[index]
        moved = x.copy()
        moved[index] = np.where(up, x[index] + h, x[index] - h)
        step = np.where(up, h, -h)[codes][rows]
        J[np.arange(m), index[codes][rows]] = (evaluate(moved) - r).ravel() / step
    return np.nan_to_num(J) * mask.ravel()[:, None]


def _std_errors(J, r, n_residuals):
    """``sqrt(diag(s^2 (J'J)^-1))``, ``s^2`` the residual sum of squares over the
    residuals less the values (a value the rows do not pin reads large)."""
    dof = max(n_residuals - J.shape[1], 1)
    cov = float(r @ r) / dof * np.linalg.pinv(J.T @ J)
    return np.sqrt(np.clip(np.diag(cov), 0.0, None))


def stack_rows(result: FitResult, date: str, fitted_on: str = "") -> pd.DataFrame:
    """The fitted values as ``serving_stacks.csv`` rows, one per (stack, family) group:
    a stack's pooled values on family ``any``, a family's over every stack on stack
    ``any``. ``fitted_on`` names the measurements; ``note`` gives each value with its
    standard error. A stack value fitted for all rows (level ``all``) goes into every
    row; workload values (``SHARED_RANGES``) into none."""
    values = result.values[result.values["parameter"].isin(STACK_PARAMETERS)].copy()
    pooled = values[values["level"] == "all"]
    values = values[values["level"] != "all"]
    values["serving_stack"] = values["serving_stack"].replace("all", ANY_STACK)
    rows = []
    for (stack, family), group in values.groupby(["serving_stack", "family"], sort=False):
        group = pd.concat([group, pooled])
        note = "; ".join(f"{r.parameter} +/- {r.std_error:.2g}" for r in group.itertuples())
        rows.append(
            {
                "serving_stack": stack,
                "family": family,
                "date": date,
                **{r.parameter: round(r.value, 4) for r in group.itertuples()},
                "fitted_on": f"{int(group['rows'].max())} rows {fitted_on}".strip(),
                "source": FIT_SOURCE,
                "note": f"standard errors: {note}",
            }
        )
    return pd.DataFrame(rows)


def with_fit(catalog: Catalog, result: FitResult, date: str, fitted_on: str = "") -> Catalog:
    """``catalog`` whose fitted stack rows are ``result``'s (the priors kept)."""
    priors = without_fit(catalog).serving_stacks
    rows = pd.concat([priors, stack_rows(result, date, fitted_on)], ignore_index=True)
    return catalog.with_serving_stacks(rows)


def without_fit(catalog: Catalog) -> Catalog:
    """``catalog`` with only its prior stack rows: what a calibration starts from."""
    stacks = catalog.serving_stacks
    return catalog.with_serving_stacks(stacks[stacks["source"] != FIT_SOURCE])


def first_month(table: pd.DataFrame) -> str:
    """The month of a table's oldest run (``"2025-10"``), the date of the catalog rows
    fitted on it: a row holds from its date until a newer one, so every run it rests on
    resolves to it (``predict.stack_as_of``). ``"2000-01"`` for a table without dates."""
    dates = [d for d in table.get("date", pd.Series(dtype=str)).astype(str) if d[:4].isdigit()]
    return min(dates)[:7] if dates else "2000-01"


def shared_overrides(result: FitResult, n: int) -> dict:
    """The fit's level-``all`` values as ``predict`` overrides for n rows."""
    out = {name: np.full(n, value) for name, value in result.shared().items()}
    if "acceptance_at_t0" in out:
        out["acceptance_at_t1"] = out["acceptance_at_t0"]
    return out


def leave_one_gpu_out(
    table: pd.DataFrame, parameters: dict | None = None, catalog: Catalog | None = None
) -> pd.DataFrame:
    """Cross-validation: each GPU's rows predicted from a fit on the other GPUs' rows.

    The fit starts from the catalog's priors (:func:`without_fit`); the held-out GPU's
    family has no fitted row, so its values come as for a GPU never measured
    (``catalog.stack_value``: its stack pooled over the other families, its fixed times
    carried to the GPU by ``overheads.fixed_time_scale``, then the fallback stack, then
    the family's prior). ``parameters`` default to
    ``DEFAULT_PARAMETERS`` pooled per stack (level ``stack``). Returns the table with
    ``predicted_*``, ``error_*_pct`` and ``held_out`` (the GPU left out).
    """
    catalog = without_fit(catalog or load_catalog())
    if parameters is None:
        parameters = {
            k: ("stack" if v == "family_stack" else v) for k, v in DEFAULT_PARAMETERS.items()
        }
    table = table.reset_index(drop=True)
    out = []
    for gpu in pd.unique(table["gpu"]):
        train, test = table[table["gpu"] != gpu], table[table["gpu"] == gpu]
        result = fit(train, parameters, catalog)
        fitted = with_fit(catalog, result, first_month(train))
        predicted = predict(test, fitted, shared_overrides(result, len(test)))
        out.append(compared(test, predicted).assign(held_out=gpu))
    return pd.concat(out).sort_index()
