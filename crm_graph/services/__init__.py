"""Domain logic and analytics as plain functions: no GraphQL and no HTTP in here.

Convention: a service function takes a SQLModel `Session` first and, when it acts on a store's data,
the `Store` second (taken from the request context or the job, never from client input).
"""
