"""A tiny third-party plugin for crm-graph's tests."""
