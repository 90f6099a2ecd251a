"""A model from an uploaded config.json that travels in the URL (no Streamlit here).

``encode(config)`` turns a config dict into the URL value of ``custom_model``: the
config's JSON (compact, keys sorted) compressed with zlib and written in base64url
without padding. ``decode(text)`` reverses it through the same hardened reader as an
upload (``costmodel.hf_config.read_hf_config``: size, depth, key and type limits, each
check linear in the text), so a link is checked exactly as a file would be, after at
most ``MAX_LINK_CONFIG_BYTES`` have been decompressed (the cap holds while
decompressing: a zlib bomb costs nothing). The config travels with its quantisation
lists cut to the entries that decide its formats (``hf_config.compact``: NVIDIA's 3 MB
MiniMax-M3 config becomes 1,695 characters), so a shared link reproduces the model
exactly; only the uploaded file's name does not (it is stored in the config as
``_name_or_path`` when the config has none, so the model keeps its name).
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import dataclass

import costmodel
from costmodel.hf_config import compact, defaults_used, model_name, read_hf_config
from costmodel.spec import CHOICE, Spec

KEY = "custom_model"
#: The URL parameter that carries an uploaded config (read by :func:`from_url`, not by the
#: gate: its text is checked as an upload is).
SPEC = Spec(
    CHOICE,
    None,
    "Your own model",
    "An uploaded config.json, compacted and compressed (base64url of zlib)",
    empty="no uploaded model",
    name=KEY,
)
#: Longest ``custom_model`` URL value read [characters]; every published config we know
#: encodes to under 2,700 (tests/test_hostile_inputs.py).
MAX_URL_CHARS = 20_000
#: Most bytes a ``custom_model`` value may decompress to: the upload limit of the links
#: this app wrote before configs travelled compacted (a compacted config is under 6 kB).
MAX_LINK_CONFIG_BYTES = 200_000


@dataclass(frozen=True)
class CustomModel:
    """An uploaded model: catalog id (``custom:<name>``), its config (compacted), its URL
    value and the keys it left out with the transformers default each took
    (``hf_config.defaults_used``), for the page to name."""

    model_id: str
    config: dict
    url: str
    defaults: tuple[tuple[str, object], ...] = ()


def _text(config: dict) -> str:
    return json.dumps(config, sort_keys=True, separators=(",", ":"))


def encode(config: dict) -> str:
    """The ``custom_model`` URL value of ``config``: base64url(zlib(compact JSON)) of
    ``hf_config.compact(config)``."""
    packed = zlib.compress(_text(compact(config)).encode("utf-8"), 9)
    return base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")


def decode(text: str) -> dict:
    """The config dict a ``custom_model`` URL value holds; ``ValueError`` saying why not.

    Decompresses at most ``MAX_LINK_CONFIG_BYTES`` + 1 bytes (no zip bomb), then reads
    them as an upload is read (``read_hf_config``).
    """
    if len(text) > MAX_URL_CHARS:
        raise ValueError(f"{KEY} is {len(text):,} characters; the limit is {MAX_URL_CHARS:,}")
    try:
        packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        inflater = zlib.decompressobj()
        data = inflater.decompress(packed, MAX_LINK_CONFIG_BYTES + 1)
    except (binascii.Error, ValueError, zlib.error):
        raise ValueError(f"{KEY} is not a model this app wrote (base64url of zlib)") from None
    if inflater.unconsumed_tail or len(data) > MAX_LINK_CONFIG_BYTES:
        raise ValueError(f"{KEY} holds more than {MAX_LINK_CONFIG_BYTES:,} bytes")
    return read_hf_config(data)


def from_upload(data: bytes, file_name: str | None, catalog: costmodel.Catalog) -> CustomModel:
    """A custom model from an uploaded file; ``ValueError`` for the user when it cannot be."""
    config = read_hf_config(data)
    if not isinstance(config.get("_name_or_path"), str):  # the name travels with it
        config = {**config, "_name_or_path": model_name(config, file_name)}
    return from_config(config, catalog)


def from_url(text: str, catalog: costmodel.Catalog) -> CustomModel:
    """The custom model of a ``custom_model`` URL value; ``ValueError`` when it is bad."""
    return from_config(decode(text), catalog)


def from_config(config: dict, catalog: costmodel.Catalog) -> CustomModel:
    """Check that ``catalog`` can take ``config`` (``Catalog.with_model`` raises if not)."""
    config = compact(config)
    model_id = costmodel.CUSTOM_PREFIX + model_name(config)
    catalog.with_model(model_id, config)
    return CustomModel(model_id, config, encode(config), tuple(defaults_used(config)))


def with_custom(catalog: costmodel.Catalog, custom: CustomModel | None) -> costmodel.Catalog:
    """``catalog`` with the custom model added (itself when there is none)."""
    if custom is None:
        return catalog
    return catalog.with_model(custom.model_id, custom.config)
