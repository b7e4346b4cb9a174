"""Every endpoint of the exam side x (anonymous, the session's student, another student, a proctor).

The session under test belongs to `student`. Every 2xx a student receives is also checked for
the answer key.
"""

from __future__ import annotations

import pytest

from exams.sessions import session_start
from tests.exams.conftest import assert_no_answer_key, make_exam

pytestmark = pytest.mark.django_db

EXAM_PATCH = {"name": "Renamed"}
EXAM_PUT = {"name": "Renamed", "duration_minutes": 45}
NEW_EXAM = {"name": "New", "duration_minutes": 10}
ANSWERS = {"answers": {"q1": "4"}}
REVIEW = {"review_status": "clean", "note": "ok"}
TERMINATE = {"reason": "Left the room.", "reason_code": "left_seat"}
ACCOMMODATIONS = {"extra_time_pct": 25}

ACTORS = ("anonymous", "student", "other_student", "proctor")

# (method, path template, body, expected statuses for ACTORS in order)
MATRIX = [
    ("get", "/api/exams", None, (401, 200, 200, 200)),
    ("post", "/api/exams", NEW_EXAM, (401, 403, 403, 201)),
    ("get", "/api/exams/{exam}", None, (401, 200, 200, 200)),
    ("put", "/api/exams/{exam}", EXAM_PUT, (401, 403, 403, 200)),
    ("patch", "/api/exams/{exam}", EXAM_PATCH, (401, 403, 403, 200)),
    ("delete", "/api/exams/{spare_exam}", None, (401, 403, 403, 200)),
    ("post", "/api/exams/{exam}/start", None, (401, 200, 201, 403)),
    ("post", "/api/exams/{exam}/submit", ANSWERS, (401, 200, 409, 403)),
    ("get", "/api/exams/sessions", None, (401, 200, 200, 200)),
    ("get", "/api/exams/sessions/{session}", None, (401, 200, 404, 200)),
    ("put", "/api/exams/sessions/{session}/answers", ANSWERS, (401, 200, 404, 403)),
    ("patch", "/api/exams/sessions/{session}/answers", ANSWERS, (401, 200, 404, 403)),
    ("post", "/api/exams/sessions/{session}/review", REVIEW, (401, 403, 403, 200)),
    ("post", "/api/exams/sessions/{session}/terminate", TERMINATE, (401, 403, 403, 200)),
    ("get", "/api/users", None, (401, 403, 403, 200)),
    # Institution-wide accommodations are a superuser's (the proctor here is not one).
    ("put", "/api/users/{student}/accommodations", ACCOMMODATIONS, (401, 403, 403, 403)),
    ("patch", "/api/users/{student}/accommodations", ACCOMMODATIONS, (401, 403, 403, 403)),
]

CASES = [
    pytest.param(method, path, body, actor, expected[i], id=f"{method.upper()} {path} as {actor}")
    for method, path, body, expected in MATRIX
    for i, actor in enumerate(ACTORS)
]


@pytest.mark.parametrize(("method", "path", "body", "actor", "expected"), CASES)
def test_access(api_client, proctor, student, other_student, method, path, body, actor, expected):
    exam = make_exam(proctor)
    spare = make_exam(proctor, name="Spare")
    session = session_start(exam=exam, user=student)
    users = {"anonymous": None, "student": student, "other_student": other_student, "proctor": proctor}
    url = path.format(exam=exam.pk, spare_exam=spare.pk, session=session.pk, student=student.pk)
    client = api_client(users[actor])
    response = getattr(client, method)(url, body, format="json") if body is not None else getattr(client, method)(url)
    assert response.status_code == expected, response.content[:300]
    if response.status_code >= 400:
        assert response.json()["error"]
    elif actor in ("student", "other_student"):
        assert_no_answer_key(response)


def test_a_student_lists_only_their_own_sessions(api_client, proctor, student, other_student):
    exam = make_exam(proctor)
    mine = session_start(exam=exam, user=student)
    session_start(exam=exam, user=other_student)
    data = api_client(student).get("/api/exams/sessions?user=" + str(other_student.pk)).json()["data"]
    assert [s["id"] for s in data] == [mine.pk]


def test_identity_in_the_body_is_ignored(api_client, proctor, student, other_student):
    exam = make_exam(proctor)
    response = api_client(student).post(
        f"/api/exams/{exam.pk}/start", {"user_id": other_student.pk, "role": "proctor"}, format="json"
    )
    assert response.status_code == 201
    assert not other_student.exam_sessions.exists()
    assert student.exam_sessions.count() == 1
