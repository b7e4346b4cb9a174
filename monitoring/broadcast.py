"""Group names and bounded channel-layer calls: the transport under monitoring.pushes.

Only monitoring.pushes sends to groups (after the database commit, or from a socket's outbox);
the consumer joins and leaves groups here. Imports only Channels and Django, so every room may use it.

Live delivery is best effort and must never hold up an acknowledgement: sends run on the commit
hook, inside the ingest hop, so a Redis that hangs (not refusing, just silent) would delay every ack
by redis-py's socket timeout (5 s, measured in tests/faults/test_redis_outage.py). Each layer call
is therefore bounded by BROADCAST_TIMEOUT_MS, and after a failure the layer is left alone for
BROADCAST_BACKOFF_MS (a circuit breaker), so an outage costs at most one bounded wait per back-off.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings

logger = logging.getLogger(__name__)

# Joining or leaving a group waits longer than a send: under load a healthy Redis may be slow,
# and a join given up on leaves the socket deaf for its whole life.
GROUP_TIMEOUT_S = 5.0
OUTBOX_SEND_TIMEOUT_S = 5.0


def proctors_group(exam_id: int) -> str:
    """Everyone watching an exam."""
    return f"exam.{exam_id}.proctors"


def student_group(session_id: int) -> str:
    """Every socket of the student taking this session."""
    return f"session.{session_id}.student"


def user_group(user_id: int) -> str:
    """Every socket of one user, on every process: what concerns the person, not one exam (access revoked)."""
    return f"user.{user_id}"


class _Breaker:
    """Skip sends for a while after several in a row failed or timed out (per process).

    One slow call is not an outage: under load the event loop itself can make a healthy Redis
    miss the timeout, and tripping on that would silence live delivery for everyone.
    """

    FAILURES_TO_TRIP = 3

    def __init__(self) -> None:
        self.open_until = 0.0
        self.failures = 0

    def is_open(self) -> bool:
        return time.monotonic() < self.open_until

    def trip(self) -> None:
        self.failures += 1
        if self.failures >= self.FAILURES_TO_TRIP:
            self.open_until = time.monotonic() + settings.EXAMPULSE["BROADCAST_BACKOFF_MS"] / 1000

    def reset(self) -> None:
        self.open_until = 0.0
        self.failures = 0


breaker = _Breaker()


async def _bounded(what: str, call: Awaitable[Any], *, timeout_s: float | None = None, guarded: bool = True) -> bool:
    """Await one layer call within the timeout; True when it completed. Failures are logged, not raised.

    Guarded calls (sends) are skipped while the breaker is open and feed it; unguarded ones
    (joining and leaving groups) are always tried, since a skipped join loses a socket's whole feed.
    """
    if guarded and breaker.is_open():
        call.close()  # type: ignore[attr-defined] - never started; avoids "coroutine was never awaited"
        logger.debug("channel layer backing off; skipped %s", what)
        return False
    try:
        # asyncio.timeout, not wait_for: the same bound without a task per call (one per live push).
        async with asyncio.timeout(timeout_s or settings.EXAMPULSE["BROADCAST_TIMEOUT_MS"] / 1000):
            await call
    except Exception as exc:  # the event is already stored; live delivery is best effort
        if guarded:
            breaker.trip()
        # No traceback: under an outage this fires per message, and formatting stacks costs CPU.
        logger.warning("channel layer %s failed: %s", what, exc.__class__.__name__)
        return False
    if guarded:
        breaker.reset()
    return True


async def agroup_send(group: str, message: dict[str, Any], *, from_outbox: bool = False) -> None:
    """Send to a group within a bounded time; a layer outage is logged, never raised into the caller.

    A socket's outbox (monitoring.live.consumers, through monitoring.pushes.asend) holds up nobody
    while it waits, so its sends get the longer OUTBOX_SEND_TIMEOUT_S and stay outside the breaker:
    under load a busy event loop makes a healthy Redis look slow, and a short timeout would then drop
    live pushes that were on their way.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    if from_outbox:
        await _bounded(
            f"group_send to {group}", layer.group_send(group, message), timeout_s=OUTBOX_SEND_TIMEOUT_S, guarded=False
        )
    else:
        await _bounded(f"group_send to {group}", layer.group_send(group, message))


async def agroup_add(layer, group: str, channel_name: str) -> bool:
    """Join a group within a bounded time; False (logged) when the layer is unreachable."""
    return await _bounded(
        f"group_add {group}", layer.group_add(group, channel_name), timeout_s=GROUP_TIMEOUT_S, guarded=False
    )


async def agroup_discard(layer, group: str, channel_name: str) -> bool:
    """Leave a group within a bounded time; False (logged) when the layer is unreachable."""
    return await _bounded(
        f"group_discard {group}", layer.group_discard(group, channel_name), timeout_s=GROUP_TIMEOUT_S, guarded=False
    )
