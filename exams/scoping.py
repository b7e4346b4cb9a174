"""Who may see which exam: the one rule every read path applies (REST, socket, admin, dashboard).

An exam with no course is open to every student and every proctor (the spec's behaviour). An exam
in a course is visible to the course's enrolled students and to its staff. Superusers see
everything. Each function returns a `Q` over the exam's foreign key, so a queryset of sessions,
alerts or events is scoped in the same single query that reads it; nothing is fetched per row.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from exams.models import CourseStaff, Enrollment


def _is_user(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def sees_everything(user: Any) -> bool:
    return _is_user(user) and bool(user.is_superuser)


def course_ids_for(user: Any):
    """The courses the user belongs to (as staff for proctors, as a student otherwise), as a subquery."""
    if getattr(user, "is_proctor", False):
        return CourseStaff.objects.filter(user_id=user.pk).values("course_id")
    return Enrollment.objects.filter(student_id=user.pk).values("course_id")


def exam_scope(user: Any, *, exam_field: str = "") -> Q:
    """A filter on exams the user may see; `exam_field` is the path to the exam ("exam", "session__exam").

    Anonymous users see nothing; superusers everything; everyone else open exams and their courses' exams.
    """
    prefix = f"{exam_field}__" if exam_field else ""
    if not _is_user(user):
        return Q(pk__in=[])
    if sees_everything(user):
        return Q()
    return Q(**{f"{prefix}course__isnull": True}) | Q(**{f"{prefix}course_id__in": course_ids_for(user)})


def may_see_exam(user: Any, exam: Any) -> bool:
    """The same rule for one exam already in hand (one query at most, none for open exams)."""
    if not _is_user(user):
        return False
    if exam.course_id is None or sees_everything(user):
        return True
    return course_ids_for(user).filter(course_id=exam.course_id).exists()
