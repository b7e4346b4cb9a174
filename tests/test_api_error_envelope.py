"""Every error under /api/ is `{"error", "details"}` JSON, with DEBUG on (`make run`) and off."""

from __future__ import annotations

import pytest
from django.test import Client

from exampulse.platform.health import HealthApi

pytestmark = pytest.mark.django_db

DEBUG_MODES = pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])


@pytest.fixture
def client_for(settings):
    """`client_for(debug)` sets DEBUG and returns a client that gets 500s as responses, not raises."""

    def make(debug: bool) -> Client:
        settings.DEBUG = debug
        return Client(raise_request_exception=False)

    return make


def assert_envelope(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response.content[:300]
    body = response.json()
    assert set(body) == {"error", "details"}
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["details"], dict)
    return body


@DEBUG_MODES
@pytest.mark.parametrize(
    "path", ["/api/definitely-not-a-route/", "/api/definitely-not-a-route", "/api/exams/999999/nope", "/api"]
)
def test_unknown_api_route_is_a_json_404(client_for, debug, path):
    assert assert_envelope(client_for(debug).get(path), 404)["details"] == {"code": "not_found"}


@DEBUG_MODES
def test_oversized_body_is_a_json_413(client_for, settings, debug):
    client = client_for(debug)
    body = b'{"email": "' + b"a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + b'"}'
    response = client.post("/api/auth/login", data=body, content_type="application/json")
    assert assert_envelope(response, 413)["details"] == {"max_bytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}


@DEBUG_MODES
def test_a_body_at_the_limit_is_not_refused_for_its_size(client_for, settings, debug):
    client = client_for(debug)
    padding = settings.DATA_UPLOAD_MAX_MEMORY_SIZE - len(b'{"email": ""}')
    response = client.post(
        "/api/auth/login", data=b'{"email": "' + b"a" * padding + b'"}', content_type="application/json"
    )
    assert assert_envelope(response, 400)["details"], "expected field errors: the body was parsed"


@DEBUG_MODES
@pytest.mark.parametrize(("method", "path"), [("delete", "/api/health"), ("get", "/api/auth/login")])
def test_wrong_method_is_a_json_405_with_allow(client_for, debug, method, path):
    response = getattr(client_for(debug), method)(path)
    assert_envelope(response, 405)
    assert response.has_header("Allow")


@DEBUG_MODES
def test_an_unhandled_exception_is_a_json_500(client_for, monkeypatch, debug, caplog):
    def boom(self, request):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(HealthApi, "get", boom)
    response = client_for(debug).get("/api/health")
    body = assert_envelope(response, 500)
    assert "kaboom" not in body["error"], "no internals in the answer"
    # Django still logged it: the envelope changes the body, not the bookkeeping.
    assert any("kaboom" in str(record.exc_info[1]) for record in caplog.records if record.exc_info)


@DEBUG_MODES
def test_a_django_level_400_is_json(client_for, debug):
    # DisallowedHost is a SuspiciousOperation answered by Django before any view: HTML 400 today.
    response = client_for(debug).get("/api/health", HTTP_HOST="evil.example")
    assert_envelope(response, 400)


@DEBUG_MODES
def test_pages_outside_the_api_keep_django_answers(client_for, debug):
    response = client_for(debug).get("/definitely-not-a-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")
