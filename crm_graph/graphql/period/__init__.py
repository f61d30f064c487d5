"""GraphQL fields of Putler's period KPIs and their time series (docs/metrics.md, “Period KPIs”)."""
