"""Shapley attribution of a change between two scenarios, by hand and as properties."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_derive import CATALOG as WITH_UPLOADS  # an uploaded model and a custom GPU
from test_derive import wishes

import costmodel.shapley as attribution_module
from costmodel import Scenario, evaluate, load_catalog
from costmodel.adapt import adapted
from costmodel.evaluation import CONSISTENCY_FIELDS, check_scenario
from costmodel.fields import FIELD_NAMES
from costmodel.shapley import (
    ATTRIBUTION_COLUMNS,
    MAX_CHANGED_FIELDS,
    attribution,
    changed_fields,
    compare,
    shapley_values,
)

COST = "usd_per_million_output_tokens"
CATALOG = load_catalog()
SCAN = attribution_module.scan  # the evaluation's scan, as attribution imports it
FIELD_ORDER = list(FIELD_NAMES)


def test_price_and_utilisation_by_hand():
    # cost = n p / (3600 u) * t_token / B * 1e6, so cost = C0 * (p / p0) * (u0 / u).
    # A: p0 = $2/h, u0 = 1; B: p = $3/h (x1.5), u = 0.5 (cost x2). The four mixes:
    #   v({}) = C0, v({p}) = 1.5 C0, v({u}) = 2 C0, v({p, u}) = 3 C0.
    # Interaction v(pu) - v(p) - v(u) + v({}) = (3 - 1.5 - 2 + 1) C0 = 0.5 C0, split equally:
    #   phi_p = ((1.5 - 1) + (3 - 2)) / 2 C0 = 0.75 C0  (own 0.5 + 0.25 of the interaction)
    #   phi_u = ((2 - 1) + (3 - 1.5)) / 2 C0 = 1.25 C0  (own 1.0 + 0.25)
    # and phi_p + phi_u = 2 C0 = v({p, u}) - v({}).
    a = Scenario(usd_per_gpu_hour=2.0, utilization=1.0)
    b = a.replace(usd_per_gpu_hour=3.0, utilization=0.5)
    base = evaluate(a)
    # C0 by hand from the step time: 2 GPUs * $2/h / 3600 s * t_step / 1000 / 32 * 1e6.
    c0 = 2 * 2.0 / 3600 * base["decode_step_ms"] / 1e3 / 32 * 1e6
    assert base[COST] == pytest.approx(c0, rel=1e-12)
    table = attribution(a, b).set_index("field")
    assert list(table.index) == ["usd_per_gpu_hour", "utilization"]
    assert table.loc["usd_per_gpu_hour", "delta"] == pytest.approx(0.75 * c0, rel=1e-12)
    assert table.loc["utilization", "delta"] == pytest.approx(1.25 * c0, rel=1e-12)
    assert (table.loc["utilization", "from"], table.loc["utilization", "to"]) == (1.0, 0.5)


def test_shapley_values_of_a_small_game_by_hand():
    # v = [v({}), v({0}), v({1}), v({0, 1})] = [0, 1, 2, 5]: interaction 5 - 1 - 2 + 0 = 2.
    # phi_0 = (1 - 0) / 2 + (5 - 2) / 2 = 2, phi_1 = (2 - 0) / 2 + (5 - 1) / 2 = 3.
    assert shapley_values([0.0, 1.0, 2.0, 5.0]) == pytest.approx([2.0, 3.0])
    # Three players, additive game v(S) = sum of 1, 10, 100 over S: each gets its own part.
    additive = [sum(w for j, w in enumerate((1, 10, 100)) if m >> j & 1) for m in range(8)]
    assert shapley_values(additive) == pytest.approx([1.0, 10.0, 100.0])
    assert shapley_values([7.0]).size == 0
    with pytest.raises(ValueError, match="2\\^k entries"):
        shapley_values([1.0, 2.0, 3.0])


def _by_orders(values: np.ndarray, k: int) -> np.ndarray:
    """The definition: each player's marginal effect averaged over all k! orders."""
    total = np.zeros(k)
    for order in itertools.permutations(range(k)):
        mask = 0
        for player in order:
            total[player] += values[mask | 1 << player] - values[mask]
            mask |= 1 << player
    return total / math.factorial(k)


def _relabelled(values: np.ndarray, perm: list[int]) -> np.ndarray:
    """The same game with player j renamed perm[j]."""
    out = np.empty_like(values)
    for mask in range(len(values)):
        out[sum(1 << perm[j] for j in range(len(perm)) if mask >> j & 1)] = values[mask]
    return out


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda k: st.tuples(
            st.lists(st.floats(-1e3, 1e3), min_size=2**k, max_size=2**k),
            st.permutations(range(k)),
        )
    )
)
def test_shapley_values_match_the_definition_for_any_order(game):
    values, perm = np.array(game[0]), list(game[1])
    k = len(perm)
    phi = shapley_values(values)
    assert phi == pytest.approx(_by_orders(values, k), abs=1e-9)
    assert phi.sum() == pytest.approx(values[-1] - values[0], abs=1e-9)
    # Listing the players in another order moves each one's value with it.
    assert shapley_values(_relabelled(values, perm))[perm] == pytest.approx(phi, abs=1e-9)


#: Fields a random pair of scenarios may differ in, and values to draw for each.
CHANGES = {
    "model": st.sampled_from(list(CATALOG.models.index)),
    "gpu": st.sampled_from(list(CATALOG.gpus.index)),
    "n_gpus": st.sampled_from([1, 2, 4, 8]),
    "weight_format": st.sampled_from(list(CATALOG.formats.index)),
    "kv_format": st.sampled_from(["bf16", "fp8"]),
    "batch_size": st.integers(1, 1024),
    "prompt_tokens": st.integers(1, 4096),
    "output_tokens": st.integers(1, 2048),
    "usd_per_gpu_hour": st.floats(0.5, 10.0),
    "utilization": st.floats(0.1, 1.0),
    "speculative": st.booleans(),
    "temperature": st.floats(0.0, 2.0),
    "routing_skew": st.floats(0.0, 1.5),
    "bandwidth_efficiency": st.none() | st.floats(0.3, 1.0),
}
METRICS = [COST, "usd_per_request", "tokens_per_s_per_user", "ttft_ms", "memory_required_gb"]


@st.composite
def scenario_pairs(draw):
    a = Scenario(**{name: draw(values) for name, values in CHANGES.items()})
    moved = draw(st.lists(st.sampled_from(list(CHANGES)), min_size=1, max_size=5, unique=True))
    b = a.replace(**{name: draw(CHANGES[name]) for name in moved})
    # Every mix of the two requests must fit both models' context windows.
    window = CATALOG.models.loc[[a.model, b.model], "context_window"].min()
    assume(max(a.prompt_tokens, b.prompt_tokens) + max(a.output_tokens, b.output_tokens) <= window)
    return a, b


@settings(max_examples=25, deadline=None)
@given(scenario_pairs(), st.sampled_from(METRICS))
def test_deltas_add_up_to_the_difference_and_flip_with_the_direction(pair, metric):
    a, b = pair
    table = attribution(a, b, metric)
    va, vb = evaluate(a)[metric], evaluate(b)[metric]
    scale = max(abs(va), abs(vb), 1e-300)
    assert list(table.columns) == list(ATTRIBUTION_COLUMNS)
    assert list(table["field"]) == list(changed_fields(a, b))
    assert table["delta"].sum() == pytest.approx(vb - va, abs=1e-9 * scale)
    # From B back to A every field's share changes sign (the dual game has the same values).
    back = attribution(b, a, metric)
    assert back["delta"].to_numpy() == pytest.approx(-table["delta"].to_numpy(), abs=1e-9 * scale)
    assert list(back["from"]) == list(table["to"])


@settings(max_examples=15, deadline=None)
@given(scenario_pairs(), st.sampled_from(METRICS), st.randoms(use_true_random=False))
def test_deltas_do_not_depend_on_the_order_the_fields_are_listed(pair, metric, rng):
    # List the changed fields in a random order, evaluate every mix in that listing and
    # average each field's marginal effect over all orders (the definition, _by_orders).
    a, b = pair
    table = attribution(a, b, metric).set_index("field")["delta"]
    fields = list(changed_fields(a, b))
    rng.shuffle(fields)
    masks = range(2 ** len(fields))
    columns = {
        name: [getattr(b if mask >> j & 1 else a, name) for mask in masks]
        for j, name in enumerate(fields)
    }
    values = SCAN(a, CATALOG, **columns)[metric].to_numpy(float)
    scale = max(abs(values).max(), 1e-300)
    by_orders = pd.Series(_by_orders(values, len(fields)), index=fields)
    assert table[fields].to_numpy() == pytest.approx(by_orders.to_numpy(), abs=1e-9 * scale)


def test_a_field_that_does_not_matter_gets_nothing():
    # Without speculative decoding the draft length plays no part: its share is exactly 0.
    a = Scenario(speculative=False, draft_tokens=4)
    table = attribution(a, a.replace(draft_tokens=8, usd_per_gpu_hour=3.0)).set_index("field")
    assert table.loc["draft_tokens", "delta"] == 0.0
    assert table.loc["draft_tokens", "label"] == "Draft tokens per step (g) [tokens]"  # in words
    assert table.loc["usd_per_gpu_hour", "delta"] == pytest.approx(
        evaluate(a)[COST] * (3.0 / 1.95 - 1), rel=1e-12
    )


def test_more_changed_fields_than_the_cap_is_refused_by_name():
    a = Scenario()
    changes = {"gpu": "h200-sxm", "n_gpus": 4, "weight_format": "fp8", "kv_format": "fp8"}
    changes |= {"batch_size": 64, "prompt_tokens": 1024, "output_tokens": 512}
    changes |= {"usd_per_gpu_hour": 3.0, "utilization": 0.5, "temperature": 1.0}
    changes |= {"speculative": True, "routing_skew": 0.5, "layer_overhead_us": 5.0}
    b = a.replace(**changes)
    assert len(changed_fields(a, b)) == MAX_CHANGED_FIELDS + 1 == 13
    with pytest.raises(ValueError, match="13 fields differ.*MAX_CHANGED_FIELDS = 12"):
        attribution(a, b)
    with pytest.raises(ValueError, match="MAX_CHANGED_FIELDS = 12"):
        compare(a, b)


def test_an_unknown_metric_is_refused_naming_it_and_the_allowed_ones():
    with pytest.raises(ValueError, match="metric must be one of fits, .*got 'usd_per_token'"):
        attribution(Scenario(), Scenario(n_gpus=4), metric="usd_per_token")


def test_compare_shows_both_scenarios_and_names_the_biggest_driver():
    # Price x2 doubles the cost (+C0); one more sequence in the batch lowers it by about 3 %.
    a = Scenario()
    b = a.replace(usd_per_gpu_hour=3.9, batch_size=33)
    result = compare(a, b)
    ea, eb = evaluate(a), evaluate(b)
    outputs = result.outputs.set_index("output")
    for name in ("usd_per_million_output_tokens", "ttft_ms", "tokens_per_s_per_user"):
        assert outputs.loc[name, "a"] == pytest.approx(ea[name], rel=1e-12)
        assert outputs.loc[name, "b"] == pytest.approx(eb[name], rel=1e-12)
        assert outputs.loc[name, "difference"] == pytest.approx(eb[name] - ea[name], rel=1e-9)
    assert outputs.loc[COST, "change_pct"] == pytest.approx(100 * (eb[COST] / ea[COST] - 1))
    assert result.difference == pytest.approx(eb[COST] - ea[COST], rel=1e-12)
    assert result.attribution["delta"].sum() == pytest.approx(result.difference, rel=1e-12)
    assert result.driver == "usd_per_gpu_hour"
    delta = result.attribution.set_index("field").loc["usd_per_gpu_hour", "delta"]
    assert delta == pytest.approx(ea[COST], rel=0.05)
    assert "biggest driver is GPU price [$/GPU-hour] (1.95 to 3.9)" in result.text
    assert f"{delta:+.4g} of the {result.difference:+.4g}" in result.text
    assert (result.n_mixes, result.mixes_not_fitting) == (4, 0)


def test_compare_counts_mixes_that_do_not_fit():
    # Mixtral in bf16 is 46.7e9 params * 2 B = 93 GB > 80 GB * 0.9 = 72 GB of one H100, so of
    # the four mixes of (2 GPUs, bf16) -> (1 GPU, fp8) only (1 GPU, bf16) does not fit.
    a = Scenario(n_gpus=2, weight_format="bf16")
    result = compare(a, a.replace(n_gpus=1, weight_format="fp8"))
    assert (result.n_mixes, result.mixes_not_fitting) == (4, 1)
    assert "1 of the 4 mixed scenarios do not fit" in result.text


def test_compare_of_equal_scenarios_says_so():
    result = compare(Scenario(), Scenario(), metric="ttft_ms")
    assert result.attribution.empty and result.driver is None
    assert result.text.startswith("A and B are the same scenario: Time to first token [ms] is")
    assert result.outputs.set_index("output").loc["ttft_ms", "difference"] == 0.0


def test_a_family_default_is_shown_as_such():
    a = Scenario(bandwidth_efficiency=None)
    result = compare(a, a.replace(bandwidth_efficiency=0.4))
    assert result.driver == "bandwidth_efficiency"
    assert "(the GPU family's default to 0.4)" in result.text
    # Halving the achieved bandwidth (hopper 0.80 -> 0.40) raises a memory-bound cost.
    assert result.b_value > 1.5 * result.a_value


def test_fields_that_cannot_be_mixed_move_together():
    # A: acceptance 0.75 at T=0, 0.62 at T=1; B: 0.50 and 0.40, and the price 1.95 -> 3.00.
    # The mix (B's 0.50 at T=0, A's 0.62 at T=1) breaks the rule, so the two acceptances are
    # one player; with the price, a game of two players. Cost = C(acc) * p / 1.95, so with
    # r = 3 / 1.95, C0 = cost of A and C1 = cost of A with B's acceptances:
    #   v({}) = C0, v({acc}) = C1, v({price}) = r C0, v({acc, price}) = r C1
    #   phi_price = ((r C0 - C0) + (r C1 - C1)) / 2 = (r - 1) (C0 + C1) / 2
    #   phi_acc   = ((C1 - C0) + (r C1 - r C0)) / 2 = (1 + r) (C1 - C0) / 2.
    a = Scenario(speculative=True, acceptance_at_t0=0.75, acceptance_at_t1=0.62)
    b = a.replace(acceptance_at_t0=0.50, acceptance_at_t1=0.40, usd_per_gpu_hour=3.0)
    c0 = evaluate(a)[COST]
    c1 = evaluate(a.replace(acceptance_at_t0=0.50, acceptance_at_t1=0.40))[COST]
    r = 3.0 / 1.95
    assert attribution_module.players(a, b) == [
        ("usd_per_gpu_hour",),
        ("acceptance_at_t0", "acceptance_at_t1"),
    ]
    table = attribution(a, b).set_index("field")
    joint = table.loc["acceptance_at_t0+acceptance_at_t1"]
    assert (joint["from"], joint["to"]) == ((0.75, 0.62), (0.50, 0.40))
    assert joint["delta"] == pytest.approx((1 + r) * (c1 - c0) / 2, rel=1e-12)
    assert table.loc["usd_per_gpu_hour", "delta"] == pytest.approx((r - 1) * (c0 + c1) / 2)
    assert table["delta"].sum() == pytest.approx(evaluate(b)[COST] - c0, rel=1e-12)
    # Where the crossed mixes are allowed (both acceptances fall, T=1 stays below T=0 in
    # every mix), each field keeps its own row.
    lower = a.replace(acceptance_at_t0=0.70, acceptance_at_t1=0.50)
    assert len(attribution_module.players(a, lower)) == 2


def test_model_and_prompt_move_together_when_the_context_window_forbids_the_mix():
    # Llama 3.1 70B (131,072-token window) at 100,000 + 256 tokens, against Llama 2 70B
    # (4,096) at 3,000 + 256: A's prompt on B's model does not fit the window, so model and
    # prompt_tokens are one player; the deltas still add up to the whole change.
    a = Scenario(
        model="llama-3.1-70b", gpu="h200-sxm", n_gpus=4, prompt_tokens=100_000, batch_size=1
    )
    b = a.replace(model="llama-2-70b", prompt_tokens=3_000, usd_per_gpu_hour=3.0)
    assert attribution_module.players(a, b) == [("model", "prompt_tokens"), ("usd_per_gpu_hour",)]
    table = attribution(a, b).set_index("field")
    assert "model+prompt_tokens" in table.index
    assert table["delta"].sum() == pytest.approx(evaluate(b)[COST] - evaluate(a)[COST], rel=1e-12)


def test_expert_parallelism_moves_with_the_model_whose_experts_it_needs():
    # A: Qwen3 235B-A22B (128 experts) under expert parallelism on 8 GPUs; B: Mixtral 8x7B
    # (8 experts) under tensor parallelism on 32. B's model with A's expert parallelism on
    # 32 GPUs would put fewer than one expert on each GPU (8 < 32), so model and expert
    # parallelism are one player; B's 32 GPUs mix with A's model (128 >= 32 experts) and
    # with B's (32 GPUs split Mixtral's 32 heads), so n_gpus stays its own player.
    a = Scenario(model="qwen3-235b-a22b", gpu="h200-sxm", expert_parallel=True, n_gpus=8)
    b = a.replace(model="mixtral-8x7b", expert_parallel=False, n_gpus=32)
    assert attribution_module.players(a, b) == [("model", "expert_parallel"), ("n_gpus",)]
    table = attribution(a, b).set_index("field")
    assert table["delta"].sum() == pytest.approx(evaluate(b)[COST] - evaluate(a)[COST], rel=1e-9)
    # Said in words: the joint player's labels and its values by name, on/off.
    text = compare(a, b).text
    assert "Model + Expert parallelism (Qwen3-235B-A22B and on to Mixtral 8x7B and off)" in text


@st.composite
def valid_pairs(draw):
    """Two valid scenarios as the sidebar and Compare's B give them (``adapted`` wishes)."""
    a = adapted(Scenario(), WITH_UPLOADS, **draw(wishes)).scenario
    b = adapted(Scenario(), WITH_UPLOADS, **draw(wishes)).scenario
    return a, b, WITH_UPLOADS


@settings(max_examples=40, deadline=None)
@given(valid_pairs())
def test_any_two_valid_scenarios_can_be_attributed(pair):
    # Expert parallelism, disaggregation, MTP, GPU counts and lengths of any two valid
    # scenarios: the players are merged until every mix is accepted, so the attribution
    # never raises (beyond the cap on players) and its deltas add up to B - A.
    a, b, catalog = pair
    groups = attribution_module.players(a, b, catalog)
    assert sorted(n for g in groups for n in g) == sorted(changed_fields(a, b))
    assert [FIELD_ORDER.index(g[0]) for g in groups] == sorted(
        FIELD_ORDER.index(g[0]) for g in groups
    )
    assume(len(groups) <= MAX_CHANGED_FIELDS)
    table = attribution(a, b, catalog=catalog)
    difference = evaluate(b, catalog)[COST] - evaluate(a, catalog)[COST]
    assert table["delta"].sum() == pytest.approx(difference, rel=1e-9, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(valid_pairs())
def test_fields_outside_the_rules_never_make_a_mix_invalid(pair):
    # CONSISTENCY_FIELDS lists what the rules read: A with all of B's other fields is valid.
    a, b, catalog = pair
    others = {n: getattr(b, n) for n in FIELD_NAMES if n not in CONSISTENCY_FIELDS}
    check_scenario(a.replace(**others), catalog)
