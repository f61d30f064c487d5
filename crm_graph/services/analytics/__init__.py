"""The edrone dashboard's analytics (SPEC §4 A–H) as plain service functions.

- `consent`: KPI cards, subscriptions over time, subscription × gender (A–C)
- `customers`: identified vs unidentified, spenders vs prospects, activity (D–F)
- `spenders`: value and frequency segments with their thresholds (G)
- `tags`: top tags (H)
- `precompute` fills the daily tables; `daily` reads them.
Each widget is one SQL statement (or a read of the daily tables when they cover the request).
"""
