"""Every state change of an exam or an exam session goes through one of these functions.

Session rules (docs/design.md): a student has one attempt per exam; the deadline is fixed at start;
an open session past `deadline_at + GRACE` is closed with what was saved (lazily on read and by
`manage.py close_expired_sessions`); a finished session never reopens; a session that ends with
an unresolved high-risk alert, or is terminated by a proctor, ends `flagged`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record
from exampulse.errors import DomainError, Forbidden
from exams import access
from exams import questions as question_rules
from exams.accommodations import accommodations_applied, extra_time
from exams.courses import course_staffed_by
from exams.exceptions import (
    ExamHasSessions,
    ExamNotAllowed,
    ExamNotOpen,
    ExamNotYours,
    InvalidAnswers,
    InvalidScores,
    SessionAlreadyPaused,
    SessionAlreadySubmitted,
    SessionAlreadyVoided,
    SessionNotActive,
    SessionNotFinished,
    SessionNotPaused,
    SessionPaused,
    SessionVoidedNotGradable,
)
from exams.models import Course, Exam, ExamSession, ExamStatus, SessionReview, SessionStatus
from exams.reviews import reason_check, review_validate, session_review  # noqa: F401 (re-exported)
from exams.scoping import may_change_exam
from exams.signals import session_flagged, session_submitted, session_terminated
from scoring import services as scoring_services

# A submission this long after the deadline is still on time: network and clock slack.
GRACE = timedelta(seconds=60)
EXAM_FIELDS = (
    "name",
    "description",
    "duration_minutes",
    "scheduled_date",
    "instructions",
    "monitoring_sensitivity",
    "allow_tab_switch",
    "allow_copy_paste",
    "questions",
    "status",
    "is_calibration",
    "course",
    "disconnect_grace_minutes",
    "max_warnings",
    "show_risk_to_student",
)
COURSE_NOT_STAFFED = "Choose a course you are on the staff of (or none, for an exam open to everyone)."


def _now(at: datetime | None) -> datetime:
    return at or timezone.now()


# --- exams -------------------------------------------------------------------------------


def exam_is_open(*, exam: Exam, at: datetime | None = None) -> bool:
    """An exam can be started while it is active and its scheduled date (if any) has come."""
    at = _now(at)
    return exam.status == ExamStatus.ACTIVE and (exam.scheduled_date is None or exam.scheduled_date <= at)


def exam_course_check(*, by: User, course: Course | int | None) -> Course | None:
    """The course an exam may be placed in by `by`: one they staff (superusers: any), or None for an open exam.

    Unknown and unstaffed course ids get the same 400, so the answer reveals no other course.
    """
    if course is None:
        return None
    course_id = course.pk if isinstance(course, Course) else course
    found = course_staffed_by(user=by, course_id=course_id)
    if found is None:
        raise ValidationError({"course": [COURSE_NOT_STAFFED]})
    return found


# Recorded in full in the trail; the long texts and the questions as a fingerprint (the exam keeps
# them, and questions only change before anyone has started the exam, so no graded version is lost).
_FINGERPRINTED = ("description", "instructions", "questions")


def _audit_value(exam: Exam, field: str) -> Any:
    if field == "course":
        return exam.course_id
    value = getattr(exam, field)
    if field in _FINGERPRINTED:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
        fingerprint = {"sha256": hashlib.sha256(text.encode()).hexdigest()[:16], "length": len(text)}
        if field == "questions":
            fingerprint["ids"] = [str(q.get("id")) for q in value if isinstance(q, dict)][:200]
        return fingerprint
    return value.isoformat() if isinstance(value, datetime) else value


def _audit_state(exam: Exam) -> dict[str, Any]:
    return {field: _audit_value(exam, field) for field in EXAM_FIELDS}


@transaction.atomic
def exam_create(*, by: User, data: dict[str, Any], via: str = "api") -> Exam:
    """Create an exam from validated data; total_questions follows the questions list; a course must be
    staffed; the new exam's policy is audited (`via`: api, admin or command)."""
    fields = {key: data[key] for key in EXAM_FIELDS if key in data}
    fields["course"] = exam_course_check(by=by, course=fields.get("course"))
    fields["questions"] = question_rules.validate_questions(fields.get("questions", []))
    exam = Exam(created_by=by, total_questions=len(fields["questions"]), **fields)
    exam.full_clean()
    exam.save()
    audit_record(actor=by, action="exam_create", target=exam, details={"via": via, "exam": _audit_state(exam)})
    return exam


@transaction.atomic
def exam_update(*, exam: Exam, by: User, data: dict[str, Any], via: str = "api") -> Exam:
    """Change an exam, for whoever may (exams.scoping.may_change_exam: its creator, its course's staff,
    a superuser; ExamNotYours otherwise); moving it into a course also needs that course's staff.
    Questions are frozen once any student has started it (grading stays fair). Every change is
    audited with its before and after, whichever door it came through (`via`)."""
    exam = Exam.objects.select_for_update().get(pk=exam.pk)
    if not may_change_exam(by, exam):
        raise ExamNotYours()
    before = _audit_state(exam)
    changed = [key for key in EXAM_FIELDS if key in data]
    from_course_id = exam.course_id
    if "course" in data:
        course = exam_course_check(by=by, course=data["course"])
        if (course.pk if course else None) == exam.course_id:
            changed.remove("course")
        else:
            audit_record(
                actor=by,
                action="exam_course_change",
                target=exam,
                details={"from": exam.course_id, "to": course.pk if course else None},
            )
        data = {**data, "course": course}
    if "questions" in data:
        new_questions = question_rules.validate_questions(data["questions"])
        if new_questions != exam.questions and exam.sessions.exists():
            raise ExamHasSessions("Questions cannot change once students have started the exam.")
        data = {**data, "questions": new_questions}
        exam.total_questions = len(new_questions)
        changed.append("total_questions")
    for key in changed:
        if key != "total_questions":
            setattr(exam, key, data[key])
    if changed:
        exam.full_clean()
        exam.save(update_fields=[*changed, "updated_at"])
    if "course" in changed:
        # Whoever no longer sees the exam stops streaming it the moment this commits (every process).
        access.exam_course_changed(exam=exam, from_course_id=from_course_id)
    after = _audit_state(exam)
    changes = {
        field: {"from": before[field], "to": after[field]} for field in EXAM_FIELDS if before[field] != after[field]
    }
    if changes:
        audit_record(actor=by, action="exam_update", target=exam, details={"via": via, "changes": changes})
    return exam


@transaction.atomic
def exam_delete(*, exam: Exam, by: User) -> None:
    """Delete an exam nobody has taken, for whoever may change it (exams.scoping.may_change_exam);
    taken exams keep their evidence, whoever asks: set them completed instead."""
    if not may_change_exam(by, exam):
        raise ExamNotYours()
    # FOR UPDATE conflicts with the key-share lock a new session's foreign key takes (PostgreSQL),
    # so a student starting the exam right now is either seen below or refused after the delete.
    exam = Exam.objects.select_for_update().get(pk=exam.pk)
    if exam.sessions.exists():
        raise ExamHasSessions("Students have taken this exam; set its status to completed instead of deleting it.")
    audit_record(actor=by, action="exam_delete", target=exam, details={"name": exam.name})
    exam.delete()


# --- sessions: timing ----------------------------------------------------------------------


def session_deadline(*, exam: Exam, applied: dict[str, Any], started_at: datetime) -> datetime:
    """started_at + duration + the applied accommodations' extra time (exams.accommodations: the
    institution's, the course's and the exam's, added up; percent of the duration plus minutes)."""
    return started_at + timedelta(minutes=exam.duration_minutes) + extra_time(exam=exam, applied=applied)


def _is_due(session: ExamSession, at: datetime) -> bool:
    # A paused session's clock is stopped: it is never due while paused (resume moves the deadline).
    return session.is_open and session.paused_at is None and at > session.deadline_at + GRACE


# --- sessions: disconnect compensation ---------------------------------------------------------

# A drop shorter than this is a blip (a page reload, a Wi-Fi hand-over): it earns nothing.
COMPENSATION_THRESHOLD = timedelta(seconds=30)


@dataclass(frozen=True)
class Compensation:
    """What one rejoin after a dropped connection was worth: the time away and the seconds given back."""

    session_id: int
    away_seconds: int
    compensated_seconds: int
    deadline_at: datetime
    time_compensated_seconds: int


def compensation_for(
    *,
    disconnected_at: datetime,
    at: datetime,
    deadline_at: datetime,
    grace_minutes: int,
    already_compensated: int,
    paused: bool = False,
    paused_meanwhile: int = 0,
) -> tuple[int, int]:
    """(away seconds, seconds to give back) for a student whose last socket left at `disconnected_at`
    and who joins again at `at`. Pure: no clock, no database.

    Nothing for a drop under 30 s, for grace 0, for a paused session (the pause already gives the
    time back), or when the student comes back after the deadline (the exam is over for them).
    Time spent paused while away (`paused_meanwhile`) is not counted twice. The running total per
    session never exceeds the grace.
    """
    away = max(0, int((at - disconnected_at).total_seconds()))
    cap = max(0, grace_minutes) * 60
    if away < COMPENSATION_THRESHOLD.total_seconds() or cap == 0 or paused or at > deadline_at:
        return away, 0
    earned = max(0, away - max(0, paused_meanwhile))
    return away, max(0, min(earned, cap - already_compensated))


def sessions_compensate_disconnects(
    *, returns: dict[int, tuple[datetime, int]], at: datetime | None = None
) -> dict[int, Compensation]:
    """Give back time lost to dropped connections for many returning students in one batch.

    `returns` maps session id -> (when its last socket left, its paused_seconds then). The sessions
    are locked together (one SELECT ... FOR UPDATE, in id order) and the ones that earn time are
    written with one bulk UPDATE, so a live extension or pause racing a rejoin is never lost.
    Returns a Compensation for every open session of `returns` (compensated_seconds may be 0).
    """
    at = _now(at)
    if not returns:
        return {}
    out: dict[int, Compensation] = {}
    with transaction.atomic():
        locked = (
            ExamSession.objects.select_for_update(of=("self",))
            .select_related("exam")
            .only(
                "id",
                "status",
                "deadline_at",
                "time_compensated_seconds",
                "paused_at",
                "paused_seconds",
                "exam__disconnect_grace_minutes",
            )
            .filter(pk__in=sorted(returns))
            .order_by("pk")
        )
        changed = []
        for session in locked:
            if not session.is_open:
                continue
            disconnected_at, paused_before = returns[session.pk]
            away, given = compensation_for(
                disconnected_at=disconnected_at,
                at=at,
                deadline_at=session.deadline_at,
                grace_minutes=session.exam.disconnect_grace_minutes,
                already_compensated=session.time_compensated_seconds,
                paused=session.paused_at is not None,
                paused_meanwhile=session.paused_seconds - paused_before,
            )
            if given:
                session.deadline_at += timedelta(seconds=given)
                session.time_compensated_seconds += given
                changed.append(session)
            out[session.pk] = Compensation(
                session.pk, away, given, session.deadline_at, session.time_compensated_seconds
            )
        if changed:
            ExamSession.objects.bulk_update(changed, ["deadline_at", "time_compensated_seconds"])
    return out


# --- sessions: start -------------------------------------------------------------------------


def session_start(*, exam: Exam, user: User, at: datetime | None = None) -> ExamSession:
    """Return the student's open session of the exam, creating it if the exam is open; one attempt per exam."""
    session, _ = session_start_or_resume(exam=exam, user=user, at=at)
    return session


def session_start_or_resume(*, exam: Exam, user: User, at: datetime | None = None) -> tuple[ExamSession, bool]:
    """`session_start`, also saying whether this call created the session (True) or resumed it."""
    at = _now(at)
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


# --- sessions: answers, submit, expiry --------------------------------------------------------


def _clean_answers(session: ExamSession, answers: Any) -> dict[str, Any]:
    clean, errors = question_rules.validate_answers(answers, session.exam.questions)
    if errors:
        raise InvalidAnswers(details=errors)
    return clean


def _lock(session: ExamSession) -> ExamSession:
    return ExamSession.objects.select_for_update().select_related("exam", "user").get(pk=session.pk)


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
    session.status = SessionStatus.FLAGGED if session.open_high_alerts > 0 else SessionStatus.SUBMITTED
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
    at = _now(at)
    with transaction.atomic():
        locked = _lock(session)
        if _is_due(locked, at):
            _finish(locked, at=at, answers=locked.answers, auto=True)
        if not locked.is_open:
            raise SessionNotActive(details={"status": locked.status})
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
    at = _now(at)
    with transaction.atomic():
        locked = _lock(session)
        if not locked.is_open:
            return locked
        if locked.paused_at is not None:
            raise SessionPaused()
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
    return _is_due(session, _now(at))


def session_expire_if_due(*, session: ExamSession, at: datetime | None = None) -> ExamSession:
    """Close the session with its saved answers if it is past deadline + grace; return the current row."""
    at = _now(at)
    if not _is_due(session, at):
        return session
    with transaction.atomic():
        locked = _lock(session)
        if _is_due(locked, at):
            _finish(locked, at=at, answers=locked.answers, auto=True)
    return locked


def sessions_close_expired(*, at: datetime | None = None, queryset: QuerySet[ExamSession] | None = None) -> int:
    """Close every open session past deadline + grace (optionally within a queryset); returns how many."""
    at = _now(at)
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


# --- sessions: proctor actions ----------------------------------------------------------------


def session_terminate(
    *, session: ExamSession, by: User, reason: str, reason_code: str, at: datetime | None = None
) -> ExamSession:
    """A proctor ends an open session: graded as saved, status flagged, reason code, reason and actor recorded."""
    at = _now(at)
    if not getattr(by, "is_proctor", False):
        raise Forbidden("Only proctors can terminate a session.")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            "A reason is required to terminate a session.", details={"reason": ["This field is required."]}
        )
    reason_code = reason_check(reason_code, required=True)
    with transaction.atomic():
        locked = _lock(session)
        if not locked.is_open:
            raise SessionNotActive(details={"status": locked.status})
        result = question_rules.grade(locked.exam.questions, locked.answers)
        # A paused attempt's working time stopped when it was paused; it ends unpaused.
        end = min(at, locked.paused_at or at, locked.deadline_at)
        locked.submitted_at = at
        locked.time_taken_seconds = max(0, int((end - locked.started_at).total_seconds()))
        locked.paused_at = None
        locked.score = result["score"]
        locked.max_score = result["max_score"]
        locked.grading = result
        locked.grading_status = question_rules.grading_status_of(locked.exam.questions, result)
        locked.status = SessionStatus.FLAGGED
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


# --- sessions: grading short answers ------------------------------------------------------------

GRADE_NOTE_MAX_LENGTH = 2000


def session_grade(
    *, session: ExamSession, by: User, scores: Any, note: str = "", at: datetime | None = None
) -> ExamSession:
    """A proctor gives points to short answers of a finished session: the score is recomputed,
    `grading_status` follows (pending until every short question has points), and each grading
    (a regrade too) is kept as a SessionReview row and an audit entry."""
    at = _now(at)
    if not getattr(by, "is_proctor", False):
        raise Forbidden("Only proctors can grade short answers.")
    note = note.strip() if isinstance(note, str) else ""
    if len(note) > GRADE_NOTE_MAX_LENGTH:
        raise DomainError(
            f"The note is longer than {GRADE_NOTE_MAX_LENGTH} characters.",
            details={"note": [f"At most {GRADE_NOTE_MAX_LENGTH} characters."]},
        )
    with transaction.atomic():
        locked = _lock(session)
        if locked.is_open:
            raise SessionNotFinished(details={"status": locked.status})
        if locked.voided:
            raise SessionVoidedNotGradable()
        questions = locked.exam.questions
        errors = question_rules.manual_scores_errors(questions, scores)
        if errors:
            raise InvalidScores(details=errors)
        clean = {str(qid): points for qid, points in scores.items()}
        locked.grading = question_rules.apply_manual_scores(
            questions,
            locked.grading,
            clean,
            answers=locked.answers,
            by={"id": by.pk, "name": by.name},
            at=at.isoformat(),
        )
        locked.score = locked.grading["score"]
        locked.max_score = locked.grading["max_score"]
        locked.grading_status = question_rules.grading_status_of(questions, locked.grading)
        locked.save(update_fields=["grading", "score", "max_score", "grading_status"])
        details = {"scores": clean, "score": locked.score, "grading_status": locked.grading_status}
        SessionReview.objects.create(session=locked, kind=SessionReview.Kind.GRADING, by=by, note=note, details=details)
        audit_record(actor=by, action="session_grade", target=locked, details={**details, "note": note})
    return locked


# --- sessions: alert bookkeeping (called by monitoring) ------------------------------------------


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


# --- sessions: time control while the exam runs ------------------------------------------------
#
# Every change of a session's clock moves `deadline_at` on the locked row, so each server process
# reads the same deadline; the totals (`extended_seconds`, `paused_seconds`) say why it moved.

EXTEND_MINUTES_MAX = 600
REASON_MAX_LENGTH = 1000


def _proctor_reason(*, by: User, reason: str, action: str) -> str:
    """The stripped reason for a proctor's time-control action; refuses non-proctors and blank or long reasons."""
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


def _check_minutes(minutes: Any) -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= EXTEND_MINUTES_MAX:
        raise DomainError(
            f"minutes must be a whole number from 1 to {EXTEND_MINUTES_MAX}.",
            details={"minutes": [f"A whole number from 1 to {EXTEND_MINUTES_MAX}."]},
        )
    return minutes


def _open_locked(session: ExamSession, at: datetime) -> ExamSession:
    """The locked row of an open session (closed first if it was already due), or SessionNotActive."""
    locked = _lock(session)
    if _is_due(locked, at):
        _finish(locked, at=at, answers=locked.answers, auto=True)
    if not locked.is_open:
        raise SessionNotActive(details={"status": locked.status})
    return locked


def _extend_locked(locked: ExamSession, *, by: User, minutes: int, reason: str, via: str) -> None:
    locked.deadline_at += timedelta(minutes=minutes)
    locked.extended_seconds += minutes * 60
    locked.save(update_fields=["deadline_at", "extended_seconds"])
    audit_record(
        actor=by,
        action="session_extend",
        target=locked,
        details={"minutes": minutes, "reason": reason, "via": via, "deadline_at": locked.deadline_at.isoformat()},
    )


def session_extend(
    *, session: ExamSession, by: User, minutes: int, reason: str, at: datetime | None = None
) -> ExamSession:
    """A proctor gives an open session `minutes` more: the deadline moves, on top of any accommodation; audited."""
    at = _now(at)
    reason = _proctor_reason(by=by, reason=reason, action="extend a session")
    minutes = _check_minutes(minutes)
    with transaction.atomic():
        locked = _open_locked(session, at)
        _extend_locked(locked, by=by, minutes=minutes, reason=reason, via="session")
    return locked


def exam_extend(*, exam: Exam, by: User, minutes: int, reason: str, at: datetime | None = None) -> list[ExamSession]:
    """Give every in-progress session of the exam `minutes` more (overdue ones are closed, not revived)."""
    at = _now(at)
    reason = _proctor_reason(by=by, reason=reason, action="extend an exam")
    minutes = _check_minutes(minutes)
    with transaction.atomic():
        open_ids = ExamSession.objects.filter(exam=exam, status=SessionStatus.IN_PROGRESS)
        # Locked in id order, so two exam-wide extensions queue rather than deadlock.
        rows = list(
            ExamSession.objects.select_for_update(of=("self",))
            .select_related("exam", "user")
            .filter(pk__in=open_ids.values("pk"))
            .order_by("pk")
        )
        extended = []
        for locked in rows:
            if _is_due(locked, at):
                _finish(locked, at=at, answers=locked.answers, auto=True)
                continue
            _extend_locked(locked, by=by, minutes=minutes, reason=reason, via="exam")
            extended.append(locked)
    return extended


def session_pause(
    *, session: ExamSession, by: User, reason: str, reason_code: str = "", at: datetime | None = None
) -> ExamSession:
    """A proctor stops an open session's clock: no answers, no events, no expiry until resumed; audited.

    `reason_code` (optional) names the incident from the taxonomy; an unknown one is refused."""
    at = _now(at)
    reason = _proctor_reason(by=by, reason=reason, action="pause a session")
    reason_code = reason_check(reason_code, required=False)
    with transaction.atomic():
        locked = _open_locked(session, at)
        if locked.paused_at is not None:
            raise SessionAlreadyPaused(details={"paused_at": locked.paused_at.isoformat()})
        locked.paused_at = at
        locked.save(update_fields=["paused_at"])
        details = {"reason": reason, **({"reason_code": reason_code} if reason_code else {})}
        audit_record(actor=by, action="session_pause", target=locked, details=details)
    return locked


def session_resume(*, session: ExamSession, by: User, at: datetime | None = None) -> tuple[ExamSession, int]:
    """A proctor restarts a paused session's clock: the deadline moves by the whole seconds paused; audited.

    Returns the session and the seconds it was paused this time."""
    at = _now(at)
    if not getattr(by, "is_proctor", False):
        raise Forbidden("Only proctors can resume a session.")
    with transaction.atomic():
        locked = _lock(session)
        if not locked.is_open:
            raise SessionNotActive(details={"status": locked.status})
        if locked.paused_at is None:
            raise SessionNotPaused()
        paused_for = max(0, int((at - locked.paused_at).total_seconds()))
        locked.deadline_at += timedelta(seconds=paused_for)
        locked.paused_seconds += paused_for
        locked.paused_at = None
        locked.save(update_fields=["deadline_at", "paused_seconds", "paused_at"])
        audit_record(
            actor=by,
            action="session_resume",
            target=locked,
            details={"paused_seconds": paused_for, "deadline_at": locked.deadline_at.isoformat()},
        )
    return locked, paused_for


def session_reset(*, session: ExamSession, by: User, reason: str, at: datetime | None = None) -> ExamSession:
    """A proctor voids an attempt: kept for the record, out of review and baselines; the student may start again.

    An open attempt ends `submitted` (not `flagged`: it is not for review) with auto_submitted False
    and is not graded (a voided attempt has no result); that frees the one-open-session constraint.
    It never reaches `_finish`, so it neither feeds a calibration baseline nor announces a submission.
    """
    at = _now(at)
    reason = _proctor_reason(by=by, reason=reason, action="reset an attempt")
    with transaction.atomic():
        locked = _lock(session)
        if locked.voided:
            raise SessionAlreadyVoided()
        was_open = locked.is_open
        if was_open:
            end = min(at, locked.paused_at or at, locked.deadline_at)
            locked.status = SessionStatus.SUBMITTED
            locked.auto_submitted = False
            locked.submitted_at = at
            locked.time_taken_seconds = max(0, int((end - locked.started_at).total_seconds()))
            locked.paused_at = None
        locked.voided = True
        locked.voided_at = at
        locked.voided_by = by
        locked.void_reason = reason
        locked.save()
        audit_record(actor=by, action="session_reset", target=locked, details={"reason": reason, "was_open": was_open})
    return locked
