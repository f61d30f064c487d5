"""Lifecycle and marketing analytics (SPEC §4.O): predicted CLV, stages, cohorts, rhythm, products, channels."""
