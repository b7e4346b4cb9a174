"""Who just lost sight of which exams, announced so that their live streams end at once.

exams decides who may see an exam (exams.scoping). When a change takes an exam away from someone
who could see it (a student taken off a course's roster, a proctor off its staff, an exam moved out
of a course), every socket of theirs must stop streaming that exam, on every server process. exams
never imports the live side, so it announces the loss with `exams.signals.access_revoked`, sent on
commit; monitoring turns it into an `access_revoked` push to that user's sockets.

Call these inside the transaction that makes the change, after the change: they read the new state
and send nothing if it rolls back.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from accounts.models import Role, User
from exams.models import Course, CourseStaff, Enrollment, Exam, ExamSession, SessionStatus
from exams.signals import access_revoked


def access_revoke_after_commit(*, user_id: int, exam_ids: Iterable[int]) -> None:
    """Announce, once the transaction commits, that the user may no longer see these exams."""
    exam_ids = sorted(set(exam_ids))
    if not exam_ids:
        return
    transaction.on_commit(lambda: access_revoked.send(sender=Exam, user_id=user_id, exam_ids=exam_ids))


def course_member_removed(*, course: Course, user: User) -> list[int]:
    """The user just left the course's roster or staff: announce its exams as lost; returns their ids.

    A superuser still sees everything, so loses nothing.
    """
    if user.is_superuser:
        return []
    exam_ids = list(Exam.objects.filter(course=course).values_list("pk", flat=True))
    access_revoke_after_commit(user_id=user.pk, exam_ids=exam_ids)
    return exam_ids


def exam_course_changed(*, exam: Exam, from_course_id: int | None) -> list[int]:
    """The exam just moved out of course `from_course_id` (call it after the move): announce the loss
    to each member of that course who no longer sees it; returns their user ids.

    Nobody loses an exam that became open (no course). The new course's members and superusers keep
    it, and so does a student whose session of this exam is already in progress (a started session
    keeps its student's access to finish it). An open exam (`from_course_id` None) moved into a course
    was seen by every proctor: those off the new course's staff lose it. Students only stream an exam
    through a session of their own, so there the in-progress rule alone decides (nobody else streams it).
    """
    if exam.course_id is None or exam.course_id == from_course_id:
        return []
    new = exam.course_id
    if from_course_id is None:
        staff = set(User.objects.filter(role=Role.PROCTOR).values_list("pk", flat=True))
        students: set[int] = set()
    else:
        staff = set(CourseStaff.objects.filter(course_id=from_course_id).values_list("user_id", flat=True))
        students = set(Enrollment.objects.filter(course_id=from_course_id).values_list("student_id", flat=True))
    staff -= set(CourseStaff.objects.filter(course_id=new).values_list("user_id", flat=True))
    students -= set(Enrollment.objects.filter(course_id=new).values_list("student_id", flat=True))
    students -= set(
        ExamSession.objects.filter(exam=exam, status=SessionStatus.IN_PROGRESS).values_list("user_id", flat=True)
    )
    superusers = set(User.objects.filter(pk__in=staff | students, is_superuser=True).values_list("pk", flat=True))
    lost = sorted((staff | students) - superusers)
    for user_id in lost:
        access_revoke_after_commit(user_id=user_id, exam_ids=[exam.pk])
    return lost
