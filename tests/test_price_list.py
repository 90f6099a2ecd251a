"""Your price list in a link (app_pages.ui.price_list): what travels, how it is checked."""

import base64
import json
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import costmodel
from app_pages.ui import price_list
from costmodel import price_files

CATALOG = costmodel.load_catalog()
DATA = Path(__file__).parent / "data"
LITELLM = (DATA / "litellm-model-prices-sample.json").read_bytes()
OPENROUTER = (DATA / "openrouter-models-sample.json").read_bytes()
DATE = "2026-12-07"


def packed(value) -> str:
    """A value as the link writes it: base64url of zlib of JSON."""
    raw = zlib.compress(json.dumps(value).encode(), 9)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("data", "reader", "file_format"),
    [
        (LITELLM, price_files.read_litellm, "litellm"),
        (OPENROUTER, price_files.read_openrouter, "openrouter"),
    ],
)
def test_a_file_read_travels_in_a_link_and_comes_back_the_same(data, reader, file_format):
    assert price_list.detect_format(data) == file_format
    found, read_format = price_list.read(data, "detect", DATE, CATALOG)
    assert read_format == file_format
    pd.testing.assert_frame_equal(found.prices, reader(data, DATE, CATALOG).prices)
    prices, back = price_list.decode(price_list.encode(found.prices, file_format), DATE, CATALOG)
    assert back == file_format
    assert list(prices.columns) == list(price_files.FILE_PRICE_COLUMNS)
    kept = [c for c in price_files.FILE_PRICE_COLUMNS if c not in ("source", "note")]
    pd.testing.assert_frame_equal(
        prices[kept], found.prices[kept].reset_index(drop=True), check_dtype=False, rtol=1e-9
    )
    assert set(prices["source"]) == {f"Your {price_list.SOURCES[file_format]} of {DATE}"}
    # The same rows dated another day: the date is the link's, not the rows'.
    other, _ = price_list.decode(
        price_list.encode(found.prices, file_format), "2026-11-30", CATALOG
    )
    assert set(other["date"]) == {"2026-11-30"}


def test_prices_keep_ten_significant_digits():
    # 1.5e-07 $ per token x 1e6 is 0.15000000000000002 in floating point: the link writes
    # 0.15, a change of 2e-17 $ per million tokens.
    prices = price_files.read_litellm(LITELLM, DATE, CATALOG).prices
    prices = prices.assign(usd_per_million_input=0.15000000000000002)
    value = price_list.encode(prices, "litellm")
    rows = json.loads(zlib.decompress(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))))
    assert {row[3] for row in rows[1]} == {0.15}
    # A missing cached-input price travels as null and comes back as NaN.
    decoded, _ = price_list.decode(value, DATE, CATALOG)
    assert np.isnan(decoded["usd_per_million_cached_input"]).sum() == (
        prices["usd_per_million_cached_input"].isna().sum()
    )


def made_up(providers: int, models: list[str]) -> pd.DataFrame:
    """Random prices of ``providers`` providers for each of ``models`` (they hardly compress)."""
    rng = np.random.default_rng(0)
    n = providers * len(models)
    return pd.DataFrame(
        {
            "provider": [f"provider-{i}" for i in range(providers) for _ in models],
            "model": models * providers,
            "usd_per_million_input": rng.uniform(0, 10, n),
            "usd_per_million_output": rng.uniform(0, 10, n),
            "usd_per_million_cached_input": np.nan,
            "time_of_day": "all_day",
            "peak_hours_utc": "",
            "date": DATE,
            "source": "test",
            "note": "",
        }
    )


def test_a_list_too_long_for_a_link_carries_the_sidebar_models_rows_only():
    models = list(CATALOG.models.index[:30])
    rows = made_up(200, models)  # 6,000 rows: about 130,000 characters
    value, whole = price_list.link_value(rows, "litellm", models[3])
    assert not whole and len(value) <= price_list.MAX_URL_CHARS
    decoded, _ = price_list.decode(value, DATE, CATALOG)
    assert set(decoded["model"]) == {models[3]} and len(decoded) == 200
    small, whole = price_list.link_value(rows.head(40), "litellm", models[3])
    assert whole and len(price_list.decode(small, DATE, CATALOG)[0]) == 40
    # 2,000 prices of one model cannot travel: said, not cut short silently.
    with pytest.raises(ValueError, match="its 2,000 prices of glm-5.2 alone take"):
        price_list.link_value(made_up(2000, ["glm-5.2"]), "litellm", "glm-5.2")


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("%%%", "is not a price list this app wrote"),
        (packed(["excel", [["P", "glm-5.2", "all_day", 1, 2, None, ""]]]), "must hold a format"),
        (packed(["litellm", []]), "at least one row"),
        (packed(["litellm", [["P", "glm-5.2", "all_day", 1, 2]]]), "row 0 must be a list of 7"),
        (packed(["litellm", [["", "glm-5.2", "all_day", 1, 2, None, ""]]]), "provider must be"),
        (packed(["litellm", [["P", "gpt-9", "all_day", 1, 2, None, ""]]]), "catalog model id"),
        (packed(["litellm", [["P", "glm-5.2", "night", 1, 2, None, ""]]]), "time of day"),
        (packed(["litellm", [["P", "glm-5.2", "peak", 1, 2, None, ""]]]), "peak hours"),
        (packed(["litellm", [["P", "glm-5.2", "all_day", -1, 2, None, ""]]]), "input price"),
        (packed(["litellm", [["P", "glm-5.2", "all_day", 1, 2e9, None, ""]]]), "output price"),
        (packed(["litellm", [["P", "glm-5.2", "all_day", 1, True, None, ""]]]), "output price"),
        (packed(["litellm", [["P", "glm-5.2", "all_day", 1, 2, "x", ""]]]), "cached input"),
        ("A" * (price_list.MAX_URL_CHARS + 1), "characters; the limit is 20,000"),
    ],
)
def test_a_bad_link_value_is_refused_saying_why(value, said):
    with pytest.raises(ValueError, match="price_list") as err:
        price_list.decode(value, DATE, CATALOG)
    assert said in str(err.value)


def test_a_zlib_bomb_costs_nothing():
    # 100 MB of spaces compress to about 100 kB; decompression stops after MAX_LINK_BYTES.
    bomb = base64.urlsafe_b64encode(zlib.compress(b" " * 100_000_000, 9)).decode()
    assert len(bomb) > price_list.MAX_URL_CHARS  # refused before decompressing at all
    small = base64.urlsafe_b64encode(zlib.compress(b" " * 10_000_000, 9)).decode().rstrip("=")
    assert len(small) <= price_list.MAX_URL_CHARS
    with pytest.raises(ValueError, match="holds more than 400,000 bytes"):
        price_list.decode(small, DATE, CATALOG)


@pytest.mark.parametrize(
    ("text", "ok"),
    [("2026-12-07", True), ("2023-12-01", True), ("2023-11-30", False), ("2026-13-01", False)]
    + [("2026-12", False), ("20261207", False), ("2999-01-01", False), (" 2026-12-07", False)],
)
def test_the_files_date_is_a_day_from_the_seeds_month_to_today(text, ok):
    if ok:
        assert price_list.parse_date(text).isoformat() == text
    else:
        with pytest.raises(ValueError, match="price_file_date must be a date YYYY-MM-DD"):
            price_list.parse_date(text)


def test_what_a_file_left_out_is_counted_by_reason():
    left_out = price_files.read_litellm(LITELLM, DATE, CATALOG).left_out
    assert price_list.left_out_summary(left_out) == (
        "4 deprecated, 2 both prices zero (a placeholder or a local runtime), 1 not a chat "
        "model, 1 no catalog model"
    )
