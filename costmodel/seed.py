"""The seed document's numbers that the scenario defaults and presets are built from.

The source is the December 2023 analysis of the Mixtral price war
(``/work/shared/seed/README.md``, claims C1-C14). Only numbers the document states are
here; the explorer's own assumptions live with their fields (``fields.FIELDS``).
"""

from __future__ import annotations

#: C4's words, the setup below is read from them.
C4_TEXT = (
    "Even optimistically (2x H100, BF16, $1.95 per GPU-hour, running 24/7 at a large "
    "batch), Mistral's price barely breaks even; all of these providers lose money"
)

#: C4's serving setup as Scenario fields: Mixtral 8x7B on 2x H100 SXM, weights and KV
#: cache in BF16, $1.95 per GPU-hour, busy 24/7 (utilisation 1).
C4_SETUP = {
    "model": "mixtral-8x7b",
    "gpu": "h100-sxm",
    "n_gpus": 2,
    "weight_format": "bf16",
    "kv_format": "bf16",
    "usd_per_gpu_hour": 1.95,
    "utilization": 1.0,
}
