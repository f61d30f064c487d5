"""Lifecycle and marketing analytics (docs/metrics.md, “Lifecycle and marketing”): predicted CLV, stages, cohorts, rhythm, products, channels."""
