"""The `Store` the API key belongs to."""
