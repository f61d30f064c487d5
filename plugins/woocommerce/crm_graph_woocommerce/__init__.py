"""crm-graph's WooCommerce connector (REST API v3)."""

__version__ = "0.1.0"
