"""The settings a store gives to connect its WooCommerce shop."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator

from crm_graph.connectors import ConnectorSettings


class WooCommerceSettings(ConnectorSettings):
    """Where the shop is and how to authenticate (REST API keys from WooCommerce → Settings → Advanced)."""

    url_fields = ("url",)

    url: str = Field(description="The shop's address, e.g. https://shop.example.com.")
    consumer_key: SecretStr = Field(description="REST API consumer key (ck_...).")
    consumer_secret: SecretStr = Field(description="REST API consumer secret (cs_...).")
    auth: Literal["basic", "query"] = Field(
        default="basic",
        description="basic: HTTP Basic auth; query: keys in the query string, for servers that drop the "
                    "Authorization header (HTTPS only).")
    webhook_secret: SecretStr | None = Field(default=None, description="The secret set on the shop's webhooks.")
    consent_meta_key: str | None = Field(
        default=None, description="Customer meta key holding newsletter consent (yes/no, 1/0, subscribed...).")
    status_map: dict[str, str] = Field(
        default_factory=dict, description="Custom order statuses to PENDING/PAID/COMPLETED/CANCELLED/REFUNDED/FAILED.")
    timeout: float = Field(default=30.0, gt=0, description="Seconds to wait for an answer.")
    max_retries: int = Field(default=6, ge=0, le=20, description="Retries of a failing request.")
    retry_backoff: float = Field(default=0.5, ge=0, description="First retry delay in seconds (doubles each time).")
    overlap_seconds: int = Field(default=300, ge=0, description="How far back each incremental read starts.")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http:// for a local shop)")
        return value.rstrip("/")
