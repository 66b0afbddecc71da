"""Exactly one beat: the schedule is sent only by the beat that holds the lease.

``LeasedScheduler`` is django-celery-beat's ``DatabaseScheduler`` (the schedule lives in the
database, editable in the admin) that sends nothing unless it holds the ``SchedulerLease`` row
named ``"beat"``. It takes and renews the lease with one conditional UPDATE (``holder`` is this
process, or the lease has expired), so of two beats started by mistake (two ``beat`` containers,
``worker -B`` next to a ``beat``...) one sends and the other stands by, logging once that it
does; when the holder stops (crash, host gone) its lease runs out after
``PRM_BEAT_LEASE_SECONDS`` and a standby takes over. Closing the scheduler releases the lease.

Clocks: the lease times come from each beat's clock; keep the hosts' clocks in sync (NTP).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, InterfaceError
from django.db.models import Q
from django.utils import timezone
from django_celery_beat.schedulers import DatabaseScheduler

log = logging.getLogger(__name__)

LEASE_NAME = "beat"


def lease_seconds() -> float:
    return float(getattr(settings, "PRM_BEAT_LEASE_SECONDS", 60))


class LeasedScheduler(DatabaseScheduler):
    """A ``DatabaseScheduler`` that sends the schedule only while it holds the beat lease."""

    lease_name = LEASE_NAME

    def __init__(self, *args, **kwargs):
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease_ttl = timedelta(seconds=lease_seconds())
        self.holding = False
        self._lease_until = None
        self._told_standby = False
        super().__init__(*args, **kwargs)
        # A tick at least every third of the lease, so that the holder renews well in time.
        self.max_interval = min(self.max_interval, self.lease_ttl.total_seconds() / 3)

    # --- the lease ------------------------------------------------------------------------

    def now(self):
        """The time the lease is reckoned in (tests move it)."""
        return timezone.now()

    def acquire_lease(self) -> bool:
        """Take or renew the lease; True while this scheduler holds it."""
        from prm.models import SchedulerLease

        now = self.now()
        until = now + self.lease_ttl
        try:
            taken = (
                SchedulerLease.objects.filter(name=self.lease_name)
                .filter(Q(holder=self.holder) | Q(expires_at__lte=now))
                .update(holder=self.holder, expires_at=until)
            )
            if not taken:
                # The very first beat: the row does not exist yet (two may race to create it).
                SchedulerLease.objects.bulk_create(
                    [SchedulerLease(name=self.lease_name, holder=self.holder, expires_at=until)],
                    ignore_conflicts=True,
                )
                taken = SchedulerLease.objects.filter(
                    name=self.lease_name, holder=self.holder
                ).exists()
        except (DatabaseError, InterfaceError) as exc:
            log.warning("Beat lease: database error (%s); sending nothing until it answers", exc)
            taken = False
        self._lease_until = until if taken else None
        return bool(taken)

    def release_lease(self) -> None:
        from prm.models import SchedulerLease

        try:
            SchedulerLease.objects.filter(name=self.lease_name, holder=self.holder).update(
                expires_at=self.now()
            )
        except (DatabaseError, InterfaceError) as exc:
            log.warning("Beat lease: could not release it (%s); it expires by itself", exc)
        self.holding = False
        self._lease_until = None

    def holds_lease(self) -> bool:
        """Renew the lease when a third of it has passed (every tick or so) and say whether this
        scheduler may send now."""
        renew_after = self.lease_ttl * 2 / 3
        if self.holding and self._lease_until and self.now() < self._lease_until - renew_after:
            return True
        was_holding = self.holding
        self.holding = self.acquire_lease()
        if self.holding and not was_holding:
            log.info("Beat lease taken by %s: this beat sends the schedule", self.holder)
            self._told_standby = False
            self._reload_schedule()
        elif not self.holding:
            if was_holding:
                log.warning("Beat lease lost by %s: another beat sends the schedule", self.holder)
            if not self._told_standby:
                self._tell_standby()
        return self.holding

    def _tell_standby(self) -> None:
        from prm.models import SchedulerLease

        try:
            lease = SchedulerLease.objects.filter(name=self.lease_name).first()
        except (DatabaseError, InterfaceError):
            lease = None
        log.warning(
            "Another beat (%s) holds the beat lease until %s: this beat (%s) stands by and sends "
            "nothing; it takes over if that one stops.",
            lease.holder if lease else "?",
            lease.expires_at.isoformat() if lease else "?",
            self.holder,
        )
        self._told_standby = True

    def _reload_schedule(self) -> None:
        """Read the schedule afresh on taking over: the last holder ran entries since this one
        last read it, and must not have them sent again."""
        self.sync()
        self._schedule = self.all_as_schedule()
        # As DatabaseScheduler does on a schedule change: the next tick rebuilds its heap from
        # what was just read (and consumes the flag, so that it does not rebuild it again).
        self._heap = []
        self._heap_invalidated = True

    # --- the scheduler --------------------------------------------------------------------

    def tick(self, *args, **kwargs):
        if not self.holds_lease():
            return self.max_interval
        return super().tick(*args, **kwargs)

    def close(self):
        try:
            super().close()
        finally:
            if self.holding:
                self.release_lease()
