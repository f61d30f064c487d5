"""Mutations of the customers domain, one module per mutation; `CustomerMutation` gathers them."""

import strawberry

from crm_graph.graphql.customers.mutations.consent_set import set_consent
from crm_graph.graphql.customers.mutations.customer_create import create_customer
from crm_graph.graphql.customers.mutations.customer_update import update_customer
from crm_graph.graphql.customers.mutations.customers_erase import erase_customers
from crm_graph.graphql.customers.mutations.customers_export import export_customers
from crm_graph.graphql.customers.mutations.customers_tag import tag_customers, untag_customers


@strawberry.type
class CustomerMutation:
    create_customer = create_customer
    update_customer = update_customer
    erase_customers = erase_customers
    set_consent = set_consent
    tag_customers = tag_customers
    untag_customers = untag_customers
    export_customers = export_customers
