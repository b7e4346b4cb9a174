"""The sockets' one way into synchronous Django code.

Channels' `database_sync_to_async` runs every hop of every socket on a single thread, so one
database round trip waits for the previous one. `db_hop` runs hops on a small dedicated pool
(settings.EXAMPULSE["WS_DB_THREADS"]): PostgreSQL overlaps their round trips, while SQLite keeps
one thread. A socket still makes one hop at a time, so its own frames stay in order.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from channels.db import DatabaseSyncToAsync
from django.conf import settings

_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(
            max_workers=settings.EXAMPULSE["WS_DB_THREADS"], thread_name_prefix="exampulse-db"
        )
    return _executor


def db_hop(func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a sync function for awaiting; stale connections are closed around each call."""
    return DatabaseSyncToAsync(func, thread_sensitive=False, executor=_pool())
