"""The seed document's claims C1-C14 as code: each with its text, pages and a check.

``check_all()`` (default: the seed's baseline, ``Scenario()``) gives one row per claim:
``id``, ``text``, ``status``, ``evidence`` (the numbers behind it), ``rule`` (how the
status is decided, stated once) and ``pages`` (the page files that show it). Every check
calls the analysis its page shows (``costmodel.analyses.<question>.run``), so a page's
chart and the claim's verdict come from the same numbers.

Statuses (``costmodel.status``, decided by its one rule ``status.decide``: holds when every
part holds, partly when some do): ``"holds"``, ``"partly"``, ``"does not hold"``. A claim
shown on a page from that page's analysis takes the analysis's ``<claim>_status``; a claim
of two analyses (C11, C14) combines their parts here. ``"shown"`` for facts the
explorer displays from its catalogs but does not compute (prices C1-C3, quality C12);
``"not applicable"`` where the scenario cannot show the claim (C7 and C11 on a dense
model; C5 at a $0 price or without both GPUs' prices).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from costmodel.analyses import gpu_comparison, memory_fit, moe_scaling, price_war, speculative
from costmodel.catalog import load_catalog
from costmodel.pricing import price_sheet
from costmodel.scenario import Scenario
from costmodel.status import FAILS, HOLDS, NOT_APPLICABLE, SHOWN, STATUSES, decide

#: The document's prices (C1-C3) [$ per million input, output tokens]; None: not stated.
DOCUMENT_PRICES = {
    "C1": {"OpenAI": (1.00, 2.00)},
    "C2": {"Mistral": (0.65, 1.96)},
    "C3": {
        "Together": (0.00, 0.60),
        "Perplexity": (0.14, 0.56),
        "Anyscale": (None, 0.50),
        "DeepInfra": (None, 0.27),
        "OpenRouter": (0.00, 0.00),
    },
}
PRICE_RULE = (
    "Shown when the catalog's December 2023 price sheet (assets/provider_prices.csv) holds "
    "the document's prices; does not hold where it differs."
)
C11_RULE = (
    f"{speculative.C11_RULE} {moe_scaling.PREFILL_RULE} C11 holds when both do, partly "
    "when one does."
)
C12_RULE = (
    "Shown from the catalog's quality measurements (assets/formats.csv): the explorer "
    "does not model quality."
)
C14_RULE = (
    "C14 holds when the H200 and the MI300X each cost less per million output tokens than "
    "both the H100 SXM and the A100 80GB (GPU comparison) and both hold the model in bf16 "
    "on one GPU (memory fit); partly when one of the two."
)


@dataclass(frozen=True)
class Verdict:
    """A claim's status (one of ``STATUSES``), the numbers behind it and the rule used."""

    id: str
    status: str
    evidence: str
    rule: str

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")


class _Runs:
    """Each analysis run at most once for one scenario and catalog (shared by the checks),
    at its default options: by ``run(analysis)`` when given (a caller's cached runs, so
    the analyses a page already ran are reused), else ``analysis.run``."""

    def __init__(self, scenario, catalog, run: Callable | None = None):
        self.scenario = scenario or Scenario()
        self.catalog = catalog or load_catalog()
        self._run = run or (lambda analysis: analysis.run(self.scenario, None, self.catalog))
        self._done = {}

    def __call__(self, analysis):
        if analysis not in self._done:
            self._done[analysis] = self._run(analysis)
        return self._done[analysis]


@dataclass(frozen=True)
class Claim:
    """One claim of the seed document: its id, text, the pages that show it, its check."""

    id: str
    text: str
    pages: tuple[str, ...]
    rule: str
    _check: Callable = field(repr=False, compare=False)

    def check(self, scenario=None, catalog=None) -> Verdict:
        """The verdict at ``scenario`` (default ``Scenario()``, the seed's baseline)."""
        return self._verdict(_Runs(scenario, catalog))

    def _verdict(self, runs: _Runs) -> Verdict:
        status, evidence = self._check(runs)
        return Verdict(self.id, status, evidence, self.rule)


def _money(value) -> str:
    return "not stated" if value is None else f"${value:.2f}"


def _seed_sheet(catalog) -> dict:
    """The catalog's December 2023 Mixtral sheet as provider -> row (a dict): the same
    for every scenario, so made once per catalog (``Catalog.prepared``)."""
    sheet = price_sheet("mixtral-8x7b", price_war.SEED_DATE, catalog, reference=price_war.REFERENCE)
    return {row["provider"]: row for row in sheet.to_dict("records")}


def _prices(claim_id: str):
    """C1-C3: the document's prices against the catalog's December 2023 sheet."""

    def check(runs: _Runs):
        sheet = runs.catalog.prepared(_seed_sheet)
        parts, same = [], True
        for provider, stated in DOCUMENT_PRICES[claim_id].items():
            if provider not in sheet:
                parts.append(f"{provider}: not in the catalog's {price_war.SEED_DATE} sheet")
                same = False
                continue
            row = sheet[provider]
            listed = (row["usd_per_million_input"], row["usd_per_million_output"])
            same &= all(s is None or abs(s - v) < 5e-3 for s, v in zip(stated, listed, strict=True))
            parts.append(
                f"{provider} ({row['model']}, {row['date']}): ${listed[0]:.2f} in / "
                f"${listed[1]:.2f} out per million tokens (document: {_money(stated[0])} / "
                f"{_money(stated[1])})"
            )
        return (SHOWN if same else FAILS), "; ".join(parts) + "."

    return check


def _reported(analysis, name: str) -> Callable:
    """A check that takes ``<name>_status`` and ``<name>_text`` from the analysis's Result."""

    def check(runs: _Runs):
        result = runs(analysis)
        return getattr(result, f"{name}_status"), getattr(result, f"{name}_text")

    return check


def _c11(runs):
    spec, moe = runs(speculative), runs(moe_scaling)
    if moe.is_dense:
        return NOT_APPLICABLE, f"{moe.c7_text} {spec.c11_text}"
    parts = (spec.c11_status == HOLDS, moe.prefill_status == HOLDS)
    status = decide(all(parts), any(parts))
    return status, f"{spec.c11_text} {moe.prefill_text}"


def _c12(runs):
    quality = runs(memory_fit).quality
    parts = [
        f"{fmt}: {quality.loc[fmt, 'accuracy_change']}"
        for fmt in ("fp8", "int8", "int4")
        if fmt in quality.index
    ]
    return SHOWN, "Catalog quality measurements against bf16 — " + "; ".join(parts) + "."


def _c14(runs):
    gpus, fit = runs(gpu_comparison), runs(memory_fit)
    one_gpu = all(g in fit.single_gpu for g in gpu_comparison.C14_BIG)
    parts = (bool(gpus.c14_holds), one_gpu)
    return decide(all(parts), any(parts)), f"{gpus.c14_text} {fit.c14_text}"


_GPU, _PRICE, _MOE, _SPEC, _QUANT = (
    "gpu_comparison",
    "price_war",
    "moe_batch_scaling",
    "speculative_decoding",
    "quantization_fit",
)

#: The claims, in the document's order (text from the seed's README).
CLAIMS: tuple[Claim, ...] = (
    Claim(
        "C1",
        "OpenAI GPT-3.5 Turbo: $1.00 per million input tokens, $2.00 per million output tokens",
        (_PRICE,),
        PRICE_RULE,
        _prices("C1"),
    ),
    Claim(
        "C2",
        "Mistral's own Mixtral API: $0.65 input / $1.96 output per million tokens",
        (_PRICE,),
        PRICE_RULE,
        _prices("C2"),
    ),
    Claim(
        "C3",
        "Then, within hours: Together $0.60 output and no input charge; Perplexity $0.14 input "
        "/ $0.56 output; Anyscale $0.50 output; DeepInfra $0.27 output; OpenRouter free (with "
        "tight rate limits)",
        (_PRICE,),
        PRICE_RULE,
        _prices("C3"),
    ),
    Claim(
        "C4",
        "Even optimistically (2x H100, BF16, $1.95 per GPU-hour, running 24/7 at a large "
        "batch), Mistral's price barely breaks even; all of these providers lose money",
        (_PRICE, _GPU),
        price_war.C4_RULE,
        _reported(price_war, "c4"),
    ),
    Claim(
        "C5",
        "2x H100 is not the best choice for Mixtral: 2x A100 80GB gives about 32% more memory "
        "bandwidth per dollar (at similar bandwidth utilisation), and the A100's lower FLOPS "
        "barely matter for decode",
        (_GPU,),
        gpu_comparison.C5_RULE,
        _reported(gpu_comparison, "c5"),
    ),
    Claim(
        "C6",
        "At today's collapsed prices even 2x A100 cannot make a profit",
        (_PRICE,),
        price_war.C6_RULE,
        _reported(price_war, "c6"),
    ),
    Claim(
        "C7",
        "MoE at batch 1 reads only a small part of the weights (2 of 8 experts per token); as "
        "the batch grows more experts are hit until every forward pass reads all parameters, "
        "while each token still goes through only 2 experts. So MoE needs more bandwidth than "
        "a dense model, and batching lowers its cost less than it lowers a dense model's",
        (_MOE,),
        moe_scaling.C7_RULE,
        _reported(moe_scaling, "c7"),
    ),
    Claim(
        "C8",
        "This is one main reason models cannot just add ever more experts",
        (_MOE,),
        moe_scaling.C8_RULE,
        _reported(moe_scaling, "c8"),
    ),
    Claim(
        "C9",
        "A well-optimised provider (Together) reached about 170 tokens/s per sequence at "
        "temperature 0 and about 80 tokens/s on harder prompts at temperature 2; the gap "
        "points to speculative decoding",
        (_SPEC,),
        speculative.C9_RULE,
        _reported(speculative, "c9"),
    ),
    Claim(
        "C10",
        "Speculative decoding: a small draft model proposes tokens, the large model checks "
        "them in one pass; it cuts memory bandwidth per token. Low temperature makes drafts "
        "more likely to be accepted; high temperature less",
        (_SPEC,),
        speculative.C10_RULE,
        _reported(speculative, "c10"),
    ),
    Claim(
        "C11",
        "Speculative decoding helps MoE much less: draft tokens are routed to different "
        "experts, so bandwidth per step grows with the batch; MoE prefill is also dearer per "
        "token than dense",
        (_SPEC, _MOE),
        C11_RULE,
        _c11,
    ),
    Claim(
        "C12",
        "FP8 inference is possible without quality loss; INT4 on such large models is not "
        "viable for quality; careless quantisation by cheap providers degrades output",
        (_QUANT,),
        C12_RULE,
        _c12,
    ),
    Claim(
        "C13",
        "FP8 still needs 2 GPUs (H100 or A100), because of KV-cache size at the 40-50+ "
        "concurrent users a chat service needs",
        (_QUANT,),
        memory_fit.C13_RULE,
        _reported(memory_fit, "c13"),
    ),
    Claim(
        "C14",
        "H200 (141 GB) and MI300X (192 GB in the vendor's specification; the text says 196) "
        "with more bandwidth have better cost per token than A100 and H100; dropping tensor "
        "parallelism (whose all-reduce is poor today) is a large gain",
        (_GPU, _QUANT),
        C14_RULE,
        _c14,
    ),
)
BY_ID = {claim.id: claim for claim in CLAIMS}


def check(claim_id: str, scenario=None, catalog=None) -> Verdict:
    """The verdict of one claim (``"C1"`` to ``"C14"``) at ``scenario``."""
    if claim_id not in BY_ID:
        raise ValueError(f"claim_id must be one of {', '.join(BY_ID)}; got {claim_id!r}")
    return BY_ID[claim_id].check(scenario, catalog)


def check_all(scenario=None, catalog=None, ids=None, run: Callable | None = None) -> pd.DataFrame:
    """Every claim's verdict at ``scenario`` (default: the seed's baseline), 14 rows; with
    ``ids`` (claim ids, e.g. a page's ``("C4", "C5")``) only those, in document order.

    Columns ``id``, ``text``, ``status``, ``evidence``, ``rule``, ``pages`` (a tuple of
    page file stems). Each analysis the chosen claims need runs once for all of them:
    ``run(module)`` when given must return ``module.run(scenario, module.Options(),
    catalog)`` (the app passes its cached runs, so a page's own analysis is not run
    twice).
    """
    unknown = set(ids or ()) - set(BY_ID)
    if unknown:
        raise ValueError(f"ids must be among {', '.join(BY_ID)}; got {sorted(unknown)}")
    runs = _Runs(scenario, catalog, run)
    rows = []
    for claim in CLAIMS if ids is None else [c for c in CLAIMS if c.id in ids]:
        verdict = claim._verdict(runs)
        rows.append(
            {
                "id": claim.id,
                "text": claim.text,
                "status": verdict.status,
                "evidence": verdict.evidence,
                "rule": verdict.rule,
                "pages": claim.pages,
            }
        )
    return pd.DataFrame(rows)
