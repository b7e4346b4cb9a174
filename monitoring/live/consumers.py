"""The one WebSocket endpoint, /ws/exam/, for students and proctors.

Async, because thousands of sockets share a process. Each handler parses its frame, makes one
`db_hop` (exampulse.platform.db) into a service, and sends one reply; the pushes the service returned
(monitoring.pushes) go to this socket's outbox, which sends them in order after the reply.
Identity and role come from `scope["user"]` only; anything a frame says about who is speaking is
ignored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from exampulse.platform.db import db_hop
from exampulse.platform.errors import DomainError
from exams.exceptions import ExamNotFound
from exams.reviews import reason_check
from monitoring import broadcast, pushes
from monitoring.ingest.activity import parse_activity, require_int
from monitoring.ingest.services import IngestRequest
from monitoring.live import batches
from monitoring.live import usecases as live
from monitoring.live.frames import (
    PROCTOR_EVENTS,
    STUDENT_EVENTS,
    FrameError,
    error_frame,
    frame,
    parse_frame,
    require_text,
)
from monitoring.live.presence import HEARTBEAT_SECONDS, presence_heartbeat, presence_purge_stale
from monitoring.proctoring.hands import MAX_HAND_MESSAGE_LENGTH
from monitoring.pushes import Push

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
# Pushes waiting for the channel layer per socket (a student sends at most a few events a second).
OUTBOX_LIMIT = 1000
MAX_WARNING_LENGTH = 500
MAX_REASON_LENGTH = 1000
MAX_NOTE_LENGTH = 2000


class TokenBucket:
    """Per-connection rate limit: `rate` frames a second with bursts up to `burst`."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.capacity = burst
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class _Heartbeat:
    """One task per process keeps this process's presence rows fresh while it has sockets."""

    def __init__(self) -> None:
        self.sockets = 0
        self.task: asyncio.Task | None = None

    def opened(self) -> None:
        self.sockets += 1
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            self.task = loop.create_task(self._run())

    def closed(self) -> None:
        self.sockets = max(0, self.sockets - 1)
        if self.sockets == 0 and self.task is not None:
            self.task.cancel()
            self.task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await db_hop(presence_heartbeat)()
                await db_hop(presence_purge_stale)()
            except Exception:  # a database blip must not kill the heartbeat
                logger.exception("presence heartbeat failed")


heartbeat = _Heartbeat()


class ExamConsumer(AsyncJsonWebsocketConsumer):
    async def dispatch(self, message: dict) -> None:
        """Channels' dispatch, without its `aclose_old_connections` before every message.

        That call is a hop to asgiref's single thread-sensitive executor for each frame received
        and each group push delivered, so under load every message queued behind the others for a
        thread that touches no database here: this consumer reaches the database only through
        `db_hop`, which closes stale connections around each hop itself.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            # Accepted, then closed with 4401: a browser cannot read the HTTP status of a refused
            # handshake (it sees 1006), but it can read a close code, so the client knows to log in
            # again instead of reconnecting. Nothing is stored, no group joined, no frame sent.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.is_proctor = bool(user.is_proctor)
        self.allowed = PROCTOR_EVENTS if self.is_proctor else STUDENT_EVENTS
        self.exam_id: int | None = None
        self.session_id: int | None = None
        self.watching: set[int] = set()
        # Exams this socket lost while connected (access_revoked), and the groups it left for them.
        self.revoked: set[int] = set()
        self.revoked_groups: set[str] = set()
        limits = settings.EXAMPULSE
        self.max_frame_bytes = limits["WS_MAX_FRAME_BYTES"]
        self.bucket = TokenBucket(limits["WS_RATE_PER_SEC"], limits["WS_RATE_BURST"])
        self.counted = True
        # The user's own group, before any exam is joined: a revocation committed after a join's
        # scoped check always finds the socket listening (monitoring.pushes.access_revoked).
        await broadcast.agroup_add(self.channel_layer, broadcast.user_group(user.pk), self.channel_name)
        await self.accept()
        heartbeat.opened()
        await self.send_json(
            frame(
                "connected",
                user_id=user.pk,
                name=user.name,
                role=user.role,
                server_time=timezone.now().isoformat(),
                message="Connected to ExamPulse.",
            )
        )

    async def disconnect(self, code: int) -> None:
        if not getattr(self, "counted", False):
            return
        heartbeat.closed()
        unsent = self._close_outbox()
        try:
            departures = await batches.close.submit(
                live.CloseRequest(self.channel_name, None if self.is_proctor else self.session_id)
            )
        except Exception:
            logger.exception("cleanup after disconnect failed")
            departures = []
        # The outbox is gone with the socket: what it still held, then the departures, leave
        # directly by the same sender.
        await pushes.asend([*unsent, *departures])
        for group in self._groups():
            await broadcast.agroup_discard(self.channel_layer, group, self.channel_name)

    def _post(self, outgoing: list[Push]) -> None:
        """Queue pushes; one sender task per socket keeps them in order."""
        if not outgoing:
            return
        if getattr(self, "outbox", None) is None:
            self.outbox: asyncio.Queue = asyncio.Queue(maxsize=OUTBOX_LIMIT)
            self.outbox_sending = False
            self.outbox_closing = False
            self.outbox_task = asyncio.get_running_loop().create_task(self._drain_outbox())
        for push in outgoing:
            try:
                self.outbox.put_nowait(push)
            except asyncio.QueueFull:
                # The layer has been unreachable for a long while; live delivery is best effort,
                # the event itself is stored.
                logger.warning("outbox full; dropped a live push to %s", push.group)

    async def _drain_outbox(self) -> None:
        while not self.outbox_closing:
            waiting = [await self.outbox.get()]
            # Whatever queued meanwhile goes with it: consecutive pushes to one group leave as one
            # channel-layer message (monitoring.pushes.asend).
            while not self.outbox.empty():
                waiting.append(self.outbox.get_nowait())
            self.outbox_sending = True
            try:
                await pushes.asend(waiting, from_outbox=True)
            finally:
                self.outbox_sending = False

    def _close_outbox(self) -> list[Push]:
        """Stop the outbox's sender; returns the pushes it had not started on.

        A push already on its way is never interrupted: the sender stops after it (a cancel would
        cut it off mid-send), and is cancelled only while it waits for the next one.
        """
        task = getattr(self, "outbox_task", None)
        if task is None:
            return []
        self.outbox_closing = True
        if not self.outbox_sending:
            task.cancel()
        unsent = []
        while not self.outbox.empty():
            unsent.append(self.outbox.get_nowait())
        return unsent

    def _groups(self) -> list[str]:
        groups = [broadcast.proctors_group(exam_id) for exam_id in self.watching]
        if self.session_id is not None:
            groups.append(broadcast.student_group(self.session_id))
        groups.append(broadcast.user_group(self.user.pk))
        return groups

    # -- frames from the client ------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        name = None
        try:
            if not self.bucket.take():
                raise FrameError("rate_limited", "Too many frames; slow down.")
            parsed = parse_frame(text_data, max_bytes=self.max_frame_bytes)
            name = parsed.name
            if parsed.name not in self.allowed:
                role = "proctors" if parsed.name in PROCTOR_EVENTS else "students"
                raise FrameError("forbidden", f"{parsed.name} is for {role} only.")
            # db_hop closes stale connections around every hop: no extra hop here.
            await getattr(self, f"on_{parsed.name}")(parsed.data)
        except DomainError as exc:
            code = getattr(exc, "code", "invalid")
            extra: dict[str, Any] = {"details": exc.details} if exc.details else {}
            if name:
                extra["event"] = name
            await self.send_json(error_frame(code, exc.message, **extra))
        except Exception:
            # A bug must cost one frame, not the student's connection.
            logger.exception("unhandled error for frame %s", name)
            await self.send_json(error_frame("server_error", "The server could not handle that frame.", event=name))

    async def on_ping(self, data: dict) -> None:
        await self.send_json(frame("pong", server_time=timezone.now().isoformat()))

    async def on_join_exam(self, data: dict) -> None:
        exam_id = require_int(data, "exam_id")
        if self.is_proctor:
            students = await db_hop(live.proctor_join)(exam_id=exam_id, user=self.user, channel_name=self.channel_name)
            self._restore(exam_id, broadcast.proctors_group(exam_id))
            await broadcast.agroup_add(self.channel_layer, broadcast.proctors_group(exam_id), self.channel_name)
            self.watching.add(exam_id)
            await self.send_json(frame("joined_exam", exam_id=exam_id, session_id=None, role="proctor"))
            await self.send_json(frame("active_students", exam_id=exam_id, students=students, count=len(students)))
            return
        if self.exam_id is not None and self.exam_id != exam_id:
            # Switching exams: refuse a target the student may not join before leaving, so one bad
            # frame never drops them out of the exam they are taking. (One extra hop, only on a switch.)
            await db_hop(live.student_may_join)(exam_id=exam_id, user=self.user)
            await self.on_leave_exam({"exam_id": self.exam_id})
        joined = await batches.join.submit(live.JoinRequest(exam_id, self.user, self.channel_name))
        self.exam_id = exam_id
        self._restore(exam_id, broadcast.student_group(joined.session_id) if joined.session_id else None)
        await self._attach_session(joined.session_id)
        await self.send_json(frame("joined_exam", **joined.reply))
        # Through the outbox: a busy channel layer delays the proctors' news, never drops it.
        self._post(joined.pushes)

    async def _attach_session(self, session_id: int | None) -> None:
        if session_id == self.session_id:
            return
        if self.session_id is not None:
            await broadcast.agroup_discard(
                self.channel_layer, broadcast.student_group(self.session_id), self.channel_name
            )
        self.session_id = session_id
        if session_id is not None:
            await broadcast.agroup_add(self.channel_layer, broadcast.student_group(session_id), self.channel_name)

    async def on_leave_exam(self, data: dict) -> None:
        exam_id = require_int(data, "exam_id")
        departures = await db_hop(live.socket_leave)(channel_name=self.channel_name, exam_id=exam_id)
        if self.is_proctor:
            self.watching.discard(exam_id)
            await broadcast.agroup_discard(self.channel_layer, broadcast.proctors_group(exam_id), self.channel_name)
        elif self.exam_id == exam_id:
            await self._attach_session(None)
            self.exam_id = None
        await self.send_json(frame("left_exam", exam_id=exam_id))
        self._post(departures)

    async def on_suspicious_activity(self, data: dict) -> None:
        activity = parse_activity(data)
        if activity.exam_id in self.revoked:
            # Access was taken away while connected: answered like any exam the student cannot see.
            raise ExamNotFound()
        if self.exam_id is None or activity.exam_id != self.exam_id:
            raise FrameError("not_joined", "Join this exam (join_exam) before sending activity.")
        if self.session_id is None:
            session_id = await db_hop(live.student_session)(
                exam_id=self.exam_id, user=self.user, channel_name=self.channel_name
            )
            await self._attach_session(session_id)
        try:
            result = await batches.ingest.submit(IngestRequest(self.session_id, activity))
        except DomainError as exc:
            if getattr(exc, "code", "") == "session_not_active":
                await self._attach_session(None)
            exc.details = {**exc.details, "client_event_id": activity.client_event_id}
            raise
        # The hop returned, so the event is committed: acknowledge, then tell the proctors. The
        # pushes go through this socket's outbox, so a slow channel layer never delays the next frame.
        await self.send_json(frame("activity_logged", **result.ack()))
        self._post(result.pushes)

    async def on_submit_exam(self, data: dict) -> None:
        exam_id = require_int(data, "exam_id")
        answers = data.get("answers", {})
        time_taken = data.get("time_taken")
        reply = await db_hop(live.student_submit)(
            exam_id=exam_id, user=self.user, answers=answers, client_time_taken=time_taken
        )
        await self.send_json(frame("exam_submitted", **reply))

    async def on_get_active_students(self, data: dict) -> None:
        exam_id = require_int(data, "exam_id")
        students = await db_hop(live.exam_active_students)(exam_id=exam_id, user=self.user)
        await self.send_json(frame("active_students", exam_id=exam_id, students=students, count=len(students)))

    async def on_warn_student(self, data: dict) -> None:
        session_id = require_int(data, "session_id")
        message = require_text(data, "message", max_length=MAX_WARNING_LENGTH)
        # Checked before the hop: a bad code costs no database round trip (the service checks again).
        reason_code = reason_check(data.get("reason_code"), required=False)
        _event, outgoing = await db_hop(live.warn)(
            session_id=session_id, by=self.user, message=message, reason_code=reason_code
        )
        await self.send_json(frame("action_ok", action="warn_student", session_id=session_id))
        self._post(outgoing)

    async def on_resolve_alert(self, data: dict) -> None:
        alert_id = require_int(data, "alert_id")
        note = require_text(data, "note", max_length=MAX_NOTE_LENGTH, required=False)
        alert, outgoing = await db_hop(live.resolve)(alert_id=alert_id, by=self.user, note=note)
        await self.send_json(frame("action_ok", action="resolve_alert", alert_id=alert.pk, session_id=alert.session_id))
        self._post(outgoing)

    async def on_terminate_session(self, data: dict) -> None:
        session_id = require_int(data, "session_id")
        reason = require_text(data, "reason", max_length=MAX_REASON_LENGTH)
        reason_code = reason_check(data.get("reason_code"), required=True)
        await db_hop(live.terminate)(session_id=session_id, by=self.user, reason=reason, reason_code=reason_code)
        await self.send_json(frame("action_ok", action="terminate_session", session_id=session_id))

    # -- time control (proctors) -------------------------------------------------------------

    async def on_extend_time(self, data: dict) -> None:
        session_id = require_int(data, "session_id")
        minutes = require_int(data, "minutes")
        reason = require_text(data, "reason", max_length=MAX_REASON_LENGTH)
        session, outgoing = await db_hop(live.extend_time)(
            session_id=session_id, by=self.user, minutes=minutes, reason=reason
        )
        await self.send_json(
            frame(
                "action_ok",
                action="extend_time",
                session_id=session_id,
                minutes=minutes,
                deadline_at=session.deadline_at.isoformat(),
            )
        )
        self._post(outgoing)

    async def on_pause_session(self, data: dict) -> None:
        session_id = require_int(data, "session_id")
        reason = require_text(data, "reason", max_length=MAX_REASON_LENGTH)
        reason_code = reason_check(data.get("reason_code"), required=False)
        _session, outgoing = await db_hop(live.pause_session)(
            session_id=session_id, by=self.user, reason=reason, reason_code=reason_code
        )
        await self.send_json(frame("action_ok", action="pause_session", session_id=session_id))
        self._post(outgoing)

    async def on_resume_session(self, data: dict) -> None:
        session_id = require_int(data, "session_id")
        session, outgoing = await db_hop(live.resume_session)(session_id=session_id, by=self.user)
        await self.send_json(
            frame(
                "action_ok", action="resume_session", session_id=session_id, deadline_at=session.deadline_at.isoformat()
            )
        )
        self._post(outgoing)

    async def on_reset_attempt(self, data: dict) -> None:
        session_id = require_int(data, "session_id")
        reason = require_text(data, "reason", max_length=MAX_REASON_LENGTH)
        _session, outgoing = await db_hop(live.reset_attempt)(session_id=session_id, by=self.user, reason=reason)
        await self.send_json(frame("action_ok", action="reset_attempt", session_id=session_id))
        self._post(outgoing)

    async def on_raise_hand(self, data: dict) -> None:
        exam_id = require_int(data, "exam_id")
        message = require_text(data, "message", max_length=MAX_HAND_MESSAGE_LENGTH, required=False)
        hand, outgoing = await db_hop(live.hand_raise)(exam_id=exam_id, user=self.user, message=message)
        await self.send_json(
            frame("action_ok", action="raise_hand", hand_id=hand.pk, session_id=hand.session_id, exam_id=exam_id)
        )
        self._post(outgoing)

    async def on_answer_hand(self, data: dict) -> None:
        hand_id = require_int(data, "hand_id")
        message = require_text(data, "message", max_length=MAX_HAND_MESSAGE_LENGTH)
        hand, outgoing = await db_hop(live.hand_answer)(hand_id=hand_id, by=self.user, message=message)
        await self.send_json(frame("action_ok", action="answer_hand", hand_id=hand.pk, session_id=hand.session_id))
        self._post(outgoing)

    # -- messages from the channel layer -----------------------------------------------------

    async def monitoring_push(self, message: dict) -> None:
        if self.revoked_groups and message.get("group") in self.revoked_groups:
            return  # queued by a group this socket left when its access was revoked
        await self.send_json(message["frame"])

    async def monitoring_batch(self, message: dict) -> None:
        """Several messages for one group (monitoring.pushes.asend), handled in order as if sent one by one."""
        for item in message["messages"]:
            await self.dispatch({**item, "group": message.get("group")})
            if item["type"] == pushes.CLOSE:
                return  # the socket is closed: nothing after it can reach the client

    async def monitoring_revoke(self, message: dict) -> None:
        """The user may no longer see these exams: for each this socket follows, leave it and say so.

        The socket leaves the exam's group at once (a proctor's exam group, a student's session group),
        drops what that group had already queued for it, and answers its later frames for the exam
        with `exam_not_found`. A later join the server allows again (re-enrolled) lifts it.
        """
        for exam_id in message["exam_ids"]:
            if exam_id in self.watching:
                group: str | None = broadcast.proctors_group(exam_id)
                self.watching.discard(exam_id)
                await broadcast.agroup_discard(self.channel_layer, group, self.channel_name)
            elif exam_id == self.exam_id:
                group = broadcast.student_group(self.session_id) if self.session_id is not None else None
                self.exam_id = None
                await self._attach_session(None)
            else:
                continue
            self.revoked.add(exam_id)
            if group is not None:
                self.revoked_groups.add(group)
            await self.send_json(frame("access_revoked", exam_id=exam_id))
            try:
                departures = await db_hop(live.socket_leave)(channel_name=self.channel_name, exam_id=exam_id)
            except Exception:  # the stream has ended either way; presence ages out with the heartbeat
                logger.exception("presence cleanup after access_revoked failed")
                departures = []
            self._post(departures)

    def _restore(self, exam_id: int, group: str | None) -> None:
        """A join the server allowed again (re-enrolled, back on the staff) lifts the exam's revocation."""
        if self.revoked:
            self.revoked.discard(exam_id)
            self.revoked_groups.discard(group)

    async def monitoring_close(self, message: dict) -> None:
        await self.send_json(message["frame"])
        await self.close(code=message.get("code", 1000))
