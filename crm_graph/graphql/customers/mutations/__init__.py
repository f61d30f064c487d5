"""Mutations of the customers domain, one module per mutation; `CustomerMutation` gathers them."""

import strawberry

from crm_graph.graphql.customers.mutations.customer_create import customer_create
from crm_graph.graphql.customers.mutations.customer_update import customer_update
from crm_graph.graphql.customers.mutations.customers_consent_set import customers_consent_set
from crm_graph.graphql.customers.mutations.customers_erase import customers_erase
from crm_graph.graphql.customers.mutations.customers_export import customers_export
from crm_graph.graphql.customers.mutations.customers_import import customers_import
from crm_graph.graphql.customers.mutations.customers_tag import customers_tag
from crm_graph.graphql.customers.mutations.customers_untag import customers_untag


@strawberry.type
class CustomerMutation:
    customer_create = customer_create
    customer_update = customer_update
    customers_erase = customers_erase
    customers_consent_set = customers_consent_set
    customers_tag = customers_tag
    customers_untag = customers_untag
    customers_export = customers_export
    customers_import = customers_import
