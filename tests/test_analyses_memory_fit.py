"""costmodel.analyses.memory_fit: the C13 solver, the heatmap and the edge cases of issue 9."""

import numpy as np
import pytest

import costmodel
from costmodel.analyses import memory_fit as mf

RESULT = mf.run()


def test_c13_boundary_by_hand():
    # FP8 weights: 46.439e9 x 1 B + 0.263e9 x 2 B = 46.97 GB; one H100 offers
    # 80 x 0.9 - 2 = 70 GB; room 23.03 GB; KV per token 2 x 32 x 8 x 128 x 2 = 131,072 B.
    # 40 users: floor(23.034e9 / (40 x 131,072)) = floor(4393.3) = 4,393 tokens.
    c13 = RESULT.c13.set_index("case")["longest_context_tokens"]
    assert c13["1x H100, FP8, bf16 KV, 40 users"] == 4393
    # An FP8 KV cache halves the bytes per token: floor(8786.7) = 8,786.
    assert c13["1x H100, FP8, fp8 KV, 40 users"] == 8786
    # 50 users: floor(23.034e9 / (50 x 131,072)) = 3,514.
    assert c13["1x H100, FP8, bf16 KV, 50 users"] == 3514
    assert "4,393 tokens" in RESULT.c13_text
    assert RESULT.kv_bytes_per_token == 131072


def test_longest_context_is_the_boundary_of_the_model():
    base = costmodel.Scenario(**mf.C13_SETUP)
    for users, longest in ((40, 4393), (7, None)):
        found = int(mf.longest_context(base, users)[0])
        if longest:
            assert found == longest
        fits = [
            costmodel.evaluate(base.replace(prompt_tokens=c - 1, output_tokens=1, batch_size=1))
            for c in (found, found + 1)
        ]
        assert fits[0]["max_batch_size"] >= users > fits[1]["max_batch_size"]
    assert mf.longest_context(base, 4096)[0] == 42  # still room for 4096 two-token users
    assert (
        mf.longest_context(base.replace(weight_format="bf16"), 1)[0] == 0
    )  # weights alone overflow


def test_c13_status_at_the_seed_context():
    # At 512 + 256 tokens one H100 (FP8) holds floor(23.034e9 / (768 x 131,072)) = 228 users.
    assert RESULT.c13_max_users_at_context == 228
    assert RESULT.c13_status == "does not hold"
    long = mf.run(costmodel.Scenario(prompt_tokens=7936, output_tokens=256))
    # 8,192 tokens: one H100 holds floor(23.034e9 / (8192 x 131,072)) = 21 < 40; two hold
    # floor((144 - 4 - 46.97) e9 / (8192 x 131,072)) = 86 >= 40: C13 holds.
    assert long.c13_max_users_at_context == 21 and long.c13_status == "holds"


def test_min_gpus_and_c14():
    assert RESULT.min_gpus.loc["bf16", "h100-sxm"] == 2
    assert RESULT.min_gpus.loc["bf16", "h200-sxm"] == 1
    assert RESULT.single_gpu == ("h200-sxm", "mi300x")
    assert RESULT.multi_gpu == ("a100-80gb-sxm", "h100-sxm")


def test_heatmap_by_hand():
    cols = list(RESULT.heatmap_table.columns)
    assert cols[0] == "512_tokens" and cols[-1] == "32768_tokens"
    # bf16 on 2x H100 at 512 tokens: floor((144 - 4 - 93.41) e9 / (512 x 131,072)) = 694.
    assert RESULT.heatmap_table.loc["bf16", "512_tokens"] == 694
    assert (np.diff(RESULT.heatmap_table.to_numpy(), axis=1) <= 0).all()  # longer: fewer users


def test_one_user_does_not_crash():
    one = mf.run(options=mf.Options(users=1))
    assert set(one.heatmap["verdict"]) <= {"does not fit", "≥ 1 users"}


def test_no_gpu_holds_it_even_on_64():
    # Mixtral's whole window, 32,512 + 256 tokens (longer requests are refused), for 4,096
    # users: 4,096 x 32,768 x 131,072 B = 17.6 TB of KV cache.
    huge = mf.run(costmodel.Scenario(prompt_tokens=32512), mf.Options(users=4096))
    assert huge.min_gpus.isna().all().all()
    assert huge.no_fit == mf.DEFAULT_GPUS and huge.single_gpu == ()
    assert "cannot hold it even on 64 GPUs" in huge.c14_text


def test_no_gpus_means_the_scenarios_gpu():
    assert mf.run(options=mf.Options(gpus=())).gpus == ("h100-sxm",)
    rows = mf.run(options=mf.Options(gpus=("mi300x",), heatmap_rows="GPU")).heatmap_table
    assert list(rows.index) == ["mi300x"]


def test_memory_parts_add_up():
    parts = RESULT.memory_parts.groupby("replica")["gb"].sum()
    memory = RESULT.memory.assign(
        replica=RESULT.memory["gpu"].astype(str)
        + " · "
        + RESULT.memory["weight_format"].astype(str)
    ).set_index("replica")
    np.testing.assert_allclose(parts, memory.loc[parts.index, "memory_required_gb"])


@pytest.mark.parametrize(
    "changes, name",
    [
        ({"users": 0}, "users"),
        ({"users": 2.5}, "users"),
        ({"context_tokens": 512}, "context_tokens"),
        ({"heatmap_rows": "row"}, "heatmap_rows"),
        ({"gpus": "h100-sxm"}, "gpus"),
    ],
)
def test_bad_options_name_the_option(changes, name):
    with pytest.raises(ValueError, match=name):
        mf.Options(**changes)


def test_unknown_gpu_is_named():
    with pytest.raises(ValueError, match="gpus must hold only"):
        mf.run(options=mf.Options(gpus=("tpu",)))


def test_longest_context_is_the_fit_boundary_one_at_a_time():
    # The vectorised search against one evaluate per row: ``users`` sequences of the
    # found context (prompt = context - 1, one output token) fit, one token more does not.
    catalog = costmodel.load_catalog()
    base = costmodel.Scenario(n_gpus=1, weight_format="fp8")
    gpus, users = ["h100-sxm", "h200-sxm", "a100-80gb-sxm"], [40, 40, 7]
    found = mf.longest_context(base, users, catalog, gpu=gpus)
    for gpu, n, context in zip(gpus, users, found, strict=True):
        assert 2 < context < 32768

        def holds(c, gpu=gpu):
            row = costmodel.evaluate(
                base.replace(gpu=gpu, prompt_tokens=int(c) - 1, output_tokens=1, batch_size=1),
                catalog,
            )
            return row["max_batch_size"]

        assert holds(context) >= n > holds(context + 1)


def test_a_repeated_gpu_is_named():
    with pytest.raises(ValueError, match="gpus must name each GPU once"):
        mf.run(options=mf.Options(gpus=("h100-sxm", "h100-sxm")))


def test_memory_outputs_are_the_scans_memory_columns():
    # The memory stage alone gives the scan's numbers bit for bit, on dense and
    # expert-parallel rows, several GPUs, counts, formats and batches.
    catalog = costmodel.load_catalog()
    base = costmodel.Scenario(model="deepseek-v3", gpu="b200", n_gpus=8)
    columns = {
        "gpu": ["b200", "h200-sxm", "h100-sxm", "b200"],
        "n_gpus": [8, 8, 16, 16],
        "expert_parallel": [False, True, True, True],
        "weight_format": ["fp8", "fp8", "bf16", "nvfp4"],
        "batch_size": [1, 64, 256, 1024],
    }
    memory = mf.memory_outputs(base, catalog, **columns)
    rows = costmodel.scan(base, catalog, **columns)
    for name in ("max_batch_size", "min_gpus", "weights_gb", "kv_cache_gb", "memory_required_gb"):
        assert np.array_equal(np.broadcast_to(memory[name], (4,)), rows[name], equal_nan=True)
    # NVFP4 (4.5 bits a weight with its scales) against bf16's 16 on the same 16 GPUs:
    # the quantized weights take under a third of the bytes.
    assert memory["weights_gb"][3] < memory["weights_gb"][2] / 3


def test_memory_outputs_checks_the_rows_as_scan_does():
    # 3 GPUs do not split DeepSeek-V3's 128 heads: the same error as the scan's.
    base = costmodel.Scenario(model="deepseek-v3", gpu="b200", n_gpus=8)
    with pytest.raises(ValueError, match="n_gpus"):
        mf.memory_outputs(base, costmodel.load_catalog(), n_gpus=[8, 3])
