"""Connector secrets never leave the server: no query field of the schema returns them, even to admins."""

from __future__ import annotations

import json

from sqlmodel import Session

from crm_graph.graphql.relay import global_id
from crm_graph.graphql.schema import schema
from crm_graph.services.connectors import register_connector
from tests.graphql.schema_walk import RequestBuilder, Samples, root_fields

SECRETS = {"consumer_key": "ck_live_secret_1", "consumer_secret": "cs_live_secret_2", "webhook_secret": "wh_secret_3"}


def test_no_query_returns_a_connector_secret(api, engine, store):
    with Session(engine, expire_on_commit=False) as session:
        config = register_connector(session, store, "woocommerce", {"url": "https://shop.example.com", **SECRETS})
        session.commit()
        connector_id = global_id("Connector", config.id)
    key = api.key(store, "admin")
    samples = Samples(ids={"connector": [connector_id]}, first_day="2026-01-01", last_day="2026-01-31",
                      fill_optional_ids=True)
    builder = RequestBuilder(schema._schema, samples)
    answered, seen = [], ""
    for name in root_fields(schema._schema, "query"):
        if "connector" not in name.lower():
            continue
        request = builder.build("query", name)
        body = api.post(request.query, request.variables, key=key)
        text = json.dumps(body)
        for secret in SECRETS.values():
            assert secret not in text, (name, body)
        answered.append(name)
        seen += text
    assert answered, "no connector query in the schema"
    node = api.post("query($id: ID!) { node(id: $id) { ... on Connector { settings cursors { value } } } }",
                    {"id": connector_id}, key=key)
    assert node["data"]["node"]["settings"]["url"] == "https://shop.example.com"
    for secret in SECRETS.values():
        assert secret not in json.dumps(node)
    assert "https://shop.example.com" in seen  # the settings were returned, only without their secrets
