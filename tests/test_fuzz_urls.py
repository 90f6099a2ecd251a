"""Hostile and random URLs against the URL gate, for every page (issue 9).

For every page, 500 hostile URLs (inf, nan, huge, empty, unicode, 5,000 characters,
repeated keys, markup, JSON, out of range, fractions, unknown keys) and 100 random
in-range URLs go through the gate (``gate.review``/``gate.unknown``/``gate.warning``,
the code ``url.declare`` and ``url.finish`` run on ``st.query_params``) with the
page's own declared parameters; a sample of them opens the whole app under AppTest.
Each bad value must be named in the warning, no good one; the warning must be safe
Markdown; the app must raise nothing and its widgets must hold what the gate decided.

The seed changes per run (``FUZZ_SEED=<n>`` repeats one); it is printed, and a failure
names the URL.
"""

from __future__ import annotations

import functools
import os
import random
import re
from urllib.parse import urlencode

import pytest
from conftest import open_page

from app_pages import ui
from app_pages.ui import gate, url
from app_pages.ui.text import MARKUP, printable
from costmodel.spec import BOOL, CHOICE, ENTRIES, FLOAT, INT, Spec

SEED = int(os.environ.get("FUZZ_SEED") or random.SystemRandom().randrange(2**32))
HOSTILE, RANDOM = 500, 100  # per page, through the gate
PAGE_HOSTILE, PAGE_RANDOM = 6, 3  # per page, through the whole app (AppTest)
PAGES = [None, *(p.path for p in ui.PAGES[1:])]
WARNING = "Some URL parameters were not used as given:"
GUARD = "Something went wrong"  # app.py's message for an unexpected error

NOT_NUMBERS = [
    "inf", "-inf", "Infinity", "-Infinity", "INF", "1e309", "-1e309", "9" * 400,
    "-" + "9" * 400, "nan", "NaN", "-nan", "١٢", "𝟙", "ｉｎｆ", "0x10", "1_0", " 5", "5 ",
    "1,5", "++1", "1e", ".", "-", "e5", "true", "null", "None", "\u202e5", "5\n", "½",
]  # fmt: skip
MARKUP_VALUES = [
    "` ![i](http://127.0.0.1:8712/x.png) `",
    "![i](http://127.0.0.1:8712/x.png)",
    "[link](http://127.0.0.1:8712/)",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "$x^2$",
    ":red[red] :material/home: :smile:",
    "**bold** _it_ ~~s~~",
    "```\ncode\n```",
    "`` ` ``",
    "| a | b |\n|---|---|",
    "\\`",
]
JSON_VALUES = ['{"a": [1, 2]}', "[1, 2]", '"x"', "{}", "[]"]
UNICODE_VALUES = ["ü", "😀", "\u202e", "\u200b", "\x00", "日本語", "e\u0301"]
HOSTILE_KEYS = [
    "nonsense",
    "` ![k](http://127.0.0.1:8712/k.png) `",
    "<b>k</b>",
    "k" * 5000,
    "ü",
    "N_GPUS",
    "batch size",
    '{"a":1}',
    "$k$",
]


@functools.cache
def declared(path: str | None) -> dict[str, Spec]:
    """The parameters the app declares on ``path`` (the sidebar's and the page's own)."""
    at = open_page(path)
    assert not at.exception, path
    # custom_model is read by its own parser (app_pages.ui.models, tested with bad links
    # in test_page_quantization_fit.py), not by the gate; so are price_list and
    # price_file_date (app_pages.ui.price_list: tests/test_price_list.py).
    own = {"custom_model", "price_list", "price_file_date"}
    return {k: v for k, v in at.session_state["_ui_declared"].items() if k not in own}


def bad_value(rng: random.Random, p: Spec) -> list[str]:
    """URL values of ``p`` that the gate must not take as they stand."""
    generic = ["x" * 5000, *MARKUP_VALUES, *JSON_VALUES, *UNICODE_VALUES]
    if not (p.optional or (p.many and p.empty)) and p.kind != ENTRIES:
        generic.append("")  # empty means None (or, for a list, its empty meaning) if allowed
    if p.kind in (INT, FLOAT):
        # every digit written: "{:g}" of 1e13 + 1 reads 1e+13, in range
        out_of_range = [gate.number_text(v) for v in (p.low - 1, p.high + 1, p.high * 10 + 7)]
        fractions = [f"{p.low + 0.5:g}", f"{(p.low + p.high) / 2 + 0.3:.1f}"]
        own = NOT_NUMBERS + out_of_range + (fractions if p.kind == INT else [])
    elif p.kind == BOOL:
        own = ["yes", "1", "0", "truee", "on", "t"]
    elif p.kind == ENTRIES:
        own = [f"{c}:{p.high * 10 + 7:g}" for c in p.choices[:3]] + [
            f"{c}:x" for c in p.choices[:3]
        ]
        own += [f"{c}" for c in p.choices[:3]] + ["nogpu:1", "0", "-1", "inf"]
    else:
        own = [c.upper() for c in p.choices if c.upper() != c] + [f"{c} " for c in p.choices]
        own += [f"{c}`" for c in p.choices] + ["0", "-1", "inf"]
    value = rng.choice(own + generic)
    if (p.many or p.kind == ENTRIES) and rng.random() < 0.5:
        # a list with a bad entry, or a duplicated good one
        good = good_value(rng, p)[0]
        return rng.choice([[good, value], [value, good], [good, good]])
    if rng.random() < 0.2:  # repeated key: always named, whatever the values
        return rng.sample([value, good_value(rng, p)[0]], 2)
    return [value]


def good_value(rng: random.Random, p: Spec) -> list[str]:
    """Canonical in-range URL values of ``p``."""
    if p.kind == BOOL:
        return [rng.choice(["true", "false"])]
    if p.kind == CHOICE:
        if p.many:
            return rng.sample(p.choices, rng.randint(1, min(4, len(p.choices))))
        return [rng.choice(p.choices)]
    if p.kind == ENTRIES:
        ids = rng.sample(p.choices, rng.randint(1, min(3, len(p.choices))))
        return [f"{i}:{gate.number_text(round(rng.uniform(p.low, p.high), 2))}" for i in ids]
    if p.kind == INT:
        value = rng.choice([int(p.low), int(p.high), rng.randint(int(p.low), int(p.high))])
        return [str(value)]
    value = rng.choice([p.low, p.high, round(rng.uniform(p.low, p.high), 2)])
    return [gate.number_text(value)]


def hostile_url(rng: random.Random, params: dict[str, Spec]) -> tuple[dict, set[str]]:
    """A query with 1-3 bad parameters (maybe an unknown key) and 0-2 good ones."""
    keys = list(params)
    bad = set(rng.sample(keys, rng.randint(1, 3)))
    query = {k: bad_value(rng, params[k]) for k in bad}
    if rng.random() < 0.3:
        key = rng.choice(HOSTILE_KEYS)
        query[key] = [rng.choice(["1", *MARKUP_VALUES, "x" * 5000])]
        bad.add(key)
    for key in rng.sample([k for k in keys if k not in bad], rng.randint(0, 2)):
        query[key] = good_value(rng, params[key])
    return query, bad


def random_url(rng: random.Random, params: dict[str, Spec]) -> dict:
    """A query of 1-5 declared parameters, each with a canonical in-range value."""
    keys = rng.sample(list(params), rng.randint(1, min(5, len(params))))
    return {k: good_value(rng, params[k]) for k in keys}


def url_of(path: str | None, query: dict) -> str:
    return f"/{(path or '').removeprefix('app_pages/').removesuffix('.py')}?" + urlencode(
        query, doseq=True
    )


# --- The gate ----------------------------------------------------------------------------


def run_gate(params: dict[str, Spec], query: dict) -> tuple[dict, dict]:
    """What ``url.declare`` and ``url.finish`` do with ``query``: verdicts and notes."""
    verdicts = gate.review(params.values(), query)
    notes = {(k, t): w for k, v in verdicts.items() for t, w in v.notes}
    for key in gate.unknown(params, query):
        notes[(key, "&".join(query[key]))] = gate.UNKNOWN
    return verdicts, notes


_LINE = re.compile(r"- (`+) (.*) \1: (.*)")


def assert_safe_markdown(text: str) -> None:
    """Every line is "- <code span>: <escaped text>"; nothing can end the span early or
    start markup in the text after it."""
    first, *lines = text.split("\n")
    assert first == WARNING
    for line in lines:
        m = _LINE.fullmatch(line)
        assert m, line
        fence, inside, rest = m.groups()
        runs = re.findall(r"`+", inside)
        assert all(len(run) != len(fence) for run in runs), line  # the span ends only at the end
        escaped = False
        for char in rest:
            assert escaped or char not in MARKUP or char == "\\", line
            escaped = char == "\\" and not escaped


def check_verdicts(params: dict[str, Spec], query: dict, verdicts: dict) -> None:
    """Each verdict obeys its parameter's rules, and its URL text is taken as it stands."""
    for key, verdict in verdicts.items():
        p = params[key]
        values = verdict.value if (p.many or p.kind == ENTRIES) else [verdict.value]
        for value in values:
            if value is None:
                assert p.optional
            elif p.kind == CHOICE:
                assert value in p.choices
            elif p.kind == BOOL:
                assert isinstance(value, bool)
            elif p.kind == ENTRIES:
                assert value[0] in p.choices and all(p.low <= v <= p.high for v in value[1:])
            else:
                assert p.low <= value <= p.high
                assert isinstance(value, int if p.kind == INT else float)
        if verdict.url is not None:
            again = gate.check(p, verdict.url)
            assert not again.notes and again.value == verdict.value


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p or "home")
def test_gate_names_every_bad_value(path):
    rng = random.Random(f"{SEED}:{path}")
    print(f"fuzz seed {SEED} (FUZZ_SEED={SEED} repeats this run)")
    params = declared(path)
    for _ in range(HOSTILE):
        query, bad = hostile_url(rng, params)
        where = f"FUZZ_SEED={SEED}: {url_of(path, query)[:300]}"
        verdicts, notes = run_gate(params, query)
        named = {key for key, _ in notes}
        assert bad <= named, f"{sorted(bad - named)} not named for {where}"
        assert named <= bad, f"{sorted(named - bad)} named but good for {where}"
        check_verdicts(params, query, verdicts)
        assert_safe_markdown(gate.warning(notes))
        for key, _ in notes:
            assert printable(gate.shown(key)) in gate.warning(notes), where


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p or "home")
def test_gate_takes_every_good_value(path):
    rng = random.Random(f"{SEED}:{path}:good")
    params = declared(path)
    for _ in range(RANDOM):
        query = random_url(rng, params)
        verdicts, notes = run_gate(params, query)
        assert not notes, f"FUZZ_SEED={SEED}: {url_of(path, query)}: {notes}"
        for key, raw in query.items():
            p = params[key]
            assert verdicts[key].value == gate.check(p, raw).value
            assert verdicts[key].url in (raw, None), url_of(path, query)
        check_verdicts(params, query, verdicts)


# --- The whole app -------------------------------------------------------------------------


def url_warning(at) -> str | None:
    texts = [w.value for w in at.warning if w.value.startswith(WARNING)]
    assert len(texts) <= 1, texts
    return texts[0] if texts else None


WIDGET_KINDS = ("number_input", "slider", "selectbox", "radio", "toggle", "multiselect")


def drawn_keys(at) -> set[str]:
    """The keys of the input widgets the run drew."""
    return {w.key for kind in WIDGET_KINDS for w in at.get(kind)}


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p or "home")
def test_app_survives_hostile_and_random_links(path):
    """A sample through the whole app: no exception, the warning, widgets as decided."""
    rng = random.Random(f"{SEED}:{path}:app")
    params = declared(path)
    queries = [hostile_url(rng, params) for _ in range(PAGE_HOSTILE)]
    queries += [(random_url(rng, params), set()) for _ in range(PAGE_RANDOM)]
    for query, bad in queries:
        where = f"FUZZ_SEED={SEED}: {url_of(path, query)[:300]}"
        at = open_page(path, **{k: v if len(v) > 1 else v[0] for k, v in query.items()})
        assert not at.exception, f"{where}: {at.exception}"
        crashed = [e.value for e in at.error if e.value.startswith(GUARD)]
        assert not crashed, f"{where}: app.py's guard caught an error (see the log)"
        text = url_warning(at)
        for key in bad:
            assert text and printable(gate.shown(key)) in text, f"{key!r} not named: {where}"
        if not bad:
            assert text is None, f"{where}: {text}"
        adapted = " ".join(w.value for w in at.warning if not w.value.startswith(WARNING))
        verdicts, _ = run_gate(params, query)
        for key, verdict in verdicts.items():
            if key not in at.session_state:
                # A widget of a section this link does not reach (the tornado's
                # change_pct where no GPU wins) holds no state; the gate still ran on it.
                assert key not in drawn_keys(at), f"{key!r} drawn without state: {where}"
                continue
            value = at.session_state[key]
            value = None if value == url.NONE_OPTION and params[key].optional else value
            value = tuple(value) if isinstance(value, list) else value
            if params[key].kind == ENTRIES:  # rows by id; a link's older GPU price joins them
                value, expected = dict(value), dict(verdict.value)
                older = verdicts.get("usd_per_gpu_hour")
                if key == "gpu_prices" and older is not None and older.value is not None:
                    expected[at.session_state["_ui_scenario"].gpu] = older.value
                assert value == expected, f"{key}: {value!r} {where}"
                continue
            label = params[key].label.replace("(", "\\(")
            moved = label in adapted  # the app moved it to fit the model, and said so
            assert value == verdict.value or moved, f"{key}: {value!r} {where}"
