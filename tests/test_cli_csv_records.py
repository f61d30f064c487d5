"""What a connector can send, a CSV file can send: anonymous visitors, activity, and customers named by
any source's id (``crm_id``); imported with the real CLI, checked over GraphQL, on both databases."""

from sqlmodel import Session

from crm_graph.connectors.records import CustomerRecord
from crm_graph.services.ingest import ingest_records
from tests.ingest_helpers import count
from tests.test_cli_connectors import crm_graph

CUSTOMERS = """
query { customers(first: 50, sort: CREATED, direction: ASC) {
  totalCount
  nodes { email firstName identified lastActivityAt ordersCount identities { crmId } tags { name }
          consents { channel state } }
} }
"""


def import_file(db_url, store, tmp_path, kind: str, content: str):
    path = tmp_path / f"{kind}.csv"
    path.write_text(content, encoding="utf-8")
    return crm_graph("import-csv", store.slug, str(path), "--kind", kind, database_url=db_url)


def synced_from_woocommerce(engine, store, external_id: str, email: str) -> None:
    """A customer the WooCommerce connector created (through the ingestion pipeline connectors use)."""
    with Session(engine, expire_on_commit=False) as session:
        ingest_records(session, store, [CustomerRecord(source="woocommerce", external_id=external_id, email=email)],
                       source="woocommerce")
        session.commit()


def customers(api, store) -> list[dict]:
    return api.data(CUSTOMERS, key=api.key(store, "read"))["customers"]["nodes"]


def test_anonymous_visitors_are_imported_as_not_identified(api, db_url, store, tmp_path):
    done = import_file(db_url, store, tmp_path, "customers",
                       "customer_id,has_account,email\nv1,false,\nv2,no,\na1,,a1@example.com\nm1,true,\nx1,perhaps,\n")
    assert done.returncode == 1, done.stderr  # some rows rejected
    assert "line 6: has_account 'perhaps' is not one of False, True" in done.stdout
    people = {person["identities"][0]["crmId"]: person for person in customers(api, store)}
    assert {crm: person["identified"] for crm, person in people.items()} == {
        "csv:v1": False, "csv:v2": False, "csv:a1": True, "csv:m1": True}
    again = import_file(db_url, store, tmp_path, "customers", "customer_id,has_account\nv1,false\n")
    assert again.returncode == 0 and "unchanged" in again.stdout
    assert len(customers(api, store)) == 4


def test_activity_kind_feeds_last_activity_and_the_activity_widget(api, db_url, store, tmp_path):
    listed = import_file(db_url, store, tmp_path, "sales", "a\n1\n")  # an unknown kind lists the kinds
    assert listed.returncode == 2 and "activity" in listed.stderr.split("known:")[1]
    assert import_file(db_url, store, tmp_path, "customers", "customer_id,email,created_at\n"
                       "c1,c1@example.com,2026-01-01\nc2,c2@example.com,2026-01-01\n").returncode == 0
    activity = ("customer_id,activity,occurred_at,external_id\n"
                "c1,visit,2026-03-30T10:00:00Z,\n"
                "c1,EMAIL_OPEN,2026-03-29T10:00:00Z,open-1\n"
                "c2,click,2026-01-02T10:00:00Z,\n"
                "nobody,visit,2026-03-30T10:00:00Z,\n"
                "c1,dance,2026-03-30,\n")
    done = import_file(db_url, store, tmp_path, "activity", activity)
    assert done.returncode == 1, done.stderr  # some rows rejected
    assert "line 5: no customer with this id, email or phone in the store" in done.stdout
    assert "line 6: activity 'dance' is not one of" in done.stdout
    last = {person["email"]: person["lastActivityAt"] for person in customers(api, store)}
    assert last == {"c1@example.com": "2026-03-30T10:00:00+00:00", "c2@example.com": "2026-01-02T10:00:00+00:00"}
    widget = api.data("{ dashboard(range: {from: \"2026-03-01\", to: \"2026-03-31\"}) "
                      "{ activity { active lowRisk highRisk customers } } }", key=api.key(store, "read"))
    assert widget["dashboard"]["activity"] == {"active": 1, "lowRisk": 0, "highRisk": 1, "customers": 2}
    # Re-importing the file (events with and without an external_id) adds nothing.
    assert count(api.engine, "activity_event", store.id) == 3
    assert import_file(db_url, store, tmp_path, "activity", activity).returncode == 1  # its bad rows again
    assert count(api.engine, "activity_event", store.id) == 3


def test_crm_id_names_another_sources_customer_in_every_kind(api, db_url, store, tmp_path):
    synced_from_woocommerce(api.engine, store, "123", "wanda@example.com")
    tags = import_file(db_url, store, tmp_path, "tags", "crm_id,tag\nwoocommerce:123,vip\nwoocommerce:999,vip\n"
                       "123,vip\nwoocommerce:123,x\n")
    assert tags.returncode == 1, tags.stderr  # some rows rejected
    assert "line 3: no customer with crm_id woocommerce:999 in the store" in tags.stdout
    assert "line 4: crm_id '123' is not source:external_id such as woocommerce:123" in tags.stdout
    both = import_file(db_url, store, tmp_path, "consents", "crm_id,customer_id,channel,state,occurred_at\n"
                       "woocommerce:123,,EMAIL,SUBSCRIBED,2026-03-01T00:00:00Z\n"
                       "woocommerce:123,7,SMS,SUBSCRIBED,2026-03-01T00:00:00Z\n"
                       "woocommerce:5,,SMS,SUBSCRIBED,2026-03-01T00:00:00Z\n")
    assert "line 3: give either crm_id or customer_id, not both" in both.stdout
    assert "line 4: no customer with crm_id woocommerce:5 in the store" in both.stdout
    activity = import_file(db_url, store, tmp_path, "activity", "crm_id,activity,occurred_at\n"
                           "woocommerce:123,visit,2026-03-02T00:00:00Z\nwoocommerce:9,visit,2026-03-02T00:00:00Z\n")
    assert "line 3: no customer with crm_id woocommerce:9 in the store" in activity.stdout
    orders = import_file(db_url, store, tmp_path, "orders", "order_id,placed_at,status,total,crm_id\n"
                         "o1,2026-03-03T00:00:00Z,paid,10,woocommerce:123\n"
                         "o2,2026-03-03T00:00:00Z,paid,10,woocommerce:999\n")
    assert orders.returncode == 1, orders.stderr  # some rows rejected
    assert "line 3: no customer with crm_id woocommerce:999 in the store" in orders.stdout
    update = import_file(db_url, store, tmp_path, "customers", "crm_id,first_name\nwoocommerce:123,Wanda\n"
                         "woocommerce:999,Nobody\n")
    assert "line 3: no customer with crm_id woocommerce:999 in the store" in update.stdout
    [person] = customers(api, store)  # nobody new was created by any of the files
    assert person["firstName"] == "Wanda" and person["ordersCount"] == 1
    assert person["identities"] == [{"crmId": "woocommerce:123"}]
    assert sorted(tag["name"] for tag in person["tags"]) == ["vip", "x"]
    assert person["lastActivityAt"] == "2026-03-03T00:00:00+00:00"
    assert {"channel": "EMAIL", "state": "SUBSCRIBED"} in person["consents"]


def test_an_erased_persons_crm_id_is_refused(api, db_url, store, tmp_path):
    synced_from_woocommerce(api.engine, store, "77", "gone@example.com")
    [person] = api.data("{ customers { nodes { id } } }", key=api.key(store, "read"))["customers"]["nodes"]
    erased = api.data("mutation($id: ID!) { customersErase(ids: [$id]) { __typename ... on BulkChange { changed } } }",
                      {"id": person["id"]}, key=api.key(store, "admin"))
    assert erased["customersErase"]["changed"] == 1
    for kind, content in (
            ("tags", "crm_id,tag\nwoocommerce:77,vip\n"),
            ("activity", "crm_id,activity,occurred_at\nwoocommerce:77,visit,2026-03-02T00:00:00Z\n"),
            ("consents", "crm_id,channel,state,occurred_at\nwoocommerce:77,EMAIL,SUBSCRIBED,2026-03-01T00:00:00Z\n"),
            ("customers", "crm_id,first_name\nwoocommerce:77,Back\n")):
        done = import_file(db_url, store, tmp_path, kind, content)
        assert "line 2: this person was erased (GDPR) and is not imported again" in done.stdout, (kind, done.stdout)
    assert customers(api, store) == []
