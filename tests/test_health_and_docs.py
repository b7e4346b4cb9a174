"""Health reaches the database and channel layer for real; the schema and docs are served."""

from __future__ import annotations

import os
import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_health_reports_database_and_channel_layer(anon_client, settings):
    response = anon_client.get("/api/health")
    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert data["status"] == "ok"
    assert data["database"]["ok"] is True
    assert data["channel_layer"]["ok"] is True
    expected_vendor = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    assert data["database"]["vendor"] == expected_vendor
    expected_layer = "RedisPubSubChannelLayer" if settings.REDIS_URL else "InMemoryChannelLayer"
    assert data["channel_layer"]["backend"].endswith(expected_layer)


def test_health_reports_a_dead_channel_layer_as_503(anon_client, settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            # Port 1 on loopback: nothing listens, so the connection is refused at once.
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    try:
        response = anon_client.get("/api/health/")
    finally:
        channel_layers.backends.clear()
    assert response.status_code == 503
    body = response.json()
    assert "channel_layer" in body["error"]
    assert body["details"]["channel_layer"]["ok"] is False
    assert body["details"]["database"]["ok"] is True


def test_openapi_schema_and_docs_are_served(anon_client):
    schema = anon_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/auth/login" in schema.content.decode()
    docs = anon_client.get("/api/docs/")
    assert docs.status_code == 200


def test_the_docs_page_and_its_script_reference_no_external_host(anon_client):
    page = anon_client.get("/api/docs/")
    script = anon_client.get("/api/docs/?script=")
    assert page.status_code == 200 and script.status_code == 200
    html, js = page.content.decode(), script.content.decode()
    # No CDN (drf-spectacular's default is jsdelivr with @latest), no online validator badge.
    for text in (html, js):
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I), text[:3000]
    assert '"validatorUrl": null' in js
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(url.startswith("/") and not url.startswith("//") for url in assets), assets
    statics = [url.removeprefix("/static/") for url in assets if url.startswith("/static/")]
    assert len(statics) >= 4 and all(finders.find(path) for path in statics), statics
    assert "<style" not in html and "<script>" not in html  # no inline code: the CSP allows none


def test_unknown_api_route_is_a_404(anon_client):
    assert anon_client.get("/api/nope").status_code == 404
