"""Every error code README.md and SECURITY.md name comes back over REST as `details.code`, with its status.

One test per code, named `test_<code>`; `test_every_documented_code_has_its_test` reads both documents
and fails when a code they name has no test here (or is not listed as one the socket alone answers).
"""

from __future__ import annotations

import re
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from exampulse.platform.api import exception_handler
from exams import reviews
from exams.exceptions import SessionMoveRefused
from exams.models import Course, CourseStaff, Enrollment, ExamSession
from exams.sessions import session_start, session_submit
from exams.statuses import Move, State, session_move
from tests.exams.conftest import make_exam
from tests.factories import ProctorFactory, StudentFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def documented_codes() -> dict[str, str]:
    """docs/api.md's Error codes table: code -> its status (or "socket" for the socket's own)."""
    text = (ROOT / "docs" / "api.md").read_text()
    table = text[text.index("## Error codes") :].split("\n## ", 1)[0]
    return {code: status.strip() for code, status in re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \|", table, re.M)}


def refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["details"]["code"] == code, body
    assert body["error"]
    return body


def test_every_documented_code_has_its_test():
    documented = documented_codes()
    rest = {code for code, status in documented.items() if status != "socket"}
    tested = {name.removeprefix("test_") for name in dir(sys.modules[__name__]) if name.startswith("test_")}
    missing = rest - tested
    assert not missing, f"codes docs/api.md gives a REST status with no test here: {sorted(missing)}"
    # The table is found and read (not empty by accident).
    assert {"course_code_taken", "exam_not_yours", "exam_has_sessions", "hand_already_raised"} <= set(documented)


# --- accounts ------------------------------------------------------------------------------------


def test_token_not_valid(anon_client):
    refused(anon_client.post("/api/auth/refresh", {"refresh": "not.a.token"}, format="json"), 401, "token_not_valid")


def test_user_not_found(anon_client):
    user = StudentFactory()
    refresh = str(RefreshToken.for_user(user))
    user.delete()
    refused(anon_client.post("/api/auth/refresh", {"refresh": refresh}, format="json"), 401, "user_not_found")


def test_user_inactive(anon_client):
    user = StudentFactory()
    refresh = str(RefreshToken.for_user(user))
    user.is_active = False
    user.save()
    refused(anon_client.post("/api/auth/refresh", {"refresh": refresh}, format="json"), 401, "user_inactive")


def test_superuser_only(api_client, proctor, student):
    response = api_client(proctor).put(f"/api/users/{student.pk}/accommodations", {"extra_minutes": 5}, format="json")
    refused(response, 403, "superuser_only")


def test_invalid_reset_link(anon_client):
    body = {"uid": "x", "token": "y", "new_password": "a-long-enough-pass"}
    refused(anon_client.post("/api/auth/password-reset/confirm", body, format="json"), 400, "invalid_reset_link")


def test_login_locked_out(anon_client, settings):
    user = StudentFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        response = anon_client.post("/api/auth/login", {"email": user.email, "password": "wrong"}, format="json")
    refused(response, 429, "login_locked_out")


# --- exams -----------------------------------------------------------------------------------------


def test_exam_not_yours(api_client, proctor):
    exam = make_exam(proctor)
    response = api_client(ProctorFactory()).patch(f"/api/exams/{exam.pk}", {"name": "Mine now"}, format="json")
    refused(response, 403, "exam_not_yours")


def test_exam_has_sessions(api_client, proctor, student):
    exam = make_exam(proctor)
    session_start(exam=exam, user=student)
    refused(api_client(proctor).delete(f"/api/exams/{exam.pk}"), 409, "exam_has_sessions")


def test_exam_not_found(api_client, student):
    refused(api_client(student).get("/api/exams/987654"), 404, "exam_not_found")


def test_session_not_found(api_client, proctor):
    refused(api_client(proctor).get("/api/exams/sessions/987654"), 404, "session_not_found")


def test_exam_not_open(api_client, proctor, student):
    exam = make_exam(proctor, scheduled_date=timezone.now() + timedelta(hours=1))
    refused(api_client(student).post(f"/api/exams/{exam.pk}/start"), 409, "exam_not_open")


def test_session_already_submitted(api_client, proctor, student):
    exam = make_exam(proctor)
    session_submit(session=session_start(exam=exam, user=student), answers={})
    refused(api_client(student).post(f"/api/exams/{exam.pk}/start"), 409, "session_already_submitted")


def test_session_not_active(api_client, proctor, student):
    exam = make_exam(proctor)
    session = session_submit(session=session_start(exam=exam, user=student), answers={})
    body = {"reason_code": "phone_use", "reason": "seen on camera"}
    response = api_client(proctor).post(f"/api/exams/sessions/{session.pk}/terminate", body, format="json")
    refused(response, 409, "session_not_active")


def test_session_move_refused(proctor, student):
    """No request leads here (it guards the services against asking for a move the table lacks), so the
    move is asked for directly; the REST answer it would get is rendered by the API's own handler."""
    session = session_start(exam=make_exam(proctor), user=student)
    with pytest.raises(SessionMoveRefused) as refusal:
        session_move(session, Move.SUBMIT, to=State.PAUSED, at=timezone.now())
    response = exception_handler(refusal.value, {})
    assert response.status_code == 409
    assert response.data["details"]["code"] == "session_move_refused"
    assert response.data["details"]["from"] == "running" and response.data["details"]["to"] == "paused"
    session.refresh_from_db()
    assert session.status == "in_progress" and session.paused_at is None


def test_session_paused(api_client, proctor, student):
    exam = make_exam(proctor)
    session = session_start(exam=exam, user=student)
    assert (
        api_client(proctor)
        .post(f"/api/exams/sessions/{session.pk}/pause", {"reason": "noise"}, format="json")
        .status_code
        == 200
    )
    response = api_client(student).put(f"/api/exams/sessions/{session.pk}/answers", {"answers": {}}, format="json")
    refused(response, 409, "session_paused")


def test_session_already_paused(api_client, proctor, student):
    session = session_start(exam=make_exam(proctor), user=student)
    client = api_client(proctor)
    client.post(f"/api/exams/sessions/{session.pk}/pause", {"reason": "noise"}, format="json")
    refused(
        client.post(f"/api/exams/sessions/{session.pk}/pause", {"reason": "noise"}, format="json"),
        409,
        "session_already_paused",
    )


def test_session_not_paused(api_client, proctor, student):
    session = session_start(exam=make_exam(proctor), user=student)
    refused(api_client(proctor).post(f"/api/exams/sessions/{session.pk}/resume"), 409, "session_not_paused")


def test_session_open(api_client, proctor, student):
    session_start(exam=make_exam(proctor), user=student)
    sample = {"typing_speed_wpm": 40, "mouse_speed_pxs": 400, "avg_question_time_sec": 60, "tab_switch_rate": 0}
    refused(api_client(student).post("/api/baselines", sample, format="json"), 409, "session_open")


def test_baseline_daily_limit(api_client, student, settings):
    settings.EXAMPULSE = {**settings.EXAMPULSE, "BASELINE_SAMPLES_PER_DAY": 1}
    sample = {"typing_speed_wpm": 40, "mouse_speed_pxs": 400, "avg_question_time_sec": 60, "tab_switch_rate": 0}
    client = api_client(student)
    assert client.post("/api/baselines", sample, format="json").status_code == 201
    refused(client.post("/api/baselines", sample, format="json"), 429, "baseline_daily_limit")


def _finished(proctor, student) -> ExamSession:
    return session_submit(session=session_start(exam=make_exam(proctor), user=student), answers={})


def test_reason_required(api_client, proctor, student):
    session = session_start(exam=make_exam(proctor), user=student)
    response = api_client(proctor).post(
        f"/api/exams/sessions/{session.pk}/terminate", {"reason": "seen on camera"}, format="json"
    )
    refused(response, 400, "reason_required")


def test_invalid_reason(api_client, proctor, student):
    session = session_start(exam=make_exam(proctor), user=student)
    body = {"reason_code": "no_such_reason", "reason": "seen on camera"}
    refused(
        api_client(proctor).post(f"/api/exams/sessions/{session.pk}/terminate", body, format="json"),
        400,
        "invalid_reason",
    )


def test_note_required(api_client, proctor, student):
    session = _finished(proctor, student)
    response = api_client(proctor).post(
        f"/api/exams/sessions/{session.pk}/review", {"review_status": "suspicious"}, format="json"
    )
    refused(response, 400, "note_required")


VIOLATION = {"review_status": "violation", "note": "phone in hand", "reason_code": "phone_use"}


def test_same_reviewer(api_client, proctor, student):
    session = _finished(proctor, student)
    reviews.session_review(session=session, by=proctor, **VIOLATION)
    response = api_client(proctor).post(
        f"/api/exams/sessions/{session.pk}/second-review", {"decision": "confirm"}, format="json"
    )
    refused(response, 403, "same_reviewer")


def test_second_review_not_required(api_client, proctor, student):
    session = _finished(proctor, student)
    response = api_client(proctor).post(
        f"/api/exams/sessions/{session.pk}/second-review", {"decision": "confirm"}, format="json"
    )
    refused(response, 409, "second_review_not_required")


def test_second_review_pending(api_client, proctor, student):
    session = _finished(proctor, student)
    reviews.session_review(session=session, by=proctor, **VIOLATION)
    response = api_client(proctor).post(
        f"/api/exams/sessions/{session.pk}/review", {"review_status": "clean"}, format="json"
    )
    refused(response, 409, "second_review_pending")


def test_verdict_confirmed(api_client, proctor, student):
    session = _finished(proctor, student)
    reviews.session_review(session=session, by=proctor, **VIOLATION)
    reviews.session_second_review(session=session, by=ProctorFactory(), decision="confirm")
    response = api_client(proctor).post(
        f"/api/exams/sessions/{session.pk}/review", {"review_status": "clean"}, format="json"
    )
    refused(response, 409, "verdict_confirmed")


# --- courses ---------------------------------------------------------------------------------------


def _course(proctor, code: str = "PHY-101") -> Course:
    course = Course.objects.create(code=code, name="Physics", created_by=proctor)
    CourseStaff.objects.create(course=course, user=proctor, added_by=proctor)
    return course


def test_course_code_taken(api_client, proctor):
    _course(proctor)
    response = api_client(proctor).post("/api/courses", {"code": "phy-101", "name": "Again"}, format="json")
    body = refused(response, 409, "course_code_taken")
    assert body["details"]["field"] == "code"


def test_course_needs_staff(api_client, proctor):
    course = _course(proctor)
    refused(api_client(proctor).delete(f"/api/courses/{course.pk}/staff/{proctor.pk}"), 409, "course_needs_staff")


def test_not_on_roster(api_client, proctor, student):
    course = _course(proctor)
    response = api_client(proctor).put(
        f"/api/courses/{course.pk}/accommodations/{student.pk}", {"extra_minutes": 10}, format="json"
    )
    refused(response, 404, "not_on_roster")
    Enrollment.objects.create(course=course, student=student, added_by=proctor)
    ok = api_client(proctor).put(
        f"/api/courses/{course.pk}/accommodations/{student.pk}", {"extra_minutes": 10}, format="json"
    )
    assert ok.status_code == 200


# --- the rest of the table: generic codes, logins, starts, grading, resets -------------------------------


def test_invalid(api_client, proctor, student):
    session = _finished(proctor, student)
    body = {"decision": "confirm", "review_status": "clean"}
    response = api_client(proctor).post(f"/api/exams/sessions/{session.pk}/second-review", body, format="json")
    refused(response, 400, "invalid")


def test_parse_error(anon_client):
    response = anon_client.post("/api/auth/login", data="{not json", content_type="application/json")
    refused(response, 400, "parse_error")


def test_not_authenticated(anon_client):
    refused(anon_client.get("/api/exams/"), 401, "not_authenticated")


def test_method_not_allowed(anon_client):
    refused(anon_client.put("/api/auth/login", {}, format="json"), 405, "method_not_allowed")


def test_unsupported_media_type(anon_client):
    response = anon_client.post("/api/auth/login", data="email=a", content_type="text/plain")
    refused(response, 415, "unsupported_media_type")


def test_throttled(api_client, student):
    client = api_client(student)
    body = {"current_password": "Not-It-123", "new_password": "An0ther-Long-Passphrase"}
    statuses = [client.post("/api/auth/change-password", body, format="json") for _ in range(12)]
    refused(statuses[-1], 429, "throttled")


def test_invalid_credentials(anon_client):
    user = StudentFactory()
    response = anon_client.post("/api/auth/login", {"email": user.email, "password": "wrong"}, format="json")
    refused(response, 401, "invalid_credentials")


def test_token_revoked(anon_client, student):
    from tests.factories import DEFAULT_PASSWORD

    login = anon_client.post("/api/auth/login", {"email": student.email, "password": DEFAULT_PASSWORD}, format="json")
    tokens = login.json()
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['token']}")
    assert anon_client.post("/api/auth/logout", {"refresh": tokens["refresh"]}, format="json").status_code == 200
    refused(anon_client.get("/api/auth/me"), 401, "token_revoked")


def test_not_found(api_client, student):
    refused(api_client(student).get("/api/no-such-route"), 404, "not_found")


def test_forbidden(api_client, student):
    refused(api_client(student).get("/api/users"), 403, "forbidden")


def test_conflict(anon_client, student):
    body = {"email": student.email, "password": "a-long-enough-pass-1", "name": "Again", "role": "student"}
    refused(anon_client.post("/api/auth/register", body, format="json"), 409, "conflict")


def test_exam_not_allowed(api_client, proctor):
    exam = make_exam(proctor)
    refused(api_client(proctor).post(f"/api/exams/{exam.pk}/start"), 403, "exam_not_allowed")


def test_session_not_started(api_client, proctor, student):
    exam = make_exam(proctor)
    refused(
        api_client(student).post(f"/api/exams/{exam.pk}/submit", {"answers": {}}, format="json"),
        409,
        "session_not_started",
    )


def test_invalid_answers(api_client, proctor, student):
    session = session_start(exam=make_exam(proctor), user=student)
    body = {"answers": {"no-such-question": "4"}}
    response = api_client(student).put(f"/api/exams/sessions/{session.pk}/answers", body, format="json")
    refused(response, 400, "invalid_answers")


def test_course_not_found(api_client, proctor):
    refused(api_client(proctor).get("/api/courses/987654"), 404, "course_not_found")


def test_baseline_not_found(api_client, student):
    superuser = ProctorFactory(is_superuser=True, is_staff=True)
    response = api_client(superuser).post(
        f"/api/baselines/{student.pk}/reset", {"reason": "fresh start"}, format="json"
    )
    refused(response, 404, "baseline_not_found")


def _reset(client, session):
    return client.post(f"/api/exams/sessions/{session.pk}/reset", {"reason": "fire alarm"}, format="json")


def test_session_already_voided(api_client, proctor, student):
    session = _finished(proctor, student)
    client = api_client(proctor)
    assert _reset(client, session).status_code == 200
    refused(_reset(client, session), 409, "session_already_voided")


def _grade(client, session, scores):
    return client.post(f"/api/exams/sessions/{session.pk}/grade", {"scores": scores}, format="json")


def test_session_not_finished(api_client, proctor, student):
    session = session_start(exam=make_exam(proctor), user=student)
    refused(_grade(api_client(proctor), session, {"q3": 1}), 409, "session_not_finished")


def test_session_voided(api_client, proctor, student):
    session = _finished(proctor, student)
    client = api_client(proctor)
    assert _reset(client, session).status_code == 200
    refused(_grade(client, session, {"q3": 1}), 409, "session_voided")


def test_invalid_scores(api_client, proctor, student):
    refused(_grade(api_client(proctor), _finished(proctor, student), {"q1": 1}), 400, "invalid_scores")
