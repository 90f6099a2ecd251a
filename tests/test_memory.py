"""Weights, KV cache, memory fit (claims C12, C13) and config.json parsing.

Every expected number is derived by hand in a comment from the model's public
config.json (assets/models/*.json) or from the figures in shared/reference/README.md
("Mixtral 8x7B weights: BF16 about 93.4 GB, FP8 about 47.0 GB, INT4 with group-128
scales about 24.7 GB; KV cache 131,072 bytes per token in BF16").
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from costmodel import Scenario, evaluate, load_catalog, load_hf_config, parse_hf_config, sweep
from costmodel.hf_config import ARCHITECTURE_FIELDS, MAX_CONFIG_BYTES, defaults_used
from costmodel.memory import (
    bytes_per_weight,
    kv_bytes_per_token,
    max_batch_size,
    memory_available_gb,
    min_gpus_to_fit,
    parameter_counts,
    weight_bytes,
)

MODELS_DIR = Path(__file__).resolve().parent.parent / "assets" / "models"

# Exact integer arithmetic: compare to 1e-12 relative (float rounding only).
EXACT = 1e-12

# --- Mixtral 8x7B by hand (config.json: L=32, h=4096, ffn=14336, 32 heads, 8 kv heads,
# head_dim 4096/32 = 128, E=8, vocab 32000, untied embeddings) ----------------------------
ATTENTION = 32 * 4096 * 128 * (2 * 32 + 2 * 8)  # = 1,342,177,280
EXPERTS = 32 * 8 * 3 * 4096 * 14336  # = 45,097,156,608
ROUTER = 32 * 4096 * 8  # = 1,048,576
LM_HEAD = 32000 * 4096  # = 131,072,000 (and the same again for the embedding)
NORMS = (2 * 32 + 1) * 4096  # = 266,240
SIXTEEN_BIT = 2 * LM_HEAD + ROUTER + NORMS  # = 263,458,816
QUANTIZABLE = ATTENTION + EXPERTS  # = 46,439,333,888
MIXTRAL_TOTAL = QUANTIZABLE + SIXTEEN_BIT  # = 46,702,792,704
INT4_G128_BYTES = 0.5 + (16 + 4) / 8 / 128  # = 0.51953125 bytes per weight

MIXTRAL_WEIGHTS_GB = {
    # (46,439,333,888 * 2 + 263,458,816 * 2) / 1e9 = 93.405585408
    "bf16": (QUANTIZABLE * 2 + SIXTEEN_BIT * 2) / 1e9,
    # (46,439,333,888 * 1 + 263,458,816 * 2) / 1e9 = 46.96625152
    "fp8": (QUANTIZABLE * 1 + SIXTEEN_BIT * 2) / 1e9,
    # (46,439,333,888 * 0.51953125 + 263,458,816 * 2) / 1e9 = 24.653602816
    "int4": (QUANTIZABLE * INT4_G128_BYTES + SIXTEEN_BIT * 2) / 1e9,
}
# The reference README's rounded figures (about 93.4 / 47.0 / 24.7 GB).
SEED_WEIGHTS_GB = {"bf16": 93.4, "fp8": 47.0, "int4": 24.7}

MIXTRAL_KV_BF16 = 2 * 32 * 8 * 128 * 2  # K and V * layers * kv heads * head_dim * 2 B = 131,072
MIXTRAL_KV_FP8 = 2 * 32 * 8 * 128 * 1  # = 65,536


def test_mixtral_parameter_counts_by_part():
    c = load_catalog().models.loc["mixtral-8x7b"]
    assert c["attention_params"] == ATTENTION
    assert c["expert_params"] == EXPERTS
    assert c["router_params"] == ROUTER
    assert c["lm_head_params"] == LM_HEAD
    assert c["embedding_params"] == LM_HEAD
    assert c["norm_params"] == NORMS
    assert c["total_params"] == MIXTRAL_TOTAL
    # Seed README: "about 46.7 B parameters in all" (0.5% tolerance for the rounding).
    assert c["total_params"] == pytest.approx(46.7e9, rel=5e-3)
    # "about 12.9 B active per token": attention + 2 of 8 experts + 16-bit parts
    # = 1.342e9 + 45.10e9 * 2/8 + 0.263e9 = 12.88e9 (1% tolerance).
    active = ATTENTION + EXPERTS * 2 / 8 + SIXTEEN_BIT
    assert active == pytest.approx(12.9e9, rel=1e-2)


@pytest.mark.parametrize("fmt", ["bf16", "fp8", "int4"])
def test_mixtral_weights_gb_via_evaluate(fmt):
    weights = evaluate(Scenario(weight_format=fmt))["weights_gb"]
    assert weights == pytest.approx(MIXTRAL_WEIGHTS_GB[fmt], rel=EXACT)
    # Against the reference README's rounded figure: within 0.1 GB.
    assert weights == pytest.approx(SEED_WEIGHTS_GB[fmt], abs=0.1)


@pytest.mark.parametrize("fmt", ["bf16", "fp8", "int4"])
def test_mixtral_weights_gb_via_memory_functions(fmt):
    formats = load_catalog().formats.loc[fmt]
    bpw = bytes_per_weight(
        formats["weight_bits"], formats["group_size"], formats["scale_bits"], formats["zero_bits"]
    )
    # bf16: 16/8 = 2; fp8: 8/8 = 1; int4 g128 with 16-bit scale + 4-bit zero: 0.51953125
    assert float(bpw) == {"bf16": 2.0, "fp8": 1.0, "int4": INT4_G128_BYTES}[fmt]
    counts = parameter_counts(
        n_layers=32,
        hidden_size=4096,
        intermediate_size=14336,
        n_heads=32,
        n_kv_heads=8,
        head_dim=128,
        n_experts=8,
        vocab_size=32000,
        tied_embeddings=False,
    )
    assert float(counts["quantizable_params"]) == QUANTIZABLE
    assert float(counts["sixteen_bit_params"]) == SIXTEEN_BIT
    gb = weight_bytes(counts["quantizable_params"], counts["sixteen_bit_params"], bpw) / 1e9
    assert float(gb) == pytest.approx(MIXTRAL_WEIGHTS_GB[fmt], rel=EXACT)


def test_int8_weights_equal_fp8_size():
    # Both store one byte per quantised weight, per-channel scales negligible: 46.97 GB.
    assert evaluate(Scenario(weight_format="int8"))["weights_gb"] == pytest.approx(
        MIXTRAL_WEIGHTS_GB["fp8"], rel=EXACT
    )


def test_kv_bytes_per_token():
    assert float(kv_bytes_per_token(32, 8, 128, 2.0)) == MIXTRAL_KV_BF16 == 131_072
    assert float(kv_bytes_per_token(32, 8, 128, 1.0)) == MIXTRAL_KV_FP8 == 65_536
    # Llama-2-70B: 2 * 80 layers * 8 kv heads * 128 * 2 B = 327,680 bytes per token.
    assert float(kv_bytes_per_token(80, 8, 128, 2.0)) == 327_680


@pytest.mark.parametrize(
    ("kv_format", "bytes_per_token"), [("bf16", MIXTRAL_KV_BF16), ("fp8", MIXTRAL_KV_FP8)]
)
def test_kv_cache_gb_of_scenario(kv_format, bytes_per_token):
    s = Scenario(kv_format=kv_format, batch_size=24, prompt_tokens=1000, output_tokens=300)
    # batch * (prompt + output) * bytes / 1e9: bf16 24 * 1300 * 131,072 / 1e9 = 4.0894 GB,
    # fp8 half of it = 2.0447 GB.
    expected = 24 * (1000 + 300) * bytes_per_token / 1e9
    assert evaluate(s)["kv_cache_gb"] == pytest.approx(expected, rel=EXACT)


def test_memory_required_and_available_of_baseline():
    r = evaluate(Scenario())
    # Available: 2 GPUs * 80 GB * 0.9 = 144 GB.
    assert r["memory_available_gb"] == pytest.approx(144.0, rel=EXACT)
    assert float(memory_available_gb(2, 80, 0.9)) == pytest.approx(144.0, rel=EXACT)
    # Required: 93.4056 weights + 32 * 768 * 131,072 / 1e9 = 3.2212 KV + 2 * 2 overhead
    # = 100.6268 GB.
    required = MIXTRAL_WEIGHTS_GB["bf16"] + 32 * 768 * MIXTRAL_KV_BF16 / 1e9 + 2 * 2.0
    assert r["memory_required_gb"] == pytest.approx(required, rel=EXACT)
    assert r["memory_headroom_gb"] == pytest.approx(144.0 - required, rel=EXACT)
    assert r["fits"] is True


def test_max_batch_size_of_baseline_by_hand():
    # floor((144 - 93.405585408 - 4) / (768 * 131,072 / 1e9)) = floor(46.5944 / 0.10066)
    # = floor(462.88) = 462.
    assert evaluate(Scenario())["max_batch_size"] == 462
    room = 144.0 - MIXTRAL_WEIGHTS_GB["bf16"] - 4.0
    assert float(max_batch_size(144.0, MIXTRAL_WEIGHTS_GB["bf16"], 4.0, 768 * 131_072 / 1e9)) == (
        462
    )
    assert room / (768 * 131_072 / 1e9) == pytest.approx(462.88, abs=0.01)
    # Nothing fits: never negative.
    assert float(max_batch_size(10.0, 93.4, 4.0, 0.1)) == 0.0


@pytest.mark.parametrize(
    "scenario",
    [
        Scenario(),
        Scenario(weight_format="fp8", n_gpus=1),
        Scenario(weight_format="fp8", kv_format="fp8", n_gpus=1, prompt_tokens=7936),
        Scenario(weight_format="int4", n_gpus=1, gpu="a100-80gb-sxm", output_tokens=2000),
        Scenario(model="llama-2-70b", gpu="h200-sxm", n_gpus=1, weight_format="fp8"),
        Scenario(model="dbrx", gpu="mi300x", n_gpus=2, prompt_tokens=3000),
        Scenario(model="mixtral-8x22b", gpu="h100-sxm", n_gpus=4, weight_format="fp8"),
        Scenario(model="llama-3-70b", gpu="l40s", n_gpus=4, weight_format="int4"),
    ],
)
def test_max_batch_size_fits_and_one_more_does_not(scenario):
    best = int(evaluate(scenario)["max_batch_size"])
    assert best >= 1
    rows = sweep(scenario, batch_size=[best, best + 1])
    assert rows["fits"].tolist() == [True, False], (best, rows["memory_headroom_gb"].tolist())
    # The fitting batch needs no more GPUs than the scenario has; one more needs more.
    assert rows["min_gpus"].iloc[0] <= scenario.n_gpus < rows["min_gpus"].iloc[1]


def test_min_gpus_bf16_needs_two_h100_fp8_fits_one():
    # Per GPU usable: 80 * 0.9 - 2 = 70 GB. bf16 93.4 GB > 70 but < 2 * 70 = 140: 2 GPUs.
    # fp8 46.97 GB + batch-1 KV (768 * 131,072 B = 0.1 GB) < 70: 1 GPU.
    assert evaluate(Scenario(batch_size=1))["min_gpus"] == 2
    assert evaluate(Scenario(batch_size=1, weight_format="fp8"))["min_gpus"] == 1
    assert evaluate(Scenario(batch_size=1, weight_format="fp8", n_gpus=1))["fits"] is True
    assert evaluate(Scenario(batch_size=1, n_gpus=1))["fits"] is False
    # The memory function directly; 64 GPUs cannot hold 10 TB: NaN.
    assert float(min_gpus_to_fit(93.4, 0.1, 80, 0.9, 2.0)) == 2.0
    assert float(min_gpus_to_fit(46.97, 0.1, 80, 0.9, 2.0)) == 1.0
    assert float(min_gpus_to_fit(141.0, 0.0, 80, 0.9, 2.0)) == 4.0  # 141 > 2 * 70 = 140
    assert str(float(min_gpus_to_fit(10_000.0, 0.0, 80, 0.9, 2.0))) == "nan"


# --- Claim C13: FP8 still needs 2 GPUs at 40-50+ concurrent users ----------------------
# One 80 GB GPU in fp8: room for KV = 80 * 0.9 - 46.966 (weights) - 2 (overhead)
# = 23.034 GB.
# bf16 KV (131,072 B/token): at 8192 tokens a sequence takes 1.0737 GB -> 23.034 / 1.0737
#   = 21.45 -> 21 users; at 2048 tokens 0.2684 GB -> 85.8 -> 85 users. The 40-user boundary
#   is 23.034e9 / (40 * 131,072) = 4393 tokens of context.
# fp8 KV (65,536 B/token): at 8192 tokens 42.9 -> 42 users; at 16384 tokens 21 users.
#   The 40-user boundary is 8786 tokens, the 50-user boundary 7029 tokens.
KV_ROOM_1GPU_FP8_GB = 80 * 0.9 - MIXTRAL_WEIGHTS_GB["fp8"] - 2.0  # = 23.03374848


def _one_gpu_fp8(kv_format: str, context: int, batch: int, gpu: str = "h100-sxm") -> Scenario:
    return Scenario(
        gpu=gpu,
        n_gpus=1,
        weight_format="fp8",
        kv_format=kv_format,
        batch_size=batch,
        prompt_tokens=context - 256,
        output_tokens=256,
    )


@pytest.mark.parametrize("gpu", ["h100-sxm", "a100-80gb-sxm"])
def test_c13_fp8_bf16_kv_boundary(gpu):
    room_gb = KV_ROOM_1GPU_FP8_GB
    assert room_gb == pytest.approx(23.034, abs=1e-3)
    at_8k = evaluate(_one_gpu_fp8("bf16", 8192, 40, gpu))
    at_2k = evaluate(_one_gpu_fp8("bf16", 2048, 40, gpu))
    # floor(23.0337e9 / (8192 * 131,072)) = 21 < 40; floor(23.0337e9 / (2048 * 131,072)) = 85.
    assert at_8k["max_batch_size"] == 21
    assert at_2k["max_batch_size"] == 85
    assert at_8k["fits"] is False and at_8k["min_gpus"] == 2
    assert at_2k["fits"] is True and at_2k["min_gpus"] == 1
    # The 40-user boundary context, by hand: 23.0337e9 / (40 * 131,072) = 4393 tokens.
    boundary = KV_ROOM_1GPU_FP8_GB * 1e9 / (40 * MIXTRAL_KV_BF16)
    assert boundary == pytest.approx(4393, abs=1)
    assert evaluate(_one_gpu_fp8("bf16", 4393, 40, gpu))["fits"] is True
    assert evaluate(_one_gpu_fp8("bf16", 4394, 40, gpu))["fits"] is False
    # Two GPUs are enough at 8k context for 40 and 50 users (C13: "needs 2 GPUs").
    two = sweep(_one_gpu_fp8("bf16", 8192, 40, gpu).replace(n_gpus=2), batch_size=[40, 50])
    assert two["fits"].all()


@pytest.mark.parametrize("gpu", ["h100-sxm", "a100-80gb-sxm"])
def test_c13_fp8_with_fp8_kv_cache(gpu):
    # fp8 KV halves the bytes: at 8192 tokens floor(23.0337e9 / (8192 * 65,536)) = 42 users,
    # which holds 40 users but not 50; at 16384 tokens 21 users.
    at_8k_40 = evaluate(_one_gpu_fp8("fp8", 8192, 40, gpu))
    at_8k_50 = evaluate(_one_gpu_fp8("fp8", 8192, 50, gpu))
    at_16k = evaluate(_one_gpu_fp8("fp8", 16384, 40, gpu))
    assert at_8k_40["max_batch_size"] == 42
    assert at_8k_40["fits"] is True
    assert at_8k_50["fits"] is False and at_8k_50["min_gpus"] == 2
    assert at_16k["max_batch_size"] == 21 and at_16k["min_gpus"] == 2
    # Boundaries by hand: 40 users up to 8786 tokens, 50 users up to 7029 tokens.
    room_bytes = KV_ROOM_1GPU_FP8_GB * 1e9
    assert room_bytes / (40 * MIXTRAL_KV_FP8) == pytest.approx(8786, abs=1)
    assert room_bytes / (50 * MIXTRAL_KV_FP8) == pytest.approx(7029, abs=1)
    assert evaluate(_one_gpu_fp8("fp8", 7029, 50, gpu))["fits"] is True
    assert evaluate(_one_gpu_fp8("fp8", 7030, 50, gpu))["fits"] is False


# --- Other catalog models against published totals --------------------------------------


def test_llama_2_70b_total_params():
    c = load_catalog().models.loc["llama-2-70b"]
    # attention 80 * 8192 * 128 * (2*64 + 2*8) = 12,079,595,520
    # mlp 80 * 3 * 8192 * 28672 = 56,371,445,760
    # embed + lm_head 2 * 32000 * 8192 = 524,288,000; norms 161 * 8192 = 1,318,912
    # total 68,976,648,192: the Hugging Face hub's "69B params" for meta-llama/Llama-2-70b-hf.
    assert c["attention_params"] == 80 * 8192 * 128 * (2 * 64 + 2 * 8)
    assert c["expert_params"] == 80 * 3 * 8192 * 28672
    assert c["router_params"] == 0
    assert c["total_params"] == 68_976_648_192
    assert c["total_params"] == pytest.approx(69.0e9, rel=5e-3)


def test_dbrx_total_and_active_params():
    c = load_catalog().models.loc["dbrx"]
    # attention 40 * 6144 * 128 * (2*48 + 2*8) = 3,523,215,360
    # experts 40 * 16 * 3 * 6144 * 10752 = 126,835,752,960; router 40 * 6144 * 16 = 3,932,160
    # embed + lm_head 2 * 100352 * 6144 = 1,233,125,376; norms 81 * 6144 = 497,664
    # total 131,596,523,520 (Databricks: "132B total parameters ... 36B active").
    total = 3_523_215_360 + 126_835_752_960 + 3_932_160 + 1_233_125_376 + 497_664
    assert c["total_params"] == total == 131_596_523_520
    assert c["total_params"] == pytest.approx(132e9, rel=5e-3)
    # Active: attention + 4/16 experts + 16-bit parts = 3.52 + 31.71 + 1.24 = 36.47e9 (2%).
    active = c["attention_params"] + c["expert_params"] * 4 / 16 + c["sixteen_bit_params"]
    assert active == pytest.approx(36e9, rel=2e-2)


# --- config.json parsing ----------------------------------------------------------------

EXPECTED_ARCH = {
    # file: (layers, hidden, ffn, heads, kv heads, head_dim, experts, top-k, vocab)
    "mixtral-8x7b.json": (32, 4096, 14336, 32, 8, 128, 8, 2, 32000),
    "mixtral-8x22b.json": (56, 6144, 16384, 48, 8, 128, 8, 2, 32768),
    "llama-2-70b.json": (80, 8192, 28672, 64, 8, 128, 1, 1, 32000),
    "llama-3-70b.json": (80, 8192, 28672, 64, 8, 128, 1, 1, 128256),
    "dbrx.json": (40, 6144, 10752, 48, 8, 128, 16, 4, 100352),
    # 2024-2026 models: ffn is one routed expert's width; MLA head_dim = nope 128 + rope 64.
    "deepseek-v3.json": (61, 7168, 2048, 128, 128, 192, 256, 8, 129280),
    "deepseek-r1.json": (61, 7168, 2048, 128, 128, 192, 256, 8, 129280),
    "deepseek-v3.2.json": (61, 7168, 2048, 128, 128, 192, 256, 8, 129280),
    "kimi-k2.json": (61, 7168, 2048, 64, 64, 192, 384, 8, 163840),
    "qwen3.5-397b-a17b.json": (60, 4096, 1024, 32, 2, 256, 512, 10, 248320),
    "qwen3-235b-a22b.json": (94, 4096, 1536, 64, 4, 128, 128, 8, 151936),
    "qwen3-30b-a3b.json": (48, 2048, 768, 32, 4, 128, 128, 8, 151936),
    "gpt-oss-120b.json": (36, 2880, 2880, 64, 8, 64, 128, 4, 201088),
    "gpt-oss-20b.json": (24, 2880, 2880, 64, 8, 64, 32, 4, 201088),
    "llama-4-scout.json": (48, 5120, 8192, 40, 8, 128, 16, 1, 202048),
    "llama-4-maverick.json": (48, 5120, 8192, 40, 8, 128, 128, 1, 202048),
    "glm-4.5.json": (92, 5120, 1536, 96, 8, 128, 160, 8, 151552),
    "llama-3.1-70b.json": (80, 8192, 28672, 64, 8, 128, 1, 1, 128256),
    "llama-3.1-405b.json": (126, 16384, 53248, 128, 8, 128, 1, 1, 128256),
    # DeepSeek-V4: one K=V head of 512; moe_intermediate_size is the expert width.
    "deepseek-v4-pro.json": (61, 7168, 3072, 128, 1, 512, 384, 6, 129280),
    "deepseek-v4-flash.json": (43, 4096, 2048, 64, 1, 512, 256, 6, 129280),
    "deepseek-v4.1-flash.json": (40, 5120, 2304, 64, 1, 512, 384, 6, 129280),
    # GLM-5: MLA head 192 + 64; num_key_value_heads 64 as in the file.
    "glm-5.json": (78, 6144, 2048, 64, 64, 256, 256, 8, 154880),
    "glm-5.1.json": (78, 6144, 2048, 64, 64, 256, 256, 8, 154880),
    "glm-5.2.json": (78, 6144, 2048, 64, 64, 256, 256, 8, 154880),
    "kimi-k2.5.json": (61, 7168, 2048, 64, 64, 192, 384, 8, 163840),
    "kimi-k2.6.json": (61, 7168, 2048, 64, 64, 192, 384, 8, 163840),
    "kimi-k2.7-code.json": (61, 7168, 2048, 64, 64, 192, 384, 8, 163840),
    # Kimi K3: 896 experts top-16 (num_experts_per_token), MLA head 128 + 64.
    "kimi-k3.json": (93, 7168, 3072, 96, 96, 192, 896, 16, 163840),
    "minimax-m2.7.json": (62, 3072, 1536, 48, 8, 128, 256, 8, 200064),
    "minimax-m3.json": (60, 6144, 3072, 64, 4, 128, 128, 4, 200064),
    "qwen3.6-27b.json": (64, 5120, 17408, 24, 4, 256, 1, 1, 248320),
    "qwen3.6-35b-a3b.json": (40, 2048, 512, 16, 2, 256, 256, 8, 248320),
}
#: The summary fields in ``EXPECTED_ARCH``'s order: all but ``tied_embeddings``.
ARCH_KEYS = tuple(k for k in ARCHITECTURE_FIELDS if k != "tied_embeddings")


def test_every_asset_config_is_covered():
    assert sorted(p.name for p in MODELS_DIR.glob("*.json")) == sorted(EXPECTED_ARCH)


@pytest.mark.parametrize("filename", sorted(EXPECTED_ARCH))
def test_parse_asset_configs(filename):
    raw = (MODELS_DIR / filename).read_bytes()
    arch = parse_hf_config(json.loads(raw))
    assert tuple(arch[k] for k in ARCH_KEYS) == EXPECTED_ARCH[filename]
    assert arch["tied_embeddings"] is False
    # load_hf_config on the raw bytes gives the same.
    assert load_hf_config(raw) == arch


MINIMAL_LLAMA = {
    "model_type": "llama",
    "hidden_size": 8192,
    "intermediate_size": 28672,
    "num_hidden_layers": 80,
    "num_attention_heads": 64,
    "num_key_value_heads": 8,
    "vocab_size": 32000,
}


def test_parse_minimal_llama_dict():
    arch = parse_hf_config(MINIMAL_LLAMA)
    # Dense: one expert, top-1; head_dim = 8192 / 64 = 128; untied by default.
    assert arch == {
        "n_layers": 80,
        "hidden_size": 8192,
        "intermediate_size": 28672,
        "n_heads": 64,
        "n_kv_heads": 8,
        "head_dim": 128,
        "n_experts": 1,
        "experts_per_token": 1,
        "vocab_size": 32000,
        "tied_embeddings": False,
    }
    # Without num_key_value_heads it is multi-head attention (kv heads = heads).
    mha = {k: v for k, v in MINIMAL_LLAMA.items() if k != "num_key_value_heads"}
    assert parse_hf_config(mha)["n_kv_heads"] == 64
    # An explicit head_dim wins over hidden / heads.
    assert parse_hf_config({**MINIMAL_LLAMA, "head_dim": 96})["head_dim"] == 96


def _without(cfg: dict, key: str) -> dict:
    return {k: v for k, v in cfg.items() if k != key}


@pytest.mark.parametrize(
    ("cfg", "match"),
    [
        ({**MINIMAL_LLAMA, "model_type": "gpt2"}, "model_type"),
        (_without(MINIMAL_LLAMA, "model_type"), "model_type"),
        ({**MINIMAL_LLAMA, "hidden_size": "8192"}, "hidden_size"),
        ({**MINIMAL_LLAMA, "hidden_size": True}, "hidden_size"),
        ({**MINIMAL_LLAMA, "num_hidden_layers": -1}, "num_hidden_layers"),
        ({**MINIMAL_LLAMA, "num_key_value_heads": 7}, "num_key_value_heads"),
        (
            {
                **MINIMAL_LLAMA,
                "model_type": "mixtral",
                "num_local_experts": 8,
                "num_experts_per_tok": 9,
            },
            "num_experts_per_tok",
        ),
        ([1, 2], "JSON object"),
    ],
)
def test_parse_hf_config_errors_name_the_key(cfg, match):
    with pytest.raises(ValueError, match=match):
        parse_hf_config(cfg)


def test_heads_not_multiple_of_kv_heads_names_both():
    with pytest.raises(ValueError, match=r"num_attention_heads \(64\).*num_key_value_heads \(7\)"):
        parse_hf_config({**MINIMAL_LLAMA, "num_key_value_heads": 7})


def test_num_key_value_heads_zero_is_rejected():
    # BUG (costmodel/hf_config.py, parse_hf_config: `flat.get("num_key_value_heads") or heads`):
    # 0 is falsy, so an invalid 0 silently becomes multi-head attention (64 kv heads, an
    # 8x larger KV cache than the 8 a GQA model may have meant) instead of an error.
    with pytest.raises(ValueError, match="num_key_value_heads"):
        parse_hf_config({**MINIMAL_LLAMA, "num_key_value_heads": 0})


def test_missing_keys_take_transformers_defaults_named_as_the_file_has_them():
    # A key the file leaves out takes its configuration class's default (transformers
    # 5.25.0), named as the file would hold it: LlamaConfig.vocab_size 32000;
    # MixtralConfig.num_local_experts 8 and num_experts_per_tok 2; DbrxConfig.d_model 2048.
    used = defaults_used(_without(MINIMAL_LLAMA, "vocab_size"))
    assert ("vocab_size", 32_000) in used
    assert parse_hf_config(_without(MINIMAL_LLAMA, "vocab_size"))["vocab_size"] == 32_000
    mixtral = {**MINIMAL_LLAMA, "model_type": "mixtral"}
    assert parse_hf_config(mixtral)["n_experts"] == 8
    assert dict(defaults_used(mixtral))["num_experts_per_tok"] == 2
    cfg = json.loads((MODELS_DIR / "dbrx.json").read_text())
    del cfg["d_model"]
    assert ("d_model", 2_048) in defaults_used(cfg)
    # Without hidden_size: 4096 (LlamaConfig), so head_dim = 4096 // 64 = 64, both named.
    used = dict(defaults_used(_without(MINIMAL_LLAMA, "hidden_size")))
    assert (used["hidden_size"], used["head_dim"]) == (4_096, 64)
    assert used["max_position_embeddings"] == 2_048  # nor does MINIMAL_LLAMA give it


def test_dbrx_nested_errors():
    cfg = json.loads((MODELS_DIR / "dbrx.json").read_text())
    with pytest.raises(ValueError, match="attn_config"):
        parse_hf_config({**cfg, "attn_config": [1]})


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"\xff\xfe\x00 not json", "not valid JSON"),
        (b"{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        (b" " * (MAX_CONFIG_BYTES + 1), "limit"),
        (json.dumps({**MINIMAL_LLAMA, "model_type": "bert"}).encode(), "model_type"),
    ],
)
def test_load_hf_config_errors(data, match):
    with pytest.raises(ValueError, match=match):
        load_hf_config(data)


def test_load_hf_config_size_limit_is_inclusive():
    # Exactly MAX_CONFIG_BYTES is accepted (padding with spaces keeps it valid JSON).
    text = json.dumps(MINIMAL_LLAMA)
    data = (text + " " * (MAX_CONFIG_BYTES - len(text))).encode()
    assert len(data) == MAX_CONFIG_BYTES
    assert load_hf_config(data)["n_layers"] == 80
