"""costmodel.analyses.speculative: acceptance by hand, the C9 reproduction, C10, C11."""

import numpy as np
import pandas as pd
import pytest

import costmodel
from costmodel.analyses import speculative as sp
from costmodel.spec import specs

RESULT = sp.run()


def test_acceptance_by_hand():
    # a(T) = a0 (a1 / a0)^T: 0.75 at T = 0, 0.75 x (0.62 / 0.75)^2 = 0.51253 at T = 2.
    moe = RESULT.by_temperature[
        RESULT.by_temperature["speculative"] & (RESULT.by_temperature["model_label"] == sp.MOE)
    ].set_index("temperature")
    assert moe.loc[0.0, "acceptance_rate"] == pytest.approx(0.75)
    assert moe.loc[2.0, "acceptance_rate"] == pytest.approx(0.75 * (0.62 / 0.75) ** 2)
    # Tokens per step at T = 0, g = 4: (1 - 0.75^5) / 0.25 = 3.0508.
    assert moe.loc[0.0, "tokens_per_step"] == pytest.approx((1 - 0.75**5) / 0.25)
    assert (np.diff(moe["tokens_per_s_per_user"]) <= 0).all()  # hotter: slower


def test_c9_reproduction():
    # The preset's acceptance at T = 2: 0.85 x (0.56 / 0.85)^2 = 0.3689.
    assert RESULT.c9_status == "holds"
    ours = RESULT.c9_preset_tokens_per_s
    assert ours[0.0] == pytest.approx(170, rel=0.10) and ours[2.0] == pytest.approx(80, rel=0.10)
    assert f"{ours[0.0]:.1f}" in RESULT.c9_text
    rows = RESULT.c9.set_index("setting")
    assert rows.loc["weight_format", "preset"] == "fp8"
    assert rows.loc["tokens/s per user at T=0 [tokens/s]", "together"] == "170"
    preset = costmodel.Scenario(**{**sp.C9_PRESET, "temperature": 2.0}, speculative=True)
    assert costmodel.evaluate(preset)["acceptance_rate"] == pytest.approx(0.85 * (0.56 / 0.85) ** 2)


def test_c10_and_c11():
    assert RESULT.c10_status == "holds"
    gain = RESULT.speedup_vs_batch
    assert gain.loc[1, sp.MOE] < gain.loc[1, sp.DENSE]
    # Verifying 5 tokens at batch 1 touches 8 (1 - 0.75^5) = 6.10 experts instead of 2.
    assert "6.1 experts per layer instead of 2" in RESULT.c11_text
    assert f"{gain.loc[1, sp.MOE]:.2f}x" in RESULT.c11_text and RESULT.c11_status == "holds"


def test_options_are_scenario_fields_with_their_defaults():
    fields = specs(sp.Options)
    base = costmodel.Scenario()
    for name, spec in fields.items():
        assert spec.default == getattr(base, name)
        assert (spec.low, spec.high) == costmodel.FIELD_RANGES[name]
    hot = sp.run(options=sp.Options(temperature=1.5))
    assert hot.extrapolated and hot.scenario.temperature == 1.5


@pytest.mark.parametrize(
    "changes, name",
    [({"draft_tokens": 2.5}, "draft_tokens"), ({"temperature": 2.5}, "temperature")],
)
def test_bad_options_name_the_option(changes, name):
    with pytest.raises(ValueError, match=name):
        sp.Options(**changes)


def test_tables_are_laid_out_as_pandas_lays_them_out():
    """The pivots and the index built from arrays (``_pivot``, ``_indexed``) are
    ``DataFrame.pivot`` and ``set_index`` exactly: values, order, dtypes and names."""
    by_batch = RESULT.by_batch
    drafted = by_batch[by_batch["speculative"]]
    gain = drafted.pivot(index="batch_size", columns="model_label", values="speculative_speedup")
    pd.testing.assert_frame_equal(RESULT.speedup_vs_batch, gain, check_exact=True)
    moe = by_batch[by_batch["model_label"] == sp.MOE]
    experts = moe.pivot(index="batch_size", columns="speculative", values="experts_read_per_layer")
    pd.testing.assert_frame_equal(RESULT.experts_vs_batch, experts, check_exact=True)
    names = ["model_label", "speculative"]
    pd.testing.assert_frame_equal(
        sp._indexed(by_batch, names), by_batch.set_index(names), check_exact=True
    )
    assert list(RESULT.now.index) == [
        (sp.MOE, False),
        (sp.MOE, True),
        (sp.DENSE, False),
        (sp.DENSE, True),
    ]
    # a pair without a value is NaN, as pivot leaves it
    some = drafted.iloc[1:]
    pd.testing.assert_frame_equal(
        sp._pivot(some, np.arange(len(some)), "batch_size", "model_label", "speculative_speedup"),
        some.pivot(index="batch_size", columns="model_label", values="speculative_speedup"),
        check_exact=True,
    )
