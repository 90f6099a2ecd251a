"""Uploads of every supported model type, a byte-order mark and hostile files (issue 21).

Each architecture's own config.json (the catalog's copies in assets/models/, one per
``model_type``) uploads and is sized as its catalog model; a file that leaves keys out
takes its type's transformers defaults and the sidebar names each one; a file saved with
a UTF-8 byte-order mark reads as without; hostile files (deep nesting, huge numbers,
wrong types, many keys) get one clear message naming what is wrong, and the page still
draws with the catalog's models.
"""

from __future__ import annotations

import json

import pytest
from conftest import open_page

import costmodel
from app_pages.ui import models
from costmodel.catalog import ASSETS_DIR
from costmodel.hf_config import SUPPORTED_MODEL_TYPES, describe_hf_config
from costmodel.hf_defaults import DEFAULTS, TRANSFORMERS_VERSION

CATALOG = costmodel.load_catalog()
PAGE = "app_pages/quantization_fit.py"


def _by_type() -> dict[str, str]:
    """model_type -> the first catalog model (by id) whose config has it."""
    found: dict[str, str] = {}
    for path in sorted((ASSETS_DIR / "models").glob("*.json")):
        model_type = json.loads(path.read_text()).get("model_type")
        found.setdefault(model_type, path.stem)
    return found


BY_TYPE = _by_type()


def _upload(at, name: str, data: bytes):
    at.sidebar.file_uploader(key="hf_config").set_value((name, data, "application/json"))
    return at.run()


@pytest.mark.parametrize("model_type", sorted(BY_TYPE))
def test_each_architectures_config_uploads_as_its_catalog_model(model_type):
    model = BY_TYPE[model_type]
    data = (ASSETS_DIR / "models" / f"{model}.json").read_bytes()
    custom = models.from_upload(data, f"{model}.json", CATALOG)
    catalog = models.with_custom(CATALOG, custom)
    ours, theirs = catalog.models.loc[custom.model_id], CATALOG.models.loc[model]
    for key in ("n_layers", "n_heads", "n_kv_heads", "n_experts", "total_params"):
        assert ours[key] == theirs[key], (model_type, key)
    scenario = costmodel.adapt.adapted(costmodel.Scenario(), catalog, model=custom.model_id)
    assert costmodel.evaluate(scenario.scenario, catalog)["weights_gb"] > 0


def test_every_type_of_the_catalog_is_supported():
    assert set(BY_TYPE) - {None} <= set(SUPPORTED_MODEL_TYPES)


@pytest.mark.parametrize("model_type", sorted(DEFAULTS))
def test_a_bare_config_of_each_type_names_the_defaults_it_took(model_type):
    """{"model_type": t} (with DeepSeek-V2's required top-k) uploads; every key it leaves
    out is named with the transformers default it took."""
    cfg = {"model_type": model_type}
    if model_type == "deepseek_v2":  # DeepseekV2Config.num_experts_per_tok is None
        cfg["num_experts_per_tok"] = 6
    custom = models.from_upload(json.dumps(cfg).encode(), f"bare-{model_type}.json", CATALOG)
    assert custom.defaults and dict(custom.defaults)
    describe_hf_config(custom.config)  # sized from the defaults


def test_the_sidebar_names_the_defaults_an_upload_took():
    # Qwen3-32B without head_dim: Qwen3Config's 128, not 5,120 / 64 = 80; named.
    cfg = json.loads((ASSETS_DIR / "models" / "qwen3.6-27b.json").read_text())
    text_config = cfg.get("text_config", cfg)
    text_config.pop("head_dim")
    at = _upload(open_page(PAGE), "qwen.json", json.dumps(cfg).encode())
    assert not at.exception and not at.error, [e.value for e in at.error]
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert f"transformers {TRANSFORMERS_VERSION}".replace(".", "\\.") in captions
    assert "head_dim = 256" in captions


def test_a_byte_order_mark_uploads_as_without():
    data = (ASSETS_DIR / "models" / "llama-3.1-70b.json").read_bytes()
    plain = models.from_upload(data, "config.json", CATALOG)
    with_bom = models.from_upload(b"\xef\xbb\xbf" + data, "config.json", CATALOG)
    assert with_bom == plain
    at = _upload(open_page(PAGE), "config.json", b"\xef\xbb\xbf" + data)
    assert not at.exception and not at.error
    assert at.query_params["model"] == plain.model_id


LLAMA = json.loads((ASSETS_DIR / "models" / "llama-3.1-70b.json").read_text())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"[" * 5_000 + b"]" * 5_000, "nests"),
        (json.dumps({**LLAMA, "hidden_size": 10**400}).encode(), "more than 100 digits"),
        (json.dumps({**LLAMA, "hidden_size": 1e308}).encode(), "hidden_size"),
        (json.dumps({**LLAMA, "num_hidden_layers": "80"}).encode(), "num_hidden_layers"),
        (json.dumps({**LLAMA, "tie_word_embeddings": "false"}).encode(), "tie_word_embeddings"),
        (json.dumps({**LLAMA, "num_attention_heads": [64]}).encode(), "num_attention_heads"),
        (json.dumps({**LLAMA, "num_key_value_heads": {"a": 1}}).encode(), "num_key_value_heads"),
        (b'{"a": NaN}', "NaN"),
        (b"\xff\xfe{}", "(?i)utf-8"),
    ],
    ids=[
        "deep",
        "huge-int",
        "huge-float",
        "string-count",
        "string-bool",
        "list-count",
        "object-count",
        "nan",
        "utf16",
    ],
)
def test_a_hostile_file_gets_one_clear_message_and_the_page_draws(data, message):
    with pytest.raises(ValueError, match=message):
        models.from_upload(data, "config.json", CATALOG)
    at = _upload(open_page(PAGE), "config.json", data)
    assert not at.exception
    assert len(at.error) == 1 and "Could not use" in at.error[0].value, at.error
    assert models.KEY not in at.query_params
    assert len(at.get("vega_lite_chart")) >= 2  # the page drew with the catalog's models
