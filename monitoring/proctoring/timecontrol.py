"""Time control while the exam runs: extra time, pause and resume, attempt reset (docs/design.md, part two).

`exams.services` changes the session's clock on its locked row (so every server process reads the
same deadline); these services wrap each change in one transaction with its record on the
session's timeline (a technical event: shown to the reviewer, never scored) and return the pushes
it implies (monitoring.pushes), which the caller sends after commit (REST) or through its outbox
(the socket).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from exams import services as exam_services
from exams.models import Exam, ExamSession
from monitoring import pushes as live_pushes
from monitoring.models import Event
from monitoring.pushes import Push


def _timeline(session: ExamSession, event_type: str, *, by, at, **data: Any) -> Event:
    """The proctor's action as a technical event on the session's timeline (never scored)."""
    return Event.objects.create(
        session=session,
        event_type=event_type,
        event_data={**data, "by": by.pk},
        timestamp=at,
        severity="low",
        is_technical=True,
        risk_score_after=session.risk_score,
    )


@transaction.atomic
def session_time_extend(*, session: ExamSession, by, minutes: int, reason: str) -> tuple[ExamSession, list[Push]]:
    """Give one open session `minutes` more; the student's countdown moves (`time_extended`)."""
    at = timezone.now()
    session = exam_services.session_extend(session=session, by=by, minutes=minutes, reason=reason, at=at)
    _timeline(session, "time_extended", by=by, at=at, minutes=minutes, reason=_reason(reason))
    return session, live_pushes.time_extended(session, minutes=minutes)


@transaction.atomic
def exam_time_extend(*, exam: Exam, by, minutes: int, reason: str) -> tuple[list[ExamSession], list[Push]]:
    """Give every in-progress session of the exam `minutes` more; each student hears of their new deadline."""
    at = timezone.now()
    sessions = exam_services.exam_extend(exam=exam, by=by, minutes=minutes, reason=reason, at=at)
    outgoing: list[Push] = []
    for session in sessions:
        _timeline(session, "time_extended", by=by, at=at, minutes=minutes, reason=_reason(reason))
        outgoing.extend(live_pushes.time_extended(session, minutes=minutes))
    return sessions, outgoing


@transaction.atomic
def session_time_pause(
    *, session: ExamSession, by, reason: str, reason_code: str = ""
) -> tuple[ExamSession, list[Push]]:
    """Stop an open session's clock; the student sees the pause once (`session_paused`)."""
    at = timezone.now()
    session = exam_services.session_pause(session=session, by=by, reason=reason, reason_code=reason_code, at=at)
    reason = _reason(reason)
    _timeline(session, "session_paused", by=by, at=at, reason=reason, reason_code=reason_code or "")
    return session, live_pushes.session_paused(session, reason=reason)


@transaction.atomic
def session_time_resume(*, session: ExamSession, by) -> tuple[ExamSession, list[Push]]:
    """Restart a paused session's clock; its deadline moved by the time paused (`session_resumed`)."""
    at = timezone.now()
    session, paused_for = exam_services.session_resume(session=session, by=by, at=at)
    _timeline(session, "session_resumed", by=by, at=at, paused_seconds=paused_for)
    return session, live_pushes.session_resumed(session)


@transaction.atomic
def session_attempt_reset(*, session: ExamSession, by, reason: str) -> tuple[ExamSession, list[Push]]:
    """Void the attempt (kept for the record); the student's page hears `attempt_reset` and may start again."""
    at = timezone.now()
    session = exam_services.session_reset(session=session, by=by, reason=reason, at=at)
    _timeline(session, "attempt_reset", by=by, at=at, reason=session.void_reason)
    return session, live_pushes.attempt_reset(session)


def _reason(reason: str) -> str:
    """The reason as stored (the services have already refused a blank or over-long one)."""
    return reason.strip()
