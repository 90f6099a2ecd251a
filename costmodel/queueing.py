"""Queueing formulas, vectorised: the M/G/c wait, its distribution, and quantiles of mixtures.

A queue with Poisson arrivals at ``arrival_rate`` lambda [1/s], ``servers`` c and i.i.d.
service times S of mean E[S] [s] and squared coefficient of variation
``c_s^2 = Var[S] / E[S]^2`` [-] (M/G/c, first come first served):

- offered load ``a = lambda E[S]`` [servers], utilisation ``rho = a / c`` [0-1];
- :func:`erlang_c`: probability that an arrival waits, ``C(c, a)``, exact for M/M/c and
  used for M/G/c (the Allen-Cunneen approximation does the same);
- :func:`mgc_wait`: the mean wait, Allen-Cunneen: ``W_q = C(c, a) / (c / E[S] - lambda)
  * (1 + c_s^2) / 2`` (exact for M/M/c, c_s^2 = 1, and for M/G/1, where it is
  Pollaczek-Khinchine: ``rho E[S] (1 + c_s^2) / (2 (1 - rho))``);
- the wait's distribution (the tail approximation, :func:`wait_law`): ``W = 0`` with
  probability ``1 - C``; the wait of those who wait is that of the M/G/1 queue at the
  same rho with service S / c, a geometric number of residual services (the
  Pollaczek-Khinchine form), the residual fitted on its two moments (``E[R] = E[S^2] /
  (2 E[S])``, ``E[R^2] = E[S^3] / (3 E[S])``). Its mean is Allen-Cunneen's; it is exact
  for M/M/c and its first two moments are exact for M/G/1. ``tests/test_queueing.py``
  checks the quantiles against a discrete-event simulation.

:func:`mixture_quantiles` inverts a CDF given as a function (a mixture over quadrature
nodes, say) by bisection, vectorised over rows; :func:`normal_cdf` and
:func:`gamma_cdf` (Wilson-Hilferty) are what the latency model needs without scipy.
"""

from __future__ import annotations

import functools
import math

import numpy as np

#: Bisection steps of :func:`normal_quantile`: the bracket shrinks by 2^-60.
BISECTION_STEPS = 60
#: :func:`mixture_quantiles` stops when every bracket is below this share of the quantile
#: it holds (1e-9: a picosecond on a millisecond), or of the bracket where that is 0.
QUANTILE_TOLERANCE = 1e-9
#: :func:`mixture_quantiles`' steps of plain Illinois regula falsi before its bisection
#: safeguard comes in: a latency CDF, smooth between kinks, converges in about 11 steps
#: per row this way, against 20 with the safeguard from the first step (measured on the
#: fleet sizer's 1,631 fleets); a CDF with a step still ends by bisection.
SECANT_STEPS = 12

#: Abramowitz and Stegun (1964), formula 7.1.26: erf(x) = 1 - (a1 t + ... + a5 t^5)
#: exp(-x^2), t = 1 / (1 + p x), x >= 0; absolute error below 1.5e-7.
_AS_P = 0.3275911
_AS_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def _nonnegative(name, value):
    v = np.asarray(value, float)
    if np.any(~(v >= 0)):
        raise ValueError(f"{name} must be >= 0; got {value!r}")
    return v


#: Poisson standard deviations of the offered load ``a`` below it where the Erlang B
#: recursion starts (``B(k) ~ 1 - k/a`` there; the recursion shrinks that start's error by
#: about ``prod k/a ~ exp(-8^2 / 2) = 1e-14`` before k reaches a), and above it where it
#: stops (``B < exp(-12^2 / 2) = 5e-32``, taken as 0).
ERLANG_START_SD = 8.0
ERLANG_END_SD = 12.0


def erlang_c(servers, offered_load):
    """Probability that an arrival waits in an M/M/c queue, Erlang's C formula [0-1].

    ``a = lambda E[S]`` [servers] on ``c`` servers. By the Erlang B recursion
    ``B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1))`` and ``C = B(c) / (1 - rho (1 - B(c)))``,
    ``rho = a / c``; 1 where ``rho >= 1`` (every arrival waits). c = 1: ``C = rho``;
    c = 2, a = 1: B(2) = 0.2, C = 0.2 / (1 - 0.5 x 0.8) = 1/3. Vectorised. The recursion
    runs over a window around ``a`` only (``ERLANG_START_SD``, ``ERLANG_END_SD``): from
    ``B = 1 - k/a`` at ``k = a - 8 sqrt(a)`` (exactly from B(0) = 1 while a < 64), and
    B = 0 past ``a + 12 sqrt(a) + 12``; so a pool of 50,000 servers costs about 4,500
    steps, not 50,000.
    """
    c = np.asarray(servers)
    if np.any(c < 1) or np.any(np.asarray(c, float) % 1 != 0):
        raise ValueError(f"servers must be whole numbers >= 1; got {servers!r}")
    a = _nonnegative("offered_load", offered_load)
    c, a = np.broadcast_arrays(c.astype(np.int64), a)
    spread = np.sqrt(a)
    start = np.maximum(np.floor(a - ERLANG_START_SD * spread), 0).astype(np.int64)
    start = np.minimum(start, c)
    end = np.minimum(c, np.ceil(a + ERLANG_END_SD * spread + ERLANG_END_SD)).astype(np.int64)
    b = np.where(start > 0, 1 - start / np.where(a > 0, a, 1.0), 1.0)
    # Step j runs on the rows whose window is that long: sorted longest first, a prefix.
    steps = (end - start).ravel()
    order = np.argsort(-steps, kind="stable")
    length = steps[order]
    a_sorted, k_sorted, b_sorted = a.ravel()[order], start.ravel()[order], b.ravel()[order]
    for j in range(1, int(length.max(initial=0)) + 1):
        m = np.searchsorted(-length, -j, side="right")  # rows with length >= j
        k_sorted[:m] += 1
        ab = a_sorted[:m] * b_sorted[:m]
        b_sorted[:m] = ab / (k_sorted[:m] + ab)
    b = np.empty(steps.size)
    b[order] = b_sorted
    b = np.where(c > end, 0.0, b.reshape(a.shape))
    rho = a / c
    waiting = np.where(rho < 1, b / np.maximum(1 - rho * (1 - b), 1e-300), 1.0)
    return np.clip(waiting, 0.0, 1.0)


def mgc_wait(arrival_rate, mean_service_s, service_scv, servers, service_third_moment=None):
    """The wait in queue of an M/G/c queue: Allen-Cunneen mean and the law of the wait [s].

    Returns ``utilization`` rho = lambda E[S] / c [-], ``wait_probability`` C(c, a) [0-1],
    ``mean_wait_s`` ``W_q = C / (c / E[S] - lambda) (1 + c_s^2) / 2`` [s] (infinite
    where rho >= 1), and the residual service of the M/G/1 analogue (service S / c at
    rho) that shapes the wait (:func:`wait_cdf`): ``residual_s`` ``E[S^2] / (2 c E[S])``
    [s] and ``residual_scv`` ``4 E[S] E[S^3] / (3 E[S^2]^2) - 1`` [-] (1 without
    ``service_third_moment`` E[S^3] [s^3]). One server at rho = 0.5, E[S] = 0.1 s, c_s^2
    = 0 (M/D/1): W_q = 0.5 / (10 - 5) x 1/2 = 0.05 s.
    """
    lam = _nonnegative("arrival_rate", arrival_rate)
    s = _nonnegative("mean_service_s", mean_service_s)
    scv = _nonnegative("service_scv", service_scv)
    c = np.asarray(servers, float)
    rho = lam * s / c
    waiting = erlang_c(np.asarray(servers), lam * s)
    stable = rho < 1
    spare = np.where(stable, c / np.where(s > 0, s, 1.0) - lam, 1.0)
    second = (1 + scv) * s**2
    if service_third_moment is None:
        residual_scv = np.ones(np.shape(second))
    else:
        third = _nonnegative("service_third_moment", service_third_moment)
        residual_scv = 4 * s * third / (3 * np.maximum(second, 1e-300) ** 2) - 1
    return {
        "utilization": rho,
        "wait_probability": waiting,
        "mean_wait_s": np.where(stable, waiting / spare * (1 + scv) / 2, np.inf),
        "residual_s": second / (2 * c * np.where(s > 0, s, 1.0)),
        "residual_scv": np.maximum(residual_scv, 0.0),
    }


#: Utilisation below which the wait's law is taken at this floor (its two exponentials
#: merge at rho = 0, where nobody waits anyway).
_RHO_FLOOR = 1e-9


def wait_law(wait_probability, utilization, residual_s, residual_scv=1.0) -> dict:
    """Parameters of the wait's law of an M/G/c queue (``mgc_wait``'s outputs).

    ``W = 0`` with probability ``1 - C``; the wait of those who wait, W', is that of the
    M/G/1 analogue: a sum of N >= 1 residual services R, ``P(N = n) = (1 - rho)
    rho^(n-1)`` (the Pollaczek-Khinchine form), R of mean m = ``residual_s`` and squared
    coefficient of variation v = ``residual_scv``:

    - v >= 1: R a two-phase hyperexponential with balanced means (``p = (1 + sqrt((v - 1)
      / (v + 1))) / 2``, phase means ``m / (2p)`` and ``m / (2 (1 - p))``); W' is then
      phase-type with sub-generator ``T = diag(-mu) + rho mu alpha`` and ``P(W' > t) =
      alpha exp(T t) 1 = k1 exp(l1 t) + k2 exp(l2 t)`` (Sylvester's formula);
    - v < 1: W' an exponential shifted by ``shift`` to match its mean ``m / (1 - rho)``
      and second moment ``(1 + v) m^2 / (1 - rho) + 2 rho m^2 / (1 - rho)^2``.

    Exact for M/M/c (v = 1: an exponential of mean ``1 / (c mu - lambda)``); for M/G/1
    the first two moments of W are exact. Returns arrays for :func:`wait_cdf`.
    """
    rho = np.asarray(utilization, float)
    stable = rho < 1
    r = np.clip(rho, _RHO_FLOOR, 1 - 1e-12)
    m = np.where(np.asarray(residual_s, float) > 0, residual_s, 1.0)
    v = np.maximum(np.asarray(residual_scv, float), 0.0)
    p = 0.5 * (1 + np.sqrt(np.maximum(v - 1, 0) / (np.maximum(v, 1) + 1)))
    mu1, mu2 = 2 * p / m, 2 * (1 - p) / m
    a, b = -mu1 + r * mu1 * p, r * mu1 * (1 - p)
    c, d = r * mu2 * p, -mu2 + r * mu2 * (1 - p)
    trace, det = a + d, a * d - b * c
    root = np.sqrt(np.maximum(trace**2 - 4 * det, 0.0))
    l1, l2 = (trace + root) / 2, (trace - root) / 2
    exit_rate = p * (a + b) + (1 - p) * (c + d)  # alpha T 1
    gap = np.maximum(l1 - l2, 1e-300)
    mean_w = m / (1 - r)
    second_w = (1 + v) * m**2 / (1 - r) + 2 * r * m**2 / (1 - r) ** 2
    spread = np.sqrt(np.maximum(second_w - mean_w**2, 0.0))
    return {
        "stable": stable,
        "wait_probability": np.asarray(wait_probability, float),
        "hyper": v >= 1,
        "k1": (exit_rate - l2) / gap,
        "l1": l1,
        "k2": -(exit_rate - l1) / gap,
        "l2": l2,
        "shift": np.maximum(mean_w - spread, 0.0),
        "theta": np.maximum(np.minimum(spread, mean_w), 1e-300),
    }


def _by_branch(hyper, when_hyper, otherwise):
    """``where(hyper, when_hyper(), otherwise())``, working out only the branch used
    where every row takes the same one."""
    if np.all(hyper):
        return when_hyper()
    if not np.any(hyper):
        return otherwise()
    return np.where(hyper, when_hyper(), otherwise())


def wait_cdf(t_s, law: dict):
    """``P(W <= t)`` [0-1] of a :func:`wait_law`: ``1 - C P(W' > t)`` for t >= 0, 0
    below, 0 everywhere for an unstable queue."""
    t = np.asarray(t_s, float)
    x = np.maximum(t, 0.0)

    def hyper():
        return law["k1"] * np.exp(law["l1"] * x) + law["k2"] * np.exp(law["l2"] * x)

    def after():
        return np.exp(-np.maximum(x - law["shift"], 0.0) / law["theta"])

    survival = np.clip(_by_branch(law["hyper"], hyper, after), 0.0, 1.0)
    return np.where(law["stable"] & (t >= 0), 1.0 - law["wait_probability"] * survival, 0.0)


def wait_cdf_integral(y_s, law: dict):
    """``G(y) = integral from 0 to y of P(W <= z) dz`` [s] of a :func:`wait_law` (0 for
    y <= 0): with it a wait plus a time spread uniformly over [a, b] has the CDF
    ``(G(t - a) - G(t - b)) / (b - a)``."""
    y = np.maximum(np.asarray(y_s, float), 0.0)

    def hyper():
        out = law["k1"] * np.expm1(law["l1"] * y) / law["l1"]
        return out + law["k2"] * np.expm1(law["l2"] * y) / law["l2"]

    def shifted():
        past = np.maximum(y - law["shift"], 0.0)
        return np.minimum(y, law["shift"]) + law["theta"] * -np.expm1(-past / law["theta"])

    waited = _by_branch(law["hyper"], hyper, shifted)
    return np.where(law["stable"], y - law["wait_probability"] * waited, 0.0)


def normal_cdf(z):
    """Standard normal CDF ``Phi(z) = (1 + erf(z / sqrt 2)) / 2`` [0-1], erf by Abramowitz
    and Stegun 7.1.26 (error below 1.5e-7). Phi(1.2816) = 0.9."""
    z = np.asarray(z, float)
    x = np.abs(z) / math.sqrt(2.0)
    t = 1.0 / (1.0 + _AS_P * x)
    poly = t * (_AS_A[0] + t * (_AS_A[1] + t * (_AS_A[2] + t * (_AS_A[3] + t * _AS_A[4]))))
    erf = 1.0 - poly * np.exp(-x * x)
    return 0.5 * (1.0 + np.sign(z) * erf)


def normal_quantile(p):
    """Standard normal quantile ``Phi^-1(p)`` by bisection on :func:`normal_cdf` [-].

    Vectorised over ``p`` in (0, 1); ``normal_quantile(0.9)`` = 1.2816 (to about 1e-6).
    """
    p = np.asarray(p, float)
    if np.any(~((p > 0) & (p < 1))):
        raise ValueError(f"p must be in (0, 1); got {p!r}")
    lo, hi = np.full(p.shape, -40.0), np.full(p.shape, 40.0)
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        below = normal_cdf(mid) < p
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return 0.5 * (lo + hi)


def gamma_cdf(x, mean, variance):
    """CDF of the gamma law with this mean and variance, by Wilson-Hilferty [0-1].

    Shape ``k = mean^2 / variance``; ``(X / mean)^(1/3)`` is close to normal with mean
    ``1 - 1/(9k)`` and variance ``1/(9k)`` (Wilson and Hilferty 1931). Zero variance:
    a step at the mean. Used for the sum of a Poisson number of service times (a
    compound Poisson law matched on its first two moments).
    """
    x = np.asarray(x, float)
    m = np.asarray(mean, float)
    v = np.asarray(variance, float)
    point = ~(v > 0) | ~(m > 0) | ~np.isfinite(m) | ~np.isfinite(v)
    k = np.where(point, 1.0, np.square(np.where(point, 1.0, m)) / np.where(point, 1.0, v))
    spread = np.sqrt(1.0 / (9.0 * k))
    ratio = np.maximum(x, 0) / np.where(point, 1.0, m)
    z = (np.cbrt(ratio) - (1.0 - 1.0 / (9.0 * k))) / spread
    smooth = np.where(x > 0, normal_cdf(z), 0.0)
    return np.where(point, (x >= m).astype(float), smooth)


@functools.lru_cache(maxsize=64)
def _normal_quantile_of(p: float) -> float:
    """:func:`normal_quantile` of one probability, worked out once per process."""
    return float(normal_quantile(p))


def gamma_quantile(p: float, mean, variance) -> np.ndarray:
    """The p-quantile of :func:`gamma_cdf`'s law, its Wilson-Hilferty inverse [as mean].

    ``x = mean max(1 - 1/(9k) + z sqrt(1/(9k)), 0)^3``, ``k = mean^2 / variance``,
    ``z = normal_quantile(p)``; the mean where the variance is 0 (a step). Example: mean
    10, variance 10 (k = 10), p = 0.9: z = 1.2816, 10 x (1 - 0.01111 + 1.2816 x 0.10541)^3
    = 14.20 (the exact gamma quantile: 14.21).
    """
    m = np.asarray(mean, float)
    v = np.asarray(variance, float)
    point = ~(v > 0) | ~(m > 0) | ~np.isfinite(m) | ~np.isfinite(v)
    k = np.where(point, 1.0, np.square(np.where(point, 1.0, m)) / np.where(point, 1.0, v))
    z = _normal_quantile_of(float(p))
    root = np.maximum(1.0 - 1.0 / (9.0 * k) + z * np.sqrt(1.0 / (9.0 * k)), 0)
    return np.where(point, m, m * root**3)


def wait_quantile_bound(q, law: dict) -> np.ndarray:
    """A time by which a :func:`wait_law`'s wait is over with probability at least ``q``
    (0 where ``q <= 1 - C``) [in the law's time unit]: ``P(W > w) = C P(W' > w) <= 1 - q``.

    Exponential after its shift: ``w = shift + theta ln(C / (1 - q))``, the quantile
    itself; hyperexponential: ``P(W' > w) = k1 e^(l1 w) + k2 e^(l2 w) <= (|k1| + |k2|)
    e^(l1 w)`` (``l2 <= l1 < 0``), so ``w = ln(C (|k1| + |k2|) / (1 - q)) / -l1``. Example:
    C = 0.5, shift 0, theta 10 ms: the 0.9 bound is 10 ln 5 = 16.1 ms.
    """
    if not 0 < q < 1:
        raise ValueError(f"q must be in (0, 1); got {q!r}")
    c = law["wait_probability"]
    tail = np.log(np.maximum(c, 1e-300) / (1 - q))
    spread = np.abs(law["k1"]) + np.abs(law["k2"])
    hyper = np.log(np.maximum(c * spread, 1e-300) / (1 - q)) / -np.minimum(law["l1"], -1e-300)
    shifted = law["shift"] + law["theta"] * tail
    return np.where(c > 1 - q, np.maximum(np.where(law["hyper"], hyper, shifted), 0.0), 0.0)


def _narrowed(f, low, high, inner_low, inner_high):
    """The bracket ``[low, high]`` narrowed by the trial points ``inner_low <=
    inner_high`` (each kept as a low or a high by the sign of ``f``, the CDF less the
    quantile), and ``f`` at the ends."""
    every = np.arange(low.size)
    a = np.clip(inner_low, low, high)
    b = np.clip(inner_high, a, high)
    lo, hi = low.copy(), high.copy()
    f_lo, f_hi = np.empty(low.size), np.empty(low.size)
    f_a = f(a, every)
    below = f_a < 0
    lo[below], f_lo[below] = a[below], f_a[below]
    hi[~below], f_hi[~below] = a[~below], f_a[~below]

    def at(t, rows):
        return f(t[rows], rows) if rows.size else np.empty(0)

    rows = every[~below]
    f_lo[rows] = at(low, rows)
    rows = every[below]
    f_b = at(b, rows)
    up = f_b >= 0
    hi[rows[up]], f_hi[rows[up]] = b[rows[up]], f_b[up]
    lo[rows[~up]], f_lo[rows[~up]] = b[rows[~up]], f_b[~up]
    rows = rows[~up]
    f_hi[rows] = at(high, rows)
    return lo, hi, f_lo, f_hi


def mixture_quantiles(cdf, low, high, quantiles, inner=None) -> np.ndarray:
    """Quantiles of distributions given by their CDF, vectorised over rows.

    ``cdf(t, rows)``: ``P(X <= t)`` of the rows ``rows`` (an index array, a row possibly
    more than once) at ``t`` (one time per entry); ``low``, ``high``: per-row brackets
    with ``cdf(low) < q <= cdf(high)`` (a value below the bracket is returned as
    ``low``). Returns shape ``(rows, len(quantiles))``: the smallest t (to within ``t
    QUANTILE_TOLERANCE``) with ``cdf(t) >= q``.

    Every (row, quantile) pair is one search, all searched together (one ``cdf`` call
    per step for them all). Each step tries the secant point of the bracket (regula
    falsi, with the Illinois halving of the end that stays: a smooth CDF converges in a
    few steps) and, after ``SECANT_STEPS`` steps, bisects instead where the last step
    did not halve the bracket (a CDF with a step then shrinks at least as fast as
    bisection every other step); only the pairs still searching are evaluated.
    ``inner(q)``, if given: per-row trial points ``(a, b)``, ``a <= b``, likely on either
    side of the q-quantile (closed-form bounds, say); each is checked by its CDF and
    narrows the bracket on the side it falls, so a wrong guess costs an evaluation,
    never the answer.
    """
    for q in quantiles:
        if not 0 < q < 1:
            raise ValueError(f"quantiles must be in (0, 1); got {q!r}")
    n, m = np.size(low), len(quantiles)
    of = np.repeat(np.arange(n), m)  # search (row, quantile) -> its row
    qs = np.tile(np.asarray(quantiles, float), n)
    low = np.asarray(low, float)[of]
    high = np.asarray(high, float)[of]
    every = np.arange(low.size)

    def f(t, rows):
        return cdf(t, of[rows]) - qs[rows]

    if inner is None:
        lo, hi = low.copy(), high.copy()
        f_lo, f_hi = f(lo, every), f(hi, every)
    else:
        trials = [inner(q) for q in quantiles]  # per quantile, (a, b) per row
        a, b = (np.stack([np.asarray(t[k], float) for t in trials], axis=1).ravel() for k in (0, 1))
        lo, hi, f_lo, f_hi = _narrowed(f, low, high, a, b)
    hi = np.where(f_lo < 0, hi, lo)  # q is already reached at low
    side = np.zeros(low.size)  # -1: low moved last, +1: high moved last
    bisect = np.zeros(low.size, bool)
    rows = every[f_lo < 0]
    for step in range(2 * BISECTION_STEPS):
        width = hi[rows] - lo[rows]
        scale = np.where(hi[rows] > 0, hi[rows], high[rows] - low[rows])
        keep = width > scale * QUANTILE_TOLERANCE
        rows, width = rows[keep], width[keep]
        if not rows.size:
            break
        a, b, fa, fb = lo[rows], hi[rows], f_lo[rows], f_hi[rows]
        gap = fb - fa  # > 0 but for an end's value halved away to 0
        secant = b - fb * width / np.where(gap > 0, gap, np.inf)
        inside = (secant > a) & (secant < b)
        safeguard = bisect[rows] & (step >= SECANT_STEPS)
        x = np.where(safeguard | ~inside, 0.5 * (a + b), secant)
        fx = f(x, rows)
        below = fx < 0
        f_hi[rows] = np.where(below & (side[rows] == -1), 0.5 * fb, fb)  # Illinois
        f_lo[rows] = np.where(~below & (side[rows] == 1), 0.5 * fa, fa)
        lo[rows[below]], f_lo[rows[below]] = x[below], fx[below]
        hi[rows[~below]], f_hi[rows[~below]] = x[~below], fx[~below]
        bisect[rows] = hi[rows] - lo[rows] > 0.5 * width
        side[rows] = np.where(below, -1, 1)
    return hi.reshape(n, m)
