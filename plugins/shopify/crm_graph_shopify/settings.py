"""The settings a store gives to connect its Shopify shop (a custom app's Admin API access token)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from crm_graph.connectors import ConnectorSettings


class ShopifySettings(ConnectorSettings):
    """Shop address, access token, API version; the app secret signs webhooks."""

    url_fields = ("shop_url",)

    shop_url: str = Field(description="https://your-shop.myshopify.com")
    access_token: SecretStr = Field(description="Admin API access token (shpat_...).")
    api_version: str = Field(default="2025-01", pattern=r"^\d{4}-\d{2}$", description="Admin API version.")
    app_secret: SecretStr | None = Field(default=None, description="The app's client secret; verifies webhooks.")
    page_size: int = Field(default=100, ge=1, le=250, description="Records per GraphQL page.")
    timeout: float = Field(default=30.0, gt=0, description="Seconds to wait for an answer.")
    max_retries: int = Field(default=6, ge=0, le=20, description="Retries of a failing or throttled request.")
    retry_backoff: float = Field(default=0.5, ge=0, description="First retry delay in seconds (doubles each time).")
    overlap_seconds: int = Field(default=300, ge=0, description="How far back each incremental read starts.")

    @field_validator("shop_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if "://" not in value:
            value = "https://" + value
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be https://your-shop.myshopify.com")
        return value.rstrip("/")
