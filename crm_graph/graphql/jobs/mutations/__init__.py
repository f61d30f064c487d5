"""Mutations of the jobs domain, one module per mutation; `JobMutation` gathers them."""

import strawberry

from crm_graph.graphql.jobs.mutations.clv_fit_start import clv_fit_start
from crm_graph.graphql.jobs.mutations.precompute_start import precompute_start


@strawberry.type
class JobMutation:
    precompute_start = precompute_start
    clv_fit_start = clv_fit_start
