"""HTTP endpoints other than GraphQL."""
