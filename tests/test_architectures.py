"""Today's architectures by hand: MLA, sparse, sliding-window and linear attention, shared
experts, dense-first layers, mixed-precision checkpoints, tensor-parallel cache copies.

Every expected number is worked out in the comment above it from the model's config.json
(assets/models/, shared/reference/hf-configs/) and its model card.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from costmodel import Scenario, comparisons, evaluate, load_catalog, sweep
from costmodel import attention as att
from costmodel.analyses import memory_fit
from costmodel.architecture import parameter_counts
from costmodel.hf_config import describe_hf_config, read_hf_config

CATALOG = load_catalog()
MODELS = CATALOG.models
EXACT = 1e-12
NEW_IDS = [
    "deepseek-v3",
    "deepseek-r1",
    "deepseek-v3.2",
    "qwen3.5-397b-a17b",
    "qwen3-235b-a22b",
    "qwen3-30b-a3b",
    "gpt-oss-120b",
    "gpt-oss-20b",
    "llama-4-scout",
    "llama-4-maverick",
    "kimi-k2",
    "glm-4.5",
    "llama-3.1-70b",
    "llama-3.1-405b",
]
REFERENCE = Path("/work/shared/reference/hf-configs")
ASSETS = Path(__file__).resolve().parent.parent / "assets" / "models"
DATA = Path(__file__).resolve().parent / "data" / "hf-configs"


def arch(model: str) -> dict:
    return MODELS.loc[model].to_dict()


# --- cache bytes per token ------------------------------------------------------------


def test_deepseek_v3_mla_cache_per_token():
    # 61 layers x (kv_lora_rank 512 + qk_rope_head_dim 64) x 2 B = 70,272 B (BF16);
    # x 1 B = 35,136 (FP8). Not 61 x 2 x 128 heads x 192 x 2 = 5.7 MB of plain MHA.
    assert float(att.kv_bytes_per_token(arch("deepseek-v3"), 2.0)) == 61 * 576 * 2 == 70_272
    assert float(att.kv_bytes_per_token(arch("deepseek-v3"), 1.0)) == 35_136
    # Through evaluate: batch 1, 512 + 256 tokens on one GPU: 768 x 70,272 B.
    r = evaluate(Scenario(model="deepseek-v3", n_gpus=8, gpu="h200-sxm", batch_size=1))
    assert r["kv_cache_gb"] == pytest.approx(8 * 768 * 70_272 / 1e9, rel=EXACT)  # 8 copies


def test_qwen3_235b_gqa_cache_per_token():
    # 94 layers x 4 KV heads x 128 x 2 (K, V) x 2 B = 192,512 B.
    assert float(att.kv_bytes_per_token(arch("qwen3-235b-a22b"), 2.0)) == 192_512
    r = evaluate(Scenario(model="qwen3-235b-a22b", gpu="h200-sxm", n_gpus=4, batch_size=2))
    assert r["kv_cache_gb"] == pytest.approx(2 * 768 * 192_512 / 1e9, rel=EXACT)


def test_gpt_oss_sliding_layers_cap_the_cache():
    # 18 full + 18 sliding layers, each 2 x 8 KV heads x 64 x 2 B = 2,048 B per token.
    # At T = 101,000 tokens: 18 x 2,048 x 101,000 + 18 x 2,048 x 128 (window)
    # = 3,723,264,000 + 4,718,592 = 3,727,982,592 B, about half of 36 full layers' 7.45e9.
    a = arch("gpt-oss-120b")
    assert float(att.sequence_cache_bytes(a, 101_000, 2.0)) == 3_727_982_592
    s = Scenario(model="gpt-oss-120b", weight_format=None, n_gpus=1, batch_size=1)
    r = evaluate(s.replace(prompt_tokens=100_000, output_tokens=1_000))
    assert r["kv_cache_gb"] == pytest.approx(3.727982592, rel=EXACT)
    # Below the window the sliding layers hold every token: T = 100 -> 36 x 2,048 x 100.
    assert float(att.sequence_cache_bytes(a, 100, 2.0)) == 36 * 2_048 * 100


def test_llama_4_chunked_layers_count_as_a_window():
    # 12 global + 36 chunked (8,192) layers of 2 x 8 x 128 x 2 = 4,096 B per token:
    # at 100,000 tokens 12 x 4,096 x 100,000 + 36 x 4,096 x 8,192 = 4.915e9 + 1.208e9.
    a = arch("llama-4-maverick")
    expected = 12 * 4_096 * 100_000 + 36 * 4_096 * 8_192
    assert float(att.sequence_cache_bytes(a, 100_000, 2.0)) == expected


def test_qwen3_5_memory_per_sequence_grows_far_less_than_linearly():
    # 45 linear layers x (64 x 128 x 128 x 4 B state + 3 x (2 x 16 x 128 + 64 x 128) x 2 B
    # conv) = 45 x (4,194,304 + 73,728) = 192,061,440 B, whatever the context; plus 15 full
    # layers x 2 x 2 KV heads x 256 x 2 B = 30,720 B per token.
    a = arch("qwen3.5-397b-a17b")
    assert float(att.linear_state_bytes(a)) == 192_061_440
    assert float(att.kv_bytes_per_token(a, 2.0)) == 30_720
    small, large = (float(att.sequence_cache_bytes(a, t, 2.0)) for t in (4_096, 65_536))
    assert small == 192_061_440 + 30_720 * 4_096  # 317.9e6
    assert large == 192_061_440 + 30_720 * 65_536  # 2,205.3e6
    assert large / small == pytest.approx(6.94, abs=0.01)  # 16x the tokens, 6.9x the memory
    # A step reads the state and writes it back: 2 x 192 MB at any context.
    read = float(att.decode_cache_read_bytes(a, 4_096, 2.0))
    assert read == 2 * 192_061_440 + 30_720 * 4_096


# --- sparse attention -------------------------------------------------------------------


def test_deepseek_v32_reads_less_than_half_of_v3_at_64k():
    # Context 65,536 (prompt 65,408 + output 256 / 2). V3 reads every latent:
    # 61 x 65,536 x 1,152 B = 4,605,345,792 B. V3.2 reads the top 2,048 latents and every
    # indexer key (128 B FP8 + a 4 B FP32 scale): 61 x (2,048 x 1,152 + 65,536 x 132)
    # = 61 x 11,010,048 = 671,612,928 B.
    v3, v32 = arch("deepseek-v3"), arch("deepseek-v3.2")
    assert float(att.decode_cache_read_bytes(v3, 65_536, 2.0)) == 4_605_345_792
    assert float(att.decode_cache_read_bytes(v32, 65_536, 2.0)) == 671_612_928
    base = Scenario(gpu="h200-sxm", n_gpus=8, batch_size=8, weight_format=None)
    rows = sweep(
        base.replace(prompt_tokens=65_408, output_tokens=256),
        model=["deepseek-v3", "deepseek-v3.2"],
    ).set_index("model")
    kv = rows["kv_bytes_read_per_step_gb"]
    # x 8 sequences x 8 GPU copies; + the 8 new tokens' writes (70,272 B; V3.2 61 x
    # (1,152 + 132) = 78,324 B) x 8 x 8.
    assert kv["deepseek-v3"] == pytest.approx((4_605_345_792 + 70_272) * 64 / 1e9, rel=EXACT)
    assert kv["deepseek-v3.2"] == pytest.approx((671_612_928 + 78_324) * 64 / 1e9, rel=EXACT)
    assert kv["deepseek-v3.2"] < 0.5 * kv["deepseek-v3"]
    # The whole latent cache is still stored: V3.2 holds more, not less.
    assert rows.loc["deepseek-v3.2", "kv_cache_gb"] > rows.loc["deepseek-v3", "kv_cache_gb"]
    assert rows.loc["deepseek-v3.2", "tpot_ms"] < rows.loc["deepseek-v3", "tpot_ms"]


def test_mla_absorbed_decode_is_compute_heavy():
    # Absorbed MLA per token at T = 4,096: 61 x 2 x 128 heads x (2 x 512 + 64) x 4,096
    # = 61 x 256 x 1,088 x 4,096 = 69,591,891,968 FLOPs;
    # Llama-3-70B GQA: 80 x 4 x 64 x 128 x 4,096 = 10,737,418,240.
    assert float(att.decode_attention_flops(arch("deepseek-v3"), 4_096)) == 69_591_891_968
    assert float(att.decode_attention_flops(arch("llama-3-70b"), 4_096)) == 10_737_418_240
    # V3.2 at 65,536: 61 x (2 x 128 x 1,088 x 2,048 + 2 x 64 x 128 x 65,536).
    expected = 61 * (2 * 128 * 1_088 * 2_048 + 2 * 64 * 128 * 65_536)
    assert float(att.decode_attention_flops(arch("deepseek-v3.2"), 65_536)) == expected


# --- parameters and weights -------------------------------------------------------------

CARDS = {
    # model id: (total B, active B) from each model card.
    "deepseek-v3": (671, 37),
    "qwen3-235b-a22b": (235, 22),
    "kimi-k2": (1026, 32.7),
    "llama-4-maverick": (400, 17),
    "llama-4-scout": (109, 17),
    "qwen3.5-397b-a17b": (397, 17),
    "glm-4.5": (355, 32),
}


@pytest.mark.parametrize("model", sorted(CARDS))
def test_total_and_active_params_match_the_cards(model):
    total, active = CARDS[model]
    assert MODELS.loc[model, "total_params"] / 1e9 == pytest.approx(total, rel=0.04)
    assert MODELS.loc[model, "active_params"] / 1e9 == pytest.approx(active, rel=0.06)


def test_deepseek_v3_parts_by_hand():
    # MLA layer: q_a 7168 x 1536 + q_b 1536 x 128 x 192 + kv_a 7168 x 576
    # + kv_b 512 x 128 x 256 + o 128 x 128 x 7168 = 187,105,280; x 61 = 11,413,422,080.
    # Routed: 58 MoE layers x 256 x 3 x 7168 x 2048 = 653,908,770,816; shared 58 x 1 x
    # 44,040,192 = 2,554,331,136; dense: 3 x 3 x 7168 x 18432 = 1,189,085,184.
    a = arch("deepseek-v3")
    assert a["attention_params"] == 61 * 187_105_280
    assert a["expert_params"] == 653_908_770_816
    assert a["shared_expert_params"] == 2_554_331_136
    assert a["dense_ffn_params"] == 1_189_085_184
    # 671.0 B total; active = total - routed x 248/256 = 37.55 B. The MTP layer
    # (num_nextn_predict_layers 1, about 14 B) is reported, not counted.
    assert a["total_params"] / 1e9 == pytest.approx(671.03, abs=0.01)
    assert a["active_params"] / 1e9 == pytest.approx(37.55, abs=0.01)
    assert a["mtp_layers"] == 1


def test_gpt_oss_120b_params_and_card_convention():
    # Routed: 36 x 128 x 3 x 2880 x 2880 = 114,661,785,600; attention 36 x 2880 x 64 x
    # (2 x 64 + 2 x 8) = 955,514,880; embeddings 2 x 201,088 x 2880 = 1,158,266,880.
    a = arch("gpt-oss-120b")
    assert a["expert_params"] == 114_661_785_600
    assert a["attention_params"] == 955_514_880
    assert a["total_params"] / 1e9 == pytest.approx(116.83, rel=0.001)
    # The card's 5.13 B active leaves the input embedding (a lookup) out:
    # 114.66e9 x 4/128 + 0.956e9 + 0.579e9 (unembedding) + router + norms = 5.12e9.
    assert (a["active_params"] - a["embedding_params"]) / 1e9 == pytest.approx(5.13, rel=0.01)


def test_deepseek_v3_fp8_weights_fit_8_h200():
    # Checkpoint FP8 (quantization_config fp8, 128x128 block scales):
    # 669.07e9 quantisable x 1 B + (router 0.106e9 + embeddings 1.853e9 + norms) x 2 B
    # = 672.99 GB; 8 x 141 x 0.9 = 1,015 GB usable.
    a = arch("deepseek-v3")
    r = evaluate(Scenario(model="deepseek-v3", weight_format=None, gpu="h200-sxm", n_gpus=8))
    expected = (a["quantizable_params"] * 1.0 + a["sixteen_bit_params"] * 2.0) / 1e9
    assert r["weights_gb"] == pytest.approx(expected, rel=EXACT)
    assert 660 <= r["weights_gb"] <= 700
    assert r["weight_format"] == r["attention_format"] == "fp8"
    assert r["fits"]


def test_gpt_oss_120b_mxfp4_weights_fit_one_h100():
    # MXFP4 experts: 114.66e9 x (4 + 8/32) / 8 = 60.91 GB; attention in BF16 0.956e9 x 2
    # = 1.91 GB; embeddings, router, norms 1.172e9 x 2 = 2.34 GB; total 65.17 GB.
    r = evaluate(Scenario(model="gpt-oss-120b", weight_format=None, n_gpus=1, batch_size=1))
    assert r["weight_format"] == "mxfp4" and r["attention_format"] == "bf16"
    a = arch("gpt-oss-120b")
    expected = a["expert_params"] * 0.53125 + a["attention_params"] * 2
    expected += a["sixteen_bit_params"] * 2
    assert r["weights_gb"] == pytest.approx(expected / 1e9, rel=EXACT)
    assert 61 <= r["weights_gb"] <= 66
    assert r["fits"]
    # The same formats chosen by hand give the same row.
    by_hand = evaluate(
        Scenario(
            model="gpt-oss-120b",
            weight_format="mxfp4",
            attention_format="bf16",
            n_gpus=1,
            batch_size=1,
        )
    )
    assert by_hand["weights_gb"] == r["weights_gb"]
    # All in MXFP4 (attention_format as weight_format): 116.79e9 x ... smaller still.
    all_fp4 = evaluate(Scenario(model="gpt-oss-120b", weight_format="mxfp4", n_gpus=1))
    assert all_fp4["attention_format"] == "mxfp4"
    assert all_fp4["weights_gb"] < r["weights_gb"]


def test_formats_bits_per_weight():
    # NVFP4: 4 + 8/16 = 4.5 bits = 0.5625 B; MXFP4: 4 + 8/32 = 4.25 bits = 0.53125 B.
    fmt = CATALOG.formats
    bpw = CATALOG.arrays["format.bytes_per_weight"]
    assert bpw[fmt.index.get_loc("nvfp4")] == 0.5625
    assert bpw[fmt.index.get_loc("mxfp4")] == 0.53125
    assert set(fmt.loc[["nvfp4", "mxfp4"], "compute_dtype"]) == {"fp4"}


def test_fp4_computes_on_fp4_units_or_falls_back_to_fp8():
    # B200 has 9,000 dense FP4 TFLOPS (gpus.csv): an NVFP4 prefill (compute-bound) is
    # faster than FP8's 4,500 TFLOPS. H100 has no FP4 units: it reads 4-bit weights and
    # computes in FP8 (catalog.PEAK_FALLBACK), so its NVFP4 prefill takes as long as FP8's
    # while its batch-1 decode (bandwidth-bound) reads 4.5 / 8 of the expert bytes.
    base = Scenario(model="llama-3.1-70b", n_gpus=1, batch_size=8, prompt_tokens=4_096)
    rows = sweep(base, gpu=["b200", "h100-sxm"], weight_format=["fp8", "nvfp4"], batch_size=[1, 8])
    rows = rows.set_index(["gpu", "weight_format", "batch_size"])
    prefill, decode = rows["prefill_ms"], rows["decode_step_ms"]
    assert prefill["b200", "nvfp4", 8] < prefill["b200", "fp8", 8]
    assert prefill["h100-sxm", "nvfp4", 8] == pytest.approx(prefill["h100-sxm", "fp8", 8])
    assert decode["h100-sxm", "nvfp4", 1] < decode["h100-sxm", "fp8", 1]


# --- experts read -----------------------------------------------------------------------


def test_deepseek_v3_routed_experts_read():
    # One token reads its 8 routed experts; 64 tokens 256 (1 - (1 - 8/256)^64) = 222.4.
    # The shared expert is read every step besides them.
    rows = sweep(
        Scenario(model="deepseek-v3", weight_format=None, gpu="h200-sxm", n_gpus=8),
        batch_size=[1, 64],
    )
    assert rows["experts_read_per_layer"].iloc[0] == pytest.approx(8.0, rel=EXACT)
    assert rows["experts_read_per_layer"].iloc[1] == pytest.approx(222.4, abs=0.05)
    assert rows["experts_read_per_layer"].iloc[1] == pytest.approx(
        256 * (1 - (1 - 8 / 256) ** 64), rel=EXACT
    )
    assert (rows["shared_experts_per_layer"] == 1).all()
    # Weights read at batch 1 (FP8, 1 B each): attention 11.41e9 + shared 2.55e9 + dense
    # 1.19e9 + routed 653.9e9 x 8/256 = 20.43e9, + 16-bit router, lm_head, norms x 2 B.
    a = arch("deepseek-v3")
    always = a["attention_params"] + a["shared_expert_params"] + a["dense_ffn_params"]
    other = (a["router_params"] + a["lm_head_params"] + a["norm_params"]) * 2
    expected = always + a["expert_params"] * 8 / 256 + other
    assert rows["weight_bytes_read_per_step_gb"].iloc[0] == pytest.approx(expected / 1e9, rel=1e-9)


# --- tensor parallelism and the cache ---------------------------------------------------


def test_mla_cache_is_copied_on_every_tp_gpu_gqa_is_split():
    # MLA: the latent cache of every sequence on each of the n GPUs (n copies).
    # GQA with 8 KV heads: split up to 8 GPUs (1 copy), replicated beyond (16 GPUs: 2).
    a, llama = arch("deepseek-v3"), arch("llama-3.1-70b")
    one = float(att.sequence_cache_bytes(a, 1_000, 2.0, 1))
    assert float(att.sequence_cache_bytes(a, 1_000, 2.0, 8)) == 8 * one
    base = float(att.sequence_cache_bytes(llama, 1_000, 2.0, 1))
    assert base == 1_000 * 80 * 2 * 8 * 128 * 2
    assert float(att.sequence_cache_bytes(llama, 1_000, 2.0, 8)) == base
    assert float(att.sequence_cache_bytes(llama, 1_000, 2.0, 16)) == 2 * base
    # The memory fit uses it: DeepSeek-V3 FP8 on 8 H200 at 32 x 8,192 tokens holds
    # 8 x 32 x 8,192 x 70,272 B = 147.4 GB of latent copies.
    r = evaluate(
        Scenario(
            model="deepseek-v3",
            weight_format=None,
            gpu="h200-sxm",
            n_gpus=8,
            batch_size=32,
            prompt_tokens=8_000,
            output_tokens=192,
        )
    )
    assert r["kv_cache_gb"] == pytest.approx(8 * 32 * 8_192 * 70_272 / 1e9, rel=EXACT)


# --- context window ---------------------------------------------------------------------


def test_prompt_beyond_the_context_window_is_rejected():
    # Llama 2 70B: max_position_embeddings 4,096; 4,000 + 200 = 4,200 tokens.
    with pytest.raises(ValueError) as err:
        evaluate(Scenario(model="llama-2-70b", prompt_tokens=4_000, output_tokens=200))
    message = str(err.value)
    assert "prompt_tokens + output_tokens (4,000 + 200)" in message
    assert "llama-2-70b, 4,096 tokens" in message
    # Exactly the window is allowed.
    evaluate(Scenario(model="llama-2-70b", prompt_tokens=3_840, output_tokens=256))
    # In a sweep, the first row beyond its model's window is named.
    with pytest.raises(ValueError, match="mixtral-8x7b, 32,768 tokens"):
        sweep(Scenario(output_tokens=1_000), prompt_tokens=[1_000, 32_000])
    assert MODELS.loc["deepseek-v3", "context_window"] == 163_840
    assert MODELS.loc["llama-4-scout", "context_window"] == 10_485_760


# --- every model evaluates --------------------------------------------------------------


@pytest.mark.parametrize("model", NEW_IDS)
def test_every_new_model_evaluates_where_it_fits(model):
    # On H100, H200 and MI300X in the checkpoint's formats, at the fewest GPUs that hold it
    # at batch 1: the row fits and every time and cost is finite and positive.
    base = Scenario(model=model, weight_format=None, batch_size=1)
    evaluates_where_it_fits(base, ["h100-sxm", "h200-sxm", "mi300x"])


def evaluates_where_it_fits(base: Scenario, gpus: list[str]) -> None:
    """Each GPU at the fewest GPUs that hold ``base``: it fits, every time and cost is
    finite and positive."""
    for row in sweep(base, gpu=gpus).itertuples():
        assert np.isfinite(row.min_gpus), (base.model, row.gpu)
        r = evaluate(base.replace(gpu=row.gpu, n_gpus=int(row.min_gpus)))
        assert r["fits"], (base.model, row.gpu)
        for col in ("tpot_ms", "ttft_ms", "usd_per_million_output_tokens", "prefill_ms"):
            assert np.isfinite(r[col]) and r[col] > 0, (base.model, row.gpu, col)


# --- every reference config through the upload path -----------------------------------

#: Each reference config.json (shared/reference/hf-configs) and its copy in the project:
#: the catalog's assets/models/<id>.json, or tests/data/hf-configs/ for those not in the
#: catalog; and the total parameters on its model card [B].
REFERENCE_CARDS = {
    "MiniMaxAI--MiniMax-M2.5.json": (DATA / "MiniMaxAI--MiniMax-M2.5.json", 230),
    "Qwen--Qwen3-235B-A22B.json": (ASSETS / "qwen3-235b-a22b.json", 235),
    "Qwen--Qwen3-30B-A3B.json": (ASSETS / "qwen3-30b-a3b.json", 30.5),
    "Qwen--Qwen3-32B.json": (DATA / "Qwen--Qwen3-32B.json", 32.8),
    "Qwen--Qwen3.5-397B-A17B.json": (ASSETS / "qwen3.5-397b-a17b.json", 397),
    "deepseek-ai--DeepSeek-R1.json": (ASSETS / "deepseek-r1.json", 671),
    "deepseek-ai--DeepSeek-V3.2.json": (ASSETS / "deepseek-v3.2.json", 671),
    "deepseek-ai--DeepSeek-V3.json": (ASSETS / "deepseek-v3.json", 671),
    "meta-llama--Llama-4-Maverick-17B-128E-Instruct.json": (ASSETS / "llama-4-maverick.json", 400),
    "meta-llama--Llama-4-Scout-17B-16E-Instruct.json": (ASSETS / "llama-4-scout.json", 109),
    "meta-llama--Meta-Llama-3.1-405B.json": (ASSETS / "llama-3.1-405b.json", 405),
    "meta-llama--Meta-Llama-3.1-70B.json": (ASSETS / "llama-3.1-70b.json", 70.6),
    "moonshotai--Kimi-K2-Instruct.json": (ASSETS / "kimi-k2.json", 1026),
    "nvidia--DeepSeek-V3.1-NVFP4.json": (DATA / "nvidia--DeepSeek-V3.1-NVFP4.json", 671),
    "openai--gpt-oss-120b.json": (ASSETS / "gpt-oss-120b.json", 116.8),
    "openai--gpt-oss-20b.json": (ASSETS / "gpt-oss-20b.json", 20.9),
    "zai-org--GLM-4.5-Air.json": (DATA / "zai-org--GLM-4.5-Air.json", 106),
    # The reference GLM-4.5 (355B) file holds only structural fields; assets' glm-4.5 is
    # its completed copy (sources in models.csv).
    "zai-org--GLM-4.5.json": (ASSETS / "glm-4.5.json", 355),
    # Late 2026 (models-2026.md): the catalog's copies, and NVIDIA's and Z.ai's quantised
    # siblings in tests/data (MiniMax-M3-NVFP4's 3 MB config gzipped). V4.1-Flash: 551.6B
    # backbone + 196.6B Engram tables (third-party: 552B + 197B).
    "MiniMaxAI--MiniMax-M2.7.json": (ASSETS / "minimax-m2.7.json", 230),
    "MiniMaxAI--MiniMax-M3.aic-curated-text-only.json": (ASSETS / "minimax-m3.json", 428),
    "deepseek-ai--DeepSeek-V4-Pro.json": (ASSETS / "deepseek-v4-pro.json", 1600),
    "deepseek-ai--DeepSeek-V4-Flash.json": (ASSETS / "deepseek-v4-flash.json", 284),
    "deepseek-ai--DeepSeek-V4.1-Flash.json": (ASSETS / "deepseek-v4.1-flash.json", 749),
    "moonshotai--Kimi-K2.5.json": (ASSETS / "kimi-k2.5.json", 1000),
    "moonshotai--Kimi-K3.json": (ASSETS / "kimi-k3.json", 2800),
    "nvidia--DeepSeek-V4-Pro-NVFP4.json": (DATA / "nvidia--DeepSeek-V4-Pro-NVFP4.json", 1600),
    "nvidia--DeepSeek-V4-Flash-NVFP4.json": (DATA / "nvidia--DeepSeek-V4-Flash-NVFP4.json", 284),
    "nvidia--GLM-5.2-NVFP4.json": (DATA / "nvidia--GLM-5.2-NVFP4.json", 744),
    "nvidia--Kimi-K2.5-NVFP4.json": (DATA / "nvidia--Kimi-K2.5-NVFP4.json", 1000),
    "nvidia--Kimi-K2.6-NVFP4.json": (ASSETS / "kimi-k2.6.json", 1000),
    "nvidia--Kimi-K2.7-Code-NVFP4.json": (ASSETS / "kimi-k2.7-code.json", 1000),
    "nvidia--MiniMax-M3-NVFP4.json": (DATA / "nvidia--MiniMax-M3-NVFP4.json.gz", 428),
    "nvidia--Qwen3.6-27B-NVFP4.json": (ASSETS / "qwen3.6-27b.json", 27),
    "nvidia--Qwen3.6-35B-A3B-NVFP4.json": (ASSETS / "qwen3.6-35b-a3b.json", 35),
    "zai-org--GLM-5.json": (ASSETS / "glm-5.json", 744),
    "zai-org--GLM-5-FP8.json": (DATA / "zai-org--GLM-5-FP8.json", 744),
    "zai-org--GLM-5.1.json": (ASSETS / "glm-5.1.json", 744),
    "zai-org--GLM-5.1-FP8.json": (DATA / "zai-org--GLM-5.1-FP8.json", 744),
    "zai-org--GLM-5.2.json": (ASSETS / "glm-5.2.json", 744),
    "zai-org--GLM-5.2-FP8.json": (DATA / "zai-org--GLM-5.2-FP8.json", 744),
}
#: NVIDIA's ModelOpt quantisation files beside their config.json (read by
#: hf_config.read_quant_config; tests/test_today_architectures.py checks them).
REFERENCE_QUANT_CONFIGS = [
    f"nvidia--{name}.hf_quant_config.json"
    for name in (
        "DeepSeek-V4-Pro-NVFP4",
        "DeepSeek-V4-Flash-NVFP4",
        "GLM-5.2-NVFP4",
        "Kimi-K2.6-NVFP4",
        "Kimi-K2.7-Code-NVFP4",
        "Qwen3.6-27B-NVFP4",
        "Qwen3.6-35B-A3B-NVFP4",
    )
]


def _copy_bytes(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="shared/reference is not on this machine")
def test_reference_configs_are_the_projects_copies():
    names = {p.name for p in REFERENCE.glob("*.json")}
    assert names == set(REFERENCE_CARDS) | set(REFERENCE_QUANT_CONFIGS)
    for name, (copy, _) in REFERENCE_CARDS.items():
        if name != "zai-org--GLM-4.5.json":
            assert (REFERENCE / name).read_bytes() == _copy_bytes(copy), name
    for name in REFERENCE_QUANT_CONFIGS:
        assert (REFERENCE / name).read_bytes() == (DATA / name).read_bytes(), name


@pytest.mark.parametrize("filename", sorted(REFERENCE_CARDS))
def test_reference_config_sizes_the_model_within_4_percent(filename):
    path, card = REFERENCE_CARDS[filename]
    config = read_hf_config(_copy_bytes(path))
    total = float(parameter_counts(describe_hf_config(config))["total_params"])
    assert total / 1e9 == pytest.approx(card, rel=0.04)
    catalog = CATALOG.with_model("custom:upload", config)
    assert catalog.models.loc["custom:upload", "total_params"] == total


@pytest.mark.parametrize("model", NEW_IDS)
def test_catalog_configs_parse_through_the_upload_path(model):
    raw = (ASSETS / f"{model}.json").read_bytes()
    catalog = CATALOG.with_model("custom:x", read_hf_config(raw))
    assert catalog.models.loc["custom:x", "total_params"] == MODELS.loc[model, "total_params"]


def test_checkpoint_formats_from_quantization_config():
    m = MODELS
    assert tuple(
        m.loc["gpt-oss-120b", ["checkpoint_weight_format", "checkpoint_attention_format"]]
    ) == (
        "mxfp4",
        "bf16",
    )
    for model in ("deepseek-v3", "deepseek-v3.2", "kimi-k2"):
        assert m.loc[model, "checkpoint_weight_format"] == "fp8"
        assert m.loc[model, "checkpoint_attention_format"] == "fp8"
    for model in ("mixtral-8x7b", "qwen3-235b-a22b", "llama-3.1-405b"):
        assert m.loc[model, "checkpoint_weight_format"] == "bf16"
    # NVIDIA's ModelOpt NVFP4 form, attention kept in BF16 by exclude_modules.
    cfg = json.loads((ASSETS / "deepseek-v3.json").read_text())
    cfg["quantization_config"] = {
        "quant_method": "modelopt",
        "quant_algo": "NVFP4",
        "exclude_modules": ["lm_head", "model.layers.*.self_attn*"],
    }
    a = describe_hf_config(cfg)
    assert (a["checkpoint_weight_format"], a["checkpoint_attention_format"]) == ("nvfp4", "bf16")
    with pytest.raises(ValueError, match="quantization_config.quant_method"):
        describe_hf_config({**cfg, "quantization_config": {"quant_method": "bitsandbytes"}})
    # The Mixtral default is unchanged: weight_format bf16, attention as weights.
    r = evaluate(Scenario())
    assert r["weight_format"] == r["attention_format"] == "bf16"


def test_dense_equivalents_and_what_if_models_keep_the_attention_kind():
    # DeepSeek-V3's dense equivalents keep MLA (61 layers, 70,272 B/token in BF16) and
    # match its 37.55e9 active / 671.03e9 total parameters to within one unit of FFN width,
    # 3 x 61 x 7168 = 1,311,744 parameters.
    catalog = comparisons.dense_equivalents(CATALOG, "deepseek-v3")
    ids = comparisons.dense_model_ids("deepseek-v3")
    for kind, target in (("same_active", "active_params"), ("same_total", "total_params")):
        dense = catalog.models.loc[ids[kind]].to_dict()
        assert dense["mla_layers"] == 61 and dense["n_experts"] == 1
        assert dense["dense_ffn_layers"] == 0 and dense["shared_expert_params"] == 0
        assert float(att.kv_bytes_per_token(dense, 2.0)) == 70_272
        assert abs(dense["total_params"] - MODELS.loc["deepseek-v3", target]) <= 1_311_744 / 2
    # 512 experts top-16 of half the width: shared expert and the 3 dense layers stay.
    catalog, what_if = comparisons.more_experts(CATALOG, "deepseek-v3", 512, 16, "total size")
    row = catalog.models.loc[what_if]
    assert (row["intermediate_size"], row["n_shared_experts"], row["dense_ffn_layers"]) == (
        1024,
        1,
        3,
    )


def test_longest_context_is_the_memory_boundary_for_every_attention_kind():
    # 40 users on 8x H200 in the checkpoints' formats. The answer fits and one token more
    # does not (or it is the model's window): Qwen3.5's fixed state, Maverick's chunked
    # layers and DeepSeek's replicated latents make memory non-proportional to context.
    base = Scenario(gpu="h200-sxm", n_gpus=8, weight_format=None)
    models = ["qwen3.5-397b-a17b", "gpt-oss-120b", "deepseek-v3", "llama-4-maverick"]
    longest = memory_fit.longest_context(base, 40, None, model=models)
    for model, context in zip(models, longest, strict=True):

        def users(tokens, model=model):
            s = base.replace(model=model, prompt_tokens=int(tokens) - 1, output_tokens=1)
            return evaluate(s.replace(batch_size=1))["max_batch_size"]

        assert users(context) >= 40, model
        window = MODELS.loc[model, "context_window"]
        assert context == min(window, 131_072) or users(context + 1) < 40, model
    assert longest[1] == 131_072  # gpt-oss: 18 full layers of 2,048 B/token, all fits
