"""A deterministic generator of realistic store data (customers, consents, orders, activity, tags).

`generate_store(engine, store, customers=..., seed=...)` fills an empty store; the benchmark store
that performance figures are measured on is this generator at 1,000,000 customers.
"""

from crm_graph.generator.core import GenerationSummary, check_size, generate_store

__all__ = ["GenerationSummary", "check_size", "generate_store"]
