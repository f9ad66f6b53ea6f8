"""Roles, what each is cleared to see, and what each may do.

A key in the settings names a role; the role gives a default clearance (the handling codes its
holder may see, and whether people appear under pseudonyms), which the key may override.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from nimgraph.grading import HANDLING_ORDER


class Role(StrEnum):
    ANALYST = "analyst"
    RESEARCHER = "researcher"
    PARTNER_VIEWER = "partner_viewer"
    ADMIN = "admin"


class Permission(StrEnum):
    READ = "read"  # personal data, through the cleared view
    INGEST = "ingest"  # upload files into the graph
    RECORD = "record"  # write the partnership's own records: priorities, taskings, activities, reviews
    RESOLVE = "resolve"  # run record linkage and decide its proposals
    AUDIT = "audit"  # read the audit log


@dataclass(frozen=True)
class Clearance:
    """The handling codes a caller may see, and whether people are shown under pseudonyms."""

    handling: frozenset[str]
    pseudonymised: bool

    def sees(self, handling_code: str) -> bool:
        return handling_code in self.handling

    @property
    def filtered(self) -> bool:
        """Whether answers to this clearance leave anything out or pseudonymise anyone."""
        return self.pseudonymised or not self.sees_everything

    @property
    def sees_everything(self) -> bool:
        """Cleared for every handling code: nothing is hidden from this caller (names may still be)."""
        return set(HANDLING_ORDER) <= self.handling


# The one notice a filtered caller is given, the same for every answer to it (docs/security.md).
FILTERED_NOTICE = (
    "Results are filtered by your clearance: they show only what records you are cleared for support"
    ", and people under pseudonyms where your key says so. Nothing about the rest is shown or implied."
)

ROLE_CLEARANCE: dict[Role, Clearance] = {
    Role.ANALYST: Clearance(frozenset(HANDLING_ORDER), pseudonymised=False),
    Role.RESEARCHER: Clearance(frozenset(HANDLING_ORDER), pseudonymised=True),
    Role.PARTNER_VIEWER: Clearance(frozenset({"P"}), pseudonymised=False),
    Role.ADMIN: Clearance(frozenset(HANDLING_ORDER), pseudonymised=False),
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ANALYST: frozenset({Permission.READ, Permission.INGEST, Permission.RECORD, Permission.RESOLVE}),
    Role.RESEARCHER: frozenset({Permission.READ}),
    Role.PARTNER_VIEWER: frozenset({Permission.READ}),
    Role.ADMIN: frozenset(
        {Permission.READ, Permission.INGEST, Permission.RECORD, Permission.RESOLVE, Permission.AUDIT}
    ),
}


@dataclass(frozen=True)
class Caller:
    """Who is asking: the key's name (for the audit log), its role and its clearance."""

    name: str
    role: Role
    clearance: Clearance
    key: str = ""  # a fingerprint of the key presented (never the key): what is one holder's, not one name's

    def may(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]


def clearance_for(role: Role, handling: list[str] | None = None, pseudonymised: bool | None = None) -> Clearance:
    """The role's clearance, with a key's own grant in place of either part.

    >>> clearance_for(Role.PARTNER_VIEWER).handling == frozenset({"P"})
    True
    >>> clearance_for(Role.RESEARCHER, pseudonymised=False).pseudonymised
    False
    """
    default = ROLE_CLEARANCE[role]
    return Clearance(
        handling=frozenset(handling) if handling is not None else default.handling,
        pseudonymised=default.pseudonymised if pseudonymised is None else pseudonymised,
    )
