"""costmodel.claims: C1-C14 checked by the analyses their pages show."""

import ast
import dataclasses
import re
from pathlib import Path

import pandas as pd
import pytest

import costmodel
from costmodel import claims, status
from costmodel.analyses import gpu_comparison, memory_fit, moe_scaling, price_war, speculative
from costmodel.pricing import price_gpus

TABLE = claims.check_all().set_index("id")
ROOT = Path(__file__).resolve().parent.parent


def test_fourteen_claims_with_numbers():
    assert list(TABLE.index) == [f"C{i}" for i in range(1, 15)]
    assert list(claims.check_all().columns) == ["id", "text", "status", "evidence", "rule", "pages"]
    assert TABLE["status"].isin(claims.STATUSES).all()
    assert TABLE["evidence"].map(lambda e: bool(re.search(r"\d", e))).all()
    assert (TABLE["rule"].str.len() > 20).all()


def test_pages_exist():
    folders = [ROOT / "pages", ROOT / "app_pages"]
    for pages in TABLE["pages"]:
        assert pages and all(any((f / f"{p}.py").exists() for f in folders) for p in pages)


def test_verdicts_at_the_seed_baseline():
    status, evidence = TABLE["status"], TABLE["evidence"]
    assert (status["C1"], status["C2"], status["C3"], status["C12"]) == ("shown",) * 4
    assert "$0.65 in / $1.96 out" in evidence["C2"]
    # C4: Mistral's revenue per request (512 x $0.65 + 256 x $1.96) / 1e6 = $834.56e-6
    # against our cost ($259e-6 in the model of 2026-12-01: +69 %, batch 12, 31 %).
    seed, revenue = costmodel.Scenario(), 834.56e-6
    cost = costmodel.evaluate(seed)["usd_per_request"]
    batch = costmodel.break_even_batch_size(seed, revenue)[0]
    for words in (
        f"{100 * (1 - cost / revenue):+.0f}% of revenue",
        f"batch ≥ {batch:.0f}",
        f"utilisation ≥ {cost / revenue:.0%}",
    ):
        assert words in evidence["C4"]
    if 100 * (1 - cost / revenue) > price_war.EVEN_BAND_PCT:  # Mistral profits: not "barely"
        assert status["C4"] != "holds"
    # C5: A100 2.039 TB/s at its newest on-demand price against H100 3.35 TB/s at $1.95
    # ($1.89: 1.0788 / 1.7179 - 1 = -37 %); +32 % needs 2.039 x 1.95 / (3.35 x 1.32) = $0.90.
    p_a = price_gpus(["a100-80gb-sxm"])["usd_per_gpu_hour"][0]
    assert p_a == 1.89
    advantage = 100 * ((2.039 / p_a) / (3.35 / 1.95) - 1)
    assert f"{abs(advantage):.0f}% {'more' if advantage >= 0 else 'less'}" in evidence["C5"]
    assert "$0.90/GPU-hour" in evidence["C5"]
    if advantage < 22:
        assert status["C5"] in ("partly", "does not hold")
    # C9: the preset's speeds in the evidence, and the status from the ±10 % tolerance.
    spec = speculative.run()
    ours = spec.c9_preset_tokens_per_s
    assert f"{ours[0.0]:.1f}" in evidence["C9"] and f"{ours[2.0]:.1f}" in evidence["C9"]
    close = abs(ours[0.0] / 170 - 1) <= 0.1 and abs(ours[2.0] / 80 - 1) <= 0.1
    assert (status["C9"] == "holds") == close
    assert f"only {spec.speedup_vs_batch.loc[1, speculative.MOE]:.2f}x" in evidence["C11"]
    # C13 is memory arithmetic alone: 4,393 tokens (see test_analyses_memory_fit).
    assert "4,393 tokens" in evidence["C13"]
    assert status["C7"] == "holds"  # routing arithmetic: 2 of 8 experts at batch 1


def test_a_claim_says_what_its_page_shows():
    assert TABLE.loc["C4", "evidence"] == price_war.run().c4_text
    assert TABLE.loc["C5", "evidence"] == gpu_comparison.run().c5_text
    assert claims.check("C4") == claims.BY_ID["C4"].check()


def test_verdicts_follow_the_scenario_and_the_catalog():
    # At $0.90/GPU-hour for the A100 it has +32 % bandwidth per dollar: C5 holds.
    catalog = costmodel.load_catalog()
    prices = catalog.gpu_prices.copy()
    prices.loc[prices["gpu"] == "a100-80gb-sxm", "usd_per_gpu_hour"] = 0.90
    assert (
        claims.check("C5", catalog=dataclasses.replace(catalog, gpu_prices=prices)).status
        == "holds"
    )
    # A provider price that differs from the document's: C2 no longer "shown".
    sheet = catalog.provider_prices.copy()
    sheet.loc[
        (sheet["provider"] == "Mistral") & (sheet["date"] == "2023-12"), "usd_per_million_output"
    ] = 1.5
    changed = claims.check("C2", catalog=dataclasses.replace(catalog, provider_prices=sheet))
    assert changed.status == "does not hold" and "$1.50 out" in changed.evidence
    # The seed's setup at the scenario's batch: at 256 Mistral profits even more.
    large = claims.check_all(costmodel.Scenario(batch_size=256)).set_index("id")
    assert "at batch 256" in large.loc["C4", "evidence"]
    assert large.loc["C4", "evidence"] != TABLE.loc["C4", "evidence"]


def test_unknown_claim_is_named():
    with pytest.raises(ValueError, match="claim_id must be one of C1"):
        claims.check("C99")
    with pytest.raises(ValueError, match=r"ids must be among C1.*\['C99'\]"):
        claims.check_all(ids=("C4", "C99"))


def test_a_page_checks_only_its_claims_and_gets_the_same_verdicts():
    """The GPU comparison's C14, C4, C5 come in document order, equal to the full table's."""
    mine = claims.check_all(ids=("C14", "C4", "C5")).set_index("id")
    assert list(mine.index) == ["C4", "C5", "C14"]
    assert mine.drop(columns="pages").equals(TABLE.loc[list(mine.index)].drop(columns="pages"))


SCENARIOS = [
    {"model": "llama-2-70b", "gpu": "a100-40gb-sxm", "n_gpus": 1, "usd_per_gpu_hour": 0.0},
    {"model": "dbrx", "gpu": "l40s", "n_gpus": 8, "weight_format": "int4", "batch_size": 1000},
    # Mixtral 8x22B's whole 65,536-token window (65,280 + 256 output tokens).
    {"model": "mixtral-8x22b", "gpu": "mi300x", "kv_format": "fp8", "prompt_tokens": 65280},
    {"gpu": "b200", "n_gpus": 1, "batch_size": 1, "output_tokens": 1, "utilization": 0.01},
    {"weight_format": "fp8", "routing_skew": 1.0, "prompt_tokens": 7936},
]


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize(
    "fields", SCENARIOS, ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items())
)
def test_every_scenario_gets_fourteen_verdicts(fields):
    table = claims.check_all(costmodel.Scenario(**fields))
    assert len(table) == 14 and table["status"].isin(claims.STATUSES).all()
    assert not table["evidence"].str.contains(r"\bnan\b|\binf", case=False).any()
    dense = (
        costmodel.load_catalog().models.loc[fields.get("model", "mixtral-8x7b"), "n_experts"] == 1
    )
    assert (table.set_index("id").loc["C7", "status"] == "not applicable") == dense


# --- One status rule -----------------------------------------------------------------------

STATUS_WORDS = {status.HOLDS, status.PARTLY, status.FAILS}


def test_decide_holds_partly_or_fails():
    assert [status.decide(a, s) for a, s in [(True, True), (False, True), (False, False)]] == [
        "holds",
        "partly",
        "does not hold",
    ]
    assert (status.decide(True), status.decide(False)) == ("holds", "does not hold")
    assert status.STATUSES == claims.STATUSES


def test_a_verdict_has_one_of_the_statuses():
    with pytest.raises(ValueError, match="status must be one of"):
        claims.Verdict("C1", "maybe", "", "")


def test_every_status_is_decided_by_the_one_rule():
    """No module of the library or the app spells a status itself (it would decide one
    apart from ``status.decide``): each comes from ``costmodel.status``."""
    spelled = []
    for path in sorted([*(ROOT / "costmodel").rglob("*.py"), *(ROOT / "app_pages").rglob("*.py")]):
        if path == ROOT / "costmodel" / "status.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in STATUS_WORDS:
                spelled.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert spelled == []


def test_each_claim_shown_on_a_page_has_the_status_of_its_analysis():
    """What a page shows from its Result (``verdicts.show_result``) is what
    ``claims.check_all`` says at the analyses' defaults: one decision, two readers."""
    runs = {
        "C4": price_war.run(),
        "C5": gpu_comparison.run(),
        "C6": price_war.run(),
        "C7": moe_scaling.run(),
        "C8": moe_scaling.run(),
        "C9": speculative.run(),
        "C10": speculative.run(),
        "C13": memory_fit.run(),
    }
    for claim_id, result in runs.items():
        name = claim_id.lower()
        shown = (getattr(result, f"{name}_status"), getattr(result, f"{name}_text"))
        assert shown == tuple(TABLE.loc[claim_id, ["status", "evidence"]]), claim_id


@pytest.mark.parametrize(
    ("advantage", "share", "expected"),
    [
        (40.0, 10.0, "holds"),
        (40.0, 80.0, "partly"),
        (0.0, 10.0, "partly"),
        (0.0, 80.0, "does not hold"),
    ],
)
def test_c5_status_from_its_two_parts(advantage, share, expected):
    """+22 % or more bandwidth per dollar (32 - 10 points) and compute under 50 % of the
    memory time: both hold, one, or none."""
    bandwidth = pd.DataFrame(
        {
            "gpu": ["a100-80gb-sxm", "h100-sxm"],
            "usd_per_gpu_hour": [1.0, 1.0],
            "bandwidth_tb_s": [1.0 + advantage / 100, 1.0],
            "bandwidth_tb_s_per_usd_hour": [1.0 + advantage / 100, 1.0],
        }
    )
    table = pd.DataFrame(
        {
            "gpu": ["a100-80gb-sxm"],
            "batch_size": [32],
            "memory_time_ms": [10.0],
            "compute_time_ms": [share / 10],
        }
    )
    assert gpu_comparison._c5(table, bandwidth)["c5_status"] == expected
