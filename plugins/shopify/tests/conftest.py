"""The core's fixtures (a SQLite and a PostgreSQL database, fresh stores) for this plugin's tests."""

from tests.conftest import api, backend, db_url, engine, make_store, session, store  # noqa: F401
