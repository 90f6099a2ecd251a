"""Why two scenarios differ: the Shapley attribution of an output's change to the fields.

For scenarios A and B that differ in k fields, let ``v(S)`` be the output of the mixed
scenario that takes the fields in S from B and the rest from A (``v({}) = A``,
``v(all) = B``). Field j's share of ``v(all) - v({})`` is its Shapley value

    phi_j = sum over S not holding j of |S|! (k - |S| - 1)! / k! * (v(S + j) - v(S)),

its marginal effect averaged over all k! orders of switching the fields from A to B. The
shares add up to the whole difference and do not depend on the order the fields are
listed in; an interaction between two fields is split equally between them. All 2^k
mixed scenarios are evaluated in one vectorised ``scan``.

Mixed scenarios are evaluated as they are: each field's value comes from A or from B, so
each is valid on its own, and a mix that does not fit in memory still has a cost
(``fits`` is an output, not an error; ``compare`` says how many mixes do not fit). Fields
that a rule of the evaluation ties together (``n_gpus`` must split the model's heads or
experts, MTP needs speculative decoding, prompt and output must fit the context window,
acceptance at T=1 may not exceed that at T=0) and whose crossed mixes are rejected move
together, as one row named ``"first+second"`` (``players``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from costmodel.catalog import Catalog, load_catalog
from costmodel.evaluation import (
    CONSISTENCY_FIELDS,
    OUTPUT_COLUMNS,
    check_ids,
    scan,
    valid_rows,
)
from costmodel.fields import FIELD_LABELS, FIELD_NAMES
from costmodel.outputs import label as output_label
from costmodel.scenario import Scenario

#: Most fields two scenarios may differ in: 2^12 = 4,096 mixed scenarios in one scan.
MAX_CHANGED_FIELDS = 12

#: Outputs ``compare`` shows side by side (the metric asked for is added if missing).
KEY_OUTPUTS = (
    "usd_per_million_output_tokens",
    "usd_per_million_input_tokens",
    "usd_per_request",
    "tokens_per_s_per_user",
    "output_tokens_per_s_per_gpu",
    "ttft_ms",
    "tpot_ms",
    "memory_required_gb",
    "memory_available_gb",
    "fits",
)

#: Columns of the ``attribution`` table.
ATTRIBUTION_COLUMNS = ("field", "label", "from", "to", "delta")


def changed_fields(a: Scenario, b: Scenario) -> tuple[str, ...]:
    """The ``Scenario`` fields whose values differ between ``a`` and ``b``, in field order."""
    return tuple(name for name in FIELD_NAMES if getattr(a, name) != getattr(b, name))


def shapley_values(values) -> np.ndarray:
    """Shapley value of each of k players from ``values[mask]``, the game on all 2^k subsets.

    Bit j of ``mask`` set means player j is in the subset. Returns k values that add up
    to ``values[-1] - values[0]``. Two players, v = [0, 1, 2, 5]: player 0 gets
    (1 - 0) / 2 + (5 - 2) / 2 = 2, player 1 gets (2 - 0) / 2 + (5 - 1) / 2 = 3.
    """
    values = np.asarray(values, float)
    k = len(values).bit_length() - 1
    if len(values) != 2**k:
        raise ValueError(f"values must hold 2^k entries (one per subset); got {len(values)}")
    if k == 0:
        return np.zeros(0)
    masks = np.arange(2**k)
    players = 1 << np.arange(k)
    absent = (masks[:, None] & players) == 0
    size = k - absent.sum(1)
    # Weight of a subset of size s that player j joins: s! (k - s - 1)! / k!.
    weight = np.array([math.factorial(s) * math.factorial(k - s - 1) for s in range(k)], float)
    weight /= math.factorial(k)
    marginal = values[masks[:, None] | players] - values[:, None]
    return np.where(absent, weight[np.minimum(size, k - 1)][:, None] * marginal, 0.0).sum(0)


def _check_metric(metric: str) -> None:
    if metric not in OUTPUT_COLUMNS:
        raise ValueError(f"metric must be one of {', '.join(OUTPUT_COLUMNS)}; got {metric!r}")


def _valid_mixes(a: Scenario, b: Scenario, fields: tuple[str, ...], catalog: Catalog):
    """Whether each of the 2^m mixes of ``fields`` (bit j of the index: B's value of field
    j, the rest A's) keeps the evaluation's rules (``evaluation.valid_rows``), [bool]."""
    check_ids(b, catalog)
    masks = np.arange(2 ** len(fields))
    columns = {
        name: [(getattr(a, name), getattr(b, name))[bit] for bit in (masks >> j) & 1]
        for j, name in enumerate(fields)
    }
    return valid_rows(a, catalog, **columns) if fields else np.ones(1, bool)


def _unions(groups: list[tuple[int, ...]]) -> np.ndarray:
    """The field masks a partition into ``groups`` (of field positions) can mix."""
    bits = np.array([sum(1 << j for j in g) for g in groups], dtype=int)
    take = (np.arange(2 ** len(groups))[:, None] >> np.arange(len(groups))) & 1
    return (take * bits).sum(1)


def _merged(groups: list[tuple[int, ...]], i: int, k: int) -> list[tuple[int, ...]]:
    """``groups`` with groups ``i`` and ``k`` made one, sorted."""
    rest = [g for n, g in enumerate(groups) if n not in (i, k)]
    return sorted([*rest, tuple(sorted(groups[i] + groups[k]))])


def players(a: Scenario, b: Scenario, catalog: Catalog | None = None) -> list[tuple[str, ...]]:
    """The changed fields as the players of the attribution, in field order.

    Each changed field is a player, unless some mix of A's and B's values breaks a rule
    of the evaluation (GPUs that cannot split the model's heads or experts, MTP without
    speculative decoding or MTP layers, acceptance rising with temperature, a request
    beyond the context window): then the fields are merged, two groups at a time (the
    merge that leaves the fewest rejected mixes, the earlier fields first on a tie),
    until every mix is accepted. A and B being valid, merging all would do; the result
    is the finest grouping this greedy search finds.
    """
    catalog = catalog or load_catalog()
    changed = changed_fields(a, b)
    fields = tuple(name for name in changed if name in CONSISTENCY_FIELDS)
    valid = _valid_mixes(a, b, fields, catalog)
    groups = [(j,) for j in range(len(fields))]
    while not valid[_unions(groups)].all():
        pairs = [(i, k) for i in range(len(groups)) for k in range(i + 1, len(groups))]
        tries = (_merged(groups, i, k) for i, k in pairs)
        groups = min(tries, key=lambda g: (~valid[_unions(g)]).sum())
    found = {fields[g[0]]: tuple(fields[j] for j in g) for g in groups}
    return [found.get(name, (name,)) for name in changed if name in found or name not in fields]


def _mixed_scenarios(a: Scenario, b: Scenario, catalog: Catalog) -> tuple[list, pd.DataFrame]:
    """The players and the ``scan`` of all 2^k mixes (row ``mask``: B's players in it)."""
    groups = players(a, b, catalog)
    if len(groups) > MAX_CHANGED_FIELDS:
        names = [name for group in groups for name in group]
        raise ValueError(
            f"attribution: {len(names)} fields differ ({', '.join(names)}); at most "
            f"MAX_CHANGED_FIELDS = {MAX_CHANGED_FIELDS} can be attributed "
            f"(2^{MAX_CHANGED_FIELDS} = {2**MAX_CHANGED_FIELDS} mixed scenarios)"
        )
    masks = np.arange(2 ** len(groups))
    columns = {
        name: np.array([getattr(a, name), getattr(b, name)], dtype=object)[(masks >> j) & 1]
        for j, group in enumerate(groups)
        for name in group
    }
    return groups, scan(a, catalog, **columns)


def _value(scenario: Scenario, group: tuple[str, ...]):
    values = tuple(getattr(scenario, name) for name in group)
    return values[0] if len(values) == 1 else values


def _table(a: Scenario, b: Scenario, groups: list, values) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "field": ["+".join(group) for group in groups],
            "label": [" + ".join(FIELD_LABELS[name] for name in group) for group in groups],
            "from": pd.Series([_value(a, group) for group in groups], dtype=object),
            "to": pd.Series([_value(b, group) for group in groups], dtype=object),
            "delta": shapley_values(values),
        },
        columns=list(ATTRIBUTION_COLUMNS),
    )


def attribution(
    a: Scenario,
    b: Scenario,
    metric: str = "usd_per_million_output_tokens",
    catalog: Catalog | None = None,
) -> pd.DataFrame:
    """How much each changed field contributes to ``evaluate(b)[metric] - evaluate(a)[metric]``.

    One row per field that differs, in ``Scenario`` field order: ``field``, ``from`` (A's
    value), ``to`` (B's value), ``delta`` (its Shapley share, in the metric's unit). The
    deltas add up to the difference (to float rounding). A coupled pair that cannot be
    mixed is one row, ``field`` ``"acceptance_at_t0+acceptance_at_t1"`` with tuples as
    ``from`` and ``to`` (see ``players``). ``metric`` is any key of ``OUTPUT_COLUMNS``
    (``fits`` counts as 0/1); a metric that is infinite in some mix (bandwidth per dollar
    at a zero price) gives non-finite deltas. At most ``MAX_CHANGED_FIELDS`` rows.
    Example: A on H100 at $2/h, B on H200 at $3/h: price and GPU each get their own
    effect plus half of their interaction.
    """
    _check_metric(metric)
    groups, mixes = _mixed_scenarios(a, b, catalog or load_catalog())
    return _table(a, b, groups, mixes[metric].to_numpy(float))


@dataclass(frozen=True)
class Comparison:
    """Two scenarios side by side and why ``metric`` differs between them.

    ``outputs``: one row per output of ``KEY_OUTPUTS`` (and ``metric``) with columns
    ``output``, ``a``, ``b``, ``difference`` (b - a) and ``change_pct`` (100 (b - a) / a;
    NaN where a is 0). ``attribution``: the ``attribution`` table of ``metric``.
    ``a_value``, ``b_value``: the metric in A and B. ``driver``: the field with the
    largest |delta| (None when nothing differs). ``mixes_not_fitting``: how many of the
    ``n_mixes`` mixed scenarios (A and B included) do not fit in memory. ``text``: one
    sentence naming the biggest driver with its numbers.
    """

    metric: str
    a_value: float
    b_value: float
    outputs: pd.DataFrame
    attribution: pd.DataFrame
    driver: str | None
    n_mixes: int
    mixes_not_fitting: int
    text: str

    @property
    def difference(self) -> float:
        """``b_value - a_value``, in the metric's unit."""
        return self.b_value - self.a_value


def value_text(value, field: str, catalog: Catalog) -> str:
    """A player's value in words (an ``attribution`` row's ``from`` or ``to`` and its
    ``field``): a model's or GPU's name, on/off, the family default, values of several
    fields joined by "and"."""
    if isinstance(value, tuple):  # a player of several fields
        fields = field.split("+")
        return " and ".join(value_text(v, f, catalog) for v, f in zip(value, fields, strict=True))
    if value is None:
        return "the GPU family's default"
    if isinstance(value, bool):
        return "on" if value else "off"
    if field in ("model", "gpu"):
        return catalog.names(f"{field}s", [value])[0]
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _driver(table: pd.DataFrame) -> pd.Series | None:
    """The attribution row with the largest |delta|; None for an empty table."""
    return None if table.empty else table.loc[table["delta"].abs().idxmax()]


def _sentence(metric, a_value, b_value, table, mixes_not_fitting, n_mixes, catalog) -> str:
    """The comparison in one sentence, in words (the metric's and fields' labels, names)."""
    change = b_value - a_value
    metric = output_label(metric)
    head = f"{metric} goes from {a_value:.4g} in A to {b_value:.4g} in B ({change:+.4g})"
    top = _driver(table)
    if top is None:
        return f"A and B are the same scenario: {metric} is {a_value:.4g} in both."
    was, now = (value_text(top[end], top["field"], catalog) for end in ("from", "to"))
    text = (
        f"{head}; the biggest driver is {top['label']} ({was} to {now}) with "
        f"{top['delta']:+.4g} of the {change:+.4g}."
    )
    if mixes_not_fitting:
        text += (
            f" {mixes_not_fitting} of the {n_mixes} mixed scenarios do not fit in memory;"
            " their values count as computed."
        )
    return text


def compare(
    a: Scenario,
    b: Scenario,
    catalog: Catalog | None = None,
    metric: str = "usd_per_million_output_tokens",
) -> Comparison:
    """Both scenarios' key outputs, their difference and its attribution (one ``scan``).

    The scan of the 2^k mixes holds A (row 0) and B (the last row), so the side-by-side
    outputs and the attribution come from the same evaluation.
    """
    _check_metric(metric)
    catalog = catalog or load_catalog()
    groups, mixes = _mixed_scenarios(a, b, catalog)
    shown = list(dict.fromkeys((*KEY_OUTPUTS, metric)))
    a_row = mixes[shown].iloc[0].astype(float).to_numpy()
    b_row = mixes[shown].iloc[-1].astype(float).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        change_pct = np.where(a_row != 0, 100 * (b_row - a_row) / a_row, np.nan)
    outputs = pd.DataFrame(
        {
            "output": shown,
            "a": a_row,
            "b": b_row,
            "difference": b_row - a_row,
            "change_pct": change_pct,
        }
    )
    values = mixes[metric].to_numpy(float)
    table = _table(a, b, groups, values)
    not_fitting = int((~mixes["fits"].to_numpy(bool)).sum())
    return Comparison(
        metric=metric,
        a_value=float(values[0]),
        b_value=float(values[-1]),
        outputs=outputs,
        attribution=table,
        driver=None if table.empty else str(_driver(table)["field"]),
        n_mixes=len(mixes),
        mixes_not_fitting=not_fitting,
        text=_sentence(metric, values[0], values[-1], table, not_fitting, len(mixes), catalog),
    )
