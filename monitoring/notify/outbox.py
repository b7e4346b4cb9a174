"""What webhook deliveries and alert emails share: the retry schedule and claiming a row to send it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models

from monitoring.notify.models import DeliveryStatus

# A row the worker may still send: never tried yet, or failed with a retry scheduled.
OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)


def retry_schedule() -> list[int]:
    """Seconds to wait after each failed attempt; when it runs out, the row gives up."""
    return list(settings.NOTIFY_RETRY_SCHEDULE)


def retry_delay(*, attempts: int) -> int | None:
    """The wait before the next attempt after `attempts` failed ones, or None: give up."""
    schedule = retry_schedule()
    return schedule[attempts - 1] if 0 < attempts <= len(schedule) else None


def is_due(row, *, now: datetime) -> bool:
    """An open row whose next attempt is due (a task for a later attempt, or a duplicate, finds it not due)."""
    return row.status in OPEN_STATUSES and (row.next_attempt_at is None or row.next_attempt_at <= now)


def claim(model: type[models.Model], row, *, now: datetime, lease_seconds: float) -> bool:
    """Take the row for one attempt, or False if another worker (or a "retry now") got there first.

    A compare-and-set UPDATE, not a row lock: no transaction stays open while the network call
    runs, so a slow receiver never holds a lock that ingestion (or SQLite's one writer) waits on.
    The lease pushes next_attempt_at past the attempt, so a crashed worker's row becomes due again.
    """
    lease = now + timedelta(seconds=lease_seconds)
    taken = model.objects.filter(
        pk=row.pk, status=row.status, attempts=row.attempts, next_attempt_at=row.next_attempt_at
    ).update(next_attempt_at=lease)
    if taken:
        row.next_attempt_at = lease
    return bool(taken)
