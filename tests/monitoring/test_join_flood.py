"""An exam's first minute: sockets join (and leave) in floods, and their batches share queries.

Issue 25: a join alone cost the server about 6 ms of CPU, most of it the fixed queries of its
batch, and at a hundred joins a second batches held one join each. Joins now linger briefly in a
flood (exampulse.platform.db.HopBatcher, WS_JOIN_LINGER_MS), a batch's queries do not grow with
its joins, and a rejoin after a short drop takes no row lock.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from exampulse.platform.db import HopBatcher
from exams.clock import sessions_compensate_disconnects
from exams.models import Course, Enrollment, Exam
from exams.selectors import sessions_open_for
from exams.sessions import session_start
from monitoring import pushes
from monitoring.live import presence
from monitoring.live.usecases import CloseRequest, JoinRequest, sockets_close, students_join
from monitoring.models import Event
from tests.factories import StudentFactory
from tests.monitoring.conftest import make_exam


@pytest.fixture
def linger(settings):
    def set_linger(milliseconds: int) -> None:
        settings.EXAMPULSE = {**settings.EXAMPULSE, "WS_JOIN_LINGER_MS": milliseconds, "WS_BATCH_WORKERS": 1}

    return set_linger


def recording_batcher() -> tuple[HopBatcher, list[list[int]]]:
    batches: list[list[int]] = []

    def handle_many(requests: list[int]) -> list[int]:
        batches.append(list(requests))
        return [request * 10 for request in requests]

    batcher = HopBatcher(handle_many, max_batch="WS_BATCH_MAX", workers="WS_BATCH_WORKERS", linger="WS_JOIN_LINGER_MS")
    return batcher, batches


class TestLinger:
    async def test_a_flood_of_joins_shares_batches_and_each_caller_gets_its_own_answer(self, linger):
        linger(300)
        batcher, batches = recording_batcher()

        async def arrive(request: int) -> int:
            await asyncio.sleep(request * 0.005)  # a hundred and more joins a second
            return await batcher.submit(request)

        answers = await asyncio.gather(*(arrive(request) for request in range(12)))

        assert answers == [request * 10 for request in range(12)]
        assert sorted(request for batch in batches for request in batch) == list(range(12))
        # The first goes alone (nothing says a flood has begun); the rest wait for each other.
        assert batches[0] == [0]
        assert len(batches) <= 3, batches

    async def test_without_a_linger_each_join_of_a_trickle_goes_alone(self, linger):
        linger(0)
        batcher, batches = recording_batcher()
        for request in range(5):
            assert await batcher.submit(request) == request * 10
            await asyncio.sleep(0.005)
        assert batches == [[0], [1], [2], [3], [4]]

    async def test_a_lone_join_never_waits_for_the_linger(self, linger):
        linger(30_000)
        batcher, batches = recording_batcher()
        # A linger of 30 s would fail the timeout: a join with nobody just before it goes at once.
        assert await asyncio.wait_for(batcher.submit(7), timeout=5) == 70
        assert batches == [[7]]


def returning_students(proctor, count: int, *, away: timedelta):
    """`count` students with open sessions whose sockets left `away` ago (a `disconnected` event)."""
    exam = make_exam(proctor, disconnect_grace_minutes=5)
    users = [StudentFactory() for _ in range(count)]
    sessions = [session_start(exam=exam, user=user) for user in users]
    left_at = timezone.now() - away
    for session in sessions:
        Event.objects.create(
            session=session,
            event_type="disconnected",
            timestamp=left_at,
            is_technical=True,
            event_data={"paused_seconds": 0},
        )
    return exam, users, sessions


def join_queries(exam, users, tag: str) -> list[str]:
    requests = [JoinRequest(exam.pk, user, f"test.flood!{tag}{index}") for index, user in enumerate(users)]
    with CaptureQueriesContext(connection) as captured:
        outcomes = students_join(requests)
    assert all(not isinstance(outcome, Exception) for outcome in outcomes), outcomes
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.django_db
class TestJoinBatch:
    def test_a_batch_of_returning_students_costs_the_queries_of_one(self, proctor):
        exam, users, _sessions = returning_students(proctor, 6, away=timedelta(seconds=5))
        one = join_queries(exam, users[:1], "a")
        sockets_close([CloseRequest(f"test.flood!a{0}", None)])
        six = join_queries(exam, users, "b")
        assert len(six) == len(one), (one, six)

    def test_a_rejoin_after_a_short_drop_takes_no_row_lock_and_still_says_how_long_it_was(self, proctor):
        exam, users, sessions = returning_students(proctor, 2, away=timedelta(seconds=12))
        long_exam, long_users, long_sessions = returning_students(proctor, 2, away=timedelta(minutes=2))
        short = join_queries(exam, users, "c")
        long = join_queries(long_exam, long_users, "d")
        # The long drop's batch locks its sessions (SELECT ... FOR UPDATE where the database has it)
        # and writes the time given back; the short one's needs neither.
        assert len(short) < len(long), (short, long)
        if connection.features.has_select_for_update:
            # (The `reconnected` event's own ingestion locks its rows in both.)
            clock_locks = [sql for sql in long if "FOR UPDATE" in sql and "disconnect_grace_minutes" in sql]
            assert len(clock_locks) == 1
            assert not [sql for sql in short if "FOR UPDATE" in sql and "disconnect_grace_minutes" in sql]
        for session in sessions:
            reconnected = Event.objects.get(session=session, event_type="reconnected")
            assert 12 <= reconnected.event_data["away_seconds"] < 30
            assert reconnected.event_data["compensated_seconds"] == 0
            session.refresh_from_db()
            assert session.time_compensated_seconds == 0
        for session in long_sessions:
            session.refresh_from_db()
            assert session.time_compensated_seconds >= 120

    def test_the_short_drop_answer_reads_nothing(self, proctor):
        exam, users, _sessions = returning_students(proctor, 1, away=timedelta(seconds=3))
        read = sessions_open_for(pairs=[(users[0], exam.pk)])
        session = read[(users[0].pk, exam.pk)]
        at = timezone.now()
        with CaptureQueriesContext(connection) as captured:
            out = sessions_compensate_disconnects(
                returns={session.pk: (at - timedelta(seconds=3), 0)}, at=at, read={session.pk: session}
            )
        assert captured.captured_queries == []
        assert out[session.pk].away_seconds == 3
        assert out[session.pk].compensated_seconds == 0
        assert out[session.pk].deadline_at == session.deadline_at

    def test_the_announced_row_is_the_row_a_refreshed_dashboard_lists(self, proctor):
        exam, users, _sessions = returning_students(proctor, 3, away=timedelta(seconds=5))
        outcomes = students_join([JoinRequest(exam.pk, user, f"test.flood!e{i}") for i, user in enumerate(users)])
        announced = {
            push.message["frame"]["data"]["user_id"]: push.message["frame"]["data"]
            for outcome in outcomes
            for push in outcome.pushes
            if push.message["frame"]["event"] == "student_joined"
        }
        listed = {row["user_id"]: {**row, "exam_id": exam.pk} for row in presence.active_students(exam_id=exam.pk)}
        assert set(announced) == {user.pk for user in users}
        for user_id, row in announced.items():
            # connected_since is the batch's clock, written to the presence row as connected_at.
            assert row == listed[user_id]


@pytest.mark.django_db(transaction=True)
class TestPushesInOneMessage:
    async def test_a_drop_and_a_return_reach_the_proctor_in_order(self, proctor, ws_connect):
        exam, users, _sessions = await database_sync_to_async(returning_students)(proctor, 1, away=timedelta(seconds=5))
        watcher = await ws_connect(proctor)
        await watcher.send("join_exam", exam_id=exam.pk)
        await watcher.expect("active_students")
        student = await ws_connect(users[0])
        await student.send("join_exam", exam_id=exam.pk)
        await student.expect("joined_exam")
        seen = [(await watcher.receive())["event"] for _ in range(2)]
        assert seen == ["student_activity", "student_joined"]  # reconnected, then the row

        await student.communicator.disconnect()
        left = [await watcher.receive() for _ in range(2)]
        assert [(f["event"], f["data"].get("event_type")) for f in left] == [
            ("student_activity", "disconnected"),
            ("student_left", None),
        ]

    async def test_a_close_in_a_batch_ends_the_socket_after_what_came_before_it(self, proctor, ws_connect):
        exam, users, sessions = await database_sync_to_async(returning_students)(proctor, 1, away=timedelta(seconds=5))
        student = await ws_connect(users[0])
        await student.send("join_exam", exam_id=exam.pk)
        await student.expect("joined_exam")
        session_id = sessions[0].pk
        group = f"session.{session_id}.student"

        def warning(message: str, count: int) -> pushes.Push:
            data = {"session_id": session_id, "exam_id": exam.pk, "from_name": "P", "count": count, "limit": None}
            return pushes.Push(group, pushes.push_message("proctor_warning", message=message, **data))

        ended = pushes.close_message(
            "session_terminated",
            code=pushes.CLOSE_TERMINATED,
            session_id=session_id,
            exam_id=exam.pk,
            reason="Ended.",
            reason_code="other",
        )
        await pushes.asend([warning("Eyes on your screen.", 1), pushes.Push(group, ended), warning("Never seen.", 2)])
        assert (await student.expect("proctor_warning"))["message"] == "Eyes on your screen."
        await student.expect("session_terminated")
        closed = await student.communicator.receive_output(timeout=3)
        assert closed == {"type": "websocket.close", "code": pushes.CLOSE_TERMINATED}
        assert await student.communicator.receive_nothing(timeout=0.3)  # not the warning after the close


@pytest.mark.django_db
def test_a_join_batch_finds_exactly_the_sessions_their_students_may_still_reach(proctor):
    """The join batch's course check (exams.scoping.sessions_still_owned) keeps the rule of every read."""
    from exams.selectors import sessions_open_for

    biology, chemistry = (
        Course.objects.create(code="BIO", name="Biology"),
        Course.objects.create(code="CHE", name="Chem"),
    )
    open_exam = make_exam(proctor)
    course_exam = make_exam(proctor, course=biology)
    moved_exam = make_exam(proctor, course=biology)
    enrolled, removed, moved, admin = (StudentFactory() for _ in range(4))
    User.objects.filter(pk=admin.pk).update(is_superuser=True)
    admin.refresh_from_db()
    for student in (enrolled, removed, moved):
        Enrollment.objects.create(course=biology, student=student)
    pairs = []
    for student in (enrolled, removed, moved, admin):
        for exam in (open_exam, course_exam):
            session_start(exam=exam, user=student)
            pairs.append((student, exam.pk))
    session_start(exam=moved_exam, user=moved)
    pairs.append((moved, moved_exam.pk))
    Enrollment.objects.filter(course=biology, student=removed).delete()
    Enrollment.objects.filter(course=biology, student=admin).delete()
    # Moved to a course the student is not in: the session started in Biology stays theirs.
    Exam.objects.filter(pk=moved_exam.pk).update(course=chemistry)

    found = set(sessions_open_for(pairs=pairs))
    assert found == {
        (enrolled.pk, open_exam.pk),
        (enrolled.pk, course_exam.pk),
        (removed.pk, open_exam.pk),  # off the roster: only the exam without a course
        (moved.pk, open_exam.pk),
        (moved.pk, course_exam.pk),
        (moved.pk, moved_exam.pk),
        (admin.pk, open_exam.pk),
        (admin.pk, course_exam.pk),  # a superuser reaches everything
    }
