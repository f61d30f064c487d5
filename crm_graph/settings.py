"""Process settings, read from the environment (prefix ``CRM_GRAPH_``) and an optional ``.env`` file."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


#: The development default of `secret_key`; `create_app` refuses it in production.
DEV_SECRET_KEY = "dev-only-secret-change-me"


class Settings(BaseSettings):
    """Everything a process of crm-graph needs to know about its environment.

    The defaults are the embedded mode: a SQLite file in the working directory and in-process
    workers, so that nothing has to be installed to try it.
    """

    model_config = SettingsConfigDict(env_prefix="CRM_GRAPH_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///crm_graph.db",
        description="SQLAlchemy URL: sqlite:///file.db or postgresql+psycopg://user@host/db.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis URL for the Dramatiq broker; unset runs jobs in-process.",
    )
    log_level: str = Field(default="INFO", description="Python logging level name.")
    production: bool = Field(
        default=False,
        description="Production switch: no GraphiQL, no introspection, no GET queries, no dev store.",
    )
    dev_store: str | None = Field(
        default=None,
        description="Development only: requests without an API key act on this store (slug) as admin.",
    )
    host: str = Field(default="127.0.0.1", description="Address `crm-graph serve` binds to.")
    port: int = Field(default=8000, description="Port `crm-graph serve` listens on.")
    export_dir: str = Field(default="exports", description="Where background exports are written.")
    max_page_size: int = Field(default=200, description="Largest page a list field returns.")
    secret_key: str = Field(
        default=DEV_SECRET_KEY,
        description="Signs download links (exports); production refuses the development default.",
    )
    export_link_seconds: int = Field(default=3600, ge=60, description="How long an export download link works.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
