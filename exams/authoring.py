"""Exams themselves: create, change and delete one, and whether it is open for taking.

Every change is audited with its before and after, whichever door it came through (REST, the
admin, a command); a course must be staffed by whoever places an exam in it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record
from exams import access
from exams import questions as question_rules
from exams.courses import course_staffed_by
from exams.exceptions import ExamHasSessions, ExamNotYours
from exams.models import Course, Exam, ExamStatus
from exams.scoping import may_change_exam

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


def exam_is_open(*, exam: Exam, at: datetime | None = None) -> bool:
    """An exam can be started while it is active and its scheduled date (if any) has come."""
    at = at or timezone.now()
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
