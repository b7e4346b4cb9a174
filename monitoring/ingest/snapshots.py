"""Each server process's snapshots of the sessions it has just ingested events for.

A student's events arrive on the process that holds the student's socket, batch after batch. After
a batch commits, the process keeps each session it wrote as it wrote it: the row with its exam and
student, the aggregate and score, the scoring context, and the row's `state_version`. The next
batch for that session locks only the row's volatile columns (status, pause, deadline, version) in
one narrow query; when the version still matches, the snapshot stands in for the full row, so no
wide locking read, no join and no JSON decoding happen per batch.

Anything else that changes what scoring or the pushes read bumps `state_version` (another
process's batch, a rescore, an erasure, the exam's rules, the student's name): the snapshot then no
longer matches and the batch reads the row in full, as it would with no snapshot. The student's
baseline and accommodations are not among them: a session keeps those it started with (its
`baseline_snapshot` and `accommodations` columns), so changing them later touches no open session.

A batch takes its snapshots out of the store and puts them back only once it has committed, so a
rolled-back batch leaves no half-applied state behind, and two threads never share one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from exams.models import ExamSession
    from monitoring.ingest.risk import ScoringContext


@dataclass
class SessionSnapshot:
    session: ExamSession  # as last written by this process, exam and user joined
    context: ScoringContext | None  # its scoring context (None when none was built)

    @property
    def version(self) -> int:
        return self.session.state_version


class SnapshotStore:
    """A bounded, thread-safe LRU of session snapshots, keyed by session id."""

    def __init__(self, capacity: int | None = None) -> None:
        self._capacity = capacity
        self._items: OrderedDict[int, SessionSnapshot] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def capacity(self) -> int:
        # Read on use, so tests can override the setting.
        return self._capacity if self._capacity is not None else settings.EXAMPULSE["SESSION_SNAPSHOTS"]

    def take(self, session_ids: set[int]) -> dict[int, SessionSnapshot]:
        """Remove and return the snapshots held for these sessions."""
        with self._lock:
            return {sid: item for sid in session_ids if (item := self._items.pop(sid, None)) is not None}

    def put(self, snapshot: SessionSnapshot) -> None:
        """Keep a committed snapshot (the newest version of a session wins)."""
        capacity = self.capacity
        if capacity <= 0:
            return
        with self._lock:
            held = self._items.get(snapshot.session.pk)
            if held is not None and held.version > snapshot.version:
                return
            self._items[snapshot.session.pk] = snapshot
            self._items.move_to_end(snapshot.session.pk)
            while len(self._items) > capacity:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


store = SnapshotStore()


# -- what else makes a snapshot stale -------------------------------------------------------------

# The exam's and the student's fields that scoring, the acks or the proctors' pushes read from a snapshot.
EXAM_FIELDS_SCORED = frozenset(
    {"allow_tab_switch", "allow_copy_paste", "monitoring_sensitivity", "show_risk_to_student"}
)
USER_FIELDS_SCORED = frozenset({"name"})


def sessions_invalidate(**filters: object) -> int:
    """Bump the version of the open sessions that match `filters`: every process's snapshot of them
    stops matching, and their next batch reads them in full. Returns how many sessions."""
    from django.db.models import F

    from exams.models import ExamSession, SessionStatus

    return ExamSession.objects.filter(status=SessionStatus.IN_PROGRESS, **filters).update(
        state_version=F("state_version") + 1
    )


def _touches(update_fields: object, scored: frozenset[str]) -> bool:
    return update_fields is None or bool(set(update_fields) & scored)  # type: ignore[call-overload]


def connect_receivers() -> None:
    """A changed exam rule or student's name invalidates their open sessions' snapshots."""
    from django.db.models.signals import post_save

    from accounts.models import User
    from exams.models import Exam

    def exam_saved(sender, instance, created=False, update_fields=None, **kwargs) -> None:
        if not created and _touches(update_fields, EXAM_FIELDS_SCORED):
            sessions_invalidate(exam_id=instance.pk)

    def user_saved(sender, instance, created=False, update_fields=None, **kwargs) -> None:
        if not created and _touches(update_fields, USER_FIELDS_SCORED):
            sessions_invalidate(user_id=instance.pk)

    post_save.connect(exam_saved, sender=Exam, dispatch_uid="snapshots.exam_saved", weak=False)
    post_save.connect(user_saved, sender=User, dispatch_uid="snapshots.user_saved", weak=False)
