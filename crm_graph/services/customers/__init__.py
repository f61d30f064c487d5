"""Customers: the list and its facets, Customer 360, and the changes a store owner makes.

- `listing`: the filtered, sorted, cursor-paged list and its total count.
- `facets`: counts by country, product, revenue band and customer-since cohort for a filter.
- `profile`: Customer 360, read in batches for DataLoaders.
- `editing`: create and update a customer (email and phone validation).
- `selection`: which customers a bulk change acts on (bounded ids, or a filter).
- `consent`, `tagging`, `erasure`: the bulk changes.
"""

from crm_graph.services.customers.profile import get_customer, identities_by_customer

__all__ = ["get_customer", "identities_by_customer"]
