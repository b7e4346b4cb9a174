"""Courses and their rosters: every state change of a Course, an Enrollment or a CourseStaff row, and their reads.

Who may manage a course: its staff (proctors) and superusers. Students only ever appear on a
roster; a proctor only on a staff list. Each change is audited (who, what, when, details).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet

from accounts.models import Role, User
from accounts.services import audit_record, student_create_invited
from exams.access import course_member_removed
from exams.exceptions import CourseCodeTaken, CourseNeedsStaff, CourseNotFound, NotOnRoster
from exams.models import Course, CourseStaff, Enrollment

# Letters, digits, dot, dash and underscore; starts with a letter or digit ("CS-101", "PHY.2026").
COURSE_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
MAX_BULK_EMAILS = 1000
# An audit entry lists at most this many emails per outcome (the counts are always exact).
AUDIT_EMAILS_LISTED = 200
MAX_PK = 2**63 - 1


@dataclass
class RosterChange:
    """What a bulk add did with each email it was given (normalised, each email once)."""

    added: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    wrong_role: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {"added": self.added, "already": self.already, "unknown": self.unknown, "wrong_role": self.wrong_role}


def normalise_email(email: str) -> str:
    return User.objects.normalize_email(email.strip()).lower()


def _pk(value: Any) -> int | None:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return pk if 0 < pk <= MAX_PK else None


# --- reads ---------------------------------------------------------------------------------------


def course_list_for(*, user: User) -> QuerySet[Course]:
    """Courses the user manages: the ones they staff (superusers: all), with roster and staff counts."""
    queryset = Course.objects.annotate(
        student_count=Count("enrollments", distinct=True), staff_count=Count("staff_memberships", distinct=True)
    ).order_by("code", "id")
    if user.is_superuser:
        return queryset
    return queryset.filter(pk__in=CourseStaff.objects.filter(user_id=user.pk).values("course_id"))


def course_get_for(*, user: User, course_id: Any) -> Course:
    """The course if the user staffs it (superusers: any); CourseNotFound otherwise, so nothing is revealed."""
    pk = _pk(course_id)
    course = course_list_for(user=user).filter(pk=pk).first() if pk else None
    if course is None:
        raise CourseNotFound()
    return course


def course_staffed_by(*, user: User, course_id: Any) -> Course | None:
    """The course if the user may place exams in it (staff or superuser), else None."""
    pk = _pk(course_id)
    if pk is None:
        return None
    queryset = Course.objects.filter(pk=pk)
    if not user.is_superuser:
        queryset = queryset.filter(staff_memberships__user_id=user.pk)
    return queryset.first()


def course_students(*, course: Course, search: str | None = None) -> QuerySet[Enrollment]:
    """The course's roster, optionally matching `search` in name, email or roll number."""
    queryset = Enrollment.objects.filter(course=course).select_related("student").order_by("student__name", "id")
    if search:
        queryset = queryset.filter(
            Q(student__name__icontains=search)
            | Q(student__email__icontains=search)
            | Q(student__roll_number__icontains=search)
        )
    return queryset


# --- course ------------------------------------------------------------------------------------


@transaction.atomic
def course_create(*, by: User, code: str, name: str) -> Course:
    """Create a course; its creator becomes its first staff member. Codes are unique, case-insensitively."""
    code = code.strip()
    if Course.objects.filter(code__iexact=code).exists():
        raise CourseCodeTaken(details={"field": "code"})
    try:
        with transaction.atomic():
            course = Course.objects.create(code=code, name=name.strip(), created_by=by)
    except IntegrityError as exc:  # a concurrent create won the race
        raise CourseCodeTaken(details={"field": "code"}) from exc
    CourseStaff.objects.create(course=course, user=by, added_by=by)
    audit_record(actor=by, action="course_create", target=course, details={"code": course.code, "name": course.name})
    return course


@transaction.atomic
def course_update(*, course: Course, by: User, data: dict[str, Any]) -> Course:
    """Change a course's code or name; the old and new values are audited."""
    course = Course.objects.select_for_update().get(pk=course.pk)
    changes: dict[str, Any] = {}
    if "code" in data and data["code"].strip() != course.code:
        code = data["code"].strip()
        if Course.objects.filter(code__iexact=code).exclude(pk=course.pk).exists():
            raise CourseCodeTaken(details={"field": "code"})
        changes["code"] = {"from": course.code, "to": code}
        course.code = code
    if "name" in data and data["name"].strip() != course.name:
        changes["name"] = {"from": course.name, "to": data["name"].strip()}
        course.name = data["name"].strip()
    if changes:
        try:
            with transaction.atomic():
                course.save(update_fields=[*changes, "updated_at"])
        except IntegrityError as exc:
            raise CourseCodeTaken(details={"field": "code"}) from exc
        audit_record(actor=by, action="course_update", target=course, details=changes)
    return course


# --- roster and staff ------------------------------------------------------------------------


def _bulk_add(*, course: Course, by: User | None, emails: list[str], role: str, kind: str) -> RosterChange:
    model, user_field = (Enrollment, "student") if kind == "students" else (CourseStaff, "user")
    wanted = list(dict.fromkeys(normalise_email(email) for email in emails if email.strip()))
    users = {user.email.lower(): user for user in User.objects.filter(email__in=wanted)}
    present = set(
        model.objects.filter(course=course, **{f"{user_field}__in": users.values()}).values_list(
            f"{user_field}_id", flat=True
        )
    )
    change = RosterChange()
    new_rows = []
    for email in wanted:
        user = users.get(email)
        if user is None:
            change.unknown.append(email)
        elif user.role != role:
            change.wrong_role.append(email)
        elif user.pk in present:
            change.already.append(email)
        else:
            change.added.append(email)
            new_rows.append(model(course=course, added_by=by, **{user_field: user}))
    # ignore_conflicts: a concurrent add of the same person is the same outcome, not an error.
    model.objects.bulk_create(new_rows, ignore_conflicts=True)
    if change.added:
        audit_record(
            actor=by,
            action=f"course_{kind}_add",
            target=course,
            details={"count": len(change.added), "emails": change.added[:AUDIT_EMAILS_LISTED]},
        )
    return change


@transaction.atomic
def course_students_add(*, course: Course, by: User | None, emails: list[str]) -> RosterChange:
    """Enrol the student accounts with these emails; unknown and non-student emails are reported, not added."""
    return _bulk_add(course=course, by=by, emails=emails, role=Role.STUDENT, kind="students")


@transaction.atomic
def course_staff_add(*, course: Course, by: User | None, emails: list[str]) -> RosterChange:
    """Put the proctor accounts with these emails on the course's staff; others are reported, not added."""
    return _bulk_add(course=course, by=by, emails=emails, role=Role.PROCTOR, kind="staff")


@transaction.atomic
def course_student_remove(*, course: Course, by: User, user_id: Any) -> None:
    """Take a student off the roster (their past sessions stay); NotOnRoster if they were not on it.

    Their sockets stop streaming the course's exams once this commits (exams.access).
    """
    enrollment = Enrollment.objects.filter(course=course, student_id=_pk(user_id)).select_related("student").first()
    if enrollment is None:
        raise NotOnRoster("That student is not enrolled in this course.")
    student = enrollment.student
    enrollment.delete()
    audit_record(actor=by, action="course_student_remove", target=course, details={"email": student.email})
    course_member_removed(course=course, user=student)


@transaction.atomic
def course_staff_remove(*, course: Course, by: User, user_id: Any) -> None:
    """Take a proctor off the staff; the last staff member stays (a course nobody can manage is lost).

    Their sockets stop receiving the course's exams' pushes once this commits (exams.access).
    """
    # Lock the course so two concurrent removals cannot both see "another one is left".
    course = Course.objects.select_for_update().get(pk=course.pk)
    membership = CourseStaff.objects.filter(course=course, user_id=_pk(user_id)).select_related("user").first()
    if membership is None:
        raise NotOnRoster("That proctor is not on this course's staff.")
    if not CourseStaff.objects.filter(course=course).exclude(pk=membership.pk).exists():
        raise CourseNeedsStaff()
    proctor = membership.user
    membership.delete()
    audit_record(actor=by, action="course_staff_remove", target=course, details={"email": proctor.email})
    course_member_removed(course=course, user=proctor)


# --- roster import (manage.py import_roster) ----------------------------------------------------


@transaction.atomic
def course_roster_import_row(
    *, course: Course, by: User | None, email: str, name: str, roll_number: str = ""
) -> tuple[str, User | None]:
    """Enrol one roster row, creating a student (unusable password) when the email is new.

    Returns (outcome, user): "created" (new account, enrolled), "enrolled", "already", or
    "wrong_role" (the email belongs to a proctor; nothing changes). Re-running a roster is a no-op.
    """
    email = normalise_email(email)
    user = User.objects.filter(email__iexact=email).first()
    outcome = "enrolled"
    if user is None:
        user = student_create_invited(email=email, name=name, roll_number=roll_number)
        outcome = "created"
    elif user.role != Role.STUDENT:
        return "wrong_role", user
    _, made = Enrollment.objects.get_or_create(course=course, student=user, defaults={"added_by": by})
    if not made:
        return "already", user
    return outcome, user
