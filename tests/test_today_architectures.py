"""Today's models (issue 18, item 1) worked by hand: DeepSeek-V4 compressed attention,
V4.1's kv-source layers, GLM-5.2's IndexShare, Kimi K3's KDA + MLA, MiniMax-M3's
block-sparse GQA, Qwen3.6's Gated DeltaNet; parameters against the cards.

Every expected number is worked out in the comment above it from the model's config.json
(assets/models/, shared/reference/hf-configs/) and shared/reference/models-2026.md.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from test_architectures import evaluates_where_it_fits

from app_pages.ui import models
from costmodel import Scenario, load_catalog, sweep
from costmodel import attention as att
from costmodel.architecture import compressed_layer_params, compressor_params, indexer_params
from costmodel.hf_config import (
    checkpoint_formats,
    compact,
    defaults_used,
    describe_hf_config,
    read_hf_config,
    read_quant_config,
)

CATALOG = load_catalog()
MODELS = CATALOG.models
EXACT = 1e-12
DATA = Path(__file__).resolve().parent / "data" / "hf-configs"
FP8, BF16 = 1.0, 2.0
T = 65_536  # context of the decode checks [tokens]

TODAY = [
    "deepseek-v4-pro",
    "deepseek-v4-flash",
    "deepseek-v4.1-flash",
    "glm-5",
    "glm-5.1",
    "glm-5.2",
    "kimi-k2.5",
    "kimi-k2.6",
    "kimi-k2.7-code",
    "kimi-k3",
    "minimax-m3",
    "minimax-m2.7",
    "qwen3.6-27b",
    "qwen3.6-35b-a3b",
]


def arch(model: str) -> dict:
    return MODELS.loc[model].to_dict()


def test_every_catalog_id_the_prices_helper_maps_to_exists():
    assert set(TODAY) <= set(MODELS.index)


# --- DeepSeek-V4: CSA + HCA + a window in every layer ---------------------------------


def test_deepseek_v4_pro_layer_counts_from_compress_ratios():
    # compress_ratios: 128, 128, then 4 / 128 alternating to layer 60 (the 62nd entry, 0,
    # is the MTP layer): 30 CSA layers (ratio 4), 31 HCA (ratio 128).
    a = arch("deepseek-v4-pro")
    assert (a["compressed_layers"], a["compressed_sparse_layers"], a["index_layers"]) == (
        61,
        30,
        30,
    )
    assert a["compressed_entries_per_token"] == 30 / 4 + 31 / 128 == 7.7421875
    assert a["compressed_dense_per_token"] == 31 / 128
    assert a["index_keys_per_token"] == a["index_scans_per_token"] == 30 / 4
    # Flash: 2 window-only layers, 21 CSA, 20 HCA.
    f = arch("deepseek-v4-flash")
    assert (f["compressed_layers"], f["compressed_sparse_layers"]) == (43, 21)
    assert f["compressed_entries_per_token"] == 21 / 4 + 20 / 128


def test_deepseek_v4_kv_per_token_follows_vllms_layout():
    # vLLM's FP8 record: 448 NoPE values x 1 B + 64 RoPE x 2 B + 7 scales + 1 pad = 584 B;
    # an index key 128 x 1 B + 4 B scale = 132 B (models-2026.md §1.1).
    pro, flash = arch("deepseek-v4-pro"), arch("deepseek-v4-flash")
    assert float(att.compressed_entry_bytes(pro, FP8)) == 448 + 128 + 8 == 584
    assert float(att.compressed_entry_bytes(pro, BF16)) == 512 * 2
    # Pro grows by 30 x (584 + 132) / 4 + 31 x 584 / 128 = 5,370 + 141.4375 = 5,511.4375 B
    # a token (the notes' 5.5 KB; AIC's 512 B entries and FP4 keys would give 4.4 KB).
    assert float(att.kv_growth_bytes_per_token(pro, FP8)) == 30 * 716 / 4 + 31 * 584 / 128
    assert float(att.kv_growth_bytes_per_token(pro, FP8)) == 5_511.4375
    # Flash: 21 x 716 / 4 + 20 x 584 / 128 = 3,759 + 91.25 = 3,850.25 B.
    assert float(att.kv_growth_bytes_per_token(flash, FP8)) == 3_850.25
    # Written per token: the growth + one raw entry in each of the 61 windows.
    assert float(att.kv_bytes_per_token(pro, FP8)) == 5_511.4375 + 61 * 584


def test_deepseek_v4_fixed_state_per_sequence():
    # Window: 61 layers x 128 entries x 584 B = 4,559,872 B. Compressor buffers (AIC:
    # 2 ratio coff d values, FP32): CSA 30 x 2 x 4 x 2 x 512 = 245,760 values, HCA 31 x 2 x
    # 128 x 1 x 512 = 4,063,232, the CSA indexers' 30 x 2 x 4 x 2 x 128 = 61,440:
    # 4,370,432 values x 4 B = 17,481,728 B.
    pro = arch("deepseek-v4-pro")
    assert pro["compressor_state_values"] == 245_760 + 4_063_232 + 61_440
    window, state = 61 * 128 * 584, 4_370_432 * 4
    assert float(att.fixed_sequence_bytes(pro, FP8)) == window + state == 22_041_600
    # A sequence of 1,048,576 tokens: 5,511.4375 x 1,048,576 + 22,041,600 = 5.80e9 B
    # (the notes' "about 5.8 GB"), against V3.2's 61 x (576 + 132) x 1,048,576 = 45.3e9.
    held = float(att.sequence_cache_bytes(pro, 1_048_576, FP8))
    assert held == 5_511.4375 * 1_048_576 + 22_041_600
    v32 = float(att.sequence_cache_bytes(arch("deepseek-v3.2"), 1_048_576, FP8))
    assert v32 == 61 * (576 + 132) * 1_048_576
    assert held / v32 == pytest.approx(0.128, abs=0.001)  # the card's "10% of KV cache"
    # Below the window only min(T, 128) raw entries are held.
    assert float(att.sequence_cache_bytes(pro, 100, FP8)) == 100 * (5_511.4375 + 61 * 584) + state


def test_deepseek_v4_pro_decode_reads_and_flops_at_64k():
    # Entries read per token at T = 65,536: every window 61 x 128 = 7,808; HCA all of
    # 65,536 x 31 / 128 = 15,872; CSA the top 1,024 of 65,536 / 4 = 16,384 in each of 30
    # layers = 30,720. 54,400 entries x 584 B = 31,769,600 B; the indexers score
    # 7.5 x 65,536 = 491,520 keys x 132 B = 64,880,640 B. Total 96,650,240 B, against
    # DeepSeek-V3's 61 x 65,536 x 576 = 2.30e9 B in FP8: 24x less.
    pro = arch("deepseek-v4-pro")
    assert float(att.compressed_entries_read(pro, T)) == 7_808 + 15_872 + 30_720 == 54_400
    assert float(att.index_keys_scanned(pro, T)) == 491_520
    read = float(att.decode_cache_read_bytes(pro, T, FP8))
    assert read == 54_400 * 584 + 491_520 * 132 == 96_650_240
    v3 = float(att.decode_cache_read_bytes(arch("deepseek-v3"), T, FP8))
    assert v3 / read == pytest.approx(23.8, abs=0.1)
    # FLOPs: 4 x 128 heads x 512 per entry + 2 x 64 x 128 per index key.
    flops = float(att.decode_attention_flops(pro, T))
    assert flops == 4 * 128 * 512 * 54_400 + 2 * 64 * 128 * 491_520 == 22_313_697_280


def test_deepseek_v4_prefill_pairs_match_a_sum_over_queries():
    # Query q (1..P) attends min(q, 128) raw entries in every layer, q / 128 HCA entries,
    # min(q / 4, 1,024) CSA entries, and its indexers score q / 4 keys in each CSA layer.
    pro, P = arch("deepseek-v4-pro"), 8_192
    q = np.arange(1, P + 1, dtype=float)
    entries = 61 * np.minimum(q, 128) + 31 * q / 128 + 30 * np.minimum(q / 4, 1_024)
    keys = 30 * q / 4
    by_sum = 4 * 128 * 512 * entries.sum() + 2 * 64 * 128 * keys.sum()
    assert float(att.prefill_attention_flops(pro, P)) == pytest.approx(by_sum, rel=2e-3)


def test_deepseek_v4_1_kv_source_layers_store_2_5_entries_per_token():
    # compress_ratios: 0, 0, 2 x 18 (layers 2-19), 1 x 20 (20-39); compressed entries and
    # index keys live only on kv_source_layer_ids 2, 8, 14 (ratio 2) and 20 (ratio 1):
    # 3 / 2 + 1 = 2.5 a token; (584 + 132) x 2.5 = 1,790 B (models-2026.md §1.3).
    a = arch("deepseek-v4.1-flash")
    assert a["compressed_entries_per_token"] == a["index_keys_per_token"] == 2.5
    assert float(att.kv_growth_bytes_per_token(a, FP8)) == 2.5 * (584 + 132) == 1_790
    # Every compressed layer (38) reads its top 512 of T / 2 or T entries through its
    # source: 38 x 512 at 64k, + 40 windows x 128 = 24,576 entries. Indexers on layers
    # 2, 8, 14 (T / 2 keys) and 20 (T keys); the 4 after candidate layer 20 score its
    # 2,048 x 8 = 16,384 candidates: 2.5 x 65,536 + 4 x 16,384 = 229,376 keys.
    assert (a["compressed_sparse_layers"], a["compressed_sparse_per_token"]) == (38, 29)
    assert (a["index_layers"], a["index_capped_layers"], a["index_candidates"]) == (8, 4, 16_384)
    assert float(att.compressed_entries_read(a, T)) == 40 * 128 + 38 * 512
    assert float(att.index_keys_scanned(a, T)) == 229_376
    read = float(att.decode_cache_read_bytes(a, T, FP8))
    assert read == 24_576 * 584 + 229_376 * 132 == 44_630_016
    # Below the candidate cap the capped indexers score all T keys: 2.5 x 8,192 + 4 x 8,192.
    assert float(att.index_keys_scanned(a, 8_192)) == 6.5 * 8_192


def test_deepseek_v4_1_engram_tables_are_stored_not_read():
    # engram_num_embeddings 384,006,168 + 384,016,682 rows x engram_head_dim 256
    # = 196,613,849,600 parameters, in FP8 with the non-expert weights: 196.6 GB stored.
    a = arch("deepseek-v4.1-flash")
    assert a["lookup_params"] == (384_006_168 + 384_016_682) * 256
    assert (a["total_params"] - a["lookup_params"]) / 1e9 == pytest.approx(552, rel=0.01)
    s = Scenario(model="deepseek-v4.1-flash", weight_format=None, gpu="b200", n_gpus=8)
    rows = sweep(s, batch_size=[1])
    expected_min = (a["lookup_params"] + a["expert_params"] * 0.53125) / 1e9
    assert rows["weights_gb"].iloc[0] > expected_min
    # Not read: the step reads no more than attention, shared experts, the touched experts
    # and the 16-bit parts; far below the 196.6 GB of tables.
    assert rows["weight_bytes_read_per_step_gb"].iloc[0] < 30


def test_deepseek_v4_parameters_by_hand():
    # Attention layer (transformers DeepseekV4Attention): q_a 7168 x 1536 + q_b 1536 x
    # 128 x 512 + kv 7168 x 512 + o_a 128 x 512 x 1024 + o_b 16 x 1024 x 7168.
    pro = arch("deepseek-v4-pro")
    per_layer = 7168 * 1536 + 1536 * 128 * 512 + 7168 * 512 + 128 * 512 * 1024 + 16 * 1024 * 7168
    assert float(compressed_layer_params(pro)) == per_layer == 299_892_736
    # Compressors: (30 CSA x 2 series + 31 HCA x 1) x 2 x 7168 x 512 (kv and gate).
    assert float(compressor_params(pro)) == 91 * 2 * 7168 * 512
    # CSA indexer: q 1536 x 64 x 128 + its compressor 4 x 7168 x 128 + weights 7168 x 64.
    assert float(indexer_params(pro)) == 1536 * 64 * 128 + 4 * 7168 * 128 + 7168 * 64
    # Routed experts: 61 x 384 x 3 x 7168 x 3072 = 1,547,643,715,584.
    assert pro["expert_params"] == 61 * 384 * 3 * 7168 * 3072


# --- sparse MLA: GLM-5 and GLM-5.2's IndexShare --------------------------------------


def test_glm5_kv_per_token_and_indexshare():
    # GLM-5 in BF16: 78 x (512 + 64) x 2 + 78 x 132 = 89,856 + 10,296 = 100,152 B
    # (models-2026.md §4.1). GLM-5.2 stores index keys on its 21 "full" layers only:
    # 89,856 + 21 x 132 = 92,628 B.
    g5, g52 = arch("glm-5"), arch("glm-5.2")
    assert float(att.kv_growth_bytes_per_token(g5, BF16)) == 100_152
    assert g52["index_layers"] == 21  # layers 0, 1, 2, then every 4th from 6 to 74
    assert float(att.kv_growth_bytes_per_token(g52, BF16)) == 89_856 + 21 * 132
    # A decode step at 64k: both read the top 2,048 latents in 78 layers (78 x 2,048 x
    # 1,152 = 184,025,088 B); GLM-5's indexers score 78 x 65,536 keys x 132 B
    # (674,758,656 B), GLM-5.2's 21 x 65,536 x 132 (181,665,792 B): 2.35x less read.
    latents = 78 * 2_048 * 1_152
    assert float(att.decode_cache_read_bytes(g5, T, BF16)) == latents + 78 * T * 132
    assert float(att.decode_cache_read_bytes(g52, T, BF16)) == latents + 21 * T * 132
    # FLOPs: absorbed MLA 2 x 64 x (2 x 512 + 64) per latent + 2 x 32 x 128 per key.
    expected = 78 * 2 * 64 * 1_088 * 2_048 + 21 * 2 * 32 * 128 * T
    assert float(att.decode_attention_flops(g52, T)) == expected
    # The shared layers build no indexer: 57 fewer indexers' weights.
    one = 2048 * 32 * 128 + 6144 * 128 + 6144 * 32
    assert g5["attention_params"] - g52["attention_params"] == 57 * one


# --- MLA + linear: Kimi K2.5 and K3 ----------------------------------------------------


def test_kimi_k25_is_k2s_mla_with_int4_experts():
    # 61 x (512 + 64) x 2 = 70,272 B/token in BF16; routed experts INT4, group 32, one
    # BF16 scale each: 4 + 16 / 32 = 4.5 bits (format int4_g32); attention BF16.
    a = arch("kimi-k2.5")
    assert float(att.kv_bytes_per_token(a, BF16)) == 70_272
    assert (a["checkpoint_weight_format"], a["checkpoint_attention_format"]) == (
        "int4_g32",
        "bf16",
    )
    bpw = CATALOG.arrays["format.bytes_per_weight"][CATALOG.formats.index.get_loc("int4_g32")]
    assert bpw == 4.5 / 8
    # A decode step at 64k reads every latent: 61 x 65,536 x 1,152 B; absorbed-MLA FLOPs
    # 61 x 2 x 64 heads x (2 x 512 + 64) x 65,536.
    assert float(att.decode_cache_read_bytes(a, T, BF16)) == 61 * T * 1_152
    assert float(att.decode_attention_flops(a, T)) == 61 * 2 * 64 * 1_088 * T
    for model in ("kimi-k2.6", "kimi-k2.7-code"):  # NVIDIA's NVFP4 configs
        assert MODELS.loc[model, "checkpoint_weight_format"] == "nvfp4"
        assert MODELS.loc[model, "total_params"] == a["total_params"]


def test_kimi_k3_fixed_kda_state_and_mla_cache():
    # 69 KDA layers x (96 x 128 x 128 x 4 B + 3 x (2 x 96 x 128 + 96 x 128) x 2 B)
    # = 69 x (6,291,456 + 221,184) = 449,372,160 B per sequence, whatever its length
    # (models-2026.md §2.3: "449 MB"); 24 MLA layers x 576 x 2 = 27,648 B per token.
    a = arch("kimi-k3")
    assert (a["linear_layers"], a["mla_layers"]) == (69, 24)
    assert float(att.linear_state_bytes(a)) == 449_372_160
    assert float(att.kv_growth_bytes_per_token(a, BF16)) == 27_648
    assert float(att.fixed_sequence_bytes(a, BF16)) == 449_372_160
    # Decode at 64k: 24 x 65,536 x 1,152 + 2 x 449,372,160 (state read and written back).
    read = float(att.decode_cache_read_bytes(a, T, BF16))
    assert read == 24 * T * 1_152 + 2 * 449_372_160
    flops = 24 * 2 * 96 * 1_088 * T + 69 * 6 * 96 * 128 * 128
    assert float(att.decode_attention_flops(a, T)) == flops
    # LatentMoE: 92 MoE layers x 896 experts x 3 x 3,584 x 3,072.
    assert a["expert_params"] == 92 * 896 * 3 * 3_584 * 3_072
    assert a["total_params"] / 1e12 == pytest.approx(2.8, rel=0.01)  # HF listing: 2.8T


# --- block-sparse GQA: MiniMax-M3 ------------------------------------------------------


def test_minimax_m3_block_sparse_reads():
    # Cache: 60 layers x 2 x 4 KV heads x 128 x 2 B = 122,880 B + one 128-value BF16
    # index key in each of the 57 sparse layers (57 x 256 = 14,592 B) = 137,472 B/token.
    a = arch("minimax-m3")
    assert (a["gqa_layers"], a["sparse_gqa_layers"], a["index_topk"]) == (60, 57, 17 * 128)
    assert float(att.kv_growth_bytes_per_token(a, BF16)) == 122_880 + 14_592
    # A step at 64k: 3 dense layers read 65,536 tokens, 57 sparse layers the top 16 blocks
    # + 1 local block of 128 = 2,176: (196,608 + 124,032) x 2,048 B; the indexers read
    # 57 x 65,536 keys x 256 B.
    read = float(att.decode_cache_read_bytes(a, T, BF16))
    assert read == (3 * T + 57 * 2_176) * 2_048 + 57 * T * 256 == 1_612_972_032
    flops = 4 * 64 * 128 * (3 * T + 57 * 2_176) + 2 * 4 * 128 * 57 * T
    assert float(att.decode_attention_flops(a, T)) == flops
    # Full attention everywhere would read 60 x 65,536 x 2,048 = 8.05e9 B: 5x more.
    assert 60 * T * 2_048 / read == pytest.approx(4.99, abs=0.01)


def test_minimax_m2_7_full_gqa_by_hand():
    # 62 layers x 2 x 8 KV heads x 128 x 2 B = 253,952 B/token (models-2026.md §3.2: 248
    # KB); a step at 64k reads all of it, 62 x 4 x 48 heads x 128 FLOPs per token.
    a = arch("minimax-m2.7")
    assert float(att.kv_growth_bytes_per_token(a, BF16)) == 62 * 2 * 8 * 128 * 2 == 253_952
    assert float(att.decode_cache_read_bytes(a, T, BF16)) == 253_952 * T
    assert float(att.decode_attention_flops(a, T)) == 62 * 4 * 48 * 128 * T


def test_minimax_m3_curated_config_matches_nvidias_primary_copy():
    # aiconfigurator's text-only config (the catalog's) sizes the model as the text_config
    # of NVIDIA's MiniMax-M3-NVFP4 config.json (3 MB, stored gzipped) does.
    nvidia = read_hf_config(
        gzip.decompress((DATA / "nvidia--MiniMax-M3-NVFP4.json.gz").read_bytes())
    )
    theirs = describe_hf_config(nvidia)
    ours = arch("minimax-m3")
    skip = ("checkpoint_weight_format", "checkpoint_attention_format", "mtp_layers")
    for key, value in theirs.items():
        if key not in skip:
            assert ours[key] == value, key
    # NVIDIA's: experts NVFP4, attention MXFP8 (counted as fp8).
    assert (theirs["checkpoint_weight_format"], theirs["checkpoint_attention_format"]) == (
        "nvfp4",
        "fp8",
    )


# --- Gated DeltaNet: Qwen3.6 -----------------------------------------------------------


def test_qwen3_6_kv_per_token_and_state():
    # 27B: 16 full layers x 2 x 4 x 256 x 2 B = 65,536 B/token; 48 GDN layers x (48 x 128
    # x 128 x 4 + 3 x (2 x 16 x 128 + 48 x 128) x 2) = 48 x 3,207,168 = 153,944,064 B.
    a = arch("qwen3.6-27b")
    assert (a["gqa_layers"], a["linear_layers"], a["n_experts"]) == (16, 48, 1)
    assert float(att.kv_growth_bytes_per_token(a, BF16)) == 65_536
    assert float(att.linear_state_bytes(a)) == 153_944_064
    # 35B-A3B: 10 x 2 x 2 x 256 x 2 = 20,480 B/token; 30 x (32 x 128 x 128 x 4 + 3 x
    # (4,096 + 4,096) x 2) = 30 x 2,146,304 = 64,389,120 B.
    b = arch("qwen3.6-35b-a3b")
    assert float(att.kv_growth_bytes_per_token(b, BF16)) == 20_480
    assert float(att.linear_state_bytes(b)) == 64_389_120
    read = float(att.decode_cache_read_bytes(b, T, BF16))
    assert read == 10 * T * 2_048 + 2 * 64_389_120
    # NVIDIA's mixed precision: MLP NVFP4 with 16-bit activations, attention FP8.
    assert (a["checkpoint_weight_format"], a["checkpoint_attention_format"]) == (
        "nvfp4_w4a16",
        "fp8",
    )


# --- parameters against the cards --------------------------------------------------------

#: (total B, active B, card convention) from each model card (models-2026.md). "input":
#: the card's active count leaves out the input embedding (a lookup), as gpt-oss's does;
#: "embeddings": MiniMax leaves out the input embedding and the lm_head; None: the size is
#: a name (Qwen3.6's "27B", "35B-A3B"), only the total is checked.
CARDS = {
    "deepseek-v4-pro": (1600, 49, "input"),
    "deepseek-v4-flash": (284, 13, "input"),
    "glm-5": (744, 40, "input"),
    "kimi-k2.5": (1000, 32, "input"),
    "minimax-m3": (428, 23, "embeddings"),
    "minimax-m2.7": (230, 10, "embeddings"),
    "qwen3.6-27b": (27, 27, None),
    "qwen3.6-35b-a3b": (35, 3, None),
}


@pytest.mark.parametrize("model", sorted(CARDS))
def test_total_and_active_params_within_4_percent_of_the_cards(model):
    total, active, convention = CARDS[model]
    row = MODELS.loc[model]
    counted = row["active_params"] - row["embedding_params"]
    if convention == "embeddings":
        counted -= row["lm_head_params"]
    assert row["total_params"] / 1e9 == pytest.approx(total, rel=0.04)
    if convention is not None:
        assert counted / 1e9 == pytest.approx(active, rel=0.04)


# --- every today's config through the upload path --------------------------------------


@pytest.mark.parametrize("model", TODAY)
def test_catalog_config_parses_through_the_upload_path(model):
    raw = Path(__file__).resolve().parent.parent / "assets" / "models" / f"{model}.json"
    catalog = CATALOG.with_model("custom:x", read_hf_config(raw.read_bytes()))
    new = catalog.models.loc["custom:x"]
    assert new["total_params"] == MODELS.loc[model, "total_params"]
    assert defaults_used(read_hf_config(raw.read_bytes())) is not None


@pytest.mark.parametrize(
    "name",
    [
        "nvidia--DeepSeek-V4-Pro-NVFP4",
        "nvidia--DeepSeek-V4-Flash-NVFP4",
        "nvidia--GLM-5.2-NVFP4",
        "nvidia--Kimi-K2.6-NVFP4",
        "nvidia--Kimi-K2.7-Code-NVFP4",
        "nvidia--Qwen3.6-27B-NVFP4",
        "nvidia--Qwen3.6-35B-A3B-NVFP4",
    ],
)
def test_nvidia_hf_quant_config_agrees_with_its_config(name):
    # The *.hf_quant_config.json beside NVIDIA's config.json holds the same quantisation:
    # read through the same limits, it gives the experts the config's format.
    quant = read_quant_config((DATA / f"{name}.hf_quant_config.json").read_bytes())
    config_path = DATA / f"{name}.json"
    if not config_path.exists():
        model = {"nvidia--Kimi-K2.6-NVFP4": "kimi-k2.6"}.get(name, "kimi-k2.7-code")
        if "Qwen3.6-27B" in name:
            model = "qwen3.6-27b"
        elif "Qwen3.6-35B" in name:
            model = "qwen3.6-35b-a3b"
        config_path = Path(__file__).resolve().parent.parent / "assets/models" / f"{model}.json"
    config = read_hf_config(config_path.read_bytes())
    experts, _ = checkpoint_formats(config)
    assert checkpoint_formats({"quantization_config": quant})[0] == experts
    # Attached to a config without one, it gives that config the same formats.
    bare = {k: v for k, v in config.items() if k != "quantization_config"}
    if isinstance(bare.get("text_config"), dict):
        bare["text_config"] = {
            k: v for k, v in bare["text_config"].items() if k != "quantization_config"
        }
    assert checkpoint_formats({**bare, "quantization_config": quant})[0] == experts


# --- the models evaluate ---------------------------------------------------------------------


@pytest.mark.parametrize("model", TODAY)
def test_todays_models_evaluate_where_they_fit(model):
    # On H200 and B200 in the checkpoints' formats at the fewest GPUs that hold them at
    # batch 8 and 8,192 + 1,024 tokens: the row fits and every time and cost is finite.
    base = Scenario(
        model=model, weight_format=None, batch_size=8, prompt_tokens=8_192, output_tokens=1_024
    )
    evaluates_where_it_fits(base, ["h200-sxm", "b200"])


def test_long_context_favours_compressed_attention():
    # At 131,072 tokens on 8 B200 in FP8 cache, a DeepSeek-V4-Flash step reads far less
    # cache than a GLM-5 step (3,850 vs 55,224 B/token grow; top-512 vs top-2,048 reads).
    base = Scenario(
        gpu="b200",
        n_gpus=8,
        weight_format=None,
        kv_format="fp8",
        batch_size=16,
        prompt_tokens=130_048,
        output_tokens=1_024,
    )
    rows = sweep(base, model=["deepseek-v4-flash", "glm-5"]).set_index("model")
    kv = rows["kv_bytes_read_per_step_gb"]
    assert kv["deepseek-v4-flash"] < kv["glm-5"] / 5
    assert rows.loc["deepseek-v4-flash", "kv_cache_gb"] < rows.loc["glm-5", "kv_cache_gb"] / 5


def _reference_configs():
    from test_architectures import REFERENCE_CARDS, _copy_bytes

    return {name: _copy_bytes(path) for name, (path, _) in REFERENCE_CARDS.items()}


@pytest.mark.parametrize("name", sorted(_reference_configs()))
def test_every_reference_config_travels_in_a_short_link(name):
    # The link carries the config with its quantisation lists cut to what decides the
    # formats (hf_config.compact): the same model, in under 2,700 characters (NVIDIA's
    # 3 MB MiniMax-M3 config: 82,746 characters whole, 1,695 compacted).
    config = read_hf_config(_reference_configs()[name])
    made = models.from_config(config, CATALOG)
    assert len(made.url) < 2_700
    assert describe_hf_config(models.decode(made.url)) == describe_hf_config(config)
    assert describe_hf_config(compact(config)) == describe_hf_config(config)


def test_the_memory_page_states_each_kinds_kv_per_token():
    # The quantization page's "KV cache per token" is what grows with context: DeepSeek-V3
    # 61 x 576 x 2 = 70,272 B (not 61 x 2 x 128 x 192 x 2 of a GQA reading of its heads),
    # gpt-oss-120b its 18 full layers x 2,048 = 36,864 B, V4-Pro in FP8 5,511.4375 B.
    from costmodel.analyses import memory_fit

    def stated(model, kv_format="bf16"):
        scenario = Scenario(model=model, kv_format=kv_format)
        return memory_fit.run(scenario, memory_fit.Options()).kv_bytes_per_token

    assert stated("deepseek-v3") == 70_272
    assert stated("gpt-oss-120b") == 18 * 2_048
    assert stated("deepseek-v4-pro", "fp8") == 5_511.4375


def test_dense_equivalents_of_deepseek_v4_keep_its_compressed_attention():
    # The MoE page's dense equivalents keep the attention: 7.7421875 compressed entries
    # per token (a fraction, not truncated to 7), the same 5,511.4375 B/token in FP8.
    from costmodel import comparisons

    catalog = comparisons.dense_equivalents(CATALOG, "deepseek-v4-pro")
    for model in comparisons.dense_model_ids("deepseek-v4-pro").values():
        dense = catalog.models.loc[model].to_dict()
        assert dense["compressed_entries_per_token"] == 7.7421875
        assert float(att.kv_growth_bytes_per_token(dense, FP8)) == 5_511.4375
        assert dense["n_experts"] == 1
