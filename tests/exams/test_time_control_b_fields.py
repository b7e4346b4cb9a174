"""The exam API exposes and validates disconnect_grace_minutes and max_warnings; session detail shows
time_compensated_seconds and warnings_count (docs/design.md, part two, time control)."""

from __future__ import annotations

import pytest

from exams.services import session_start
from tests.exams.conftest import make_exam
from tests.exams.test_exam_api import exam_body

pytestmark = pytest.mark.django_db


def test_create_and_patch_take_grace_and_warning_limit(api_client, proctor):
    client = api_client(proctor)
    created = client.post("/api/exams", exam_body(disconnect_grace_minutes=5, max_warnings=3), format="json")
    assert created.status_code == 201, created.json()
    data = created.json()["data"]
    assert (data["disconnect_grace_minutes"], data["max_warnings"]) == (5, 3)
    patched = client.patch(
        f"/api/exams/{data['id']}", {"disconnect_grace_minutes": 0, "max_warnings": None}, format="json"
    )
    assert patched.status_code == 200, patched.json()
    patched_data = patched.json()["data"]
    assert (patched_data["disconnect_grace_minutes"], patched_data["max_warnings"]) == (0, None)


@pytest.mark.parametrize(
    ("field", "value"), [("disconnect_grace_minutes", 61), ("disconnect_grace_minutes", -1), ("max_warnings", 0)]
)
def test_out_of_range_values_get_a_400_naming_the_field(api_client, proctor, field, value):
    response = api_client(proctor).post("/api/exams", exam_body(**{field: value}), format="json")
    assert response.status_code == 400
    assert field in str(response.json())


def test_session_detail_shows_compensation_and_warnings(api_client, proctor, student):
    session = session_start(exam=make_exam(proctor), user=student)
    body = api_client(proctor).get(f"/api/exams/sessions/{session.pk}").json()["data"]
    assert (body["time_compensated_seconds"], body["warnings_count"]) == (0, 0)
