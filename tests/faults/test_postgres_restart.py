"""PostgreSQL restarted mid-exam: clients get errors, never a false acknowledgement; retries are stored once."""

from __future__ import annotations

import asyncio

import pytest

from harness.servers import servers
from tests.faults.client import Socket, demo_exam_id, login, rest, stored_ids
from tests.support.faults import SERVER_ENV

pytestmark = [pytest.mark.faults, pytest.mark.timeout(400)]

STUDENT = ("dana@exampulse.ai", "student123")
# With PostgreSQL down, each database hop waits for the connection pool (DB_POOL_TIMEOUT, 10 s by
# default) before it fails, and the presence heartbeat shares the socket's database thread.
ACK_TIMEOUT_S = 45
RECOVERY_TIMEOUT_S = 60


async def send_until_acked(pupil: Socket, exam_id: int, client_event_id: str) -> tuple[dict, int]:
    """Retry one event (same client_event_id) until it is acknowledged; returns the ack and the errors seen."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RECOVERY_TIMEOUT_S
    errors = 0
    while loop.time() < deadline:
        await pupil.activity(exam_id, client_event_id)
        reply = await pupil.result_for(client_event_id, ACK_TIMEOUT_S)
        if reply["event"] == "activity_logged":
            return reply["data"], errors
        errors += 1
        await asyncio.sleep(0.5)
    raise AssertionError(f"{client_event_id} was never acknowledged after the restart")


def test_a_database_restart_gives_errors_then_each_retried_event_is_stored_once(
    private_postgres, database_url, private_redis
):
    exam_id = demo_exam_id(database_url)

    async def scenario(server) -> dict:
        token = login(server.url, *STUDENT)
        status, started = rest(server.url, "POST", f"/api/exams/{exam_id}/start", token=token)
        assert status in (200, 201), started
        pupil = await Socket.open(server.ws_url, token)
        await pupil.send("join_exam", exam_id=exam_id)
        await pupil.expect("joined_exam")
        acked = []
        for i in range(3):
            await pupil.activity(exam_id, f"before-{i}")
            reply = await pupil.result_for(f"before-{i}")
            assert reply["event"] == "activity_logged", reply
            acked.append(f"before-{i}")

        private_postgres.stop()
        during = []
        for i in range(2):
            await pupil.activity(exam_id, f"during-{i}")
            during.append(await pupil.result_for(f"during-{i}", ACK_TIMEOUT_S))
        await pupil.send("ping")
        await pupil.expect("pong")  # the socket outlives the database
        private_postgres.start()

        retried = {}
        for i in range(2):
            retried[f"during-{i}"] = await send_until_acked(pupil, exam_id, f"during-{i}")
        # A retry of an event acknowledged before the restart is recognised, not stored again.
        again, _ = await send_until_acked(pupil, exam_id, "before-0")
        await pupil.close()
        return {"session_id": started["data"]["id"], "during": during, "retried": retried, "again": again}

    with servers(1, database_url=database_url, redis_url=private_redis.url, extra_env=SERVER_ENV) as (server,):
        try:
            seen = asyncio.run(scenario(server))
        except BaseException:
            print(server.output())
            raise
        assert server.process.poll() is None, server.output()

    # While the database was down: an error frame each, never an acknowledgement.
    assert [frame["event"] for frame in seen["during"]] == ["error", "error"]
    assert seen["again"]["duplicate"] is True
    assert all(ack["duplicate"] is False for ack, _errors in seen["retried"].values())
    stored = stored_ids(database_url, seen["session_id"])
    assert stored == {"before-0": 1, "before-1": 1, "before-2": 1, "during-0": 1, "during-1": 1}
