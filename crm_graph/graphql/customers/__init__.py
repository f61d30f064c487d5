"""Customers: the list, one customer, and their identities."""
