"""GET /api/health: the database and the channel layer, each reached for real."""

from __future__ import annotations

import asyncio
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from exampulse.platform.api import error_response, respond

LAYER_TIMEOUT_S = 2.0


def check_database() -> dict:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure is the answer, not a crash
        return {"ok": False, "error": exc.__class__.__name__, "vendor": connection.vendor}
    return {"ok": True, "vendor": connection.vendor, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


async def _layer_round_trip() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel("health.")
    await layer.send(channel, {"type": "health.ping"})
    await layer.receive(channel)


def check_channel_layer() -> dict:
    layer = get_channel_layer()
    backend = f"{layer.__class__.__module__}.{layer.__class__.__name__}"
    started = time.perf_counter()
    try:
        async_to_sync(asyncio.wait_for)(_layer_round_trip(), LAYER_TIMEOUT_S)
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__, "backend": backend}
    return {"ok": True, "backend": backend, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


class HealthApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses={200: None, 503: None})
    def get(self, request):
        database = check_database()
        layer = check_channel_layer()
        report = {"database": database, "channel_layer": layer}
        if not (database["ok"] and layer["ok"]):
            failing = ", ".join(name for name, part in report.items() if not part["ok"])
            return error_response(f"Degraded: {failing} unreachable.", status_code=503, details=report)
        return respond({"status": "ok", **report}, message="Healthy.")
