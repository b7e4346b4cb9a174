"""The live dashboard's pages: only proctors get in, and the live page opens /ws/exam/ with its session."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from monitoring.ingest.activity import parse_activity
from monitoring.ingest.services import IngestRequest, events_ingest
from monitoring.models import Alert
from monitoring.proctoring.alerts import alert_resolve
from tests.monitoring.conftest import make_exam


def misbehave(session) -> None:
    """Cross the high-sensitivity threshold (0.5): 11 tab switches, 130 s away, 200 wpm against 40."""
    frames = [{"type": "tab_switch"}] * 11 + [
        {"type": "window_focus", "blur_duration_ms": 130_000},
        {"type": "typing_sample", "wpm": 200},
    ]
    for frame in frames:
        events_ingest([IngestRequest(session.pk, parse_activity({"exam_id": session.exam_id, **frame}))])


@pytest.fixture
def proctor_client(proctor) -> Client:
    client = Client()
    client.force_login(proctor)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/monitor/", "/monitor/exam/1/", "/monitor/exam/1/alerts"])
def test_anonymous_visitors_are_sent_to_the_login_page(path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={path}"


@pytest.mark.django_db
def test_students_are_refused_the_dashboard(student, exam):
    client = Client()
    client.force_login(student)
    assert client.get("/monitor/").status_code == 403
    assert client.get(f"/monitor/exam/{exam.pk}/").status_code == 403
    assert client.get(f"/monitor/exam/{exam.pk}/alerts").status_code == 403


@pytest.mark.django_db
def test_exam_index_lists_every_exam_with_live_and_review_links(proctor_client, proctor, exam):
    other = make_exam(proctor, name="Scheduled later", status="scheduled")
    page = proctor_client.get("/monitor/").content.decode()
    for item in (exam, other):
        assert item.name in page
        assert f'href="/monitor/exam/{item.pk}"' in page
        assert f"?exam__id__exact={item.pk}" in page


@pytest.mark.django_db
def test_live_page_carries_the_exam_config_and_its_open_alerts(proctor_client, session, baseline):
    misbehave(session)
    response = proctor_client.get(f"/monitor/exam/{session.exam_id}/")
    assert response.status_code == 200
    config = response.context["config"]
    assert config["examId"] == session.exam_id and config["wsPath"] == "/ws/exam/"
    assert {a["session_id"] for a in config["alerts"]} == {session.pk}
    assert "risk_threshold" in [a["alert_type"] for a in config["alerts"]]
    page = response.content.decode()
    assert 'id="dashboard-config"' in page
    assert "/static/monitoring/dashboard.js" in page


@pytest.mark.django_db
def test_alerts_endpoint_returns_only_unresolved_alerts(proctor_client, proctor, session, baseline):
    misbehave(session)
    alert = Alert.objects.get(session=session, alert_type="risk_threshold")
    url = f"/monitor/exam/{session.exam_id}/alerts"
    assert alert.pk in [a["alert_id"] for a in proctor_client.get(url).json()["alerts"]]
    alert_resolve(alert_id=alert.pk, by=proctor)
    assert alert.pk not in [a["alert_id"] for a in proctor_client.get(url).json()["alerts"]]


@pytest.mark.django_db
def test_unknown_exam_is_404(proctor_client):
    assert proctor_client.get("/monitor/exam/999999/").status_code == 404


@pytest.mark.django_db(transaction=True)
async def test_the_dashboard_socket_authenticates_with_the_proctors_session_cookie(proctor, exam):
    from exampulse.asgi import application

    client = Client()
    await database_sync_to_async(client.force_login)(proctor)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    headers = [(b"cookie", cookie.encode()), (b"host", b"testserver"), (b"origin", b"http://testserver")]
    communicator = WebsocketCommunicator(application, "/ws/exam/", headers=headers)
    try:
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        hello = await communicator.receive_json_from(timeout=3)
        assert hello["event"] == "connected" and hello["data"]["role"] == "proctor"
        await communicator.send_to(text_data=json.dumps({"event": "join_exam", "data": {"exam_id": exam.pk}}))
        joined = await communicator.receive_json_from(timeout=3)
        students = await communicator.receive_json_from(timeout=3)
        assert joined["event"] == "joined_exam" and joined["data"]["role"] == "proctor"
        assert students == {"event": "active_students", "data": {"exam_id": exam.pk, "students": [], "count": 0}}
    finally:
        await communicator.disconnect()
