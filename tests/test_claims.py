"""costmodel.claims: C1-C14 checked by the analyses their pages show."""

import dataclasses
import re
from pathlib import Path

import pytest

import costmodel
from costmodel import claims
from costmodel.analyses import gpu_comparison, price_war

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
    status = TABLE["status"]
    assert (status["C1"], status["C2"], status["C3"], status["C12"]) == ("shown",) * 4
    assert "$0.65 in / $1.96 out" in TABLE.loc["C2", "evidence"]
    # Mistral +69 % at batch 32, breaks even from batch 12 or 31 % utilisation.
    assert status["C4"] == "does not hold"
    for words in ("+69% of revenue", "batch ≥ 12", "utilisation ≥ 31%"):
        assert words in TABLE.loc["C4", "evidence"]
    # A100 at catalog prices: 37 % less bandwidth per dollar; +32 % needs $0.90.
    assert status["C5"] == "partly"
    assert "37% less" in TABLE.loc["C5", "evidence"] and "$0.90" in TABLE.loc["C5", "evidence"]
    assert status["C6"] == status["C7"] == status["C9"] == status["C11"] == "holds"
    assert "168.1" in TABLE.loc["C9", "evidence"] and "79.5" in TABLE.loc["C9", "evidence"]
    assert "only 1.05x" in TABLE.loc["C11", "evidence"]
    assert "4,393 tokens" in TABLE.loc["C13", "evidence"]
    assert status["C14"] == "holds"


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


SCENARIOS = [
    {"model": "llama-2-70b", "gpu": "a100-40gb-sxm", "n_gpus": 1, "usd_per_gpu_hour": 0.0},
    {"model": "dbrx", "gpu": "l40s", "n_gpus": 8, "weight_format": "int4", "batch_size": 1000},
    {"model": "mixtral-8x22b", "gpu": "mi300x", "kv_format": "fp8", "prompt_tokens": 131072},
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
