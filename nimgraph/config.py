"""The one settings object, read from the environment (``NIMGRAPH_*``) and ``.env``."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    @property
    def reports_dir(self) -> Path:
        return self.work_dir / "reports"


@cache
def get_settings() -> Settings:
    return Settings()
