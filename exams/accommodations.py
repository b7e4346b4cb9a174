"""Accommodations at three levels, and the one rule that combines them for a session.

After edx-proctoring's allowances (extra minutes or a time multiplier, and signal exemptions),
each level holds the same shape as `User.accommodations` (accounts.accommodations:
`extra_time_pct` is the time multiplier in percent, 50 = x1.5; `extra_minutes`; `exempt_signals`;
`note`, the why). Who sets each level is who that level belongs to:

- institution: `User.accommodations`, superusers only (accounts.services.user_update_accommodations);
- course: `CourseAccommodation`, the course's staff, for students on its roster, applied to its exams;
- exam: `ExamAllowance`, whoever may change the exam (exams.scoping.may_change_exam), that exam only.

**How they combine: they add.** `extra_time_pct` and `extra_minutes` are each summed over the
levels that apply (each total capped at the shape's maximum) and `exempt_signals` is their union.
Not "the most specific wins": an accommodation is an entitlement granted at a level by whoever
holds it (the institution's disability office, a course's staff, an exam's owner), and with
"most specific wins" a course or exam setting of 10 % would quietly take back the institution's
50 %, a proctor removing what they never granted. Adding lets each level give more within its
reach and take back only what it gave itself. `accommodations_applied` computes it once, at session
start, and the session keeps the result with where each part came from (ExamSession.accommodations),
so the deadline and the exemptions can be explained later and a later change moves no running exam.

Every change is audited with its before and after and its door (`via`); the target is the student,
so one filter on the trail shows everything ever granted to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from accounts.accommodations import MAX_EXTRA_MINUTES, MAX_EXTRA_TIME_PCT, validate_accommodations
from accounts.exceptions import UserNotFound
from accounts.models import Role, User
from accounts.services import audit_record
from exams.courses import MAX_BULK_EMAILS, normalise_email
from exams.exceptions import ExamNotYours, NotOnRoster
from exams.models import Course, CourseAccommodation, Enrollment, Exam, ExamAllowance
from exams.scoping import may_change_exam

MAX_PK = 2**63 - 1
RULE = "sum"  # recorded with each session's applied accommodations


def _pk(value: Any) -> int | None:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return pk if 0 < pk <= MAX_PK else None


# --- the combination, at session start --------------------------------------------------------------


def _source(level: str, values: dict[str, Any], **where: Any) -> dict[str, Any]:
    clean = {key: value for key, value in values.items() if key != "note"}
    return {"level": level, **where, "values": clean, "note": values.get("note", "")}


def accommodations_applied(*, exam: Exam, user: User) -> dict[str, Any]:
    """What applies to `user` sitting `exam`: the three levels added up (the module's rule), with
    where each part came from. Two small queries (course, exam); the user row is in hand."""
    sources = []
    institution = user.accommodations or {}
    if institution:
        sources.append(_source("institution", institution))
    if exam.course_id is not None:
        row = CourseAccommodation.objects.filter(course_id=exam.course_id, student_id=user.pk).first()
        if row is not None and row.accommodations:
            sources.append(
                _source(
                    "course",
                    row.accommodations,
                    course_id=exam.course_id,
                    set_by=row.updated_by_id,
                    updated_at=row.updated_at.isoformat(),
                )
            )
    allowance = ExamAllowance.objects.filter(exam_id=exam.pk, student_id=user.pk).first()
    if allowance is not None and allowance.accommodations:
        sources.append(
            _source(
                "exam",
                allowance.accommodations,
                exam_id=exam.pk,
                set_by=allowance.updated_by_id,
                updated_at=allowance.updated_at.isoformat(),
            )
        )
    pct = min(MAX_EXTRA_TIME_PCT, sum(int(s["values"].get("extra_time_pct", 0)) for s in sources))
    minutes = min(MAX_EXTRA_MINUTES, sum(int(s["values"].get("extra_minutes", 0)) for s in sources))
    exempt = sorted({name for s in sources for name in s["values"].get("exempt_signals", [])})
    return {"extra_time_pct": pct, "extra_minutes": minutes, "exempt_signals": exempt, "rule": RULE, "sources": sources}


def extra_time(*, exam: Exam, applied: dict[str, Any]) -> timedelta:
    """The time the applied accommodations add to the exam's duration: duration x pct/100 + minutes."""
    base = timedelta(minutes=exam.duration_minutes)
    return base * (applied.get("extra_time_pct", 0) / 100) + timedelta(minutes=applied.get("extra_minutes", 0))


# --- course level -----------------------------------------------------------------------------------


def _enrolled(*, course: Course, student_id: Any) -> User:
    """The student on the course's roster with this id, or NotOnRoster (404, code not_on_roster)."""
    pk = _pk(student_id)
    enrollment = (
        Enrollment.objects.filter(course=course, student_id=pk).select_related("student").first() if pk else None
    )
    if enrollment is None:
        raise NotOnRoster("That student is not enrolled in this course.", details={"code": NotOnRoster.code})
    return enrollment.student


def course_accommodations_list(*, course: Course) -> QuerySet[CourseAccommodation]:
    """The course's accommodations, by student name."""
    return (
        CourseAccommodation.objects.filter(course=course)
        .select_related("student", "updated_by")
        .order_by("student__name", "id")
    )


def course_accommodation_get(*, course: Course, student_id: Any) -> tuple[User, CourseAccommodation | None]:
    """The enrolled student and their accommodations in this course (None: none set)."""
    student = _enrolled(course=course, student_id=student_id)
    return student, CourseAccommodation.objects.filter(course=course, student=student).first()


def _course_write(
    *, course: Course, student: User, by: User, accommodations: Any, partial: bool, via: str
) -> CourseAccommodation:
    row = CourseAccommodation.objects.select_for_update().filter(course=course, student=student).first()
    before = dict(row.accommodations) if row else {}
    incoming = validate_accommodations(accommodations)
    after = validate_accommodations({**before, **incoming} if partial else incoming)
    if row is None:
        row = CourseAccommodation(course=course, student=student)
    row.accommodations = after
    row.updated_by = by
    row.save()
    if before != after:
        audit_record(
            actor=by,
            action="course_accommodations_update",
            target=student,
            details={"course_id": course.pk, "from": before, "to": after, "via": via},
        )
    return row


@transaction.atomic
def course_accommodation_set(
    *, course: Course, student_id: Any, by: User, accommodations: Any, partial: bool = False, via: str = "api"
) -> CourseAccommodation:
    """Set (PUT) or merge into (PATCH) an enrolled student's accommodations in this course; audited.

    The caller has checked that `by` staffs the course (exams.courses.course_get_for)."""
    student = _enrolled(course=course, student_id=student_id)
    return _course_write(course=course, student=student, by=by, accommodations=accommodations, partial=partial, via=via)


@transaction.atomic
def course_accommodation_delete(*, course: Course, student_id: Any, by: User, via: str = "api") -> bool:
    """Remove an enrolled student's accommodations in this course (audited); False when there were none."""
    student = _enrolled(course=course, student_id=student_id)
    row = CourseAccommodation.objects.select_for_update().filter(course=course, student=student).first()
    if row is None:
        return False
    before = dict(row.accommodations)
    row.delete()
    audit_record(
        actor=by,
        action="course_accommodations_delete",
        target=student,
        details={"course_id": course.pk, "from": before, "to": {}, "via": via},
    )
    return True


@dataclass
class BulkAccommodations:
    """What a bulk set did with each student named (each once): set, not on the roster, no such student."""

    set: list[str] = field(default_factory=list)
    not_enrolled: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {"set": self.set, "not_enrolled": self.not_enrolled, "unknown": self.unknown}


@transaction.atomic
def course_accommodations_bulk_set(
    *,
    course: Course,
    by: User,
    accommodations: Any,
    emails: list[str] | None = None,
    user_ids: list[int] | None = None,
    partial: bool = False,
    via: str = "api",
) -> BulkAccommodations:
    """Give the same accommodations to many enrolled students of the course (by email or user id, at
    most 1000), each change audited; students not on the roster are reported, never touched."""
    validate_accommodations(accommodations)
    named = [normalise_email(email) for email in emails or []] + [str(pk) for pk in user_ids or []]
    named = list(dict.fromkeys(named))[:MAX_BULK_EMAILS]
    students = User.objects.filter(role=Role.STUDENT)
    by_email = {u.email.lower(): u for u in students.filter(email__in=[n for n in named if "@" in n])}
    by_id = {str(u.pk): u for u in students.filter(pk__in=[int(n) for n in named if n.isdigit() and _pk(n)])}
    enrolled = set(
        Enrollment.objects.filter(course=course, student__in=[*by_email.values(), *by_id.values()]).values_list(
            "student_id", flat=True
        )
    )
    result = BulkAccommodations()
    for name in named:
        student = by_email.get(name) if "@" in name else by_id.get(name)
        if student is None:
            result.unknown.append(name)
        elif student.pk not in enrolled:
            result.not_enrolled.append(name)
        else:
            _course_write(
                course=course, student=student, by=by, accommodations=accommodations, partial=partial, via=via
            )
            result.set.append(name)
    return result


# --- exam level -------------------------------------------------------------------------------------


def _exam_owned(*, exam: Exam, by: User) -> None:
    if not may_change_exam(by, exam):
        raise ExamNotYours("Only whoever may change this exam (its creator, its course's staff, a superuser) "
                           "sets its allowances.")  # fmt: skip


def _eligible(*, exam: Exam, student_id: Any) -> User:
    """A student who may sit the exam: on its course's roster, or any student for an open exam."""
    if exam.course_id is not None:
        return _enrolled(course=exam.course, student_id=student_id)
    pk = _pk(student_id)
    student = User.objects.filter(pk=pk, role=Role.STUDENT).first() if pk else None
    if student is None:
        raise UserNotFound("No such student.")
    return student


def exam_allowances_list(*, exam: Exam, by: User) -> QuerySet[ExamAllowance]:
    """The exam's allowances, by student name (for whoever may change the exam)."""
    _exam_owned(exam=exam, by=by)
    return (
        ExamAllowance.objects.filter(exam=exam).select_related("student", "updated_by").order_by("student__name", "id")
    )


def exam_allowance_get(*, exam: Exam, student_id: Any, by: User) -> tuple[User, ExamAllowance | None]:
    """The student and their allowance for the exam (None: none set)."""
    _exam_owned(exam=exam, by=by)
    student = _eligible(exam=exam, student_id=student_id)
    return student, ExamAllowance.objects.filter(exam=exam, student=student).first()


@transaction.atomic
def exam_allowance_set(
    *, exam: Exam, student_id: Any, by: User, accommodations: Any, partial: bool = False, via: str = "api"
) -> ExamAllowance:
    """Set (PUT) or merge into (PATCH) a student's allowance for this exam; audited. For whoever may change
    the exam (ExamNotYours otherwise), for a student who may sit it."""
    _exam_owned(exam=exam, by=by)
    student = _eligible(exam=exam, student_id=student_id)
    row = ExamAllowance.objects.select_for_update().filter(exam=exam, student=student).first()
    before = dict(row.accommodations) if row else {}
    incoming = validate_accommodations(accommodations)
    after = validate_accommodations({**before, **incoming} if partial else incoming)
    if row is None:
        row = ExamAllowance(exam=exam, student=student)
    row.accommodations = after
    row.updated_by = by
    row.save()
    if before != after:
        audit_record(
            actor=by,
            action="exam_allowance_update",
            target=student,
            details={"exam_id": exam.pk, "from": before, "to": after, "via": via},
        )
    return row


@transaction.atomic
def exam_allowance_delete(*, exam: Exam, student_id: Any, by: User, via: str = "api") -> bool:
    """Remove a student's allowance for this exam (audited); False when there was none."""
    _exam_owned(exam=exam, by=by)
    student = _eligible(exam=exam, student_id=student_id)
    row = ExamAllowance.objects.select_for_update().filter(exam=exam, student=student).first()
    if row is None:
        return False
    before = dict(row.accommodations)
    row.delete()
    audit_record(
        actor=by,
        action="exam_allowance_delete",
        target=student,
        details={"exam_id": exam.pk, "from": before, "to": {}, "via": via},
    )
    return True


# --- explaining a session's applied accommodations (review page, proctors' session detail) -------------

LEVEL_LABELS = {"institution": "Institution-wide", "course": "Course", "exam": "This exam"}


def applied_explained(session: Any) -> dict[str, Any]:
    """A session's applied accommodations for a reviewer: the totals, the rule, and each level that
    contributed (who set it, where, why). Two small queries for names, none when nothing applied."""
    applied = session.accommodations or {}
    sources = applied.get("sources") or []
    setters = {s.get("set_by") for s in sources if s.get("set_by")}
    course_ids = {s.get("course_id") for s in sources if s.get("course_id")}
    names = dict(User.objects.filter(pk__in=setters).values_list("pk", "name")) if setters else {}
    codes = dict(Course.objects.filter(pk__in=course_ids).values_list("pk", "code")) if course_ids else {}
    rows = []
    for source in sources:
        level = source.get("level", "")
        where = {
            "institution": "every course",
            "course": codes.get(source.get("course_id"), f"course #{source.get('course_id')}"),
            "exam": "this exam only",
        }.get(level, "")
        rows.append(
            {
                "level": level,
                "label": LEVEL_LABELS.get(level, level),
                "where": where,
                "values": source.get("values") or {},
                "note": source.get("note", ""),
                "set_by": names.get(source.get("set_by")),
                "updated_at": source.get("updated_at"),
            }
        )
    return {
        "recorded": bool(applied),
        "extra_time_pct": applied.get("extra_time_pct", 0),
        "extra_minutes": applied.get("extra_minutes", 0),
        "exempt_signals": applied.get("exempt_signals", []),
        "rule": applied.get("rule", RULE),
        "backfilled": bool(applied.get("backfilled")),
        "sources": rows,
    }
