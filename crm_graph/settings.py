"""Process settings, read from the environment (prefix ``CRM_GRAPH_``) and an optional ``.env`` file."""

from functools import lru_cache
from typing import Literal

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
    import_dir: str = Field(default="imports", description="Where CSV files sent through the API wait for their import job.")
    max_page_size: int = Field(default=200, description="Largest page a list field returns.")
    max_query_cost: int = Field(
        default=5000,
        description="Largest cost of one GraphQL request (days of a daily series, rows of a page; see SECURITY.md).",
    )
    max_body_bytes: int = Field(default=1_000_000, description="Largest request body the API reads, in bytes.")
    auth_cache_seconds: float = Field(
        default=5.0,
        description="How long an API process reuses a key it has checked; a key revoked elsewhere works "
        "here at most this long. 0 checks the database on every request.",
    )
    dashboard_cache_seconds: float = Field(
        default=5.0,
        description="How long an API process reuses the dashboard figures it computed for a store (per range "
        "and settings); new data shows on the dashboard at most this much later. 0 computes every request.",
    )
    store_concurrency: int = Field(
        default=4, ge=1, le=64,
        description="Database calls one store's requests run at once in one API process; the store's "
        "other calls wait their turn (see SECURITY.md, Fairness between stores).",
    )
    store_queue_seconds: float = Field(
        default=10.0, ge=0,
        description="Longest a request's database call waits for its store's turn (or a free thread) "
        "before the request gets a retryable TOO_MANY_REQUESTS error.",
    )
    statement_timeout_seconds: float = Field(
        default=30.0, ge=0,
        description="Longest one database statement of an API request may run before it is stopped "
        "(QUERY_TIMEOUT); 0 for no limit. Worker jobs have none.",
    )
    cors_origins: str = Field(
        default="",
        description="Comma-separated browser origins allowed to call the API (CORS); empty allows none in "
        "production and http://localhost:* and http://127.0.0.1:* in development.",
    )

    connector_allowed_hosts: str = Field(
        default="",
        description="Comma-separated host names, IP addresses or networks (CIDR) that connectors may reach even "
        "when they are not public addresses (an internal shop); see SECURITY.md.",
    )
    allow_private_connector_urls: bool = Field(
        default=False,
        description="Let connectors reach loopback and private addresses (10/8, 172.16/12, 192.168/16, fc00::/7); "
        "link-local (cloud metadata) and other reserved addresses stay refused.",
    )

    secret_key: str = Field(
        default=DEV_SECRET_KEY,
        description="Signs download links (exports); production refuses the development default.",
    )
    export_link_seconds: int = Field(default=3600, ge=60, description="How long an export download link works.")

    @property
    def cors_origin_list(self) -> list[str]:
        """`cors_origins` as a list, without blanks and trailing slashes."""
        return [origin.strip().rstrip("/") for origin in self.cors_origins.split(",") if origin.strip()]
    worker_threads: int = Field(
        default=2, ge=1, le=64,
        description="Embedded mode: worker threads that `serve` and `demo` run jobs on (no Redis).",
    )
    worker_poll_ms: int = Field(
        default=100, ge=1, le=10_000,
        description="Embedded mode: how often idle worker threads check for due retries and a stop request "
                    "(a new job wakes them at once); stopping them takes about twice this.",
    )
    job_max_retries: int = Field(
        default=6, ge=0, le=30,
        description="Retries of a job after a transient error (platform 429/5xx, network, database).",
    )
    job_lease_seconds: int = Field(
        default=180, ge=5,
        description="A running job without a heartbeat for this long is presumed dead and re-queued.",
    )
    job_resend_after_seconds: int = Field(
        default=1800, ge=30,
        description="A queued job whose message was lost without an error (an API process killed between commit "
        "and send) is sent again this long after its creation or last send; a send that failed (Redis down) is "
        "retried on the reaper's next pass.",
    )
    job_time_limit_minutes: int = Field(default=360, ge=1, description="Longest a single job may run.")
    sync_interval_minutes: int = Field(
        default=60, ge=5, description="How often the scheduler syncs each enabled connector.",
    )
    precompute_delay_minutes: int = Field(
        default=30, ge=0, le=720,
        description="How long after a store's local midnight the scheduler precomputes the day before.",
    )
    export_ttl_hours: int = Field(default=24, ge=1, description="How long export files are kept.")
    import_upload_ttl_hours: int = Field(
        default=24, ge=1,
        description="Longest a CSV file sent through the API is kept; it is deleted when its import job ends, "
        "and the maintenance deletes any left (a job that never ended) after this long. The import's rejects report "
        "stays downloadable (`Job.download`) this long.",
    )
    webhook_max_age_hours: int = Field(
        default=72, ge=0,
        description="Webhook deliveries whose resource was modified (or which were sent) longer ago are "
        "refused as stale; platforms retry for up to 48 hours. 0 turns the check off.",
    )
    webhook_retention_days: int = Field(
        default=7, ge=1,
        description="How long the raw body of an applied webhook delivery is kept (for retries and "
        "inspection); the maintenance removes older ones.",
    )
    embedded_scheduler: bool = Field(
        default=False,
        description="Embedded mode: run the scheduler inside the API process (`serve` and `demo` turn it on).",
    )
    worker_metrics: bool | None = Field(
        default=None,
        description="Expose Dramatiq's Prometheus metrics from worker processes; unset: on when prometheus-client "
        "is installed.",
    )
    redis_namespace: str = Field(default="crm_graph", description="Prefix of the broker's Redis keys.")
    redis_heartbeat_timeout_ms: int = Field(
        default=60_000, ge=1_000,
        description="A worker silent this long is dead; its unfinished messages go back to the queue.",
    )
    redis_maintenance_chance: int = Field(
        default=10_000, ge=1, le=1_000_000,
        description="Per million broker commands, how many also requeue dead workers' messages.",
    )

    # Observability (crm_graph/observability; docs/OPERATIONS.md, Metrics).
    log_format: Literal["text", "json"] = Field(
        default="text", description="text, or json: one JSON object per log line (app, uvicorn, Dramatiq).",
    )
    metrics_token: str | None = Field(
        default=None,
        description="Bearer token `/metrics` on the API asks for; in production /metrics is served on the API "
        "only with a token (or on CRM_GRAPH_METRICS_PORT).",
    )
    metrics_port: int | None = Field(
        default=None, ge=1, le=65535,
        description="Serve `/metrics` on this port (of CRM_GRAPH_METRICS_HOST) instead of the API's.",
    )
    metrics_host: str = Field(default="127.0.0.1", description="Address the CRM_GRAPH_METRICS_PORT server binds to.")
    tracing: bool = Field(
        default=False,
        description="OpenTelemetry traces (needs the `tracing` extra); the exporter follows OTEL_TRACES_EXPORTER "
        "(none by default).",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
