"""GraphQL: registering a connector needs an admin key; settings come back without secrets."""

REGISTER = """
mutation($connector: String!, $settings: JSON!) {
  registerConnector(connector: $connector, settings: $settings) { connector enabled settings cursors { stream } }
}"""
LIST = "{ connectors { connector settings lastSyncAt } installedConnectors { name secretFields } }"

SETTINGS = {"url": "https://shop.example.com", "consumer_key": "ck_live_1", "consumer_secret": "cs_live_SECRET",
            "webhook_secret": "wh_SECRET"}


def test_register_and_list_without_secrets(api, store):
    admin = api.key(store, "admin")
    body = api.post(REGISTER, {"connector": "woocommerce", "settings": SETTINGS}, key=admin)
    assert not body.get("errors"), body
    registered = body["data"]["registerConnector"]
    assert registered["connector"] == "woocommerce" and registered["settings"]["url"] == "https://shop.example.com"
    listed = api.post(LIST, key=api.key(store, "read"))
    text = repr(body) + repr(listed)
    assert "SECRET" not in text and "ck_live_1" not in text
    installed = {c["name"]: c["secretFields"] for c in listed["data"]["installedConnectors"]}
    assert set(installed["woocommerce"]) == {"consumer_key", "consumer_secret", "webhook_secret"}
    assert listed["data"]["connectors"] == [{"connector": "woocommerce", "settings": registered["settings"],
                                             "lastSyncAt": None}]


def test_only_admins_register_and_bad_settings_name_the_field(api, store):
    assert api.error_codes(REGISTER, {"connector": "woocommerce", "settings": SETTINGS},
                           key=api.key(store, "write")) == ["FORBIDDEN"]
    admin = api.key(store, "admin")
    body = api.post(REGISTER, {"connector": "woocommerce", "settings": {**SETTINGS, "url": "ftp://x"}}, key=admin)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" and "settings.url" in body["errors"][0]["message"]
    body = api.post(REGISTER, {"connector": "magento", "settings": {}}, key=admin)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
