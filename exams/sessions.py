"""A session's lifecycle: start, autosave, submit, expiry, termination and reset by a proctor.

Session rules (docs/design.md): a student has one attempt per exam; the deadline is fixed at start;
an open session past `deadline_at + GRACE` is closed with what was saved (lazily on read and by
`manage.py close_expired_sessions`); a finished session never reopens; a session that ends with
an unresolved high-risk alert, or is terminated by a proctor, ends `flagged`. Every status move
goes through the table in exams.statuses; the live clock (extensions, pauses, disconnect
compensation) is exams.clock, grading short answers exams.grading.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record
from exampulse.platform.errors import DomainError, Forbidden
from exams import questions as question_rules
from exams.accommodations import accommodations_applied, extra_time
from exams.authoring import exam_is_open
from exams.exceptions import (
    ExamNotAllowed,
    ExamNotOpen,
    InvalidAnswers,
    SessionAlreadySubmitted,
    SessionAlreadyVoided,
    SessionNotActive,
    SessionPaused,
)
from exams.models import Exam, ExamSession, SessionStatus
from exams.reviews import reason_check
from exams.signals import session_flagged, session_submitted, session_terminated
from exams.statuses import Move, State, check_move, session_move
from scoring import services as scoring_services

# A submission this long after the deadline is still on time: network and clock slack.
GRACE = timedelta(seconds=60)
REASON_MAX_LENGTH = 1000


# --- timing ----------------------------------------------------------------------------------


def session_deadline(*, exam: Exam, applied: dict[str, Any], started_at: datetime) -> datetime:
    """started_at + duration + the applied accommodations' extra time (exams.accommodations: the
    institution's, the course's and the exam's, added up; percent of the duration plus minutes)."""
    return started_at + timedelta(minutes=exam.duration_minutes) + extra_time(exam=exam, applied=applied)


def _is_due(session: ExamSession, at: datetime) -> bool:
    # A paused session's clock is stopped: it is never due while paused (resume moves the deadline).
    return session.is_open and session.paused_at is None and at > session.deadline_at + GRACE


# --- the locked row, for this module and exams.clock / exams.grading ---------------------------


def locked_row(session: ExamSession) -> ExamSession:
    """The session's row, locked FOR UPDATE (with its exam and user); call inside a transaction."""
    return ExamSession.objects.select_for_update().select_related("exam", "user").get(pk=session.pk)


def expire_locked(locked: ExamSession, *, at: datetime) -> bool:
    """Close a locked session with its saved answers if it is past deadline + grace; True when it did."""
    if not _is_due(locked, at):
        return False
    _finish(locked, at=at, answers=locked.answers, auto=True)
    return True


def locked_open(session: ExamSession, *, at: datetime) -> ExamSession:
    """The locked row of an open session (closed first if it was already due), or SessionNotActive."""
    locked = locked_row(session)
    expire_locked(locked, at=at)
    if not locked.is_open:
        raise SessionNotActive(details={"status": locked.status})
    return locked


def proctor_reason(*, by: User, reason: str, action: str) -> str:
    """The stripped reason for a proctor's action on a running session; refuses non-proctors and
    blank or long reasons."""
    if not getattr(by, "is_proctor", False):
        raise Forbidden(f"Only proctors can {action}.")
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise DomainError(f"A reason is required to {action}.", details={"reason": ["This field is required."]})
    if len(reason) > REASON_MAX_LENGTH:
        raise DomainError(
            f"The reason is longer than {REASON_MAX_LENGTH} characters.",
            details={"reason": [f"At most {REASON_MAX_LENGTH} characters."]},
        )
    return reason


# --- start -------------------------------------------------------------------------------------


def session_start(*, exam: Exam, user: User, at: datetime | None = None) -> ExamSession:
    """Return the student's open session of the exam, creating it if the exam is open; one attempt per exam."""
    session, _ = session_start_or_resume(exam=exam, user=user, at=at)
    return session


def session_start_or_resume(*, exam: Exam, user: User, at: datetime | None = None) -> tuple[ExamSession, bool]:
    """`session_start`, also saying whether this call created the session (True) or resumed it."""
    at = at or timezone.now()
    if not getattr(user, "is_student", False):
        raise ExamNotAllowed()
    with transaction.atomic():
        # Locking the student's row serialises their concurrent starts: the second one waits,
        # then finds the first one's session instead of racing it.
        student = User.objects.select_for_update().get(pk=user.pk)
        # A voided attempt (reset by a proctor) does not count: the student may start again.
        existing = (
            ExamSession.objects.filter(exam=exam, user=student, voided=False).order_by("-started_at", "-id").first()
        )
        if existing is not None:
            existing = session_expire_if_due(session=existing, at=at)
            if existing.is_open:
                return existing, False
            raise SessionAlreadySubmitted(details={"session_id": existing.pk, "status": existing.status})
        exam = Exam.objects.get(pk=exam.pk)
        if not exam_is_open(exam=exam, at=at):
            raise ExamNotOpen(details={"status": exam.status})
        # Both frozen now, under the student's row lock (a baseline write takes it too): what the
        # session is timed and scored with can be explained later, and nothing changes it mid-exam.
        applied = accommodations_applied(exam=exam, user=student)
        baseline = scoring_services.baseline_snapshot(user=student, at=at)
        try:
            with transaction.atomic():
                created = ExamSession.objects.create(
                    exam=exam,
                    user=student,
                    course_at_start_id=exam.course_id,
                    started_at=at,
                    deadline_at=session_deadline(exam=exam, applied=applied, started_at=at),
                    accommodations=applied,
                    baseline_snapshot=baseline,
                )
            return created, True
        except IntegrityError:
            # The partial unique constraint is the backstop where row locks do not exist (SQLite).
            return ExamSession.objects.get(exam=exam, user=student, status=SessionStatus.IN_PROGRESS), False


# --- answers, submit, expiry -------------------------------------------------------------------


def _clean_answers(session: ExamSession, answers: Any) -> dict[str, Any]:
    clean, errors = question_rules.validate_answers(answers, session.exam.questions)
    if errors:
        raise InvalidAnswers(details=errors)
    return clean


def _finish(session: ExamSession, *, at: datetime, answers: dict[str, Any], auto: bool) -> None:
    """Grade and close a locked open session; the caller holds the row lock inside a transaction."""
    result = question_rules.grade(session.exam.questions, answers)
    session.answers = answers
    session.submitted_at = at
    # An expired attempt's working time ends at its deadline; a submission's at its arrival.
    end = min(at, session.deadline_at) if auto else at
    session.time_taken_seconds = max(0, int((end - session.started_at).total_seconds()))
    session.is_late = not auto and at > session.deadline_at + GRACE
    session.auto_submitted = auto
    session.score = result["score"]
    session.max_score = result["max_score"]
    session.grading = result
    session.grading_status = question_rules.grading_status_of(session.exam.questions, result)
    session_move(
        session,
        Move.EXPIRE if auto else Move.SUBMIT,
        to=State.FLAGGED if session.open_high_alerts > 0 else State.SUBMITTED,
        at=at,
    )
    session.save()
    # A calibration exam teaches the baseline how this student behaves; a flagged attempt
    # (unresolved high-risk alert) would teach it the wrong thing. The sitting's measurement
    # windows (its events, read through the reverse relation: exams never imports monitoring)
    # make up to three samples, enough for a ready baseline (scoring.calibration).
    if session.exam.is_calibration and session.status == SessionStatus.SUBMITTED:
        events = session.events.filter(is_technical=False).order_by("timestamp", "id")
        scoring_services.baseline_add_calibration(
            user=session.user,
            session_id=session.pk,
            events=events.values_list("event_type", "event_data"),
            behaviour=session.behaviour,
            via=f"calibration exam {session.exam_id}",
            at=at,
        )
    transaction.on_commit(lambda: session_submitted.send(sender=ExamSession, session=session))
    if session.status == SessionStatus.FLAGGED:
        session_flagged.send(sender=ExamSession, session=session)  # in the transaction (exams.signals)


def session_save_answers(
    *, session: ExamSession, answers: Any, replace: bool = True, at: datetime | None = None
) -> ExamSession:
    """Autosave answers of an open session (replace all, or merge when replace=False); refused once it ended."""
    at = at or timezone.now()
    with transaction.atomic():
        locked = locked_open(session, at=at)
        if locked.paused_at is not None:
            raise SessionPaused()
        clean = _clean_answers(locked, answers)
        locked.answers = clean if replace else {**locked.answers, **clean}
        locked.answers_saved_at = at
        locked.save(update_fields=["answers", "answers_saved_at"])
    return locked


def session_submit(
    *,
    session: ExamSession,
    answers: Any = None,
    client_time_taken: int | None = None,
    at: datetime | None = None,
) -> ExamSession:
    """Submit and grade once: answers merge over the autosaved ones; a repeat returns the same result."""
    at = at or timezone.now()
    with transaction.atomic():
        locked = locked_row(session)
        if not locked.is_open:
            return locked
        # Refused before the answers are read: a paused session takes none.
        check_move(locked, Move.SUBMIT)
        final = dict(locked.answers)
        if answers is not None:
            final.update(_clean_answers(locked, answers))
        if client_time_taken is not None:
            # Kept for the reviewer's comparison; the server's own measure is what counts.
            locked.client_time_taken_seconds = max(0, min(int(client_time_taken), 2**31 - 1))
        _finish(locked, at=at, answers=final, auto=False)
    return locked


def session_is_overdue(*, session: ExamSession, at: datetime | None = None) -> bool:
    """True when an open session is past deadline + grace: the next `session_expire_if_due` closes it."""
    return _is_due(session, at or timezone.now())


def session_expire_if_due(*, session: ExamSession, at: datetime | None = None) -> ExamSession:
    """Close the session with its saved answers if it is past deadline + grace; return the current row."""
    at = at or timezone.now()
    if not _is_due(session, at):
        return session
    with transaction.atomic():
        locked = locked_row(session)
        expire_locked(locked, at=at)
    return locked


def sessions_close_expired(*, at: datetime | None = None, queryset: QuerySet[ExamSession] | None = None) -> int:
    """Close every open session past deadline + grace (optionally within a queryset); returns how many."""
    at = at or timezone.now()
    base = queryset if queryset is not None else ExamSession.objects.all()
    due_ids = list(
        base.filter(status=SessionStatus.IN_PROGRESS, paused_at__isnull=True, deadline_at__lt=at - GRACE).values_list(
            "pk", flat=True
        )
    )
    closed = 0
    for session in ExamSession.objects.filter(pk__in=due_ids).select_related("exam", "user"):
        if session_expire_if_due(session=session, at=at).auto_submitted:
            closed += 1
    return closed


# --- a proctor ends or voids an attempt --------------------------------------------------------


def session_terminate(
    *, session: ExamSession, by: User, reason: str, reason_code: str, at: datetime | None = None
) -> ExamSession:
    """A proctor ends an open session: graded as saved, status flagged, reason code, reason and actor recorded."""
    at = at or timezone.now()
    if not getattr(by, "is_proctor", False):
        raise Forbidden("Only proctors can terminate a session.")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            "A reason is required to terminate a session.", details={"reason": ["This field is required."]}
        )
    reason_code = reason_check(reason_code, required=True)
    with transaction.atomic():
        locked = locked_row(session)
        check_move(locked, Move.TERMINATE)
        result = question_rules.grade(locked.exam.questions, locked.answers)
        # A paused attempt's working time stopped when it was paused; it ends unpaused.
        end = min(at, locked.paused_at or at, locked.deadline_at)
        locked.submitted_at = at
        locked.time_taken_seconds = max(0, int((end - locked.started_at).total_seconds()))
        locked.score = result["score"]
        locked.max_score = result["max_score"]
        locked.grading = result
        locked.grading_status = question_rules.grading_status_of(locked.exam.questions, result)
        session_move(locked, Move.TERMINATE, to=State.FLAGGED, at=at)
        locked.termination_reason = reason
        locked.termination_reason_code = reason_code
        locked.terminated_by = by
        locked.save()
        audit_record(
            actor=by, action="session_terminate", target=locked, details={"reason": reason, "reason_code": reason_code}
        )
        transaction.on_commit(
            lambda: session_terminated.send(
                sender=ExamSession, session=locked, by=by, reason=reason, reason_code=reason_code
            )
        )
        session_flagged.send(sender=ExamSession, session=locked)  # in the transaction (exams.signals)
    return locked


def session_reset(*, session: ExamSession, by: User, reason: str, at: datetime | None = None) -> ExamSession:
    """A proctor voids an attempt: kept for the record, out of review and baselines; the student may start again.

    An open attempt ends `submitted` (not `flagged`: it is not for review) with auto_submitted False
    and is not graded (a voided attempt has no result); that frees the one-open-session constraint.
    It never reaches `_finish`, so it neither feeds a calibration baseline nor announces a submission.
    """
    at = at or timezone.now()
    reason = proctor_reason(by=by, reason=reason, action="reset an attempt")
    with transaction.atomic():
        locked = locked_row(session)
        if locked.voided:
            raise SessionAlreadyVoided()
        was_open = locked.is_open
        if was_open:
            end = min(at, locked.paused_at or at, locked.deadline_at)
            locked.auto_submitted = False
            locked.submitted_at = at
            locked.time_taken_seconds = max(0, int((end - locked.started_at).total_seconds()))
            session_move(locked, Move.RESET, to=State.SUBMITTED, at=at)
        locked.voided = True
        locked.voided_at = at
        locked.voided_by = by
        locked.void_reason = reason
        locked.save()
        audit_record(actor=by, action="session_reset", target=locked, details={"reason": reason, "was_open": was_open})
    return locked


# --- alert bookkeeping (called by monitoring) --------------------------------------------------


def session_alert_opened(*, session: ExamSession) -> ExamSession:
    """Count one more unresolved high-risk alert on the session (atomic increment)."""
    ExamSession.objects.filter(pk=session.pk).update(open_high_alerts=F("open_high_alerts") + 1)
    session.refresh_from_db(fields=["open_high_alerts"])
    return session


def session_alert_closed(*, session: ExamSession) -> ExamSession:
    """Count one unresolved high-risk alert fewer (atomic decrement, never below zero)."""
    ExamSession.objects.filter(pk=session.pk, open_high_alerts__gt=0).update(open_high_alerts=F("open_high_alerts") - 1)
    session.refresh_from_db(fields=["open_high_alerts"])
    return session
