"""Alembic migrations of the ledger schema. Run through :func:`dialer.ledger.migrate`."""
