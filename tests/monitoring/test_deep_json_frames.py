"""A deeply nested frame earns an `error` frame with a code, stores nothing, and the socket lives on."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from exampulse.platform.json_limits import MAX_JSON_DEPTH
from monitoring.models import Event

pytestmark = pytest.mark.django_db(transaction=True)


def _activity_with(inner: str, exam_id: int) -> str:
    head = f'{{"event": "suspicious_activity", "data": {{"exam_id": {exam_id}, "type": "copy", "x": '
    return head + inner + "}}"


@pytest.mark.parametrize(
    "make_text",
    [
        # Far past the decoder's recursion limit, still under the 64 KB frame limit.
        lambda exam_id: "[" * 30_000 + "]" * 30_000,
        lambda exam_id: _activity_with("[" * 30_000 + "]" * 30_000, exam_id),
        # Shallow enough for the decoder, too deep for everything after it.
        lambda exam_id: _activity_with("[" * 900 + "]" * 900, exam_id),
        lambda exam_id: _activity_with("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH, exam_id),
    ],
    ids=["bare-30k", "payload-30k", "payload-900", "payload-limit"],
)
async def test_deep_frame_gets_too_deep_error_and_socket_survives(ws_connect, student, session, make_text):
    socket = await ws_connect(student)
    await socket.send("join_exam", exam_id=session.exam_id)
    await socket.expect("joined_exam")

    await socket.send_raw(make_text(session.exam_id))
    reply = await socket.receive()
    assert reply["event"] == "error"
    assert reply["data"]["code"] == "too_deep"

    await socket.send("ping")
    assert (await socket.expect("pong")) is not None
    assert not await database_sync_to_async(Event.objects.filter(session_id=session.pk).exists)()
