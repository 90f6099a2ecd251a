"""Every kind of bad input raises ValueError naming the field (Scenario, sweep, catalog)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from costmodel import CUSTOM_PREFIX, Scenario, evaluate, load_catalog, sweep
from costmodel.fields import check_field

MODELS_DIR = Path(__file__).resolve().parent.parent / "assets" / "models"

#: Ids that are strings but not in the catalog: a Scenario holds them, evaluation rejects
#: them against the catalog it uses.
BAD_IDS = [("model", "gpt-4"), ("gpu", "tpu-v5"), ("weight_format", "fp4")]

BAD_FIELDS = [
    # (field, bad value): wrong type or range, rejected by Scenario itself
    ("model", None),
    ("model", 3),
    ("gpu", b"h100-sxm"),
    ("kv_format", "int8"),  # a weight format, but not a KV-cache format
    ("kv_format", "int4"),
    ("n_gpus", 0),
    ("n_gpus", 257),
    ("n_gpus", 1.5),
    ("n_gpus", 2.0),  # a float, even a whole one, is not an integer field value
    ("n_gpus", True),
    ("n_gpus", "2"),
    ("n_gpus", float("nan")),
    ("batch_size", 0),
    ("batch_size", -1),
    ("batch_size", 65537),
    ("prompt_tokens", 0),
    ("output_tokens", 32769),
    ("draft_tokens", 0),
    ("usd_per_gpu_hour", -0.01),
    ("usd_per_gpu_hour", float("inf")),
    ("usd_per_gpu_hour", float("nan")),
    ("usd_per_gpu_hour", "1.95"),
    ("utilization", 0),
    ("utilization", 1.5),
    ("temperature", 3),
    ("temperature", -0.1),
    ("temperature", float("nan")),
    ("acceptance_at_t0", 1.0),
    ("acceptance_at_t1", -0.1),
    ("speculative", "yes"),
    ("speculative", 1),
    ("speculative", None),
    ("routing_skew", 3.5),
    ("bandwidth_efficiency", 0.0),
    ("bandwidth_efficiency", float("nan")),
    ("compute_efficiency", 1.1),
    ("moe_kernel_efficiency", 0.0),
    ("kernel_us", -0.5),
    ("acceptance_decay", 0.0),
    ("allreduce_latency_us", -1.0),
    ("link_efficiency", float("-inf")),
    ("layer_overhead_us", 1001.0),
    ("memory_overhead_gb_per_gpu", 65.0),
    ("usable_memory_fraction", 0.4),
]


def _id(case):
    return f"{case[0]}={case[1]!r}"


@pytest.mark.parametrize("case", BAD_FIELDS, ids=_id)
def test_scenario_rejects_bad_field(case):
    name, value = case
    with pytest.raises(ValueError, match=name):
        Scenario(**{name: value})


@pytest.mark.parametrize("case", BAD_FIELDS, ids=_id)
def test_replace_rejects_bad_field(case):
    name, value = case
    with pytest.raises(ValueError, match=name):
        Scenario().replace(**{name: value})


@pytest.mark.parametrize("case", BAD_IDS, ids=_id)
def test_unknown_id_is_rejected_when_evaluated(case):
    name, value = case
    scenario = Scenario(**{name: value})  # no catalog inside a value object
    with pytest.raises(ValueError, match=name):
        evaluate(scenario)


@pytest.mark.parametrize("case", BAD_FIELDS + BAD_IDS, ids=_id)
def test_sweep_rejects_bad_value_in_axis(case):
    name, value = case
    good = getattr(Scenario(), name)
    with pytest.raises(ValueError, match=name):
        sweep(Scenario(), **{name: [good, value]})


def test_replace_batch_size_negative():
    with pytest.raises(ValueError, match="batch_size"):
        Scenario().replace(batch_size=-1)


@pytest.mark.parametrize(
    ("name", "value", "choices"),
    [
        ("model", "gpt-4", ["mixtral-8x7b", "mixtral-8x22b", "llama-2-70b", "llama-3-70b", "dbrx"]),
        ("gpu", "tpu", ["h100-sxm", "a100-80gb-sxm", "h200-sxm", "mi300x"]),
        ("weight_format", "fp4", ["bf16", "fp8", "int8", "int4"]),
        ("kv_format", "int8", ["bf16", "fp8"]),
    ],
)
def test_unknown_choice_message_lists_the_choices(name, value, choices):
    with pytest.raises(ValueError) as err:
        evaluate(Scenario(**{name: value}))
    message = str(err.value)
    assert name in message and repr(value) in message
    for choice in choices:
        assert choice in message, (choice, message)


def test_numeric_message_gives_the_range():
    with pytest.raises(ValueError, match=r"n_gpus must be an integer in \[1, 256\]; got 257"):
        Scenario(n_gpus=257)
    with pytest.raises(ValueError, match=r"utilization must be a number in \[0\.01, 1\.0\]"):
        Scenario(utilization=0)


def test_valid_edge_values_and_numpy_types_are_accepted():
    s = Scenario(
        n_gpus=np.int64(64),
        batch_size=np.int32(16384),
        usd_per_gpu_hour=0.0,
        utilization=0.01,
        temperature=np.float32(2.0),
        acceptance_at_t0=0.99,
        routing_skew=0,
        bandwidth_efficiency=1,
        speculative=True,
    )
    # Integer fields become int and real fields float.
    assert type(s.n_gpus) is int and s.n_gpus == 64
    assert type(s.batch_size) is int
    assert type(s.temperature) is float and s.temperature == 2.0
    assert type(s.bandwidth_efficiency) is float
    assert s.allreduce_latency_us is None  # family default left unresolved in the Scenario


def test_unknown_sweep_axis():
    with pytest.raises(ValueError, match="unknown sweep axis 'batch'"):
        sweep(Scenario(), batch=[1, 2])


def test_empty_sweep_axis():
    with pytest.raises(ValueError, match="batch_size"):
        sweep(Scenario(), batch_size=[])


def test_unknown_field_name_in_check_field():
    with pytest.raises(ValueError, match="unknown scenario field 'foo'"):
        check_field("foo", 1)


def test_scalar_sweep_value_is_one_value_axis():
    # A bare value is an axis of one; a bad bare value still names the field.
    assert len(sweep(Scenario(), batch_size=8)) == 1
    with pytest.raises(ValueError, match="batch_size"):
        sweep(Scenario(), batch_size=0)


# --- custom: models ---------------------------------------------------------------------

MIXTRAL_CONFIG = json.loads((MODELS_DIR / "mixtral-8x7b.json").read_text())


def test_custom_model_accepted_by_scenario_rejected_by_sweep_without_catalog():
    assert CUSTOM_PREFIX == "custom:"
    s = Scenario(model="custom:x")
    assert s.model == "custom:x"
    with pytest.raises(ValueError, match="model"):
        sweep(s)
    with pytest.raises(ValueError, match="model"):
        evaluate(s)
    with pytest.raises(ValueError, match="model"):
        sweep(Scenario(), model=["mixtral-8x7b", "custom:x"])


def test_custom_model_works_with_with_model():
    catalog = load_catalog().with_model("custom:x", MIXTRAL_CONFIG, name="My Mixtral")
    assert catalog.models.loc["custom:x", "name"] == "My Mixtral"
    # The default catalog is unchanged (with_model returns a copy).
    assert "custom:x" not in load_catalog().models.index
    custom = evaluate(Scenario(model="custom:x"), catalog)
    builtin = evaluate(Scenario(), catalog)
    # Same config.json as mixtral-8x7b: every output equal.
    for col, value in builtin.items():
        if col == "model":
            assert custom[col] == "custom:x"
        elif isinstance(value, float) and math.isnan(value):
            assert math.isnan(custom[col])
        else:
            assert custom[col] == value, col
    # Sweeping both models in one grid works too.
    rows = sweep(Scenario(), catalog, model=["mixtral-8x7b", "custom:x"])
    assert rows["weights_gb"].iloc[0] == rows["weights_gb"].iloc[1]


def test_with_model_replaces_a_model_of_the_same_id():
    catalog = load_catalog().with_model("custom:x", MIXTRAL_CONFIG)
    smaller = {**MIXTRAL_CONFIG, "num_hidden_layers": 16}
    catalog = catalog.with_model("custom:x", smaller)
    assert list(catalog.models.index).count("custom:x") == 1
    # Half the layers: attention + experts halve, 16-bit part loses 32 norm vectors.
    weights = evaluate(Scenario(model="custom:x", n_gpus=1), catalog)["weights_gb"]
    assert weights < 0.51 * evaluate(Scenario(), catalog)["weights_gb"]


def test_with_model_rejects_bad_config_naming_the_key():
    # (A missing key takes MixtralConfig's default, 8 experts: hf_config.defaults_used.)
    with pytest.raises(ValueError, match="num_local_experts"):
        load_catalog().with_model("custom:y", {**MIXTRAL_CONFIG, "num_local_experts": 0})
