"""Removal from a course's staff or roster ends the person's live stream of its exams at once.

One process here (WebsocketCommunicator); tests/monitoring/test_cross_process.py does the same across
two daphne processes sharing Redis.
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from exams import access
from exams.courses import course_staff_remove
from exams.models import Course, CourseStaff, Enrollment
from exams.sessions import session_start
from exams.signals import access_revoked
from monitoring.models import Event, Presence
from tests.factories import ProctorFactory, StudentFactory
from tests.monitoring.conftest import make_exam

pytestmark = pytest.mark.django_db(transaction=True)


def _course_world() -> dict:
    """A course with two proctors on staff, an enrolled student with a started session, and its exam."""
    course = Course.objects.create(code="BIO-1", name="Biology")
    leaving, staying = ProctorFactory(), ProctorFactory()
    student = StudentFactory()
    for proctor in (leaving, staying):
        CourseStaff.objects.create(course=course, user=proctor)
    Enrollment.objects.create(course=course, student=student)
    exam = make_exam(staying, course=course)
    other_exam = make_exam(staying, name="Open exam")  # no course: nobody loses it
    session = session_start(exam=exam, user=student)
    return {
        "course": course,
        "leaving": leaving,
        "staying": staying,
        "student": student,
        "exam": exam,
        "other_exam": other_exam,
        "session": session,
    }


def _rest_delete(api_client, user, path: str) -> int:
    return api_client(user).delete(path).status_code


async def _drain(socket, timeout: float = 0.5) -> list[str]:
    """Every frame name the socket receives until it has been quiet for `timeout`."""
    seen = []
    while not await socket.nothing(timeout=timeout):
        seen.append((await socket.receive())["event"])
    return seen


async def test_a_proctor_taken_off_the_staff_stops_receiving_the_exam_at_once(ws_connect, api_client):
    world = await database_sync_to_async(_course_world)()
    exam_id = world["exam"].pk
    removed, colleague = await ws_connect(world["leaving"]), await ws_connect(world["staying"])
    for socket in (removed, colleague):
        await socket.send("join_exam", exam_id=exam_id)
        await socket.expect("active_students")
    await removed.send("join_exam", exam_id=world["other_exam"].pk)
    await removed.expect("active_students")

    path = f"/api/courses/{world['course'].pk}/staff/{world['leaving'].pk}"
    status = await database_sync_to_async(_rest_delete)(api_client, world["staying"], path)

    assert status == 200
    assert await removed.expect("access_revoked") == {"exam_id": exam_id}
    # The student's arrival, activity and raised hand reach the colleague, and nothing reaches the removed proctor.
    student = await ws_connect(world["student"])
    await student.send("join_exam", exam_id=exam_id)
    await student.expect("joined_exam")
    await student.send("suspicious_activity", exam_id=exam_id, type="tab_switch", client_event_id="r-1")
    await student.expect("activity_logged")
    await student.send("raise_hand", exam_id=exam_id, message="Is question 2 about cells?")
    await student.expect("action_ok")
    assert (await colleague.expect("student_joined"))["user_id"] == world["student"].pk
    await colleague.expect("student_activity")
    assert (await colleague.expect("hand_raised"))["message"] == "Is question 2 about cells?"
    assert await _drain(removed) == []
    # Its further frames for the exam are answered like any exam out of scope; the open exam stays watched.
    await removed.send("get_active_students", exam_id=exam_id)
    assert (await removed.expect("error"))["code"] == "exam_not_found"
    await removed.send("get_active_students", exam_id=world["other_exam"].pk)
    assert (await removed.expect("active_students"))["exam_id"] == world["other_exam"].pk
    assert not await database_sync_to_async(Presence.objects.filter(user=world["leaving"], exam_id=exam_id).exists)()


async def test_a_student_taken_off_the_roster_stops_streaming_mid_exam(ws_connect, api_client):
    world = await database_sync_to_async(_course_world)()
    exam_id = world["exam"].pk
    proctor = await ws_connect(world["staying"])
    await proctor.send("join_exam", exam_id=exam_id)
    await proctor.expect("active_students")
    student = await ws_connect(world["student"])
    await student.send("join_exam", exam_id=exam_id)
    await student.expect("joined_exam")
    await student.send("suspicious_activity", exam_id=exam_id, type="copy", client_event_id="s-1")
    await student.expect("activity_logged")
    await proctor.expect("student_activity")

    path = f"/api/courses/{world['course'].pk}/students/{world['student'].pk}"
    assert await database_sync_to_async(_rest_delete)(api_client, world["staying"], path) == 200

    assert await student.expect("access_revoked") == {"exam_id": exam_id}
    assert (await proctor.expect("student_left"))["user_id"] == world["student"].pk
    await student.send("suspicious_activity", exam_id=exam_id, type="copy", client_event_id="s-2")
    error = await student.expect("error")
    assert error["code"] == "exam_not_found"
    await student.send("join_exam", exam_id=exam_id)
    assert (await student.expect("error"))["code"] == "exam_not_found"
    count = database_sync_to_async(lambda: Event.objects.filter(session=world["session"], event_type="copy").count())
    assert await count() == 1
    # A warning the proctor still sends to the session no longer reaches the removed student's socket.
    await proctor.send("warn_student", session_id=world["session"].pk, message="Eyes on your screen")
    await proctor.expect("action_ok")
    assert "proctor_warning" not in await _drain(student)


async def test_a_student_re_enrolled_may_join_again_on_the_same_socket(ws_connect, api_client):
    world = await database_sync_to_async(_course_world)()
    exam_id = world["exam"].pk
    student = await ws_connect(world["student"])
    await student.send("join_exam", exam_id=exam_id)
    await student.expect("joined_exam")
    path = f"/api/courses/{world['course'].pk}/students/{world['student'].pk}"
    assert await database_sync_to_async(_rest_delete)(api_client, world["staying"], path) == 200
    await student.expect("access_revoked")

    await database_sync_to_async(Enrollment.objects.create)(course=world["course"], student=world["student"])
    await student.send("join_exam", exam_id=exam_id)
    assert (await student.expect("joined_exam"))["session_id"] == world["session"].pk
    await student.send("suspicious_activity", exam_id=exam_id, type="tab_switch", client_event_id="back-1")
    assert (await student.expect("activity_logged"))["client_event_id"] == "back-1"


class _Heard:
    def __init__(self) -> None:
        self.calls: list[tuple[int, list[int]]] = []

    def __call__(self, sender, user_id, exam_ids, **kwargs) -> None:
        self.calls.append((user_id, exam_ids))


@pytest.fixture
def heard():
    listener = _Heard()
    access_revoked.connect(listener, dispatch_uid="test.heard")
    yield listener
    access_revoked.disconnect(dispatch_uid="test.heard")


def test_the_admin_inline_removal_announces_the_revocation_on_commit(client, heard):
    world = _course_world()
    boss = ProctorFactory(is_superuser=True)
    client.force_login(boss)
    course = world["course"]
    staff_rows = list(CourseStaff.objects.filter(course=course).order_by("pk"))
    enrolment = Enrollment.objects.get(course=course)
    form = {"code": course.code, "name": course.name}
    form.update(
        {
            "staff_memberships-TOTAL_FORMS": str(len(staff_rows)),
            "staff_memberships-INITIAL_FORMS": str(len(staff_rows)),
            "enrollments-TOTAL_FORMS": "1",
            "enrollments-INITIAL_FORMS": "1",
            "enrollments-0-id": str(enrolment.pk),
            "enrollments-0-course": str(course.pk),
            "enrollments-0-DELETE": "on",
        }
    )
    for index, row in enumerate(staff_rows):
        form[f"staff_memberships-{index}-id"] = str(row.pk)
        form[f"staff_memberships-{index}-course"] = str(course.pk)
        if row.user_id == world["leaving"].pk:
            form[f"staff_memberships-{index}-DELETE"] = "on"

    response = client.post(f"/admin/exams/course/{course.pk}/change/", form)

    assert response.status_code == 302, response.content[:3000]
    assert sorted(heard.calls) == sorted(
        [(world["leaving"].pk, [world["exam"].pk]), (world["student"].pk, [world["exam"].pk])]
    )


def test_nothing_is_announced_for_a_removal_that_rolls_back(heard):
    world = _course_world()

    def remove_then_fail() -> None:
        with transaction.atomic():
            course_staff_remove(course=world["course"], by=world["staying"], user_id=world["leaving"].pk)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        remove_then_fail()
    assert heard.calls == []
    assert CourseStaff.objects.filter(user=world["leaving"]).exists()


def test_a_superuser_taken_off_a_staff_loses_nothing(heard):
    world = _course_world()
    boss = ProctorFactory(is_superuser=True)
    CourseStaff.objects.create(course=world["course"], user=boss)

    course_staff_remove(course=world["course"], by=world["staying"], user_id=boss.pk)
    assert heard.calls == []


def test_an_exam_moved_out_of_a_course_is_revoked_for_those_who_no_longer_see_it(heard):
    world = _course_world()
    exam = world["exam"]
    other = Course.objects.create(code="CHEM-1", name="Chemistry")
    CourseStaff.objects.create(course=other, user=world["staying"])  # staffs both: keeps it
    late = StudentFactory()  # enrolled, no session yet: loses it
    Enrollment.objects.create(course=world["course"], student=late)
    from_course = exam.course_id
    exam.course = other
    exam.save(update_fields=["course"])

    lost = access.exam_course_changed(exam=exam, from_course_id=from_course)

    # The student mid-exam keeps their session (and its stream); the colleague on both staffs keeps it too.
    assert lost == sorted([world["leaving"].pk, late.pk])
    assert sorted(heard.calls) == sorted([(world["leaving"].pk, [exam.pk]), (late.pk, [exam.pk])])
    # An exam that becomes open is lost by nobody.
    exam.course = None
    exam.save(update_fields=["course"])
    assert access.exam_course_changed(exam=exam, from_course_id=other.pk) == []


async def test_a_proctor_watching_an_exam_moved_to_a_course_they_do_not_staff_loses_it(ws_connect, api_client):
    def world_of_two_courses():
        owner, outsider = ProctorFactory(), ProctorFactory()
        course_a = Course.objects.create(code="HIST-1", name="History")
        course_b = Course.objects.create(code="HIST-2", name="History II")
        for course in (course_a, course_b):
            CourseStaff.objects.create(course=course, user=owner)
        CourseStaff.objects.create(course=course_a, user=outsider)
        return owner, outsider, course_b, make_exam(owner, course=course_a), make_exam(owner, name="Open quiz")

    owner, outsider, course_b, course_exam, open_exam = await database_sync_to_async(world_of_two_courses)()
    watcher = await ws_connect(outsider)
    for exam in (course_exam, open_exam):
        await watcher.send("join_exam", exam_id=exam.pk)
        await watcher.expect("active_students")

    def move(exam) -> int:
        return api_client(owner).patch(f"/api/exams/{exam.pk}", {"course": course_b.pk}, format="json").status_code

    # From a course the watcher staffs, and from no course at all, into one they do not staff.
    assert await database_sync_to_async(move)(course_exam) == 200
    assert await watcher.expect("access_revoked") == {"exam_id": course_exam.pk}
    assert await database_sync_to_async(move)(open_exam) == 200
    assert await watcher.expect("access_revoked") == {"exam_id": open_exam.pk}
    await watcher.send("get_active_students", exam_id=open_exam.pk)
    assert (await watcher.expect("error"))["code"] == "exam_not_found"
