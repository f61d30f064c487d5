"""Lifecycle and marketing analytics (docs/metrics.md, “Lifecycle and marketing”).

- `clv`: the per-store CLV fit job (`fit_clv_models`) and its predictions, on `bgnbd` and
  `gamma_gamma`;
- `stages`: lifecycle stage per customer and counts over time;
- `cohorts`, `rhythm`, `products`, `channels`: cohort retention, purchase rhythm, product popularity
  and pairs, acquisition channels with CAC;
- `sql`: the SQL pieces they share (local days on SQLite and PostgreSQL).

Definitions: docs/metrics.md, "Lifecycle and marketing".
"""
