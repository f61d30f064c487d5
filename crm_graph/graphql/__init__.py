"""The GraphQL API: one folder per domain (types, queries, mutations), composed in `schema.py`."""
