"""Two real daphne processes sharing PostgreSQL and Redis: a proctor on one sees a student on the other,
and stops seeing them the moment a removal from the staff commits on the other."""

from __future__ import annotations

import asyncio
import contextlib
import json
import urllib.request

import pytest
import websockets

from accounts.services import tokens_issue
from exams.models import Course, CourseStaff, Enrollment
from exams.services import session_start
from monitoring.frame_types import check_frame
from scoring.services import baseline_add_sample
from tests.factories import ProctorFactory
from tests.monitoring.conftest import make_exam
from tests.support.live import current_database_url
from tests.support.servers import servers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


async def expect(ws, name: str, timeout: float = 10) -> dict:
    seen = []
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        check_frame(message)
        if message["event"] == name:
            return message["data"]
        seen.append(message["event"])
        if len(seen) > 100:
            raise AssertionError(f"no {name}; saw {seen}")


async def send(ws, event: str, **data) -> None:
    await ws.send(json.dumps({"event": event, "data": data}))


def test_student_on_one_process_is_seen_live_by_a_proctor_on_another(
    requires_postgres, requires_redis, student, proctor
):
    exam = make_exam(proctor, monitoring_sensitivity="high")
    for wpm in (40, 41, 39):  # calibrated before the exam: a session keeps the baseline it started with
        baseline_add_sample(user=student, sample={"typing_speed_wpm": wpm, "mouse_speed_pxs": 400})
    session = session_start(exam=exam, user=student)
    student_token = tokens_issue(user=student)["token"]
    proctor_token = tokens_issue(user=proctor)["token"]

    async def scenario(proctor_port: int, student_port: int) -> dict:
        async with (
            websockets.connect(f"ws://127.0.0.1:{proctor_port}/ws/exam/?token={proctor_token}") as watcher,
            websockets.connect(f"ws://127.0.0.1:{student_port}/ws/exam/?token={student_token}") as pupil,
        ):
            await expect(watcher, "connected")
            await expect(pupil, "connected")
            await send(watcher, "join_exam", exam_id=exam.pk)
            await expect(watcher, "active_students")
            await send(pupil, "join_exam", exam_id=exam.pk)
            joined = await expect(pupil, "joined_exam")
            announced = await expect(watcher, "student_joined")
            for i in range(11):
                await send(pupil, "suspicious_activity", exam_id=exam.pk, type="tab_switch", client_event_id=f"x{i}")
                await expect(pupil, "activity_logged")
            activity = await expect(watcher, "student_activity")
            await send(pupil, "suspicious_activity", exam_id=exam.pk, type="window_focus", blur_duration_ms=200_000)
            await send(pupil, "suspicious_activity", exam_id=exam.pk, type="typing_sample", wpm=130)
            alert = await expect(watcher, "high_risk_alert")
            await send(watcher, "get_active_students", exam_id=exam.pk)
            listed = await expect(watcher, "active_students")
            return {"joined": joined, "announced": announced, "activity": activity, "alert": alert, "listed": listed}

    with servers(2, database_url=current_database_url(), redis_url=requires_redis) as (a, b):
        seen = asyncio.run(scenario(a.port, b.port))

    assert seen["joined"]["session_id"] == session.pk
    assert seen["announced"]["user_id"] == student.pk
    assert seen["activity"]["event_type"] == "tab_switch"
    assert seen["alert"]["session_id"] == session.pk
    assert seen["alert"]["risk_score"] >= 0.5
    assert seen["listed"]["count"] == 1
    assert session.events.filter(event_type="tab_switch").count() == 11


def test_a_proctor_removed_over_rest_on_one_process_loses_the_stream_on_another(
    requires_postgres, requires_redis, student
):
    course = Course.objects.create(code="XP-1", name="Cross-process")
    removed, colleague = ProctorFactory(), ProctorFactory()
    for proctor in (removed, colleague):
        CourseStaff.objects.create(course=course, user=proctor)
    Enrollment.objects.create(course=course, student=student)
    exam = make_exam(colleague, course=course)
    session_start(exam=exam, user=student)
    tokens = {who: tokens_issue(user=user)["token"] for who, user in {
        "removed": removed, "colleague": colleague, "student": student}.items()}  # fmt: skip

    def rest_delete(port: int) -> int:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/courses/{course.pk}/staff/{removed.pk}",
            method="DELETE",
            headers={"Authorization": f"Bearer {tokens['colleague']}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status

    async def scenario(watch_port: int, rest_port: int) -> dict:
        url = f"ws://127.0.0.1:{watch_port}/ws/exam/?token="
        async with (
            websockets.connect(url + tokens["removed"]) as gone,
            websockets.connect(url + tokens["colleague"]) as stays,
            websockets.connect(f"ws://127.0.0.1:{rest_port}/ws/exam/?token={tokens['student']}") as pupil,
        ):
            for ws in (gone, stays):
                await expect(ws, "connected")
                await send(ws, "join_exam", exam_id=exam.pk)
                await expect(ws, "active_students")
            await expect(pupil, "connected")
            await send(pupil, "join_exam", exam_id=exam.pk)
            await expect(pupil, "joined_exam")
            before = await expect(gone, "student_joined")  # it was streaming until now

            status = await asyncio.to_thread(rest_delete, rest_port)
            revoked = await expect(gone, "access_revoked")

            await send(pupil, "suspicious_activity", exam_id=exam.pk, type="tab_switch", client_event_id="xp-1")
            await expect(pupil, "activity_logged")
            await send(pupil, "raise_hand", exam_id=exam.pk, message="help")
            await expect(pupil, "action_ok")
            # The colleague, on the same process and subscribed to the same group, hears both: whatever
            # the removed proctor would have received has arrived by now.
            await expect(stays, "student_activity")
            await expect(stays, "hand_raised")
            await send(gone, "ping")
            after = []
            while True:
                message = json.loads(await asyncio.wait_for(gone.recv(), 10))
                if message["event"] == "pong":
                    break
                after.append(message["event"])
            await asyncio.sleep(0.5)
            with contextlib.suppress(TimeoutError):
                after.append(json.loads(await asyncio.wait_for(gone.recv(), 0.5))["event"])
            return {"before": before, "status": status, "revoked": revoked, "after": after}

    with servers(2, database_url=current_database_url(), redis_url=requires_redis) as (a, b):
        seen = asyncio.run(scenario(a.port, b.port))

    assert seen["before"]["user_id"] == student.pk
    assert seen["status"] == 200
    assert seen["revoked"] == {"exam_id": exam.pk}
    assert seen["after"] == []
