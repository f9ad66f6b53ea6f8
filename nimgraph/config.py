"""The one settings object, read from the environment (``NIMGRAPH_*``) and ``.env``."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from nimgraph.access.roles import Role
from nimgraph.grading import HANDLING_ORDER

# Keys anyone could guess. Outside development the app refuses to start with one of them, or
# with any key shorter than MIN_KEY_LENGTH.
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "password", "test", "placeholder"})
MIN_KEY_LENGTH = 24
DEVELOPMENT_KEYS = {
    "dev-analyst": {"name": "development analyst", "role": "analyst"},
    "dev-researcher": {"name": "development researcher", "role": "researcher"},
    "dev-partner": {"name": "development partner viewer", "role": "partner_viewer"},
    "dev-admin": {"name": "development admin", "role": "admin"},
}
DEVELOPMENT_PSEUDONYM_KEY = "dev-pseudonym-key"


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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NIMGRAPH_", env_file=".env", extra="ignore")

    store: str = Field(
        default="var/nimgraph.db",
        description="Where the graph lives: a file path (embedded store) or a neo4j://, neo4j+s:// or bolt:// URI.",
    )
    neo4j_user: str = Field(default="neo4j", description="Neo4j user name.")
    neo4j_password: SecretStr = Field(default=SecretStr(""), description="Neo4j password; never logged.")
    neo4j_database: str = Field(default="neo4j", description="Neo4j database name.")
    neo4j_max_connection_lifetime: int = Field(
        default=300, ge=1, description="Seconds before a pooled Neo4j connection is replaced."
    )
    neo4j_retry_seconds: float = Field(
        default=30.0, gt=0, description="How long a Neo4j transaction is retried after transient errors."
    )
    work_dir: Path = Field(
        default=Path("var"),
        description="Where the demo writes its data, rejects files and reports.",
    )
    batch_size: int = Field(default=5000, ge=1, description="Records per write transaction.")
    host: str = Field(default="127.0.0.1", description="Address the API binds to.")
    port: int = Field(default=8000, description="Port the API listens on.")
    env: str = Field(default="development", description="development or production.")
    api_keys: dict[str, ApiKey] = Field(
        default_factory=dict,
        description=(
            'API keys as JSON: {"<key>": {"name": "DC 1234", "role": "analyst"}}. Roles: analyst, researcher, '
            "partner_viewer, admin. In development with none set, the dev-* keys apply (see docs/api.md)."
        ),
    )
    pseudonym_key: SecretStr = Field(
        default=SecretStr(""), description="Secret that makes pseudonyms stable and unguessable; never logged."
    )
    access_db: Path = Field(
        default=Path("var/access.db"), description="The append-only audit log and the pseudonym register."
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed to call the API from a browser; none unless set."
    )
    max_upload_bytes: int = Field(default=200_000_000, ge=1, description="Largest file an ingest job accepts.")
    viz_max_nodes: int = Field(
        default=300, ge=10, description="Nodes a visualisation draws before it keeps the nearest and says so."
    )

    @property
    def reports_dir(self) -> Path:
        return self.work_dir / "reports"

    @property
    def development(self) -> bool:
        return self.env == "development"

    def effective_api_keys(self) -> dict[str, ApiKey]:
        """The configured keys; in development with none configured, the well-known dev-* keys."""
        if self.api_keys or not self.development:
            return self.api_keys
        return {key: ApiKey(**value) for key, value in DEVELOPMENT_KEYS.items()}

    def effective_pseudonym_key(self) -> str:
        secret = self.pseudonym_key.get_secret_value()
        return secret or (DEVELOPMENT_PSEUDONYM_KEY if self.development else "")

    def insecure(self) -> list[str]:
        """Why these settings must not serve real data; empty when they may. Development is exempt."""
        if self.development:
            return []
        reasons = []
        if not self.api_keys:
            reasons.append("NIMGRAPH_API_KEYS is empty: set at least one key")
        for key, holder in self.api_keys.items():
            if key.lower() in PLACEHOLDER_SECRETS or key.startswith("dev-") or len(key) < MIN_KEY_LENGTH:
                reasons.append(
                    f"the key of {holder.name!r} is a placeholder or shorter than {MIN_KEY_LENGTH} characters"
                )
        pseudonym_key = self.pseudonym_key.get_secret_value()
        if pseudonym_key.lower() in PLACEHOLDER_SECRETS or len(pseudonym_key) < MIN_KEY_LENGTH:
            reasons.append(f"NIMGRAPH_PSEUDONYM_KEY must be a secret of at least {MIN_KEY_LENGTH} characters")
        return reasons


@cache
def get_settings() -> Settings:
    return Settings()
