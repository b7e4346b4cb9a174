"""Baseline samples keep their provenance, the student's own writes wait for their exam to end and are
limited per day, one calibration sitting makes a baseline ready, and a session keeps the baseline it
started with (its snapshot)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from exams.models import ExamSession
from exams.sessions import session_start, session_submit
from scoring.calibration import calibration_samples
from scoring.models import Baseline, BaselineSample
from scoring.services import baseline_add_sample
from tests.exams.conftest import age_session, make_exam

pytestmark = pytest.mark.django_db

SAMPLE = {"typing_speed_wpm": 42.0, "mouse_speed_pxs": 250.0, "avg_question_time_sec": 60.0}
# A calibration sitting as the browser client records it: a typing and a mouse window every few
# seconds, and the two questions answered.
SITTING = [
    *[{"type": "typing_sample", "wpm": wpm, "hold_ms_mean": 95 + i, "latency_ms_mean": 180 + 2 * i}
      for i, wpm in enumerate((38, 41, 44, 40, 39, 43))],
    *[{"type": "mouse_sample", "speed_pxs": speed} for speed in (300, 320, 280, 310, 290, 305)],
    {"type": "question_answered", "question_id": "c1", "time_spent_sec": 20},
    {"type": "question_answered", "question_id": "c2", "time_spent_sec": 95},
    {"type": "tab_switch"},
]  # fmt: skip


class TestSelfReported:
    def test_refused_with_session_open_while_an_exam_is_in_progress_then_accepted(self, api_client, proctor, student):
        session = session_start(exam=make_exam(proctor), user=student)
        client = api_client(student)

        refused = client.post("/api/baselines", SAMPLE, format="json")
        session_submit(session=session, answers={})
        accepted = client.post("/api/baselines", SAMPLE, format="json")

        assert refused.status_code == 409
        assert refused.json()["details"]["code"] == "session_open"
        assert accepted.status_code == 201
        assert BaselineSample.objects.filter(user=student).count() == 1

    def test_a_paused_session_holds_the_baseline_too_an_overdue_one_does_not(self, api_client, proctor, student):
        from exams.clock import session_pause

        session = session_start(exam=make_exam(proctor), user=student)
        session_pause(session=session, by=proctor, reason="fire alarm")
        assert api_client(student).post("/api/baselines", SAMPLE, format="json").status_code == 409
        ExamSession.objects.filter(pk=session.pk).update(paused_at=None)
        age_session(ExamSession.objects.get(pk=session.pk), past_deadline=timedelta(minutes=5))
        assert api_client(student).post("/api/baselines", SAMPLE, format="json").status_code == 201

    def test_at_most_the_daily_limit_per_24_hours(self, api_client, student, settings):
        settings.EXAMPULSE = {**settings.EXAMPULSE, "BASELINE_SAMPLES_PER_DAY": 2}
        baseline_add_sample(user=student, sample=SAMPLE, at=timezone.now() - timedelta(hours=25))
        client = api_client(student)

        statuses = [client.post("/api/baselines", SAMPLE, format="json") for _ in range(3)]

        assert [r.status_code for r in statuses] == [201, 201, 429]
        assert statuses[2].json()["details"] == {"code": "baseline_daily_limit", "limit": 2, "window_hours": 24}
        assert Baseline.objects.get(user=student).sample_count == 3

    def test_every_sample_keeps_its_source_time_and_door(self, api_client, student):
        client = api_client(student)
        before = timezone.now()
        response = client.post("/api/baselines", SAMPLE, format="json")

        row = BaselineSample.objects.get(user=student)
        assert (row.source, row.via, row.calibration_session_id) == ("self_reported", "POST /api/baselines", None)
        assert row.recorded_at >= before
        listed = response.json()["data"]["samples"]
        assert listed[0]["source"] == "self_reported" and listed[0]["values"]["typing_speed_wpm"] == 42.0
        assert response.json()["data"]["provenance"]["self_reported"] == 1


class TestCalibration:
    def test_one_calibration_sitting_makes_a_ready_baseline_with_its_provenance(self, api_client, proctor, student):
        exam = make_exam(proctor, is_calibration=True, questions=[], total_questions=0)
        session = session_start(exam=exam, user=student)
        client = api_client(student)
        stored = client.post(f"/api/exams/sessions/{session.pk}/events", {"events": SITTING}, format="json")
        assert stored.json()["data"]["stored"] == len(SITTING)

        assert client.post(f"/api/exams/{exam.pk}/submit", {"answers": {}}, format="json").status_code == 200

        baseline = Baseline.objects.get(user=student)
        samples = list(BaselineSample.objects.filter(user=student).order_by("id"))
        assert [s.source for s in samples] == ["calibration"] * 3
        assert {s.calibration_session_id for s in samples} == {session.pk}
        assert {s.via for s in samples} == {f"calibration exam {exam.pk}"}
        # Windows in thirds: typing (38, 41) (44, 40) (39, 43); questions 20 s and 95 s fill two parts.
        assert [s.typing_speed_wpm for s in samples] == [39.5, 42.0, 41.0]
        assert [s.avg_question_time_sec for s in samples] == [20.0, 95.0, None]
        data = client.get("/api/baselines").json()["data"]
        assert data["status"] == "ready" and data["sample_count"] == 3
        assert data["provenance"]["calibration"] == 3 and data["provenance"]["calibration_sessions"] == [session.pk]
        assert baseline.typing_speed_wpm == pytest.approx(40.833, abs=0.001)
        # The next session is measured against it, with the detector fitted on the sitting's spread.
        later = session_start(exam=make_exam(proctor, name="Real exam"), user=student)
        snapshot = later.baseline_snapshot
        assert snapshot["status"] == "ready" and snapshot["detector"]["n_samples"] == 3
        assert snapshot["provenance"]["calibration_sessions"] == [session.pk]

    def test_a_short_sitting_still_makes_the_baseline_ready(self, api_client, proctor, student):
        exam = make_exam(proctor, is_calibration=True)
        session = session_start(exam=exam, user=student)
        client = api_client(student)
        client.post(f"/api/exams/sessions/{session.pk}/events", {"events": SITTING[:1]}, format="json")
        client.post(f"/api/exams/{exam.pk}/submit", {"answers": {}}, format="json")

        data = client.get("/api/baselines").json()["data"]
        assert (data["status"], data["sample_count"]) == ("ready", 1)

    def test_the_calibration_windows_are_cut_in_consecutive_thirds(self):
        events = [(e["type"], {k: v for k, v in e.items() if k != "type"}) for e in SITTING]
        samples = calibration_samples(events)
        assert [round(s["mouse_speed_pxs"], 1) for s in samples] == [310.0, 295.0, 297.5]
        assert [s["tab_switch_rate"] for s in samples] == [1.0, 1.0, 1.0]
        assert calibration_samples([("tab_switch", {})]) == []
        assert calibration_samples([("typing_sample", {"wpm": "fast"})]) == []


class TestSnapshot:
    def test_the_session_keeps_the_baseline_it_started_with(self, proctor, student):
        for _ in range(3):
            baseline_add_sample(user=student, sample=SAMPLE)
        session = session_start(exam=make_exam(proctor), user=student)
        baseline_add_sample(user=student, sample={**SAMPLE, "typing_speed_wpm": 200.0})

        session.refresh_from_db()
        snapshot = session.baseline_snapshot
        assert snapshot["sample_count"] == 3 and snapshot["means"]["typing_speed_wpm"] == 42.0
        assert snapshot["provenance"]["self_reported"] == 3
        assert snapshot["sample_ids"]["last"] < BaselineSample.objects.latest("id").pk
        assert Baseline.objects.get(user=student).sample_count == 4
