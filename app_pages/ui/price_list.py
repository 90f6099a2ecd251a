"""Your price list: a LiteLLM or OpenRouter price file as the price sheet, carried in the URL.

A file is read by ``costmodel.price_files`` (:func:`read`: ``read_litellm`` or
``read_openrouter``, the format detected or named) into provider prices dated the day
of the file. A file cannot travel in a link, but what the app uses of it can: the mapped
rows (provider, catalog model, time of day, $/M input, output and cached input, peak
hours) travel as the URL value ``price_list``, compact JSON
``[format, [[provider, model, time_of_day, usd_in, usd_out, usd_cached | null,
peak_hours_utc], ...]]`` compressed with zlib and written in base64url (:func:`encode`;
LiteLLM 1.110.2's file: 407 rows in 4,914 characters), and the file's date as
``price_file_date``. The page always prices from that value (:func:`decode`, checked as
strictly as a file), so a shared link reproduces the sheet exactly; only the entries the
file left out, and its keys, stay behind. A list longer than ``MAX_URL_CHARS`` in a
link travels with the sidebar model's rows only, and the page says so.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import re
import zlib

import pandas as pd
import streamlit as st

from app_pages.ui import cache, tables, url, widgets
from app_pages.ui.text import escape, literal
from costmodel import price_files
from costmodel.catalog import Catalog
from costmodel.pricing import PRICE_TIMES
from costmodel.spec import CHOICE, Spec

KEY = "price_list"
DATE_KEY = "price_file_date"
FORMAT_KEY = "price_file_format"
#: How the file's format is chosen: read from the file, or named.
FORMATS = ("detect", "litellm", "openrouter")
FORMAT_NAMES = {
    "detect": "Detect from the file",
    "litellm": "LiteLLM model_prices_and_context_window.json",
    "openrouter": "OpenRouter /api/v1/models",
}
SOURCES = {"litellm": "LiteLLM price file", "openrouter": "OpenRouter models list"}
FORMAT_SPEC = Spec(
    CHOICE,
    "detect",
    "Price file format",
    "LiteLLM's model_prices_and_context_window.json (an object of model entries with "
    "litellm_provider) or OpenRouter's GET /api/v1/models response (an object with a data "
    "list); detect: from the file's contents",
    choices=FORMATS,
    name=FORMAT_KEY,
)
#: Read from the URL by :func:`declare` (a date, a compressed list), not by the gate.
LIST_SPEC = Spec(
    CHOICE,
    None,
    "Your price list",
    "The prices mapped from your price file (base64url of zlib of compact JSON)",
    empty="the catalog's prices",
    name=KEY,
)
DATE_SPEC = Spec(
    CHOICE,
    None,
    "Date of the price file",
    "The day the price file was saved [YYYY-MM-DD]: the sheet's date",
    empty="today",
    name=DATE_KEY,
)
#: Earliest date a price file may carry: the seed's price war.
FIRST_DATE = datetime.date(2023, 12, 1)
#: Longest ``price_list`` a link carries [characters]; browsers and Streamlit take URLs of
#: 64 kB and more, and LiteLLM 1.110.2's whole list takes 4,914.
MAX_URL_CHARS = 20_000
#: Most bytes a ``price_list`` value may decompress to (the cap holds while
#: decompressing: a zlib bomb costs nothing); a row is under 120 bytes of JSON.
MAX_LINK_BYTES = 400_000
#: Significant digits a price keeps in a link: a per-token price x 1e6 is exact to
#: about 16 digits, but 10 drop the float noise (0.15000000000000002) and change no cent.
DIGITS = 10
#: Longest provider name or peak-hours text a link may hold [characters].
MAX_TEXT = 200
#: The columns of a link's row after provider and model.
_PRICES = [f"usd_per_million_{kind}" for kind in ("input", "output", "cached_input")]
_ROW_COLUMNS = ["time_of_day", *_PRICES, "peak_hours_utc"]
_OPENROUTER = re.compile(rb'\A\s*\{\s*"data"\s*:\s*\[')
_SESSION = "_ui_price_list"  # file_id, format and date of the file last read
_UPLOADER = "_ui_price_list_uploader"  # the uploader's key counter (a new key clears it)
_DATE_WIDGET, _DATE_SYNCED = "_ui_price_file_date", "_ui_price_file_date_synced"


# --- The file and its URL form (no Streamlit drawing) ----------------------------------


def detect_format(data: bytes) -> str:
    """'openrouter' for an object whose first key is a "data" list, 'litellm' for a file
    with ``litellm_provider`` entries; ``ValueError`` for anything else."""
    if _OPENROUTER.match(data[:4096].removeprefix(b"\xef\xbb\xbf")):
        return "openrouter"
    if b'"litellm_provider"' in data:
        return "litellm"
    raise ValueError(
        "it is neither LiteLLM's model_prices_and_context_window.json (entries with "
        'litellm_provider) nor OpenRouter\'s /api/v1/models response (an object with a "data" '
        "list); name the format if it is one of them"
    )


def read(data: bytes, file_format: str, date: str, catalog: Catalog) -> tuple:
    """(``price_files.PriceFile``, the format read) of an uploaded file; ``ValueError``
    saying what is wrong with it."""
    if file_format == "detect":
        file_format = detect_format(data)
    reader = (
        price_files.read_openrouter if file_format == "openrouter" else price_files.read_litellm
    )
    return reader(data, date, catalog), file_format


def encode(prices: pd.DataFrame, file_format: str) -> str:
    """The ``price_list`` URL value of a PriceFile's ``prices`` (:func:`decode` reverses it)."""

    def number(value):
        return None if pd.isna(value) else float(f"{value:.{DIGITS}g}")

    rows = [
        [
            r.provider,
            r.model,
            r.time_of_day,
            number(r.usd_per_million_input),
            number(r.usd_per_million_output),
            number(r.usd_per_million_cached_input),
            r.peak_hours_utc if isinstance(r.peak_hours_utc, str) else "",
        ]
        for r in prices.itertuples()
    ]
    text = json.dumps([file_format, rows], separators=(",", ":"), ensure_ascii=False)
    packed = zlib.compress(text.encode("utf-8"), 9)
    return base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")


def link_value(prices: pd.DataFrame, file_format: str, model: str) -> tuple[str, bool]:
    """(the ``price_list`` value, whether it holds every row): all rows, or ``model``'s
    alone where all of them take more than ``MAX_URL_CHARS``; ``ValueError`` where even
    those do."""
    value = encode(prices, file_format)
    if len(value) <= MAX_URL_CHARS:
        return value, True
    mine = prices[prices["model"] == model]
    value = encode(mine, file_format)
    if len(value) > MAX_URL_CHARS:
        raise ValueError(
            f"its {len(mine):,} prices of {model} alone take {len(value):,} characters in a "
            f"link, more than the {MAX_URL_CHARS:,} a link may hold"
        )
    return value, False


def decode(text: str, date: str, catalog: Catalog) -> tuple[pd.DataFrame, str]:
    """(provider prices with ``price_files.FILE_PRICE_COLUMNS``, dated ``date``, the file's
    format) of a ``price_list`` value; ``ValueError`` saying why it is not one."""
    if len(text) > MAX_URL_CHARS:
        raise ValueError(f"{KEY} is {len(text):,} characters; the limit is {MAX_URL_CHARS:,}")
    wrong = f"{KEY} is not a price list this app wrote"
    try:
        packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        inflater = zlib.decompressobj()
        data = inflater.decompress(packed, MAX_LINK_BYTES + 1)
    except (binascii.Error, ValueError, zlib.error):
        raise ValueError(wrong) from None
    if inflater.unconsumed_tail or len(data) > MAX_LINK_BYTES:
        raise ValueError(f"{KEY} holds more than {MAX_LINK_BYTES:,} bytes")
    try:
        found = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ValueError(wrong) from None
    if not (isinstance(found, list) and len(found) == 2 and found[0] in SOURCES):
        raise ValueError(f"{KEY} must hold a format ({', '.join(SOURCES)}) and rows")
    file_format, rows = found
    if not isinstance(rows, list) or not rows:
        raise ValueError(f"{KEY} must hold at least one row")
    for i, row in enumerate(rows):
        _check_row(i, row, catalog)
    table = pd.DataFrame(rows, columns=["provider", "model", *_ROW_COLUMNS])
    table = table.astype(dict.fromkeys(_PRICES, float))  # None -> NaN
    prices = table.assign(date=date, source=f"Your {SOURCES[file_format]} of {date}", note="")[
        list(price_files.FILE_PRICE_COLUMNS)
    ]
    return prices, file_format


def _check_row(i: int, row, catalog: Catalog) -> None:
    """``ValueError`` unless row ``i`` is [provider, catalog model, time of day, input,
    output, cached input or null, peak hours] with prices in range."""
    where = f"{KEY} row {i}"
    if not (isinstance(row, list) and len(row) == 7):
        raise ValueError(f"{where} must be a list of 7 values")
    provider, model, when, usd_in, usd_out, usd_cached, hours = row
    if not (isinstance(provider, str) and 0 < len(provider) <= MAX_TEXT):
        raise ValueError(f"{where}: provider must be a name of 1 to {MAX_TEXT} characters")
    if model not in catalog.models.index:
        raise ValueError(f"{where}: model must be a catalog model id; got {model!r}")
    if when not in PRICE_TIMES:
        raise ValueError(f"{where}: time of day must be one of {', '.join(PRICE_TIMES)}")
    if not (isinstance(hours, str) and len(hours) <= MAX_TEXT) or (when != "all_day") != bool(
        hours
    ):
        raise ValueError(f"{where}: peak hours must be given for a peak or off-peak price only")
    top = price_files.MAX_USD_PER_MILLION_TOKENS
    for name, value in (("input", usd_in), ("output", usd_out), ("cached input", usd_cached)):
        if value is None and name == "cached input":
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= top:
            raise ValueError(f"{where}: the {name} price must be a number from 0 to {top:g}")


def parse_date(text: str) -> datetime.date:
    """A ``price_file_date`` URL value as a date from ``FIRST_DATE`` to today."""
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or len(text) != 10 or not FIRST_DATE <= day <= datetime.date.today():
        raise ValueError(
            f"{DATE_KEY} must be a date YYYY-MM-DD from {FIRST_DATE} to today "
            f"({datetime.date.today()})"
        )
    return day


def left_out_summary(left_out: pd.DataFrame) -> str:
    """The entries a file left out, counted by reason ('deprecated on <day>' and 'service
    tier: <tier>' counted as one reason each): '2,346 no catalog model, ...'."""
    reasons = left_out["reason"].str.replace(r"( on |: ).*$", "", regex=True)
    counts = reasons.value_counts()
    return ", ".join(f"{n:,} {reason}" for reason, n in counts.items())


# --- Streamlit ----------------------------------------------------------------------------


@cache.shared(max_entries=4, show_spinner="Reading the price file...")
def _read(data: bytes, file_format: str, date: str):
    return read(data, file_format, date, cache.base_catalog())


@cache.shared(max_entries=16)
def _decoded(text: str, date: str):
    return decode(text, date, cache.base_catalog())


def declare() -> None:
    """Declare the list's URL parameters (call at the page's top, with ``url.declare``):
    the format through the gate; the date and the list read here, a bad one named in the
    page's warning and dropped."""
    url.declare(FORMAT_SPEC)
    url.declared().update({KEY: LIST_SPEC, DATE_KEY: DATE_SPEC})
    for key, check in ((DATE_KEY, parse_date), (KEY, lambda t: _decoded(t, _date_text()))):
        found = st.query_params.get_all(key)
        if not found:
            continue
        try:
            check(found[-1])
        except ValueError as err:
            used = "the catalog's prices were used" if key == KEY else "today's date was used"
            url.note(key, found[-1], f"{err}; {used}")
            url.write(key, None)


def _date_text() -> str:
    found = st.query_params.get_all(DATE_KEY)
    try:
        return parse_date(found[-1]).isoformat() if found else datetime.date.today().isoformat()
    except ValueError:
        return datetime.date.today().isoformat()


def _write_date() -> None:
    """Callback: the date input's new value into the URL."""
    text = st.session_state[_DATE_WIDGET].isoformat()
    url.write(DATE_KEY, [text])
    st.session_state[_DATE_SYNCED] = text


def _clear() -> None:
    """Callback: back to the catalog's prices (and an empty uploader)."""
    url.write(KEY, None)
    st.session_state[_SESSION] = None
    st.session_state[_UPLOADER] = st.session_state.get(_UPLOADER, 0) + 1


def box(model: str, model_name: str) -> pd.DataFrame | None:
    """The expander "Your price list": format, date, upload; what was mapped and left out.
    Returns the prices the sheet uses (:func:`decode` of the URL's ``price_list``), or None
    for the catalog's."""
    active = bool(st.query_params.get_all(KEY))
    with st.expander("Your price list", icon=":material/upload_file:", expanded=active):
        st.caption(
            "Bring the prices you keep: LiteLLM's `model_prices_and_context_window.json` or "
            "OpenRouter's `/api/v1/models` response. Its entries are mapped to the catalog's "
            "models, per-token prices become \\$ per million, and its prices are the sheet, "
            "dated the day of the file."
        )
        left, right = st.columns(2)
        file_format = widgets.widget(FORMAT_KEY, left, names=FORMAT_NAMES)
        date = _date_input(right)
        uploaded = st.file_uploader(
            "Price file (JSON)",
            type="json",
            key=f"{_UPLOADER}:{st.session_state.get(_UPLOADER, 0)}",
            help=f"At most {price_files.MAX_PRICE_FILE_BYTES:,} bytes [file]",
        )
        if uploaded is not None:
            _use_file(uploaded, file_format, date, model)
        elif st.session_state.get(_SESSION):  # the user removed the file
            _clear()
        found = st.query_params.get_all(KEY)
        if not found:
            return None
        prices, read_format = _decoded(found[-1], date)
        _describe(prices, read_format, date, found[-1], model, model_name)
    return prices


def _date_input(container) -> str:
    """The file's date: an input that follows the URL's ``price_file_date`` (today when
    there is none) and writes its changes there; returns it as YYYY-MM-DD."""
    text = _date_text()
    if st.session_state.get(_DATE_SYNCED) != text or _DATE_WIDGET not in st.session_state:
        st.session_state[_DATE_WIDGET] = datetime.date.fromisoformat(text)
        st.session_state[_DATE_SYNCED] = text
    container.date_input(
        DATE_SPEC.label,
        min_value=FIRST_DATE,
        max_value=datetime.date.today(),
        key=_DATE_WIDGET,
        on_change=_write_date,
        format="YYYY-MM-DD",
        help=DATE_SPEC.help,
    )
    return text


def _use_file(uploaded, file_format: str, date: str, model: str) -> None:
    """Read the uploaded file (again when the format or the date changed) and put its
    prices in the URL; what it left out, in a table. A bad file: an error, nothing used."""
    try:
        found, read_format = _read(uploaded.getvalue(), file_format, date)
        value, whole = link_value(found.prices, read_format, model)
    except ValueError as err:
        st.error(f"Could not read {literal(uploaded.name)}: {escape(str(err))}")
        return
    if st.query_params.get_all(KEY) != [value]:
        url.write(KEY, [value])
        url.write(DATE_KEY, [date])
    st.session_state[_SESSION] = (uploaded.file_id, read_format, date)
    used = found.prices["model"].nunique()
    st.markdown(
        f"**{escape(uploaded.name)}**: {found.entries:,} entries; {len(found.prices):,} prices "
        f"of {used} catalog models used; {len(found.left_out):,} entries left out "
        f"({escape(left_out_summary(found.left_out))})."
    )
    if not whole:
        st.warning(
            f"All of the list's prices would make the link longer than {MAX_URL_CHARS:,} "
            "characters: the share link carries the sidebar model's prices only."
        )
    with st.popover("Entries left out, and why", icon=":material/playlist_remove:"):
        tables.show_table(found.left_out, "price_file_left_out.csv", hide_index=True)


def _describe(prices, read_format: str, date: str, value: str, model: str, name: str) -> None:
    """What the sheet now is, what the link carries, a way back to the catalog's prices."""
    models = prices["model"].nunique()
    st.success(
        f"The price sheet is your {escape(SOURCES[read_format])} of {date}: {len(prices):,} "
        f"prices of {models} catalog models. The share link carries them ({len(value):,} "
        "characters, compressed), so it reproduces this sheet; the file itself and the "
        "entries it left out do not travel.",
        icon=":material/link:",
    )
    if model not in set(prices["model"]):
        st.warning(
            f"Your list has no price for {escape(name)}: pick one of its models in the sidebar "
            f"({escape(', '.join(sorted(set(prices['model']))))})."
        )
    with st.popover("All prices of your list", icon=":material/table_view:"):
        tables.show_table(prices, "your_price_list.csv", hide_index=True)
    st.button(
        "Use the catalog's prices",
        on_click=_clear,
        icon=":material/undo:",
        help="Drop your price list: the sheet is the catalog's again.",
    )
