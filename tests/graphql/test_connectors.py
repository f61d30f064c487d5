"""GraphQL: registering a connector needs an admin key; settings come back without secrets; mistakes are typed."""

from crm_graph.graphql.relay import global_id, node_row_id

REGISTER = """
mutation($connector: String!, $settings: JSON!) {
  connectorRegister(connector: $connector, settings: $settings) {
    __typename
    ... on Connector { id connector enabled settings cursors { stream } }
    ... on UserError { code message field }
  }
}"""
LIST = "{ connectors { id connector settings lastSyncAt } installedConnectors { name secretFields } }"
SYNC = """mutation($connector: String!) { connectorSync(connector: $connector) {
  __typename ... on Job { id kind } ... on UserError { code message field } } }"""
NODE = "query($id: ID!) { node(id: $id) { __typename id ... on Connector { connector settings } } }"

SETTINGS = {"url": "https://shop.example.com", "consumer_key": "ck_live_1", "consumer_secret": "cs_live_SECRET",
            "webhook_secret": "wh_SECRET"}


def test_register_and_list_without_secrets(api, store):
    admin = api.key(store, "admin")
    body = api.post(REGISTER, {"connector": "woocommerce", "settings": SETTINGS}, key=admin)
    assert not body.get("errors"), body
    registered = body["data"]["connectorRegister"]
    assert registered["__typename"] == "Connector"
    assert registered["connector"] == "woocommerce" and registered["settings"]["url"] == "https://shop.example.com"
    listed = api.post(LIST, key=api.key(store, "read"))
    text = repr(body) + repr(listed)
    assert "SECRET" not in text and "ck_live_1" not in text
    installed = {c["name"]: c["secretFields"] for c in listed["data"]["installedConnectors"]}
    assert set(installed["woocommerce"]) == {"consumer_key", "consumer_secret", "webhook_secret"}
    assert listed["data"]["connectors"] == [{"id": registered["id"], "connector": "woocommerce",
                                             "settings": registered["settings"], "lastSyncAt": None}]


def test_only_admins_register_and_bad_settings_name_the_field(api, store):
    assert api.error_codes(REGISTER, {"connector": "woocommerce", "settings": SETTINGS},
                           key=api.key(store, "write")) == ["FORBIDDEN"]
    admin = api.key(store, "admin")
    bad_url = api.data(REGISTER, {"connector": "woocommerce", "settings": {**SETTINGS, "url": "ftp://x"}},
                       key=admin)["connectorRegister"]
    assert bad_url["__typename"] == "ValidationError" and bad_url["code"] == "BAD_USER_INPUT"
    assert bad_url["field"] == ["settings", "url"] and "settings.url" in bad_url["message"]
    missing = api.data(REGISTER, {"connector": "woocommerce", "settings": {"url": "https://shop.example.com"}},
                       key=admin)["connectorRegister"]
    assert missing["__typename"] == "ValidationError" and missing["field"][0] == "settings" and len(missing["field"]) == 2
    not_object = api.data(REGISTER, {"connector": "woocommerce", "settings": [1, 2]}, key=admin)["connectorRegister"]
    assert not_object["__typename"] == "ValidationError" and not_object["field"] == ["settings"]
    unknown = api.data(REGISTER, {"connector": "magento", "settings": {}}, key=admin)["connectorRegister"]
    assert unknown["__typename"] == "NotFoundError" and unknown["code"] == "NOT_FOUND"
    assert unknown["field"] == ["connector"] and "magento" in unknown["message"]
    assert api.data(LIST, key=admin)["connectors"] == []  # nothing was registered


def test_a_sync_of_an_unregistered_connector_is_not_found(api, store):
    answer = api.data(SYNC, {"connector": "woocommerce"}, key=api.key(store, "write"))["connectorSync"]
    assert answer["__typename"] == "NotFoundError" and answer["field"] == ["connector"]
    assert api.data("{ jobs { totalCount } }", key=api.key(store, "read"))["jobs"]["totalCount"] == 0


def test_a_sync_of_a_disabled_connector_is_a_validation_error(api, store):
    admin = api.key(store, "admin")
    disabled = """mutation($s: JSON!) { connectorRegister(connector: "woocommerce", settings: $s, enabled: false) {
      __typename } }"""
    assert api.data(disabled, {"s": SETTINGS}, key=admin)["connectorRegister"]["__typename"] == "Connector"
    answer = api.data(SYNC, {"connector": "woocommerce"}, key=api.key(store, "write"))["connectorSync"]
    assert answer["__typename"] == "ValidationError" and answer["field"] == ["connector"]
    assert "disabled" in answer["message"]


def test_connectors_are_nodes_of_their_own_store(api, store, make_store):
    other = make_store()
    mine = api.data(REGISTER, {"connector": "woocommerce", "settings": SETTINGS},
                    key=api.key(store, "admin"))["connectorRegister"]
    theirs = api.data(REGISTER, {"connector": "woocommerce", "settings": SETTINGS},
                      key=api.key(other, "admin"))["connectorRegister"]
    read = api.key(store, "read")
    node = api.data(NODE, {"id": mine["id"]}, key=read)["node"]
    assert node == {"__typename": "Connector", "id": mine["id"], "connector": "woocommerce",
                    "settings": mine["settings"]}
    assert "SECRET" not in repr(node)
    assert api.data(NODE, {"id": theirs["id"]}, key=read)["node"] is None
    assert api.data(NODE, {"id": "!!not-an-id!!"}, key=read)["node"] is None
    assert api.data(NODE, {"id": global_id("Segment", node_row_id(mine["id"], "Connector"))}, key=read)["node"] is None
    assert api.data("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [theirs["id"], mine["id"]]},
                    key=read)["nodes"] == [None, {"id": mine["id"]}]


def test_a_store_registers_at_most_the_bound_the_list_states(api, store, monkeypatch):
    import crm_graph.services.connectors as service

    monkeypatch.setattr(service, "MAX_CONNECTORS", 1)
    admin = api.key(store, "admin")
    assert api.data(REGISTER, {"connector": "woocommerce", "settings": SETTINGS}, key=admin)["connectorRegister"][
        "__typename"] == "Connector"
    again = api.data(REGISTER, {"connector": "woocommerce", "settings": {**SETTINGS, "url": "https://other.example.com"}},
                     key=admin)["connectorRegister"]
    assert again["__typename"] == "Connector"  # re-configuring one is not one more
    shopify = {"shop_url": "https://example.myshopify.com", "access_token": "shpat_SECRET"}
    refused = api.data(REGISTER, {"connector": "shopify", "settings": shopify}, key=admin)["connectorRegister"]
    assert refused["__typename"] == "ValidationError" and refused["field"] == ["connector"], refused
    assert [c["connector"] for c in api.data(LIST, key=admin)["connectors"]] == ["woocommerce"]


def test_more_installed_connectors_than_the_bound_is_a_configuration_error(monkeypatch):
    import pytest

    from crm_graph import plugins
    from crm_graph.errors import ConfigurationError

    monkeypatch.setattr(plugins, "MAX_CONNECTORS", 1)
    with pytest.raises(ConfigurationError, match="more than the 1"):
        plugins.connector_classes()
