"""The one settings object, read from the environment (``NIMGRAPH_*``) and ``.env``."""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import sys
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Keys anyone could guess. Outside development the app refuses to start with one of them, with
# any secret shorter than MIN_KEY_LENGTH, or with one whose characters carry less than
# MIN_KEY_BITS of entropy (``aaaa...``, ``abcabc...``).
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "password", "test", "placeholder"})
MIN_KEY_LENGTH = 24
MIN_KEY_BITS = 96
DEVELOPMENT_SECRETS_FILE = "dev-secrets.json"
SECRET_SETTINGS = ("pseudonym_key", "audit_key", "id_key")


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
    neo4j_admin: str = Field(
        default="neo4j-admin",
        description="The neo4j-admin command of the Neo4j server a bulk load imports into: a path "
        "(e.g. /var/lib/neo4j/bin/neo4j-admin), or a command line with arguments.",
    )
    work_dir: Path = Field(
        default=Path("var"),
        description="Where the demo writes its data, rejects files and reports.",
    )
    batch_size: int = Field(
        default=5000,
        ge=1,
        description="Items per write batch (Neo4j: a transaction each; the embedded store commits several together).",
    )
    host: str = Field(default="127.0.0.1", description="Address the API binds to.")
    port: int = Field(default=8000, description="Port the API listens on.")
    env: Literal["production", "development"] = Field(
        default="production",
        description=(
            "production (the default) or development. Development allows the well-known dev-* keys and "
            "generates secrets it keeps in dev-secrets.json beside the access database; `nimgraph demo` chooses it."
        ),
    )
    # Each holder is kept as its JSON: nimgraph.access.keys reads what it means (a role, a grant), so the
    # settings know nothing of roles.
    api_keys: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description=(
            'API keys as JSON: {"<key>": {"name": "DC 1234", "role": "analyst"}}. Roles: analyst, researcher, '
            "partner_viewer, admin. In development with none set, the dev-* keys apply (see docs/api.md)."
        ),
    )
    pseudonym_key: SecretStr = Field(
        default=SecretStr(""), description="Secret that makes pseudonyms stable and unguessable; never logged."
    )
    audit_key: SecretStr = Field(
        default=SecretStr(""),
        description="Secret that keys the audit log's hash chain (HMAC), so nobody can re-chain an edited log.",
    )
    audit_anchor: Path = Field(
        default=Path("var/audit-anchor.log"),
        description=(
            "Append-only file of audit checkpoints (length and head of the chain); put it where the API "
            "host cannot rewrite it (another volume, a WORM mount) so truncating the log shows."
        ),
    )
    id_key: SecretStr = Field(
        default=SecretStr(""),
        description=(
            "Secret that keys entity and link ids, so nobody can compute a person's id from a name or a "
            "nominal number. Empty: the store makes one when it is created and keeps it."
        ),
    )
    access_db: Path = Field(
        default=Path("var/access.db"), description="The append-only audit log and the pseudonym register."
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed to call the API from a browser; none unless set."
    )
    clearance_notice: bool = Field(
        default=True,
        description=(
            "Whether a caller whose clearance filters results is told so, in one fixed notice that is "
            "the same for every answer to its key (never a count). Off where the partnership's policy says so."
        ),
    )
    max_upload_bytes: int = Field(
        default=200_000_000,
        ge=1,
        description="Largest upload an ingest job accepts: each part, and all its parts together.",
    )
    viz_max_nodes: int = Field(
        default=300, ge=10, description="Nodes a visualisation draws before it keeps the nearest and says so."
    )
    i2_icons: str = Field(
        default="",
        description="A YAML table of i2 Analyst's Notebook icon types per entity type for ANX exports; "
        "unset: the shipped table (nimgraph/data/i2_icons.yaml).",
    )
    harm_index: str = Field(
        default="",
        description="A harm index YAML (category weights with name, source and year) for the assessments; "
        "unset: the shipped illustrative table.",
    )
    priority_matrix: str = Field(
        default="", description="A MoRiLE-style priority matrix YAML for the strategic assessment; unset: ours."
    )
    assessment_sections: Path = Field(
        default=Path("var/assessment-sections.yaml"),
        description="The analyst's own text for the assessments' free sections, kept across regenerations.",
    )
    map_tile_url: str = Field(
        default="", description="A tile server URL template for assessment maps; empty: no tiles, nothing fetched."
    )
    map_tile_attribution: str = Field(default="", description="The attribution the tile server asks for.")

    @field_validator("map_tile_url")
    @classmethod
    def _tile_url(cls, url: str) -> str:
        # it goes into the pages' Content-Security-Policy, so nothing but a plain http(s) URL template
        if url and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?/[A-Za-z0-9._~/{}%=&?-]*", url):
            raise ValueError(
                "NIMGRAPH_MAP_TILE_URL must be an http(s) URL template such as https://tiles.example/{z}/{x}/{y}.png"
            )
        return url

    analysis_workers: int = Field(
        default=2,
        ge=1,
        le=64,
        description=(
            "Processes one large betweenness estimate (20,000 nodes or more) is shared among; "
            "1 keeps it in the request's own process."
        ),
    )

    @property
    def reports_dir(self) -> Path:
        return self.work_dir / "reports"

    @property
    def development(self) -> bool:
        return self.env == "development"

    def secret(self, name: str) -> str:
        """The secret setting ``name`` (one of SECRET_SETTINGS); in development, a generated one if unset.

        A generated secret is random, kept in dev-secrets.json beside the access database (mode
        0600) so pseudonyms and the audit chain survive a restart, and announced on stderr: nobody
        can guess it, but it is not one an operator chose.
        """
        if name not in SECRET_SETTINGS:
            raise ValueError(f"{name!r} is not a secret setting: use one of {SECRET_SETTINGS}")
        value = getattr(self, name).get_secret_value()
        if value or not self.development or name == "id_key":  # the store keeps its own id key
            return value
        return _development_secret(self.access_db.parent / DEVELOPMENT_SECRETS_FILE, name)

    def insecure(self) -> list[str]:
        """Why these settings must not serve real data, one short reason each; empty when they may.

        Development is exempt from everything but a CORS wildcard, which no mode needs.
        """
        reasons = []
        if "*" in self.cors_origins:
            reasons.append("NIMGRAPH_CORS_ORIGINS contains '*': name the origins that may call the API")
        if self.development:
            return reasons
        if not self.api_keys:
            reasons.append("NIMGRAPH_API_KEYS is empty: set at least one key")
        for key, holder in self.api_keys.items():
            weak = "a development key" if key.startswith("dev-") else _weakness(key)
            if weak:
                reasons.append(f"the key of {holder.get('name')!r} is {weak}")
        for name in ("pseudonym_key", "audit_key"):
            if weak := _weakness(getattr(self, name).get_secret_value()):
                reasons.append(f"NIMGRAPH_{name.upper()} is {weak}")
        if (id_key := self.id_key.get_secret_value()) and (weak := _weakness(id_key)):
            reasons.append(f"NIMGRAPH_ID_KEY is {weak}")
        secrets_seen = Counter(
            [*self.api_keys, *(v for n in SECRET_SETTINGS if (v := getattr(self, n).get_secret_value()))]
        )
        if any(count > 1 for count in secrets_seen.values()):
            reasons.append("the same secret is used twice (API keys, pseudonym, audit and id keys must all differ)")
        return reasons


def _weakness(secret: str) -> str:
    """Why ``secret`` is guessable, or an empty string when it is not.

    >>> _weakness("a" * 40)
    'low in entropy (0 bits): generate one with `python -c "import secrets; print(secrets.token_urlsafe(32))"`'
    >>> _weakness("Vq3x9LrT0bNw2PzKc8YhJm5sGd4fEa7U")
    ''
    """
    if not secret:
        return "empty"
    if secret.lower() in PLACEHOLDER_SECRETS:
        return "a placeholder"
    if len(secret) < MIN_KEY_LENGTH:
        return f"shorter than {MIN_KEY_LENGTH} characters"
    counts = Counter(secret)
    bits = sum(n * math.log2(len(secret) / n) for n in counts.values())
    if bits < MIN_KEY_BITS:
        return (
            f"low in entropy ({bits:.0f} bits): generate one with "
            '`python -c "import secrets; print(secrets.token_urlsafe(32))"`'
        )
    return ""


def _development_secret(path: Path, name: str) -> str:
    """A random secret for development, made once and kept in ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = json.loads(path.read_text()) if path.is_file() else {}
    if name not in kept:
        kept[name] = secrets.token_urlsafe(32)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            json.dump(kept, out)
        print(
            f"nimgraph: development mode generated NIMGRAPH_{name.upper()} and kept it in {path}; "
            "set your own outside development",
            file=sys.stderr,
        )
    return kept[name]


@cache
def get_settings() -> Settings:
    return Settings()
