"""Alembic migrations of crm-graph (shipped inside the package as `crm_graph.migrations`)."""
