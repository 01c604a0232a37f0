"""Durable outbox, routing and scheduling of accepted alerts (built by the dispatch issue)."""
