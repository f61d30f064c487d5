"""GraphQL fields of the RFM grid (docs/metrics.md, “RFM grid”)."""
