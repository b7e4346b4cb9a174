"""Grading short answers: a proctor gives points to a finished session's short answers.

Choice questions are graded when the session ends (exams.sessions, with exams.questions' rules);
this is the proctor's part, kept as a history of SessionReview rows and audit entries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record
from exampulse.platform.errors import DomainError, Forbidden
from exams import questions as question_rules
from exams.exceptions import InvalidScores, SessionNotFinished, SessionVoidedNotGradable
from exams.models import ExamSession, SessionReview
from exams.sessions import locked_row

GRADE_NOTE_MAX_LENGTH = 2000


def session_grade(
    *, session: ExamSession, by: User, scores: Any, note: str = "", at: datetime | None = None
) -> ExamSession:
    """A proctor gives points to short answers of a finished session: the score is recomputed,
    `grading_status` follows (pending until every short question has points), and each grading
    (a regrade too) is kept as a SessionReview row and an audit entry."""
    at = at or timezone.now()
    if not getattr(by, "is_proctor", False):
        raise Forbidden("Only proctors can grade short answers.")
    note = note.strip() if isinstance(note, str) else ""
    if len(note) > GRADE_NOTE_MAX_LENGTH:
        raise DomainError(
            f"The note is longer than {GRADE_NOTE_MAX_LENGTH} characters.",
            details={"note": [f"At most {GRADE_NOTE_MAX_LENGTH} characters."]},
        )
    with transaction.atomic():
        locked = locked_row(session)
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
