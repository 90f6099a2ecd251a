"""costmodel.analyses.options and costmodel.spec: the checks every analysis's Options share."""

import dataclasses

import pytest

from costmodel.analyses import frontier, memory_fit, moe_scaling, price_war, speculative
from costmodel.analyses.options import AnalysisOptions
from costmodel.fields import FIELDS
from costmodel.spec import ENTRIES, Spec, entries, flag, integer, number, specs


def test_numbers_are_normalised():
    options = memory_fit.Options(users=40, gpus=["h100-sxm"])
    assert options.users == 40 and isinstance(options.users, int)
    assert options.gpus == ("h100-sxm",)
    assert hash(options) == hash(memory_fit.Options(users=40, gpus=("h100-sxm",)))
    assert isinstance(frontier.Options(ttft_ms_max=3000).ttft_ms_max, float)


@pytest.mark.parametrize("value", [True, "40", float("inf"), 4097, None, 40.0, 10**400])
def test_bad_numbers_name_the_option_and_its_range(value):
    # One rule for Scenario fields and options: an integer input takes integers only.
    with pytest.raises(ValueError, match=r"users must be an integer in \[1, 4096\]"):
        memory_fit.Options(users=value)


def test_a_number_beyond_any_float_is_a_value_error_naming_the_field():
    with pytest.raises(ValueError, match=r"ttft_ms_max must be a number in \[1.0, 600000.0\]"):
        frontier.Options(ttft_ms_max=10**400)


def test_optional_and_replace():
    assert price_war.Options(a100_usd_per_gpu_hour=None).a100_usd_per_gpu_hour is None
    changed = price_war.Options().replace(margin_unit="$ per million requests")
    assert changed.margin_unit == "$ per million requests"
    with pytest.raises(ValueError, match="margin_unit must be one of"):
        price_war.Options().replace(margin_unit="€")
    assert price_war.run(options=changed).margin_column == "margin_usd_per_million_requests"


def test_specs_carry_range_unit_label_and_name():
    spec = specs(memory_fit.Options)["context_tokens"]
    assert (spec.default, spec.low, spec.high, spec.step) == (32768, 1024, 131072, 1024)
    assert (spec.name, spec.unit, spec.kind) == ("context_tokens", "tokens", "int")
    assert spec.labelled == "Longest context in the heatmap [tokens]"

    @dataclasses.dataclass(frozen=True)
    class Mine(AnalysisOptions):
        on: bool = flag(False, label="Flag", help="on or off")

    with pytest.raises(ValueError, match="on must be True or False"):
        Mine(on=1)


def test_scenario_field_and_count_options_take_their_ranges():
    # scenario_field: the Scenario field's spec (range, step, unit, label, help) unless changed.
    spec = specs(moe_scaling.Options)["routing_skew"]
    skew = FIELDS["routing_skew"]
    assert (spec.default, spec.low, spec.high, spec.step) == (0.0, 0.0, 3.0, 0.1)
    assert (spec.low, spec.high, spec.label, spec.unit) == (skew.low, skew.high, skew.label, "-")
    assert spec.help != skew.help  # the page's own text
    temperature = specs(speculative.Options)["temperature"]
    assert temperature.label == FIELDS["temperature"].label  # not changed: the field's
    assert temperature.step == 0.05 != FIELDS["temperature"].step  # changed
    batch = specs(frontier.Options)["batch_max"]
    assert (batch.default, batch.low, batch.high, batch.kind) == (8192, 1, 65536, "int")
    # count: 1 to most in steps of 1, whole numbers.
    experts = specs(moe_scaling.Options)["n_experts"]
    assert (experts.low, experts.high, experts.step, experts.kind) == (1, 256, 1, "int")


def test_a_spec_needs_its_rules_and_texts():
    with pytest.raises(ValueError, match="numeric inputs"):
        Spec("float", 1.0, "X", "help")  # no range
    with pytest.raises(ValueError, match="label and a help text"):
        Spec("bool", False, "X", "")
    with pytest.raises(ValueError, match="kind must be one of"):
        Spec("date", "2024", "X", "help")
    assert number(1.0, 0.0, 2.0, 0.5, label="x", help="y").metadata["spec"].high == 2.0
    assert integer(3, 1, 9, label="x", help="y").metadata["spec"].step == 1


def test_entries_are_rows_of_an_id_and_numbers_each_checked():
    @dataclasses.dataclass(frozen=True)
    class Prices(AnalysisOptions):
        prices: tuple = entries(
            ("usd_per_gpu_hour",), 0.0, 100.0, 0.05, label="Prices", help="(gpu, $/GPU-hour)"
        )

    assert specs(Prices)["prices"].kind == ENTRIES
    assert Prices(prices=[["h100-sxm", 2]]).prices == (("h100-sxm", 2.0),)
    with pytest.raises(ValueError, match=r"prices\[h100-sxm\].usd_per_gpu_hour must be a number"):
        Prices(prices=[("h100-sxm", -1.0)])
    with pytest.raises(ValueError, match=r"prices\[0\] must be a row \(id, usd_per_gpu_hour\)"):
        Prices(prices=[("h100-sxm",)])
    with pytest.raises(ValueError, match=r"prices\[0\] must be an id"):
        Prices(prices=[(3, 1.0)])
