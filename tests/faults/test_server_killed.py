"""A daphne process killed mid-exam: the student reconnects to another process and carries on.

Nothing acknowledged is lost, events in flight are retried and stored once, and the session's clock
keeps running (docs/design.md: the deadline is fixed at start and checked on every read; a reconnect
neither pauses nor extends it).
"""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.client import Socket, demo_exam_id, login, rest, stored_ids
from tests.support.faults import SERVER_ENV
from tests.support.servers import servers

pytestmark = [pytest.mark.faults, pytest.mark.timeout(240)]

STUDENT = ("chen@exampulse.ai", "student123")
PROCTOR = ("proctor@exampulse.ai", "password123")


def test_a_student_on_a_killed_process_continues_the_same_session_on_another(database_url, private_redis):
    exam_id = demo_exam_id(database_url)

    async def scenario(doomed, survivor) -> dict:
        token = login(doomed.url, *STUDENT)
        status, started = rest(doomed.url, "POST", f"/api/exams/{exam_id}/start", token=token)
        assert status in (200, 201), started
        watcher = await Socket.open(survivor.ws_url, login(survivor.url, *PROCTOR))
        await watcher.send("join_exam", exam_id=exam_id)
        await watcher.expect("active_students")

        pupil = await Socket.open(doomed.ws_url, token)
        await pupil.send("join_exam", exam_id=exam_id)
        first_join = await pupil.expect("joined_exam")
        acked = []
        for i in range(5):
            await pupil.activity(exam_id, f"a-{i}")
            reply = await pupil.result_for(f"a-{i}")
            assert reply["event"] == "activity_logged", reply
            acked.append(f"a-{i}")
        # Two events leave without waiting for their acks, then the process dies.
        in_flight = ["b-0", "b-1"]
        for client_event_id in in_flight:
            await pupil.activity(exam_id, client_event_id)
        doomed.kill()

        # The client reconnects elsewhere with the same token and resends what it never saw acknowledged.
        pupil = await Socket.open(survivor.ws_url, token)
        await pupil.send("join_exam", exam_id=exam_id)
        second_join = await pupil.expect("joined_exam")
        for client_event_id in [*in_flight, "c-0", "c-1"]:
            await pupil.activity(exam_id, client_event_id)
            reply = await pupil.result_for(client_event_id)
            assert reply["event"] == "activity_logged", reply
            acked.append(client_event_id)
        heard = await watcher.expect("student_activity")
        await pupil.send("submit_exam", exam_id=exam_id, answers={"q1": "56"}, time_taken=60)
        submitted = await pupil.expect("exam_submitted")
        for socket in (pupil, watcher):
            await socket.close()
        return {
            "session_id": started["data"]["id"],
            "deadline_at": started["data"]["deadline_at"],
            "first_join": first_join,
            "second_join": second_join,
            "acked": acked,
            "heard": heard,
            "submitted": submitted,
        }

    with servers(2, database_url=database_url, redis_url=private_redis.url, extra_env=SERVER_ENV) as (doomed, survivor):
        seen = asyncio.run(scenario(doomed, survivor))
        assert survivor.process.poll() is None, survivor.output()

    assert seen["first_join"]["session_id"] == seen["second_join"]["session_id"] == seen["session_id"]
    # Same deadline before and after: the reconnect neither paused nor extended the exam.
    assert seen["first_join"]["deadline_at"] == seen["second_join"]["deadline_at"]
    stored = stored_ids(database_url, seen["session_id"])
    assert {cid: stored.get(cid) for cid in seen["acked"]} == dict.fromkeys(seen["acked"], 1)
    assert seen["heard"]["session_id"] == seen["session_id"]
    assert seen["submitted"]["session_id"] == seen["session_id"]
    assert seen["submitted"]["status"] == "submitted"
