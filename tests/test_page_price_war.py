"""Price-war margins page through AppTest: the numbers shown are the analysis's Result."""

import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import (
    APP_DEFAULT,
    app_scenario,
    as_shown,
    ignored,
    markdown_text,
    metrics,
    open_page,
    shown,
    today,
)

import costmodel
from app_pages.ui import gate, price_list
from app_pages.ui.text import escape, literal
from costmodel import claims, presets, price_files
from costmodel.analyses import disclosures, price_war
from costmodel.pricing import PriceRule

PAGE = "app_pages/price_war.py"
COST = "usd_per_million_output_tokens"
CATALOG = costmodel.load_catalog()
PRICES = CATALOG.provider_prices
A100_PRICE = CATALOG.gpu_prices.query("gpu == 'a100-80gb-sxm'")["usd_per_gpu_hour"].min()


def same_numbers(at, result):
    """Costs and margins on the page are the Result's (margins rounded as shown: a
    column with gaps is text, a dash for an infinite break-even)."""
    pd.testing.assert_frame_equal(shown(at, "setup"), result.costs, check_dtype=False)
    margins = result.margins.replace([np.inf, -np.inf], np.nan)
    pd.testing.assert_frame_equal(
        shown(at, "margin_pct"),
        as_shown(margins, at, "margin_pct"),
        check_dtype=False,
        check_exact=False,
        rtol=5e-4,
    )


def test_the_seeds_view_as_before():
    at = open_page(PAGE)
    assert not at.exception
    assert not at.warning and not at.error
    assert at.title[0].value == "Price-war margins"
    for claim in ("**C1**", "**C2**", "**C3**", "**C4**", "**C6**"):
        assert claim in at.markdown[0].value
    # Margins on the two seed setups and the sidebar's (the seed's at today's H100 price),
    # and the tornado.
    assert len(at.get("vega_lite_chart")) == 4
    assert at.selectbox(key="price_date").value == "2023-12"
    assert at.number_input(key="a100_usd_per_gpu_hour").value == pytest.approx(A100_PRICE)
    assert at.radio(key="margin_unit").value == "% of revenue"
    result = price_war.run(APP_DEFAULT, price_war.Options(price_rule=PriceRule()))
    same_numbers(at, result)
    # The sidebar is the seed's setup at the H100's on-demand price: it is costed beside
    # the two seed setups (the seed's own is at its $1.95).
    assert list(result.costs["gpu"]) == ["h100-sxm", "a100-80gb-sxm", "h100-sxm"]
    sheet = shown(at, "usd_per_million_output").set_index("provider")
    assert tuple(sheet.loc["Mistral", ["usd_per_million_input", "usd_per_million_output"]]) == (
        0.65,
        1.96,
    )
    words = markdown_text(at)
    assert escape(result.verdict_text) in words
    assert escape(result.c4_text) in words and escape(result.c6_text) in words
    verdicts = claims.check_all(APP_DEFAULT).set_index("id")
    for claim_id in ("C1", "C2", "C3", "C4", "C6"):
        row = verdicts.loc[claim_id]
        assert f"**{claim_id} {escape(row['status'])}**" in words
        assert escape(row["evidence"]) in words


def test_old_url_keys_open_the_same_view():
    query = dict(gpu="a100-80gb-sxm", batch_size="64", price_date="2024")
    query |= dict(a100_usd_per_gpu_hour="1.5", margin_unit="$ per million requests")
    at = open_page(PAGE, **query, change_pct="10")
    assert not at.exception and not at.warning
    assert at.selectbox(key="price_date").value == "2024"
    assert at.number_input(key="a100_usd_per_gpu_hour").value == 1.5
    assert at.radio(key="margin_unit").value == "$ per million requests"
    assert at.number_input(key="change_pct").value == 10.0
    scen = app_scenario(gpu="a100-80gb-sxm", batch_size=64)
    options = price_war.Options(
        price_date="2024",
        a100_usd_per_gpu_hour=1.5,
        margin_unit="$ per million requests",
        price_rule=PriceRule(),
    )
    result = price_war.run(scen, options)
    same_numbers(at, result)
    setups = list(result.costs["setup"])
    assert setups[:2] == ["Seed: 2x H100 SXM @ $1.95", "2x A100 80GB @ $1.50"]
    assert setups[-1] == f"Sidebar: 2x A100 80GB SXM4 @ ${scen.usd_per_gpu_hour:.2f}"
    sheet = shown(at, "usd_per_million_output").set_index("provider")
    assert sheet.loc["Mistral", "usd_per_million_output"] == 0.70  # the 2024-03 price


@pytest.mark.parametrize(
    "model",
    [
        m
        for m in ("deepseek-v3.2", "gpt-oss-120b", "qwen3-235b-a22b")
        if m in PRICES["model"].values
    ],
)
def test_todays_models_today(model):
    at = open_page(PAGE, model=model, weight_format="fp8")
    assert not at.exception and not at.error
    assert at.selectbox(key="price_date").value == "today"  # the default for a model priced later
    scen = app_scenario(model=model, weight_format="fp8")
    result = price_war.run(scen, price_war.Options(price_rule=PriceRule()))
    same_numbers(at, result)
    assert "Who makes money serving" in result.verdict_text
    assert escape(result.verdict_text) in markdown_text(at)
    assert len(result.market)  # market setups on today's GPUs


def test_the_sidebars_price_tier_and_market_gpus_from_the_url():
    query = dict(model="gpt-oss-120b", weight_format="fp8", price_date="today")
    query["price_tier"] = "all_in_cost"  # the sidebar's price rule
    at = open_page(PAGE, **query, market_gpus=["h100-sxm", "b200"])
    assert not at.exception and not at.warning
    rule = PriceRule("all_in_cost")
    options = price_war.Options(
        price_date="today", price_rule=rule, market_gpus=("h100-sxm", "b200")
    )
    scen = app_scenario(rule, model="gpt-oss-120b", weight_format="fp8")
    same_numbers(at, price_war.run(scen, options))


def test_an_old_gpu_price_tier_link_names_what_changed():
    # The market setups' own tier is now the sidebar's price rule (price_tier).
    note = ignored(open_page(PAGE, gpu_price_tier="on_demand"))
    assert "`gpu_price_tier=on_demand`: not a setting on this page, dropped" in note


def test_deepseek_preset_shows_their_numbers_beside_the_model():
    at = open_page(PAGE)
    next(b for b in at.button if b.label == "DeepSeek's published economics").click().run()
    assert not at.exception and not at.error
    assert at.sidebar.selectbox(key="model").value == "deepseek-r1"
    scen = presets.DEEPSEEK_2025.apply(costmodel.Scenario())
    shown_ = disclosures.run(scen)
    assert escape(shown_.text) in markdown_text(at)
    pd.testing.assert_frame_equal(
        shown(at, "model_over_disclosed"), shown_.comparison, check_dtype=False
    )


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"price_date": "1999-01"}, "price_date"),
        ({"a100_usd_per_gpu_hour": "-3"}, "a100_usd_per_gpu_hour"),
        ({"margin_unit": "euros"}, "margin_unit"),
        ({"change_pct": "95"}, "change_pct"),
        ({"price_tier": "free"}, "price_tier"),
    ],
)
def test_bad_page_parameter_is_named(params, bad):
    assert f"`{bad}=" in ignored(open_page(PAGE, **params))


def test_presets_and_reset():
    at = open_page(PAGE, price_date="2024-03", a100_usd_per_gpu_hour="2.5")
    at.button(key="price_preset:Large batch (256), 24/7").click().run()
    assert (shown(at, "setup")["batch_size"] == 256).all()
    at.button(key="price_preset:Today's prices").click().run()
    assert at.selectbox(key="price_date").value == "today"
    at.button(key="price_preset:December 2023 baseline").click().run()
    assert at.selectbox(key="price_date").value == "2023-12"
    assert at.number_input(key="a100_usd_per_gpu_hour").value == pytest.approx(A100_PRICE)
    at.button(key="price_preset:reset").click().run()
    assert not at.exception
    assert at.sidebar.number_input(key="batch_size").value == 256  # the page's Reset keeps it
    assert at.selectbox(key="price_date").value == "2023-12"


def test_csv_downloads_hold_the_tables_shown(downloads):
    at = open_page(PAGE, gpu="h200-sxm", n_gpus="1")
    assert not at.exception
    for name, column in (
        ("provider_prices.csv", "usd_per_million_output"),
        ("cost_per_setup.csv", "setup"),
        ("provider_margins.csv", "margin_pct"),
        (f"tornado_{COST}.csv", "swing"),
    ):
        csv = pd.read_csv(io.BytesIO(downloads[name])).replace([np.inf, -np.inf], np.nan)
        pd.testing.assert_frame_equal(
            as_shown(csv, at, column),
            shown(at, column),
            check_dtype=False,
            check_exact=False,
            rtol=5e-4,
            obj=name,
        )


def test_tornado_and_range_are_the_sidebar_setups():
    at = open_page(PAGE, gpu="h200-sxm", n_gpus="1", gpu_prices="h200-sxm:2.6")
    scen = costmodel.Scenario(gpu="h200-sxm", n_gpus=1, usd_per_gpu_hour=2.6)
    rule = PriceRule(own={"h200-sxm": 2.6})
    result = price_war.run(scen, price_war.Options(price_rule=rule))
    pd.testing.assert_frame_equal(shown(at, "swing"), result.tornado, check_dtype=False)
    r = result.sidebar_range
    assert f"\\${r['low']:,.3f} / \\${r['central']:,.3f}" in markdown_text(at)


def test_a_missing_cached_price_is_a_dash_with_its_meaning():
    """DeepInfra lists a cached-input price for deepseek-r1 today; Together lists none: a
    dash (not "None"), and the column's help says what the dash means."""
    at = open_page(PAGE, model="deepseek-r1", price_date="today")
    assert not at.exception
    editor = next(d for d in at.dataframe if "usd_per_million_cached_input" in d.value.columns)
    cached = editor.value.set_index("provider")["usd_per_million_cached_input"].to_dict()
    options = price_war.Options(price_date=price_war.TODAY)
    sheet = price_war.run(costmodel.Scenario(model="deepseek-r1"), options).sheet
    listed = sheet.set_index("provider")["usd_per_million_cached_input"]
    assert listed["DeepInfra"] > 0 and cached["DeepInfra"] == f"{listed['DeepInfra']:g}"
    assert np.isnan(listed["Together"]) and cached["Together"] == "—"
    assert "None" not in cached.values()
    column = json.loads(editor.proto.columns)["usd_per_million_cached_input"]
    assert "—: none listed, the input price applies" in column["help"]


# --- Today's models, the time of day, every setup drawn ---------------------------------

NO_INF = re.compile(r"\b(inf|nan|infinity)\b|inf%|nan%", re.IGNORECASE)


def page_words(at) -> str:
    """Every sentence on the page: markdown, captions, notes, warnings, metrics."""
    texts = [markdown_text(at), *(c.value for c in at.caption)]
    texts += [e.value for e in (*at.info, *at.warning, *at.success, *at.error)]
    texts += [f"{m.label} {m.value}" for m in at.metric]
    return " ".join(texts)


@pytest.mark.parametrize(
    ("model", "time_of_day"),
    [
        ("deepseek-v4-flash", "peak"),
        ("deepseek-v4-flash", "off_peak"),
        ("glm-5.2", "peak"),
        ("gpt-oss-120b", "peak"),
    ],
)
def test_who_makes_money_on_todays_models_at_november_2026_prices(model, time_of_day):
    at = open_page(PAGE, model=model, price_date="today", time_of_day=time_of_day)
    assert not at.exception and not at.error
    scen = app_scenario(model=model)
    options = price_war.Options(price_date="today", time_of_day=time_of_day, price_rule=PriceRule())
    result = price_war.run(scen, options)
    assert result.price_date == "2026-11-20"
    same_numbers(at, result)
    words = page_words(at)
    assert escape(result.verdict_text) in words
    assert escape(result.operating_point_text) in words  # where it is decided, named
    if result.sheet_note:
        assert escape(result.sheet_note) in words
    assert not NO_INF.search(words), NO_INF.search(words)
    # Who makes money, counted on the setup that decides.
    deciding = result.margins[
        (result.margins["setup"] == result.cheapest_setup) & (result.margins["model"] == model)
    ]
    counts = metrics(at)
    assert counts["Providers that make money"] == str((deciding["verdict"] == "profits").sum())
    assert counts["Providers that lose money"] == str((deciding["verdict"] == "loses money").sum())


def test_deepseeks_peak_and_off_peak_and_what_differs_from_its_own_economics():
    # DeepSeek bills V4-Pro $3.96 peak and $1.98 off-peak per million output tokens.
    for time_of_day, usd_out in (("peak", 3.96), ("off_peak", 1.98), ("03:00", 3.96)):
        at = open_page(PAGE, model="deepseek-v4-pro", price_date="today", time_of_day=time_of_day)
        assert not at.exception and not at.error
        assert at.selectbox(key="time_of_day").value == time_of_day
        sheet = shown(at, "billed").set_index("provider")
        assert sheet.loc["DeepSeek", "usd_per_million_output"] == usd_out
        options = price_war.Options(
            price_date="today", time_of_day=time_of_day, price_rule=PriceRule()
        )
        result = price_war.run(app_scenario(model="deepseek-v4-pro"), options)
        assert result.disclosure_text.startswith("DeepSeek's own published economics")
        words = page_words(at)
        assert f"**Beside their own numbers.** {escape(result.disclosure_text)}" in words
        assert escape(result.sheet_note) in words and "bill DeepSeek-V4-Pro by time" in words


def test_every_setup_is_drawn_with_all_gpus_selected():
    gpus = list(CATALOG.gpus.index)
    at = open_page(PAGE, model="gpt-oss-120b", price_date="today", market_gpus=gpus)
    assert not at.exception and not at.error
    options = price_war.Options(price_date="today", market_gpus=tuple(gpus), price_rule=PriceRule())
    result = price_war.run(app_scenario(model="gpt-oss-120b"), options)
    setups = list(dict.fromkeys(result.margins["setup"]))
    assert len(setups) > 9  # the bug: at most 9 were drawn
    drawn = at.get("vega_lite_chart")
    titles = [" ".join(json.loads(c.proto.spec)["title"]["text"]) for c in drawn[: len(setups)]]
    assert titles == setups
    assert len(at.get("vega_lite_chart")) == len(setups) + 1  # and the tornado


# --- Your price list -------------------------------------------------------------------

DATA = Path(__file__).parent / "data"
LITELLM = (DATA / "litellm-model-prices-sample.json").read_bytes()
OPENROUTER = (DATA / "openrouter-models-sample.json").read_bytes()


def upload(at, data: bytes, name: str = "model_prices_and_context_window.json"):
    at.file_uploader[0].set_value((name, data, "application/json")).run()
    return at


def listed(data: bytes, reader, date: str) -> pd.DataFrame:
    """The prices the page uses: the file read, through its URL form (as a link holds it)."""
    found = reader(data, date, CATALOG)
    file_format = "litellm" if reader is price_files.read_litellm else "openrouter"
    return price_list.decode(price_list.encode(found.prices, file_format), date, CATALOG)[0]


def test_an_uploaded_litellm_file_is_the_sheet_and_its_link_reproduces_it():
    at = open_page(PAGE, model="deepseek-v4-flash", price_date="today")
    catalog_sheet = shown(at, "billed")
    upload(at, LITELLM)
    assert not at.exception and not at.error
    scen = app_scenario(model="deepseek-v4-flash")
    options = price_war.Options(price_date="today", price_rule=PriceRule())
    prices = listed(LITELLM, price_files.read_litellm, today())
    result = price_war.run(scen, options, price_files.use_prices(CATALOG, prices))
    # The sheet changed: LiteLLM's sample prices DeepSeek's V4-Flash at $1.20 (peak) and
    # lists Azure AI and Novita, dated the day of the file (today, by default).
    sheet = shown(at, "billed")
    assert not sheet.equals(catalog_sheet)
    assert set(sheet["provider"]) == {"Azure AI", "DeepSeek", "Novita"}
    assert sheet.set_index("provider").loc["DeepSeek", "usd_per_million_output"] == 1.20
    assert set(sheet["date"]) == {today()}
    assert at.subheader[0].value == f"Provider prices as of {today()} (your list)"
    same_numbers(at, result)
    assert escape(result.verdict_text) in markdown_text(at)
    # What was mapped and left out, and what the link carries.
    words = page_words(at)
    # 20 entries: 12 rows of 5 models (DeepSeek's peak and off-peak are two), 8 left out.
    assert (
        "20 entries; 12 prices of 5 catalog models used; 8 entries left out (4 deprecated" in words
    )
    assert "The share link carries them" in words and "so it reproduces this sheet" in words
    left_out = shown(at, "reason")
    assert "deprecated on 2026-08-14" in set(left_out["reason"])
    # The link: the list and its date in the URL; a fresh session from it shows the same.
    link = {k: at.query_params[k] for k in ("price_list", "price_file_date")}
    assert link["price_file_date"] == today()
    again = open_page(PAGE, model="deepseek-v4-flash", price_date="today", **link)
    assert not again.exception and not again.error
    assert not any("URL parameters" in w.value for w in again.warning)
    pd.testing.assert_frame_equal(shown(again, "billed"), sheet)
    same_numbers(again, result)
    # Off-peak: DeepSeek's off-peak price from the file.
    at.selectbox(key="time_of_day").set_value("off_peak").run()
    assert (
        shown(at, "billed").set_index("provider").loc["DeepSeek", "usd_per_million_output"] == 0.6
    )
    # Back to the catalog's prices.
    next(b for b in at.button if b.label == "Use the catalog's prices").click().run()
    assert "price_list" not in at.query_params
    assert at.subheader[0].value == "Provider prices as of 2026-11-20"


def test_an_openrouter_file_is_detected_and_dated_by_its_input():
    at = open_page(PAGE, model="glm-5.2", price_date="today", price_file_date="2026-11-30")
    upload(at, OPENROUTER, "models.json")
    assert not at.exception and not at.error
    sheet = shown(at, "billed")
    assert list(sheet["provider"]) == ["OpenRouter"] and list(sheet["date"]) == ["2026-11-30"]
    prices = listed(OPENROUTER, price_files.read_openrouter, "2026-11-30")
    options = price_war.Options(price_date="today", price_rule=PriceRule())
    scen = app_scenario(model="glm-5.2")
    same_numbers(at, price_war.run(scen, options, price_files.use_prices(CATALOG, prices)))
    assert "your OpenRouter models list of 2026-11-30" in page_words(at)


@pytest.mark.parametrize(
    ("data", "file_format", "said"),
    [
        (b"{not json", "detect", "is neither LiteLLM"),
        (b"[1, 2]", "litellm", "must be a JSON object of model entries"),
        (b'{"data": {"id": 1}}', "openrouter", 'must be an object with a "data" list'),
        (b'{"x": {"litellm_provider": "p", "input_cost_per_token": "cheap"}}', "detect", "cheap"),
        (LITELLM, "openrouter", 'must be an object with a "data" list'),
        (b"\xff\xfe{}", "litellm", "is not a JSON file"),
    ],
)
def test_a_malformed_file_gets_a_message_not_a_traceback(data, file_format, said):
    at = open_page(PAGE, model="glm-5.2", price_date="today", price_file_format=file_format)
    upload(at, data, "prices.json")
    assert not at.exception
    (error,) = at.error
    assert error.value.startswith("Could not read ` prices.json `: ") and said in error.value
    assert "price_list" not in at.query_params
    assert at.subheader[0].value == "Provider prices as of 2026-11-20"  # the catalog's


def test_a_bad_price_list_or_date_in_the_url_is_named_and_dropped():
    value = price_list.encode(
        price_files.read_litellm(LITELLM, "2026-11-30", CATALOG).prices, "litellm"
    )
    note = ignored(open_page(PAGE, price_list="bm90IGEgbGlzdA", price_file_date="2031-01"))
    assert f"`price_list=bm90IGEgbGlzdA`: {escape('price_list')} is not a price list" in note
    assert f"`price_file_date=2031-01`: {escape('price_file_date')} must be a date" in note
    # A list whose rows break the rules is refused as a file would be.
    bad = price_list.encode(
        price_files.read_litellm(LITELLM, "2026-11-30", CATALOG).prices.assign(model="gpt-9"),
        "litellm",
    )
    assert "model must be a catalog model id" in ignored(open_page(PAGE, price_list=bad))
    at = open_page(PAGE, model="glm-5.2", price_date="today", price_list=value)
    assert not any("URL parameters" in w.value for w in at.warning)
    assert at.subheader[0].value == f"Provider prices as of {today()} (your list)"


@pytest.mark.parametrize(
    "value",
    ["` ![k](http://127.0.0.1:8712/k.png) `", "<b>k</b>", "k" * 5000, "ü", "$k$", "="],
)
def test_hostile_price_list_and_date_values_are_shown_as_text_and_dropped(value):
    at = open_page(PAGE, price_list=value, price_file_date=value)
    assert not at.exception and len(at.warning) == 1
    raw = at.warning[0].value
    # Each value is named once, as a code span (gate.warning's form: nothing inside is markup).
    for key in ("price_list", "price_file_date"):
        assert literal(f"{gate.shown(key)}={gate.shown(value)}") in raw
    assert raw.count("\n- ") == 2  # two lines, one per value
    assert "price_list" not in at.query_params and "price_file_date" not in at.query_params
    assert at.subheader[0].value == "Provider prices as of 2023-12"  # the catalog's
