"""The dashboard analytics: plain functions over a store's data, computed in the database."""
