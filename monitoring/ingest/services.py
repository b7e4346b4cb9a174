"""Storing events and what follows from them: the scored risk and the alerts it raises.

The socket consumer and the REST batch endpoint both call `events_ingest`; an event is
acknowledged only after this function's transaction has committed. Each service returns the live
pushes its change implies (monitoring.pushes) and sends none: synchronous callers hand them to
`pushes.send_after_commit`, the socket consumer to its outbox, so nobody hears about a rolled-back row.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from exampulse.platform.errors import DomainError
from exams import sessions as exam_sessions
from exams.exceptions import SessionNotActive, SessionPaused
from exams.models import ExamSession
from monitoring import pushes as live_pushes
from monitoring import signals
from monitoring.ingest import rows
from monitoring.ingest.activity import Activity
from monitoring.ingest.risk import (
    INCIDENT_SEVERITIES,
    THRESHOLD_ALERT,
    ScoringContext,
    ScoringState,
    SessionScore,
    event_score,
    level_for,
    scoring_context_for,
    scoring_state_for,
)
from monitoring.ingest.snapshots import SessionSnapshot
from monitoring.ingest.snapshots import store as snapshot_store
from monitoring.models import Alert, Event
from monitoring.pushes import Push

logger = logging.getLogger(__name__)
# What the batch's lock reads of each session row: what may change without a version bump.
SESSION_VOLATILE = ("pk", "state_version", "status", "paused_at", "deadline_at")
INGEST_DEFERRED_FIELDS = (
    "answers",
    "grading",
    "review_note",
    "termination_reason",
    "exam__questions",
    "exam__description",
    "exam__instructions",
)


@dataclass(frozen=True)
class IngestResult:
    event: Event
    duplicate: bool
    risk_score: float
    risk_level: str
    alerts: tuple[Alert, ...] = ()
    # What to tell the live side once the transaction has committed (the caller sends them).
    pushes: list[Push] = field(default_factory=list)
    # The exam's show_risk_to_student: whether the student's ack may carry the risk after the event.
    show_risk: bool = False

    def ack(self) -> dict:
        """The `activity_logged` payload for this event, as the student receives it (socket and REST).

        The seed's fields and `duplicate` (a delivery fact the REST reply states too); the risk only
        where the exam shows it to students, since a live score tells a cheater how well a trick works.
        """
        ack = {
            "event_id": self.event.pk,
            "event_type": self.event.event_type,
            "severity": self.event.severity,
            "client_event_id": self.event.client_event_id,
            "duplicate": self.duplicate,
        }
        if self.show_risk:
            ack["risk_score"] = self.risk_score
            ack["risk_level"] = self.risk_level
        return ack


@dataclass(frozen=True)
class IngestRequest:
    """One event for `events_ingest` and the session it belongs to."""

    session_id: int
    activity: Activity


# What `events_ingest` returns for each request: the stored (or already stored) event, or why not.
IngestOutcome = IngestResult | Exception


@dataclass
class _SessionTally:
    """A locked session while a batch folds its events: the state its one UPDATE will write."""

    session: ExamSession
    state: ScoringState
    # The session's scoring context: its snapshot's, else built by its first event in this batch.
    context: ScoringContext | None = None
    # The last score of this batch (None until an event of the batch was scored).
    scored: SessionScore | None = None
    incidents: int = 0
    last_event_at: datetime | None = None
    risk_score: float = 0.0
    risk_level: str = ""


class _Replay(Exception):
    """This attempt computed from stale state: roll it back and run the batch again.

    `check_stored`: an event was a repeat of one stored earlier (a client's retry), so the replay
    runs the duplicate query; otherwise a snapshot was stale and the replay reads the rows.
    """

    def __init__(self, *, check_stored: bool) -> None:
        super().__init__()
        self.check_stored = check_stored


def events_ingest(requests: Sequence[IngestRequest], *, at: datetime | None = None) -> list[IngestOutcome]:
    """Store a batch of events in one transaction, each exactly once; one outcome per request, in order.

    The socket layer gathers whatever events arrive while the previous batch is in the database,
    so under load a handful of statements carry many events. Each event is still acknowledged only
    after this transaction commits. A request that cannot be stored (closed session, bad state)
    gets its own error and costs the others nothing; a database error fails the whole batch and
    nothing of it is stored, so the clients' retries (same `client_event_id`) are safe.

    A repeated `client_event_id` returns the stored event again and changes nothing. The live
    pushes are in each result's `pushes` (its activity, then the alerts it raised); the caller sends
    them (`pushes.send_after_commit`, or the consumer's outbox so the database thread never waits
    on the layer).

    A batch whose sessions all have current-looking snapshots (monitoring.ingest.snapshots) is
    computed from them with no read at all: its guarded UPDATEs prove them current as they take the
    row locks, and its INSERT skips a stored `client_event_id`. Otherwise the rows are locked and
    read first. An attempt that finds a stale snapshot or a repeated event rolls back and the batch
    runs again on locked rows (with the duplicate query after a repeat).
    """
    at = at or timezone.now()
    snapshots = snapshot_store.take({request.session_id for request in requests})
    check_stored = False
    for _attempt in range(3):
        try:
            return _ingest(requests, at=at, snapshots=snapshots, check_stored=check_stored)
        except _Replay as replay:
            # Rare: another writer moved a session on, or a client resent an event after a lost ack.
            snapshots = {}
            check_stored = check_stored or replay.check_stored
    raise RuntimeError("an event batch was replayed three times")  # unreachable: the last attempt never replays


def _current_looking(
    requests: Sequence[IngestRequest], snapshots: dict[int, SessionSnapshot], session_ids: list[int], at: datetime
) -> dict[int, ExamSession] | None:
    """The snapshots' sessions when the whole batch can run on them unread, else None.

    Every session needs a snapshot that is open, unpaused and not due, as far as the snapshot
    knows (the guarded UPDATE checks the row itself); server-recorded (technical) events take the
    locking path, since a paused session still records them.
    """
    if not snapshots or any(request.activity.is_technical for request in requests):
        return None
    sessions = {}
    for session_id in session_ids:
        snapshot = snapshots.get(session_id)
        if snapshot is None:
            return None
        session = snapshot.session
        if not session.is_open or session.paused_at is not None or at > session.deadline_at + exam_sessions.GRACE:
            return None
        sessions[session_id] = session
    return sessions


@transaction.atomic
def _ingest(
    requests: Sequence[IngestRequest], *, at: datetime, snapshots: dict[int, SessionSnapshot], check_stored: bool
) -> list[IngestOutcome]:
    session_ids = sorted({request.session_id for request in requests})
    unread = None if check_stored else _current_looking(requests, snapshots, session_ids, at)
    sessions = unread if unread is not None else _sessions_lock(session_ids, snapshots=snapshots)
    stored = _stored_events(requests) if check_stored else {}
    # The scoring contexts of the sessions that run on a current snapshot.
    contexts = {sid: snap.context for sid, snap in snapshots.items() if sessions.get(sid) is snap.session}
    tallies: dict[int, _SessionTally] = {}
    outcomes: list[IngestOutcome | None] = [None] * len(requests)
    new_events: list[Event] = []
    for index, request in enumerate(requests):
        try:
            outcomes[index] = _ingest_one(
                request, at=at, sessions=sessions, stored=stored, tallies=tallies, contexts=contexts
            )
        except DatabaseError:
            raise  # the transaction is broken: the whole batch fails and nothing of it is stored
        except DomainError as exc:
            outcomes[index] = exc
            continue
        except Exception as exc:
            # A bug must cost this one event, not the rest of the batch.
            logger.exception("could not ingest a %s event", request.activity.event_type)
            outcomes[index] = exc
            continue
        if not outcomes[index].duplicate:
            new_events.append(outcomes[index].event)
    raised = [
        (alert, sessions[outcome.event.session_id])
        for outcome in outcomes
        if isinstance(outcome, IngestResult)
        for alert in outcome.alerts
    ]
    if raised:
        # One INSERT for the batch's alerts (ids come back on PostgreSQL and SQLite >= 3.35).
        Alert.objects.bulk_create([alert for alert, _session in raised])
    _alerts_announce(raised)
    _batch_write(tallies.values(), new_events, at=at, guarded=unread is not None)
    for outcome in outcomes:
        # Proctors see the activity first, then the alerts it caused. A duplicate pushes nothing.
        if isinstance(outcome, IngestResult) and not outcome.duplicate:
            session = sessions[outcome.event.session_id]
            outcome.pushes.append(live_pushes.student_activity(session, outcome.event, outcome))
            outcome.pushes.extend(live_pushes.high_risk_alert(alert, session) for alert in outcome.alerts)
    kept = [
        SessionSnapshot(session=tally.session, context=tally.context)
        for tally in tallies.values()
        if tally.session.is_open
    ]
    transaction.on_commit(lambda: [snapshot_store.put(snapshot) for snapshot in kept])
    return outcomes


def sessions_warm(sessions: Sequence[ExamSession]) -> None:
    """Keep snapshots of sessions a socket has just joined, so their first event reads no row.

    `sessions` are open sessions read with their exam and student (a join batch reads them anyway);
    each carries the baseline snapshot taken at its start, so each scoring context (the student's
    detector, rebuilt from the snapshot's fit) is built here with no query. A row changed since it
    was read does not match its snapshot's version and is then read in full: this can only save work.
    """
    if not sessions or settings.EXAMPULSE["SESSION_SNAPSHOTS"] <= 0:
        return
    kept = []
    for session in sessions:
        if session.is_open:
            kept.append(SessionSnapshot(session=session, context=scoring_context_for(session)))
    transaction.on_commit(lambda: [snapshot_store.put(snapshot) for snapshot in kept])


def _sessions_lock(session_ids: list[int], *, snapshots: dict[int, SessionSnapshot]) -> dict[int, ExamSession]:
    """Lock the batch's session rows and return them: a current snapshot, or the row read in full.

    Row locks, taken in id order so two batches that share sessions queue rather than deadlock,
    serialise each session's events: the folded aggregates never lose an update and a retried
    client_event_id is always seen. The lock reads only the columns that change without a version
    bump (status, pause, deadline); a snapshot whose version matches takes them and stands in for
    the row. The other rows are read in full, with the exam and the student (the baseline the
    session is scored against is its own `baseline_snapshot` column).
    """
    locked = ExamSession.objects.select_for_update().filter(pk__in=session_ids).order_by("pk")
    current = {row[0]: row[1:] for row in locked.values_list(*SESSION_VOLATILE)}
    sessions: dict[int, ExamSession] = {}
    for session_id, snapshot in snapshots.items():
        state = current.get(session_id)
        if state is not None and state[0] == snapshot.version:
            session = snapshot.session
            for name, value in zip(SESSION_VOLATILE[2:], state[1:], strict=True):
                setattr(session, name, value)
            sessions[session_id] = session
    cold = [session_id for session_id in current if session_id not in sessions]
    if cold:
        sessions.update(
            (session.pk, session)
            # Already locked above: a plain read. The baseline the session scores against is its
            # own snapshot (taken at its start), so no baseline join: a later write cannot move it.
            for session in ExamSession.objects.select_related("exam", "user")
            # Large fields ingestion never reads (an exam's questions, a session's answers) stay behind.
            .defer(*INGEST_DEFERRED_FIELDS)
            .filter(pk__in=cold)
        )
    return sessions


def _tally_for(session: ExamSession, *, context: ScoringContext | None = None) -> _SessionTally:
    return _SessionTally(
        session=session,
        state=scoring_state_for(session),
        context=context,
        risk_score=session.risk_score,
        risk_level=session.risk_level,
    )


def _stored_events(requests: Sequence[IngestRequest]) -> dict[tuple[int, str], Event]:
    """The batch's client_event_ids that are already stored (one query), by (session id, key)."""
    keys = {(r.session_id, r.activity.client_event_id) for r in requests if r.activity.client_event_id}
    if not keys:
        return {}
    found = Event.objects.filter(
        session_id__in={session_id for session_id, _ in keys}, client_event_id__in={key for _, key in keys}
    )
    return {(event.session_id, event.client_event_id): event for event in found}


def _ingest_one(
    request: IngestRequest,
    *,
    at: datetime,
    sessions: dict[int, ExamSession],
    stored: dict[tuple[int, str], Event],
    tallies: dict[int, _SessionTally],
    contexts: dict[int, ScoringContext | None],
) -> IngestResult:
    """Fold one event into its locked session's tally; the event row is inserted with the batch."""
    activity = request.activity
    session = sessions.get(request.session_id)
    if session is None:
        raise SessionNotActive("This exam session does not exist; the event was not stored.")
    key = (session.pk, activity.client_event_id) if activity.client_event_id else None
    if key in stored:
        # Stored earlier, or earlier in this same batch (then its row and risk are this batch's).
        # The repeat gets the first ack again: the risk stored with the event and its level (the
        # level is a function of the risk), not where the session has moved since.
        existing = stored[key]
        risk = session.risk_score if existing.risk_score_after is None else existing.risk_score_after
        return IngestResult(
            event=existing, duplicate=True, risk_score=risk, risk_level=level_for(risk), show_risk=_shows_risk(session)
        )
    tally = tallies.get(session.pk)
    if tally is None:
        session = exam_sessions.session_expire_if_due(session=session, at=at)
        sessions[session.pk] = session
        tally = tallies[session.pk] = _tally_for(session, context=contexts.get(session.pk))
    if not session.is_open:
        raise SessionNotActive("This exam session is no longer in progress; the event was not stored.")
    if session.paused_at is not None and activity.from_client:
        # Read from the locked row: no extra query. The server's own connection events still count.
        raise SessionPaused("A proctor has paused this exam session; the event was not stored.")

    # The exam, the student and the session's baseline snapshot come with the locked row: no query here.
    tally.context, scored = event_score(
        session=session,
        context=tally.context,
        state=tally.state,
        event_type=activity.event_type,
        payload=activity.payload,
        technical=activity.is_technical,
    )
    event = Event(
        session=session,
        event_type=activity.event_type,
        event_data=activity.payload,
        timestamp=at,
        client_ts=activity.client_ts,
        client_event_id=activity.client_event_id,
        severity=scored.severity,
        is_technical=activity.is_technical,
        risk_score_after=tally.risk_score,
    )
    if key is not None:
        stored[key] = event
    if scored.score is None:
        # A technical event: recorded for the reviewer, never scored.
        return IngestResult(
            event=event,
            duplicate=False,
            risk_score=tally.risk_score,
            risk_level=tally.risk_level,
            show_risk=_shows_risk(session),
        )

    risk = scored.score.risk
    event.risk_score_after = risk.risk_score
    session.behaviour = scored.state.behaviour
    tally.state = scored.state
    tally.scored = scored.score
    tally.last_event_at = at
    tally.risk_score, tally.risk_level = risk.risk_score, risk.level
    if scored.severity in INCIDENT_SEVERITIES:
        tally.incidents += 1
    # Built unsaved: _ingest stores and announces the batch's alerts together.
    alerts = [
        alert_raise(
            save=False,
            notify=False,
            session=session,
            alert_type=due.alert_type,
            risk_score=risk.risk_score,
            risk_level=risk.level,
            severity=due.severity,
            message=due.message,
            components=due.components,
        )
        for due in scored.alerts_due
    ]
    return IngestResult(
        event=event,
        duplicate=False,
        risk_score=risk.risk_score,
        risk_level=risk.level,
        alerts=tuple(alerts),
        show_risk=_shows_risk(session),
    )


def _shows_risk(session: ExamSession) -> bool:
    # The exam comes with the locked row or the snapshot: no query.
    return bool(session.exam.show_risk_to_student)


def _batch_write(tallies, events: list[Event], *, at: datetime, guarded: bool) -> None:
    """Write each scored session's last score and aggregate, and insert the events (one round trip
    on PostgreSQL); then keep the session objects equal to their rows: they become snapshots.

    Raises _Replay when a guarded UPDATE found its row changed or an event was already stored.
    """
    writes = []
    for tally in tallies:
        if tally.scored is None:
            continue
        session, risk = tally.session, tally.scored.risk
        values = {
            "risk_score": risk.risk_score,
            "integrity_score": risk.integrity_score,
            "risk_level": risk.risk_level,
            "risk_components": tally.scored.components_json(),
            "anomaly_score": tally.scored.anomaly_score,
            "behaviour": session.behaviour,
            "last_event_at": tally.last_event_at,
            "state_version": session.state_version + 1,
        }
        writes.append(
            rows.SessionWrite(
                session_id=session.pk, values=values, incidents=tally.incidents, expected_version=session.state_version
            )
        )
    written = rows.batch_write(writes, events, not_due_before=at - exam_sessions.GRACE if guarded else None)
    if not written.events_new:
        raise _Replay(check_stored=True)
    if written.sessions_matched != len(writes):
        if guarded:
            raise _Replay(check_stored=False)
        raise DatabaseError("a locked session row was not updated")
    for write, tally in zip(writes, (t for t in tallies if t.scored is not None), strict=True):
        for name, value in write.values.items():
            setattr(tally.session, name, value)
        tally.session.flagged_incidents_count += tally.incidents


def alert_raise(
    *,
    session: ExamSession,
    alert_type: str,
    risk_score: float,
    risk_level: str,
    severity: str,
    message: str,
    components: dict,
    notify: bool = True,
    save: bool = True,
) -> Alert:
    """Create an alert (a threshold alert also marks the session's alerted level and open alert count
    now); `pushes.high_risk_alert` builds what proctors are told. With `notify` (not for seeded
    history), `signals.alerts_raised` lets monitoring.notify store its webhook deliveries and email
    in this same transaction. Ingestion passes save=False and notify=False: it stores a whole batch's
    alerts in one INSERT and tells notify about them at once (alerts_notify)."""
    if alert_type == THRESHOLD_ALERT:
        ExamSession.objects.filter(pk=session.pk).update(alerted_level=risk_level)
        session.alerted_level = risk_level
        exam_sessions.session_alert_opened(session=session)
    alert = Alert(
        session=session,
        alert_type=alert_type,
        message=message[:2000],
        risk_score=risk_score,
        risk_level=risk_level,
        severity=severity,
        components=components,
    )
    if save:
        alert.save()
        if notify:
            alerts_notify([(alert, session)])
    return alert


def _alerts_announce(raised: list[tuple[Alert, ExamSession]]) -> None:
    """alerts_notify for an ingest batch: a receiver's bug costs its own rows (logged), never the
    batch's events and alerts. No savepoint: it would add two round trips to every batch that raises
    an alert (runs with one showed 5-15 % more CPU per event); a database error fails the batch."""
    if not raised:
        return
    try:
        alerts_notify(raised)
    except DatabaseError:
        raise  # the transaction is broken: the whole batch fails and nothing of it is stored
    except Exception:
        logger.exception("could not store the notifications of %d alert(s)", len(raised))


def alerts_notify(raised: Sequence[tuple[Alert, ExamSession]]) -> None:
    """Send `signals.alerts_raised` for stored alerts, in their transaction (nothing when there are none)."""
    if raised:
        signals.alerts_raised.send(sender=Alert, raised=list(raised))
