"""The /ws/exam/ protocol end to end through Channels' WebsocketCommunicator."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async

from exams.models import ExamSession
from monitoring.models import Alert, Event, Presence
from tests.factories import ProctorFactory
from tests.monitoring.conftest import make_exam, ws_path

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def exam(proctor):
    """These tests read the risk from the student's acks, so the exam shows it (`show_risk_to_student`)."""
    return make_exam(proctor, show_risk_to_student=True)


@database_sync_to_async
def events_of(session_id: int, **filters) -> list[Event]:
    return list(Event.objects.filter(session_id=session_id, **filters).order_by("id"))


@database_sync_to_async
def reload(session: ExamSession) -> ExamSession:
    return ExamSession.objects.get(pk=session.pk)


@database_sync_to_async
def threshold_alerts() -> int:
    return Alert.objects.filter(alert_type="risk_threshold").count()


def activity(exam_id: int, type_: str, **payload) -> dict:
    return {"exam_id": exam_id, "type": type_, **payload}


class TestAuthentication:
    async def test_a_socket_without_a_token_is_closed_with_4401_a_browser_can_read(self, ws_connect):
        # Accepted then closed: a browser sees only 1006 for a refused handshake, but reads a close code.
        connected, code = await ws_connect(None, path="/ws/exam/", expect_connected=False)
        assert (connected, code) == (True, 4401)
        assert await database_sync_to_async(Presence.objects.count)() == 0

    async def test_a_garbage_token_is_refused(self, ws_connect):
        connected, code = await ws_connect(None, path="/ws/exam/?token=abc.def.ghi", expect_connected=False)
        assert (connected, code) == (True, 4401)

    async def test_the_authorization_header_works_too(self, ws_connect, student):
        token = (await database_sync_to_async(ws_path)(student)).split("token=")[1]
        socket = await ws_connect(student, path="/ws/exam/", headers=[(b"authorization", f"Bearer {token}".encode())])
        await socket.send("ping")
        assert (await socket.receive())["event"] == "pong"

    async def test_a_foreign_browser_origin_is_refused(self, ws_connect, student):
        path = await database_sync_to_async(ws_path)(student)
        connected, _code = await ws_connect(
            student, path=path, headers=[(b"origin", b"https://evil.example")], expect_connected=False
        )
        assert not connected

    async def test_identity_in_the_frame_is_ignored(self, ws_connect, student, other_student, exam, session):
        socket = await ws_connect(student)
        await socket.send("join_exam", exam_id=exam.pk, user_id=other_student.pk, role="proctor")
        joined = await socket.expect("joined_exam")
        assert joined["session_id"] == session.pk
        assert joined["role"] == "student"

    async def test_undeclared_payload_keys_are_never_stored_nor_shown_to_proctors(
        self, ws_connect, student, other_student, proctor, exam, session
    ):
        watcher = await ws_connect(proctor)
        await watcher.send("join_exam", exam_id=exam.pk)
        await watcher.expect("active_students")
        socket = await ws_connect(student)
        await socket.send("join_exam", exam_id=exam.pk)
        await socket.expect("joined_exam")
        forged = {"user_id": other_student.pk, "session_id": 25, "role": "proctor", "risk_score": 0.0, "note": "x"}
        await socket.send(
            "suspicious_activity", exam_id=exam.pk, type="paste", length=12, client_event_id="f-1", **forged
        )
        await socket.expect("activity_logged")

        [event] = await events_of(session.pk, client_event_id="f-1")
        assert event.event_data == {"length": 12}
        seen = await watcher.expect("student_activity")
        assert seen["data"] == {"length": 12}
        assert (seen["user_id"], seen["session_id"]) == (student.pk, session.pk)


class TestStudentFlow:
    async def test_join_returns_the_open_session_and_tells_proctors(self, ws_connect, student, proctor, exam, session):
        watcher = await ws_connect(proctor)
        await watcher.send("join_exam", exam_id=exam.pk)
        await watcher.expect("active_students")
        socket = await ws_connect(student)
        await socket.send("join_exam", exam_id=exam.pk)
        joined = await socket.expect("joined_exam")
        assert joined == {
            **joined,
            "exam_id": exam.pk,
            "session_id": session.pk,
            "status": "in_progress",
        }
        announced = await watcher.expect("student_joined")
        assert announced["user_id"] == student.pk
        assert announced["session_id"] == session.pk

    async def test_activity_is_stored_then_acknowledged_and_pushed_to_proctors(
        self, ws_connect, student, proctor, exam, session
    ):
        watcher = await ws_connect(proctor)
        await watcher.send("join_exam", exam_id=exam.pk)
        # The proctor's join writes; on the shared in-memory SQLite a second writer fails at once.
        await watcher.expect("active_students")
        socket = await ws_connect(student)
        await socket.send("join_exam", exam_id=exam.pk)
        await socket.expect("joined_exam")
        await socket.send("suspicious_activity", **activity(exam.pk, "tab_switch", client_event_id="t-1"))
        ack = await socket.expect("activity_logged")
        stored = await events_of(session.pk, event_type="tab_switch")
        assert [e.pk for e in stored] == [ack["event_id"]]
        assert ack["client_event_id"] == "t-1"
        assert ack["severity"] == "medium"
        assert ack["duplicate"] is False
        pushed = await watcher.expect("student_activity")
        assert pushed["event_id"] == ack["event_id"]
        assert pushed["user_id"] == student.pk

    async def test_duplicate_client_event_id_is_stored_once(self, ws_connect, student, exam, session):
        socket = await ws_connect(student)
        await socket.send("join_exam", exam_id=exam.pk)
        await socket.expect("joined_exam")
        await socket.send("suspicious_activity", **activity(exam.pk, "copy", client_event_id="dup-1"))
        first = await socket.expect("activity_logged")
        await socket.send("suspicious_activity", **activity(exam.pk, "copy", client_event_id="dup-1"))
        second = await socket.expect("activity_logged")
        assert second["event_id"] == first["event_id"]
        assert second["duplicate"] is True
        assert len(await events_of(session.pk, client_event_id="dup-1")) == 1

    async def test_a_duplicate_is_acknowledged_with_the_stored_ack(self, ws_connect, student, exam, session):
        """The repeat of an early event says what its first ack said, after the session has moved on
        (eleven tab switches: medium), and from a new socket (a reconnecting client's resend) too."""
        socket = await ws_connect(student)
        await socket.send("join_exam", exam_id=exam.pk)
        await socket.expect("joined_exam")
        acks = []
        for n in range(11):
            await socket.send("suspicious_activity", **activity(exam.pk, "tab_switch", client_event_id=f"s-{n}"))
            acks.append(await socket.expect("activity_logged"))
        assert (acks[0]["risk_score"], acks[0]["risk_level"]) == (0.0, "low")
        assert acks[-1]["risk_level"] == "medium"
        for again_on in (socket, await ws_connect(student)):
            if again_on is not socket:
                await again_on.send("join_exam", exam_id=exam.pk)
                await again_on.expect("joined_exam")
            for first in (acks[0], acks[5]):
                await again_on.send(
                    "suspicious_activity", **activity(exam.pk, "tab_switch", client_event_id=first["client_event_id"])
                )
                repeat = await again_on.expect("activity_logged")
                assert repeat == {**first, "duplicate": True}
        assert len(await events_of(session.pk)) == 11

    async def test_activity_before_start_is_refused_and_not_stored(self, ws_connect, student, exam):
        socket = await ws_connect(student)
        await socket.send("join_exam", exam_id=exam.pk)
        joined = await socket.expect("joined_exam")
        assert joined["session_id"] is None
        await socket.send("suspicious_activity", **activity(exam.pk, "tab_switch"))
        error = await socket.expect("error")
        assert error["code"] == "session_not_active"
        assert await database_sync_to_async(Event.objects.count)() == 0

    async def test_activity_for_another_exam_than_joined_is_refused(self, ws_connect, student, exam, session):
        socket = await ws_connect(student)
        await socket.send("join_exam", exam_id=exam.pk)
        await socket.expect("joined_exam")
        await socket.send("suspicious_activity", **activity(exam.pk + 100, "tab_switch"))
        assert (await socket.expect("error"))["code"] == "not_joined"

    async def test_an_exam_edited_mid_exam_scores_the_same_over_the_socket_and_rest(
        self, ws_connect, student, proctor, exam, session
    ):
        from rest_framework.test import APIClient

        from accounts.services import tokens_issue
        from exams.authoring import exam_update

        socket = await ws_connect(student)
        await socket.send("join_exam", exam_id=exam.pk)
        await socket.expect("joined_exam")
        await database_sync_to_async(exam_update)(exam=exam, by=proctor, data={"allow_tab_switch": True})

        for _ in range(2):
            await socket.send("suspicious_activity", **activity(exam.pk, "tab_switch"))
            socket_ack = await socket.expect("activity_logged")
        after_socket = (await reload(session)).risk_components["components"]["tab_switch"]

        def rest_batch() -> dict:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_issue(user=student)['token']}")
            body = {"events": [{"type": "tab_switch"}, {"type": "tab_switch"}]}
            return client.post(f"/api/exams/sessions/{session.pk}/events", body, format="json").json()["data"]

        rest = await database_sync_to_async(rest_batch)()
        after_rest = (await reload(session)).risk_components["components"]["tab_switch"]
        assert socket_ack["risk_score"] == rest["results"][-1]["risk_score"] == 0.0
        assert after_socket["reason"] == after_rest["reason"] == "allowed by exam policy"

    async def test_a_baseline_write_mid_exam_is_refused_and_the_score_stays_put_over_the_socket_and_rest(
        self, ws_connect, student, exam, session, baseline
    ):
        from rest_framework.test import APIClient

        from accounts.services import tokens_issue

        client = APIClient()
        token = (await database_sync_to_async(tokens_issue)(user=student))["token"]
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

        def calibrate(**sample) -> dict:
            response = client.post("/api/baselines/", sample, format="json")
            assert response.status_code == 409
            return response.json()

        def rest_event(**event) -> dict:
            body = {"events": [event]}
            return client.post(f"/api/exams/sessions/{session.pk}/events", body, format="json").json()["data"]

        socket = await ws_connect(student)
        await socket.send("join_exam", exam_id=exam.pk)
        await socket.expect("joined_exam")
        await socket.send("suspicious_activity", **activity(exam.pk, "typing_sample", wpm=80))
        assert (await socket.expect("activity_logged"))["risk_score"] == 0.12
        # Moving the typing mean towards 80 wpm would make 80 wpm look usual: refused mid-exam.
        refused = await database_sync_to_async(calibrate)(typing_speed_wpm=200)
        assert refused["details"]["code"] == "session_open"
        await socket.send("suspicious_activity", **activity(exam.pk, "typing_sample", wpm=80))
        assert (await socket.expect("activity_logged"))["risk_score"] == 0.12
        first = await database_sync_to_async(rest_event)(type="mouse_sample", speed_pxs=400)
        assert first["results"][0]["risk_score"] == 0.12
        await database_sync_to_async(calibrate)(mouse_speed_pxs=4000)
        second = await database_sync_to_async(rest_event)(type="mouse_sample", speed_pxs=4000)
        # 4000 px/s against the session's 400 px/s baseline: ten times as fast, whatever was posted.
        assert second["results"][0]["risk_score"] == 0.18

    async def test_rising_risk_raises_one_alert_per_level_with_components(
        self, ws_connect, student, proctor, exam, session, baseline
    ):
        watcher = await ws_connect(proctor)
        await watcher.send("join_exam", exam_id=exam.pk)
        # The proctor's join writes; on the shared in-memory SQLite a second writer fails at once.
        await watcher.expect("active_students")
        socket = await ws_connect(student)
        await socket.send("join_exam", exam_id=exam.pk)
        await socket.expect("joined_exam")
        # 11 tab switches (0.3) + 130 s away (0.135) + typing at 3x baseline (0.18) = 0.615: medium, over 0.5.
        for i in range(11):
            await socket.send("suspicious_activity", **activity(exam.pk, "tab_switch", client_event_id=f"tab-{i}"))
            await socket.expect("activity_logged")
        await socket.send("suspicious_activity", **activity(exam.pk, "window_focus", blur_duration_ms=130_000))
        await socket.expect("activity_logged")
        assert await threshold_alerts() == 0
        await socket.send("suspicious_activity", **activity(exam.pk, "typing_sample", wpm=120))
        ack = await socket.expect("activity_logged")
        assert ack["risk_score"] == pytest.approx(0.615)
        assert ack["risk_level"] == "medium"
        alert = await watcher.expect("high_risk_alert")
        assert alert["alert_type"] == "risk_threshold"
        assert alert["session_id"] == session.pk
        assert alert["risk_level"] == "medium"
        assert alert["components"]["tab_switch"]["value"] == 1.0
        assert "tab switch" in alert["components"]["tab_switch"]["reason"]
        # More of the same level: no new threshold alert.
        await socket.send("suspicious_activity", **activity(exam.pk, "tab_switch"))
        await socket.expect("activity_logged")
        assert await threshold_alerts() == 1
        # Mouse nearly still (0.105) lifts it to 0.72, high: a second alert.
        await socket.send("suspicious_activity", **activity(exam.pk, "mouse_sample", speed_pxs=50))
        ack = await socket.expect("activity_logged")
        assert ack["risk_level"] == "high"
        second = await watcher.expect("high_risk_alert")
        while second["alert_type"] != "risk_threshold":
            second = await watcher.expect("high_risk_alert")
        assert second["risk_level"] == "high"
        assert await threshold_alerts() == 2
        stored = await reload(session)
        assert stored.risk_score == pytest.approx(0.72)
        assert stored.integrity_score == 28
        assert stored.open_high_alerts == 2
        assert stored.flagged_incidents_count >= 12

    async def test_submit_over_the_socket_grades_and_tells_proctors(self, ws_connect, student, proctor, exam, session):
        watcher = await ws_connect(proctor)
        await watcher.send("join_exam", exam_id=exam.pk)
        # The proctor's join writes; on the shared in-memory SQLite a second writer fails at once.
        await watcher.expect("active_students")
        socket = await ws_connect(student)
        await socket.send("join_exam", exam_id=exam.pk)
        await socket.expect("joined_exam")
        await socket.send("submit_exam", exam_id=exam.pk, answers={"q1": "4", "q2": ["2", "5"]}, time_taken=1)
        submitted = await socket.expect("exam_submitted")
        assert submitted["session_id"] == session.pk
        assert submitted["status"] == "submitted"
        assert submitted["score"] == 3
        assert "answer" not in str(submitted).replace("answers", "")
        told = await watcher.expect("student_submitted")
        assert told["session_id"] == session.pk
        await socket.send("suspicious_activity", **activity(exam.pk, "tab_switch"))
        assert (await socket.expect("error"))["code"] == "session_not_active"


class TestPresence:
    async def test_active_students_disconnect_and_reconnect(self, ws_connect, student, proctor, exam, session):
        watcher = await ws_connect(proctor)
        await watcher.send("join_exam", exam_id=exam.pk)
        first = await watcher.expect("active_students")
        assert first["count"] == 0
        socket = await ws_connect(student)
        await socket.send("join_exam", exam_id=exam.pk)
        await socket.expect("joined_exam")
        await watcher.expect("student_joined")
        await watcher.send("get_active_students", exam_id=exam.pk)
        listed = await watcher.expect("active_students")
        assert listed["count"] == 1
        assert listed["students"][0]["session_id"] == session.pk
        await socket.communicator.disconnect()
        left = await watcher.expect("student_left")
        assert left["user_id"] == student.pk
        assert [e.event_type for e in await events_of(session.pk)] == ["disconnected"]
        assert not await database_sync_to_async(Presence.objects.filter(role="student").exists)()
        again = await ws_connect(student)
        await again.send("join_exam", exam_id=exam.pk)
        rejoined = await again.expect("joined_exam")
        assert rejoined["session_id"] == session.pk
        technical = await events_of(session.pk)
        assert [e.event_type for e in technical] == ["disconnected", "reconnected"]
        assert all(e.is_technical for e in technical)
        assert (await reload(session)).risk_score == 0

    async def test_a_student_cannot_join_an_exam_they_may_not_take(self, ws_connect, student, proctor):
        draft = await database_sync_to_async(make_exam)(proctor, status="scheduled")
        socket = await ws_connect(student)
        await socket.send("join_exam", exam_id=draft.pk)
        assert (await socket.expect("error"))["code"] == "exam_not_found"

    @pytest.mark.parametrize("target", ["missing", "not_theirs"])
    async def test_a_bad_join_for_another_exam_keeps_the_student_in_their_exam(
        self, ws_connect, student, proctor, exam, session, target
    ):
        watcher = await ws_connect(proctor)
        await watcher.send("join_exam", exam_id=exam.pk)
        await watcher.expect("active_students")
        socket = await ws_connect(student)
        await socket.send("join_exam", exam_id=exam.pk)
        await socket.expect("joined_exam")
        await watcher.expect("student_joined")
        if target == "missing":
            other_id = exam.pk + 1000
        else:
            other_id = (await database_sync_to_async(make_exam)(proctor, status="scheduled")).pk
        await socket.send("join_exam", exam_id=other_id)
        assert (await socket.expect("error"))["code"] == "exam_not_found"
        # Still in the first exam: presence kept, proctors told nothing, activity still accepted.
        assert await database_sync_to_async(Presence.objects.filter(exam=exam, role="student").exists)()
        assert await watcher.nothing()
        await socket.send("suspicious_activity", **activity(exam.pk, "copy"))
        assert (await socket.expect("activity_logged"))["event_type"] == "copy"


class TestProctorActions:
    async def _joined(self, ws_connect, student, proctor, exam):
        watcher = await ws_connect(proctor)
        await watcher.send("join_exam", exam_id=exam.pk)
        await watcher.expect("active_students")
        socket = await ws_connect(student)
        await socket.send("join_exam", exam_id=exam.pk)
        await socket.expect("joined_exam")
        return watcher, socket

    async def test_warn_student_reaches_the_student_and_is_recorded(self, ws_connect, student, proctor, exam, session):
        watcher, socket = await self._joined(ws_connect, student, proctor, exam)
        await watcher.send("warn_student", session_id=session.pk, message="Eyes on your own screen")
        assert (await watcher.expect("action_ok"))["action"] == "warn_student"
        warning = await socket.expect("proctor_warning")
        assert warning["message"] == "Eyes on your own screen"
        assert [e.event_type for e in await events_of(session.pk)] == ["proctor_warning"]

    async def test_resolve_alert_records_who_and_note(self, ws_connect, student, proctor, exam, session):
        alert = await database_sync_to_async(Alert.objects.create)(
            session=session, alert_type="risk_threshold", message="m", risk_score=0.8, severity="high"
        )
        watcher, _socket = await self._joined(ws_connect, student, proctor, exam)
        await watcher.send("resolve_alert", alert_id=alert.pk, note="false positive")
        await watcher.expect("action_ok")
        resolved = await watcher.expect("alert_resolved")
        assert resolved["alert_id"] == alert.pk
        stored = await database_sync_to_async(Alert.objects.get)(pk=alert.pk)
        assert stored.resolved
        assert stored.resolved_by_id == proctor.pk
        assert stored.resolution_note == "false positive"
        assert stored.resolved_at is not None

    async def test_terminate_closes_the_students_socket_and_flags_the_session(
        self, ws_connect, student, proctor, exam, session
    ):
        watcher, socket = await self._joined(ws_connect, student, proctor, exam)
        await watcher.send("terminate_session", session_id=session.pk, reason="phone on desk", reason_code="phone_use")
        await watcher.expect("action_ok")
        told = await socket.expect("session_terminated")
        assert told["reason"] == "phone on desk"
        closed = await socket.communicator.receive_output(timeout=3)
        assert closed["type"] == "websocket.close"
        assert closed["code"] == 4403
        stored = await reload(session)
        assert stored.status == "flagged"
        assert stored.termination_reason == "phone on desk"

    async def test_a_student_cannot_send_proctor_events(self, ws_connect, student, exam, session):
        socket = await ws_connect(student)
        for name, data in (
            ("warn_student", {"session_id": session.pk, "message": "x"}),
            ("terminate_session", {"session_id": session.pk, "reason": "x"}),
            ("get_active_students", {"exam_id": exam.pk}),
            ("resolve_alert", {"alert_id": 1}),
        ):
            await socket.send(name, **data)
            error = await socket.expect("error")
            assert error["code"] == "forbidden"
            assert error["event"] == name
        assert (await reload(session)).status == "in_progress"

    async def test_proctor_actions_validate_their_input(self, ws_connect, proctor, exam):
        watcher = await ws_connect(proctor)
        await watcher.send("warn_student", session_id=999999, message="x")
        assert (await watcher.expect("error"))["code"] == "session_not_found"
        await watcher.send("warn_student", session_id="abc", message="x")
        assert (await watcher.expect("error"))["code"] == "invalid_payload"
        await watcher.send("terminate_session", session_id=1, reason="")
        assert (await watcher.expect("error"))["code"] == "invalid_payload"
        await watcher.send("resolve_alert", alert_id=424242)
        assert (await watcher.expect("error"))["code"] == "not_found"
        await watcher.send("join_exam", exam_id=987654)
        assert (await watcher.expect("error"))["code"] == "exam_not_found"


class TestDefences:
    @pytest.mark.parametrize(
        ("raw", "code"),
        [
            ("{oops", "bad_json"),
            ("[]", "bad_frame"),
            ('{"event": "fly"}', "unknown_event"),
            ('{"event": "suspicious_activity", "data": {"exam_id": 1, "type": "levitate"}}', "unknown_activity_type"),
        ],
    )
    async def test_bad_frames_get_an_error_and_the_socket_survives(self, ws_connect, student, raw, code):
        socket = await ws_connect(student)
        await socket.send_raw(raw)
        assert (await socket.expect("error"))["code"] == code
        await socket.send("ping")
        assert (await socket.receive())["event"] == "pong"

    async def test_oversized_and_binary_frames_are_refused(self, ws_connect, student):
        socket = await ws_connect(student)
        await socket.send_raw('{"event": "ping", "data": {"pad": "' + "x" * 70_000 + '"}}')
        assert (await socket.expect("error"))["code"] == "frame_too_large"
        await socket.send_raw(data=b"\x00\xff\x10")
        assert (await socket.expect("error"))["code"] == "binary_not_supported"
        await socket.send("ping")
        assert (await socket.receive())["event"] == "pong"

    async def test_a_flood_is_rate_limited_without_losing_stored_events(
        self, ws_connect, student, exam, session, settings
    ):
        # A slow limit makes the test independent of how fast this machine processes frames.
        settings.EXAMPULSE = {**settings.EXAMPULSE, "WS_RATE_PER_SEC": 1, "WS_RATE_BURST": 6}
        socket = await ws_connect(student)
        await socket.send("join_exam", exam_id=exam.pk)
        await socket.expect("joined_exam")
        for i in range(20):
            await socket.send("suspicious_activity", **activity(exam.pk, "right_click", client_event_id=f"f-{i}"))
        acks, errors = [], []
        for _ in range(20):
            message = await socket.receive(timeout=5)
            (acks if message["event"] == "activity_logged" else errors).append(message)
        assert 5 <= len(acks) < 15
        assert {e["data"]["code"] for e in errors} == {"rate_limited"}
        stored = await events_of(session.pk, event_type="right_click")
        assert sorted(e.pk for e in stored) == sorted(a["data"]["event_id"] for a in acks)
        await asyncio.sleep(1.1)
        await socket.send("ping")
        assert (await socket.receive())["event"] == "pong"

    async def test_a_proctor_from_elsewhere_cannot_be_forged(self, ws_connect, exam):
        other_proctor = await database_sync_to_async(ProctorFactory)()
        socket = await ws_connect(other_proctor)
        await socket.send("submit_exam", exam_id=exam.pk, answers={})
        assert (await socket.expect("error"))["code"] == "forbidden"
