"""Who may see which exam: the one rule every read path applies (REST, socket, admin, dashboard).

An exam with no course is open to every student and every proctor (the spec's behaviour). An exam
in a course is visible to the course's enrolled students and to its staff. Superusers see
everything. Each function returns a `Q` over the exam's foreign key, so a queryset of sessions,
alerts or events is scoped in the same single query that reads it; nothing is fetched per row.
The one exception is `sessions_still_owned`, the socket join batch's check, in Python over rows
already read (with at most one query for the batch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import Q

from exams.models import CourseStaff, Enrollment, ExamSession


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


def sessions_still_owned(sessions: Sequence[ExamSession], users: Mapping[int, Any]) -> list[ExamSession]:
    """Of these sessions (read with their exam), those whose own student may still reach them.

    The rule of `own_session_scope`, for a batch of several students' sessions (socket joins): the
    exam has no course, or the student is a superuser, or is enrolled in the exam's course now or in
    the course the session started in (an exam moved to another course keeps its started sessions).
    Checked here rather than as correlated subqueries: building those cost a join batch more CPU
    than the rest of its read (issue 25). One query, only when a session's course must be checked.
    """
    pending = [
        session
        for session in sessions
        if session.exam.course_id is not None
        and session.course_at_start_id is not None
        and not sees_everything(users.get(session.user_id))
    ]
    if not pending:
        return list(sessions)
    enrolled = set(
        Enrollment.objects.filter(
            student_id__in={session.user_id for session in pending},
            course_id__in={session.exam.course_id for session in pending}
            | {session.course_at_start_id for session in pending},
        ).values_list("student_id", "course_id")
    )
    refused = {
        session.pk
        for session in pending
        if (session.user_id, session.exam.course_id) not in enrolled
        and (session.user_id, session.course_at_start_id) not in enrolled
    }
    return [session for session in sessions if session.pk not in refused]


def own_session_scope(user: Any, *, session_field: str = "") -> Q:
    """A filter on the sessions a student reaches as their own, whatever course the exam is in now.

    A session belongs to the course its exam was in when it started: its student keeps it (to
    autosave, send events, submit, read the result) while enrolled there, or always when the exam
    was open at the start. So a proctor moving an exam to another course never strands a student
    mid-exam, and removing a student from the roster still ends their access.
    """
    prefix = f"{session_field}__" if session_field else ""
    if not _is_user(user):
        return Q(**{f"{prefix}pk__in": []})
    enrolled = Enrollment.objects.filter(student_id=user.pk).values("course_id")
    return Q(**{f"{prefix}user_id": user.pk}) & (
        Q(**{f"{prefix}course_at_start__isnull": True}) | Q(**{f"{prefix}course_at_start_id__in": enrolled})
    )


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


def examinee_scope(user: Any, *, user_field: str = "") -> Q:
    """A filter on the students whose sessions `user` may see: superusers everyone, proctors the
    students who sat (or sit) an exam in their scope, anyone else only themselves.

    What reads a student's institution-wide data (their baseline) uses it: enrolling a student in
    one's own course, which any proctor may do with an email, must not open it; examining them does.
    Registered into accounts.scoping at startup.
    """
    prefix = f"{user_field}__" if user_field else ""
    if not _is_user(user):
        return Q(**{f"{prefix}pk__in": []})
    if sees_everything(user):
        return Q()
    if not getattr(user, "is_proctor", False):
        return Q(**{f"{prefix}pk": user.pk})
    examined = ExamSession.objects.filter(exam_scope(user, exam_field="exam")).values("user_id")
    return Q(**{f"{prefix}pk__in": examined})


def may_change_exam(user: Any, exam: Any) -> bool:
    """Who may change or delete an exam (REST, admin, services): its creator, the staff of its
    course, or a superuser. One rule for every write, so seeing an exam never means owning it.

    Every proctor sees an open exam (no course), so "any proctor who sees it" would let one proctor
    rewrite another's exam policy mid-exam; an exam with neither creator nor course (its creator's
    account was deleted) is left to superusers. At most one query (course staff), none otherwise.
    """
    if not _is_user(user):
        return False
    if sees_everything(user):
        return True
    if not getattr(user, "is_proctor", False):
        return False
    if exam.created_by_id is not None and exam.created_by_id == user.pk:
        return True
    return exam.course_id is not None and CourseStaff.objects.filter(user_id=user.pk, course_id=exam.course_id).exists()
