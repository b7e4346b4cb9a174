"""Every state change of live monitoring: storing events, raising and resolving alerts, warnings.

The socket consumer and the REST batch endpoint both call `event_ingest`; an event is
acknowledged only after this function's transaction has committed, and live pushes to
proctors are registered with `transaction.on_commit` so nobody hears about a rolled-back row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.services import audit_record
from exams import services as exam_services
from exams.exceptions import SessionNotActive
from exams.models import ExamSession
from monitoring import broadcast
from monitoring.frames import Activity, FrameError
from monitoring.models import Alert, Event
from monitoring.risk import ScoringContext, scoring_context_for, session_apply_score, session_score
from monitoring.severity import severity_for
from scoring.aggregation import fold
from scoring.engine import alert_threshold

LEVEL_RANK = {"": 0, "low": 1, "medium": 2, "high": 3}
THRESHOLD_ALERT = "risk_threshold"
ANOMALY_ALERT = "behaviour_anomaly"
INCIDENT_SEVERITIES = frozenset({"medium", "high"})


@dataclass(frozen=True)
class IngestResult:
    event: Event
    duplicate: bool
    risk_score: float
    risk_level: str
    alerts: tuple[Alert, ...] = ()
    # (group, message) pairs to send once the transaction has committed.
    pushes: list[tuple[str, dict]] = field(default_factory=list)

    def ack(self) -> dict:
        """The `activity_logged` payload for this event."""
        return {
            "event_id": self.event.pk,
            "event_type": self.event.event_type,
            "severity": self.event.severity,
            "client_event_id": self.event.client_event_id,
            "risk_score": self.risk_score,
            "risk_level": self.risk_level,
            "duplicate": self.duplicate,
        }


def _duplicate(session_id: int, client_event_id: str | None) -> Event | None:
    if not client_event_id:
        return None
    return Event.objects.filter(session_id=session_id, client_event_id=client_event_id).first()


def _duplicate_result(event: Event, session: ExamSession) -> IngestResult:
    risk = session.risk_score if event.risk_score_after is None else event.risk_score_after
    return IngestResult(event=event, duplicate=True, risk_score=risk, risk_level=session.risk_level)


@transaction.atomic
def event_ingest(
    *,
    session_id: int,
    activity: Activity,
    context: ScoringContext | None = None,
    at: datetime | None = None,
    push: bool = True,
) -> IngestResult:
    """Store one event exactly once, rescore the session, raise any alert; returns the ack data.

    A repeated `client_event_id` returns the stored event again and changes nothing. The live
    pushes it causes are in `result.pushes`; with push=True they are sent on commit, with
    push=False the caller sends them after this function returns (the consumer does, so the
    database thread never waits on the channel layer).
    """
    at = at or timezone.now()
    # The row lock serialises events of one session: the folded aggregates never lose an update and
    # a retried client_event_id is always seen by the check below. `of=self` keeps the exam and user
    # rows unlocked, so students of one exam do not queue behind each other.
    session = ExamSession.objects.select_for_update(of=("self",)).select_related("exam", "user").get(pk=session_id)
    existing = _duplicate(session_id, activity.client_event_id)
    if existing is not None:
        return _duplicate_result(existing, session)
    session = exam_services.session_expire_if_due(session=session, at=at)
    if not session.is_open:
        raise SessionNotActive("This exam session is no longer in progress; the event was not stored.")

    exam = session.exam
    severity = severity_for(
        activity.event_type,
        activity.payload,
        allow_tab_switch=exam.allow_tab_switch,
        allow_copy_paste=exam.allow_copy_paste,
    )
    event = Event(
        session=session,
        event_type=activity.event_type,
        event_data=activity.payload,
        timestamp=at,
        client_ts=activity.client_ts,
        client_event_id=activity.client_event_id,
        severity=severity,
        is_technical=activity.is_technical,
        risk_score_after=session.risk_score,
    )
    alerts: list[Alert] = []
    if activity.is_technical:
        event.save()
        result = IngestResult(
            event=event, duplicate=False, risk_score=session.risk_score, risk_level=session.risk_level
        )
    else:
        behaviour = fold(session.behaviour or {}, activity.event_type, activity.payload)
        scored = session_score(context=context or scoring_context_for(session), behaviour=behaviour)
        risk = scored.risk
        event.risk_score_after = risk.risk_score
        event.save()
        extra = {"last_event_at": at}
        if severity in INCIDENT_SEVERITIES:
            extra["flagged_incidents_count"] = F("flagged_incidents_count") + 1
        was_anomalous = bool((session.risk_components or {}).get("anomaly", {}).get("is_anomalous"))
        session_apply_score(session_id=session.pk, behaviour=behaviour, result=scored, **extra)
        alerts = _alerts_for(session=session, scored=scored, was_anomalous=was_anomalous)
        result = IngestResult(
            event=event, duplicate=False, risk_score=risk.risk_score, risk_level=risk.level, alerts=tuple(alerts)
        )
    # Proctors see the activity first, then the alerts it caused.
    result.pushes.append(_activity_push(session, event, result))
    result.pushes.extend(_alert_push(alert, session) for alert in alerts)
    if push:
        transaction.on_commit(lambda: _send(result.pushes))
    return result


def _alerts_for(*, session: ExamSession, scored, was_anomalous: bool) -> list[Alert]:
    """A threshold alert when the risk first reaches the exam's threshold or its level rises; an
    anomaly alert when the detector starts firing (not on every event while it keeps firing)."""
    risk = scored.risk
    alerts = []
    threshold = alert_threshold(session.exam.monitoring_sensitivity)
    if risk.risk_score >= threshold and LEVEL_RANK[risk.level] > LEVEL_RANK[session.alerted_level or ""]:
        alerts.append(
            alert_raise(
                session=session,
                alert_type=THRESHOLD_ALERT,
                risk_score=risk.risk_score,
                risk_level=risk.level,
                severity="high" if risk.level == "high" else "medium",
                message=_threshold_message(risk),
                components=risk.as_dict()["components"],
                push=False,
            )
        )
    if scored.is_anomalous and not was_anomalous:
        alerts.append(
            alert_raise(
                session=session,
                alert_type=ANOMALY_ALERT,
                risk_score=risk.risk_score,
                risk_level=risk.level,
                severity="medium",
                message=scored.anomaly_explanation,
                components={"anomaly_score": scored.anomaly_score},
                push=False,
            )
        )
    return alerts


def _send(pushes: list[tuple[str, dict]]) -> None:
    for group, message in pushes:
        broadcast.group_send(group, message)


def _threshold_message(risk) -> str:
    reasons = [c["reason"] for c in risk.as_dict()["components"].values() if c.get("value", 0) > 0]
    summary = "; ".join(reasons) if reasons else "combined signals"
    return f"Risk {risk.risk_score:.2f} ({risk.level}): {summary}"


def _activity_push(session: ExamSession, event: Event, result: IngestResult) -> tuple[str, dict]:
    return (
        broadcast.proctors_group(session.exam_id),
        broadcast.push_message(
            "student_activity",
            user_id=session.user_id,
            name=session.user.name,
            session_id=session.pk,
            exam_id=session.exam_id,
            event_id=event.pk,
            client_event_id=event.client_event_id,
            event_type=event.event_type,
            severity=event.severity,
            is_technical=event.is_technical,
            data=event.event_data,
            timestamp=event.timestamp.isoformat(),
            risk_score=result.risk_score,
            risk_level=result.risk_level,
        ),
    )


def alert_raise(
    *,
    session: ExamSession,
    alert_type: str,
    risk_score: float,
    risk_level: str,
    severity: str,
    message: str,
    components: dict,
    push: bool = True,
) -> Alert:
    """Create an alert and, after commit, push `high_risk_alert` to the exam's proctors (unless push=False)."""
    alert = Alert.objects.create(
        session=session,
        alert_type=alert_type,
        message=message[:2000],
        risk_score=risk_score,
        risk_level=risk_level,
        severity=severity,
        components=components,
    )
    if alert_type == THRESHOLD_ALERT:
        ExamSession.objects.filter(pk=session.pk).update(alerted_level=risk_level)
        session.alerted_level = risk_level
        exam_services.session_alert_opened(session=session)

    if push:
        transaction.on_commit(lambda: _send([_alert_push(alert, session)]))
    return alert


def _alert_push(alert: Alert, session: ExamSession) -> tuple[str, dict]:
    return (
        broadcast.proctors_group(session.exam_id),
        broadcast.push_message("high_risk_alert", **alert_payload(alert, session=session)),
    )


def alert_payload(alert: Alert, *, session: ExamSession) -> dict:
    return {
        "alert_id": alert.pk,
        "alert_type": alert.alert_type,
        "user_id": session.user_id,
        "name": session.user.name,
        "session_id": session.pk,
        "exam_id": session.exam_id,
        "risk_score": alert.risk_score,
        "risk_level": alert.risk_level,
        "severity": alert.severity,
        "message": alert.message,
        "components": alert.components,
        "resolved": alert.resolved,
        "created_at": alert.created_at.isoformat() if alert.created_at else None,
    }


@transaction.atomic
def alert_resolve(*, alert_id: int, by, note: str = "") -> Alert:
    """Mark an alert resolved by a proctor (idempotent) and tell the exam's proctors."""
    alert = Alert.objects.select_for_update().select_related("session", "session__user").filter(pk=alert_id).first()
    if alert is None:
        raise FrameError("not_found", "No such alert.")
    if alert.resolved:
        return alert
    alert.resolved = True
    alert.resolved_by = by
    alert.resolved_at = timezone.now()
    alert.resolution_note = note
    alert.save(update_fields=["resolved", "resolved_by", "resolved_at", "resolution_note"])
    if alert.alert_type == THRESHOLD_ALERT:
        exam_services.session_alert_closed(session=alert.session)
    audit_record(actor=by, action="alert_resolve", target=alert, details={"note": note, "session_id": alert.session_id})
    session = alert.session

    def push() -> None:
        broadcast.group_send(
            broadcast.proctors_group(session.exam_id),
            broadcast.push_message(
                "alert_resolved",
                alert_id=alert.pk,
                session_id=session.pk,
                exam_id=session.exam_id,
                resolved_by=by.pk,
                resolved_by_name=by.name,
                note=note,
            ),
        )

    transaction.on_commit(push)
    return alert


@transaction.atomic
def proctor_warn(*, session: ExamSession, by, message: str) -> Event:
    """Send a warning to the student, recorded on the session's timeline and in the audit trail."""
    if not session.is_open:
        raise SessionNotActive("This exam session is no longer in progress.")
    event = Event.objects.create(
        session=session,
        event_type="proctor_warning",
        event_data={"message": message, "by": by.pk},
        timestamp=timezone.now(),
        severity="low",
        is_technical=True,
        risk_score_after=session.risk_score,
    )
    audit_record(actor=by, action="warn_student", target=session, details={"message": message})

    def push() -> None:
        broadcast.group_send(
            broadcast.student_group(session.pk),
            broadcast.push_message(
                "proctor_warning", session_id=session.pk, exam_id=session.exam_id, message=message, from_name=by.name
            ),
        )

    transaction.on_commit(push)
    return event


def event_record_technical(*, session_id: int, event_type: str, data: dict | None = None) -> Event | None:
    """Record a disconnect/reconnect on an open session; never scored. None when the session is closed."""
    session = ExamSession.objects.select_related("exam", "user").filter(pk=session_id).first()
    if session is None or not session.is_open:
        return None
    return event_ingest(
        session_id=session_id,
        activity=Activity(exam_id=session.exam_id, event_type=event_type, payload=data or {}, is_technical=True),
    ).event
