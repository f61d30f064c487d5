"""The dashboard's analytics (SPEC §4 A–J) as plain service functions.

- `consent`: KPI cards, subscriptions over time, subscription × gender (A–C)
- `customers`: identified vs unidentified, spenders vs prospects, activity (D–F)
- `spenders`: value and frequency segments with their thresholds (G)
- `tags`: top tags (H)
- `rfm`: RFM scores per customer (I); `rfm_grid`: the grid, live or precomputed
- `period`: Putler's period KPIs and their time series (J)
- `precompute` fills the daily tables; `daily` reads them.
Each widget is one SQL statement (or a read of the daily tables when they cover the request).
"""
