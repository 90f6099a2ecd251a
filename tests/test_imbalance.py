"""Busiest-GPU factor of expert parallelism: closed form against sampled routings."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costmodel import imbalance
from costmodel.imbalance import (
    busiest_gpu_factor,
    expected_max_of_normals,
    expected_max_standard_normal,
    normal_cdf,
    place_experts,
    replica_counts,
)
from costmodel.moe import routing_probabilities

#: Sampled routings per case and the seed: the Monte Carlo error of the mean maximum is
#: about 0.4 sigma / sqrt(1000), under 0.2 % of the factor in every case below.
TRIALS, SEED = 1000, 20251201
#: Tolerance of the closed form against the simulation: 1.5 % of the factor. The closed
#: form runs 0.1 to 0.7 % low at 64 to 256 assignments per GPU (the counts' right skew,
#: which the normal approximation lacks); sqrt(2 ln G) in place of e_G would be 3.4 %
#: (G = 8) and 4.9 % (G = 32) high.
TOLERANCE = 0.015


def simulated_factor(tokens, routing: dict, trials=TRIALS):
    """Mean over sampled steps of max_g load_g / (B k / G), with the model's placement.

    ``routing``: ``place_experts``' arguments (experts, top-k, GPUs, copies, skew).

    Each token draws exactly k distinct experts with marginals p_i (Madow's systematic
    sampling over a random order of the experts: a random k-subset when uniform), then
    one copy of each chosen expert uniformly at random.
    """
    n_experts, k, n_gpus = (routing[f] for f in ("n_experts", "experts_per_token", "n_gpus"))
    rng = np.random.default_rng(SEED)
    p = routing_probabilities(n_experts, k, routing["routing_skew"])[0]
    p32 = p.astype(np.float32)
    place = place_experts(**routing)
    r = replica_counts(p, routing["redundant_experts"])[0]
    slot_expert, slot_gpu = place["slot_expert"][0], place["slot_gpu"][0]
    # gpu_of_copy[i, c]: GPU of the c-th copy of expert i.
    gpu_of_copy = np.zeros((n_experts, r.max()), int)
    copy_rank = np.zeros(n_experts, int)
    for expert, gpu in zip(slot_expert, slot_gpu, strict=True):
        gpu_of_copy[expert, copy_rank[expert]] = gpu
        copy_rank[expert] += 1
    maxima = []
    chunk = 50
    for _ in range(trials // chunk):
        order = np.argsort(rng.random((chunk, tokens, n_experts), dtype=np.float32), axis=-1)
        p_ordered = p32[order]
        # One of the points u, u + 1, ..., u + k - 1 falls in (upper - p, upper]: the
        # fractional part of upper - u is below p.
        shifted = np.cumsum(p_ordered, axis=-1) - rng.random((chunk, tokens, 1), np.float32)
        chosen = shifted - np.floor(shifted) < p_ordered
        trial = np.nonzero(chosen)[0]
        expert = order[chosen]
        copy = (rng.random(expert.shape) * r[expert]).astype(int)
        gpu = gpu_of_copy[expert, copy]
        loads = np.bincount(trial * n_gpus + gpu, minlength=chunk * n_gpus)
        maxima.append(loads.reshape(chunk, n_gpus).max(axis=1))
    return np.concatenate(maxima).mean() / (tokens * k / n_gpus)


@pytest.mark.parametrize(
    ("n_gpus", "redundant", "skew"),
    [
        (8, 0, 0.0),  # uniform, one HGX node
        (32, 0, 0.0),  # uniform, EP 32 (DeepSeek's prefill size)
        (32, 32, 0.0),  # uniform with EPLB's 32 copies: 288 slots, 9 per GPU
        (32, 0, 0.5),  # skewed: the hottest expert has p = 0.262, 8x the mean
        (32, 32, 0.5),  # skewed with 32 copies of the hottest experts
        (8, 32, 1.0),  # strongly skewed (p_1 capped at 1) with copies
    ],
)
def test_formula_matches_sampled_routings(n_gpus, redundant, skew):
    # DeepSeek-V3 routing: 256 experts, top-8; 256 tokens in the step: mean load
    # 256 * 8 / G = 256 (G = 8) or 64 (G = 32) assignments per GPU.
    tokens = 256
    routing = {"n_experts": 256, "experts_per_token": 8, "n_gpus": n_gpus}
    routing.update(redundant_experts=redundant, routing_skew=skew)
    formula = busiest_gpu_factor(tokens=tokens, **routing)
    simulated = simulated_factor(tokens, routing)
    assert formula == pytest.approx(simulated, rel=TOLERANCE)


def test_uniform_factor_by_hand():
    # 256 tokens per GPU on 32 GPUs, uniform, no copies: mean 2048 assignments per GPU,
    # variance B v = 8192 * 8 * (8/256) (1 - 8/256) = 2048 * 248/256, sigma 44.54;
    # e_32 = 2.0697 (expected max of 32 standard normals): 1 + 2.0697 * 44.54 / 2048.
    sigma = np.sqrt(2048 * 248 / 256)
    expected = 1 + 2.0697 * sigma / 2048
    factor = busiest_gpu_factor(tokens=8192, n_experts=256, experts_per_token=8, n_gpus=32)
    assert factor == pytest.approx(expected, abs=1e-4)
    assert expected == pytest.approx(1.0450, abs=1e-4)


def test_expected_max_of_standard_normals():
    # e_2 = 1/sqrt(pi); e_8 = 1.4236 (tables of normal order statistics); a seeded
    # sample of 200,000 maxima of 256 normals gives 2.827 (standard error 0.001).
    e = expected_max_standard_normal([1, 2, 8, 256])
    assert e[0] == pytest.approx(0.0, abs=1e-6)
    assert e[1] == pytest.approx(1 / np.sqrt(np.pi), abs=1e-6)
    assert e[2] == pytest.approx(1.4236, abs=1e-4)
    sample = np.random.default_rng(SEED).standard_normal((20_000, 256)).max(axis=1).mean()
    assert e[3] == pytest.approx(sample, abs=0.01)
    # The asymptotic sqrt(2 ln G) of theory-2025.md overstates the maximum at these sizes.
    assert np.sqrt(2 * np.log(8)) > 1.4 * e[2]
    assert normal_cdf(0.0) == pytest.approx(0.5)
    assert normal_cdf(1.959964) == pytest.approx(0.975, abs=1e-7)


def test_max_of_unequal_normals():
    # One far-ahead variable dominates: E[max] = its mean.
    assert expected_max_of_normals([100.0, 0.0], [1.0, 1.0]) == pytest.approx(100.0, abs=1e-6)
    # Two equal N(0, 1): 1/sqrt(pi); a constant and a NaN padding change nothing.
    assert expected_max_of_normals([0.0, 0.0, np.nan], [1.0, 1.0, 1.0]) == pytest.approx(
        1 / np.sqrt(np.pi), abs=1e-6
    )
    assert expected_max_of_normals([3.0, -50.0], [0.0, 1.0]) == pytest.approx(3.0, abs=1e-6)


def test_replicas_go_to_the_hottest_experts():
    # p = (0.9, 0.6, 0.3, 0.2) with 3 copies: 0.9 -> 2 copies (0.45 each), then 0.6 -> 2
    # (0.3), then 0.45 > 0.3: 0.9 -> 3 copies (0.3 each).
    r = replica_counts(np.array([[0.9, 0.6, 0.3, 0.2]]), 3)
    assert r.tolist() == [[3, 2, 1, 1]]


def test_placement_fills_every_gpu_and_keeps_the_mean():
    place = place_experts(
        n_experts=256, experts_per_token=8, n_gpus=[8, 32, 72], redundant_experts=[0, 32, 32]
    )
    per_gpu = [
        np.bincount(g[g >= 0], minlength=n)
        for g, n in zip(place["slot_gpu"], (8, 32, 72), strict=True)
    ]
    assert [int(c.max()) for c in per_gpu] == [32, 9, 4]  # 256/8, 288/32, 288/72 slots
    assert np.nansum(place["gpu_mean"], axis=1) == pytest.approx([8, 8, 8])


def test_redundant_experts_lower_the_skewed_factor():
    # Zipf 0.5 over 256 experts: p_1 = 8 / sum i^-0.5 = 0.262 alone exceeds the mean
    # 8/32 = 0.25 per GPU; 32 copies split the hottest experts and restore balance.
    kw = dict(tokens=8192, n_experts=256, experts_per_token=8, n_gpus=32, routing_skew=0.5)
    without = busiest_gpu_factor(**kw)
    with_copies = busiest_gpu_factor(**kw, redundant_experts=32)
    assert without > 1.4
    assert with_copies < 1.06
    uniform = busiest_gpu_factor(tokens=8192, n_experts=256, experts_per_token=8, n_gpus=32)
    assert with_copies == pytest.approx(uniform, rel=0.01)


def test_factor_properties():
    tokens = np.array([64, 256, 1024, 4096, 16384])
    f = busiest_gpu_factor(tokens=tokens, n_experts=256, experts_per_token=8, n_gpus=32)
    assert f.shape == tokens.shape
    assert np.all(f >= 1) and np.all(np.diff(f) < 0)  # more tokens, relatively flatter
    gpus = busiest_gpu_factor(tokens=4096, n_experts=256, experts_per_token=8, n_gpus=[2, 8, 32])
    assert np.all(np.diff(gpus) > 0)  # more GPUs, a higher maximum
    # 256 experts over 72 GPUs: some hold 4, some 3: the busiest holds 4 / (256/72) = 1.125
    # of the mean before any randomness.
    assert busiest_gpu_factor(
        tokens=1e9, n_experts=256, experts_per_token=8, n_gpus=72
    ) == pytest.approx(1.125, abs=1e-3)
    assert busiest_gpu_factor(tokens=100, n_experts=8, experts_per_token=2, n_gpus=1) == (
        pytest.approx(1.0, abs=1e-6)
    )


@pytest.mark.parametrize(
    ("name", "kw"),
    [
        ("tokens", dict(tokens=0)),
        ("n_gpus", dict(n_gpus=0)),
        ("redundant_experts", dict(redundant_experts=-1)),
        ("n_experts", dict(n_experts=4, n_gpus=8)),
    ],
)
def test_invalid_parameters_are_named(name, kw):
    args = dict(tokens=64, n_experts=256, experts_per_token=8, n_gpus=8) | kw
    with pytest.raises(ValueError, match=name):
        busiest_gpu_factor(**args)


def test_normal_cdf_is_np_interp_on_its_table_bit_for_bit():
    # The interval is found by arithmetic on the even table, not by np.interp's binary
    # search: same interval, same slope, same result, at the table's points, just beside
    # them, far outside, at +-inf and NaN.
    from costmodel.imbalance import _cdf_table, _z_table

    rng = np.random.default_rng(SEED)
    z = np.concatenate(
        [
            rng.normal(0.0, 5.0, 200_000),
            _z_table,
            np.nextafter(_z_table, np.inf),
            np.nextafter(_z_table, -np.inf),
            [-1e300, 1e300, -np.inf, np.inf, np.nan, -0.0],
        ]
    )
    expected = np.interp(z, _z_table, _cdf_table)
    assert np.array_equal(normal_cdf(z), expected, equal_nan=True)
    assert normal_cdf(0.0) == 0.5 and np.ndim(normal_cdf(0.3)) == 0


def test_placement_is_kept_per_configuration_and_read_only():
    # An evaluation asks four times (decode, verification, prefill, pool) for the same
    # configurations: the GPUs' loads are computed once, equal to place_experts'.
    from costmodel.imbalance import _gpu_moments

    configs = np.array([[256.0, 8.0, 32.0, 32.0, 0.8], [8.0, 2.0, 8.0, 0.0, 0.0]])
    _gpu_moments.cache_clear()
    mean, variance = _gpu_moments(configs.tobytes())
    again = _gpu_moments(configs.tobytes())
    assert again[0] is mean and _gpu_moments.cache_info().hits == 1
    placed = place_experts(
        n_experts=[256, 8],
        experts_per_token=[8.0, 2.0],
        n_gpus=[32, 8],
        redundant_experts=[32, 0],
        routing_skew=[0.8, 0.0],
    )
    assert np.array_equal(mean, placed["gpu_mean"], equal_nan=True)
    assert np.array_equal(variance, placed["gpu_variance"], equal_nan=True)
    assert not mean.flags.writeable


def test_integration_in_blocks_gives_each_row_what_it_gives_alone():
    # Rows are integrated in cache-sized blocks (_MAX_BLOCK_ELEMENTS): a row's value
    # does not depend on the rows beside it, bit for bit; padding (NaN) and constants
    # (std 0) in some rows take the slower path only in their block.
    rng = np.random.default_rng(SEED)
    mean = rng.normal(100.0, 5.0, (40, 16))
    std = rng.uniform(0.5, 3.0, (40, 16))
    mean[3, 10:] = np.nan
    std[7, 2] = 0.0
    together = expected_max_of_normals(mean, std)
    alone = [expected_max_of_normals(mean[i : i + 1], std[i : i + 1])[0] for i in range(40)]
    assert np.array_equal(together, alone)


def test_kept_loads_equal_a_fresh_integration_and_are_not_integrated_again(monkeypatch):
    # busiest_gpu_factor keeps E[max] per (configuration, tokens): a second call (a page
    # rerun with a new efficiency) integrates only the token counts not seen, and every
    # value equals what an integration of its row alone gives, bit for bit.

    monkeypatch.setattr(imbalance, "_kept_loads", imbalance._KeptLoads())
    integrated = []
    integrate = imbalance.expected_max_of_normals
    monkeypatch.setattr(
        imbalance,
        "expected_max_of_normals",
        lambda mean, std: integrated.append(len(mean)) or integrate(mean, std),
    )
    routing = dict(n_experts=[256, 256, 8], experts_per_token=[8, 8, 2], n_gpus=[32, 32, 8])
    first = busiest_gpu_factor(tokens=[4096.0, 512.0, 64.0], **routing)
    assert integrated == [3]
    again = busiest_gpu_factor(tokens=[512.0, 4096.0, 64.0], **routing)  # all kept
    assert integrated == [3] and np.array_equal(again, first[[1, 0, 2]])
    mixed = busiest_gpu_factor(tokens=[4096.0, 100.0, 64.0], **routing)  # one new pair
    assert integrated == [3, 1] and mixed[0] == first[0] and mixed[2] == first[2]
    for tokens, E, k, G, factor in zip(
        [4096.0, 100.0, 64.0], *routing.values(), mixed, strict=True
    ):
        monkeypatch.setattr(imbalance, "_kept_loads", imbalance._KeptLoads())
        alone = busiest_gpu_factor(tokens=tokens, n_experts=E, experts_per_token=k, n_gpus=G)
        assert alone == factor


def test_kept_loads_are_bounded(monkeypatch):
    # At most _KEPT_TOKENS token counts per configuration (beyond, it starts anew with
    # the new ones) and _KEPT_CONFIGURATIONS configurations (the least recently used go).

    monkeypatch.setattr(imbalance, "_KEPT_TOKENS", 4)
    monkeypatch.setattr(imbalance, "_KEPT_CONFIGURATIONS", 2)
    kept = imbalance._KeptLoads()
    kept.keep(b"a", np.array([3.0, 1.0]), np.array([30.0, 10.0]))
    kept.keep(b"a", np.array([2.0]), np.array([20.0]))
    assert kept.kept[b"a"][0].tolist() == [1.0, 2.0, 3.0]  # sorted by tokens
    values, found = kept.look_up(b"a", np.array([2.0, 5.0, 1.0]))
    assert found.tolist() == [True, False, True] and values[[0, 2]].tolist() == [20.0, 10.0]
    kept.keep(b"a", np.array([4.0, 5.0, 6.0]), np.array([40.0, 50.0, 60.0]))  # 3 + 3 > 4
    assert kept.kept[b"a"][0].tolist() == [4.0, 5.0, 6.0]
    kept.keep(b"b", np.array([1.0]), np.array([1.0]))
    kept.look_up(b"a", np.array([4.0]))  # a used last: b goes first
    kept.keep(b"c", np.array([1.0]), np.array([1.0]))
    assert list(kept.kept) == [b"a", b"c"]
    assert not kept.look_up(b"b", np.array([1.0]))[1].any()


@given(
    st.lists(
        st.tuples(st.sampled_from([1.0, 2.0, 8.0, 256.0]), st.sampled_from([0.0, 0.5, 1.0])),
        min_size=1,
        max_size=40,
    )
)
@settings(max_examples=80, deadline=None)
def test_unique_rows_is_numpys_unique_by_rows(rows):
    """``unique_rows`` gives ``np.unique(axis=0, return_inverse=True)``'s rows and codes."""
    array = np.array(rows, float)
    distinct, inverse = imbalance.unique_rows(array)
    expected, expected_inverse = np.unique(array, axis=0, return_inverse=True)
    np.testing.assert_array_equal(distinct, expected)
    np.testing.assert_array_equal(inverse, expected_inverse.reshape(-1))
    np.testing.assert_array_equal(distinct[inverse], array)  # each row found again
