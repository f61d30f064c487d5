"""The GraphQL Admin API queries the connector sends (one page of a connection each)."""

_PAGE = "pageInfo { hasNextPage endCursor }"
_MONEY = "shopMoney { amount currencyCode }"
_CONSENT = "marketingState marketingOptInLevel consentUpdatedAt"

CUSTOMERS = f"""
query Customers($first: Int!, $after: String, $query: String) {{
  customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    {_PAGE}
    nodes {{
      id email phone firstName lastName createdAt updatedAt tags
      defaultAddress {{ countryCodeV2 city }}
      emailMarketingConsent {{ {_CONSENT} }}
      smsMarketingConsent {{ {_CONSENT} }}
    }}
  }}
}}
"""

ORDERS = f"""
query Orders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    {_PAGE}
    nodes {{
      id name createdAt processedAt updatedAt cancelledAt displayFinancialStatus displayFulfillmentStatus
      email phone currencyCode
      customer {{ id email phone firstName lastName }}
      billingAddress {{ countryCodeV2 city firstName lastName phone }}
      totalPriceSet {{ {_MONEY} }} subtotalPriceSet {{ {_MONEY} }} totalDiscountsSet {{ {_MONEY} }}
      totalShippingPriceSet {{ {_MONEY} }} totalTaxSet {{ {_MONEY} }}
      customerJourneySummary {{ firstVisit {{ source utmParameters {{ source medium }} }} }}
      lineItems(first: 250) {{
        nodes {{ id name sku quantity product {{ id }} variant {{ id }}
                 originalUnitPriceSet {{ {_MONEY} }} discountedTotalSet {{ {_MONEY} }} }}
      }}
      refunds {{ id createdAt note totalRefundedSet {{ {_MONEY} }} }}
    }}
  }}
}}
"""

PRODUCTS = f"""
query Products($first: Int!, $after: String, $query: String) {{
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    {_PAGE}
    nodes {{ id title productType updatedAt variants(first: 1) {{ nodes {{ sku }} }} }}
  }}
}}
"""

EXISTS = """
query Exists($id: ID!) {
  node(id: $id) { id }
}
"""

#: How many nodes a read will see, per connection (the count fields of API 2024-04 on). Without a
#: `limit` argument (2025-07 on) a large count comes back as AT_LEAST 10,000: then no total is shown.
COUNTS = {
    connection: f"""
query {name}Count($query: String) {{
  {connection}Count(query: $query) {{ count precision }}
}}
"""
    for connection, name in (("customers", "Customers"), ("orders", "Orders"), ("products", "Products"))
}

BY_STREAM = {"customers": ("Customers", CUSTOMERS), "orders": ("Orders", ORDERS), "products": ("Products", PRODUCTS)}
