"""Library calls cached for the app: the catalog, evaluations, sweeps, sensitivity.

:func:`catalog` is the session's catalog: the assets' catalog, plus the custom model of
the URL's ``custom_model`` when there is one (``sidebar.custom_model`` sets it each
run). Cached calls take the custom model's URL value as part of their key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
import types
from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

import costmodel
from app_pages.ui import models
from app_pages.ui.text import escape
from costmodel import shapley
from costmodel.custom_gpu import CustomGpu
from costmodel.price_files import use_prices
from costmodel.spec import Checked

#: Session-state key of this run's ``custom_model`` URL value (None: no custom model).
CUSTOM = "_ui_custom_model"
#: Catalog id and name of a GPU of your own (``CustomGpu``) in the analyses that take one.
CUSTOM_GPU_ID, CUSTOM_GPU_NAME = "custom-gpu", "Your GPU"
#: Results kept per function decorated with :func:`by_contents` (a chart's spec holds
#: its data frames as Arrow tables, tens of kB each: 64 keep a few MB per chart).
CONTENTS_CACHE_ENTRIES = 64

F = TypeVar("F", bound=Callable[..., Any])


def _checked_types() -> list[type]:
    """Every dataclass of the library's checked values (``costmodel.spec.Checked``: Scenario,
    each analysis's Options, PriceRule, CustomGpu), subclasses of subclasses included."""
    found, todo = [], [Checked]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return [cls for cls in found if dataclasses.is_dataclass(cls)]


def _module_name(module: types.ModuleType) -> str:
    return module.__name__


#: ``hash_funcs`` of every cached call here: a checked value is keyed by its ``repr``,
#: which names the class and every field's value (floats to their last digit; a test
#: checks no field is left out of it). Streamlit's own hash of a dataclass (``asdict``,
#: then each item) costs 0.5 ms for a Scenario, a few dozen times a rerun; its repr 20 us.
KEYS: dict = {**dict.fromkeys(_checked_types(), repr), types.ModuleType: _module_name}


def data(max_entries: int) -> Callable[[F], F]:
    """Cache a library call's result per process, copied on each call (``st.cache_data``),
    keyed by :data:`KEYS`."""
    return st.cache_data(show_spinner=False, max_entries=max_entries, hash_funcs=KEYS)


def shared(max_entries: int, show_spinner: bool | str = False) -> Callable[[F], F]:
    """Cache a library call once per process, for every session and rerun: each call
    gets the same result object (``st.cache_resource``), not a copy.

    ``st.cache_data`` unpickles a copy on each call (4-10 ms a rerun for an analysis),
    and a copy's data frames do not pickle to the bytes of the first result's, so a
    chart drawn from them (:func:`by_contents`) would be built once more. Views must not
    change a shared result; pandas' copy-on-write keeps the frames they derive apart.
    """
    return st.cache_resource(show_spinner=show_spinner, max_entries=max_entries, hash_funcs=KEYS)


def _pickle_digest(value: pd.DataFrame | pd.Series) -> bytes:
    return hashlib.sha256(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)).digest()


#: :data:`KEYS` with data frames and series keyed by a hash of their pickle.
FRAME_KEYS = {**KEYS, pd.DataFrame: _pickle_digest, pd.Series: _pickle_digest}


def by_contents(func: F) -> F:
    """``func`` cached once per process by its arguments' contents, its result shared
    (not copied): callers must not change it. For what a page draws from data it already
    has (a chart's spec, a table's view), on every rerun.

    ``st.cache_resource`` with data frames and series keyed by a hash of their pickle:
    0.1-0.8 ms a frame, where Streamlit's own hash of a 75-column frame costs 6 ms and
    ``st.cache_data`` also unpickles its result on each call.
    """
    return st.cache_resource(
        show_spinner=False, max_entries=CONTENTS_CACHE_ENTRIES, hash_funcs=FRAME_KEYS
    )(func)


@shared(max_entries=1)
def base_catalog() -> costmodel.Catalog:
    """The data catalogs of ``assets/``, loaded once per server process."""
    return costmodel.load_catalog()


@shared(max_entries=16)
def _custom_catalog(url: str) -> costmodel.Catalog:
    return models.with_custom(base_catalog(), models.from_url(url, base_catalog()))


def custom_url() -> str | None:
    """This run's ``custom_model`` URL value (checked by the sidebar), or None."""
    return st.session_state.get(CUSTOM)


def catalog() -> costmodel.Catalog:
    """The session's catalog: ``base_catalog()`` with this run's custom model, if any."""
    url = custom_url()
    return base_catalog() if url is None else _custom_catalog(url)


@data(max_entries=512)
def _evaluate(scenario: costmodel.Scenario, custom: str | None) -> dict[str, Any]:
    return costmodel.evaluate(scenario, catalog())


def evaluate(scenario: costmodel.Scenario) -> dict[str, Any]:
    """``costmodel.evaluate`` on the session's catalog, cached by the scenario's fields."""
    return _evaluate(scenario, custom_url())


@data(max_entries=128)
def _sweep(
    scenario: costmodel.Scenario, axes: tuple[tuple[str, Any], ...], custom: str | None
) -> pd.DataFrame:
    return costmodel.sweep(
        scenario, catalog(), **{k: list(v) if isinstance(v, tuple) else v for k, v in axes}
    )


def sweep(scenario: costmodel.Scenario, **axes: Any) -> pd.DataFrame:
    """``costmodel.sweep`` on the session's catalog, cached by the scenario and the axes
    (sequences become tuples)."""
    frozen = ((k, v if isinstance(v, str) else tuple(v)) for k, v in axes.items())
    return _sweep(scenario, tuple(sorted(frozen)), custom_url())


@shared(max_entries=128)
def _tornado(scenario, change_pct: float, output: str, custom: str | None) -> pd.DataFrame:
    return costmodel.sensitivity.tornado(scenario, change_pct, output, catalog=catalog())


def tornado(scenario: costmodel.Scenario, change_pct: float, output: str) -> pd.DataFrame:
    """``costmodel.sensitivity.tornado`` on the session's catalog, cached."""
    return _tornado(scenario, change_pct, output, custom_url())


@data(max_entries=512)
def _headline_range(scenario, output: str, custom: str | None) -> dict[str, Any]:
    return costmodel.sensitivity.headline_range(scenario, output, catalog())


def headline_range(scenario: costmodel.Scenario, output: str) -> dict[str, Any]:
    """``costmodel.sensitivity.headline_range`` on the session's catalog, cached."""
    return _headline_range(scenario, output, custom_url())


@shared(max_entries=64)
def _analysis(
    module: types.ModuleType,
    scenario: costmodel.Scenario,
    options: Any,
    gpu: CustomGpu | None,
    custom: str | None,
) -> Any:
    """``module.run(scenario, options)`` on the session's catalog (with ``gpu``), shared."""
    cat = catalog() if gpu is None else gpu.add_to(catalog(), CUSTOM_GPU_ID, CUSTOM_GPU_NAME)
    return module.run(scenario, options, cat)


@data(max_entries=64)
def _claims(
    scenario: costmodel.Scenario, custom: str | None, ids: tuple[str, ...] | None
) -> pd.DataFrame:
    from costmodel import claims as checks

    def run(module: types.ModuleType) -> Any:  # the page's own cached run, when it made one
        return _analysis(module, scenario, module.Options(), None, custom)

    return checks.check_all(scenario, catalog(), ids, run)


def analysis(
    module: types.ModuleType,
    scenario: costmodel.Scenario,
    options: Any,
    gpu: CustomGpu | None = None,
) -> Any:
    """``module.run(scenario, options)`` (an analysis of ``costmodel.analyses``) on the
    session's catalog, with your own ``gpu`` as ``CUSTOM_GPU_ID`` when given; cached and
    shared (views must not change the result)."""
    return _analysis(module, scenario, options, gpu, custom_url())


def analysis_or_defaults(
    module: types.ModuleType,
    scenario: costmodel.Scenario,
    options: Any,
    failure: str,
    fallback: tuple[costmodel.Scenario, Any] | None = None,
) -> tuple[Any, Any]:
    """(:func:`analysis`'s Result, the options it ran with). When the library refuses
    (``ValueError``): its message after ``failure`` in an error box, and the run at
    ``fallback`` (scenario, options), "the page's defaults"; without one, "the defaults":
    ``Scenario()`` and the analysis's ``Options()``."""
    try:
        return analysis(module, scenario, options), options
    except ValueError as err:
        if fallback is None:
            st.error(f"{failure}: {escape(str(err))} Showing the defaults.")
            fallback = costmodel.Scenario(), module.Options()
        else:
            st.error(f"{failure}: {escape(str(err))} Showing the page's defaults.")
        return analysis(module, *fallback), fallback[1]


def claims(scenario: costmodel.Scenario, ids: tuple[str, ...] | None = None) -> pd.DataFrame:
    """``costmodel.claims.check_all(scenario, ids=ids)`` on the session's catalog, cached:
    a page asks for its own claims only (their analyses alone run, each through
    :func:`analysis` at its default options: one the page already ran is reused)."""
    return _claims(scenario, custom_url(), None if ids is None else tuple(ids))


@shared(max_entries=64)
def _comparison(
    a: costmodel.Scenario, b: costmodel.Scenario, metric: str, custom: str | None
) -> shapley.Comparison:
    return shapley.compare(a, b, catalog(), metric)


def comparison(a: costmodel.Scenario, b: costmodel.Scenario, metric: str) -> shapley.Comparison:
    """``costmodel.shapley.compare(a, b, catalog, metric)`` on the session's catalog,
    cached by both scenarios, the metric and the uploaded model (two uploads of one name
    are two keys); shared."""
    return _comparison(a, b, metric, custom_url())


# --- A price list of the user's own (app_pages.ui.price_list) --------------------------------


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs=FRAME_KEYS)
def _priced_catalog(prices: pd.DataFrame, custom: str | None) -> costmodel.Catalog:
    return use_prices(catalog(), prices)


@st.cache_resource(show_spinner=False, max_entries=64, hash_funcs=FRAME_KEYS)
def _analysis_at_prices(
    module: types.ModuleType, scenario: costmodel.Scenario, options: Any, prices, custom
) -> Any:
    return module.run(scenario, options, _priced_catalog(prices, custom))


def analysis_at_prices(
    module: types.ModuleType,
    scenario: costmodel.Scenario,
    options: Any,
    prices: pd.DataFrame | None,
) -> Any:
    """:func:`analysis` on the session's catalog with ``prices`` (a price file's,
    ``price_files.FILE_PRICE_COLUMNS``) as its provider prices
    (``price_files.use_prices``); :func:`analysis` itself when ``prices`` is None. Cached
    by the prices' contents and shared."""
    if prices is None:
        return analysis(module, scenario, options)
    return _analysis_at_prices(module, scenario, options, prices, custom_url())
