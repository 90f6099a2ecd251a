"""Valid scenarios by construction: a scenario with changes, adapted to the rules that need
the catalog, with every adaptation named.

``Scenario`` checks each field alone; the rules that tie fields to the model (GPU counts
that split its heads, expert parallelism needing experts, the context window, MTP
needing its layers, acceptance falling with temperature) are checked when it is
evaluated (``evaluation.check_consistency``). :func:`adapted` applies changes and then
moves each field that breaks a rule to the nearest value that keeps it, saying what
changed and why; ids the catalog lacks cannot be adapted (``ValueError``). The sidebar
uses it when a change of model makes a value invalid. Every analysis that builds a
scenario of its own does so through :func:`derive`, which returns a valid scenario (with
what moved) or the reason there is none, and never raises: no derived scenario is one
the library refuses.

The rules, in the order they are applied:

1. ``expert_parallel`` needs a mixture-of-experts model: off for a dense one.
2. ``mtp`` needs ``speculative`` and a model with multi-token-prediction layers: off.
3. ``acceptance_at_t1 <= acceptance_at_t0``: the rate at T = 1 lowered to that at T = 0.
4. ``prompt_tokens + output_tokens`` within the model's window: the output kept (at most
   half the window), the prompt cut to the rest.
5. ``n_gpus`` (and ``prefill_gpus`` when disaggregated): under expert parallelism at most
   ``n_experts + redundant_experts``; under tensor parallelism the nearest allowed size
   (``evaluation.tensor_parallel_sizes``), the larger one on a tie.
"""

from __future__ import annotations

from dataclasses import dataclass

from costmodel.catalog import Catalog, load_catalog
from costmodel.evaluation import check_ids, check_scenario, tensor_parallel_sizes
from costmodel.fields import FIELDS
from costmodel.scenario import Scenario


@dataclass(frozen=True)
class Change:
    """One adapted field: its ``field`` name, the value ``was`` and ``now``, and ``why``."""

    field: str
    was: object
    now: object
    why: str

    @property
    def text(self) -> str:
        """ "GPUs per replica: 3 -> 4 (...)", in words."""
        label = FIELDS[self.field].label
        return f"{label}: {_shown(self.was)} → {_shown(self.now)} ({self.why})"


def _shown(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:,}" if isinstance(value, int) else str(value)


@dataclass(frozen=True)
class Adapted:
    """A valid scenario and the changes that made it so (empty when none were needed)."""

    scenario: Scenario
    changes: tuple[Change, ...] = ()

    @property
    def text(self) -> str:
        """The changes in one sentence ("" when none)."""
        return "; ".join(c.text for c in self.changes)


def nearest(allowed: list[int], n: int) -> int:
    """The value of ``allowed`` nearest ``n`` (the larger on a tie): 3 of [1, 2, 4, 8] -> 4."""
    return min(allowed, key=lambda a: (abs(a - n), -a))


def _gpus(field: str, s: Scenario, row: dict, catalog: Catalog) -> tuple[int, str] | None:
    """The allowed value of GPU count ``field`` nearest the scenario's, and why; None if ok."""
    n = getattr(s, field)
    if s.expert_parallel:
        most = int(row["n_experts"]) + s.redundant_experts
        if n <= most:
            return None
        return most, f"expert parallelism puts at least one of {most} experts on each GPU"
    sizes = tensor_parallel_sizes(s.model, catalog)
    if n in sizes:
        return None
    heads, kv = int(row["n_heads"]), int(row["n_kv_heads"])
    why = f"tensor parallelism must split {heads} attention heads and {kv} KV heads"
    return nearest(sizes, n), why


#: The model columns the rules read.
_RULE_COLUMNS = ("name", "n_experts", "mtp_layers", "context_window", "n_heads", "n_kv_heads")


def _rule_rows(catalog: Catalog) -> dict[str, dict]:
    """Model id -> its ``_RULE_COLUMNS`` as Python values (``Catalog.prepared``: a row
    of the wide model table costs 0.07 ms, a scenario adapted looks up two)."""
    models = catalog.models
    columns = [models[c].tolist() for c in _RULE_COLUMNS]
    return {
        model: dict(zip(_RULE_COLUMNS, values, strict=True))
        for model, *values in zip(models.index, *columns, strict=True)
    }


def _repairs(s: Scenario, catalog: Catalog) -> dict[str, tuple[object, str]]:
    """Field -> (its adapted value, why) for each rule ``s`` breaks, in rule order."""
    row = catalog.prepared(_rule_rows)[s.model]
    name = row["name"]
    fixed: dict[str, tuple[object, str]] = {}
    if s.expert_parallel and int(row["n_experts"]) <= 1:
        fixed["expert_parallel"] = (False, f"{name} has no experts to spread")
    if s.mtp and (not s.speculative or int(row["mtp_layers"]) <= 0):
        why = "MTP drafts need speculative decoding"
        if int(row["mtp_layers"]) <= 0:
            why = f"{name} has no multi-token-prediction layers"
        fixed["mtp"] = (False, why)
    if s.acceptance_at_t1 > s.acceptance_at_t0:
        fixed["acceptance_at_t1"] = (
            s.acceptance_at_t0,
            "drafts are accepted less often at a higher temperature",
        )
    window = int(row["context_window"])
    if s.prompt_tokens + s.output_tokens > window:
        output = min(s.output_tokens, window // 2)
        why = f"{name}'s context window is {window:,} tokens"
        if output != s.output_tokens:
            fixed["output_tokens"] = (output, why)
        fixed["prompt_tokens"] = (window - output, why)
    return fixed


def adapted(scenario: Scenario, catalog: Catalog | None = None, **changes) -> Adapted:
    """``scenario`` with ``changes``, each field that breaks a rule moved to the nearest
    value that keeps it (the module's rules), and the list of what moved.

    ``ValueError`` when it cannot be made valid: a model, GPU or format id the catalog
    lacks (naming the field and the allowed ids), or a field out of its range. The
    result always passes ``evaluation.check_scenario``.

    >>> a = adapted(Scenario(), model="llama-3.1-70b", n_gpus=3)  # doctest: +SKIP
    >>> a.scenario.n_gpus, a.changes[0].field
    (4, 'n_gpus')
    """
    catalog = catalog or load_catalog()
    s = scenario.replace(**changes) if changes else scenario
    check_ids(s, catalog)
    repairs = _repairs(s, catalog)
    made = [Change(f, getattr(s, f), value, why) for f, (value, why) in repairs.items()]
    if repairs:
        s = s.replace(**{f: value for f, (value, _) in repairs.items()})
    row = catalog.prepared(_rule_rows)[s.model]
    for field in ("n_gpus", "prefill_gpus") if s.disaggregated else ("n_gpus",):
        moved = _gpus(field, s, row, catalog)
        if moved is not None:
            made.append(Change(field, getattr(s, field), moved[0], moved[1]))
            s = s.replace(**{field: moved[0]})
    check_scenario(s, catalog)  # by construction; a failure here is a bug in the rules
    return Adapted(s, tuple(made))


@dataclass(frozen=True)
class Derived:
    """What :func:`derive` gives: a valid ``scenario`` and the ``changes`` that made it
    so, or ``scenario`` None and the ``reason`` it cannot be built."""

    scenario: Scenario | None
    changes: tuple[Change, ...] = ()
    reason: str = ""

    @property
    def text(self) -> str:
        """The changes in one sentence, or the reason ("" when neither)."""
        return self.reason or "; ".join(c.text for c in self.changes)


def derive(
    scenario: Scenario, catalog: Catalog | None = None, *, adapt: bool = True, **changes
) -> Derived:
    """The one way an analysis builds a scenario of its own: ``scenario`` with ``changes``,
    valid by construction, or the reason it cannot be.

    ``adapt=True``: the fields that break a rule move as :func:`adapted` moves them (named
    in ``changes``); ``adapt=False``: for a derivation that must not move a field (a GPU
    count the model cannot use is skipped, not replaced), any broken rule is the reason.
    A value out of its field's range or an id the catalog lacks is always a reason. Never
    raises for a valid ``scenario`` and changes of the right types.

    >>> d = derive(Scenario(), model="llama-3.1-70b", n_gpus=3, adapt=False)  # doctest: +SKIP
    >>> d.scenario, d.reason[:9]
    (None, 'n_gpus=3 ')
    """
    catalog = catalog or load_catalog()
    try:
        if adapt:
            made = adapted(scenario, catalog, **changes)
            return Derived(made.scenario, made.changes)
        s = scenario.replace(**changes) if changes else scenario
        check_scenario(s, catalog)
    except ValueError as err:
        return Derived(None, (), str(err))
    return Derived(s)
