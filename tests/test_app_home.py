"""Home page and the shared sidebar, through AppTest (no browser)."""

import tomllib
from pathlib import Path

import pytest
from conftest import APP_DEFAULT, ignored, open_page
from streamlit.testing.v1 import AppTest

import costmodel
from app_pages import ui
from app_pages.ui import models, price_list, sidebar, url
from costmodel.fields import EFFICIENCY_FIELDS

DEFAULT = APP_DEFAULT


def sidebar_values(at: AppTest) -> dict:
    """Key -> value of every input in the sidebar, as the Scenario holds it (the empty
    option of a choice whose None has a meaning, such as attention_format, is None)."""
    widgets = [
        *at.sidebar.selectbox,
        *at.sidebar.number_input,
        *at.sidebar.slider,
        *at.sidebar.toggle,
    ]
    return {
        w.key: None if w.value == url.NONE_OPTION else w.value
        for w in widgets
        if w.key in costmodel.FIELDS
    }


#: Every Scenario field the sidebar draws, the efficiencies included (the GPU price is
#: drawn by the price rule's box, a view of ``gpu_prices``).
SIDEBAR_FIELDS = (*sidebar.SHARED_FIELDS, *EFFICIENCY_FIELDS)


def test_home_renders_defaults():
    at = open_page()
    assert not at.exception
    assert not at.warning and not at.error
    assert sidebar_values(at) == {f: getattr(DEFAULT, f) for f in SIDEBAR_FIELDS}
    claims = " ".join(m.value for m in at.markdown)
    for claim_id in (f"C{i}" for i in range(1, 15)):
        assert f"**{claim_id}**" in claims


def test_home_shows_the_claims_verdicts():
    """Each claim's status, evidence and rule are check_all's at the sidebar's scenario."""
    from app_pages.ui.text import escape
    from costmodel import claims

    for query, scen in (({}, DEFAULT), ({"batch_size": "256"}, DEFAULT.replace(batch_size=256))):
        at = open_page(**query)
        assert not at.exception and not at.error
        words = " ".join(m.value for m in at.markdown)
        captions = " ".join(c.value for c in at.caption)
        for row in claims.check_all(scen).itertuples():
            assert f"-badge[{escape(row.status)}]" in words, row.id
            assert escape(row.evidence) in captions and escape(row.rule) in captions, row.id


def test_url_values_fill_sidebar():
    at = open_page(gpu="a100-80gb-sxm", batch_size="64")
    assert not at.exception and not at.warning
    values = sidebar_values(at)
    assert values["gpu"] == "a100-80gb-sxm"
    assert values["batch_size"] == 64
    assert values["n_gpus"] == DEFAULT.n_gpus


def test_url_value_equal_to_default_is_not_a_warning():
    at = open_page(n_gpus=str(DEFAULT.n_gpus), utilization="1.000")
    assert not at.warning


def test_the_gpu_price_follows_the_gpu_unless_you_typed_one():
    """The sidebar's GPU price is the price rule's for the chosen GPU (on-demand today by
    default); a price typed for a GPU is that GPU's own (``gpu_prices``) and stays with it."""
    from costmodel import pricing

    for gpu in ("h100-sxm", "b200", "a100-80gb-sxm"):
        at = open_page(gpu=gpu)
        assert not at.exception and not at.warning
        rule = pricing.price_gpus([gpu], pricing.PriceRule()).iloc[0]
        assert at.session_state["_ui_scenario"].usd_per_gpu_hour == rule["usd_per_gpu_hour"]
        assert rule["label"] in " ".join(c.value for c in at.sidebar.caption).replace("\\", "")
    # An older link's usd_per_gpu_hour is read as the link's GPU's own price.
    at = open_page(gpu="b200", usd_per_gpu_hour="2.5")
    assert at.session_state["_ui_scenario"].usd_per_gpu_hour == 2.5
    assert at.query_params["gpu_prices"] in ("b200:2.5", ["b200:2.5"])
    assert "usd_per_gpu_hour" not in at.query_params
    # Your price of one GPU does not price another.
    at = open_page(gpu="h200-sxm", gpu_prices="b200:2.5")
    h200 = pricing.price_gpus(["h200-sxm"], pricing.PriceRule()).iloc[0]["usd_per_gpu_hour"]
    assert at.session_state["_ui_scenario"].usd_per_gpu_hour == h200


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"n_gpus": "abc"}, ["n_gpus"]),
        ({"n_gpus": "1000"}, ["n_gpus"]),
        ({"gpu": "no-such-gpu"}, ["gpu"]),
        ({"foo": "1"}, ["foo"]),
        ({"foo": "1", "utilization": "5", "batch_size": "64"}, ["foo", "utilization"]),
    ],
)
def test_bad_url_parameters_are_named_in_one_warning(params, named):
    at = open_page(**params)
    assert not at.exception
    assert len(at.warning) == 1
    text = ignored(at)
    for name in named:
        assert f"`{name}=" in text
        assert ("dropped" if name == "foo" else "the default") in text
    assert "batch_size" not in text
    if "n_gpus" in params:
        assert sidebar_values(at)["n_gpus"] == DEFAULT.n_gpus


def test_preset_and_reset_set_session_state():
    at = open_page(gpu="a100-80gb-sxm", n_gpus="4", batch_size="64")
    at.button(key="preset:December 2023 baseline").click().run()
    for field, value in sidebar.PRESETS["December 2023 baseline"].items():
        assert at.session_state[field] == value
    # The seed's $1.95 is its H100's own price: the scenario is the library's baseline.
    seed = costmodel.presets.DECEMBER_2023_BASELINE.apply(costmodel.Scenario(batch_size=64))
    assert at.session_state["_ui_scenario"] == seed
    assert at.session_state["batch_size"] == 64  # not part of the preset
    at.button(key="preset:reset").click().run()
    assert not at.exception
    assert sidebar_values(at) == {f: getattr(DEFAULT, f) for f in SIDEBAR_FIELDS}


def test_baseline_preset_is_the_librarys():
    # Its values (the seed's C4 setup) are checked by hand in tests/test_presets.py; the
    # sidebar sets its GPU price as that GPU's own price.
    preset = dict(costmodel.presets.DECEMBER_2023_BASELINE)
    price = preset.pop("usd_per_gpu_hour")
    assert sidebar.PRESETS["December 2023 baseline"] == {
        **preset,
        "gpu_prices": ((preset["gpu"], price),),
    }


def test_share_link_holds_the_url_parameters():
    at = open_page(gpu="a100-80gb-sxm", batch_size="64", foo="1")
    (code,) = at.sidebar.code
    assert code.value.endswith("?gpu=a100-80gb-sxm&batch_size=64")  # foo is not passed on


def test_invalid_scenario_shows_error_and_default():
    def script():
        import streamlit as st

        from app_pages.ui import sidebar

        st.markdown("fell back" if sidebar.scenario(gpu="no-gpu") == sidebar.DEFAULT else "kept")

    at = AppTest.from_function(script).run()
    assert not at.exception
    assert "gpu must be one of" in at.error[0].value
    assert at.markdown[0].value == "fell back"


def bound_widgets(at: AppTest) -> dict:
    """Key -> value of every input kept in the URL, in the main area and the sidebar."""

    def walk(node):
        for child in getattr(node, "children", {}).values():
            yield child
            yield from walk(child)

    synced = at.session_state["_ui_url_synced"]  # widgets._named_selectbox: ids in the URL
    return {
        e.key: e.value
        for e in [*walk(at.main), *walk(at.sidebar)]
        if getattr(getattr(e, "proto", None), "query_param_key", "") or e.key in synced
    }


@pytest.mark.parametrize("path", ["app_pages/home.py"] + [p.path for p in ui.PAGES[1:]])
def test_page_declares_its_url_parameters(path):
    """The URL gate, Reset and the warning rely on each page declaring its URL inputs."""
    at = open_page(path)
    assert not at.exception, path
    declared = at.session_state["_ui_declared"]  # filled by url.declare during the run
    widgets = bound_widgets(at)
    # gpu_prices: the sidebar's GPU price and the GPU page's price editor write it into the
    # URL (no bound widget); usd_per_gpu_hour: an older link's form, read into gpu_prices;
    # custom_model: the sidebar's upload writes it, and the sidebar reads it
    # (app_pages.ui.models) before the model selectbox; price_list and price_file_date: the
    # price war's price list writes and reads them (app_pages.ui.price_list).
    unbound = ("gpu_prices", "usd_per_gpu_hour", models.KEY, price_list.KEY, price_list.DATE_KEY)
    expected = [k for k in declared if k not in unbound]
    assert sorted(widgets) == sorted(expected), "bound inputs vs url.declare(...)"
    for key, value in widgets.items():
        default = declared[key].default
        shown = None if value == url.NONE_OPTION else value  # the empty option is None
        assert (tuple(shown) if isinstance(shown, list) else shown) == default, key


def test_model_and_gpu_show_names_and_keep_ids_in_the_url():
    at = open_page(gpu="a100-80gb-sxm")
    box = at.sidebar.selectbox(key="gpu")
    assert box.value == "a100-80gb-sxm"
    assert "A100 80GB SXM4" in box.options and "a100-80gb-sxm" not in box.options
    box.set_value("h200-sxm").run()
    assert at.query_params["gpu"] in ("h200-sxm", ["h200-sxm"])  # the callback writes the id
    at.button(key="preset:reset").click().run()
    assert "gpu" not in at.query_params and at.sidebar.selectbox(key="gpu").value == "h100-sxm"


def test_an_unexpected_error_shows_a_message_and_a_link_to_the_defaults(monkeypatch):
    def broken() -> None:
        raise RuntimeError("/srv/secret/path.py failed")

    monkeypatch.setattr(url, "share_link", broken)
    at = open_page(batch_size="64")
    assert not at.exception  # no traceback on the page
    (error,) = at.error
    assert error.value.startswith("Something went wrong") and "/srv" not in error.value
    assert at.get("link_button")[0].proto.label == "Open this page with the default settings"


def test_streamlit_shows_visitors_no_error_details():
    config = tomllib.loads((Path(__file__).parent.parent / ".streamlit/config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"  # 1.67: full, stacktrace, type, none
