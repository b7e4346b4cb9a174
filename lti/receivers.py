"""The LTI side's hooks into ExamPulse's life: connected in LtiConfig.ready(), so no app imports lti."""

from __future__ import annotations

from exams.models import ExamSession, SessionStatus
from lti.grades import GRADE_FIELDS, score_record
from lti.tasks import score_send_after_commit


def on_session_saved(sender, instance: ExamSession, update_fields=None, **kwargs) -> None:
    """post_save of ExamSession: a finished session whose grade fields were written gets its score
    recorded in the same transaction (an outbox row), sent by the worker after the commit.

    Submitting, terminating, grading short answers and the verdicts all save the session with these
    fields; the live hot path (answers, risk, time control) writes in-progress sessions and stops at
    the first line, without a query."""
    if instance.status == SessionStatus.IN_PROGRESS:
        return
    if update_fields is not None and not GRADE_FIELDS & set(update_fields):
        return
    rows = score_record(instance)
    if rows:
        score_send_after_commit(deliveries=rows)
