"""Price lists users keep current, read into the catalog's provider-price table.

Two formats, one reader each, both returning a :class:`PriceFile` whose ``prices`` has
the columns of ``assets/provider_prices.csv`` (``FILE_PRICE_COLUMNS``), so it can be
the price sheet (:func:`use_prices`):

- LiteLLM's ``model_prices_and_context_window.json`` (:func:`read_litellm`): an object
  of entries ``key: {"litellm_provider", "mode", "input_cost_per_token",
  "output_cost_per_token", "cache_read_input_token_cost", "max_input_tokens",
  "deprecation_date", "off_peak_pricing": {..., "windows": [{"hours_utc", "weekdays"}]}}``
  (the file ships in LiteLLM's PyPI package; 3.48 MB and 4,878 entries in 1.110.2);
- OpenRouter's ``GET /api/v1/models`` (:func:`read_openrouter`): ``{"data": [{"id",
  "hugging_face_id", "pricing": {"prompt", "completion", "input_cache_read"}}]}``, prices
  as text in USD per token.

Prices per token become prices per million (x ``TOKENS_PER_MILLION``). A file does not
know its own date: the caller gives ``date`` (the day the file was saved). Entries are
mapped to catalog models by :func:`map_models`; what cannot be mapped comes back in
``PriceFile.left_out`` with the reason. A malformed file raises ``ValueError`` saying
what is wrong, never another exception.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from costmodel.catalog import (
    ASSETS_DIR,
    PROVIDER_PRICE_COLUMNS,
    Catalog,
    date_key,
    load_catalog,
    read_table,
)
from costmodel.pricing import TODAY, check_date

#: Largest price file read [bytes]. LiteLLM 1.110.2's file is 3,483,222 bytes; 8 MB lets
#: it more than double. The app's upload limit (``.streamlit/config.toml``
#: ``server.maxUploadSize``) is 8 MB, so the app takes every file this reader takes.
MAX_PRICE_FILE_BYTES = 8_000_000
#: Most entries a price file may hold (LiteLLM 1.110.2: 4,878; OpenRouter: about 400).
MAX_ENTRIES = 50_000
#: Tokens per million: a per-token price times this is the price per million tokens.
TOKENS_PER_MILLION = 1e6
#: Highest price kept [$ per million tokens]; dearer entries are left out as errors
#: (today's dearest open model costs $8 per million output tokens).
MAX_USD_PER_MILLION_TOKENS = 1000.0
#: Columns of ``assets/provider_prices.csv`` and of ``PriceFile.prices``.
FILE_PRICE_COLUMNS = (*PROVIDER_PRICE_COLUMNS, "date", "source", "note")
#: Columns of ``PriceFile.left_out``.
LEFT_OUT_COLUMNS = ("key", "provider", "reason")

#: LiteLLM provider ids under the names the catalog already uses for them (so one
#: provider keeps one line on the timeline); any other id is kept as it is.
PROVIDER_NAMES = {
    "fireworks_ai": "Fireworks",
    "together_ai": "Together",
    "deepinfra": "DeepInfra",
    "groq": "Groq",
    "cerebras": "Cerebras",
    "novita": "Novita",
    "lambda_ai": "Lambda",
    "hyperbolic": "Hyperbolic",
    "mistral": "Mistral",
    "moonshot": "Moonshot",
    "deepseek": "DeepSeek",
    "baseten": "Baseten",
    "openrouter": "OpenRouter",
    "bedrock": "Amazon Bedrock",
    "bedrock_converse": "Amazon Bedrock",
    "bedrock_mantle": "Amazon Bedrock",
    "azure_ai": "Azure AI",
    "vertex_ai-deepseek_models": "Google Vertex AI",
    "vertex_ai-zai_models": "Google Vertex AI",
    "vertex_ai-qwen_models": "Google Vertex AI",
    "vertex_ai-openai_models": "Google Vertex AI",
    "vertex_ai-moonshot_models": "Google Vertex AI",
    "nebius": "Nebius",
    "sambanova": "SambaNova",
    "anyscale": "Anyscale",
    "perplexity": "Perplexity",
    "replicate": "Replicate",
    "vertex_ai-llama_models": "Google Vertex AI",
    "cloudflare": "Cloudflare",
    "crusoe": "Crusoe",
    "databricks": "Databricks",
    "dashscope": "Alibaba DashScope",
    "gmi": "GMI Cloud",
    "minimax": "MiniMax",
    "nscale": "Nscale",
    "oci": "Oracle OCI",
    "ovhcloud": "OVHcloud",
    "scaleway": "Scaleway",
    "snowflake": "Snowflake",
    "tencent": "Tencent Cloud",
    "volcengine": "Volcengine",
    "wandb": "W&B Inference",
    "watsonx": "IBM watsonx",
    "zai": "Z.ai",
    "friendliai": "FriendliAI",
    "clf_ai_gateway": "Cloudflare AI Gateway",
    "qwen_ai_platform": "Qwen AI Platform",
    "github_copilot": "GitHub Copilot",
    "vercel_ai_gateway": "Vercel AI Gateway",
    "opencode_go": "OpenCode Go",
}
#: The provider of every OpenRouter entry: its price is OpenRouter's (the lowest of the
#: providers it routes to).
OPENROUTER = "OpenRouter"

# --- Mapping keys to catalog models ------------------------------------------------------

#: Namespaces before a model name, e.g. 'us.zai.' in 'us.zai.glm-5.3' (Bedrock regions
#: and vendors): dotted words without digits.
_NAMESPACE = r"^(?:[a-z_-]+\.)+(?=[a-z])"
#: Platform version suffixes: ':variant1', '-v1:0', '-1:0', ':0'.
_PLATFORM_SUFFIX = r"(?::variant\d+|-v\d+:\d+|-\d+:\d+|:\d+)$"
#: Host prefixes before a model name: 'fw-' (served by Fireworks on Azure),
#: 'databricks-', the vendor 'zai-' or 'meta-'.
_HOST_PREFIX = r"^(?:fw|databricks|zai|meta)-"
#: Trailing words that leave the model as it is: a dated revision ('-0731', '-260910'),
#: the post-training or mode of the same architecture ('instruct', 'thinking'), a number
#: format or a serving feature of the same weights ('fp8', 'nvfp4', 'gguf', 'mtp'), a
#: platform ('maas': Vertex's model-as-a-service).
_SAME_MODEL_WORDS = (
    r"\d{4}|\d{6}|instruct|thinking|fp8|fp4|nvfp4|mxfp4|mxfp|gguf|int4|int8|bf16|mtp|maas"
)
#: Trailing or leading words naming a service tier sold beside the standard one (faster,
#: interruptible, regional, free): a different product at the same weights, left out.
SERVICE_TIERS = (
    "fast",
    "turbo",
    "highspeed",
    "ultrafast",
    "ultra",
    "spot",
    "us",
    "basic",
    "nitro",
    "free",
    "floor",
    "preview",
)
#: Most trailing words stripped from one key.
_MAX_WORDS = 4


@functools.lru_cache(maxsize=2)
def load_aliases(assets_dir: str | Path = ASSETS_DIR) -> pd.Series:
    """``assets/model_aliases.csv``: model name (as :func:`normalized_names` gives it) ->
    catalog model id, for names that are not a catalog id (each row with its reason)."""
    table = read_table(Path(assets_dir) / "model_aliases.csv")
    return table.set_index("alias")["model"]


def normalized_names(keys) -> pd.DataFrame:
    """Each price-file key as a model name, and the service tier it names (else '').

    The last path segment, lower case, without namespaces, platform suffixes, host
    prefixes and trailing ``_SAME_MODEL_WORDS``; Fireworks's '5p2' and the dashed
    '5-2' / 'k2-7' versions read as '5.2' and 'k2.7'. ``together_ai/deepseek-ai/
    DeepSeek-V4-Flash`` -> 'deepseek-v4-flash'; ``fireworks_ai/.../kimi-k2p7-code-fast``
    -> 'kimi-k2.7-code', tier 'fast'; ``bedrock/us.zai.glm-5.3-1:0`` -> 'glm-5.3'.
    """
    name = pd.Series(list(keys), dtype=object).astype(str).str.lower()
    name = name.str.rsplit("/", n=1).str[-1]
    name = name.str.replace(_NAMESPACE, "", regex=True)
    name = name.str.replace(_PLATFORM_SUFFIX, "", regex=True)
    tiers = "|".join(SERVICE_TIERS)
    tier = name.str.extract(rf"^({tiers})-", expand=False).fillna("")
    name = name.str.replace(rf"^(?:{tiers})-", "", regex=True)
    colon = name.str.extract(r":([a-z]+)$", expand=False).fillna("")
    tier = tier.where(tier != "", colon.where(colon.isin(SERVICE_TIERS), ""))
    name = name.str.replace(r":[a-z]+$", "", regex=True)
    name = name.str.replace(_HOST_PREFIX, "", regex=True)
    name = name.str.replace(r"(?<=\d)p(?=\d)", ".", regex=True)
    name = name.str.replace(r"(?<=[a-z]\d)-(\d)(?=-|$)", r".\1", regex=True)
    name = name.str.replace(r"^glm-(\d)-(\d)(?=-|$)", r"glm-\1.\2", regex=True)
    for _ in range(_MAX_WORDS):
        word = name.str.extract(rf"-({tiers})$", expand=False).fillna("")
        tier = tier.where(tier != "", word)
        name = name.str.replace(rf"-(?:{tiers}|{_SAME_MODEL_WORDS})$", "", regex=True)
    return pd.DataFrame({"name": name.to_numpy(), "tier": tier.to_numpy()})


def map_models(keys, catalog: Catalog | None = None) -> pd.DataFrame:
    """Catalog model of each price-file key, or the reason it has none.

    The key's name (:func:`normalized_names`) is a catalog model id or an alias of one
    (``assets/model_aliases.csv``: 'glm-5.3' -> 'glm-5.2', 'llama-3.3-70b' ->
    'llama-3.1-70b', ...). Columns: ``key``, ``name``, ``model`` ('' where none),
    ``reason`` ('' where mapped; 'service tier: fast'; 'no catalog model').
    ``deepseek/deepseek-v4-flash`` -> ``deepseek-v4-flash``;
    ``together_ai/deepseek-ai/DeepSeek-V4-Flash`` -> ``deepseek-v4-flash``.
    """
    catalog = catalog or load_catalog()
    keys = [str(k) for k in keys]
    names = normalized_names(keys)
    known = pd.Series(catalog.models.index, index=catalog.models.index)
    aliases = load_aliases()
    lookup = pd.concat([known, aliases[aliases.isin(catalog.models.index)]])
    model = names["name"].map(lookup).fillna("")
    reason = np.where(
        model == "",
        "no catalog model",
        np.where(names["tier"] != "", "service tier: " + names["tier"], ""),
    )
    model = model.where(reason == "", "")
    return pd.DataFrame({"key": keys, "name": names["name"], "model": model, "reason": reason})


# --- Reading files ---------------------------------------------------------------------


@dataclass(frozen=True)
class PriceFile:
    """A price file read: ``prices`` (``FILE_PRICE_COLUMNS``, one row per provider,
    catalog model and time of day: several entries of one provider for one model, such
    as dated revisions or formats, collapse to the lowest output price, named in
    ``note``), ``left_out`` (``LEFT_OUT_COLUMNS``: every entry not used, and why),
    ``date`` (the sheet's) and ``entries`` (how many the file held)."""

    prices: pd.DataFrame
    left_out: pd.DataFrame
    date: str
    entries: int


def _loaded(data: bytes | str, what: str):
    """The JSON of a price file, checked for size; ``ValueError`` for anything else."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, bytes | bytearray):
        raise ValueError(f"{what} must be the file's bytes; got {type(data).__name__}")
    if len(data) > MAX_PRICE_FILE_BYTES:
        raise ValueError(
            f"{what} is {len(data):,} bytes; at most {MAX_PRICE_FILE_BYTES:,} are read"
        )
    try:
        return json.loads(bytes(data).decode("utf-8-sig"), parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError) as err:
        raise ValueError(f"{what} is not a JSON file: {err}") from None


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number a price may be")


def _per_million(values, what: str) -> np.ndarray:
    """Per-token prices (numbers, numeric text, None) as $ per million tokens; NaN where
    missing, ``ValueError`` where not a number."""
    out = np.full(len(values), np.nan)
    for i, value in enumerate(values):  # parsing text: the file's values, not physics
        if value is None or value == "":
            continue
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"{what}[{i}] must be a number; got {value!r}")
        try:
            out[i] = float(value) * TOKENS_PER_MILLION
        except ValueError:
            raise ValueError(f"{what}[{i}] must be a number; got {value!r}") from None
    return out


def _checked_date(date) -> str:
    """The file's date as text; ``ValueError`` unless a date (``TODAY`` is not one)."""
    if isinstance(date, datetime.date):
        return date.isoformat()
    if check_date("date", date) == TODAY:
        raise ValueError(f"date must be the day of the file, YYYY-MM-DD; got {date!r}")
    return date


def read_litellm(data: bytes | str, date, catalog: Catalog | None = None) -> PriceFile:
    """LiteLLM's ``model_prices_and_context_window.json`` as provider prices of ``date``.

    Chat entries (``mode`` 'chat' or none) with input and output prices; an entry whose
    ``deprecation_date`` is on or before ``date`` is left out. ``input_cost_per_token``
    x 1e6 is the input price [$ per million tokens] (3e-07 -> $0.30), likewise
    ``output_cost_per_token`` and ``cache_read_input_token_cost`` (the cached-input
    price). An ``off_peak_pricing`` object gives the entry an ``off_peak`` row beside its
    ``peak`` one, with the peak hours (the weekday hours outside its windows). Provider
    names: ``PROVIDER_NAMES``.
    """
    catalog = catalog or load_catalog()
    date = _checked_date(date)
    data = _loaded(data, "the LiteLLM price file")
    if not isinstance(data, dict):
        raise ValueError("the LiteLLM price file must be a JSON object of model entries")
    if len(data) > MAX_ENTRIES:
        raise ValueError(
            f"the LiteLLM price file has {len(data):,} entries; at most {MAX_ENTRIES:,}"
        )
    entries = {k: v for k, v in data.items() if k != "sample_spec"}
    if any(not isinstance(v, dict) for v in entries.values()):
        bad = next(k for k, v in entries.items() if not isinstance(v, dict))
        raise ValueError(f"the LiteLLM price file: entry {bad!r} must be an object")
    keys = list(entries)
    field = {
        name: [entries[k].get(name) for k in keys]
        for name in (
            "litellm_provider",
            "mode",
            "input_cost_per_token",
            "output_cost_per_token",
            "cache_read_input_token_cost",
            "deprecation_date",
            "off_peak_pricing",
        )
    }
    table = pd.DataFrame(
        {
            "key": keys,
            "provider": [str(p or "") for p in field["litellm_provider"]],
            "usd_per_million_input": _per_million(
                field["input_cost_per_token"], "input_cost_per_token"
            ),
            "usd_per_million_output": _per_million(
                field["output_cost_per_token"], "output_cost_per_token"
            ),
            "usd_per_million_cached_input": _per_million(
                field["cache_read_input_token_cost"], "cache_read_input_token_cost"
            ),
            "time_of_day": "all_day",
            "peak_hours_utc": "",
        }
    )
    reason = np.where(
        ~pd.Series(field["mode"]).isin(("chat", None)).to_numpy(), "not a chat model", ""
    )
    deprecated = pd.Series([str(d) if d else "" for d in field["deprecation_date"]])
    gone = (deprecated != "") & (deprecated.str[:10] <= date_key(date))
    reason = np.where((reason == "") & gone, "deprecated on " + deprecated, reason)
    table["reason"] = reason
    table = pd.concat([table, _off_peak(table, field["off_peak_pricing"])], ignore_index=True)
    source = f"LiteLLM model_prices_and_context_window.json of {date}"
    return _finish(table, date, source, len(keys), catalog)


def _off_peak(table: pd.DataFrame, pricing: list) -> pd.DataFrame:
    """Off-peak rows of the entries with ``off_peak_pricing``; marks their rows peak."""
    timed = [i for i, p in enumerate(pricing) if p is not None]
    if not timed:
        return table.iloc[:0]
    bad = [i for i in timed if not isinstance(pricing[i], dict)]
    if bad:
        raise ValueError(f"off_peak_pricing of {table['key'][bad[0]]!r} must be an object")
    hours = [_peak_hours(pricing[i].get("windows"), table["key"][i]) for i in timed]
    table.loc[timed, "time_of_day"] = "peak"
    table.loc[timed, "peak_hours_utc"] = hours
    off = table.loc[timed].copy()
    off["time_of_day"] = "off_peak"
    for column, name in (
        ("usd_per_million_input", "input_cost_per_token"),
        ("usd_per_million_output", "output_cost_per_token"),
        ("usd_per_million_cached_input", "cache_read_input_token_cost"),
    ):
        off[column] = _per_million(
            [pricing[i].get(name) for i in timed], f"off_peak_pricing.{name}"
        )
    return off


def _peak_hours(windows, key: str) -> str:
    """Peak hours [UTC] from LiteLLM's off-peak ``windows``: the weekday (1-5) hours
    outside its off-peak ``hours_utc``, e.g. '01:00-04:00;06:00-10:00 Mon-Fri'."""
    weekday = [w for w in windows or [] if isinstance(w, dict) and 1 in (w.get("weekdays") or [])]
    if not weekday:
        raise ValueError(f"off_peak_pricing of {key!r} needs weekday windows")
    spans = weekday[0].get("hours_utc")
    spans = [spans] if isinstance(spans, str) else spans
    off = np.zeros(24 * 60, bool)
    for span in spans or []:
        found = re.fullmatch(r"(\d\d):(\d\d)-(\d\d):(\d\d)", str(span))
        if not found:
            raise ValueError(f"off_peak_pricing of {key!r}: hours_utc {span!r} is not HH:MM-HH:MM")
        a, b, c, d = (int(x) for x in found.groups())
        start, end = 60 * a + b, 60 * c + d
        if end <= start:
            off[start:] = True
            off[:end] = True
        else:
            off[start:end] = True
    edges = np.flatnonzero(np.diff(np.r_[True, off, True].astype(int)))
    peaks = [(s, e) for s, e in zip(edges[::2], edges[1::2], strict=True)]
    text = ";".join(f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in peaks)
    return f"{text} Mon-Fri" if text else ""


def read_openrouter(data: bytes | str, date, catalog: Catalog | None = None) -> PriceFile:
    """OpenRouter's ``/api/v1/models`` response as provider prices of ``date``.

    Each entry of ``data`` is mapped by its ``hugging_face_id`` where it has one, else by
    its ``id``; ``pricing.prompt``, ``pricing.completion`` and
    ``pricing.input_cache_read`` (text, USD per token) x 1e6 are the input, output and
    cached-input prices [$ per million tokens]. A negative price (a router's "variable")
    is left out. The provider is ``OPENROUTER``.
    """
    catalog = catalog or load_catalog()
    date = _checked_date(date)
    data = _loaded(data, "the OpenRouter models file")
    models = data.get("data") if isinstance(data, dict) else None
    if not isinstance(models, list):
        raise ValueError('the OpenRouter models file must be an object with a "data" list')
    if len(models) > MAX_ENTRIES:
        raise ValueError(
            f"the OpenRouter models file has {len(models):,} models; at most {MAX_ENTRIES:,}"
        )
    bad = [
        i
        for i, m in enumerate(models)
        if not isinstance(m, dict) or not isinstance(m.get("id"), str)
    ]
    if bad:
        raise ValueError(f"the OpenRouter models file: data[{bad[0]}] must be an object with an id")
    pricing = [m.get("pricing") if isinstance(m.get("pricing"), dict) else {} for m in models]
    table = pd.DataFrame(
        {
            "key": [m["id"] for m in models],
            "match": [m.get("hugging_face_id") or m["id"] for m in models],
            "provider": OPENROUTER,
            "usd_per_million_input": _per_million(
                [p.get("prompt") for p in pricing], "pricing.prompt"
            ),
            "usd_per_million_output": _per_million(
                [p.get("completion") for p in pricing], "pricing.completion"
            ),
            "usd_per_million_cached_input": _per_million(
                [p.get("input_cache_read") for p in pricing], "pricing.input_cache_read"
            ),
            "time_of_day": "all_day",
            "peak_hours_utc": "",
            "reason": "",
        }
    )
    # The id's tier (':free', ':nitro') decides, whatever the Hugging Face id says.
    tiers = normalized_names(table["key"])["tier"].to_numpy()
    table["reason"] = np.where(tiers != "", "service tier: " + tiers, "")
    source = f"OpenRouter /api/v1/models of {date}"
    return _finish(table, date, source, len(models), catalog)


def _finish(table: pd.DataFrame, date: str, source: str, entries: int, catalog) -> PriceFile:
    """Map the entries, leave out the unusable ones, collapse to one row per provider,
    model and time of day (the lowest output price), in the catalog's columns."""
    mapped = map_models(table.get("match", table["key"]), catalog)
    table = table.assign(model=mapped["model"].to_numpy()).drop(columns="match", errors="ignore")
    usd_in, usd_out = table["usd_per_million_input"], table["usd_per_million_output"]
    reason = table["reason"].to_numpy(object)
    checks = (
        (usd_in.isna() | usd_out.isna(), "no input or output price"),
        ((usd_in == 0) & (usd_out == 0), "both prices zero (a placeholder or a local runtime)"),
        ((usd_in < 0) | (usd_out < 0), "a negative (variable) price"),
        (
            (usd_in > MAX_USD_PER_MILLION_TOKENS) | (usd_out > MAX_USD_PER_MILLION_TOKENS),
            "a price above $1,000 per million tokens",
        ),
        (mapped["reason"] != "", mapped["reason"]),
    )
    for bad, why in checks:
        reason = np.where((reason == "") & bad.to_numpy(bool), why, reason)
    table["provider"] = table["provider"].map(lambda p: PROVIDER_NAMES.get(p, p))
    used = _timed_all_day(table[reason == ""])
    left_out = pd.DataFrame({"key": table["key"], "provider": table["provider"], "reason": reason})
    left_out = left_out[reason != ""].drop_duplicates("key").reset_index(drop=True)
    ordered = used.sort_values(["usd_per_million_output", "usd_per_million_input"], kind="stable")
    group = ["provider", "model", "time_of_day"]
    keys = ordered.groupby(group, sort=False)["key"].agg(lambda k: ", ".join(k))
    best = ordered.drop_duplicates(group).set_index(group)
    best["note"] = "key " + keys.reindex(best.index)
    best = best.reset_index().sort_values(["model", "provider", "time_of_day"], ignore_index=True)
    best["note"] = np.where(
        best["note"].str.contains(", "),
        "lowest output price of keys " + best["note"].str[4:],
        best["note"],
    )
    prices = best.assign(date=date, source=source)[list(FILE_PRICE_COLUMNS)]
    return PriceFile(prices=prices, left_out=left_out, date=date, entries=entries)


def _timed_all_day(table: pd.DataFrame) -> pd.DataFrame:
    """Where a provider bills a model by time of day, its all-day entries for that model
    as a peak and an off-peak row each (with the provider's peak hours), so that the
    collapse to the lowest price compares like with like."""
    timed = table[table["time_of_day"] != "all_day"]
    hours = timed.drop_duplicates(["provider", "model"]).set_index(["provider", "model"])
    pairs = pd.MultiIndex.from_frame(table[["provider", "model"]])
    flat = (table["time_of_day"] == "all_day").to_numpy() & pairs.isin(hours.index)
    if not flat.any():
        return table
    split = pd.concat(
        [table[flat].assign(time_of_day=when) for when in ("peak", "off_peak")], ignore_index=True
    )
    keys = pd.MultiIndex.from_frame(split[["provider", "model"]])
    split["peak_hours_utc"] = hours["peak_hours_utc"].reindex(keys).to_numpy()
    return pd.concat([table[~flat], split], ignore_index=True)


def use_prices(catalog: Catalog, prices: pd.DataFrame, keep_catalog: bool = False) -> Catalog:
    """A copy of ``catalog`` whose provider prices are ``prices`` (a :class:`PriceFile`'s),
    or the catalog's and these together (``keep_catalog``)."""
    missing = [c for c in FILE_PRICE_COLUMNS if c not in prices.columns]
    if missing:
        raise ValueError(f"prices lacks the column(s) {', '.join(missing)}")
    if keep_catalog:
        prices = pd.concat([catalog.provider_prices, prices], ignore_index=True)
    return dataclasses.replace(catalog, provider_prices=prices.reset_index(drop=True))
