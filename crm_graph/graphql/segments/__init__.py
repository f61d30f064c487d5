"""Saved segments: a named customer filter, its live members, its counts and their history."""
