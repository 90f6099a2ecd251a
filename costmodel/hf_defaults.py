"""What transformers assumes for a key a ``config.json`` leaves out, per ``model_type``.

A Hugging Face config is read into the model's configuration class, whose fields have
defaults: a Qwen3 config without ``head_dim`` is a model of 128-wide heads
(``Qwen3Config.head_dim = 128``), not ``hidden_size / num_attention_heads``. The reader
(``hf_config``) takes these defaults for the architecture keys it reads and names each
one it used (``hf_config.defaults_used``).

Values are the dataclass defaults of transformers **5.25.0**
(``transformers/models/<type>/configuration_<type>.py``; for nested configs the text
model's class: ``Llama4TextConfig``, ``Qwen3_5TextConfig``, ``Qwen3_5MoeTextConfig``,
``MiniMaxM3VLTextConfig``, ``KimiLinearConfig``, and ``DeepseekV3Config`` for Kimi K2 /
K2.5, which ``Kimi_K25Config`` maps to ``deepseek_v3``), and the defaults their
``__post_init__`` applies (``full_attention_interval`` 4, ``index_topk_freq`` 1). Two
defaults are rules rather than numbers: ``HEADS`` (``num_key_value_heads`` as many as
``num_attention_heads``) and ``HIDDEN_PER_HEAD`` (``head_dim = hidden_size //
num_attention_heads``, also what Qwen2/Qwen3-MoE/GLM-4.5/Mixtral modelling code falls
back to when the class has no ``head_dim``). Model types transformers 5.25 does not
define (``deepseek_v41``) have no defaults: every key they need is required.
"""

from __future__ import annotations

#: ``num_key_value_heads`` defaults to ``num_attention_heads`` (multi-head attention).
HEADS = "num_attention_heads"
#: ``head_dim`` defaults to ``hidden_size // num_attention_heads``.
HIDDEN_PER_HEAD = "hidden_size // num_attention_heads"

#: The transformers version the defaults were read from.
TRANSFORMERS_VERSION = "5.25.0"

_QWEN2 = {
    "vocab_size": 151_936,
    "hidden_size": 4_096,
    "intermediate_size": 22_016,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 32,
    "head_dim": HIDDEN_PER_HEAD,
    "max_position_embeddings": 32_768,
    "tie_word_embeddings": False,
    "use_sliding_window": False,
    "sliding_window": 4_096,
    "max_window_layers": 28,
}
_MISTRAL = {
    "vocab_size": 32_000,
    "hidden_size": 4_096,
    "intermediate_size": 14_336,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "head_dim": HIDDEN_PER_HEAD,
    "max_position_embeddings": 131_072,
    "tie_word_embeddings": False,
}
_DEEPSEEK_V3 = {
    "vocab_size": 129_280,
    "hidden_size": 7_168,
    "intermediate_size": 18_432,
    "moe_intermediate_size": 2_048,
    "num_hidden_layers": 61,
    "num_attention_heads": 128,
    "num_key_value_heads": 128,
    "n_shared_experts": 1,
    "n_routed_experts": 256,
    "kv_lora_rank": 512,
    "q_lora_rank": 1_536,
    "qk_rope_head_dim": 64,
    "v_head_dim": 128,
    "qk_nope_head_dim": 128,
    "num_experts_per_tok": 8,
    "first_k_dense_replace": 3,
    "max_position_embeddings": 4_096,
    "tie_word_embeddings": False,
}
_QWEN3_5_LINEAR = {
    "vocab_size": 248_320,
    "max_position_embeddings": 32_768,
    "tie_word_embeddings": False,
    "head_dim": 256,
    "linear_conv_kernel_dim": 4,
    "linear_key_head_dim": 128,
    "linear_value_head_dim": 128,
    "linear_num_key_heads": 16,
    "linear_num_value_heads": 32,
    "full_attention_interval": 4,
}
_MINIMAX_M3 = {
    "vocab_size": 200_064,
    "hidden_size": 6_144,
    "intermediate_size": 3_072,
    "num_hidden_layers": 60,
    "num_attention_heads": 64,
    "num_key_value_heads": 4,
    "head_dim": 128,
    "max_position_embeddings": 524_288,
    "tie_word_embeddings": False,
    "num_experts_per_tok": 4,
    "num_local_experts": 128,
    "dense_intermediate_size": 12_288,
    "shared_intermediate_size": 3_072,
    "index_n_heads": 4,
    "index_head_dim": 128,
    "index_block_size": 128,
    "index_topk_blocks": 16,
    "index_local_blocks": 1,
}

#: model_type -> {key: default}. Keys the reader does not read are left out.
DEFAULTS: dict[str, dict[str, object]] = {
    "llama": {
        "vocab_size": 32_000,
        "hidden_size": 4_096,
        "intermediate_size": 11_008,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": HEADS,
        "head_dim": HIDDEN_PER_HEAD,
        "max_position_embeddings": 2_048,
        "tie_word_embeddings": False,
    },
    "mistral": {**_MISTRAL, "sliding_window": 4_096},
    "mixtral": {**_MISTRAL, "num_experts_per_tok": 2, "num_local_experts": 8},
    "qwen2": _QWEN2,
    "qwen3": {**_QWEN2, "head_dim": 128},
    "qwen2_moe": {
        **_QWEN2,
        "hidden_size": 2_048,
        "intermediate_size": 5_632,
        "num_hidden_layers": 24,
        "num_attention_heads": 16,
        "num_key_value_heads": 16,
        "decoder_sparse_step": 1,
        "moe_intermediate_size": 1_408,
        "shared_expert_intermediate_size": 5_632,
        "num_experts_per_tok": 4,
        "num_experts": 60,
    },
    "qwen3_moe": {
        **_QWEN2,
        "hidden_size": 2_048,
        "intermediate_size": 6_144,
        "num_hidden_layers": 24,
        "num_attention_heads": 32,
        "num_key_value_heads": 4,
        "decoder_sparse_step": 1,
        "moe_intermediate_size": 768,
        "num_experts_per_tok": 8,
        "num_experts": 128,
    },
    "dbrx": {
        "hidden_size": 2_048,  # d_model
        "num_hidden_layers": 24,  # n_layers
        "num_attention_heads": 16,  # n_heads
        "num_key_value_heads": 1,  # attn_config.kv_n_heads
        "intermediate_size": 3_584,  # ffn_config.ffn_hidden_size
        "num_local_experts": 4,  # ffn_config.moe_num_experts
        "num_experts_per_tok": 1,  # ffn_config.moe_top_k
        "vocab_size": 32_000,
        "max_position_embeddings": 2_048,  # max_seq_len
        "tie_word_embeddings": False,
    },
    "glm4_moe": {
        "vocab_size": 151_552,
        "hidden_size": 4_096,
        "intermediate_size": 10_944,
        "num_hidden_layers": 46,
        "num_attention_heads": 96,
        "num_key_value_heads": 8,
        "head_dim": HIDDEN_PER_HEAD,
        "max_position_embeddings": 131_072,
        "tie_word_embeddings": False,
        "moe_intermediate_size": 1_408,
        "num_experts_per_tok": 8,
        "n_shared_experts": 1,
        "n_routed_experts": 128,
        "first_k_dense_replace": 1,
    },
    "minimax_m2": {
        "vocab_size": 200_064,
        "hidden_size": 3_072,
        "intermediate_size": 1_536,
        "num_hidden_layers": 62,
        "num_attention_heads": 48,
        "num_key_value_heads": 8,
        "head_dim": 128,
        "max_position_embeddings": 196_608,
        "tie_word_embeddings": False,
        "num_experts_per_tok": 8,
        "num_local_experts": 256,
    },
    "gpt_oss": {
        "num_hidden_layers": 36,
        "num_local_experts": 128,
        "vocab_size": 201_088,
        "hidden_size": 2_880,
        "intermediate_size": 2_880,
        "head_dim": 64,
        "num_attention_heads": 64,
        "num_key_value_heads": 8,
        "sliding_window": 128,
        "tie_word_embeddings": False,
        "max_position_embeddings": 131_072,
        "num_experts_per_tok": 4,
    },
    "llama4": {
        "vocab_size": 202_048,
        "hidden_size": 5_120,
        "intermediate_size": 8_192,
        "intermediate_size_mlp": 16_384,
        "num_hidden_layers": 48,
        "num_attention_heads": 40,
        "num_key_value_heads": 8,
        "head_dim": 128,
        "max_position_embeddings": 131_072,
        "tie_word_embeddings": False,
        "num_experts_per_tok": 1,
        "num_local_experts": 16,
        "interleave_moe_layer_step": 1,
        "attention_chunk_size": 8_192,
    },
    "deepseek_v2": {
        "vocab_size": 102_400,
        "hidden_size": 4_096,
        "intermediate_size": 11_008,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": HEADS,
        "max_position_embeddings": 2_048,
        "tie_word_embeddings": False,
        "first_k_dense_replace": 0,
        "kv_lora_rank": 512,
        "q_lora_rank": 1_536,
        "n_routed_experts": 64,
        "n_shared_experts": 2,
        "qk_nope_head_dim": 128,
        "qk_rope_head_dim": 64,
        "v_head_dim": 128,
        "moe_intermediate_size": 1_407,
    },
    "deepseek_v3": _DEEPSEEK_V3,
    "kimi_k2": _DEEPSEEK_V3,
    "kimi_k25": _DEEPSEEK_V3,
    "deepseek_v32": {
        **_DEEPSEEK_V3,
        "max_position_embeddings": 163_840,
        "index_topk": 2_048,
        "index_head_dim": 128,
        "index_n_heads": 64,
    },
    "glm_moe_dsa": {
        **_DEEPSEEK_V3,
        "vocab_size": 154_880,
        "hidden_size": 6_144,
        "intermediate_size": 12_288,
        "num_hidden_layers": 78,
        "num_attention_heads": 64,
        "num_key_value_heads": 64,
        "q_lora_rank": 2_048,
        "v_head_dim": 256,
        "qk_nope_head_dim": 192,
        "max_position_embeddings": 202_752,
        "index_topk": 2_048,
        "index_head_dim": 128,
        "index_n_heads": 32,
        "index_topk_freq": 1,
        "index_skip_topk_offset": 2,
    },
    "deepseek_v4": {
        "vocab_size": 129_280,
        "hidden_size": 4_096,
        "moe_intermediate_size": 2_048,
        "num_hidden_layers": 43,
        "num_attention_heads": 64,
        "num_key_value_heads": 1,
        "head_dim": 512,
        "qk_rope_head_dim": 64,  # head_dim x default_partial_rotary_factor 64 / 512
        "q_lora_rank": 1_024,
        "num_experts_per_tok": 6,
        "n_routed_experts": 256,
        "n_shared_experts": 1,
        "max_position_embeddings": 1_048_576,
        "sliding_window": 128,
        "o_groups": 8,
        "o_lora_rank": 1_024,
        "index_n_heads": 64,
        "index_head_dim": 128,
        "index_topk": 512,
        "num_nextn_predict_layers": 1,
        "tie_word_embeddings": False,
    },
    "qwen3_next": {
        **_QWEN3_5_LINEAR,
        "vocab_size": 151_936,
        "hidden_size": 2_048,
        "intermediate_size": 5_632,
        "num_hidden_layers": 48,
        "num_attention_heads": 16,
        "num_key_value_heads": 2,
        "decoder_sparse_step": 1,
        "moe_intermediate_size": 512,
        "shared_expert_intermediate_size": 512,
        "num_experts_per_tok": 10,
        "num_experts": 512,
    },
    "qwen3_5_moe": {
        **_QWEN3_5_LINEAR,
        "hidden_size": 2_048,
        "num_hidden_layers": 40,
        "num_attention_heads": 16,
        "num_key_value_heads": 2,
        "moe_intermediate_size": 512,
        "shared_expert_intermediate_size": 512,
        "num_experts_per_tok": 8,
        "num_experts": 256,
    },
    "qwen3_5": {
        **_QWEN3_5_LINEAR,
        "hidden_size": 4_096,
        "intermediate_size": 12_288,
        "num_hidden_layers": 32,
        "num_attention_heads": 16,
        "num_key_value_heads": 4,
    },
    "kimi_k3": {  # KimiLinearConfig (the text model of Kimi K3)
        "vocab_size": 163_840,
        "hidden_size": 2_304,
        "intermediate_size": 9_216,
        "moe_intermediate_size": 1_024,
        "num_hidden_layers": 27,
        "num_attention_heads": 32,
        "num_key_value_heads": HEADS,
        "num_shared_experts": 1,
        "kv_lora_rank": 512,
        "qk_rope_head_dim": 64,
        "v_head_dim": 128,
        "qk_nope_head_dim": 128,
        "num_experts_per_token": 8,
        "num_experts": 256,
        "first_k_dense_replace": 1,  # __post_init__'s kwargs default
        "max_position_embeddings": 1_048_576,
        "tie_word_embeddings": False,
        "linear_head_dim": 128,
        "linear_num_heads": 32,
        "linear_conv_kernel_dim": 4,
    },
    "minimax_m3": _MINIMAX_M3,
    "minimax_m3_vl": _MINIMAX_M3,
}
