"""The bare stack: the same server, channel layer and frame shapes as ExamPulse, with no database.

The load tool runs its traffic against this and against the product in the same run, so every
product figure is reported as a fraction of what the framework itself can do on this machine.
Serve with: daphne benchmarks.bare_asgi:application
"""

from __future__ import annotations

import itertools
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "exampulse.settings")

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

_event_ids = itertools.count(1)


class BareConsumer(AsyncJsonWebsocketConsumer):
    """Acks activity and fans it out to the exam's proctors: ExamPulse's traffic shape, nothing else."""

    async def connect(self) -> None:
        self.role = "proctor" if b"role=proctor" in self.scope.get("query_string", b"") else "student"
        self.exam_id = None
        await self.accept()
        await self.send_json({"event": "connected", "data": {"role": self.role}})

    async def receive_json(self, content, **kwargs) -> None:
        name, data = content.get("event"), content.get("data") or {}
        if name == "join_exam":
            self.exam_id = data.get("exam_id")
            if self.role == "proctor":
                await self.channel_layer.group_add(f"exam.{self.exam_id}.proctors", self.channel_name)
            await self.send_json({"event": "joined_exam", "data": {"exam_id": self.exam_id, "session_id": None}})
        elif name == "suspicious_activity":
            event_id = next(_event_ids)
            await self.send_json(
                {
                    "event": "activity_logged",
                    "data": {"event_id": event_id, "client_event_id": data.get("client_event_id"), "risk_score": 0},
                }
            )
            await self.channel_layer.group_send(
                f"exam.{self.exam_id}.proctors",
                {
                    "type": "bare.push",
                    "frame": {"event": "student_activity", "data": {"event_id": event_id, **data}},
                },
            )
        elif name == "ping":
            await self.send_json({"event": "pong", "data": {}})

    async def bare_push(self, message) -> None:
        await self.send_json(message["frame"])

    async def disconnect(self, code) -> None:
        if self.role == "proctor" and self.exam_id is not None:
            await self.channel_layer.group_discard(f"exam.{self.exam_id}.proctors", self.channel_name)


# HTTP stays the real Django app: the load tool only uses it to wait for /api/health.
application = ProtocolTypeRouter(
    {"http": django_asgi_app, "websocket": URLRouter([re_path(r"^ws/exam/?$", BareConsumer.as_asgi())])}
)
