"""Mutations of segments, one module per mutation; `SegmentMutation` gathers them."""

import strawberry

from crm_graph.graphql.segments.mutations.segment_count_refresh import segment_count_refresh
from crm_graph.graphql.segments.mutations.segment_create import segment_create
from crm_graph.graphql.segments.mutations.segment_delete import segment_delete
from crm_graph.graphql.segments.mutations.segment_update import segment_update


@strawberry.type
class SegmentMutation:
    segment_create = segment_create
    segment_update = segment_update
    segment_delete = segment_delete
    segment_count_refresh = segment_count_refresh

