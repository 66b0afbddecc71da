"""Database helpers that depend on the engine: the per-customer advisory lock."""

from __future__ import annotations

from django.db import connection


def customer_lock(*keys: str) -> None:
    """Serialise writers that claim the same customer until the current transaction ends.

    On PostgreSQL, takes a transaction-scoped advisory lock per non-empty key (in sorted order, so
    that two writers holding overlapping keys never deadlock); elsewhere (SQLite, which already
    serialises writers) it does nothing. Must be called inside ``transaction.atomic``: the locks
    are released at commit or rollback.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("customer_lock() holds until commit: call it inside transaction.atomic")
    if connection.vendor != "postgresql":
        return
    wanted = sorted({key for key in keys if key})
    with connection.cursor() as cursor:
        for key in wanted:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])
