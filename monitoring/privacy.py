"""Retention and erasure of behavioural data: old events purged in batches, one student's data on request.

Behavioural data is what the proctoring watched: events, alerts, the per-session aggregates and
risk components derived from them, the student's calibration baseline, and every copy of it (raised
hands, alert emails, webhook deliveries' payloads); STUDENT_DATA lists each model and its fate. The exam record stays:
answers, score, status, the review verdict and its note, termination reasons, and the audit trail
(who decided what, and why) — an institution must be able to justify a decision after the raw
signals are gone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.apps import apps
from django.db import transaction
from django.db.models import F, Q, QuerySet

from accounts.services import audit_record, audit_record_bulk
from exams.models import ExamSession, SessionStatus
from monitoring.exceptions import SessionStillOpen
from monitoring.models import Event

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
class Erased:
    """Rows of a model that hold a student's data, and are deleted when the student asks for erasure.

    `rows(student_id, session_ids)` selects them: by a foreign key, or inside a JSON copy.
    """

    rows: Callable[[int, list[int]], Q]
    what: str


@dataclass(frozen=True)
class Kept:
    """A model linked to students whose rows erasure keeps, and why."""

    why: str


def _of_sessions(path: str = "session_id") -> Callable[[int, list[int]], Q]:
    return lambda student_id, session_ids: Q(**{f"{path}__in": session_ids})


def _about(prefix: str = "") -> Callable[[int, list[int]], Q]:
    # Webhook payloads name the student and their session (monitoring.notify: alert, hand, session data).
    return lambda student_id, session_ids: (
        Q(**{f"{prefix}payload__user_id": student_id}) | Q(**{f"{prefix}payload__session_id__in": session_ids})
    )


# Every model that holds, or links to, a student's data, and what erasure does with it: every copy of
# their behaviour goes (events, alerts and what quoted them: notifications, emails, raised hands), the
# record an institution must keep stays (the account, results and verdicts, rosters, the audit trail).
# tests/security/test_erasure.py finds through the app registry every model with a foreign key to the
# user model, to a session or to an erased model, and fails for one this table does not name: a new
# table of student data is erased (or kept, saying why) on purpose, never forgotten.
STUDENT_DATA: dict[str, Erased | Kept] = {
    "monitoring.Event": Erased(_of_sessions(), "behavioural events of their sessions"),
    "monitoring.Alert": Erased(_of_sessions(), "alerts on their sessions"),
    "monitoring.AlertEmail": Erased(_of_sessions(), "alert emails about them (the subject and body quote the alert)"),
    "monitoring.RaisedHand": Erased(_of_sessions(), "their raised hands (their messages and the answers)"),
    "monitoring.WebhookDelivery": Erased(_about(), "webhook deliveries about them (name, message, risk components)"),
    "monitoring.WebhookAttempt": Erased(_about("delivery__"), "the attempts of those deliveries"),
    "monitoring.Presence": Erased(lambda student_id, session_ids: Q(user_id=student_id), "live presence"),
    "scoring.Baseline": Erased(lambda student_id, session_ids: Q(user_id=student_id), "their behavioural baseline"),
    "scoring.BaselineSample": Erased(
        lambda student_id, session_ids: Q(user_id=student_id), "their calibration samples and their provenance"
    ),
    "exams.CourseAccommodation": Kept("an allowance staff granted (who, what, why): an institutional decision"),
    "exams.ExamAllowance": Kept("an allowance staff granted for one exam: an institutional decision"),
    "accounts.User": Kept("the account itself: erasure is of behaviour; the account is closed separately"),
    "accounts.User_groups": Kept("the account's permission groups"),
    "accounts.User_user_permissions": Kept("the account's permissions"),
    "accounts.AuditEntry": Kept("the trail of staff actions (this erasure among them): accountability outlives data"),
    "accounts.RevokedAccessToken": Kept("logged-out tokens, until they expire"),
    "token_blacklist.OutstandingToken": Kept("refresh tokens, so a logout still holds"),
    "admin.LogEntry": Kept("staff's own admin actions (their user is the actor)"),
    "exams.ExamSession": Kept("the result: answers, score, status, verdict; the behaviour aggregates are cleared"),
    "exams.SessionReview": Kept("verdicts and gradings, with who gave them and why"),
    "exams.Enrollment": Kept("the course roster"),
    "exams.CourseStaff": Kept("course staff: proctors, never students"),
    "exams.Course": Kept("linked to users only through its creator, roster and staff"),
    "exams.Exam": Kept("linked to users only through its creator"),
    "monitoring.Webhook": Kept("linked to users only through its creator"),
}


@dataclass(frozen=True)
class StudentData:
    sessions: int
    events: int
    alerts: int
    baseline: bool
    # Rows of the other erased models (raised hands, alert emails, webhook deliveries...), by model label.
    copies: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "sessions": self.sessions,
            "events": self.events,
            "alerts": self.alerts,
            "baseline": self.baseline,
            "copies": self.copies,
        }


def _erased_rows(student) -> dict[str, QuerySet]:
    session_ids = list(ExamSession.objects.filter(user=student).values_list("pk", flat=True))
    return {
        label: apps.get_model(label).objects.filter(rule.rows(student.pk, session_ids))
        for label, rule in STUDENT_DATA.items()
        if isinstance(rule, Erased)
    }


def student_data_summary(*, student) -> StudentData:
    """What an erasure of this student's behavioural data would delete."""
    rows = _erased_rows(student)
    counted = {label: rows[label].count() for label in rows}
    return StudentData(
        sessions=ExamSession.objects.filter(user=student).count(),
        events=counted.pop("monitoring.Event"),
        alerts=counted.pop("monitoring.Alert"),
        baseline=counted.pop("scoring.Baseline") > 0,
        copies={label: count for label, count in counted.items() if count},
    )


@transaction.atomic
def student_data_delete(*, student, by=None, reason: str = "") -> StudentData:
    """Erase one student's behavioural data and every copy of it (STUDENT_DATA's erased models: events,
    alerts, raised hands, alert emails, webhook deliveries, presence, baseline) and clear their
    sessions' aggregates; keeps results, verdicts and the audit trail; audited, returns what went.

    Refused while the student has a session in progress: erasing mid-exam would corrupt live scoring.
    """
    sessions = ExamSession.objects.select_for_update().filter(user=student)
    if sessions.filter(status=SessionStatus.IN_PROGRESS).exists():
        raise SessionStillOpen()
    summary = student_data_summary(student=student)
    for rows in _erased_rows(student).values():
        rows.delete()
    sessions.update(
        behaviour={},
        risk_components={},
        anomaly_score=None,
        last_event_at=None,
        # The baseline each session was scored against is the student's behaviour too.
        baseline_snapshot={},
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
