"""Queueing formulas by hand, and the latency model against a discrete-event simulation."""

import math

import numpy as np
import pytest

from costmodel import queueing
from costmodel.planning import get_workload
from costmodel.planning.simulation import check_against_simulation


def test_erlang_c_by_hand():
    # One server: C = rho. Two servers at a = 1: B(1) = 1/2, B(2) = (1/2) / (2 + 1/2) =
    # 0.2, C = 0.2 / (1 - 0.5 x 0.8) = 1/3. Three at a = 2: B = 2/3, 0.4, 0.8 / 3.8,
    # C = (4/19) / (1 - (2/3)(15/19)) = 4/9.
    assert queueing.erlang_c(1, 0.3) == pytest.approx(0.3)
    assert queueing.erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert queueing.erlang_c(3, 2.0) == pytest.approx(4 / 9)
    # Vectorised over servers and load; saturated queues: everyone waits.
    c = queueing.erlang_c(np.array([1, 2, 3]), np.array([0.3, 1.0, 3.5]))
    assert c == pytest.approx([0.3, 1 / 3, 1.0])
    with pytest.raises(ValueError, match="servers"):
        queueing.erlang_c(0, 0.5)


def test_mgc_wait_is_pollaczek_khinchine_and_mm1_by_hand():
    # M/D/1 at rho = 0.5, E[S] = 0.1 s: 0.5 x 0.1 / (2 x 0.5) = 0.05 s (the evaluation's
    # disaggregated queue, disaggregation.ttft_ms, uses this).
    assert queueing.mgc_wait(5.0, 0.1, 0.0, 1)["mean_wait_s"] == pytest.approx(0.05)
    # M/M/1, lambda = 5, mu = 10: rho / (mu - lambda) = 0.1 s.
    assert queueing.mgc_wait(5.0, 0.1, 1.0, 1)["mean_wait_s"] == pytest.approx(0.1)
    # M/M/3 at a = 2 (mu = 1): C / (c mu - lambda) = (4/9) / 1.
    assert queueing.mgc_wait(2.0, 1.0, 1.0, 3)["mean_wait_s"] == pytest.approx(4 / 9)
    assert queueing.mgc_wait(12.0, 0.1, 1.0, 1)["mean_wait_s"] == np.inf


def test_wait_law_is_exact_for_mmc():
    # M/M/3, lambda = 2, mu = 1: P(W > t) = C exp(-(c mu - lambda) t) = (4/9) e^-t.
    # Exponential service: E[S^3] = 6, so the residual's scv 4 x 1 x 6 / (3 x 2^2) - 1 = 1.
    q = queueing.mgc_wait(2.0, 1.0, 1.0, 3, service_third_moment=6.0)
    assert q["residual_scv"] == pytest.approx(1.0)
    law = queueing.wait_law(q["wait_probability"], q["utilization"], q["residual_s"], 1.0)
    t = np.array([0.0, 0.5, 1.0, 3.0])
    assert queueing.wait_cdf(t, law) == pytest.approx(1 - 4 / 9 * np.exp(-t), abs=1e-9)
    assert queueing.wait_cdf(-0.1, law) == 0.0
    # Its integral, G(t) = t - (4/9)(1 - e^-t).
    assert queueing.wait_cdf_integral(t, law) == pytest.approx(t - 4 / 9 * (1 - np.exp(-t)))


@pytest.mark.parametrize("scv", [0.2, 1.0, 3.0])
def test_wait_law_mean_and_integral_agree(scv):
    # The mean of W is the integral of its survival; G integrates the CDF.
    q = queueing.mgc_wait(7.0, 0.1, scv, 1, service_third_moment=(1 + scv) ** 2 * 1e-3 * 1.5)
    law = queueing.wait_law(q["wait_probability"], q["utilization"], q["residual_s"], 1.0)
    t = np.linspace(0, 60 * float(q["mean_wait_s"]) + 1, 200_001)
    survival = 1 - queueing.wait_cdf(t, law)
    mean = float(np.sum((survival[1:] + survival[:-1]) / 2 * np.diff(t)))
    assert mean == pytest.approx(float(q["mean_wait_s"]), rel=1e-3)
    numeric = np.cumsum(np.r_[0, (1 - survival[1:] + 1 - survival[:-1]) / 2 * np.diff(t)])
    assert queueing.wait_cdf_integral(t[::20000], law) == pytest.approx(numeric[::20000], rel=1e-4)


def test_normal_and_gamma_laws():
    z = np.linspace(-4, 4, 17)
    exact = [0.5 * (1 + math.erf(v / math.sqrt(2))) for v in z]
    assert queueing.normal_cdf(z) == pytest.approx(exact, abs=2e-7)
    assert queueing.normal_quantile(0.9) == pytest.approx(1.2815516, abs=1e-5)
    # Wilson-Hilferty against sampled gammas of shape 2 and 20 (mean 3).
    rng = np.random.default_rng(0)
    for shape in (2.0, 20.0):
        x = rng.gamma(shape, 3.0 / shape, 400_000)
        for q in (0.1, 0.5, 0.9, 0.99):
            v = np.quantile(x, q)
            assert queueing.gamma_cdf(v, 3.0, 9.0 / shape) == pytest.approx(q, abs=0.006)
    assert queueing.gamma_cdf([1.9, 2.1], 2.0, 0.0) == pytest.approx([0.0, 1.0])


def test_mixture_quantiles_of_an_exponential():
    # P(X <= t) = 1 - exp(-t / 2): the median is 2 ln 2, the 90th percentile 2 ln 10.
    found = queueing.mixture_quantiles(
        lambda t, rows: 1 - np.exp(-t / 2), np.zeros(2), np.full(2, 100.0), (0.5, 0.9)
    )
    assert found[0] == pytest.approx([2 * math.log(2), 2 * math.log(10)], rel=1e-9)


def test_mixture_quantiles_of_a_step_and_of_rows_apart():
    # Row 0: an atom of 0.3 at t = 1 and the rest uniform on [2, 4]: P(X <= t) = 0.3 on
    # [1, 2), then 0.3 + 0.7 (t - 2) / 2. The median: 0.3 + 0.35 (t - 2) = 0.5 ->
    # t = 2 + 0.2 / 0.35 = 2.5714; q = 0.2 sits on the step: t = 1. Row 1: exponential of
    # mean 10, q = 0.5 -> 10 ln 2. Each row is only asked where its own CDF is needed.
    def cdf(t, rows):
        step = np.where(t >= 1, 0.3, 0.0) + 0.7 * np.clip((t - 2) / 2, 0, 1)
        return np.where(rows == 0, step, 1 - np.exp(-t / 10))

    found = queueing.mixture_quantiles(cdf, np.zeros(2), np.array([10.0, 1000.0]), (0.2, 0.5))
    assert found[0] == pytest.approx([1.0, 2 + 0.2 / 0.35], rel=1e-8)
    assert found[1, 1] == pytest.approx(10 * math.log(2), rel=1e-8)


@pytest.mark.parametrize(
    "inner",
    [
        lambda q: (np.full(2, 0.1), np.full(2, 0.2)),  # both below the quantile
        lambda q: (np.full(2, 50.0), np.full(2, 60.0)),  # both above
        lambda q: (np.full(2, 2 * math.log(1 / (1 - q)) - 1e-3), np.full(2, 5.0)),  # close
    ],
)
def test_mixture_quantiles_trial_points_never_change_the_answer(inner):
    # The exponential of mean 2 again: any trial points, right or wrong, only narrow the
    # bracket on the side their CDF says; the quantiles stay 2 ln 2 and 2 ln 10.
    found = queueing.mixture_quantiles(
        lambda t, rows: 1 - np.exp(-t / 2), np.zeros(2), np.full(2, 100.0), (0.5, 0.9), inner
    )
    assert found[1] == pytest.approx([2 * math.log(2), 2 * math.log(10)], rel=1e-9)


def test_gamma_quantile_by_hand_and_as_the_cdf_inverse():
    # Mean 10, variance 10 (k = 10), p = 0.9: z = 1.28155, 1/(9k) = 1/90,
    # 10 x (1 - 0.011111 + 1.28155 x 0.105409)^3 = 10 x 1.123977^3 = 14.1995 (the exact
    # gamma quantile is 14.2060); a step (variance 0) at its mean.
    assert queueing.gamma_quantile(0.9, 10.0, 10.0) == pytest.approx(14.1995, abs=1e-3)
    assert queueing.gamma_quantile(0.5, 3.0, 0.0) == 3.0
    mean, variance = np.array([1.0, 5.0, 50.0]), np.array([0.1, 20.0, 4000.0])
    for p in (0.1, 0.5, 0.99):
        x = queueing.gamma_quantile(p, mean, variance)
        assert queueing.gamma_cdf(x, mean, variance) == pytest.approx(p, abs=1e-9)


def test_wait_quantile_bound_by_hand_and_as_a_bound():
    # C = 0.5, an exponential of mean 10 after no shift: P(W > w) = 0.5 e^(-w / 10) = 0.1
    # -> w = 10 ln 5 = 16.094; at q = 0.4 <= 1 - C nobody needs to wait: 0.
    law = {
        "stable": True,
        "wait_probability": 0.5,
        "hyper": False,
        "k1": 1.0,
        "l1": -1.0,
        "k2": 0.0,
        "l2": -1.0,
        "shift": 0.0,
        "theta": 10.0,
    }
    assert queueing.wait_quantile_bound(0.9, law) == pytest.approx(10 * math.log(5), rel=1e-12)
    assert queueing.wait_quantile_bound(0.4, law) == 0.0
    # The bound is one for M/G/c queues of every kind of residual (shifted exponential,
    # v < 1; hyperexponential, v > 1), where it is not the quantile itself.
    for scv in (0.2, 1.0, 3.0):
        q = queueing.mgc_wait(0.08, 10.0, scv, 1, (1 + scv) ** 2 * 1000.0)
        wait = queueing.wait_law(
            q["wait_probability"], q["utilization"], q["residual_s"], q["residual_scv"]
        )
        for p in (0.6, 0.9, 0.99):
            bound = queueing.wait_quantile_bound(p, wait)
            assert queueing.wait_cdf(bound, wait) >= p - 1e-12


# --- the latency model against a discrete-event simulation ----------------------------


@pytest.mark.parametrize("name", ["inferencex-8k1k", "rag", "agentic-coding"])
def test_ttft_quantiles_match_a_simulation(name):
    # Poisson arrivals at 10 % to 90 % of each queue's capacity, FCFS, the model's own
    # service times (planning.simulation): Llama 3.1 70B on 4x H100, one aggregated
    # replica (M/G/1) and a pool of four prefill instances (M/G/4). p50 and p90 of TTFT
    # within 10 %.
    table = check_against_simulation(get_workload(name), quantiles=(0.5, 0.9))
    assert len(table) == 2 * 2 * 9
    assert table["error_pct"].abs().max() < 10, table.round(1).to_string()


def test_erlang_c_of_large_pools_matches_the_full_recursion():
    # The recursion runs only over a window around the offered load; against the full
    # Erlang B recursion from B(0) = 1 (by hand, one server at a time) it agrees to
    # rounding on pools of 50 to 20,000 servers near and far from saturation.
    def full(c, a):
        b = 1.0
        for k in range(1, c + 1):
            b = a * b / (k + a * b)
        return b / (1 - a / c * (1 - b)) if a < c else 1.0

    cases = [(50, 45.0), (1000, 950.0), (1000, 990.0), (5000, 4900.0), (20000, 19990.0)]
    cases += [(3000, 1000.0), (20000, 19800.0)]
    got = queueing.erlang_c([c for c, _ in cases], [a for _, a in cases])
    assert got == pytest.approx([full(c, a) for c, a in cases], rel=1e-9, abs=1e-300)


def test_mixture_quantiles_searched_together_as_each_alone():
    # Every (row, quantile) pair is one search of the same batch: rows of exponentials of
    # means 1, 10 and 100, asked three quantiles at once, give each quantile as asked
    # alone, -mean ln(1 - q), and the CDF is called once per step for all pairs.
    means = np.array([1.0, 10.0, 100.0])
    calls = []

    def cdf(t, rows):
        calls.append(rows.size)
        return 1 - np.exp(-t / means[rows])

    quantiles = (0.5, 0.9, 0.99)
    found = queueing.mixture_quantiles(cdf, np.zeros(3), np.full(3, 1e4), quantiles)
    assert calls[0] == 9  # 3 rows x 3 quantiles in the first call
    for i, q in enumerate(quantiles):
        alone = queueing.mixture_quantiles(cdf, np.zeros(3), np.full(3, 1e4), (q,))
        assert found[:, i] == pytest.approx(alone[:, 0], rel=1e-12)
        assert found[:, i] == pytest.approx(-means * np.log(1 - q), rel=1e-8)
