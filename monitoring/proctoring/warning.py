"""A proctor warns a student; the warning that reaches the exam's `max_warnings` ends the session."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.services import audit_record
from exams import reasons as exam_reasons
from exams import reviews as exam_reviews
from exams import services as exam_services
from exams.exceptions import SessionNotActive
from exams.models import ExamSession
from monitoring import pushes as live_pushes
from monitoring.models import Event
from monitoring.pushes import Push

# The termination reason when a warning reaches the exam's max_warnings.
WARNING_LIMIT_REASON = "warning_limit"


@dataclass(frozen=True)
class Warned:
    """A stored warning and the push that shows it to the student ("warning k of n").

    `limit_reached`: it was the exam's last allowed warning. The caller then hands `pushes` to the
    sender and calls `warning_limit_terminate` in the same transaction, so the warning leaves on
    commit ahead of the termination that closes the student's socket.
    """

    event: Event
    session: ExamSession
    pushes: list[Push]
    limit_reached: bool


@transaction.atomic
def proctor_warn(*, session: ExamSession, by, message: str, reason_code: str = "") -> Warned:
    """Record a warning to the student on the session's timeline and in the audit trail.

    The count goes up in the database (F()), under the session's row lock, so two proctors warning
    at once count two.
    """
    reason_code = exam_reviews.reason_check(reason_code, required=False)
    session = ExamSession.objects.select_for_update(of=("self",)).select_related("exam", "user").get(pk=session.pk)
    if not session.is_open:
        raise SessionNotActive("This exam session is no longer in progress.")
    ExamSession.objects.filter(pk=session.pk).update(warnings_count=F("warnings_count") + 1)
    session.refresh_from_db(fields=["warnings_count"])
    count, limit = session.warnings_count, session.exam.max_warnings
    event = Event.objects.create(
        session=session,
        event_type="proctor_warning",
        event_data={"message": message, "by": by.pk, "count": count, "limit": limit, "reason_code": reason_code},
        timestamp=timezone.now(),
        severity="low",
        is_technical=True,
        risk_score_after=session.risk_score,
    )
    details = {"message": message, "count": count, **({"reason_code": reason_code} if reason_code else {})}
    audit_record(actor=by, action="warn_student", target=session, details=details)
    warning = live_pushes.proctor_warning(session, by=by, message=message, count=count, limit=limit)
    return Warned(event=event, session=session, pushes=[warning], limit_reached=limit is not None and count >= limit)


def warning_limit_terminate(*, session: ExamSession, by) -> ExamSession:
    """End the session whose last allowed warning was just given (reason `warning_limit`), through exams'
    `session_terminate`, so it is flagged and closed as usual (its push leaves on commit)."""
    return exam_services.session_terminate(
        session=session, by=by, reason=WARNING_LIMIT_REASON, reason_code=exam_reasons.WARNING_LIMIT
    )
