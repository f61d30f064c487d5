"""Mutations of segments, one module per mutation; `SegmentMutation` gathers them."""

import strawberry

from crm_graph.graphql.segments.mutations.segment_create import create_segment
from crm_graph.graphql.segments.mutations.segment_delete import delete_segment
from crm_graph.graphql.segments.mutations.segment_refresh import refresh_segment_count
from crm_graph.graphql.segments.mutations.segment_update import update_segment


@strawberry.type
class SegmentMutation:
    create_segment = create_segment
    update_segment = update_segment
    delete_segment = delete_segment
    refresh_segment_count = refresh_segment_count
