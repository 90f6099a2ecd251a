"""Presets live in the library; each one's text is built from the fields it sets."""

from __future__ import annotations

import pytest

import costmodel
from costmodel import presets, seed
from costmodel.fields import FIELDS


def test_december_2023_baseline_is_the_seeds_c4_setup_and_the_defaults():
    baseline = presets.DECEMBER_2023_BASELINE
    assert dict(baseline) == seed.C4_SETUP
    # C4: 2x H100, BF16, $1.95 per GPU-hour, running 24/7.
    assert (baseline["n_gpus"], baseline["gpu"], baseline["weight_format"]) == (
        2,
        "h100-sxm",
        "bf16",
    )
    assert (baseline["usd_per_gpu_hour"], baseline["utilization"]) == (1.95, 1.0)
    # The defaults are the baseline, but for the weights: the checkpoint's own by default,
    # which for the seed's Mixtral is its bf16, so the two evaluate alike.
    default = costmodel.Scenario()
    assert default.weight_format is None
    assert all(getattr(default, k) == v for k, v in baseline.items() if k != "weight_format")
    assert costmodel.evaluate(default) == costmodel.evaluate(baseline.apply(default))


@pytest.mark.parametrize("preset", list(presets.PRESETS.values()), ids=lambda p: p.name)
def test_description_states_every_field_the_preset_sets(preset):
    text = preset.description
    assert text.startswith(preset.name)
    for name, value in preset.items():
        shown = (
            FIELDS[name].empty
            if value is None
            else f"{value:,}"
            if FIELDS[name].low is not None
            else str(value)
        )
        assert f"{FIELDS[name].label}: {shown}" in text, (name, text)
    others = [s.label for n, s in FIELDS.items() if n not in preset]
    assert not [label for label in others if f"; {label}:" in text or f": {label}:" in text]


def test_description_follows_the_values():
    preset = presets.Preset("Mine", {"n_gpus": 4, "usd_per_gpu_hour": 2.5})
    assert preset.description == "Mine: GPUs per replica: 4 GPUs; GPU price: 2.5 $/GPU-hour."


def test_apply_sets_its_fields_and_leaves_the_rest():
    user = costmodel.Scenario(batch_size=8, prompt_tokens=4096, n_gpus=4, usd_per_gpu_hour=3.0)
    applied = presets.DECEMBER_2023_BASELINE.apply(user)
    assert (applied.n_gpus, applied.usd_per_gpu_hour) == (2, 1.95)
    assert (applied.batch_size, applied.prompt_tokens) == (8, 4096)  # not the preset's
    assert "Batch size" not in presets.DECEMBER_2023_BASELINE.description


def test_preset_values_are_checked_and_compare_as_dicts():
    with pytest.raises(ValueError, match="n_gpus"):
        presets.Preset("bad", {"n_gpus": 0})
    with pytest.raises(ValueError, match="unknown scenario field 'users'"):
        presets.Preset("bad", {"users": 4})
    assert {"routing_skew": 1.0} == presets.SKEWED_ROUTING != presets.UNIFORM_ROUTING
    assert {**presets.LEVIATHAN_T5}["draft_tokens"] == 7


def test_c9_preset_evaluates_near_together():
    # Together reported ~170 tokens/s per sequence at T = 0 and ~80 at T = 2 (seed C9).
    base = presets.TOGETHER_C9.apply(costmodel.Scenario(speculative=True))
    rows = costmodel.sweep(base, temperature=[0.0, 2.0])["tokens_per_s_per_user"]
    assert rows.tolist() == pytest.approx([170.0, 80.0], rel=0.10)
