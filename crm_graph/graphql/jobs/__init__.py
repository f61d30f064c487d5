"""Background jobs in GraphQL: `job(id)`, `jobs(...)`, and the `Job` every work-starting mutation returns."""
