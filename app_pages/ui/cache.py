"""Library calls cached for the app: the catalog, evaluations, sweeps, sensitivity."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

import costmodel


@st.cache_resource(show_spinner=False)
def catalog() -> costmodel.Catalog:
    """The data catalogs, loaded once per server process."""
    return costmodel.load_catalog()


@st.cache_data(show_spinner=False, max_entries=512)
def evaluate(scenario: costmodel.Scenario) -> dict[str, Any]:
    """``costmodel.evaluate`` cached by the scenario's fields."""
    return costmodel.evaluate(scenario)


@st.cache_data(show_spinner=False, max_entries=128)
def _sweep(scenario: costmodel.Scenario, axes: tuple[tuple[str, Any], ...]) -> pd.DataFrame:
    return costmodel.sweep(scenario, **{k: list(v) if isinstance(v, tuple) else v for k, v in axes})


def sweep(scenario: costmodel.Scenario, **axes: Any) -> pd.DataFrame:
    """``costmodel.sweep`` cached by the scenario and the axes (sequences become tuples)."""
    frozen = ((k, v if isinstance(v, str) else tuple(v)) for k, v in axes.items())
    return _sweep(scenario, tuple(sorted(frozen)))


@st.cache_data(show_spinner=False, max_entries=128)
def tornado(scenario: costmodel.Scenario, change_pct: float, output: str) -> pd.DataFrame:
    """``costmodel.sensitivity.tornado`` cached by its arguments."""
    from costmodel import sensitivity

    return sensitivity.tornado(scenario, change_pct, output)


@st.cache_data(show_spinner=False, max_entries=512)
def headline_range(scenario: costmodel.Scenario, output: str) -> dict[str, Any]:
    """``costmodel.sensitivity.headline_range`` cached by its arguments."""
    from costmodel import sensitivity

    return sensitivity.headline_range(scenario, output)


@st.cache_data(show_spinner=False, max_entries=64)
def analysis(name: str, scenario: costmodel.Scenario, options: Any, gpus: tuple = ()) -> Any:
    """``costmodel.analyses.<name>.run(scenario, options)`` cached by its arguments.

    ``gpus``: extra GPUs, each a tuple of ``Catalog.with_gpu`` keyword items.
    """
    import importlib

    module = importlib.import_module(f"costmodel.analyses.{name}")
    cat = catalog()
    for gpu in gpus:
        cat = cat.with_gpu(**dict(gpu))
    return module.run(scenario, options, cat)


@st.cache_data(show_spinner=False, max_entries=64)
def claims(scenario: costmodel.Scenario) -> pd.DataFrame:
    """``costmodel.claims.check_all(scenario)`` cached by the scenario."""
    from costmodel import claims as checks

    return checks.check_all(scenario, catalog())
