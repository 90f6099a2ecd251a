"""The seed's claims' verdicts (``costmodel.claims``) shown next to the chart they rest on."""

from __future__ import annotations

import streamlit as st

import costmodel
from app_pages.ui import cache
from app_pages.ui.text import escape
from costmodel import claims

#: Status -> (icon, Streamlit message kind).
_SHOWN = {
    "holds": (":material/check_circle:", "success"),
    "partly": (":material/contrast:", "warning"),
    "does not hold": (":material/cancel:", "error"),
    "shown": (":material/info:", "info"),
    "not applicable": (":material/remove:", "info"),
}


@st.cache_data(show_spinner=False, max_entries=256)
def _verdict(claim_id: str, scenario: costmodel.Scenario, custom: str | None) -> claims.Verdict:
    return claims.check(claim_id, scenario, cache.catalog())


def verdict(claim_id: str, scenario: costmodel.Scenario) -> claims.Verdict | None:
    """``claims.check(claim_id, scenario)`` on the session's catalog, cached; None (and
    the library's message shown) when the scenario cannot be checked."""
    try:
        return _verdict(claim_id, scenario, cache.custom_url())
    except ValueError as err:
        st.caption(f"{claim_id} cannot be checked here: {escape(str(err))}")
        return None


def show(claim_id: str, scenario: costmodel.Scenario) -> None:
    """One claim's status, its evidence (with numbers) and, folded, the rule used."""
    found = verdict(claim_id, scenario)
    if found is None:
        return
    icon, kind = _SHOWN[found.status]
    text = claims.BY_ID[claim_id].text
    getattr(st, kind)(
        f"**{claim_id} {found.status}.** {escape(found.evidence)}\n\n*Claim:* {escape(text)}"
        f"\n\n*Rule:* {escape(found.rule)}",
        icon=icon,
    )
