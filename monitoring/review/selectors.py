"""Reads for the proctor console: a session's timeline, its risk series, component rows and CSV rows.

Nothing here writes. The admin review page, the CSV export and the live dashboard read through
these functions so that they describe a session the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from string import Formatter
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet

from exams import selectors as exam_selectors
from exams.models import Exam, ExamSession
from monitoring import pushes
from monitoring.models import Alert, Event
from scoring import catalogue
from scoring.types import RISK_SIGNALS

# The risk signals' rows, in the formula's order, as scoring declares them.
COMPONENT_ORDER = tuple(signal.name for signal in RISK_SIGNALS)
COMPONENT_LABELS = {signal.name: signal.label for signal in RISK_SIGNALS}
TIMELINE_PAGE_SIZE = 50
CHART_MAX_POINTS = 400


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # flag | activity | milestone | technical | alert | action
    label: str
    detail: str = ""
    severity: str = ""
    risk_after: float | None = None


def _render(template: str, data: dict[str, Any], kind: catalogue.ActivityType, *, missing: str | None) -> str:
    """Fill a catalogue template from the payload; a missing field reads `missing`, or blanks the text when None."""
    values = {}
    for _, name, _, _ in Formatter().parse(template):
        if name is None:
            continue
        value = data.get(name)
        if value is None:
            if missing is None:
                return ""
            values[name] = missing
            continue
        field = kind.field(name)
        if field is not None and field.unit == "ms":
            try:
                value = f"{float(value) / 1000:.1f} s"
            except (TypeError, ValueError):
                value = "?"
        values[name] = value
    return template.format_map(values)


def event_label(event_type: str, data: dict[str, Any]) -> tuple[str, str]:
    """A reviewer's wording for one stored event, from the catalogue: (label, detail)."""
    data = data if isinstance(data, dict) else {}
    kind = catalogue.get(event_type)
    if kind is None:
        return event_type.replace("_", " ").capitalize(), ""
    return _render(kind.label, data, kind, missing="?"), _render(kind.detail, data, kind, missing=None)


def _event_entry(event: Event) -> TimelineEntry:
    label, detail = event_label(event.event_type, event.event_data)
    declared = catalogue.get(event.event_type)
    if declared is not None and declared.source == catalogue.PROCTOR:
        kind = "action"
    elif event.is_technical:
        kind = "technical"
    elif declared is not None and declared.category == catalogue.MILESTONE:
        kind = "milestone"
    elif event.severity in ("medium", "high"):
        kind = "flag"
    else:
        kind = "activity"
    return TimelineEntry(
        at=event.timestamp,
        kind=kind,
        label=label,
        detail=detail,
        severity=event.severity,
        risk_after=None if event.is_technical else event.risk_score_after,
    )


def session_milestones(session: ExamSession) -> list[TimelineEntry]:
    """Started, alerts raised and resolved, submitted or terminated, reviewed: newest first."""
    entries = [TimelineEntry(at=session.started_at, kind="milestone", label="Started the exam")]
    for alert in session.alerts.select_related("resolved_by").order_by("created_at", "id"):
        entries.append(
            TimelineEntry(
                at=alert.created_at,
                kind="alert",
                label=f"Alert raised ({alert.severity})",
                detail=alert.message,
                severity=alert.severity,
                risk_after=alert.risk_score,
            )
        )
        if alert.resolved and alert.resolved_at:
            who = alert.resolved_by.name if alert.resolved_by else "a deleted user"
            note = f": {alert.resolution_note}" if alert.resolution_note else ""
            entries.append(
                TimelineEntry(at=alert.resolved_at, kind="action", label="Alert resolved", detail=f"by {who}{note}")
            )
    if session.submitted_at:
        if session.terminated_by_id or session.termination_reason:
            label, detail = "Terminated by a proctor", session.termination_reason
        elif session.auto_submitted:
            label, detail = "Auto-submitted at the deadline", ""
        else:
            label, detail = "Submitted", "late" if session.is_late else ""
        entries.append(TimelineEntry(at=session.submitted_at, kind="milestone", label=label, detail=detail))
    if session.reviewed_at:
        entries.append(
            TimelineEntry(
                at=session.reviewed_at,
                kind="action",
                label=f"Reviewed: {session.get_review_status_display()}",
                detail=session.review_note,
            )
        )
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries


def session_timeline(session: ExamSession, *, page: Any = 1, per_page: int = TIMELINE_PAGE_SIZE) -> Page:
    """One page of the session's timeline, newest first: stored events with the milestones between them.

    Events are paginated in the database; each milestone appears on the page whose events surround it
    (the first page also takes anything newer, the last anything older), so no entry is lost or repeated.
    """
    events = Event.objects.filter(session=session).order_by("-timestamp", "-id")
    paginator = Paginator(events, per_page, allow_empty_first_page=True)
    current = paginator.get_page(page)
    rows = [_event_entry(event) for event in current.object_list]
    newest = rows[0].at if rows else None
    oldest = rows[-1].at if rows else None
    milestones = []
    for entry in session_milestones(session):
        above = newest is None or entry.at <= newest or not current.has_previous()
        below = oldest is None or entry.at > oldest or not current.has_next()
        if above and below:
            milestones.append(entry)
    # Milestones first on equal times: "started" sorts below the first event it precedes.
    current.object_list = sorted([*rows, *milestones], key=lambda entry: entry.at, reverse=True)
    return current


def risk_series(session: ExamSession) -> list[tuple[datetime, float]]:
    """(time, risk after the event) for each scored event, starting at (started_at, 0)."""
    rows = (
        Event.objects.filter(session=session, is_technical=False, risk_score_after__isnull=False)
        .order_by("timestamp", "id")
        .values_list("timestamp", "risk_score_after")
    )
    series = [(session.started_at, 0.0), *((at, float(risk)) for at, risk in rows)]
    if len(series) > CHART_MAX_POINTS:
        series = _downsample(series, CHART_MAX_POINTS)
    return series


def _downsample(series: list[tuple[datetime, float]], limit: int) -> list[tuple[datetime, float]]:
    """Keep the first and last points and each bucket's peak, so spikes survive the thinning."""
    inner = series[1:-1]
    size = -(-len(inner) // (limit - 2))
    peaks = [max(inner[i : i + size], key=lambda point: point[1]) for i in range(0, len(inner), size)]
    return [series[0], *peaks, series[-1]]


def component_rows(session: ExamSession) -> list[dict[str, Any]]:
    """The five risk components in the spec's order, each with value, weight, contribution and reason."""
    components = (session.risk_components or {}).get("components") or {}
    rows = []
    for name in COMPONENT_ORDER:
        item = components.get(name) or {}
        rows.append(
            {
                "name": name,
                "label": COMPONENT_LABELS[name],
                "value": item.get("value", 0.0),
                "weight": item.get("weight"),
                "weighted": item.get("weighted", 0.0),
                "reason": item.get("reason", "no events yet"),
                "measured": item.get("measured"),
                "base": item.get("base"),
            }
        )
    return rows


def model_opinions(session: ExamSession) -> dict[str, Any]:
    """The anomaly detector's and the population model's explanations, if any."""
    data = session.risk_components or {}
    return {
        "alert_threshold": data.get("alert_threshold"),
        "anomaly": data.get("anomaly") or {},
        "population": data.get("population") or {},
    }


CSV_HEADER = [
    "session_id",
    "exam",
    "student",
    "email",
    "roll_number",
    "status",
    "review_status",
    "reviewed_by",
    "review_note",
    "started_at",
    "submitted_at",
    "is_late",
    "auto_submitted",
    "score",
    "max_score",
    "risk_score",
    "risk_level",
    "integrity_score",
    "flagged_incidents",
    "alerts",
    "unresolved_alerts",
    *[f"{name}_{part}" for name in COMPONENT_ORDER for part in ("value", "reason")],
    "anomaly_score",
    "anomaly_explanation",
    "population_score",
    "population_explanation",
    "termination_reason",
    # Part two: grading, reasons, the second review, time control and resets.
    "grading_status",
    "review_reason_code",
    "termination_reason_code",
    "second_review",
    "deadline_at",
    "paused_seconds",
    "extended_seconds",
    "time_compensated_seconds",
    "warnings_count",
    "voided",
    "voided_at",
    "void_reason",
]
# Spreadsheet programs run cells that start with these; a student's name must not become a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def sessions_for_export(queryset: QuerySet[ExamSession]) -> QuerySet[ExamSession]:
    """The selected sessions with what a CSV row reads joined and counted."""
    return (
        queryset.select_related("exam", "user", "reviewed_by")
        .annotate(
            alert_total=Count("alerts", distinct=True),
            alert_open=Count("alerts", filter=Q(alerts__resolved=False), distinct=True),
        )
        .order_by("-risk_score", "id")
    )


def session_csv_row(session: ExamSession) -> list[Any]:
    """One CSV row per session, in CSV_HEADER's order, safe to open in a spreadsheet."""
    components = {row["name"]: row for row in component_rows(session)}
    opinions = model_opinions(session)
    values = [
        session.pk,
        session.exam.name,
        session.user.name,
        session.user.email,
        session.user.roll_number,
        session.status,
        session.review_status,
        session.reviewed_by.email if session.reviewed_by else "",
        session.review_note,
        session.started_at,
        session.submitted_at,
        session.is_late,
        session.auto_submitted,
        session.score,
        session.max_score,
        session.risk_score,
        session.risk_level,
        session.integrity_score,
        session.flagged_incidents_count,
        getattr(session, "alert_total", None),
        getattr(session, "alert_open", None),
        *[item for name in COMPONENT_ORDER for item in (components[name]["value"], components[name]["reason"])],
        opinions["anomaly"].get("score"),
        opinions["anomaly"].get("explanation"),
        opinions["population"].get("score"),
        opinions["population"].get("explanation"),
        session.termination_reason,
        session.grading_status,
        session.review_reason_code,
        session.termination_reason_code,
        session.second_review,
        session.deadline_at,
        session.paused_seconds,
        session.extended_seconds,
        session.time_compensated_seconds,
        session.warnings_count,
        session.voided,
        session.voided_at,
        session.void_reason,
    ]
    return [_cell(value) for value in values]


def dashboard_exams(*, user: Any) -> QuerySet[Exam]:
    """Exams in the user's scope for the dashboard's index, active first, with session and alert counts."""
    return (
        exam_selectors.exam_list(user=user)
        .annotate(
            open_sessions=Count("sessions", filter=Q(sessions__status="in_progress"), distinct=True),
            session_total=Count("sessions", distinct=True),
            open_alerts=Count("sessions__alerts", filter=Q(sessions__alerts__resolved=False), distinct=True),
        )
        .order_by("status", "-created_at", "-id")
    )


def exam_open_alerts(*, exam_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """The exam's unresolved alerts, newest first, as the `high_risk_alert` frame carries them (with
    the student's risk now beside the risk each was raised at)."""
    alerts = (
        Alert.objects.filter(session__exam_id=exam_id, resolved=False)
        .select_related("session", "session__user")
        .order_by("-created_at", "-id")[:limit]
    )
    return [pushes.alert_payload(alert, session=alert.session) for alert in alerts]
