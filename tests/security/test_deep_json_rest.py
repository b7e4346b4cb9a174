"""Deeply nested JSON bodies are bad input (400 and the error envelope), never a RecursionError 500."""

from __future__ import annotations

import json

import pytest

from exampulse.platform.json_limits import MAX_JSON_DEPTH
from exams.sessions import session_start
from monitoring.models import Event
from tests.monitoring.conftest import make_exam

pytestmark = pytest.mark.django_db

# 200 KB: far past the decoder's recursion limit, well under DATA_UPLOAD_MAX_MEMORY_SIZE.
BRACKETS = "[" * 100_000 + "]" * 100_000


def _nested(depth: int) -> str:
    """A body whose innermost list sits `depth` levels down, wrapped in an object."""
    return '{"x": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


def _post(client, path: str, body: str):
    return client.post(path, data=body, content_type="application/json")


def _assert_envelope_400(response) -> None:
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert set(body) == {"error", "details"}
    assert isinstance(body["error"], str) and body["error"]
    assert body["details"] == {"code": "parse_error"}


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/auth/register", "/api/exams/"])
@pytest.mark.parametrize("body", [BRACKETS, _nested(MAX_JSON_DEPTH + 1), _nested(900)], ids=["100k", "limit+1", "900"])
def test_deep_nesting_is_a_400_envelope(api_client, proctor, path, body):
    # A proctor's token so /api/exams/ gets as far as parsing; the auth routes ignore it.
    _assert_envelope_400(_post(api_client(proctor), path, body))


def test_the_message_names_the_depth_limit(anon_client):
    response = _post(anon_client, "/api/auth/login", BRACKETS)
    assert str(MAX_JSON_DEPTH) in response.json()["error"]


def test_nesting_within_the_limit_still_reaches_validation(anon_client):
    # The limit must not refuse ordinary bodies: this one fails on its fields, not its shape.
    response = _post(anon_client, "/api/auth/login", _nested(MAX_JSON_DEPTH))
    assert response.status_code == 400
    assert response.json()["details"], "expected field errors, i.e. the body was parsed"


@pytest.mark.parametrize("depth", [100_000, MAX_JSON_DEPTH + 1])
def test_event_batch_with_deep_nesting_is_a_400_and_stores_nothing(api_client, student, proctor, depth):
    session = session_start(exam=make_exam(proctor), user=student)
    inner = "[" * depth + "]" * depth
    body = '{"events": [{"type": "copy", "payload": ' + inner + "}]}"
    response = _post(api_client(student), f"/api/exams/sessions/{session.pk}/events", body)
    _assert_envelope_400(response)
    assert not Event.objects.filter(session=session).exists()


def test_event_batch_within_the_limit_still_stores(api_client, student, proctor):
    session = session_start(exam=make_exam(proctor), user=student)
    body = json.dumps({"events": [{"type": "copy", "client_event_id": "ok-1"}]})
    response = _post(api_client(student), f"/api/exams/sessions/{session.pk}/events", body)
    assert response.status_code == 200, response.content[:300]
    assert Event.objects.filter(session=session).count() == 1
