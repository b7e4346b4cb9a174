"""Events stored in batches (monitoring.ingest.services.events_ingest, monitoring.live.batches).

A batch must be indistinguishable from the same events stored one by one: same rows, same risk,
same alerts, each client_event_id once, and a refused event costs the others nothing.
"""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exams.exceptions import SessionNotActive
from exams.models import ExamSession
from exams.services import session_start, session_submit
from monitoring.ingest import services
from monitoring.ingest.activity import Activity, parse_activity
from monitoring.models import Event
from scoring.models import Baseline
from tests.factories import StudentFactory
from tests.monitoring.conftest import make_exam, student_with_baseline
from tests.monitoring.conftest import session_record as state

# 11 tab switches, 130 s away and typing at 3x the baseline: over the high-sensitivity threshold.
STREAM = [
    *[("tab_switch", {})] * 11,
    ("paste", {"chars": 300}),
    ("capability_unavailable", {"capability": "camera"}),
    ("window_focus", {"blur_duration_ms": 130_000}),
    ("mouse_sample", {"speed_pxs": 390}),
    ("typing_sample", {"wpm": 120}),
    ("question_answered", {"question_id": "q1", "time_spent_sec": 3}),
]


def request(session: ExamSession, index: int, event_type: str, payload: dict, key: str | None = None):
    activity = parse_activity(
        {"exam_id": session.exam_id, "type": event_type, "client_event_id": key or f"e{index}", **payload}
    )
    return services.IngestRequest(session.pk, activity)


@pytest.mark.django_db
class TestEventsIngest:
    def test_a_batch_stores_what_one_by_one_ingestion_stores(self, proctor):
        exam = make_exam(proctor)
        batched = session_start(exam=exam, user=student_with_baseline())
        single = session_start(exam=exam, user=student_with_baseline())

        outcomes = services.events_ingest([request(batched, i, t, p) for i, (t, p) in enumerate(STREAM)])
        for i, (event_type, payload) in enumerate(STREAM):
            services.events_ingest([request(single, i, event_type, payload)])

        assert all(isinstance(outcome, services.IngestResult) and not outcome.duplicate for outcome in outcomes)
        assert state(batched) == state(single)
        assert state(batched)["alerts"], "the stream should have raised an alert"
        # Each outcome carries its own stored row and the risk right after it.
        stored = dict(Event.objects.filter(session=batched).values_list("client_event_id", "risk_score_after"))
        assert [outcome.risk_score for outcome in outcomes] == [stored[f"e{i}"] for i in range(len(STREAM))]

    def test_events_of_several_sessions_share_a_batch_and_keep_their_own_state(self, proctor):
        exam = make_exam(proctor)
        first = session_start(exam=exam, user=student_with_baseline())
        second = session_start(exam=exam, user=student_with_baseline())
        requests = []
        for i, (event_type, payload) in enumerate(STREAM):
            requests.append(request(first, i, event_type, payload))
            requests.append(request(second, i, "typing_sample", {"wpm": 40 + i}))

        outcomes = services.events_ingest(requests)

        assert [outcome.event.session_id for outcome in outcomes] == [first.pk, second.pk] * len(STREAM)
        assert Event.objects.filter(session=first).count() == len(STREAM)
        assert Event.objects.filter(session=second).count() == len(STREAM)
        assert state(second)["alerts"] == []
        assert state(first)["risk_score"] > state(second)["risk_score"]

    def test_a_retried_key_is_stored_once_within_a_batch_and_across_batches(self, proctor):
        session = session_start(exam=make_exam(proctor), user=StudentFactory())
        (earlier,) = services.events_ingest([request(session, 0, "typing_sample", {"wpm": 40}, key="k-old")])

        outcomes = services.events_ingest(
            [
                request(session, 1, "typing_sample", {"wpm": 41}, key="k-new"),
                request(session, 2, "typing_sample", {"wpm": 99}, key="k-new"),
                request(session, 3, "typing_sample", {"wpm": 98}, key="k-old"),
            ]
        )

        assert [outcome.duplicate for outcome in outcomes] == [False, True, True]
        assert outcomes[1].event.pk == outcomes[0].event.pk
        assert outcomes[2].event.pk == earlier.event.pk
        assert sorted(Event.objects.filter(session=session).values_list("client_event_id", flat=True)) == [
            "k-new",
            "k-old",
        ]
        # A retry reports the stored event's risk; its own payload (wpm 99) is neither stored nor folded.
        assert outcomes[1].risk_score == outcomes[0].risk_score
        assert max(e.event_data["wpm"] for e in Event.objects.filter(session=session)) == 41

    def test_an_event_for_a_closed_session_is_refused_and_the_rest_are_stored(self, proctor):
        exam = make_exam(proctor)
        open_session = session_start(exam=exam, user=StudentFactory())
        closed = session_start(exam=exam, user=StudentFactory())
        session_submit(session=closed, answers={})

        outcomes = services.events_ingest(
            [
                request(open_session, 0, "typing_sample", {"wpm": 40}),
                request(closed, 1, "typing_sample", {"wpm": 40}),
                request(open_session, 2, "mouse_sample", {"speed_pxs": 300}),
            ]
        )

        assert isinstance(outcomes[0], services.IngestResult)
        assert isinstance(outcomes[1], SessionNotActive)
        assert isinstance(outcomes[2], services.IngestResult)
        assert Event.objects.filter(session=open_session).count() == 2
        assert not Event.objects.filter(session=closed).exists()

    @pytest.mark.parametrize("calibrated", [False, True], ids=["no-baseline", "ready-baseline"])
    def test_the_statements_of_a_batch_do_not_grow_with_its_events(self, proctor, calibrated):
        # Deferred fields read by mistake, or a query per event (the scoring context, the baseline),
        # would show here as a count that grows.
        user = student_with_baseline() if calibrated else StudentFactory()
        session = session_start(exam=make_exam(proctor, monitoring_sensitivity="low"), user=user)

        def statements(count: int, start: int) -> int:
            requests = [request(session, start + i, "mouse_sample", {"speed_pxs": 300 + i}) for i in range(count)]
            with CaptureQueriesContext(connection) as captured:
                outcomes = services.events_ingest(requests)
            assert all(isinstance(outcome, services.IngestResult) for outcome in outcomes)
            return len(captured)

        statements(1, 0)  # the first batch may expire or warm caches; measure the next ones
        assert statements(2, 100) == statements(40, 200)

    def test_the_baseline_comes_with_the_session_row_not_a_query_or_a_join(self, proctor):
        """A session scores against its own baseline snapshot (a column of its row): ingestion never reads
        the baselines table, neither by a query of its own nor joined to the row lock."""
        session = session_start(exam=make_exam(proctor), user=student_with_baseline())
        with CaptureQueriesContext(connection) as captured:
            outcomes = services.events_ingest([request(session, i, "typing_sample", {"wpm": 40 + i}) for i in range(3)])
        assert all(isinstance(outcome, services.IngestResult) for outcome in outcomes)
        assert outcomes[-1].risk_score == 0.0  # 42 wpm against a 40 wpm baseline: the snapshot was used
        table = f'"{Baseline._meta.db_table}"'
        assert not [q["sql"] for q in captured if table in q["sql"]]

    def test_each_event_is_one_call_into_scoring(self, proctor, monkeypatch):
        session = session_start(exam=make_exam(proctor), user=StudentFactory())
        real_score = services.event_score
        calls = []

        def event_score(**kwargs):
            calls.append(kwargs["event_type"])
            return real_score(**kwargs)

        monkeypatch.setattr(services, "event_score", event_score)
        technical = services.IngestRequest(
            session.pk, Activity(exam_id=session.exam_id, event_type="disconnected", payload={}, is_technical=True)
        )
        outcomes = services.events_ingest(
            [
                request(session, 0, "typing_sample", {"wpm": 40}),
                request(session, 1, "tab_switch", {}),
                technical,
                request(session, 0, "typing_sample", {"wpm": 40}),  # a repeat: answered from the stored event
            ]
        )
        assert [outcome.duplicate for outcome in outcomes] == [False, False, False, True]
        assert calls == ["typing_sample", "tab_switch", "disconnected"]
        assert [outcome.event.severity for outcome in outcomes[:3]] == ["low", "medium", "low"]

    def test_a_bug_in_one_event_costs_only_that_event(self, proctor, monkeypatch):
        session = session_start(exam=make_exam(proctor), user=StudentFactory())
        real_score = services.event_score

        def event_score(**kwargs):
            if kwargs["payload"].get("wpm") == 13:
                raise ValueError("boom")
            return real_score(**kwargs)

        monkeypatch.setattr(services, "event_score", event_score)
        outcomes = services.events_ingest(
            [
                request(session, 0, "typing_sample", {"wpm": 40}),
                request(session, 1, "typing_sample", {"wpm": 13}),
                request(session, 2, "typing_sample", {"wpm": 42}),
            ]
        )

        assert isinstance(outcomes[1], ValueError)
        assert sorted(Event.objects.filter(session=session).values_list("client_event_id", flat=True)) == ["e0", "e2"]


@pytest.mark.django_db(transaction=True)
class TestIngestQueueOverSockets:
    async def test_concurrent_sockets_share_batches_and_every_ack_is_a_stored_row(
        self, proctor, ws_connect, monkeypatch
    ):
        students = 12
        exam = await database_sync_to_async(make_exam)(proctor)
        users = [await database_sync_to_async(StudentFactory)() for _ in range(students)]
        for user in users:
            await database_sync_to_async(session_start)(exam=exam, user=user)
        batch_sizes: list[int] = []
        real = services.events_ingest

        def recording(requests, **kwargs):
            batch_sizes.append(len(requests))
            return real(requests, **kwargs)

        monkeypatch.setattr(services, "events_ingest", recording)
        sockets = [await ws_connect(user) for user in users]
        for socket in sockets:
            await socket.send("join_exam", exam_id=exam.pk)
            await socket.expect("joined_exam")

        for index, socket in enumerate(sockets):
            for k in range(3):
                await socket.send(
                    "suspicious_activity",
                    exam_id=exam.pk,
                    type="typing_sample",
                    wpm=40 + k,
                    client_event_id=f"s{index}-{k}",
                )
        acks = []
        for socket in sockets:
            for _ in range(3):
                acks.append(await socket.expect("activity_logged", timeout=10))

        stored = await database_sync_to_async(
            lambda: dict(
                Event.objects.filter(session__exam=exam, is_technical=False).values_list("client_event_id", "id")
            )
        )()
        assert len(stored) == students * 3
        assert {ack["client_event_id"]: ack["event_id"] for ack in acks} == stored
        assert sum(batch_sizes) == students * 3
        # Events that arrive while a batch is in the database travel together.
        assert len(batch_sizes) < students * 3
        assert max(batch_sizes) > 1

    async def test_a_socket_closed_mid_batch_leaves_the_others_served(self, proctor, ws_connect):
        exam = await database_sync_to_async(make_exam)(proctor)
        users = [await database_sync_to_async(StudentFactory)() for _ in range(3)]
        for user in users:
            await database_sync_to_async(session_start)(exam=exam, user=user)
        sockets = [await ws_connect(user) for user in users]
        for socket in sockets:
            await socket.send("join_exam", exam_id=exam.pk)
            await socket.expect("joined_exam")
        for index, socket in enumerate(sockets):
            await socket.send(
                "suspicious_activity", exam_id=exam.pk, type="typing_sample", wpm=40, client_event_id=f"c{index}"
            )
        await sockets[0].communicator.disconnect()
        for socket in sockets[1:]:
            ack = await socket.expect("activity_logged", timeout=10)
            assert ack["duplicate"] is False
        await asyncio.sleep(0.1)
        keys = await database_sync_to_async(
            lambda: set(Event.objects.filter(session__exam=exam).values_list("client_event_id", flat=True))
        )()
        assert {"c1", "c2"} <= keys
