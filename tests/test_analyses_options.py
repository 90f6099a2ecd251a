"""costmodel.analyses.options: the checks every analysis's Options share."""

import dataclasses

import pytest

from costmodel.analyses import frontier, memory_fit, moe_scaling, price_war, speculative
from costmodel.analyses.options import AnalysisOptions, Bounds, option, specs
from costmodel.fields import FIELDS


def test_numbers_are_normalised():
    options = memory_fit.Options(users=40.0, gpus=["h100-sxm"])
    assert options.users == 40 and isinstance(options.users, int)
    assert options.gpus == ("h100-sxm",)
    assert hash(options) == hash(memory_fit.Options(users=40, gpus=("h100-sxm",)))


@pytest.mark.parametrize("value", [True, "40", float("inf"), 4097, None])
def test_bad_numbers_name_the_option_and_its_range(value):
    with pytest.raises(ValueError, match=r"users must be an integer in \[1, 4096\]"):
        memory_fit.Options(users=value)


def test_optional_and_replace():
    assert price_war.Options(a100_usd_per_gpu_hour=None).a100_usd_per_gpu_hour is None
    changed = price_war.Options().replace(margin_unit="$ per million requests")
    assert changed.margin_unit == "$ per million requests"
    with pytest.raises(ValueError, match="margin_unit must be one of"):
        price_war.Options().replace(margin_unit="€")
    assert price_war.run(options=changed).margin_column == "margin_usd_per_million_requests"


def test_specs_and_unknown_metadata():
    spec = specs(memory_fit.Options)["context_tokens"]
    assert (spec["default"], spec["low"], spec["high"], spec["step"]) == (32768, 1024, 131072, 1024)
    with pytest.raises(ValueError, match="unknown option metadata"):
        option(1, label="x", help="y", maximum=3)

    @dataclasses.dataclass(frozen=True)
    class Mine(AnalysisOptions):
        flag: bool = option(False, label="Flag", help="on or off")

    with pytest.raises(ValueError, match="flag must be True or False"):
        Mine(flag=1)


def test_field_and_count_options_take_their_ranges():
    # field_option: the Scenario field's range, step, label and help unless overridden.
    spec = specs(moe_scaling.Options)["routing_skew"]
    skew = FIELDS["routing_skew"]
    assert (spec["default"], spec["low"], spec["high"], spec["step"]) == (0.0, 0.0, 3.0, 0.1)
    assert (spec["low"], spec["high"]) == (skew.low, skew.high)
    # label and help overridden: the page's own text, with the unit in the label
    assert (spec["label"], skew.label) == ("Routing skew [-]", "Routing skew")
    assert spec["help"] != skew.help
    temperature = specs(speculative.Options)["temperature"]
    assert temperature["label"] == FIELDS["temperature"].label  # not overridden: the field's
    batch = specs(frontier.Options)["batch_max"]
    assert (batch["default"], batch["low"], batch["high"], batch["integer"]) == (
        8192,
        1,
        65536,
        True,
    )
    # count_option: 1 to most in steps of 1, whole numbers.
    experts = specs(moe_scaling.Options)["n_experts"]
    assert (experts["low"], experts["high"], experts["step"], experts["integer"]) == (
        1,
        256,
        1,
        True,
    )
    assert option(2.0, Bounds(1.0, 9.0, 0.5), label="x", help="y").metadata["high"] == 9.0


def test_texts_table_labels_every_option():
    # frontier's labels and help texts come from its TEXTS table.
    assert specs(frontier.Options)["ttft_ms_max"]["label"] == "TTFT target [ms]"
    with pytest.raises(TypeError, match="Bare.flag needs a label and a help text"):

        class Bare(AnalysisOptions):
            flag: bool = option(False)

    with pytest.raises(TypeError, match="texts for no option"):

        class Stray(AnalysisOptions, texts={"other": ("Other", "no such option")}):
            flag: bool = option(False, label="Flag", help="on or off")
