"""Outbound webhooks: events the ledger's outbox holds, signed and delivered to the customer's
endpoints (``[[webhooks]]`` in dialer.toml). Plain functions; Celery and the runner call them."""
