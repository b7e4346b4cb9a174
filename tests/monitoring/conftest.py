"""Fixtures for the live side: an active exam, a started session, and connected sockets."""

from __future__ import annotations

import contextlib
import json
from urllib.parse import quote

import pytest
from channels.testing import WebsocketCommunicator

from accounts.services import tokens_issue
from exams.models import Exam, ExamSession
from exams.services import session_start
from monitoring.frame_types import check_frame
from monitoring.models import Alert, Event
from scoring.services import baseline_add_sample
from tests.factories import StudentFactory

QUESTIONS = [
    {"id": "q1", "text": "2 + 2?", "type": "mcq", "options": ["3", "4"], "answer": "4", "points": 1},
    {"id": "q2", "text": "Primes?", "type": "multi", "options": ["2", "4", "5"], "answer": ["2", "5"], "points": 2},
]


def make_exam(proctor, **overrides) -> Exam:
    fields = {
        "name": "Live exam",
        "duration_minutes": 60,
        "status": "active",
        "monitoring_sensitivity": "high",
        "questions": QUESTIONS,
        "total_questions": len(QUESTIONS),
        "created_by": proctor,
    }
    fields.update(overrides)
    return Exam.objects.create(**fields)


@pytest.fixture
def exam(proctor):
    return make_exam(proctor)


@pytest.fixture
def session(request, exam, student):
    # A test that also asks for a baseline has it calibrated before the exam starts, as a student
    # would: a session is scored against the baseline as it stood at its start.
    if "baseline" in request.fixturenames:
        request.getfixturevalue("baseline")
    return session_start(exam=exam, user=student)


@pytest.fixture
def baseline(student):
    for wpm, speed, qtime in ((40, 400, 60), (42, 420, 62), (38, 380, 58)):
        baseline_add_sample(
            user=student,
            sample={
                "typing_speed_wpm": wpm,
                "mouse_speed_pxs": speed,
                "avg_question_time_sec": qtime,
                "tab_switch_rate": 0,
            },
        )
    return student.baseline


class Socket:
    """A connected WebsocketCommunicator with frame helpers; always disconnected by the fixture."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator

    async def send(self, event: str, **data) -> None:
        await self.communicator.send_json_to({"event": event, "data": data})

    async def send_raw(self, text: str | None = None, data: bytes | None = None) -> None:
        await self.communicator.send_to(text_data=text, bytes_data=data)

    async def receive(self, timeout: float = 3) -> dict:
        """The next frame, held against its schema (monitoring.frame_types): a payload that drifts fails here."""
        message = await self.communicator.receive_json_from(timeout=timeout)
        check_frame(message)
        return message

    async def expect(self, name: str, timeout: float = 3) -> dict:
        """Receive frames until one named `name` arrives; return its data."""
        seen = []
        for _ in range(50):
            message = await self.receive(timeout)
            if message["event"] == name:
                return message["data"]
            seen.append(message["event"])
        raise AssertionError(f"no {name} frame; saw {seen}")

    async def nothing(self, timeout: float = 0.2) -> bool:
        return await self.communicator.receive_nothing(timeout=timeout)


def ws_path(user=None, token: str | None = None) -> str:
    if token is None and user is not None:
        token = tokens_issue(user=user)["token"]
    return "/ws/exam/" if token is None else f"/ws/exam/?token={quote(token)}"


@pytest.fixture
async def ws_connect():
    """`await ws_connect(user)` opens an authenticated socket and consumes `connected`."""
    from exampulse.asgi import application

    opened: list[WebsocketCommunicator] = []

    async def connect(user, *, headers=None, path=None, expect_connected=True):
        from channels.db import database_sync_to_async

        if path is None:
            path = await database_sync_to_async(ws_path)(user)
        communicator = WebsocketCommunicator(application, path, headers=headers or [])
        opened.append(communicator)
        connected, code = await communicator.connect(timeout=5)
        if not expect_connected:
            # (accepted, close code): refused at the handshake is (False, code); accepted and closed
            # at once, as an unauthenticated socket is so a browser can read the code, is (True, code).
            if connected:
                first = await communicator.receive_output(timeout=5)
                code = first.get("code") if first["type"] == "websocket.close" else None
            return connected, code
        assert connected, f"refused with {code}"
        socket = Socket(communicator)
        hello = await socket.receive()
        assert hello["event"] == "connected"
        return socket

    yield connect
    for communicator in opened:
        # A socket the server already closed raises here; that is fine.
        with contextlib.suppress(Exception):
            await communicator.disconnect()


def dumps(value) -> str:
    return json.dumps(value)


def student_with_baseline():
    """A new student with a three-sample calibration baseline."""
    user = StudentFactory()
    for wpm, speed, qtime in ((40, 400, 60), (42, 420, 62), (38, 380, 58)):
        baseline_add_sample(
            user=user,
            sample={"typing_speed_wpm": wpm, "mouse_speed_pxs": speed, "avg_question_time_sec": qtime},
        )
    return user


def session_record(session: ExamSession) -> dict:
    """What ingestion stored for a session: its score and aggregate, its events and alerts (for comparisons)."""
    session.refresh_from_db()
    return {
        "risk_score": session.risk_score,
        "risk_level": session.risk_level,
        "integrity_score": session.integrity_score,
        "flagged_incidents_count": session.flagged_incidents_count,
        "behaviour": session.behaviour,
        "alerted_level": session.alerted_level,
        "events": list(
            Event.objects.filter(session=session)
            .order_by("id")
            .values_list("event_type", "client_event_id", "severity", "risk_score_after")
        ),
        "alerts": list(
            Alert.objects.filter(session=session).order_by("id").values_list("alert_type", "risk_level", "severity")
        ),
    }
