"""A claim's status, decided by one rule for every claim (``costmodel.claims`` and the
analyses that report a ``<claim>_status`` both use :func:`decide`).

A claim with parts holds when all its parts hold, partly when some do, and does not hold
when none does: ``decide(all_of, some)``. ``"shown"`` marks a fact the explorer displays
from its catalogs without computing it; ``"not applicable"`` a scenario that cannot show
the claim.
"""

from __future__ import annotations

HOLDS, PARTLY, FAILS = "holds", "partly", "does not hold"
SHOWN, NOT_APPLICABLE = "shown", "not applicable"
#: Every status, from the strongest agreement to none.
STATUSES = (HOLDS, PARTLY, FAILS, SHOWN, NOT_APPLICABLE)


def decide(all_of: bool, some: bool | None = None) -> str:
    """``"holds"`` when ``all_of`` (every part holds), ``"partly"`` when only ``some``
    does, else ``"does not hold"``; ``some`` defaults to ``all_of`` (a claim of one part).

    >>> decide(True), decide(False, True), decide(False, False)
    ('holds', 'partly', 'does not hold')
    """
    some = all_of if some is None else some
    return HOLDS if all_of else PARTLY if some else FAILS
