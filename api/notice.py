"""The one fixed notice a caller gets about filtering: it follows from the key, never from the data.

A count of what was withheld, or a notice shown only when something was, tells a caller that
material above its clearance exists; so the notice is the same for every answer to the same key,
and what was withheld goes to the audit log (docs/security.md).
"""

from __future__ import annotations

from api.schemas import ClearanceNotice
from nimgraph.access.roles import FILTERED_NOTICE, Clearance
from nimgraph.config import Settings


def clearance_notice(clearance: Clearance, settings: Settings) -> ClearanceNotice:
    """Whether this key's answers are filtered, and the policy's fixed words for it.

    >>> from nimgraph.access.roles import Role, clearance_for
    >>> clearance_notice(clearance_for(Role.PARTNER_VIEWER), Settings(env="development")).filtered
    True
    >>> clearance_notice(clearance_for(Role.ANALYST), Settings(env="development")).notice is None
    True
    """
    filtered = clearance.filtered
    return ClearanceNotice(
        filtered=filtered, notice=FILTERED_NOTICE if filtered and settings.clearance_notice else None
    )
