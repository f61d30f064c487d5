"""crm-graph's Shopify connector (GraphQL Admin API)."""

__version__ = "0.1.0"
