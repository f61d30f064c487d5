"""A fake WooCommerce shop registered as a store's connector, for the webhook and retention tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session

from crm_graph.services.connectors import register_connector

#: The webhook secret the registered connector checks signatures with.
WEBHOOK_SECRET = "wh-secret"


@contextmanager
def registered_fake_woocommerce(engine, store) -> Iterator:
    """A running fake WooCommerce, registered for `store` with `WEBHOOK_SECRET`; stopped on exit.

    Short timeouts and no retries: a test that makes the shop fail does not wait for it.
    """
    from crm_graph_woocommerce.fake_server import FakeWooCommerce

    fake = FakeWooCommerce(key="ck", secret="cs", timeout_seconds=0.6)
    url = fake.start()
    try:
        with Session(engine) as session:
            register_connector(session, store, "woocommerce", {
                "url": url, "consumer_key": "ck", "consumer_secret": "cs", "webhook_secret": WEBHOOK_SECRET,
                "timeout": 0.5, "max_retries": 0})
            session.commit()
        yield fake
    finally:
        fake.stop()
