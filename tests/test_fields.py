"""Scenario's specs (fields.FIELDS) are the one statement of every field; everything derives."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import costmodel
from costmodel import fields, sensitivity
from costmodel.fields import FIELDS, check_values


def test_scenario_fields_are_the_spec_in_order_with_its_defaults():
    names = tuple(f.name for f in dataclasses.fields(costmodel.Scenario))
    assert names == tuple(FIELDS) == costmodel.FIELD_NAMES
    default = costmodel.Scenario()
    for name, spec in FIELDS.items():
        assert getattr(default, name) == spec.default, name


def test_derived_tables_agree_with_the_spec():
    for name, spec in FIELDS.items():
        assert costmodel.FIELD_HELP[name] == spec.help
        assert costmodel.FIELD_LABELS[name].startswith(spec.label)
        if spec.kind in ("int", "float"):
            assert costmodel.FIELD_RANGES[name] == (spec.low, spec.high)
            assert costmodel.FIELD_STEPS[name] == spec.step > 0
            assert spec.low <= spec.high
        else:
            assert name not in costmodel.FIELD_RANGES and name not in costmodel.FIELD_STEPS
    assert fields.INTEGER_FIELDS == (
        "n_gpus",
        "batch_size",
        "prompt_tokens",
        "output_tokens",
        "draft_tokens",
        "redundant_experts",
        "prefill_gpus",
        "prefill_chunk_tokens",
    )
    assert fields.FAMILY_DEFAULT_FIELDS == (
        "bandwidth_efficiency",
        "compute_efficiency",
        "moe_kernel_efficiency",
        "allreduce_latency_us",
        "link_efficiency",
        "layer_overhead_us",
        "kernel_us",
        "moe_half_experts",
    )


def test_labels_carry_units():
    assert costmodel.FIELD_LABELS["usd_per_gpu_hour"] == "GPU price [$/GPU-hour]"
    assert costmodel.FIELD_LABELS["batch_size"] == "Batch size [sequences]"
    assert costmodel.FIELD_LABELS["layer_overhead_us"] == "Layer overhead [us]"


def test_defaults_are_in_range_and_of_their_kind():
    for name, spec in FIELDS.items():
        fields.check_field(name, spec.default)  # raises if not


def test_sensitivity_list_covers_every_efficiency():
    # Every achieved efficiency and fixed latency of the step model is in the list, and
    # nothing else: bandwidth, compute, MoE kernel, link and network efficiencies; the
    # per-layer overhead, per-kernel fixed time, all-reduce and all-to-all latencies.
    kinds = ("_efficiency", "_latency_us", "_overhead_us", "kernel_us", "_half_experts")
    assert set(fields.EFFICIENCY_FIELDS) == {n for n in FIELDS if n.endswith(kinds)}
    assert len(fields.EFFICIENCY_FIELDS) == 10
    assert set(fields.EXPERT_PARALLEL_SENSITIVITY_FIELDS) == {
        "network_efficiency",
        "alltoall_latency_us",
    }
    moved = {*sensitivity.TORNADO_FIELDS, *fields.EXPERT_PARALLEL_SENSITIVITY_FIELDS}
    assert set(fields.EFFICIENCY_FIELDS) <= moved
    assert {"usd_per_gpu_hour", "utilization", "batch_size"} <= set(sensitivity.TORNADO_FIELDS)
    assert set(fields.SPECULATIVE_SENSITIVITY_FIELDS) == {
        "acceptance_at_t0",
        "acceptance_at_t1",
        "draft_cost_ratio",
    }


def test_scenario_is_a_plain_dataclass_whose_fields_carry_their_specs():
    # Written out field by field (an editor and a type checker see them), each with its
    # Spec in the field's metadata; fields.FIELDS is specs(Scenario).
    first = dataclasses.fields(costmodel.Scenario)[0]
    assert (first.name, first.type, first.metadata["spec"].label) == ("model", "str", "Model")
    assert dict(costmodel.specs(costmodel.Scenario)) == dict(FIELDS)
    assert FIELDS["layer_overhead_us"].empty  # None means the GPU family's default


def test_a_float_field_given_an_int_beyond_any_float_names_the_field():
    with pytest.raises(ValueError, match=r"utilization must be a number in \[0.01, 1.0\]"):
        costmodel.Scenario(utilization=10**400)
    with pytest.raises(ValueError, match=r"batch_size must be an integer"):
        costmodel.Scenario(batch_size=10**400)


@pytest.mark.parametrize(
    ("value", "ok"),
    [(2, True), (np.int64(2), True), (2.0, False), (True, False), ("2", False), (None, False)],
)
def test_integer_field_type_rules(value, ok):
    if ok:
        assert costmodel.Scenario(n_gpus=value).n_gpus == 2
    else:
        with pytest.raises(ValueError, match="n_gpus"):
            costmodel.Scenario(n_gpus=value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, True, "1.0", None])
def test_real_field_rejects_nan_inf_bool_text(value):
    with pytest.raises(ValueError, match="utilization"):
        costmodel.Scenario(utilization=value)


def test_long_axis_checked_as_an_array_gives_the_same_message():
    good = list(range(1, 40))
    check_values("batch_size", good)
    for bad, shown in ((good + [0], "0"), (good + [True], "True"), (good + [2.5], "2.5")):
        with pytest.raises(ValueError, match=rf"batch_size must be an integer .*; got {shown}"):
            check_values("batch_size", bad)
    with pytest.raises(ValueError, match="usd_per_gpu_hour"):
        check_values("usd_per_gpu_hour", [1.0] * 20 + [math.nan])


def _reference_check(name, values):
    """check_values' rule stated plainly: check_field value by value, the first bad one
    raising."""
    for value in values:
        fields.check_field(name, value)


def _error(check, name, values):
    try:
        check(name, values)
    except ValueError as err:
        return str(err)
    return None


_ANY_VALUE = st.one_of(
    st.integers(-5, 70_000),
    st.integers(),
    st.just(10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(0.0, 1.0),
    st.booleans(),
    st.none(),
    st.sampled_from(["fp8", "bf16", "int4", "h100-sxm", "", "nope"]),
    st.integers(-5, 70_000).map(np.int64),
    st.integers(0, 2**64 - 1).map(np.uint64),
    st.floats(-2.0, 2.0, width=32).map(np.float32),
    st.booleans().map(np.bool_),
    st.fractions(0, 2),
    st.just([1, 2]),
)


@settings(max_examples=400, deadline=None)
@given(
    name=st.sampled_from(
        ["batch_size", "utilization", "bandwidth_efficiency", "speculative", "kv_format", "gpu"]
    ),
    # up to 16 values are checked one by one, longer lists as arrays: both
    values=st.lists(_ANY_VALUE, max_size=16) | st.lists(_ANY_VALUE, min_size=17, max_size=60),
    as_array=st.booleans(),
)
def test_check_values_raises_what_checking_value_by_value_raises(name, values, as_array):
    # Mixed types (bool among ints, None where optional or not, NaN, numpy scalars, huge
    # ints, fractions, text): the array checks name the same first bad value, or none.
    if as_array:
        values = np.array(values, dtype=object) if values else np.array([])
        # the same values as one dtype, where numpy makes one (ints, floats, text)
        with contextlib.suppress(ValueError, OverflowError, TypeError):
            one_dtype = np.array(values.tolist())
            values = one_dtype if one_dtype.ndim == 1 else values
    assert _error(check_values, name, values) == _error(_reference_check, name, values)


@pytest.mark.parametrize(
    "values",
    [
        np.arange(1, 100),
        np.arange(1, 100, dtype=np.uint8),
        np.linspace(1.0, 9.0, 50),
        np.array([1, 2, 3, 0]),
        np.array([True, False]),
        np.array(["bf16", "fp8"]),
    ],
)
def test_check_values_on_arrays_of_one_dtype(values):
    for name in ("batch_size", "usd_per_gpu_hour", "speculative", "kv_format"):
        assert _error(check_values, name, values) == _error(_reference_check, name, values)


@given(
    batch_size=st.one_of(st.integers(-5, 20000), st.floats(allow_nan=True), st.booleans()),
    gpu=st.sampled_from(["b200", "h100-sxm", 3, None]),
)
@settings(max_examples=60, deadline=None)
def test_replace_checks_what_a_new_scenario_checks(batch_size, gpu):
    """``Scenario.replace`` re-checks only the changed fields; it must accept, normalise
    and refuse exactly what building the whole Scenario again does."""
    base = costmodel.Scenario()
    try:
        whole = dataclasses.replace(base, batch_size=batch_size, gpu=gpu)
    except ValueError as e:
        with pytest.raises(ValueError, match=re.escape(str(e))):
            base.replace(batch_size=batch_size, gpu=gpu)
        return
    quick = base.replace(batch_size=batch_size, gpu=gpu)
    assert quick == whole and hash(quick) == hash(whole)
    assert type(quick.batch_size) is int  # normalised as on creation


def test_replace_refuses_an_unknown_field_and_leaves_the_original():
    base = costmodel.Scenario()
    with pytest.raises(TypeError, match="no field batch"):
        base.replace(batch=3)
    assert base.replace(batch_size=7).batch_size == 7 and base.batch_size == 32
