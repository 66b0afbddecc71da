"""Deal registrations: draft, submit with conflict detection, pre-check, return, approve,
reject, withdraw, expiry and extensions."""

from __future__ import annotations

__all__: list[str] = []
