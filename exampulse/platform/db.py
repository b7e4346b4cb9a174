"""The sockets' one way into synchronous Django code, one request at a time or in batches.

Channels' `database_sync_to_async` runs every hop of every socket on a single thread, so one
database round trip waits for the previous one. `db_hop` runs hops on a small dedicated pool
(settings.EXAMPULSE["WS_DB_THREADS"]): PostgreSQL overlaps their round trips, while SQLite keeps
one thread. A socket still makes one hop at a time, so its own frames stay in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from channels.db import DatabaseSyncToAsync
from django.conf import settings
from django.db import connections

_executor: ThreadPoolExecutor | None = None
_executor_workers = 0


def _pool() -> ThreadPoolExecutor:
    global _executor, _executor_workers
    if _executor is None:
        _executor_workers = settings.EXAMPULSE["WS_DB_THREADS"]
        _executor = ThreadPoolExecutor(max_workers=_executor_workers, thread_name_prefix="exampulse-db")
    return _executor


def close_hop_threads(timeout: float = 10) -> None:
    """Close the database connections the hop threads hold, then stop the threads.

    A hop closes its connection afterwards only through Channels' `close_old_connections`, which
    Channels' test communicators replace with a no-op while they run the application: under test
    each worker thread keeps one connection checked out of the pool. Closing the psycopg pool does
    not close checked-out connections, so they would outlive the pool and keep the test database
    from being dropped. Call this before closing the pool (end of a test session, or a shutdown).
    A later hop starts a new executor.
    """
    global _executor
    executor, _executor = _executor, None
    if executor is None:
        return
    workers = _executor_workers
    # One task per worker, each waiting for the others: every thread (started now if need be)
    # runs exactly one of them, so every thread closes its own connections.
    barrier = threading.Barrier(workers)

    def close_own() -> None:
        # A thread stuck in a hop breaks the barrier: the others close what they hold anyway.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=timeout)
        connections.close_all()

    for future in [executor.submit(close_own) for _ in range(workers)]:
        future.result(timeout=timeout * 2)
    executor.shutdown(wait=True)


def db_hop(func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a sync function for awaiting; stale connections are closed around each call."""
    return DatabaseSyncToAsync(func, thread_sensitive=False, executor=_pool())


class HopBatcher:
    """Many sockets' requests of one kind, carried into the database together.

    `handle_many(requests)` is a synchronous function that returns one outcome per request, in
    order: a result, or the exception that request failed with. A caller awaits only its own
    outcome, so each socket's frames stay in order; meanwhile other sockets' requests queue, and a
    worker coming back from the database takes all of them (up to `max_batch`) in its next hop.
    At low load a batch holds one request and nothing waits; under load the queries and hops per
    request fall with the batch size instead of the queue growing.

    `linger` (a setting in milliseconds) is for requests that come in floods but need no instant
    answer (joins, handshakes, closes): while they arrive closer together than the linger, a worker
    waits until the oldest pending one is that old (or the batch is full) before it goes. A join
    batch's queries cost the same for one socket as for ten, so at an exam's start (a hundred
    joins a second) this trades a few tens of milliseconds of join time for a fraction of the CPU.
    A request that arrives alone goes at once.
    """

    def __init__(
        self, handle_many: Callable[[list], list], *, max_batch: str, workers: str, linger: str | None = None
    ) -> None:
        # Setting names, read on first use in each event loop (tests override settings).
        self.handle_many = handle_many
        self.max_batch_setting = max_batch
        self.workers_setting = workers
        self.linger_setting = linger
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopBatches] = weakref.WeakKeyDictionary()

    async def submit(self, request: Any) -> Any:
        """The request's outcome; raises the exception it failed with."""
        loop = asyncio.get_running_loop()
        batches = self._loops.get(loop)
        if batches is None:
            linger_ms = settings.EXAMPULSE[self.linger_setting] if self.linger_setting else 0
            batches = _LoopBatches(
                max_batch=settings.EXAMPULSE[self.max_batch_setting],
                workers=settings.EXAMPULSE[self.workers_setting],
                linger=linger_ms / 1000,
            )
            self._loops[loop] = batches
        future = loop.create_future()
        now = loop.time()
        # A flood: this request came within the linger of the previous one.
        batches.flooding = batches.linger > 0 and now - batches.last_arrival < batches.linger
        batches.last_arrival = now
        batches.pending.append((request, future, now))
        if batches.running < batches.workers:
            batches.running += 1
            task = loop.create_task(self._work(batches))
            batches.tasks.add(task)  # held until done: the loop keeps only weak references
            task.add_done_callback(batches.tasks.discard)
        return await future

    async def _work(self, batches: _LoopBatches) -> None:
        try:
            while batches.pending:
                await self._linger(batches)
                batch = batches.pending[: batches.max_batch]
                del batches.pending[: batches.max_batch]
                try:
                    outcomes = await db_hop(self.handle_many)([request for request, _, _ in batch])
                except Exception as exc:  # the whole hop failed: every caller hears why
                    outcomes = [exc] * len(batch)
                for (_request, future, _arrived), outcome in zip(batch, outcomes, strict=True):
                    if future.done():  # the caller went away (socket closed) while in flight
                        continue
                    if isinstance(outcome, Exception):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
        finally:
            batches.running -= 1

    @staticmethod
    async def _linger(batches: _LoopBatches) -> None:
        """In a flood, let the batch fill until its oldest request is `linger` old (or it is full)."""
        loop = asyncio.get_running_loop()
        while batches.flooding and batches.pending and len(batches.pending) < batches.max_batch:
            wait = batches.pending[0][2] + batches.linger - loop.time()
            if wait <= 0:
                return
            await asyncio.sleep(wait)


class _LoopBatches:
    def __init__(self, *, max_batch: int, workers: int, linger: float = 0.0) -> None:
        self.max_batch = max_batch
        self.workers = workers
        self.linger = linger
        self.flooding = False
        self.last_arrival = float("-inf")
        self.running = 0
        self.tasks: set[asyncio.Task] = set()
        self.pending: list[tuple[Any, asyncio.Future, float]] = []
