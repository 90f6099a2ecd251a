"""Speculative decoding page, through AppTest (no browser)."""

import io
import json

import pandas as pd
import pytest
from conftest import as_ids, ignored, metrics, open_page

import costmodel
from costmodel import comparisons

PAGE = "app_pages/speculative_decoding.py"
PRESET = "spec_preset:Together, Dec 2023 (C9)"
SPEC_KEYS = (
    "temperature",
    "draft_tokens",
    "draft_cost_ratio",
    "acceptance_at_t0",
    "acceptance_at_t1",
)


def page_values(at) -> dict:
    widgets = [*at.main.number_input, *at.main.slider]
    return {w.key: w.value for w in widgets if w.key in SPEC_KEYS}


def c9_table(at) -> pd.DataFrame:
    (table,) = [d.value for d in at.dataframe if "Together (C9)" in d.value.columns]
    return as_ids(table).set_index("setting")


def test_renders_with_defaults():
    at = open_page(PAGE)
    assert not at.exception
    assert not at.warning and not at.error
    assert at.title[0].value == "Speculative decoding versus temperature"
    for claim in ("C9", "C10", "C11"):
        assert f"**{claim}**" in at.markdown[0].value
    default = costmodel.Scenario()
    assert page_values(at) == {k: getattr(default, k) for k in SPEC_KEYS}
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert len(specs) >= 4
    text = json.dumps(specs)
    for title in ("Sampling temperature [-]", "Tokens/s per user [tokens/s]"):
        assert title in text
    assert '"type": "rect"' in text  # the shaded extrapolation band, T > 1
    assert '"tooltip"' in text


def test_key_numbers_equal_costmodel():
    at = open_page(PAGE, temperature="0.5", draft_tokens="6", batch_size="4")
    scen = costmodel.Scenario(temperature=0.5, draft_tokens=6, batch_size=4)
    spec = costmodel.evaluate(scen.replace(speculative=True))
    plain = costmodel.evaluate(scen)
    cat = comparisons.dense_equivalents(costmodel.load_catalog(), scen.model)
    dense_id = comparisons.dense_model_ids(scen.model)["same_active"]
    dense = costmodel.evaluate(scen.replace(speculative=True, model=dense_id), cat)
    shown = metrics(at)
    assert spec["acceptance_rate"] == pytest.approx(0.75 * (0.62 / 0.75) ** 0.5)
    assert shown["Acceptance rate"] == f"{spec['acceptance_rate']:.3f}"
    assert shown["MoE tokens/s per user"] == f"{spec['tokens_per_s_per_user']:.1f}"
    assert shown["MoE speed-up"] == f"{spec['speculative_speedup']:.2f}x"
    assert shown["Dense speed-up"] == f"{dense['speculative_speedup']:.2f}x"
    assert spec["tokens_per_s_per_user"] > plain["tokens_per_s_per_user"]
    by_t = at.dataframe[0].value
    row = by_t[(by_t["setup"] == "MoE, speculative") & (by_t["temperature"] == 0.5)]
    assert row["tokens_per_s_per_user"].item() == pytest.approx(spec["tokens_per_s_per_user"])


def test_url_params_fill_sidebar_and_page_inputs():
    params = {
        "gpu": "a100-80gb-sxm",
        "batch_size": "8",
        "temperature": "1.5",
        "draft_tokens": "6",
        "draft_cost_ratio": "0.1",
        "acceptance_at_t0": "0.8",
        "acceptance_at_t1": "0.5",
    }
    at = open_page(PAGE, **params)
    assert not at.exception and not at.error
    assert at.sidebar.selectbox(key="gpu").value == "a100-80gb-sxm"
    assert at.sidebar.number_input(key="batch_size").value == 8
    assert page_values(at) == {k: float(params[k]) for k in SPEC_KEYS}
    # T > 1: the page says the acceptance is extrapolated (the only warning).
    assert len(at.warning) == 1 and "extrapolated" in at.warning[0].value
    assert metrics(at)["Acceptance rate"] == f"{0.8 * (0.5 / 0.8) ** 1.5:.3f}"


@pytest.mark.parametrize(
    "params",
    [{"draft_tokens": "99"}, {"acceptance_at_t0": "1.5"}, {"temperature": "hot"}],
)
def test_bad_page_param_is_named_in_a_warning(params):
    at = open_page(PAGE, **params)
    (name,) = params
    assert f"`{name}=" in ignored(at)
    assert page_values(at)[name] == getattr(costmodel.Scenario(), name)


def test_c9_preset_reproduces_together_and_reset_restores():
    at = open_page(PAGE)
    at.button(key=PRESET).click().run()
    assert not at.exception
    from app_pages.speculative_decoding import PRESETS

    preset = PRESETS["Together, Dec 2023 (C9)"]
    for key, value in preset.items():
        assert at.session_state[key] == value
    assert at.sidebar.selectbox(key="weight_format").value == preset["weight_format"]
    table = c9_table(at)
    # Seed claim C9: about 170 tokens/s per sequence at T = 0 and about 80 at T = 2.
    for t, target in ((0, 170.0), (2, 80.0)):
        row = table.loc[f"tokens/s per user at T={t} [tokens/s]"]
        assert float(row["preset"]) == pytest.approx(target, rel=0.10)
        assert row["current page"] == row["preset"]  # the page now holds the preset
        assert float(row["Together (C9)"]) == target
    scen = costmodel.Scenario(**preset)
    direct = costmodel.sweep(scen.replace(speculative=True), temperature=[0.0, 2.0])
    assert table.loc["tokens/s per user at T=0 [tokens/s]", "preset"] == (
        f"{direct['tokens_per_s_per_user'].iloc[0]:.1f}"
    )
    assert (
        metrics(at)["MoE tokens/s per user"]
        == table.loc["tokens/s per user at T=0 [tokens/s]", "current page"]
    )

    at.button(key="spec_preset:reset").click().run()
    default = costmodel.Scenario()
    assert page_values(at) == {k: getattr(default, k) for k in SPEC_KEYS}
    # the page's Reset leaves the sidebar as the C9 preset set it
    assert at.sidebar.selectbox(key="weight_format").value == preset["weight_format"]
    assert c9_table(at).loc["weight_format", "current page"] == preset["weight_format"]


def test_leviathan_preset_sets_page_inputs_only():
    at = open_page(PAGE, gpu="a100-80gb-sxm")
    at.button(key="spec_preset:Leviathan et al., T5 anchors").click().run()
    assert page_values(at)["draft_tokens"] == 7
    assert at.sidebar.selectbox(key="gpu").value == "a100-80gb-sxm"


def test_mtp_preset_sets_the_fields_the_page_and_sidebar_hold():
    """Issue 11: NVIDIA's DeepSeek-R1 MTP run (costmodel.presets) is a preset here too; the
    fields with no input on this page or the sidebar (``speculative``, ``mtp``) are not set."""
    preset = costmodel.presets.DEEPSEEK_R1_MTP_B200
    at = open_page(PAGE)
    at.button(key=f"spec_preset:{preset.name}").click().run()
    assert not at.exception and not at.error
    assert page_values(at)["draft_tokens"] == preset["draft_tokens"]
    assert page_values(at)["acceptance_at_t0"] == preset["acceptance_at_t0"]
    assert at.sidebar.selectbox(key="model").value == preset["model"]
    assert at.sidebar.selectbox(key="n_gpus").value == preset["n_gpus"]
    assert "mtp" not in at.session_state and "speculative" not in at.session_state
    assert f"The inputs match the preset *{preset.name}*." in [c.value for c in at.caption]


def test_csv_downloads_equal_tables_shown(downloads):
    at = open_page(PAGE, temperature="0.3")
    assert not at.exception
    names = ["speculative_vs_temperature.csv", "c9_preset.csv", "speculative_vs_batch.csv"]
    shown = [d.value for d in at.dataframe]
    assert len(shown) == len(names)
    for name, table in zip(names, shown, strict=True):
        as_text = {"dtype": str, "keep_default_na": False} if name == "c9_preset.csv" else {}
        csv = pd.read_csv(io.BytesIO(downloads[name]), **as_text)
        expected = pd.read_csv(io.StringIO(as_ids(table).to_csv(index=False)), **as_text)
        pd.testing.assert_frame_equal(csv, expected, check_exact=False, rtol=1e-12)


def test_acceptance_out_of_order_is_adapted_with_a_warning_naming_it():
    """Acceptance at T = 1 above that at T = 0 (later drafts more likely accepted at a
    higher temperature): the page draws, the rate at T = 1 lowered to 0.5, and a warning
    names the field (an error box before)."""
    at = open_page(PAGE, acceptance_at_t0="0.5", acceptance_at_t1="0.9", temperature="0.5")
    assert not at.exception and not at.error, [e.value for e in at.error]
    label = costmodel.FIELDS["acceptance_at_t1"].label
    assert any(label in w.value for w in at.warning), [w.value for w in at.warning]
    assert metrics(at)["Acceptance rate"] == f"{0.5:.3f}"  # 0.5 at both anchors
