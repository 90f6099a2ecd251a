"""The seed's claims' verdicts (``costmodel.claims``) shown next to the chart they rest on."""

from __future__ import annotations

import streamlit as st

import costmodel
from app_pages.ui import cache
from app_pages.ui.text import escape
from costmodel import claims, status

#: Status -> badge colour (a badge, not an alert: an alert on a page means a problem).
STATUS_COLOURS = dict(zip(status.STATUSES, ("green", "orange", "red", "blue", "gray"), strict=True))


@cache.data(max_entries=256)
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


def draw(found: claims.Verdict) -> None:
    """A verdict: its status, its evidence (with numbers), the claim and the rule used."""
    text = claims.BY_ID[found.id].text
    with st.container(border=True, key=f"verdict_{found.id}"):
        badge = f":{STATUS_COLOURS[found.status]}-badge[{found.id} {found.status}]"
        st.markdown(f"{badge} {escape(found.evidence)}")
        st.caption(f"*Claim:* {escape(text)}. *Rule:* {escape(found.rule)}")


def show(claim_id: str, scenario: costmodel.Scenario) -> None:
    """``claims.check(claim_id, scenario)``'s verdict (the analyses at their defaults)."""
    found = verdict(claim_id, scenario)
    if found is not None:
        draw(found)


def show_all(ids: tuple[str, ...], scenario: costmodel.Scenario) -> None:
    """A page's list of its claims ``ids``: each one's status, text, evidence and rule at
    ``scenario``, from one cached ``claims.check_all(scenario, ids=ids)`` (the analyses
    they share run once)."""
    try:
        table = cache.claims(scenario, ids)
    except ValueError as err:
        st.error(f"Cannot check the claims here: {escape(str(err))}")
        return
    for row in table.itertuples():
        st.markdown(
            f"**{row.id} {escape(row.status)}** — {escape(row.text)}.\n\n"
            f"{escape(row.evidence)}\n\n*Rule:* {escape(row.rule)}"
        )


def show_result(claim_id: str, result, name: str | None = None) -> None:
    """The verdict a page's own Result reports (``<name>_status``, ``<name>_text``; name
    defaults to the claim id in lower case), with the claim's rule: what
    ``costmodel.claims`` finds when the page's options are the analysis's defaults."""
    name = name or claim_id.lower()
    status, text = getattr(result, f"{name}_status"), getattr(result, f"{name}_text")
    draw(claims.Verdict(claim_id, status, text, claims.BY_ID[claim_id].rule))
