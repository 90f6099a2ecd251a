"""Random in-range links on every page through AppTest, at the issue's scale (issue 21).

Run: ``python benchmarks/fuzz_pages.py [links per page, default 200] [seed] [page stem
...]`` (default: every page; ``home`` for Home). For Home
and every page, ``tests/fuzz_pages.links`` (every catalog model and an uploaded one in
turn, expert parallelism, disaggregation, MTP, a GPU of your own where the page has
them) and ``tests/fuzz_pages.check`` (no exception, no error element, no "Something went
wrong", every adapted sidebar field named in a warning). Prints one row per page (links,
seed, failures, seconds) and the first ``SHOWN`` failing links of each page.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fuzz_pages import check, links  # noqa: E402
from test_fuzz_urls import PAGES, url_of  # noqa: E402

#: Failing links printed per page.
SHOWN = 3


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else random.SystemRandom().randrange(2**32)
    stems = sys.argv[3:]
    pages = [p for p in PAGES if not stems or Path(p or "home").stem in stems]
    print(f"{'page':34s} {'links':>6} {'seed':>11} {'failures':>9} {'s':>7}", flush=True)
    failures = {}
    for path in pages:
        start, failed = time.perf_counter(), 0
        for query in links(path, n, seed):
            wrong = check(path, query)
            if wrong:
                failed += 1
                failures.setdefault(path, []).append(f"{url_of(path, query)[:300]}: {wrong}")
        name = path or "home"
        elapsed = time.perf_counter() - start
        print(f"{name:34s} {n:>6} {seed:>11} {failed:>9} {elapsed:>7.0f}", flush=True)
    for path, texts in failures.items():
        for text in texts[:SHOWN]:
            print(f"failure on {path or 'home'}: {text}")


if __name__ == "__main__":
    main()
