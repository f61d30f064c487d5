"""What an operator sees of a running crm-graph: Prometheus metrics, structured logs, traces.

- `context`: the request id (and store id) of the work being done, carried by contextvars.
- `logging_config`: one logging setup for the app, uvicorn and Dramatiq (`CRM_GRAPH_LOG_FORMAT`).
- `metrics`: the API's Prometheus series and the `/metrics` endpoint.
- `http`: the ASGI middleware that gives each request its id and counts it.
- `tracing`: OpenTelemetry spans, when the `tracing` extra is installed and switched on.
"""
