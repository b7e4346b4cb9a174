"""Fixtures for the exam side: an active exam with every question type, and helpers to start and age sessions."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest

from exams.models import Exam, ExamSession

QUESTIONS = [
    {"id": "q1", "text": "2 + 2 = ?", "type": "mcq", "options": ["3", "4", "5"], "answer": "4", "points": 1},
    {
        "id": "q2",
        "text": "Which are prime?",
        "type": "multi",
        "options": ["2", "4", "5", "9"],
        "answer": ["2", "5"],
        "points": 2,
    },
    {"id": "q3", "text": "Explain entropy.", "type": "short", "answer": "SECRET-REFERENCE-ANSWER", "points": 3},
]
# Strings that only the answer key contains: none may appear in anything a student receives.
KEY_MARKERS = ('"answer"', "SECRET-REFERENCE-ANSWER", '"per_question"', '"correct"')


def assert_no_answer_key(response) -> None:
    text = json.dumps(response.json())
    for marker in KEY_MARKERS:
        assert marker not in text, f"{marker} leaked to a student: {text[:300]}"


def make_exam(proctor, **overrides) -> Exam:
    fields = {
        "name": "Physics midterm",
        "duration_minutes": 30,
        "status": "active",
        "questions": copy.deepcopy(QUESTIONS),
        "total_questions": len(QUESTIONS),
        "created_by": proctor,
    }
    fields.update(overrides)
    return Exam.objects.create(**fields)


def age_session(session: ExamSession, *, past_deadline: timedelta) -> ExamSession:
    """Move a session back in time so its deadline lies `past_deadline` ago (test arrangement only)."""
    shift = (session.deadline_at - session.started_at) + past_deadline
    ExamSession.objects.filter(pk=session.pk).update(
        started_at=session.started_at - shift, deadline_at=session.deadline_at - shift
    )
    session.refresh_from_db()
    return session


@pytest.fixture
def exam(proctor):
    return make_exam(proctor)
