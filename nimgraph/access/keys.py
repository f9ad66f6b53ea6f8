"""API keys as the settings give them (``NIMGRAPH_API_KEYS``), parsed where roles are known.

The settings hold each key's holder as plain JSON; what it means (a role, any grant beyond the role) is read
here, so the settings, and the store that reads them, know nothing of roles.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, TypeAdapter, ValidationError, field_validator

from nimgraph.access.roles import Role
from nimgraph.config import Settings
from nimgraph.grading import HANDLING_ORDER

# The well-known keys of development mode, used when it configures none; production refuses them.
DEVELOPMENT_KEYS = {
    "dev-analyst": {"name": "development analyst", "role": "analyst"},
    "dev-researcher": {"name": "development researcher", "role": "researcher"},
    "dev-partner": {"name": "development partner viewer", "role": "partner_viewer"},
    "dev-admin": {"name": "development admin", "role": "admin"},
}


class ApiKey(BaseModel):
    """What one API key stands for: a name for the audit log, a role, and any grant beyond the role."""

    name: str = Field(min_length=1, description="Who holds the key, as the audit log records it.")
    role: Role
    handling: list[str] | None = Field(
        default=None, description="Handling codes the key is cleared for, instead of the role's."
    )
    pseudonymised: bool | None = Field(
        default=None, description="Whether people appear under pseudonyms, instead of the role's default."
    )

    @field_validator("handling")
    @classmethod
    def _known_codes(cls, codes: list[str] | None) -> list[str] | None:
        unknown = sorted(set(codes or ()) - set(HANDLING_ORDER))
        if unknown:
            raise ValueError(f"unknown handling codes {unknown}: use {list(HANDLING_ORDER)}")
        return codes


class ApiKeysError(ValueError):
    """NIMGRAPH_API_KEYS does not say what a key stands for; the message names its holder, never the key."""


_HOLDERS = TypeAdapter(dict[str, ApiKey])


def api_keys(settings: Settings) -> dict[str, ApiKey]:
    """The configured keys, each with what it stands for; in development with none configured, the dev-* keys."""
    configured = settings.api_keys if settings.api_keys or not settings.development else DEVELOPMENT_KEYS
    try:
        return _HOLDERS.validate_python(configured)
    except ValidationError as err:
        problems = [_problem(configured, e["loc"], e["msg"]) for e in err.errors()]
        raise ApiKeysError(f"NIMGRAPH_API_KEYS is not valid: {'; '.join(problems)}") from None


def _problem(configured: dict[str, Any], where: tuple[int | str, ...], message: str) -> str:
    """One problem, naming the key's holder (the key itself is a secret, and would end up in a log)."""
    key, *field = where
    holder = configured.get(str(key))
    named = holder.get("name") if isinstance(holder, dict) else None
    who = f"the key of {named!r}" if isinstance(named, str) and named else f"key {list(configured).index(key) + 1}"
    return f"{who}: {'.'.join(map(str, field)) or 'holder'}: {message}"
