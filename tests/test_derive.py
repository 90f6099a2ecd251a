"""``adapt.derive``: the one way an analysis builds a scenario of its own (issue 21).

Property: for any valid scenario (every catalog model, an uploaded model, a custom GPU,
expert parallelism on or off, disaggregation, speculative decoding with a draft or MTP)
and the changes analyses make (another GPU and count, tensor parallelism, another model,
speculation on or off, other lengths and acceptance rates), ``derive`` never raises: it
returns a scenario the library accepts, or (``adapt=False``) the reason it cannot. Then
the analyses that derived scenarios and crashed on such links draw them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costmodel import Scenario, load_catalog
from costmodel.adapt import _RULE_COLUMNS, _rule_rows, adapted, derive
from costmodel.analyses import gpu_comparison, moe_scaling, speculative
from costmodel.custom_gpu import CustomGpu
from costmodel.evaluation import check_scenario
from costmodel.fields import FIELDS
from costmodel.hf_config import read_hf_config

CONFIGS = Path(__file__).resolve().parent / "data" / "hf-configs"
UPLOADED = "custom:minimax-m2.5-upload"
CUSTOM_GPU = "custom:my-gpu"
CATALOG = CustomGpu(
    hbm_gb=96.0, bandwidth_tb_s=4.0, bf16_dense_tflops=700.0, usd_per_gpu_hour=2.5
).add_to(
    load_catalog().with_model(
        UPLOADED, read_hf_config((CONFIGS / "MiniMaxAI--MiniMax-M2.5.json").read_bytes())
    ),
    CUSTOM_GPU,
    "My GPU",
)
MODELS = list(CATALOG.models.index)
GPUS = list(CATALOG.gpus.index)
N_GPUS = st.one_of(st.sampled_from([1, 2, 4, 8, 16, 64, 128, 256]), st.integers(1, 256))
TOKENS = st.one_of(
    st.sampled_from([1, 512, 8192, 131072]),
    st.integers(1, int(FIELDS["prompt_tokens"].high)),
)
RATE = st.floats(0.01, 0.99)


#: Scenario changes a user can make (all in range; together maybe inconsistent).
wishes = st.fixed_dictionaries(
    {
        "model": st.sampled_from(MODELS),
        "gpu": st.sampled_from(GPUS),
        "n_gpus": N_GPUS,
        "batch_size": st.integers(1, int(FIELDS["batch_size"].high)),
        "prompt_tokens": TOKENS,
        "output_tokens": st.integers(1, int(FIELDS["output_tokens"].high)),
        "expert_parallel": st.booleans(),
        "disaggregated": st.booleans(),
        "prefill_gpus": N_GPUS,
        "speculative": st.booleans(),
        "mtp": st.booleans(),
        "acceptance_at_t0": RATE,
        "acceptance_at_t1": RATE,
    }
)
#: What analyses change in a scenario they derive.
derivations = st.fixed_dictionaries(
    {},
    optional={
        "gpu": st.sampled_from(GPUS),
        "n_gpus": N_GPUS,
        "model": st.sampled_from(MODELS),
        "expert_parallel": st.just(False),
        "speculative": st.booleans(),
        "mtp": st.booleans(),
        "batch_size": st.integers(1, int(FIELDS["batch_size"].high)),
        "prompt_tokens": TOKENS,
        "acceptance_at_t1": RATE,
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wish=wishes, changes=derivations, adapt=st.booleans())
def test_derive_returns_a_valid_scenario_or_a_reason(wish, changes, adapt):
    start = adapted(Scenario(), CATALOG, **wish)  # a valid scenario, as the sidebar gives
    check_scenario(start.scenario, CATALOG)
    derived = derive(start.scenario, CATALOG, adapt=adapt, **changes)
    if derived.scenario is None:
        assert not adapt, derived.reason  # adapting always finds a valid scenario
        assert derived.reason and derived.text == derived.reason
        return
    check_scenario(derived.scenario, CATALOG)
    assert not derived.reason
    for name, value in changes.items():  # what was asked, unless a change names it
        moved = {c.field: c for c in derived.changes}
        if name in moved:
            assert moved[name].now == getattr(derived.scenario, name)
            assert FIELDS[name].label in derived.text
        else:
            assert getattr(derived.scenario, name) == value, name
    if not adapt:
        assert derived.changes == ()


def test_an_id_the_catalog_lacks_is_a_reason_not_an_error():
    derived = derive(Scenario(), CATALOG, gpu="tpu-v9")
    assert derived.scenario is None and "tpu-v9" in derived.reason


def test_a_gpu_count_the_heads_forbid_is_moved_or_refused():
    # Llama 3.1 70B: 64 heads, 8 KV heads; 3 GPUs split neither, 4 is the nearest.
    moved = derive(Scenario(), CATALOG, model="llama-3.1-70b", n_gpus=3)
    assert moved.scenario.n_gpus == 4 and moved.changes[0].field == "n_gpus"
    refused = derive(Scenario(), CATALOG, model="llama-3.1-70b", n_gpus=3, adapt=False)
    assert refused.scenario is None and "n_gpus=3" in refused.reason


# --- The analyses that derived invalid scenarios from these valid ones ------------------


def test_gpu_comparison_skips_an_expert_parallel_count_above_the_experts():
    """Mixtral 8x22B under expert parallelism at batch 4,096: a small GPU needs more GPUs
    than its 8 experts (the issue's Home crash); that GPU is skipped with the reason."""
    s = Scenario(model="mixtral-8x22b", expert_parallel=True, n_gpus=8, batch_size=4096)
    result = gpu_comparison.run(s, None, CATALOG)
    assert all(r.n_gpus <= 8 for r in result.table.itertuples())
    assert any("expert" in s for s in result.skipped), result.skipped


@pytest.mark.parametrize(
    "scenario",
    [
        # 256 GPUs by expert parallelism: GLM-5's 64 heads forbid 256 by tensor parallelism
        Scenario(model="glm-5", gpu="h800-sxm", n_gpus=256, expert_parallel=True),
        # a prefill pool of 64 GPUs: Kimi K3's 96 heads forbid it by tensor parallelism
        Scenario(
            model="kimi-k3", n_gpus=8, expert_parallel=True, disaggregated=True, prefill_gpus=64
        ),
        # MTP on: plain decoding (speculative off) cannot keep it
        Scenario(model="deepseek-r1", n_gpus=8, speculative=True, mtp=True),
    ],
    ids=["ep-256", "ep-prefill-64", "mtp"],
)
def test_moe_and_speculative_comparisons_adapt_and_say_so(scenario):
    check_scenario(scenario, CATALOG)
    moe = moe_scaling.run(scenario, None, CATALOG)
    spec = speculative.run(scenario, None, CATALOG)
    if scenario.expert_parallel:
        assert "GPUs per replica" in moe.adaptations or "prefill" in moe.adaptations.lower()
        assert moe.adaptations and spec.adaptations
    assert not spec.now.empty


def test_speculative_acceptance_out_of_order_is_adapted_and_named():
    """Options with acceptance at T = 1 above that at T = 0 (drafts accepted more often at
    a higher temperature): lowered to the rate at T = 0, and the field named."""
    options = speculative.Options(acceptance_at_t0=0.5, acceptance_at_t1=0.9)
    result = speculative.run(Scenario(), options, CATALOG)
    assert result.scenario.acceptance_at_t1 == 0.5
    assert FIELDS["acceptance_at_t1"].label in result.adaptations


def test_the_rules_read_the_model_tables_values():
    """``adapt._rule_rows`` (prepared once per catalog) holds each model's columns as the
    model table does, an uploaded model's too."""
    rows = _rule_rows(CATALOG)
    assert list(rows) == MODELS
    for model in (MODELS[0], UPLOADED):
        assert rows[model] == CATALOG.models.loc[model, list(_RULE_COLUMNS)].to_dict()
