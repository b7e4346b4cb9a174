"""Retention and erasure of behavioural data: old events purged in batches, one student's data on request.

Behavioural data is what the proctoring watched: events, alerts, the per-session aggregates and
risk components derived from them, and the student's calibration baseline. The exam record stays:
answers, score, status, the review verdict and its note, termination reasons, and the audit trail
(who decided what, and why) — an institution must be able to justify a decision after the raw
signals are gone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F

from accounts.services import audit_record, audit_record_bulk
from exams.models import ExamSession, SessionStatus
from monitoring.exceptions import SessionStillOpen
from monitoring.models import Alert, Event, Presence
from scoring.models import Baseline

DEFAULT_BATCH_SIZE = 2000


def events_older_than(*, cutoff: datetime):
    """Events recorded (server time) before the cutoff."""
    return Event.objects.filter(timestamp__lt=cutoff)


def events_purge(
    *,
    cutoff: datetime,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
    by=None,
    older_than_days: int | None = None,
) -> int:
    """Delete every event recorded before the cutoff, `batch_size` rows per transaction; returns how many.

    Small transactions keep locks short, so live ingestion carries on while a large purge runs, and
    an interrupted purge has still deleted whole batches (run it again to finish). The purge is
    audited (who, the cutoff, how many went), an interrupted one with what it had deleted by then.
    """
    deleted = 0
    finished = False
    try:
        while True:
            ids = list(events_older_than(cutoff=cutoff).order_by("id").values_list("id", flat=True)[:batch_size])
            if not ids:
                finished = True
                return deleted
            with transaction.atomic():
                count, _ = Event.objects.filter(id__in=ids).delete()
            deleted += count
            if progress is not None:
                progress(count)
    finally:
        audit_record_bulk(
            actor=by,
            action="events_purge",
            model=Event,
            details={
                "deleted": deleted,
                "cutoff": cutoff.isoformat(),
                "older_than_days": older_than_days,
                "finished": finished,
            },
        )


@dataclass(frozen=True)
class StudentData:
    sessions: int
    events: int
    alerts: int
    baseline: bool

    def as_dict(self) -> dict:
        return {"sessions": self.sessions, "events": self.events, "alerts": self.alerts, "baseline": self.baseline}


def student_data_summary(*, student) -> StudentData:
    """What an erasure of this student's behavioural data would delete."""
    sessions = ExamSession.objects.filter(user=student)
    return StudentData(
        sessions=sessions.count(),
        events=Event.objects.filter(session__user=student).count(),
        alerts=Alert.objects.filter(session__user=student).count(),
        baseline=Baseline.objects.filter(user=student).exists(),
    )


@transaction.atomic
def student_data_delete(*, student, by=None, reason: str = "") -> StudentData:
    """Erase one student's behavioural data (events, alerts, aggregates, baseline); audited, returns what went.

    Refused while the student has a session in progress: erasing mid-exam would corrupt live scoring.
    """
    sessions = ExamSession.objects.select_for_update().filter(user=student)
    if sessions.filter(status=SessionStatus.IN_PROGRESS).exists():
        raise SessionStillOpen()
    summary = student_data_summary(student=student)
    Event.objects.filter(session__user=student).delete()
    Alert.objects.filter(session__user=student).delete()
    Presence.objects.filter(user=student).delete()
    Baseline.objects.filter(user=student).delete()
    sessions.update(
        behaviour={},
        risk_components={},
        anomaly_score=None,
        last_event_at=None,
        # Every process's snapshot of these sessions is stale (monitoring.ingest.snapshots).
        state_version=F("state_version") + 1,
    )
    audit_record(
        actor=by,
        action="student_data_delete",
        target=student,
        details={**summary.as_dict(), "reason": reason, "email": student.email},
    )
    return summary
