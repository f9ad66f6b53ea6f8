"""The one settings object, read from the environment (``NIMGRAPH_*``) and ``.env``."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NIMGRAPH_", env_file=".env", extra="ignore")

    store: str = Field(
        default="var/nimgraph.db",
        description="Where the graph lives: a file path for the embedded store.",
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
