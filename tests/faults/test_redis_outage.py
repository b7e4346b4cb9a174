"""Redis killed mid-exam: events are still stored and acknowledged; live delivery comes back with Redis."""

from __future__ import annotations

import asyncio

import pytest

from harness.servers import servers
from tests.faults.client import Socket, demo_exam_id, login, rest, stored_ids
from tests.support.faults import SERVER_ENV

pytestmark = [pytest.mark.faults, pytest.mark.timeout(240)]

STUDENT = ("asha@exampulse.ai", "student123")
LATE_STUDENT = ("ben@exampulse.ai", "student123")  # joins during the outage
RETURNING_STUDENT = ("chen@exampulse.ai", "student123")  # joins after it
PROCTOR = ("proctor@exampulse.ai", "password123")
# Generous liveness bounds: a missing frame fails the test instead of hanging it.
ACK_TIMEOUT_S = 8
RESUME_TIMEOUT_S = 30


async def wait_for_live_delivery(pupil: Socket, watcher: Socket, exam_id: int, prefix: str) -> str:
    """Send events until the proctor hears one of them live; returns its event type.

    Only an event sent after the outage counts: a frozen Redis delivers what was queued before it.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RESUME_TIMEOUT_S
    sent: set[int] = set()
    attempt = 0
    while loop.time() < deadline:
        attempt += 1
        client_event_id = f"{prefix}{attempt}"
        await pupil.activity(exam_id, client_event_id, "window_blur")
        ack = await pupil.result_for(client_event_id, ACK_TIMEOUT_S)
        assert ack["event"] == "activity_logged", ack
        sent.add(ack["data"]["event_id"])
        try:
            heard = await watcher.expect("student_activity", timeout=1.0, where=lambda d: d["event_id"] in sent)
        except TimeoutError:
            continue
        return heard["event_type"]
    raise AssertionError(f"live delivery did not resume within {RESUME_TIMEOUT_S} s of Redis returning")


@pytest.mark.parametrize("outage", ["killed", "frozen"])
def test_a_redis_outage_costs_live_delivery_only_never_an_acknowledgement(database_url, private_redis, outage):
    """Killed: connections are refused. Frozen (SIGSTOP): connections hang, the harder case."""
    exam_id = demo_exam_id(database_url)

    async def scenario(proctor_server, student_server) -> dict:
        student_token = login(student_server.url, *STUDENT)
        proctor_token = login(proctor_server.url, *PROCTOR)
        status, started = rest(student_server.url, "POST", f"/api/exams/{exam_id}/start", token=student_token)
        assert status in (200, 201), started
        session_id = started["data"]["id"]

        watcher = await Socket.open(proctor_server.ws_url, proctor_token)
        await watcher.send("join_exam", exam_id=exam_id)
        await watcher.expect("active_students")
        pupil = await Socket.open(student_server.ws_url, student_token)
        await pupil.send("join_exam", exam_id=exam_id)
        await pupil.expect("joined_exam")
        await watcher.expect("student_joined")

        await pupil.activity(exam_id, "before-1")
        assert (await pupil.result_for("before-1"))["event"] == "activity_logged"
        await watcher.expect("student_activity")

        if outage == "killed":
            private_redis.stop()
        else:
            private_redis.freeze()
        acked_during_outage = []
        for i in range(8):
            client_event_id = f"outage-{i}"
            await pupil.activity(exam_id, client_event_id, "window_blur")
            reply = await pupil.result_for(client_event_id, ACK_TIMEOUT_S)
            assert reply["event"] == "activity_logged", reply
            acked_during_outage.append(client_event_id)
        # A student who (re)connects during the outage can join and is acknowledged too.
        late_token = login(student_server.url, *LATE_STUDENT)
        status, _ = rest(student_server.url, "POST", f"/api/exams/{exam_id}/start", token=late_token)
        assert status in (200, 201)
        late = await Socket.open(student_server.ws_url, late_token)
        await late.send("join_exam", exam_id=exam_id)
        late_joined = await late.expect("joined_exam", ACK_TIMEOUT_S)
        await late.activity(exam_id, "late-1")
        late_reply = await late.result_for("late-1", ACK_TIMEOUT_S)
        assert late_reply["event"] == "activity_logged", late_reply
        # Both sockets are still open and answering while Redis is down.
        await pupil.send("ping")
        await pupil.expect("pong")
        await watcher.send("ping")
        await watcher.expect("pong")

        if outage == "killed":
            private_redis.start()
        else:
            private_redis.thaw()
        heard = await wait_for_live_delivery(pupil, watcher, exam_id, "after-")

        # Presence recovers: a student joining after the outage is announced and listed.
        other_token = login(student_server.url, *RETURNING_STUDENT)
        other = await Socket.open(student_server.ws_url, other_token)
        await other.send("join_exam", exam_id=exam_id)
        await other.expect("joined_exam")
        announced = await watcher.expect("student_joined", timeout=RESUME_TIMEOUT_S)
        await watcher.send("get_active_students", exam_id=exam_id)
        listed = await watcher.expect("active_students")
        for socket in (pupil, watcher, other, late):
            await socket.close()
        return {
            "session_id": session_id,
            "late_session_id": late_joined["session_id"],
            "acked_during_outage": acked_during_outage,
            "heard": heard,
            "announced": announced,
            "listed": listed,
        }

    with servers(2, database_url=database_url, redis_url=private_redis.url, extra_env=SERVER_ENV) as pair:
        proctor_server, student_server = pair
        seen = asyncio.run(scenario(proctor_server, student_server))
        for server in (proctor_server, student_server):
            assert server.process.poll() is None, server.output()

    stored = stored_ids(database_url, seen["session_id"])
    assert all(stored.get(cid) == 1 for cid in seen["acked_during_outage"]), stored
    assert stored["before-1"] == 1
    assert seen["heard"] == "window_blur"
    assert seen["announced"]["exam_id"] == demo_exam_id(database_url)
    assert seen["listed"]["count"] == 3
    assert stored_ids(database_url, seen["late_session_id"]) == {"late-1": 1}
