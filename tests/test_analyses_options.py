"""costmodel.analyses.options: the checks every analysis's Options share."""

import dataclasses

import pytest

from costmodel.analyses import memory_fit, price_war
from costmodel.analyses.options import AnalysisOptions, option, specs


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
