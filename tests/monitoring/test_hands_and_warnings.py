"""Raise hand and the warning limit over /ws/exam/ (docs/design.md, part two, time control)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from exams.models import Course, CourseStaff, Enrollment, ExamSession
from exams.services import session_start
from monitoring.models import Event, RaisedHand
from tests.factories import ProctorFactory
from tests.monitoring.conftest import make_exam

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def reload(session: ExamSession) -> ExamSession:
    return ExamSession.objects.get(pk=session.pk)


@database_sync_to_async
def event_types(session_id: int) -> list[str]:
    return list(Event.objects.filter(session_id=session_id).order_by("id").values_list("event_type", flat=True))


async def joined(ws_connect, student, proctor, exam):
    watcher = await ws_connect(proctor)
    await watcher.send("join_exam", exam_id=exam.pk)
    await watcher.expect("active_students")
    socket = await ws_connect(student)
    await socket.send("join_exam", exam_id=exam.pk)
    reply = await socket.expect("joined_exam")
    return watcher, socket, reply


class TestRaiseHand:
    async def test_raise_hand_reaches_the_proctors_and_is_stored(self, ws_connect, student, proctor, exam, session):
        watcher, socket, _ = await joined(ws_connect, student, proctor, exam)
        await socket.send("raise_hand", exam_id=exam.pk, message="Question 2 is ambiguous")
        ok = await socket.expect("action_ok")
        assert ok["action"] == "raise_hand"
        raised = await watcher.expect("hand_raised")
        assert raised["hand_id"] == ok["hand_id"]
        assert raised["session_id"] == session.pk
        assert raised["user_id"] == student.pk
        assert raised["name"] == student.name
        assert raised["message"] == "Question 2 is ambiguous"
        hand = await database_sync_to_async(RaisedHand.objects.get)(pk=ok["hand_id"])
        assert hand.session_id == session.pk and hand.answered_at is None

    async def test_answer_hand_reaches_the_student_and_a_second_answer_is_refused(
        self, ws_connect, student, proctor, exam, session
    ):
        watcher, socket, _ = await joined(ws_connect, student, proctor, exam)
        await socket.send("raise_hand", exam_id=exam.pk, message="Can I use a calculator?")
        hand_id = (await socket.expect("action_ok"))["hand_id"]
        await watcher.expect("hand_raised")
        await watcher.send("answer_hand", hand_id=hand_id, message="Yes, a basic one.")
        assert (await watcher.expect("action_ok"))["action"] == "answer_hand"
        answered = await socket.expect("hand_answered")
        assert answered == {**answered, "hand_id": hand_id, "message": "Yes, a basic one."}
        await watcher.send("answer_hand", hand_id=hand_id, message="Again")
        error = await watcher.expect("error")
        assert error["code"] == "already_answered"
        hand = await database_sync_to_async(RaisedHand.objects.get)(pk=hand_id)
        assert hand.answer == "Yes, a basic one." and hand.answered_by_id == proctor.pk

    async def test_one_open_hand_at_a_time(self, ws_connect, student, proctor, exam, session):
        _watcher, socket, _ = await joined(ws_connect, student, proctor, exam)
        await socket.send("raise_hand", exam_id=exam.pk, message="help")
        await socket.expect("action_ok")
        await socket.send("raise_hand", exam_id=exam.pk, message="help again")
        assert (await socket.expect("error"))["code"] == "hand_already_raised"
        assert await database_sync_to_async(RaisedHand.objects.count)() == 1

    async def test_a_raised_hand_never_changes_risk(self, ws_connect, student, proctor, exam, session):
        _watcher, socket, _ = await joined(ws_connect, student, proctor, exam)
        await socket.send("raise_hand", exam_id=exam.pk, message="help")
        await socket.expect("action_ok")
        stored = await reload(session)
        assert stored.risk_score == session.risk_score
        event = await database_sync_to_async(Event.objects.get)(session_id=session.pk, event_type="hand_raised")
        assert event.is_technical and event.severity == "low"

    async def test_a_long_message_is_refused(self, ws_connect, student, proctor, exam, session):
        _watcher, socket, _ = await joined(ws_connect, student, proctor, exam)
        await socket.send("raise_hand", exam_id=exam.pk, message="x" * 501)
        assert (await socket.expect("error"))["code"] == "invalid_payload"

    async def test_a_proctor_of_another_course_cannot_answer(self, ws_connect, student, proctor, session, exam):
        @database_sync_to_async
        def setup():
            course = Course.objects.create(code="CS-1", name="One")
            CourseStaff.objects.create(course=course, user=proctor)
            Enrollment.objects.create(course=course, student=student)
            exam.course = course
            exam.save(update_fields=["course"])
            other = ProctorFactory()
            elsewhere = Course.objects.create(code="CS-2", name="Two")
            CourseStaff.objects.create(course=elsewhere, user=other)
            return other, RaisedHand.objects.create(session=session, message="help")

        outsider, hand = await setup()
        socket = await ws_connect(outsider)
        await socket.send("answer_hand", hand_id=hand.pk, message="peek")
        assert (await socket.expect("error"))["code"] == "not_found"
        await socket.send("answer_hand", hand_id=hand.pk + 1000, message="peek")
        assert (await socket.expect("error"))["code"] == "not_found"
        assert (await database_sync_to_async(RaisedHand.objects.get)(pk=hand.pk)).answered_at is None

    async def test_active_students_show_the_open_hand(self, ws_connect, student, proctor, exam, session):
        watcher, socket, _ = await joined(ws_connect, student, proctor, exam)
        await socket.send("raise_hand", exam_id=exam.pk, message="help")
        hand_id = (await socket.expect("action_ok"))["hand_id"]
        await watcher.send("get_active_students", exam_id=exam.pk)
        (row,) = (await watcher.expect("active_students"))["students"]
        assert row["hand"]["hand_id"] == hand_id and row["hand"]["message"] == "help"

    async def test_a_proctor_cannot_raise_a_hand(self, ws_connect, proctor, exam):
        watcher = await ws_connect(proctor)
        await watcher.send("raise_hand", exam_id=exam.pk, message="x")
        assert (await watcher.expect("error"))["code"] == "forbidden"


class TestWarningLimit:
    async def test_joined_exam_tells_the_limit_and_warnings_count_k_of_n(self, ws_connect, student, proctor):
        exam = await database_sync_to_async(make_exam)(proctor, max_warnings=3)
        session = await database_sync_to_async(session_start)(exam=exam, user=student)
        watcher, socket, reply = await joined(ws_connect, student, proctor, exam)
        assert reply["max_warnings"] == 3 and reply["warnings_count"] == 0
        for k in (1, 2):
            await watcher.send("warn_student", session_id=session.pk, message=f"warning {k}")
            await watcher.expect("action_ok")
            warning = await socket.expect("proctor_warning")
            assert (warning["count"], warning["limit"]) == (k, 3)
        assert (await reload(session)).warnings_count == 2

    async def test_the_warning_that_reaches_the_limit_terminates(self, ws_connect, student, proctor):
        exam = await database_sync_to_async(make_exam)(proctor, max_warnings=2)
        session = await database_sync_to_async(session_start)(exam=exam, user=student)
        watcher, socket, _ = await joined(ws_connect, student, proctor, exam)
        for _ in range(2):
            await watcher.send("warn_student", session_id=session.pk, message="stop")
            await watcher.expect("action_ok")
        last = await socket.expect("proctor_warning")
        assert last["count"] == 1
        last = await socket.expect("proctor_warning")
        assert (last["count"], last["limit"]) == (2, 2)
        told = await socket.expect("session_terminated")
        assert told["reason"] == "warning_limit"
        closed = await socket.communicator.receive_output(timeout=3)
        assert closed["type"] == "websocket.close" and closed["code"] == 4403
        stored = await reload(session)
        assert stored.status == "flagged" and stored.termination_reason == "warning_limit"
        assert stored.warnings_count == 2
        await watcher.send("warn_student", session_id=session.pk, message="again")
        assert (await watcher.expect("error"))["code"] == "session_not_active"

    async def test_no_limit_means_count_and_null_limit(self, ws_connect, student, proctor, exam, session):
        watcher, socket, reply = await joined(ws_connect, student, proctor, exam)
        assert reply["max_warnings"] is None
        await watcher.send("warn_student", session_id=session.pk, message="hey")
        warning = await socket.expect("proctor_warning")
        assert (warning["count"], warning["limit"]) == (1, None)
        assert await event_types(session.pk) == ["proctor_warning"]
