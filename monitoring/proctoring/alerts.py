"""A proctor resolves an alert."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.services import audit_record
from exampulse.errors import NotFound
from exams import services as exam_services
from exams.scoping import exam_scope
from monitoring import pushes as live_pushes
from monitoring.models import Alert
from monitoring.pushes import Push
from scoring.alerts import THRESHOLD_ALERT


class AlertNotFound(NotFound):
    default_message = "No such alert."


@transaction.atomic
def alert_resolve(*, alert_id: int, by, note: str = "") -> tuple[Alert, list[Push]]:
    """Mark an alert resolved by a proctor (idempotent); returns it and what to tell the exam's proctors.

    Only an alert of an exam in `by`'s scope (exams.scoping); any other reads as no such alert.
    """
    alert = (
        Alert.objects.select_for_update()
        .select_related("session", "session__user")
        .filter(exam_scope(by, exam_field="session__exam"), pk=alert_id)
        .first()
    )
    if alert is None:
        raise AlertNotFound()
    if alert.resolved:
        return alert, []
    alert.resolved = True
    alert.resolved_by = by
    alert.resolved_at = timezone.now()
    alert.resolution_note = note
    alert.save(update_fields=["resolved", "resolved_by", "resolved_at", "resolution_note"])
    if alert.alert_type == THRESHOLD_ALERT:
        exam_services.session_alert_closed(session=alert.session)
    audit_record(actor=by, action="alert_resolve", target=alert, details={"note": note, "session_id": alert.session_id})
    return alert, [live_pushes.alert_resolved(alert, by=by, note=note)]
