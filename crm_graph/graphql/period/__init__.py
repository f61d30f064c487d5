"""GraphQL fields of Putler's period KPIs and their time series (SPEC §4.J)."""
