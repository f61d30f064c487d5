"""The dashboard's analytics (docs/metrics.md, widgets A–H, RFM grid and period KPIs) as plain service functions, answered through one runner.

- `contract`: how a metric is declared (arguments, live computation, stored form); `metrics`: every
  built-in figure declared as one; `runner`: answers any registered metric (stored when fresh,
  brought forward, or live) with its freshness (docs/analytics.md)
- `consent`: KPI cards, subscriptions over time, subscription × gender (A–C)
- `customers`: identified vs unidentified, spenders vs prospects, activity (D–F)
- `spenders`: value and frequency segments with their thresholds (G)
- `tags`: top tags (H)
- `rfm`: RFM scores per customer (I); `rfm_grid`: the grid, live or precomputed
- `period`: Putler's period KPIs and their time series (J)
- `precompute` writes the stored form of every registered metric; `daily` reads the daily tables.
- `sql`: the SQL helpers every statement shares (tuning, local days, buckets, counted statuses, money).
Each widget is one SQL statement (or a read of the stored rows when they cover the request).
"""
