"""Time control over REST: extra time, pause and resume, attempt reset (docs/design.md, part two)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import AuditEntry
from exams import services
from exams.models import Course, CourseStaff, ExamSession
from monitoring.models import Event
from scoring.aggregation import fold_all
from scoring.models import Baseline
from tests.exams.conftest import age_session, make_exam
from tests.factories import ProctorFactory, StudentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(exam, student):
    return services.session_start(exam=exam, user=student)


def _post(client, path, body=None):
    return client.post(path, body or {}, format="json")


def _timeline(session) -> list[str]:
    return list(Event.objects.filter(session=session, is_technical=True).values_list("event_type", flat=True))


# -- extra time ---------------------------------------------------------------------------------------


def test_extend_moves_the_deadline_and_is_audited_and_on_the_timeline(api_client, proctor, session):
    before = session.deadline_at
    response = _post(
        api_client(proctor), f"/api/exams/sessions/{session.pk}/extend", {"minutes": 15, "reason": "fire alarm"}
    )
    assert response.status_code == 200, response.json()
    session.refresh_from_db()
    assert session.deadline_at - before == timedelta(minutes=15)
    assert session.extended_seconds == 900
    assert response.json()["data"]["extended_seconds"] == 900
    entry = AuditEntry.objects.get(action="session_extend", target_id=str(session.pk))
    assert entry.actor == proctor and entry.details["minutes"] == 15 and entry.details["reason"] == "fire alarm"
    event = Event.objects.get(session=session, event_type="time_extended")
    assert event.is_technical and event.event_data["minutes"] == 15 and event.event_data["by"] == proctor.pk


def test_extra_time_stacks_on_top_of_accommodations(api_client, proctor, exam):
    student = StudentFactory(accommodations={"extra_minutes": 10})
    session = services.session_start(exam=exam, user=student)
    assert session.deadline_at - session.started_at == timedelta(minutes=exam.duration_minutes + 10)
    _post(api_client(proctor), f"/api/exams/sessions/{session.pk}/extend", {"minutes": 5, "reason": "late start"})
    session.refresh_from_db()
    assert session.deadline_at - session.started_at == timedelta(minutes=exam.duration_minutes + 15)


def test_exam_wide_extend_moves_every_in_progress_session_only(api_client, proctor, exam, student, other_student):
    open_one = services.session_start(exam=exam, user=student)
    done = services.session_start(exam=exam, user=other_student)
    services.session_submit(session=done, answers={})
    done.refresh_from_db()
    before_open, before_done = open_one.deadline_at, done.deadline_at
    response = _post(api_client(proctor), f"/api/exams/{exam.pk}/extend", {"minutes": 20, "reason": "server outage"})
    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert data["count"] == 1 and data["sessions"][0]["session_id"] == open_one.pk
    open_one.refresh_from_db()
    done.refresh_from_db()
    assert open_one.deadline_at - before_open == timedelta(minutes=20)
    assert done.deadline_at == before_done and done.extended_seconds == 0


@pytest.mark.parametrize("minutes", [0, 601, "ten", 1.5, None])
def test_extend_refuses_minutes_outside_1_to_600(api_client, proctor, session, minutes):
    body = {"minutes": minutes, "reason": "why"}
    assert _post(api_client(proctor), f"/api/exams/sessions/{session.pk}/extend", body).status_code == 400
    assert _post(api_client(proctor), f"/api/exams/{session.exam_id}/extend", body).status_code == 400
    session.refresh_from_db()
    assert session.extended_seconds == 0


@pytest.mark.parametrize("reason", ["", "   ", "x" * 1001])
def test_extend_pause_and_reset_need_a_reason_of_at_most_1000_characters(api_client, proctor, session, reason):
    client = api_client(proctor)
    base = f"/api/exams/sessions/{session.pk}"
    assert _post(client, f"{base}/extend", {"minutes": 5, "reason": reason}).status_code == 400
    assert _post(client, f"{base}/pause", {"reason": reason}).status_code == 400
    assert _post(client, f"{base}/reset", {"reason": reason}).status_code == 400
    assert _post(client, f"{base}/pause", {}).status_code == 400
    session.refresh_from_db()
    assert (session.extended_seconds, session.paused_at, session.voided) == (0, None, False)


def test_a_student_may_not_use_time_control(api_client, student, session):
    client = api_client(student)
    base = f"/api/exams/sessions/{session.pk}"
    assert _post(client, f"{base}/extend", {"minutes": 5, "reason": "me"}).status_code == 403
    assert _post(client, f"{base}/pause", {"reason": "me"}).status_code == 403
    assert _post(client, f"{base}/resume").status_code == 403
    assert _post(client, f"{base}/reset", {"reason": "me"}).status_code == 403
    assert _post(client, f"/api/exams/{session.exam_id}/extend", {"minutes": 5, "reason": "me"}).status_code == 403


def test_a_proctor_of_another_course_gets_404(api_client, proctor, student):
    course = Course.objects.create(code="PHY-1", name="Physics")
    CourseStaff.objects.create(course=course, user=proctor)
    course.students.add(student)
    exam = make_exam(proctor, course=course)
    session = services.session_start(exam=exam, user=student)
    outsider = api_client(ProctorFactory())
    base = f"/api/exams/sessions/{session.pk}"
    assert _post(outsider, f"{base}/extend", {"minutes": 5, "reason": "x"}).status_code == 404
    assert _post(outsider, f"{base}/pause", {"reason": "x"}).status_code == 404
    assert _post(outsider, f"{base}/resume").status_code == 404
    assert _post(outsider, f"{base}/reset", {"reason": "x"}).status_code == 404
    assert _post(outsider, f"/api/exams/{exam.pk}/extend", {"minutes": 5, "reason": "x"}).status_code == 404
    session.refresh_from_db()
    assert (session.extended_seconds, session.paused_at, session.voided) == (0, None, False)


def test_a_finished_session_cannot_be_extended(api_client, proctor, session):
    services.session_submit(session=session, answers={})
    response = _post(api_client(proctor), f"/api/exams/sessions/{session.pk}/extend", {"minutes": 5, "reason": "x"})
    assert response.status_code == 409


# -- pause and resume -----------------------------------------------------------------------------------


def test_a_paused_session_takes_no_answers_no_submit_and_no_events(api_client, proctor, student, session):
    assert _post(api_client(proctor), f"/api/exams/sessions/{session.pk}/pause", {"reason": "noise"}).status_code == 200
    client = api_client(student)
    saved = client.put(f"/api/exams/sessions/{session.pk}/answers", {"answers": {"q1": "4"}}, format="json")
    assert saved.status_code == 409 and saved.json()["details"]["code"] == "session_paused", saved.json()
    submitted = _post(client, f"/api/exams/{session.exam_id}/submit", {"answers": {"q1": "4"}})
    assert submitted.status_code == 409 and submitted.json()["details"]["code"] == "session_paused"
    batch = _post(
        client,
        f"/api/exams/sessions/{session.pk}/events",
        {"events": [{"type": "tab_switch", "client_event_id": "e1"}]},
    )
    assert batch.status_code == 200
    assert batch.json()["data"]["results"][0]["code"] == "session_paused"
    session.refresh_from_db()
    assert session.is_open and session.answers == {}
    assert _timeline(session) == ["session_paused"]
    assert not Event.objects.filter(session=session, is_technical=False).exists()
    detail = api_client(student).get(f"/api/exams/sessions/{session.pk}").json()["data"]
    assert detail["paused_at"] is not None and detail["voided"] is False


def test_a_paused_session_past_its_deadline_is_not_expired(api_client, proctor, session):
    services.session_pause(session=session, by=proctor, reason="medical")
    age_session(session, past_deadline=timedelta(hours=1))
    out = StringIO()
    call_command("close_expired_sessions", stdout=out)
    session.refresh_from_db()
    assert session.is_open
    # The lazy expiry on read leaves it too.
    detail = api_client(proctor).get(f"/api/exams/sessions/{session.pk}").json()["data"]
    assert detail["status"] == "in_progress" and detail["paused_seconds"] == 0


def test_resume_moves_the_deadline_by_the_time_paused(api_client, proctor, session):
    start = timezone.now()
    services.session_pause(session=session, by=proctor, reason="medical", at=start)
    deadline = ExamSession.objects.get(pk=session.pk).deadline_at
    resumed, paused_for = services.session_resume(session=session, by=proctor, at=start + timedelta(seconds=125))
    assert paused_for == 125
    assert resumed.deadline_at - deadline == timedelta(seconds=125)
    assert resumed.paused_seconds == 125 and resumed.paused_at is None


def test_resume_over_rest_clears_the_pause_and_records_it(api_client, proctor, student, session):
    client = api_client(proctor)
    _post(client, f"/api/exams/sessions/{session.pk}/pause", {"reason": "noise"})
    response = _post(client, f"/api/exams/sessions/{session.pk}/resume")
    assert response.status_code == 200
    assert response.json()["data"]["paused_at"] is None
    assert _timeline(session) == ["session_paused", "session_resumed"]
    saved = api_client(student).put(
        f"/api/exams/sessions/{session.pk}/answers", {"answers": {"q1": "4"}}, format="json"
    )
    assert saved.status_code == 200
    actions = set(AuditEntry.objects.filter(target_id=str(session.pk)).values_list("action", flat=True))
    assert {"session_pause", "session_resume"} <= actions


def test_terminating_a_paused_session_ends_it_unpaused_with_the_time_worked_before_the_pause(proctor, session):
    started = ExamSession.objects.get(pk=session.pk).started_at
    services.session_pause(session=session, by=proctor, reason="medical", at=started + timedelta(minutes=10))
    ended = services.session_terminate(
        session=session,
        by=proctor,
        reason="Left the room during the pause.",
        reason_code="left_seat",
        at=started + timedelta(minutes=25),
    )
    stored = ExamSession.objects.get(pk=session.pk)
    assert ended.status == stored.status == "flagged"
    assert stored.paused_at is None
    # Ten minutes worked; the fifteen paused ones do not count.
    assert stored.time_taken_seconds == 600


def test_pausing_twice_or_resuming_a_running_session_is_a_409(api_client, proctor, session):
    client = api_client(proctor)
    running = _post(client, f"/api/exams/sessions/{session.pk}/resume")
    assert running.status_code == 409 and running.json()["details"]["code"] == "session_not_paused"
    assert "not paused" in running.json()["error"]
    _post(client, f"/api/exams/sessions/{session.pk}/pause", {"reason": "noise"})
    again = _post(client, f"/api/exams/sessions/{session.pk}/pause", {"reason": "noise"})
    assert again.status_code == 409 and again.json()["details"]["code"] == "session_already_paused"


# -- attempt reset --------------------------------------------------------------------------------------


def test_reset_voids_the_attempt_and_the_student_may_start_again(api_client, proctor, student, session):
    response = _post(api_client(proctor), f"/api/exams/sessions/{session.pk}/reset", {"reason": "wrong paper"})
    assert response.status_code == 200, response.json()
    session.refresh_from_db()
    assert session.voided and session.voided_by == proctor and session.void_reason == "wrong paper"
    assert session.status == "submitted" and not session.auto_submitted and session.score is None
    assert _timeline(session) == ["attempt_reset"]
    assert AuditEntry.objects.filter(action="session_reset", target_id=str(session.pk)).exists()
    again = _post(api_client(student), f"/api/exams/{session.exam_id}/start")
    assert again.status_code == 201, again.json()
    assert again.json()["data"]["id"] != session.pk
    assert _post(api_client(proctor), f"/api/exams/sessions/{session.pk}/reset", {"reason": "x"}).status_code == 409


def test_a_reset_attempt_is_out_of_the_review_queue_unless_asked_for(api_client, proctor, session, exam):
    services.session_reset(session=session, by=proctor, reason="wrong paper")
    client = api_client(proctor)
    listed = [row["id"] for row in client.get("/api/exams/sessions").json()["data"]]
    assert session.pk not in listed
    voided = [row["id"] for row in client.get("/api/exams/sessions?voided=true").json()["data"]]
    assert voided == [session.pk]


def test_the_admin_review_queue_leaves_reset_attempts_out_by_default(client, proctor, session):
    proctor.is_superuser = True
    proctor.save()
    services.session_reset(session=session, by=proctor, reason="wrong paper")
    client.force_login(proctor)
    default = client.get("/admin/exams/examsession/")
    assert default.status_code == 200
    assert session.pk not in [row.pk for row in default.context["cl"].result_list]
    shown = client.get("/admin/exams/examsession/?voided=yes")
    assert [row.pk for row in shown.context["cl"].result_list] == [session.pk]


def test_a_reset_calibration_attempt_never_feeds_the_baseline(proctor, student):
    exam = make_exam(proctor, is_calibration=True)
    session = services.session_start(exam=exam, user=student)
    measured = fold_all([("typing_sample", {"wpm": 50}), ("mouse_sample", {"speed_pxs": 300})])
    ExamSession.objects.filter(pk=session.pk).update(behaviour=measured)
    services.session_reset(session=session, by=proctor, reason="camera broke")
    assert not Baseline.objects.filter(user=student, sample_count__gt=0).exists()
    # Its expiry path is closed too: a voided session is no longer open.
    age_session(ExamSession.objects.get(pk=session.pk), past_deadline=timedelta(hours=1))
    call_command("close_expired_sessions", stdout=StringIO())
    assert not Baseline.objects.filter(user=student, sample_count__gt=0).exists()


def test_reset_attempts_never_train_the_population_model(proctor, settings, tmp_path):
    settings.EXAMPULSE = {**settings.EXAMPULSE, "MODEL_DIR": str(tmp_path / "models")}
    exam = make_exam(proctor)
    behaviour = fold_all([("typing_sample", {"wpm": 50}), ("mouse_sample", {"speed_pxs": 300})])
    for index in range(20):
        session = services.session_start(exam=exam, user=StudentFactory())
        services.session_submit(session=session, answers={})
        ExamSession.objects.filter(pk=session.pk).update(behaviour=behaviour)
        if index == 0:
            services.session_reset(session=session, by=proctor, reason="duplicate")
    with pytest.raises(CommandError, match=r": 19, need at least 20"):
        call_command("train_risk_model", stdout=StringIO())
