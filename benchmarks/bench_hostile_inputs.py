"""Worst server time and peak memory of reading hostile uploads and links (issue 21).

Run: ``python benchmarks/bench_hostile_inputs.py``. For each shape of
tests/hostile_inputs.py (the issue's unterminated string of escaped quotes, deep
nesting, huge numbers, many keys, repeated keys, long strings, long lists) it times
``costmodel.read_hf_config`` on an upload at the size cap (``MAX_CONFIG_BYTES``) and
``app_pages.ui.models.from_url`` on the shape as a ``custom_model`` link holding as much
as a link may decompress to (``MAX_LINK_CONFIG_BYTES``; a link holding more is refused
unread), the best of three runs, and measures
each one's peak Python memory with tracemalloc (a separate run: tracemalloc slows the
code it traces). Then the same for ``price_list`` links (``price_list.decode``, each
shape of ``hostile_inputs.price_lists`` at what a link may decompress to) and for the
check of a query Streamlit ignores whole (``gate.ignored_query`` on 1 MB of ``a=1&``).
Prints a table and the worst case of each path.
"""

from __future__ import annotations

import contextlib
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from hostile_inputs import link, payloads, price_lists  # noqa: E402

import costmodel  # noqa: E402
from app_pages.ui import gate, models, price_list  # noqa: E402
from costmodel.hf_config import MAX_CONFIG_BYTES  # noqa: E402

REPEATS = 3


def _measure(func, arg) -> tuple[float, float]:
    """Best time of ``REPEATS`` runs [s] and peak traced memory of one more [MB]."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        with contextlib.suppress(ValueError):
            func(arg)
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    with contextlib.suppress(ValueError):
        func(arg)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return best, peak


def main() -> None:
    catalog = costmodel.load_catalog()
    rows = []
    in_links = payloads(models.MAX_LINK_CONFIG_BYTES - 1_000)
    for shape, text in payloads(MAX_CONFIG_BYTES - 10_000).items():
        text = text[:MAX_CONFIG_BYTES]
        value = link(in_links[shape][: models.MAX_LINK_CONFIG_BYTES])
        upload = _measure(costmodel.read_hf_config, text)
        url = _measure(lambda v: models.from_url(v, catalog), value)
        rows.append((shape, len(text), len(value), *upload, *url))
    header = (
        f"{'shape':30s} {'bytes':>9} {'link':>7} {'upload s':>9} {'MB':>6} {'link s':>7} {'MB':>6}"
    )
    print(header)
    for shape, size, chars, t_up, m_up, t_url, m_url in rows:
        print(
            f"{shape:30s} {size:>9,} {chars:>7,} {t_up:>9.3f} {m_up:>6.1f} "
            f"{t_url:>7.3f} {m_url:>6.1f}"
        )
    for label, t_col, m_col in (("upload", 3, 4), ("link", 5, 6)):
        slowest = max(rows, key=lambda r: r[t_col])
        largest = max(rows, key=lambda r: r[m_col])
        print(
            f"worst {label}: {slowest[t_col]:.3f} s ({slowest[0]}), "
            f"peak {largest[m_col]:.1f} MB ({largest[0]})"
        )
    prices = []
    for shape, text in price_lists(price_list.MAX_LINK_BYTES - 1_000).items():
        value = link(text[: price_list.MAX_LINK_BYTES])
        prices.append((shape, len(value), *_measure(lambda v: _decode_prices(v, catalog), value)))
    print(f"\n{'price_list shape':30s} {'link':>7} {'s':>7} {'MB':>6}")
    for shape, chars, seconds, peak in prices:
        print(f"{shape:30s} {chars:>7,} {seconds:>7.3f} {peak:>6.1f}")
    slowest = max(prices, key=lambda r: r[2])
    print(f"worst price_list link: {slowest[2]:.3f} s ({slowest[0]})")
    query = "a=1&" * 250_000
    seconds, peak = _measure(lambda q: gate.ignored_query(q, 524_288, 1_000), query)
    print(f"a query Streamlit ignores (1 MB, 250,001 parameters): {seconds:.4f} s, {peak:.1f} MB")


def _decode_prices(value: str, catalog) -> None:
    price_list.decode(value, "2026-11-20", catalog)


if __name__ == "__main__":
    main()
