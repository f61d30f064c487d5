"""GraphQL fields of the RFM grid (SPEC §4.I)."""
