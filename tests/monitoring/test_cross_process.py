"""Two real daphne processes sharing PostgreSQL and Redis: a proctor on one sees a student on the other."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from accounts.services import tokens_issue
from exams.services import session_start
from scoring.services import baseline_add_sample
from tests.monitoring.conftest import make_exam
from tests.support.live import current_database_url
from tests.support.servers import servers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis]


async def expect(ws, name: str, timeout: float = 10) -> dict:
    seen = []
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
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
