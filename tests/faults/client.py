"""A minimal exam client for fault tests: REST over urllib, the socket over `websockets`, reads over psycopg."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

import psycopg
import websockets

from monitoring.frame_types import check_frame

FRAME_TIMEOUT_S = 10


def rest(base_url: str, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 - loopback test server
        base_url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, {"raw": raw.decode(errors="replace")[:500]}


def login(base_url: str, email: str, password: str) -> str:
    status, body = rest(base_url, "POST", "/api/auth/login", {"email": email, "password": password})
    assert status == 200, body
    return body["token"]


def demo_exam_id(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT id FROM exams WHERE status = 'active' AND NOT is_calibration ORDER BY id").fetchone()
    return row[0]


def stored_ids(database_url: str, session_id: int) -> dict[str, int]:
    """client_event_id -> number of rows with it, for the session."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT client_event_id, count(*) FROM events WHERE session_id = %s AND client_event_id IS NOT NULL "
            "GROUP BY client_event_id",
            (session_id,),
        ).fetchall()
    return dict(rows)


class Socket:
    """One /ws/exam/ connection with frame helpers."""

    def __init__(self, ws) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, ws_url: str, token: str) -> Socket:
        ws = await websockets.connect(f"{ws_url}?token={token}", open_timeout=FRAME_TIMEOUT_S, max_size=2**22)
        socket = cls(ws)
        await socket.expect("connected")
        return socket

    async def send(self, event: str, **data: Any) -> None:
        await self.ws.send(json.dumps({"event": event, "data": data}))

    async def receive(self, timeout: float = FRAME_TIMEOUT_S) -> dict:
        message = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        check_frame(message)
        return message

    async def expect(self, name: str, timeout: float = FRAME_TIMEOUT_S, where=None) -> dict:
        """Frames until one named `name` (matching `where`, if given) arrives; its data."""
        seen = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self.receive(max(0.01, deadline - loop.time()))
            if message["event"] == name and (where is None or where(message["data"])):
                return message["data"]
            seen.append(message["event"])
            if len(seen) > 500:
                raise AssertionError(f"no {name}; saw {seen[-20:]}")

    async def activity(self, exam_id: int, client_event_id: str, type_: str = "tab_switch", **payload) -> None:
        await self.send("suspicious_activity", exam_id=exam_id, type=type_, client_event_id=client_event_id, **payload)

    async def result_for(self, client_event_id: str, timeout: float = FRAME_TIMEOUT_S) -> dict:
        """The ack or the error frame that answers this event (tests send one event at a time)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self.receive(max(0.01, deadline - loop.time()))
            if message["event"] == "error":
                return message
            if message["event"] == "activity_logged" and message["data"].get("client_event_id") == client_event_id:
                return message

    async def close(self) -> None:
        await self.ws.close()
