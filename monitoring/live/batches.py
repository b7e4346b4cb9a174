"""The socket requests that travel to the database in batches (exampulse.platform.db.HopBatcher).

Events, student joins and socket closes are the requests that come in floods: every student
sends events all exam long, and whole exams join at the start and leave at the end. Each kind
has one batcher per process; a socket awaits its own outcome, so its frames stay in order.
"""

from __future__ import annotations

from exampulse.platform.db import HopBatcher
from monitoring.ingest import services
from monitoring.live import usecases as live


def _events_ingest(requests: list[services.IngestRequest]) -> list[services.IngestOutcome]:
    # The consumer sends each event's pushes through its outbox once it has acknowledged the event.
    # (Looked up at call time, so a test can watch the batches.)
    return services.events_ingest(requests)


ingest = HopBatcher(_events_ingest, max_batch="WS_BATCH_MAX", workers="WS_BATCH_WORKERS")
# Joins and closes come in floods and need no instant answer: they linger to share a batch.
join = HopBatcher(live.students_join, max_batch="WS_BATCH_MAX", workers="WS_BATCH_WORKERS", linger="WS_JOIN_LINGER_MS")
close = HopBatcher(live.sockets_close, max_batch="WS_BATCH_MAX", workers="WS_BATCH_WORKERS", linger="WS_JOIN_LINGER_MS")
