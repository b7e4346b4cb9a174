"""Who is connected to which exam, shared by every server process through the database.

Each process has a `SERVER_ID` and refreshes `last_seen_at` of all its rows on a heartbeat; rows
whose process died stop being refreshed and drop out of every query after PRESENCE_TTL.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Max, QuerySet
from django.utils import timezone

from exams.models import ExamSession
from monitoring.models import Presence, RaisedHand

SERVER_ID = uuid.uuid4().hex
HEARTBEAT_SECONDS = 20
# Three missed heartbeats and a row counts as gone.
PRESENCE_TTL = timedelta(seconds=HEARTBEAT_SECONDS * 3)


def _fresh(now=None):
    return Presence.objects.filter(last_seen_at__gte=(now or timezone.now()) - PRESENCE_TTL)


@dataclass(frozen=True)
class Arrival:
    """One socket joining an exam."""

    channel_name: str
    user: Any
    exam: Any
    session: Any
    role: str


def presence_join(*, channel_name: str, user, exam, session, role: str) -> bool:
    """Record that this socket joined the exam; True when the user was not already present there."""
    (first,) = presence_join_many([Arrival(channel_name, user, exam, session, role)])
    return first


def presence_join_many(arrivals: Sequence[Arrival], *, now: datetime | None = None) -> list[bool]:
    """Record many joins in two statements; for each, True when its user was not already present
    in that exam (through another socket, or an earlier arrival of this batch)."""
    if not arrivals:
        return []
    now = now or timezone.now()
    present = set(
        _fresh(now)
        .filter(user_id__in={a.user.pk for a in arrivals}, exam_id__in={a.exam.pk for a in arrivals})
        .exclude(channel_name__in=[a.channel_name for a in arrivals])
        .values_list("user_id", "exam_id")
    )
    # One upsert (INSERT ... ON CONFLICT): a socket that joins again just takes over its row.
    Presence.objects.bulk_create(
        [
            Presence(
                channel_name=a.channel_name,
                server_id=SERVER_ID,
                user=a.user,
                exam=a.exam,
                session=a.session,
                role=a.role,
                connected_at=now,
                last_seen_at=now,
            )
            for a in {a.channel_name: a for a in arrivals}.values()
        ],
        update_conflicts=True,
        unique_fields=["channel_name"],
        update_fields=["server_id", "user", "exam", "session", "role", "connected_at", "last_seen_at"],
    )
    firsts = []
    for arrival in arrivals:
        key = (arrival.user.pk, arrival.exam.pk)
        firsts.append(key not in present)
        present.add(key)
    return firsts


def presence_set_session(*, channel_name: str, session_id: int) -> None:
    """Attach the session a student started after joining."""
    Presence.objects.filter(channel_name=channel_name).update(session_id=session_id)


def presence_leave(*, channel_name: str) -> list[tuple[int, int, str, bool]]:
    """Forget this socket; returns (exam_id, user_id, role, user_left_entirely) for each row removed."""
    return presence_leave_many([channel_name])[channel_name]


def presence_leave_many(channel_names: Sequence[str]) -> dict[str, list[tuple[int, int, str, bool]]]:
    """Forget these sockets; for each, (exam_id, user_id, role, user_left_entirely) per row removed."""
    sockets = Presence.objects.filter(channel_name__in=channel_names)
    rows = list(sockets.values_list("channel_name", "exam_id", "user_id", "role"))
    left: dict[str, list[tuple[int, int, str, bool]]] = {name: [] for name in channel_names}
    if not rows:
        return left
    sockets.delete()
    remaining = set(
        _fresh()
        .filter(exam_id__in={row[1] for row in rows}, user_id__in={row[2] for row in rows})
        .values_list("exam_id", "user_id")
    )
    for channel_name, exam_id, user_id, role in rows:
        left[channel_name].append((exam_id, user_id, role, (exam_id, user_id) not in remaining))
    return left


def presence_heartbeat(*, server_id: str = SERVER_ID) -> int:
    """Mark every row of this process as alive; returns how many."""
    return Presence.objects.filter(server_id=server_id).update(last_seen_at=timezone.now())


def presence_purge_stale() -> int:
    """Delete rows whose process stopped refreshing them."""
    deleted, _ = Presence.objects.filter(last_seen_at__lt=timezone.now() - PRESENCE_TTL).delete()
    return deleted


def active_students(*, exam_id: int) -> list[dict]:
    """The students connected to the exam right now, highest live risk first: the dashboard's rows."""
    students = _student_rows(_fresh().filter(exam_id=exam_id, role="student"))
    students.sort(key=lambda s: (-s["risk_score"], s["name"]))
    return students


def _student_rows(present: QuerySet[Presence]) -> list[dict]:
    """One row per (exam, student) of these presence rows, with their session's live state."""
    rows = present.values("exam_id", "user_id", "user__name", "user__email", "user__roll_number").annotate(
        connections=Count("id"), session_id=Max("session_id"), since=Max("connected_at")
    )
    session_ids = [row["session_id"] for row in rows if row["session_id"]]
    sessions = {s["id"]: s for s in ExamSession.objects.filter(id__in=session_ids).values("id", *ROW_SESSION_FIELDS)}
    hands = open_hands(session_ids=session_ids)
    return [
        _student_row(
            exam_id=row["exam_id"],
            user_id=row["user_id"],
            name=row["user__name"],
            email=row["user__email"],
            roll_number=row["user__roll_number"],
            session_id=row["session_id"],
            session=sessions.get(row["session_id"]) or {},
            hand=hands.get(row["session_id"]),
            connections=row["connections"],
            connected_since=row["since"],
        )
        for row in rows
    ]


# The session's columns a dashboard row shows.
ROW_SESSION_FIELDS = (
    "status",
    "risk_score",
    "risk_level",
    "integrity_score",
    "flagged_incidents_count",
    "started_at",
    "deadline_at",
    "paused_at",
    "extended_seconds",
    "time_compensated_seconds",
    "warnings_count",
    "exam__max_warnings",
)


def arrival_rows(arrivals: Sequence[Arrival], *, connected_since: datetime) -> dict[tuple[int, int], dict]:
    """The dashboard rows of students whose sockets have just joined, from what the join batch holds.

    The same row `active_students` shows (one builder), with one query for open hands instead of
    reading presence and sessions again: the join batch has just written the one and read the other.
    `connections` counts the batch's own sockets: these students had no other socket in the exam.
    """
    sockets: dict[tuple[int, int], set[str]] = {}
    for arrival in arrivals:
        sockets.setdefault((arrival.exam.pk, arrival.user.pk), set()).add(arrival.channel_name)
    hands = open_hands(session_ids=[a.session.pk for a in arrivals if a.session is not None])
    rows = {}
    for arrival in arrivals:
        key = (arrival.exam.pk, arrival.user.pk)
        if key in rows:
            continue
        session = arrival.session
        values = {}
        if session is not None:
            values = {name: getattr(session, name) for name in ROW_SESSION_FIELDS if "__" not in name}
            values["exam__max_warnings"] = arrival.exam.max_warnings
        rows[key] = _student_row(
            exam_id=arrival.exam.pk,
            user_id=arrival.user.pk,
            name=arrival.user.name,
            email=arrival.user.email,
            roll_number=arrival.user.roll_number,
            session_id=session.pk if session is not None else None,
            session=values,
            hand=hands.get(session.pk) if session is not None else None,
            connections=len(sockets[key]),
            connected_since=connected_since,
        )
    return rows


def _student_row(
    *,
    exam_id: int,
    user_id: int,
    name: str,
    email: str,
    roll_number: str,
    session_id: int | None,
    session: dict[str, Any],
    hand: dict | None,
    connections: int,
    connected_since: datetime,
) -> dict:
    return {
        "exam_id": exam_id,
        "user_id": user_id,
        "name": name,
        "email": email,
        "roll_number": roll_number,
        "session_id": session_id,
        "status": session.get("status"),
        "risk_score": session.get("risk_score", 0.0),
        "risk_level": session.get("risk_level", "low"),
        "integrity_score": session.get("integrity_score", 100),
        "flagged_incidents_count": session.get("flagged_incidents_count", 0),
        "started_at": session["started_at"].isoformat() if session.get("started_at") else None,
        "deadline_at": session["deadline_at"].isoformat() if session.get("deadline_at") else None,
        # A reloaded dashboard shows Resume for a paused session.
        "paused": session.get("paused_at") is not None,
        "extended_seconds": session.get("extended_seconds", 0),
        "time_compensated_seconds": session.get("time_compensated_seconds", 0),
        "warnings_count": session.get("warnings_count", 0),
        "max_warnings": session.get("exam__max_warnings"),
        "hand": hand,
        "connections": connections,
        "connected_since": connected_since.isoformat(),
    }


def open_hands(*, session_ids: Sequence[int]) -> dict[int, dict]:
    """The open raised hand of each of these sessions (one query), as `{hand_id, message, raised_at}`."""
    if not session_ids:
        return {}
    rows = (
        RaisedHand.objects.filter(session_id__in=session_ids, answered_at__isnull=True)
        .order_by("raised_at", "id")
        .values("id", "session_id", "message", "raised_at")
    )
    return {
        row["session_id"]: {"hand_id": row["id"], "message": row["message"], "raised_at": row["raised_at"].isoformat()}
        for row in rows
    }
