"""Opportunities and the pipeline: from an approved registration or an accepted lead, stage
moves, won and lost."""

from __future__ import annotations

__all__: list[str] = []
