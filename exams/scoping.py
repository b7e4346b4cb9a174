"""Who may see which exam: the one rule every read path applies (REST, socket, admin, dashboard).

An exam with no course is open to every student and every proctor (the spec's behaviour). An exam
in a course is visible to the course's enrolled students and to its staff. Superusers see
everything. Each function returns a `Q` over the exam's foreign key, so a queryset of sessions,
alerts or events is scoped in the same single query that reads it; nothing is fetched per row.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q

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


def session_owner_scope() -> Q:
    """A filter on sessions whose own student may still see the exam (removed from the course: no).

    For batches of several students' sessions (socket joins): one correlated subquery, no query per row.
    """
    enrolled = Enrollment.objects.filter(student_id=OuterRef("user_id"), course_id=OuterRef("exam__course_id"))
    return Q(exam__course__isnull=True) | Q(user__is_superuser=True) | Exists(enrolled)


def user_scope(user: Any, *, user_field: str = "") -> Q:
    """A filter on the users `user` may act on (accommodations, baselines, student list, admin).

    Superusers: everyone. Proctors: users enrolled in no course (they can only take open exams,
    which every proctor watches) and users enrolled in a course the proctor staffs. Anyone else:
    only themselves. Registered into accounts.scoping at startup.
    """
    prefix = f"{user_field}__" if user_field else ""
    if not _is_user(user):
        return Q(**{f"{prefix}pk__in": []})
    if sees_everything(user):
        return Q()
    if not getattr(user, "is_proctor", False):
        return Q(**{f"{prefix}pk": user.pk})
    staffed = CourseStaff.objects.filter(user_id=user.pk).values("course_id")
    enrolled_anywhere = Enrollment.objects.values("student_id")
    enrolled_with_me = Enrollment.objects.filter(course_id__in=staffed).values("student_id")
    return ~Q(**{f"{prefix}pk__in": enrolled_anywhere}) | Q(**{f"{prefix}pk__in": enrolled_with_me})


def may_see_exam(user: Any, exam: Any) -> bool:
    """The same rule for one exam already in hand (one query at most, none for open exams)."""
    if not _is_user(user):
        return False
    if exam.course_id is None or sees_everything(user):
        return True
    return course_ids_for(user).filter(course_id=exam.course_id).exists()
