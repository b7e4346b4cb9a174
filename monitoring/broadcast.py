"""Group names and channel-layer sends, built in one place.

Channel-layer message types are prefixed `monitoring.` and map to consumer methods
(`monitoring.push` -> `monitoring_push`). Every send here happens after the database commit.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from monitoring.frames import frame

logger = logging.getLogger(__name__)

PUSH = "monitoring.push"  # deliver a frame to the client as it is
CLOSE = "monitoring.close"  # deliver a frame, then close the socket with a code


def proctors_group(exam_id: int) -> str:
    """Everyone watching an exam."""
    return f"exam.{exam_id}.proctors"


def student_group(session_id: int) -> str:
    """Every socket of the student taking this session."""
    return f"session.{session_id}.student"


def push_message(event: str, /, **data: Any) -> dict[str, Any]:
    return {"type": PUSH, "frame": frame(event, **data)}


def close_message(event: str, /, *, code: int, **data: Any) -> dict[str, Any]:
    return {"type": CLOSE, "frame": frame(event, **data), "code": code}


async def agroup_send(group: str, message: dict[str, Any]) -> None:
    """Send to a group; a layer outage is logged, never raised into the caller's request."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        await layer.group_send(group, message)
    except Exception:  # the event is already stored; live delivery is best effort
        logger.exception("group_send to %s failed", group)


def group_send(group: str, message: dict[str, Any]) -> None:
    """Synchronous form for services and signal handlers (runs on the commit hook)."""
    async_to_sync(agroup_send)(group, message)
