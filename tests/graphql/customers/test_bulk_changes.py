"""Erasure, consent and tags in bulk: by ids in the request, by filter as a job; refusals change nothing."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from crm_graph.graphql.relay import global_id
from crm_graph.models import (
    ConsentEvent, Customer, CustomerErasure, CustomerIdentity, CustomerTag, ErasedIdentity, Order,
)
from crm_graph.services.customers.erasure import is_erased_identity
from tests.factories import StoreBuilder, utc
from tests.graphql.customers.helpers import wait_for_job

RESULT = """__typename ... on BulkChange { changed job { id status } } ... on UserError { code message field }"""
ERASE = "mutation($ids: [ID!], $filter: CustomerFilter, $all: Boolean) { customersErase(ids: $ids, filter: $filter, all: $all) { %s } }" % RESULT
CONSENT = """mutation($ids: [ID!], $filter: CustomerFilter, $state: ConsentState!, $reason: String, $all: Boolean) {
  customersConsentSet(channel: EMAIL, state: $state, optInLevel: CONFIRMED_OPT_IN, reason: $reason, ids: $ids, filter: $filter, all: $all) { %s } }""" % RESULT
TAG = "mutation($tags: [String!]!, $ids: [ID!], $filter: CustomerFilter) { customersTag(tags: $tags, ids: $ids, filter: $filter) { %s } }" % RESULT
UNTAG = "mutation($tags: [String!]!, $ids: [ID!], $filter: CustomerFilter) { customersUntag(tags: $tags, ids: $ids, filter: $filter) { %s } }" % RESULT
COUNT = "query($filter: CustomerFilter) { store { customerCount } customers(filter: $filter) { totalCount } }"


@pytest.fixture
def people(engine, store):
    with Session(engine, expire_on_commit=False) as session:
        b = StoreBuilder(session, store)
        anna = b.customer(email="anna@example.com", phone="+48601234567", first_name="Anna", last_name="K",
                          city="Kraków", country="PL", gender="FEMALE")
        jan = b.customer(email="jan@example.com", country="PL")
        bob = b.customer(email="bob@example.com", country="US")
        b.identity(anna, "woocommerce", "12")
        b.order(anna, "50.00", utc(2026, 1, 1), email="anna@example.com", phone="+48601234567",
                billing={"first_name": "Anna", "address_1": "Rynek 1"})
        b.order(None, "20.00", utc(2026, 1, 2), email="anna@example.com", billing={"first_name": "Anna"})
        b.order(jan, "10.00", utc(2026, 1, 3), email="jan@example.com")
        b.consent(anna, "EMAIL", "SUBSCRIBED", utc(2025, 1, 1), reason="form on anna@example.com", actor="Anna")
        b.tag(anna, "vip", utc(2026, 1, 1))
        b.commit()
    return {"anna": anna.id, "jan": jan.id, "bob": bob.id}


def gid(row_id: int) -> str:
    return global_id("Customer", row_id)


def test_erasure_removes_personal_data_everywhere_and_records_it(api, store, engine, people):
    key = api.key(store, "write")
    result = api.data(ERASE, {"ids": [gid(people["anna"])]}, key=key)["customersErase"]
    assert result == {"__typename": "BulkChange", "changed": 1, "job": None}
    with Session(engine) as session:
        anna = session.get(Customer, people["anna"])
        assert anna.erased_at is not None
        assert (anna.email, anna.phone, anna.first_name, anna.last_name, anna.city, anna.country, anna.gender) == (
            None, None, None, None, None, None, "UNKNOWN")
        orders = session.exec(select(Order).where(Order.store_id == store.id).order_by(Order.placed_at)).all()
        assert [(o.email, o.phone, o.billing) for o in orders[:2]] == [(None, None, None), (None, None, None)]
        assert orders[0].total == 50 and orders[2].email == "jan@example.com"  # amounts and others untouched
        events = session.exec(select(ConsentEvent).where(ConsentEvent.customer_id == anna.id)).all()
        assert [(e.state, e.reason, e.actor) for e in events] == [("SUBSCRIBED", None, None)]
        assert session.exec(select(CustomerIdentity).where(CustomerIdentity.customer_id == anna.id)).all() == []
        assert session.exec(select(CustomerTag).where(CustomerTag.customer_id == anna.id)).one().removed_at is not None
        record = session.exec(select(CustomerErasure).where(CustomerErasure.customer_id == anna.id)).one()
        assert record.actor.startswith("api-key:")
        assert is_erased_identity(session, store, "woocommerce", "12")
        assert is_erased_identity(session, store, "email", "ANNA@example.com")
        assert is_erased_identity(session, store, "phone", "+48601234567")
        assert not is_erased_identity(session, store, "email", "jan@example.com")
        assert len(session.exec(select(ErasedIdentity).where(ErasedIdentity.store_id == store.id)).all()) == 3
    read = api.key(store, "read")
    assert api.data(COUNT, key=read) == {"store": {"customerCount": 2}, "customers": {"totalCount": 2}}
    assert api.data("query($id: ID!) { customer(id: $id) { id } }", {"id": gid(people["anna"])}, key=read)["customer"] is None
    # erasing again is not an error of the data: the id is simply no longer a customer
    again = api.data(ERASE, {"ids": [gid(people["anna"])]}, key=key)["customersErase"]
    assert again["__typename"] == "NotFoundError"


def test_bulk_refusals_change_nothing(api, store, make_store, engine, people):
    key = api.key(store, "write")
    other = make_store()
    with Session(engine, expire_on_commit=False) as session:
        foreign = StoreBuilder(session, other).customer(email="x@example.com")
        session.commit()
    refusals = [
        ({"filter": {}}, "ValidationError"),                   # empty filter without all: true
        ({}, "ValidationError"),                               # nothing at all
        ({"ids": []}, "ValidationError"),
        ({"ids": [gid(i) for i in range(1, 1002)]}, "ValidationError"),
        ({"ids": [gid(people["anna"]), gid(foreign.id)]}, "NotFoundError"),
        ({"ids": [gid(people["anna"]), "nope"]}, "NotFoundError"),
        ({"ids": [gid(people["anna"]), str(people["jan"])]}, "NotFoundError"),  # a bare row id is not a global id
        ({"ids": [global_id("Order", people["anna"])]}, "NotFoundError"),  # nor is an id of another type
        ({"ids": [gid(people["anna"])], "filter": {"countries": ["PL"]}}, "ValidationError"),
        ({"filter": {"countries": ["Poland"]}}, "ValidationError"),
        ({"filter": {"segmentId": global_id("Segment", 123456)}}, "NotFoundError"),
        ({"filter": {"segmentId": "123456"}}, "NotFoundError"),
    ]
    for variables, typename in refusals:
        assert api.data(ERASE, variables, key=key)["customersErase"]["__typename"] == typename, variables
    with Session(engine) as session:
        assert session.exec(select(Customer).where(Customer.erased_at.is_not(None),
                                                   Customer.store_id.in_([store.id, other.id]))).all() == []


def test_a_bad_id_is_a_not_found_error_naming_its_place(api, store, make_store, engine, people):
    key = api.key(store, "write")
    other = make_store()
    with Session(engine, expire_on_commit=False) as session:
        foreign = StoreBuilder(session, other).customer(email="x@example.com")
        session.commit()
    malformed = api.data(ERASE, {"ids": [gid(people["anna"]), gid(people["jan"]), "nope"]}, key=key)["customersErase"]
    assert malformed == {"__typename": "NotFoundError", "code": "NOT_FOUND", "field": ["ids", "2"],
                         "message": malformed["message"]}
    assert "nope" in malformed["message"]
    foreign_id = gid(foreign.id)
    missing = api.data(ERASE, {"ids": [gid(people["anna"]), foreign_id]}, key=key)["customersErase"]
    assert (missing["__typename"], missing["code"], missing["field"]) == ("NotFoundError", "NOT_FOUND", ["ids", "1"])
    assert foreign_id in missing["message"] and str(foreign.id) not in missing["message"].replace(foreign_id, "")
    segment = api.data(ERASE, {"filter": {"segmentId": global_id("Segment", 123456)}}, key=key)["customersErase"]
    assert (segment["__typename"], segment["field"]) == ("NotFoundError", ["filter", "segmentId"])
    wrong_type = api.data(TAG, {"tags": ["x"], "ids": [global_id("Segment", people["anna"])]}, key=key)["customersTag"]
    assert (wrong_type["__typename"], wrong_type["field"]) == ("NotFoundError", ["ids", "0"])
    with Session(engine) as session:
        assert session.exec(select(Customer).where(Customer.erased_at.is_not(None),
                                                   Customer.store_id.in_([store.id, other.id]))).all() == []


def test_erase_by_filter_runs_as_a_job(api, store, engine, people):
    key = api.key(store, "write")
    result = api.data(ERASE, {"filter": {"countries": ["PL"]}}, key=key)["customersErase"]
    assert result["__typename"] == "BulkChange" and result["changed"] is None
    job = wait_for_job(api, key, result["job"]["id"])
    assert job["status"] == "SUCCEEDED" and job["counts"] == {"erased": 2}
    assert api.data(COUNT, key=key)["store"]["customerCount"] == 1


def test_erase_everything_needs_all_true(api, store, people):
    key = api.key(store, "write")
    result = api.data(ERASE, {"all": True}, key=key)["customersErase"]
    assert wait_for_job(api, key, result["job"]["id"])["counts"] == {"erased": 3}
    assert api.data(COUNT, key=key)["store"]["customerCount"] == 0


def test_set_consent_records_events_with_source_and_actor(api, store, engine, people):
    key = api.key(store, "write")
    result = api.data(CONSENT, {"ids": [gid(people["anna"]), gid(people["jan"])], "state": "SUBSCRIBED",
                                "reason": "asked by phone"}, key=key)["customersConsentSet"]
    assert result["changed"] == 1  # Anna already was SUBSCRIBED
    with Session(engine) as session:
        event = session.exec(select(ConsentEvent).where(ConsentEvent.customer_id == people["jan"])).one()
        assert (event.state, event.source, event.opt_in_level, event.reason) == ("SUBSCRIBED", "api", "CONFIRMED_OPT_IN", "asked by phone")
        assert event.actor.startswith("api-key:")
    subscribed = api.data(COUNT, {"filter": {"emailConsent": ["SUBSCRIBED"]}}, key=key)["customers"]["totalCount"]
    assert subscribed == 2
    by_filter = api.data(CONSENT, {"filter": {"countries": ["PL"]}, "state": "UNSUBSCRIBED"}, key=key)["customersConsentSet"]
    assert wait_for_job(api, key, by_filter["job"]["id"])["counts"] == {"changed": 2}
    assert api.data(COUNT, {"filter": {"emailConsent": ["UNSUBSCRIBED"]}}, key=key)["customers"]["totalCount"] == 2


def test_set_consent_refuses_redacted_and_long_reasons(api, store, people):
    key = api.key(store, "write")
    assert api.data(CONSENT, {"ids": [gid(people["jan"])], "state": "REDACTED"}, key=key)["customersConsentSet"]["__typename"] == "ValidationError"
    long = api.data(CONSENT, {"ids": [gid(people["jan"])], "state": "SUBSCRIBED", "reason": "x" * 501}, key=key)
    assert long["customersConsentSet"]["field"] == ["reason"]
    redacted = api.data(CONSENT, {"ids": [gid(people["jan"])], "state": "REDACTED"}, key=key)["customersConsentSet"]
    assert (redacted["code"], redacted["field"]) == ("BAD_USER_INPUT", ["state"])


def test_tag_and_untag_in_bulk(api, store, people):
    key = api.key(store, "write")
    ids = [gid(people["anna"]), gid(people["jan"])]
    assert api.data(TAG, {"tags": ["vip", " new "], "ids": ids}, key=key)["customersTag"]["changed"] == 3  # anna had vip
    assert api.data(TAG, {"tags": ["vip"], "ids": ids}, key=key)["customersTag"]["changed"] == 0
    assert api.data(COUNT, {"filter": {"tags": ["new"]}}, key=key)["customers"]["totalCount"] == 2
    job = api.data(UNTAG, {"tags": ["vip"], "filter": {"countries": ["PL"]}}, key=key)["customersUntag"]["job"]
    assert wait_for_job(api, key, job["id"])["counts"] == {"untagged": 2}
    assert api.data(COUNT, {"filter": {"tags": ["vip"]}}, key=key)["customers"]["totalCount"] == 0
    for bad in ([], [""], ["x" * 201], [f"t{i}" for i in range(51)]):
        assert api.data(TAG, {"tags": bad, "ids": ids}, key=key)["customersTag"]["__typename"] == "ValidationError"
