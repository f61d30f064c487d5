"""API keys of the caller's store, for admin keys: list, create, revoke."""
