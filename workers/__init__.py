"""Background work on Dramatiq: the broker set-up and the actors, which call crm_graph services.

The broker is set from the settings before any actor module is imported (`workers.broker`), so a
worker process is started with the actors module::

    dramatiq workers.actors --processes 2 --threads 4

(or `crm-graph worker`). Without `CRM_GRAPH_REDIS_URL` the same actors run on worker threads inside
the API process (`workers.inprocess`).
"""
