"""Mutations of the jobs domain, one module per mutation."""
