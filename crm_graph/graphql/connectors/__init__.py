"""GraphQL domain of connectors: installed connectors, a store's registrations, registering one."""
