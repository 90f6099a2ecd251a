"""The TTFT outside the GPU step: serving path, scheduler admission, burst at start.

Each term worked by hand, and its place in ``service_times`` / ``closed_loop``; the
InferenceX launch scripts' settings (``calibration.inferencex.scheduler_settings``).
"""

import functools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import costmodel
from costmodel.calibration.inferencex import read_inferencex
from costmodel.catalog import ASSETS_DIR, read_table
from costmodel.planning import get_workload, latency

SCENARIO = costmodel.Scenario(model="llama-3.1-70b", weight_format="fp8", kv_format="fp8")
WORKLOAD = get_workload("inferencex-1k1k")
CONFIG = {
    "gpu": ["h200-sxm"],
    "n_gpus": [8],
    "expert_parallel": [False],
    "batch_size": [64],
    "disaggregated": [False],
    "prefill_gpus": [8],
}


@functools.cache
def service():
    return latency.service_times(SCENARIO, WORKLOAD, CONFIG)


def test_serving_path_by_hand():
    # SGLang: 3 ms, one step of overlap, 5 ms hand-off; at t_d = 10 ms:
    # aggregated 3 + 10 = 13 ms, disaggregated 3 + 10 + 5 = 18 ms.
    np.testing.assert_allclose(
        latency.path_times_ms("sglang", [10.0, 10.0], [False, True]), [13, 18]
    )
    # vLLM: no overlap scheduler by default: 3 ms and 3 + 5 = 8 ms whatever the step.
    np.testing.assert_allclose(latency.path_times_ms("vllm", [10.0, 30.0], [False, True]), [3, 8])
    with pytest.raises(ValueError, match="serving_stack"):
        latency.path_times_ms("tgi", [10.0], [False])


def test_every_stack_has_a_sourced_serving_path():
    stacks = set(read_table(ASSETS_DIR / "serving_stacks.csv")["serving_stack"])
    table = latency.serving_path()
    assert stacks <= set(table.index)
    numbers = table[["request_overhead_ms", "output_delay_steps", "handoff_ms"]]
    assert (numbers >= 0).all(axis=None)
    assert table["source"].str.len().gt(40).all()


def test_service_times_add_the_serving_path(monkeypatch):
    before = service()
    longer = latency.serving_path().copy()
    longer["request_overhead_ms"] += 100.0
    monkeypatch.setattr(latency, "serving_path", lambda: longer)
    after = latency.service_times(SCENARIO, WORKLOAD, CONFIG)
    # 100 ms more on every prompt node, nothing else moved.
    np.testing.assert_allclose(after.own_prefill_ms - before.own_prefill_ms, 100.0)
    np.testing.assert_allclose(after.queue_service_ms, before.queue_service_ms)


def test_admission_wait_by_hand():
    # Polling every 10 steps: 10 / 2 = 5 steps on average, 4.5 beyond the half step
    # already counted.
    assert latency.admission_wait_steps(0.3, poll_steps=10) == pytest.approx(4.5)
    # A window of 60 steps or 8 prompts at 0.05 prompts a step: 7 more prompts would
    # take 140 steps, so the window times out at L = 60 with 1 + 3 = 4 prompts waiting
    # 60, 40, 20, 0 steps: (60 + 0.05 x 60^2 / 2) / 4 = 37.5.
    assert latency.admission_wait_steps(0.05, window_steps=60, window_requests=8) == pytest.approx(
        37.5
    )
    # At 1 prompt a step it fills in L = 7 steps: (7 + 49 / 2) / 8 = 3.9375.
    assert latency.admission_wait_steps(1.0, window_steps=60, window_requests=8) == pytest.approx(
        3.9375
    )
    # Alone (no other arrivals) a prompt waits out the window; a window of one prompt
    # or of no steps holds nothing.
    assert latency.admission_wait_steps(0.0, window_steps=60, window_requests=8) == pytest.approx(
        60
    )
    assert latency.admission_wait_steps(0.5, window_steps=60, window_requests=1) == 0
    assert latency.admission_wait_steps(0.5, window_steps=0, window_requests=8) == 0
    for bad in ({"poll_steps": 0}, {"window_requests": 0}, {"window_steps": -1}):
        with pytest.raises(ValueError, match="poll_steps"):
            latency.admission_wait_steps(0.5, **bad)


@given(
    rate=st.floats(0.0, 10.0),
    steps=st.floats(0.0, 200.0),
    more=st.floats(0.0, 50.0),
    n=st.integers(1, 16),
)
def test_admission_wait_is_bounded_and_monotone_in_the_window(rate, steps, more, n):
    wait = latency.admission_wait_steps(rate, window_steps=steps, window_requests=n)
    longer = latency.admission_wait_steps(rate, window_steps=steps + more, window_requests=n)
    assert 0 <= wait <= steps + 1e-9
    assert longer >= wait - 1e-9


def test_polling_shifts_the_closed_loop_ttft():
    # One user: no queue, so polling every 10 steps adds its 4.5 steps to every
    # quantile (the loop's rate falls a little, which moves nothing else).
    s = service()
    plain = latency.closed_loop(s, 1)
    polled = latency.closed_loop(s, 1, poll_steps=10)
    shift = 4.5 * s.decode_step_ms[0]
    for q in ("ttft_p50_ms", "ttft_p99_ms", "mean_ttft_ms"):
        assert polled[q].iloc[0] - plain[q].iloc[0] == pytest.approx(shift, rel=0.02)
    assert polled["arrival_rate"].iloc[0] < plain["arrival_rate"].iloc[0]


def test_burst_at_start_by_hand():
    s = service()
    users = 64
    steady = latency.closed_loop(s, users)
    burst = latency.closed_loop(s, users, burst_share=0.1)
    # The burst: 64 prompts on one server, the k-th after k - 1 services, so uniform on
    # [m, m + 63 E[S]], m the steady mean less its wait.
    start = steady["mean_ttft_ms"].iloc[0] - steady["mean_wait_ms"].iloc[0]
    end = start + 63 * s.queue_moments[0][0]
    mean = 0.9 * steady["mean_ttft_ms"].iloc[0] + 0.1 * (start + end) / 2
    assert burst["mean_ttft_ms"].iloc[0] == pytest.approx(mean, rel=1e-9)
    # Above the steady law's top, P = 0.9 + 0.1 (t - m) / (end - m): its p99 is where
    # the burst's own share reaches 0.9, m + 0.9 (end - m), if the steady p99.9 is below.
    assert end > 2 * steady["ttft_p99_ms"].iloc[0]
    assert burst["ttft_p99_ms"].iloc[0] == pytest.approx(start + 0.9 * (end - start), rel=0.02)
    # No quantile falls.
    for q in ("ttft_p50_ms", "ttft_p90_ms", "ttft_p99_ms"):
        assert burst[q].iloc[0] >= steady[q].iloc[0] - 1e-6
    with pytest.raises(ValueError, match="burst_share"):
        latency.closed_loop(s, users, burst_share=1.0)


def _inferencex_row(**values):
    row = {
        "hardware": "b200",
        "framework": "sglang",
        "model": "dsr1",
        "precision": "fp8",
        "spec_method": "none",
        "disagg": False,
        "prefill_tp": 8,
        "prefill_ep": 1,
        "prefill_num_workers": 0,
        "decode_tp": 8,
        "decode_ep": 1,
        "decode_dp_attention": False,
        "decode_num_workers": 0,
        "isl": 1024,
        "osl": 1024,
        "conc": 8,
        "median_ttft": 0.1,
    }
    return {**row, **values}


def test_inferencex_scheduler_settings_from_the_launch_scripts():
    rows = pd.DataFrame(
        [
            _inferencex_row(conc=8),  # B200 SGLang below 16 in flight: recv every 10
            _inferencex_row(conc=16),  # from 16: every 30
            _inferencex_row(conc=64, decode_dp_attention=True, decode_ep=8),  # DP: every step
            _inferencex_row(hardware="h200", conc=64),  # H200's script: SGLang's default
            # TensorRT-LLM with attention DP over 8 GPUs: one prompt per rank, 60 steps.
            _inferencex_row(framework="trt", conc=256, decode_dp_attention=True, decode_ep=8),
            # Delayed batching (B200 FP8, 1k/1k, 64 in flight): 0.8 x max(8192, 1,152)
            # = 6,553.6 tokens of 922-token prompts: ceil(7.1) = 8 prompts, 40 steps.
            _inferencex_row(framework="trt", conc=64),
            _inferencex_row(framework="trt", conc=64, isl=8192),  # not at 8k/1k
            _inferencex_row(framework="dynamo-sglang", disagg=True, conc=8),
        ]
    )
    table = read_inferencex(rows)
    settings = table[["poll_steps", "window_steps", "window_requests"]].to_numpy().tolist()
    assert settings == [
        [10, 0, 1],
        [30, 0, 1],
        [1, 0, 1],
        [1, 0, 1],
        [1, 60, 8],
        [1, 40, math.ceil(0.8 * 8192 / 922)],
        [1, 0, 1],
        [1, 0, 1],
    ]


# --- disaggregated: the decode server's hand-off and the prefill instance's passes -----

SPLIT = {**CONFIG, "disaggregated": [True], "batch_size": [64]}
MTP = SCENARIO.replace(model="deepseek-r1", mtp=True, speculative=True, draft_tokens=2)
MTP_CONFIG = {**CONFIG, "gpu": ["b200"], "disaggregated": [False, True]}
MTP_CONFIG = {k: v * 2 if len(v) == 1 else v for k, v in MTP_CONFIG.items()}


def test_batched_pass_wait_by_hand():
    # t_1 = 60 ms, w = 15 ms, 20 prompts/s = 0.02 per ms: rho = 0.3, T = 60 / 0.7 =
    # 85.71 ms, lambda T = 1.714, busy = 1.714 / 2.714 = 0.632; added (T - t_1) + busy T / 2
    # = 25.71 + 0.632 x 42.86 = 52.78 ms.
    T = 60 / 0.7
    busy = 0.02 * T / (1 + 0.02 * T)
    assert latency.batched_pass_wait_ms(60.0, 15.0, 0.02) == pytest.approx(T - 60 + busy * T / 2)
    assert latency.batched_pass_wait_ms(60.0, 15.0, 0.02) == pytest.approx(52.78, abs=0.01)
    # At most two prompts a pass: T = 60 + 15 = 75 ms, busy = 1.5 / 2.5 = 0.6, added 15 +
    # 0.6 x 37.5 = 37.5 ms.
    assert latency.batched_pass_wait_ms(60.0, 15.0, 0.02, 2) == pytest.approx(37.5)
    # No load: nothing added; rho >= 1: the passes never catch up.
    assert latency.batched_pass_wait_ms(60.0, 15.0, 0.0) == 0.0
    assert latency.batched_pass_wait_ms(60.0, 15.0, 0.1) == np.inf
    with pytest.raises(ValueError, match="requests_per_ms"):
        latency.batched_pass_wait_ms(60.0, 15.0, -1.0)
    with pytest.raises(ValueError, match="max_prompts"):
        latency.batched_pass_wait_ms(60.0, 15.0, 0.01, 0.5)


@given(
    st.floats(0.0, 500.0),
    st.floats(0.0, 100.0),
    st.floats(0.0, 0.05),
    st.floats(0.0, 0.05),
)
def test_batched_pass_wait_grows_with_load(t1, w, rate, more):
    low = latency.batched_pass_wait_ms(t1, w, rate)
    high = latency.batched_pass_wait_ms(t1, w, rate + more)
    assert 0 <= low <= high


def test_prefill_pass_wait_only_on_a_disaggregated_pool():
    service = latency.service_times(MTP, WORKLOAD, MTP_CONFIG)
    # 20 requests/s over two prefill instances: 10 per instance, 0.01 per ms, with the
    # workload's mean t_1 and w and the chunk's prompts (8,192 over 0.9 x 1,024 tokens).
    wait = latency.prefill_pass_wait_ms(service, 20.0, 2)
    weight = service.prompt_weight
    t1, w = service.pass_alone_ms[1] @ weight, service.prefill_work_ms[1] @ weight
    by_hand = latency.batched_pass_wait_ms(t1, w, 0.01, 8192 / service.mean_prompt_tokens)
    assert wait[0] == 0.0
    assert wait[1] == pytest.approx(by_hand) and wait[1] > 0
    # The fleet's TTFT carries it: the mean TTFT less the queue's wait and the offset.
    state = latency.fleet_state(service, 20.0, prefill_instances=2)
    own = latency.piece_moments(*service.own_pieces, (1,))[0]
    np.testing.assert_allclose(state.mean_ttft_ms - state.mean_wait_ms - own, wait)


def test_steps_are_whole_decode_steps_and_the_decode_hand_off(monkeypatch):
    before = latency.service_times(MTP, WORKLOAD, MTP_CONFIG)
    # MTP: a step verifies the drafts and yields more than one token, so the step is
    # longer than the time per token.
    step, per_token = before.decode_step_ms, before.decode_ms_per_token
    assert np.all(step > 1.2 * per_token)
    # One more step of output delay in the serving path: every prompt node waits one
    # whole step more, aggregated and disaggregated.
    longer = latency.serving_path().copy()
    longer["output_delay_steps"] += 1
    monkeypatch.setattr(latency, "serving_path", lambda: longer)
    after = latency.service_times(MTP, WORKLOAD, MTP_CONFIG)
    nodes = after.own_prefill_ms.shape[1]
    np.testing.assert_allclose(
        after.own_prefill_ms - before.own_prefill_ms, np.repeat(step[:, None], nodes, axis=1)
    )
    # The decode server's hand-off: 2 steps (0.5 to pre-allocate the KV cache, 0.5 to poll
    # the transfer done, 1 to decode the first token); 3 adds one step, disaggregated only.
    monkeypatch.setattr(latency, "DECODE_HANDOFF_STEPS", 3.0)
    handed = latency.service_times(MTP, WORKLOAD, MTP_CONFIG)
    np.testing.assert_allclose((handed.own_prefill_ms - after.own_prefill_ms)[:, 0], [0.0, step[1]])


def test_slot_overflow_probability_by_hand():
    # One slot-free replica (cap 0) at 1,000 requests/s holding each 1 ms: N is Poisson
    # of mean 1, P(N > 0) = 1 - e^-1 = 0.632 (Wilson-Hilferty: 0.631); cap 4 at mean 3:
    # 1 - sum_k<=4 e^-3 3^k / k! = 0.1847.
    assert latency.slot_overflow_probability(0, 1000.0, 1.0) == pytest.approx(0.632, abs=2e-3)
    assert latency.slot_overflow_probability(4, 1000.0, 3.0) == pytest.approx(0.1847, abs=2e-3)
    assert latency.slot_overflow_probability(4, 1000.0, np.inf) == 1.0


def test_quantile_bounds_hold_the_quantiles():
    # The closed-form trial bounds of the TTFT and TPOT quantiles hold the quantiles the
    # search finds (TTFT >= X; X + W below x + w with probability at least q; a mixture's
    # quantile between its parts').
    both = {k: v * 2 for k, v in CONFIG.items()} | {"disaggregated": [False, True]}
    state = latency.fleet_state(latency.service_times(SCENARIO, WORKLOAD, both), 1.5, 1, 2)
    assert state.stable.all()
    found = latency.latency_quantiles(state)
    for q in latency.QUANTILES:
        for metric, bounds in (
            ("ttft", latency.ttft_quantile_bounds),
            ("tpot", latency.tpot_quantile_bounds),
        ):
            low, high = bounds(state, q)
            value = found[f"{metric}_p{100 * q:g}_ms"]
            ok = state.stable
            assert (low[ok] <= value[ok] * (1 + 1e-9)).all(), (metric, q)
            assert (high[ok] >= value[ok] * (1 - 1e-9)).all(), (metric, q)


@settings(deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["h100-sxm", "b200"]), st.integers(1, 3), st.booleans()),
        min_size=1,
        max_size=30,
    )
)
def test_distinct_rows_as_groupby_numbers_them(rows):
    # service_times' distinct rows: first appearance order, each row's position among
    # them, as pandas' groupby(sort=False).ngroup() numbers them.
    keys = pd.DataFrame(rows, columns=["gpu", "n", "ep"])
    unique, of = latency._distinct({name: keys[name].to_numpy() for name in keys.columns})
    expected = keys.groupby(list(keys.columns), sort=False).ngroup().to_numpy()
    assert of.tolist() == expected.tolist()
    assert pd.DataFrame(unique).equals(keys.drop_duplicates().reset_index(drop=True))
