"""crm-graph: a GraphQL backend for e-commerce CRM dashboards."""

__version__ = "0.1.0"
