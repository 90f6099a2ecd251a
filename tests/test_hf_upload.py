"""An uploaded config.json is data: limits before and while parsing, strict types, physical
ranges, a clear message naming the key, and a name from the config (issue 9, item 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from costmodel.attention import kv_bytes_per_token
from costmodel.hf_config import (
    _DBRX_KEYS,
    _NESTED_TEXT,
    MAX_CONFIG_DEPTH,
    MAX_CONFIG_KEYS,
    SUPPORTED_MODEL_TYPES,
    defaults_used,
    describe_hf_config,
    model_name,
    read_hf_config,
)
from costmodel.hf_defaults import DEFAULTS, HEADS, HIDDEN_PER_HEAD

NESTED = _NESTED_TEXT
#: DBRX file key (as named in errors and defaults) -> the Llama key its default is under.
DBRX_NAMES = {".".join(path): key for key, path in _DBRX_KEYS.items()}

#: Llama 3.1 70B's own config.json (hidden_size 8192, 80 layers, 64 / 8 heads).
LLAMA = json.loads(
    (Path(__file__).resolve().parent.parent / "assets/models/llama-3.1-70b.json").read_text()
)


def _raw(**changes) -> str:
    return json.dumps({**LLAMA, **changes})


def test_deep_nesting_is_refused_before_parsing():
    # 2,000 nested objects in 12 KB: json.loads would raise RecursionError.
    text = '{"a":' * 2_000 + "1" + "}" * 2_000
    assert len(text) < 13_000
    with pytest.raises(
        ValueError, match=f"nests 2000 levels deep; the limit is {MAX_CONFIG_DEPTH}"
    ):
        read_hf_config(text)
    # Brackets inside strings do not count.
    assert read_hf_config(_raw(note="[[[[{{{{" * 10))["hidden_size"] == 8192


def test_too_many_keys_are_refused_while_parsing():
    text = json.dumps({**LLAMA, "extra": {f"k{i}": 0 for i in range(MAX_CONFIG_KEYS)}})
    with pytest.raises(ValueError, match=f"more than {MAX_CONFIG_KEYS:,} keys"):
        read_hf_config(text)


def test_repeated_key_is_refused():
    text = _raw()[:-1] + ', "hidden_size": 4096}'
    with pytest.raises(ValueError, match="'hidden_size' appears twice"):
        read_hf_config(text)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        # A string is not a boolean: "false" would be read as true.
        (
            _raw(tie_word_embeddings="false"),
            r"tie_word_embeddings must be true or false \(a JSON boolean\); got 'false'",
        ),
        (_raw(tie_word_embeddings=0), "tie_word_embeddings must be true or false"),
        # 1e12 is a float and far beyond any model: named with its range.
        (
            _raw(hidden_size=1e12),
            r"hidden_size must be an integer in \[1, 262,144\]; got 1000000000000.0",
        ),
        # 10^90 parses as a Python integer: out of range, shown shortened.
        (
            json.dumps(LLAMA).replace('"hidden_size": 8192', '"hidden_size": 1' + "0" * 90),
            r"hidden_size must be in \[1, 262,144\]; got 1000+\.\.\. \(91 characters\)",
        ),
        # 10^400: refused before parsing (converting long integers is quadratic).
        (
            json.dumps(LLAMA).replace('"hidden_size": 8192', '"hidden_size": 1' + "0" * 400),
            "holds a number of more than 100 digits",
        ),
        (
            json.dumps(LLAMA).replace('"hidden_size": 8192', '"hidden_size": 1e400'),
            r"hidden_size must be an integer in \[1, 262,144\]; got inf",
        ),
        (_raw(rope_theta=float("nan")), "NaN is not a number JSON allows"),
        (_raw(num_hidden_layers=5_000), r"num_hidden_layers must be in \[1, 1,024\]; got 5000"),
        (_raw(max_position_embeddings=10**9), "max_position_embeddings must be in"),
        (_raw(head_dim=0), r"head_dim must be in \[1, 4,096\]; got 0"),
        (_raw(model_type="bert"), "model_type must be one of llama, mistral"),
        (_raw(quantization_config={"quant_method": "eetq"}), "quantization_config.quant_method"),
    ],
)
def test_bad_values_name_the_key_and_range(text, match):
    with pytest.raises(ValueError, match=match):
        read_hf_config(text)


def test_nested_keys_are_named_with_their_path():
    cfg = {
        "model_type": "llama4",
        "text_config": {**LLAMA, "num_local_experts": 16, "num_experts_per_tok": "1"},
    }
    with pytest.raises(ValueError, match="text_config.num_experts_per_tok must be an integer"):
        describe_hf_config(cfg)
    with pytest.raises(ValueError, match="text_config must be an object"):
        describe_hf_config({"model_type": "qwen3_5_moe", "text_config": [1]})
    with pytest.raises(ValueError, match="layer_types must list"):
        describe_hf_config(
            {
                **LLAMA,
                "model_type": "gpt_oss",
                "num_local_experts": 8,
                "num_experts_per_tok": 2,
                "layer_types": ["sliding_attention"],
                "sliding_window": 128,
            }
        )


def test_every_listed_model_type_is_supported():
    for model_type in (
        "deepseek_v3",
        "deepseek_v32",
        "kimi_k2",
        "qwen3_moe",
        "qwen3_5_moe",
        "glm4_moe",
        "minimax_m2",
        "gpt_oss",
        "llama4",
        "qwen3",
    ):
        assert model_type in SUPPORTED_MODEL_TYPES


def test_qwen3_next_without_layer_types_uses_the_full_attention_interval():
    # 48 layers, every 4th full attention: 12 full + 36 linear; shared expert of 512.
    cfg = {
        **LLAMA,
        "model_type": "qwen3_next",
        "hidden_size": 2048,
        "num_hidden_layers": 48,
        "num_attention_heads": 16,
        "num_key_value_heads": 2,
        "head_dim": 256,
        "num_experts": 512,
        "num_experts_per_tok": 10,
        "moe_intermediate_size": 512,
        "shared_expert_intermediate_size": 512,
        "linear_num_key_heads": 16,
        "linear_num_value_heads": 32,
        "linear_key_head_dim": 128,
        "linear_value_head_dim": 128,
        "linear_conv_kernel_dim": 4,
        "max_position_embeddings": 262144,
    }
    a = describe_hf_config(cfg)
    assert (a["gqa_layers"], a["linear_layers"]) == (12, 36)
    assert (a["n_shared_experts"], a["shared_intermediate_size"]) == (1, 512)
    assert a["linear_state_bytes"] == 4  # mamba_ssm_dtype defaults to float32


@pytest.mark.parametrize(
    ("cfg", "file_name", "name"),
    [
        (
            {"_name_or_path": "deepseek-ai/DeepSeek-V3", "model_type": "deepseek_v3"},
            None,
            "deepseek-ai/DeepSeek-V3",
        ),
        (
            {"architectures": ["GptOssForCausalLM"], "model_type": "gpt_oss"},
            "config.json",
            "GptOssForCausalLM",
        ),
        ({"architectures": ["GptOssForCausalLM"]}, "gpt-oss-120b.json", "gpt-oss-120b"),
        ({"model_type": "llama"}, None, "llama"),
        ({"_name_or_path": "<script>x</script> `y`"}, None, "script-x-/script-y"),
        ({"_name_or_path": 7, "model_type": "qwen3"}, None, "qwen3"),
        ({}, None, "uploaded"),
    ],
)
def test_uploaded_model_is_named_from_its_config(cfg, file_name, name):
    assert model_name(cfg, file_name) == name


# --- defaults of each model type (issue 21, item 4) --------------------------------------

QWEN3_32B = Path(__file__).resolve().parent / "data" / "hf-configs" / "Qwen--Qwen3-32B.json"


def test_qwen3_without_head_dim_takes_qwen3configs_128():
    # Qwen3-32B: hidden 5120, 64 heads, 8 KV heads, 64 layers. Without head_dim,
    # Qwen3Config (transformers 5.25.0) makes heads of 128, not 5120 / 64 = 80: the KV
    # cache is 64 x 2 x 8 x 128 x 2 = 262,144 B/token, not 163,840.
    cfg = json.loads(QWEN3_32B.read_text())
    assert cfg.pop("head_dim") == 128
    arch = describe_hf_config(read_hf_config(json.dumps(cfg)))
    assert arch["head_dim"] == 128
    assert float(kv_bytes_per_token(arch, 2.0)) == 64 * 2 * 8 * 128 * 2 == 262_144
    assert defaults_used(cfg) == [("head_dim", 128)]
    # Qwen3-MoE's class has no head_dim (its modelling falls back to hidden / heads).
    moe = {**cfg, "model_type": "qwen3_moe", "num_experts": 8, "moe_intermediate_size": 768}
    assert dict(defaults_used(moe))["head_dim"] == 5_120 // 64


@pytest.mark.parametrize("model_type", sorted(DEFAULTS))
def test_a_bare_config_takes_every_default_of_its_type(model_type):
    # {"model_type": t} alone is the configuration class's default model: each key read
    # is named with the default it took, the value in hf_defaults.DEFAULTS (or the rule:
    # heads for num_key_value_heads, hidden // heads for head_dim).
    cfg = {"model_type": model_type}
    if model_type == "deepseek_v2":  # DeepseekV2Config.num_experts_per_tok is None
        with pytest.raises(ValueError, match="num_experts_per_tok is required"):
            describe_hf_config(cfg)
        cfg["num_experts_per_tok"] = 6
    used = dict(defaults_used(cfg))
    table = DEFAULTS[model_type]
    assert used
    prefix = "text_config." if model_type in NESTED else ""
    for name, value in used.items():
        key = name.removeprefix(prefix)
        if key in ("compress_ratios", "layer_types"):  # derived schedules, named in words
            assert isinstance(value, str)
            continue
        key = DBRX_NAMES.get(key, key)
        expected = table[key]
        if expected == HEADS:
            expected = (
                used[prefix + "num_attention_heads"]
                if (prefix + "num_attention_heads" in used)
                else table["num_attention_heads"]
            )
        elif expected == HIDDEN_PER_HEAD:
            expected = table["hidden_size"] // table["num_attention_heads"]
        assert value == expected, (model_type, name)
    arch = describe_hf_config(cfg)
    assert arch["n_layers"] == table[DBRX_NAMES.get("num_hidden_layers", "num_hidden_layers")]


def test_an_explicit_value_is_never_named_a_default():
    cfg = json.loads(QWEN3_32B.read_text())
    assert defaults_used(cfg) == []
    # Without its 40,960-token window it takes Qwen3Config's 32,768, named.
    del cfg["max_position_embeddings"]
    assert defaults_used(cfg) == [("max_position_embeddings", 32_768)]
    assert describe_hf_config(cfg)["context_window"] == 32_768


def test_a_null_window_is_no_window_an_absent_one_the_class_default():
    # MistralConfig.sliding_window defaults to 4,096: absent -> every layer a window of
    # 4,096 (named); null -> no window (Mistral-Nemo writes null).
    base = {**LLAMA, "model_type": "mistral"}
    base.pop("sliding_window", None)
    assert describe_hf_config(base)["sliding_layers"] == 80
    assert ("sliding_window", 4_096) in defaults_used(base)
    assert describe_hf_config({**base, "sliding_window": None})["sliding_layers"] == 0
