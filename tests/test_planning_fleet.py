"""The fleet sizer: by hand, and its properties (hypothesis)."""

import functools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import costmodel
from costmodel.planning import get_workload
from costmodel.planning.fleet import (
    HOURS_PER_MONTH,
    SETUP_KEYS,
    SLOT_OVERFLOW_PROBABILITY,
    TARGETS,
    cheapest_at,
    cheapest_fleets,
    cheapest_fleets_at,
    evaluate_back,
    fleet_candidates,
    fleet_gpus,
    plan_fleets,
    request_rate,
    size_fleet,
    sized_fleets,
)
from costmodel.planning.latency import latency_table, service_times

SCENARIO = costmodel.Scenario(model="llama-3.1-70b", weight_format="fp8", kv_format="fp8")
WORKLOAD = get_workload("rag")
PRICES = {"h100-sxm": 2.0, "h200-sxm": 2.6}


@functools.cache
def service():
    """Service times of a small candidate set (H100 and H200, TP, batch caps 16-256)."""
    configs = fleet_candidates(
        SCENARIO, list(PRICES), batch_sizes=(16, 256), n_gpus=(4, 8), parallelisms=("tp",)
    )
    return service_times(SCENARIO, WORKLOAD, configs)


def test_request_rate_from_tokens_a_day_by_hand():
    # The rag workload's nodes: 9,381.6 prompt + 650.7 output tokens a request; 1e10
    # tokens a day = 1e10 / 86,400 / 10,032.25 = 11.537 requests/s.
    means = WORKLOAD.mean_tokens()
    assert means["prompt"] + means["output"] == pytest.approx(10032.25, abs=0.01)
    assert request_rate(WORKLOAD, tokens_per_day=1e10) == pytest.approx(11.537, abs=1e-3)
    with pytest.raises(ValueError, match="either"):
        request_rate(WORKLOAD, requests_per_s=1, tokens_per_day=1e10)


def small_plan(usd_per_gpu_hour, **changes):
    """``size_fleet`` of 4 requests/s at TTFT p90 3 s and TPOT p90 60 ms, few candidates."""
    return size_fleet(
        SCENARIO,
        WORKLOAD,
        requests_per_s=4.0,
        targets={"ttft_p90_ms": 3000, "tpot_p90_ms": 60},
        usd_per_gpu_hour=usd_per_gpu_hour,
        batch_sizes=(16, 64, 256),
        n_gpus=(2, 4, 8),
        **changes,
    )


def test_size_fleet_prices_and_evaluates_back():
    plan = small_plan(PRICES, price_label={"h100-sxm": "mine", "h200-sxm": "list"}, headroom=0.25)
    best = plan.best
    assert best is not None and bool(best["meets_targets"])
    # Cost by hand: GPUs x $/GPU-hour x 730 h; per million output tokens over a month of
    # 4 requests/s of 650.66 output tokens.
    assert best["usd_per_month"] == pytest.approx(
        best["total_gpus"] * best["usd_per_gpu_hour"] * HOURS_PER_MONTH
    )
    output = 4.0 * WORKLOAD.mean_tokens()["output"] * HOURS_PER_MONTH * 3600
    assert best["usd_per_million_output_tokens"] == pytest.approx(
        best["usd_per_month"] / output * 1e6
    )
    assert best["price_label"] == {"h100-sxm": "mine", "h200-sxm": "list"}[best["gpu"]]
    assert best["design_requests_per_s"] == pytest.approx(5.0)
    # One row per GPU, cheapest first; every fleet meets the targets at the design rate.
    assert list(plan.cheapest["usd_per_month"]) == sorted(plan.cheapest["usd_per_month"])
    assert plan.fleets["meets_targets"].all()
    assert (plan.fleets["ttft_p90_ms"] <= 3000).all() and (plan.fleets["tpot_p90_ms"] <= 60).all()
    assert best["binding"] and best["setup"] in plan.verdict
    assert plan.cheapest.to_csv(index=False).count("\n") == len(plan.cheapest) + 1


def test_impossible_targets_say_what_binds():
    plan = size_fleet(
        SCENARIO,
        WORKLOAD,
        requests_per_s=1.0,
        targets={"tpot_p50_ms": 1.0},
        usd_per_gpu_hour={"h100-sxm": 2.0},
        batch_sizes=(16,),
        n_gpus=(4, 8),
    )
    assert plan.best is None and plan.fleets.empty
    assert "cannot meet TPOT p50" in plan.infeasible.loc["h100-sxm", "why"]
    assert "No priced GPU" in plan.verdict


def test_the_sized_fleet_is_the_fewest_that_passes():
    # One aggregated replica fewer than the sizer's fails a target or the batch slots.
    sized = plan_fleets(service(), 6.0, {"ttft_p90_ms": 2500, "tpot_p90_ms": 45}, 0.0)
    ok = sized[sized["feasible"] & ~sized["disaggregated"] & (sized["replicas"] > 1)]
    assert len(ok) >= 2
    fewer = latency_table(service().take(ok["config"].to_numpy()), 6.0 / (ok["replicas"] - 1))
    fails = (
        (fewer["ttft_p90_ms"] > 2500)
        | (fewer["tpot_p90_ms"] > 45)
        | (fewer["slot_overflow_probability"] > SLOT_OVERFLOW_PROBABILITY)
    )
    assert fails.all()
    # Disaggregated: one prefill instance fewer fails the TTFT target.
    split = sized[sized["feasible"] & sized["disaggregated"] & (sized["prefill_instances"] > 1)]
    assert len(split) >= 2
    fewer = latency_table(
        service().take(split["config"].to_numpy()),
        6.0,
        split["replicas"].to_numpy(),
        (split["prefill_instances"] - 1).to_numpy().astype(int),
    )
    assert (fewer["ttft_p90_ms"] > 2500).all()


targets = st.fixed_dictionaries(
    {},
    optional={
        key: st.floats(200, 20_000) if key.startswith("ttft") else st.floats(15, 200)
        for key in TARGETS
    },
).filter(bool)


def _cheapest(gpus: pd.Series) -> float:
    """The cheapest of these setups at ``PRICES`` [$/hour]."""
    return float((gpus * pd.Series(PRICES)[gpus.index.get_level_values("gpu")].to_numpy()).min())


def _gpus_and_cost(sized: pd.DataFrame) -> pd.Series:
    ok = sized[sized["feasible"]]
    keys = ["gpu", "n_gpus", "batch_size", "disaggregated", "prefill_gpus"]
    return ok.set_index(keys)["total_gpus"]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rate=st.floats(0.2, 40), more=st.floats(1.0, 3.0), wanted=targets)
def test_more_traffic_never_needs_fewer_gpus(rate, more, wanted):
    low = _gpus_and_cost(plan_fleets(service(), rate, wanted))
    high = _gpus_and_cost(plan_fleets(service(), rate * more, wanted))
    # What serves more traffic serves less; each setup needs no fewer GPUs for more.
    assert set(high.index) <= set(low.index)
    assert (high >= low.reindex(high.index)).all()
    if len(high):
        assert _cheapest(high) >= _cheapest(low)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rate=st.floats(0.2, 40), wanted=targets, looser=st.floats(1.0, 3.0))
def test_a_looser_target_never_costs_more(rate, wanted, looser):
    tight = _gpus_and_cost(plan_fleets(service(), rate, wanted))
    loose = _gpus_and_cost(plan_fleets(service(), rate, {k: v * looser for k, v in wanted.items()}))
    assert set(tight.index) <= set(loose.index)
    assert (loose.reindex(tight.index) <= tight).all()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rate=st.floats(0.2, 40), wanted=targets, headroom=st.floats(0, 1))
def test_every_fleet_evaluated_back_meets_its_targets(rate, wanted, headroom):
    sized = plan_fleets(service(), rate, wanted, headroom)
    ok = sized[sized["feasible"]]
    assert ok["meets_targets"].all()
    for key, limit in wanted.items():
        assert (ok[key] <= limit * (1 + 1e-9)).all(), key
    assert (ok["slot_overflow_probability"] <= SLOT_OVERFLOW_PROBABILITY).all()


def test_cheapest_fleets_over_rates_agree_with_one_rate_at_a_time():
    # The vectorised sizing over rates gives, at each rate, the cheapest of plan_fleets'.
    rates = [0.5, 4.0, 20.0]
    wanted = {"ttft_p90_ms": 3000, "tpot_p90_ms": 60}
    curve = cheapest_fleets(service(), rates, wanted, PRICES, headroom=0.1)
    for rate, row in zip(rates, curve.itertuples(), strict=True):
        sized = plan_fleets(service(), rate, wanted, 0.1)
        ok = sized[sized["feasible"]]
        cost = ok["total_gpus"] * ok["gpu"].map(PRICES) * HOURS_PER_MONTH
        assert row.usd_per_month == pytest.approx(cost.min())
    assert curve["usd_per_month"].is_monotonic_increasing


def test_a_free_gpu_is_compared_in_dollars_not_percent():
    # The H100 at $0/GPU-hour is the cheapest fleet ($0 a month); the next GPU's fleet is
    # said in dollars more, not as an infinite percentage.
    plan = small_plan({"h100-sxm": 0.0, "h200-sxm": 3.0})
    assert plan.best["gpu"] == "h100-sxm" and plan.best["usd_per_month"] == 0
    second = plan.cheapest.iloc[1]
    assert f"(${second['usd_per_month']:,.0f} more)." in plan.verdict
    assert "inf" not in plan.verdict


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wanted=targets, rent=st.floats(0.5, 5.0), own=st.floats(0.5, 5.0))
def test_sizing_only_the_pools_that_can_win_gives_the_same_cheapest(wanted, rent, own):
    # cheapest_fleets_at sizes a prefill pool only where its fewest stable pool costs no
    # more than a fleet found; its answers (configuration, first of ties, GPUs, $) are
    # those of sizing every fleet. "buy" prices both GPUs alike: ties between them.
    rates = np.geomspace(0.1, 200.0, 9)
    prices = {
        "rent": {"h100-sxm": rent, "h200-sxm": 2.6},
        "buy": {"h100-sxm": own, "h200-sxm": own},
    }
    found = cheapest_fleets_at(service(), rates, wanted, prices, headroom=0.1)
    gpus = fleet_gpus(service(), rates, wanted, headroom=0.1)
    for name, price in prices.items():
        pd.testing.assert_frame_equal(found[name], cheapest_at(service(), rates, gpus, price))


@pytest.mark.parametrize("prices", [PRICES, {"h100-sxm": 2.0, "h200-sxm": 2.0}])
def test_the_plan_ranks_as_every_fleet_evaluated_back(prices):
    # The plan evaluates back only the fleets that can rank first (ties included); each
    # GPU's cheapest fleet and the runner-ups are those of every fleet evaluated back,
    # which FleetPlan.fleets works out when first read.
    plan = small_plan(prices)
    assert "fleets" not in plan.__dict__  # not worked out yet
    fleets = plan.fleets
    pd.testing.assert_frame_equal(
        plan.cheapest, fleets.drop_duplicates("gpu").reset_index(drop=True)
    )
    others = fleets.drop_duplicates(list(SETUP_KEYS)).iloc[1:].head(5).reset_index(drop=True)
    pd.testing.assert_frame_equal(plan.runner_ups, others)


def test_plan_fleets_is_sized_then_evaluated_back():
    # Evaluating back some rows, then the rest, gives plan_fleets' table.
    wanted = {"ttft_p90_ms": 3000, "tpot_p90_ms": 60}
    sized = sized_fleets(service(), 4.0, wanted)
    assert sized["ttft_p90_ms"].isna().all() and not sized["meets_targets"].any()
    feasible = np.flatnonzero(sized["feasible"])
    half = evaluate_back(sized, service(), wanted, rows=feasible[::2])
    whole = evaluate_back(half, service(), wanted, rows=feasible[1::2])
    pd.testing.assert_frame_equal(whole, plan_fleets(service(), 4.0, wanted))


def _plain_capacity(part, targets):
    """Every step of the plain bisection on [0, the stable rate] for every row, and what
    fails first above it: the reference the sizer's early stop must match."""
    from costmodel.planning.fleet import RATE_STEPS, _all, _binding, _checks, _label
    from costmodel.planning.latency import MS_PER_S, fleet_state

    low = np.zeros(len(part.fits))
    high = MS_PER_S / np.maximum(part.queue_moments[0], part.work_moments[0])
    for _ in range(RATE_STEPS):
        mid = 0.5 * (low + high)
        ok = _all(_checks(part, fleet_state(part, mid, 1, 1, 0.0), targets, True))
        low, high = np.where(ok, mid, low), np.where(ok, high, mid)
    above = _checks(part, fleet_state(part, high, 1, 1, 0.0), targets, True)
    return low, _binding(above, ["memory", *map(_label, targets)])


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.floats(0.01, 3000.0), min_size=1, max_size=4),
    st.sampled_from(
        [{"ttft_p90_ms": 3000, "tpot_p90_ms": 60}, {"ttft_p99_ms": 6000, "tpot_p50_ms": 40}]
    ),
)
def test_aggregated_capacity_stops_early_with_the_plain_bisections_answer(rates, targets):
    # The sizer tries the bracket where the batch slots overflow first, and stops a row
    # once its replicas at every rate asked and what binds can no longer change (several
    # steps per evaluation when few rows are left): the replicas
    # ceil(rate / capacity), what binds and feasibility equal the plain bisection's.
    from costmodel.planning.fleet import _aggregated_capacity, _all, _checks
    from costmodel.planning.latency import fleet_state

    part = service().take(np.flatnonzero(~service().disaggregated & service().fits))
    cap, why, ok = _aggregated_capacity(part, targets, 0.0, rates)
    plain, plain_why = _plain_capacity(part, targets)
    plain_ok = plain > 0  # every row of this set meets the targets at no load
    assert ok.tolist() == plain_ok.tolist() and ok.any()
    assert why[ok].tolist() == plain_why[ok].tolist()
    r = np.asarray(rates)[None, :]
    assert (np.ceil(r / cap[ok, None]) == np.ceil(r / plain[ok, None])).all()
    # The capacity is its bracket's low end: a rate meeting every constraint.
    met = part.take(np.flatnonzero(ok))
    assert _all(_checks(met, fleet_state(met, cap[ok], 1, 1, 0.0), targets, True)).all()


def test_the_slots_bracket_holds_the_rate_where_the_slots_overflow():
    # lambda D(lambda) / 1000 = m at the root, D rising with the load: 1000 m / D maps a
    # rate above the root to one below it and back, so the iterates bracket it.
    from costmodel.planning.fleet import SLOT_OVERFLOW_PROBABILITY, _slots_bracket
    from costmodel.planning.latency import MS_PER_S, fleet_state

    part = service().take(np.flatnonzero(~service().disaggregated & service().fits))
    stable = MS_PER_S / np.maximum(part.queue_moments[0], part.work_moments[0])
    low, high = _slots_bracket(part, 0.0, stable)
    assert (low >= 0).all() and (low <= high).all() and (high <= stable).all()

    def overflow(rate):
        with np.errstate(divide="ignore"):
            return fleet_state(part, rate, 1, 1, 0.0).slot_overflow_probability

    limit = SLOT_OVERFLOW_PROBABILITY
    assert (overflow(low) <= limit * (1 + 1e-9)).all()
    assert (overflow(high) >= limit * (1 - 1e-9)).all()
    # Close where the holding time rises slowly: a guess worth checking.
    assert ((high - low) / high < 0.1).sum() >= 3


def _plain_decode_capacity(cap, holding):
    """The decode capacity by doubling from 1 and RATE_STEPS bisection steps, every row."""
    from costmodel.planning.fleet import RATE_STEPS, SLOT_OVERFLOW_PROBABILITY
    from costmodel.planning.latency import slot_overflow_probability

    low, high = np.zeros(cap.size), np.ones(cap.size)
    for _ in range(RATE_STEPS):
        over = slot_overflow_probability(cap, high, holding)
        if np.all(over > SLOT_OVERFLOW_PROBABILITY):
            break
        high = np.where(over > SLOT_OVERFLOW_PROBABILITY, high, 2 * high)
    for _ in range(RATE_STEPS):
        mid = 0.5 * (low + high)
        ok = slot_overflow_probability(cap, mid, holding) <= SLOT_OVERFLOW_PROBABILITY
        low, high = np.where(ok, mid, low), np.where(ok, high, mid)
    return low


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 65536), st.floats(1e-3, 1e7)), min_size=1, max_size=20))
def test_decode_capacity_lands_where_the_bisection_does(rows):
    # The closed-form guess at the grid point the bisection ends on, checked, gives the
    # plain doubling and bisection's answer bit for bit (the rows it misses take the
    # steps).
    from types import SimpleNamespace

    from costmodel.planning.fleet import _decode_capacity

    cap = np.array([c for c, _ in rows], float)
    holding = np.array([h for _, h in rows])
    service = SimpleNamespace(
        fits=np.ones(cap.size, bool),
        mean_output_tokens=1.0,
        decode_ms_per_token=holding,
        batch_cap=cap,
    )
    assert _decode_capacity(service).tolist() == _plain_decode_capacity(cap, holding).tolist()
