"""The data model's vocabularies as GraphQL enums."""

import strawberry

from crm_graph.models import enums

Gender = strawberry.enum(enums.Gender, description="A customer's gender: UNKNOWN was never given, REFUSED was declined.")
Channel = strawberry.enum(enums.Channel, description="A marketing consent channel.")
ConsentState = strawberry.enum(enums.ConsentState, description="The state recorded by a consent event.")
ConsentBucket = strawberry.enum(
    enums.ConsentBucket,
    description="Dashboard bucket: SUBSCRIBED; UNSUBSCRIBED (also INVALID); UNKNOWN (no event, NOT_SUBSCRIBED, PENDING, REDACTED).",
)
OptInLevel = strawberry.enum(enums.OptInLevel, description="How a consent was confirmed.")
OrderStatus = strawberry.enum(
    enums.OrderStatus, description="Normalised order status; PAID, COMPLETED and REFUNDED orders are counted."
)
ActivityKind = strawberry.enum(enums.ActivityKind, description="What a customer did.")
JobStatus = strawberry.enum(enums.JobStatus, description="Where a background job is in its life.")
Role = strawberry.enum(enums.Role, description="What an API key may do: READ < WRITE < ADMIN.")
RfmScheme = strawberry.enum(enums.RfmScheme, description="RFM scoring: QUINTILE (5x5, by rank) or EDRONE (4x4).")
