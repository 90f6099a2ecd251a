"""Random in-range links through the whole app under AppTest (issue 21, item 4).

``links(path, n, seed)`` gives ``n`` links of a page: every catalog model and an uploaded
one in turn, and with a share of them expert parallelism, disaggregation, MTP with
speculative decoding, a GPU of your own (GPU comparison) and 1-5 of the page's other
declared parameters, each at an in-range value (``test_fuzz_urls.good_value``).
``check(path, query)`` opens the link and says what is wrong, "" when nothing: an
exception, an error element, app.py's "Something went wrong", or a sidebar field the app
moved away from the link's value without a warning naming it. Used by
tests/test_fuzz_pages.py (a few links per page) and benchmarks/fuzz_pages.py (200).
"""

from __future__ import annotations

import json
import random

from conftest import APP
from streamlit.testing.v1 import AppTest
from test_fuzz_urls import GUARD, declared, good_value

from app_pages.ui import gate, models
from costmodel import FIELDS, load_catalog
from costmodel.catalog import ASSETS_DIR

CATALOG = load_catalog()
#: An uploaded mixture of experts (Qwen3 30B-A3B's config under its own name).
UPLOAD = models.from_config(
    {
        **json.loads((ASSETS_DIR / "models" / "qwen3-30b-a3b.json").read_text()),
        "_name_or_path": "my-org/uploaded-moe",
    },
    CATALOG,
)
MODELS = [*CATALOG.models.index, UPLOAD.model_id]
#: Your GPU on the GPU comparison: 96 GB, 4 TB/s, 700 TFLOPS, $2.50 per hour.
CUSTOM_GPU = {
    "custom_gpu_hbm_gb": "96",
    "custom_gpu_bandwidth_tb_s": "4",
    "custom_gpu_bf16_dense_tflops": "700",
    "custom_gpu_usd_per_gpu_hour": "2.5",
}
#: Longest run of one link [s]: a planning page sizes fleets cold in a few seconds, more
#: on a machine shared with other work.
TIMEOUT_S = 120
#: Shares of links with each feature on.
SHARE = {"expert_parallel": 0.4, "disaggregated": 0.25, "mtp": 0.25, "custom_gpu": 0.3}


def links(path: str | None, n: int, seed: int) -> list[dict[str, list[str]]]:
    """``n`` in-range links of the page at ``path`` (None: Home)."""
    rng = random.Random(f"{seed}:{path}")
    params = declared(path)
    found = []
    for i in range(n):
        model = MODELS[i % len(MODELS)]
        query = {"model": [model]}
        if model == UPLOAD.model_id:
            query[models.KEY] = [UPLOAD.url]
        others = [k for k in params if k != "model"]
        for key in rng.sample(others, rng.randint(1, min(5, len(others)))):
            query[key] = good_value(rng, params[key])
        for flag in ("expert_parallel", "disaggregated"):  # where the page has them
            if flag in params and rng.random() < SHARE[flag]:
                query[flag] = ["true"]
        if "mtp" in params and rng.random() < SHARE["mtp"]:
            query |= {k: ["true"] for k in ("speculative", "mtp") if k in params}
        if path == "app_pages/gpu_comparison.py" and rng.random() < SHARE["custom_gpu"]:
            query |= {k: [v] for k, v in CUSTOM_GPU.items()}
        found.append(query)
    return found


def check(path: str | None, query: dict[str, list[str]]) -> str:
    """What is wrong with the page the link opens ("" when nothing)."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)  # as conftest.open_page
    if path is not None:
        at.switch_page(path)
    at.query_params.update({k: v if len(v) > 1 else v[0] for k, v in query.items()})
    try:
        at.run()
    except RuntimeError as err:  # AppTest's timeout: a link this slow is a failure
        return f"slow: {str(err)[:200]}"
    if at.exception:
        return f"exception: {at.exception[0].value[:200]}"
    if at.error:
        what = "app.py's guard" if any(e.value.startswith(GUARD) for e in at.error) else "error"
        return f"{what}: {at.error[0].value[:200]}"
    said = " ".join(w.value for w in at.warning)
    scenario, params = at.session_state["_ui_scenario"], declared(path)
    shared = at.session_state["_ui_shared"]  # the sidebar's fields (a page's own may differ)
    for key, raw in query.items():
        if key not in shared or key not in FIELDS or key in ("model", "usd_per_gpu_hour"):
            continue
        asked = gate.check(params[key], raw).value
        if asked is not None and getattr(scenario, key) != asked and params[key].label not in said:
            return f"{key}: {asked!r} became {getattr(scenario, key)!r} without a warning"
    return ""
