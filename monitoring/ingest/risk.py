"""Ingestion's one door into scoring (.importlinter holds every other ingest module to it): live
ingestion and rescore both use it.

The live path is cheap by design: `scoring_context_for` takes the context from scoring's process
cache (keyed by the exam policy, the session's baseline snapshot version and the population model's),
with the policy and the snapshot read from the locked session row itself (the accommodations and
the baseline as they stood when the session started), so no baseline query at all; `event_score`
is then the one call into scoring per event (severity, score, alerts due and the next state), and
the batch writes the result in one UPDATE. A rescore uses the same snapshot: it reproduces what the
live path scored against, whatever happened to the student's baseline since.

`ExamSession.risk_components` holds:
    {"components": {typing|tab_switch|mouse|answer_speed|focus: {value, weight, weighted, reason,
                    measured, base, ratio}},
     "alert_threshold": float,
     "anomaly": {"score", "threshold", "is_anomalous", "explanation"},
     "population": {"score", "is_outlier", "explanation", "version"}}
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F

from accounts.services import audit_record
from exams.models import ExamSession
from monitoring.models import Event
from scoring import catalogue as catalogue  # re-exported: the event catalogue ingestion validates against
from scoring.aggregation import fold, fold_all
from scoring.alerts import ANOMALY_ALERT as ANOMALY_ALERT  # re-exported: the alert types ingestion stores
from scoring.alerts import THRESHOLD_ALERT as THRESHOLD_ALERT
from scoring.engine import level_for as level_for  # re-exported: a repeated event's ack states its level
from scoring.services import baseline_snapshot, scoring_context
from scoring.session import Scored, ScoringContext, ScoringEvent, ScoringState, SessionScore, risk_only, session_score
from scoring.severity import INCIDENT_SEVERITIES as INCIDENT_SEVERITIES  # re-exported: what counts as an incident
from scoring.snapshot import is_recorded
from scoring.types import Policy


@dataclass(frozen=True)
class RescoreOutcome:
    """What a rescore found: old and new risk and level, and whether it wrote them."""

    session_id: int
    events: int
    old_risk: float
    new_risk: float
    old_level: str
    new_level: str
    written: bool
    # Why the stored risk was kept instead of rescored ("" when it was rescored).
    kept_because: str = ""
    # What the baseline side compared against: the session's snapshot, or (a session from before
    # snapshots were kept) the student's baseline at the rescore.
    baseline_used: str = "snapshot"
    # The flagged-incident count before and after: the stored events of medium or high severity.
    old_incidents: int = 0
    new_incidents: int = 0

    @property
    def score_changed(self) -> bool:
        return self.old_risk != self.new_risk

    @property
    def incidents_changed(self) -> bool:
        return self.old_incidents != self.new_incidents

    @property
    def level_changed(self) -> bool:
        return self.old_level != self.new_level


def policy_for(session: ExamSession) -> Policy:
    """The exam's rules and the signal exemptions applied to this session at its start (institution,
    course and exam accommodations combined: exams.accommodations) as the engine reads them."""
    exam = session.exam
    accommodations = session.accommodations or {}
    exempt = accommodations.get("exempt_signals") or []
    return Policy(
        allow_tab_switch=exam.allow_tab_switch,
        allow_copy_paste=exam.allow_copy_paste,
        sensitivity=exam.monitoring_sensitivity,
        exempt_signals=frozenset(name for name in exempt if isinstance(name, str)),
    )


def scoring_context_for(session: ExamSession) -> ScoringContext:
    """The session's scoring context from scoring's process cache (see scoring.services.scoring_context).

    Everything comes from the session row as loaded (its exam joined): the policy, its applied
    accommodations and its baseline snapshot. No query.
    """
    policy = policy_for(session)
    return scoring_context(policy=policy, snapshot=session.baseline_snapshot)


def scoring_state_for(session: ExamSession) -> ScoringState:
    """What the session's next event is scored from, as its row stores it (no query)."""
    components = session.risk_components or {}
    return ScoringState(
        behaviour=session.behaviour or {},
        alerted_level=session.alerted_level or "",
        was_anomalous=bool(components.get("anomaly", {}).get("is_anomalous")),
        population=components.get("population"),
    )


def event_score(
    *,
    session: ExamSession,
    context: ScoringContext | None,
    state: ScoringState,
    event_type: str,
    payload: dict[str, Any],
    technical: bool,
) -> tuple[ScoringContext, Scored]:
    """Score one event of a session (scoring.session.ScoringContext.score_event): the one call per event.

    `context` is the session's scoring context when the caller holds one (its snapshot, or an earlier
    event of the batch); otherwise it is taken from scoring's process cache, as `scoring_context_for`
    would. Returns the context used (to keep) and what scoring made of the event.
    """
    if context is None:
        policy = policy_for(session)
        context = scoring_context(policy=policy, snapshot=session.baseline_snapshot)
    event = ScoringEvent(event_type, payload, technical=technical)
    return context, context.score_event(state, event, population_every=settings.EXAMPULSE["POPULATION_SCORE_EVERY"])


def _rescore_context(session: ExamSession) -> tuple[ScoringContext, str]:
    """The context a rescore uses, and what it compared against: the session's own snapshot; a session
    started before snapshots were kept has none, and is scored against the student's baseline now."""
    if is_recorded(session.baseline_snapshot):
        return scoring_context_for(session), "snapshot"
    current = baseline_snapshot(user=session.user)
    return scoring_context(policy=policy_for(session), snapshot=current), "current baseline (no snapshot recorded)"


def session_apply_score(*, session_id: int, behaviour: dict[str, Any], result: SessionScore, **fields: Any) -> None:
    """Write the score, its explanation, the aggregate state (and any extra fields) in one UPDATE.

    The version bump makes every process's snapshot of the session stale (monitoring.ingest.snapshots)."""
    ExamSession.objects.filter(pk=session_id).update(
        **fields,
        state_version=F("state_version") + 1,
        risk_score=result.risk.risk_score,
        integrity_score=result.risk.integrity_score,
        risk_level=result.risk.risk_level,
        risk_components=result.components_json(),
        anomaly_score=result.anomaly_score,
        behaviour=behaviour,
    )


def _purged_reason(session: ExamSession, behaviour: dict[str, Any]) -> str:
    """Why the stored events cannot reproduce the stored risk ("" when they can).

    The stored aggregate counts every scored event ever folded; fewer events on record means
    retention (`purge_events`) or an erasure took some, and a score rebuilt from the rest would be
    wrong (a fully purged session would silently drop to risk 0).
    """
    had = int((session.behaviour or {}).get("events") or 0)
    has = behaviour["events"]
    if has < had:
        return f"its events were purged ({has} of {had} remain)"
    if has == 0 and session.risk_score > 0:
        return "its events were purged (none remain)"
    return ""


def session_rescore(*, session: ExamSession, dry_run: bool = False) -> RescoreOutcome:
    """Recompute a session's risk, each scored event's `risk_score_after` and the flagged-incident
    count from its stored events.

    Writes them back unless dry_run. A session whose events were purged keeps its stored risk and
    count (nothing written): the outcome's `kept_because` says why.
    """
    rows = list(
        Event.objects.filter(session=session, is_technical=False)
        .order_by("timestamp", "id")
        .only("id", "event_type", "event_data", "risk_score_after", "severity")
    )
    behaviour = fold_all((row.event_type, row.event_data) for row in rows)
    kept = _purged_reason(session, behaviour)
    if kept:
        return RescoreOutcome(
            session_id=session.pk,
            events=len(rows),
            old_risk=session.risk_score,
            new_risk=session.risk_score,
            old_level=session.risk_level,
            new_level=session.risk_level,
            written=False,
            kept_because=kept,
            old_incidents=session.flagged_incidents_count,
            new_incidents=session.flagged_incidents_count,
        )
    context, baseline_used = _rescore_context(session)
    result = session_score(context=context, behaviour=behaviour)
    # As ingestion counts them: each scored event of medium or high severity (severity is stored
    # with the event, by the exam's rules when it arrived).
    incidents = sum(1 for row in rows if row.severity in INCIDENT_SEVERITIES)
    if not dry_run:
        session_apply_score(
            session_id=session.pk, behaviour=behaviour, result=result, flagged_incidents_count=incidents
        )
        _events_rescore(rows, context=context)
    return RescoreOutcome(
        session_id=session.pk,
        events=len(rows),
        old_risk=session.risk_score,
        new_risk=result.risk.risk_score,
        old_level=session.risk_level,
        new_level=result.risk.risk_level,
        written=not dry_run,
        baseline_used=baseline_used,
        old_incidents=session.flagged_incidents_count,
        new_incidents=incidents,
    )


@transaction.atomic
def session_rescore_recorded(*, session: ExamSession, by: Any = None, via: str) -> RescoreOutcome:
    """Rescore a session and record it in the audit trail (who, from what to what, and through which door).

    The admin and `manage.py rescore` both call this; `by` is None for a command (no person signed in).
    """
    outcome = session_rescore(session=session)
    audit_record(
        actor=by,
        action="session_rescore",
        target=session,
        details={
            "from": outcome.old_risk,
            "to": outcome.new_risk,
            "incidents_from": outcome.old_incidents,
            "incidents_to": outcome.new_incidents,
            "events": outcome.events,
            "kept_because": outcome.kept_because,
            "baseline_used": outcome.baseline_used,
            "via": via,
        },
    )
    return outcome


def _events_rescore(rows: list[Event], *, context: ScoringContext) -> None:
    """Rebuild each event's risk after it, as live ingestion would have scored it with today's rules,
    so the session's risk chart ends where its header does. Only the spec's risk: the ML opinions
    are not per event."""
    state = None
    changed = []
    for row in rows:
        state = fold(state, row.event_type, row.event_data)
        risk = risk_only(context=context, behaviour=state).risk_score
        if row.risk_score_after != risk:
            row.risk_score_after = risk
            changed.append(row)
    Event.objects.bulk_update(changed, ["risk_score_after"], batch_size=500)


def sessions_to_rescore(*, exam_id: int | None = None, session_id: int | None = None, since: datetime | None = None):
    """The sessions a rescore run covers, oldest first, with what scoring reads joined in."""
    sessions = ExamSession.objects.select_related("exam", "user").order_by("started_at", "id")
    if exam_id is not None:
        sessions = sessions.filter(exam_id=exam_id)
    if session_id is not None:
        sessions = sessions.filter(pk=session_id)
    if since is not None:
        sessions = sessions.filter(started_at__gte=since)
    return sessions
