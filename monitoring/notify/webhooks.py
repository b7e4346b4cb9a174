"""Webhooks: store a delivery per subscribed webhook, sign its body, and make one attempt.

A delivery is a POST of `{"event", "data", "delivery_id", "sent_at"}` (compact JSON) with
`X-ExamPulse-Signature: sha256=<hex HMAC-SHA256 of the raw body with the webhook's secret>`. A 2xx
answer delivers it; anything else (another status, a refused connection, a timeout) is one failed
attempt, retried after `outbox.retry_delay` until the schedule runs out (then `gave_up`). Every
attempt is a WebhookAttempt row. Redirects are not followed: the receiver's URL is the one stored.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time
import urllib.parse
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from accounts.services import audit_record
from exampulse.platform.errors import DomainError
from monitoring.notify import outbox
from monitoring.notify.models import DeliveryStatus, NotifyEvent, Webhook, WebhookAttempt, WebhookDelivery

SIGNATURE_HEADER = "X-ExamPulse-Signature"
USER_AGENT = "ExamPulse-Webhooks/1"
MAX_ERROR_LENGTH = 1000


def sign(*, body: bytes, secret: str) -> str:
    """The signature header's value for this raw body: `sha256=` and the hex HMAC-SHA256."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_for(delivery: WebhookDelivery, *, sent_at: datetime) -> bytes:
    """The raw bytes POSTed (and signed): compact JSON, keys in a fixed order."""
    document = {
        "event": delivery.event,
        "data": delivery.payload,
        "delivery_id": str(delivery.delivery_id),
        "sent_at": sent_at.isoformat(),
    }
    return json.dumps(document, separators=(",", ":"), cls=DjangoJSONEncoder).encode()


def events_validate(events: list[str]) -> list[str]:
    """The subscribed events, deduplicated in catalogue order; unknown names are a DomainError."""
    unknown = sorted(set(events) - set(NotifyEvent.values))
    if unknown or not events:
        raise DomainError(
            f"events must be among {', '.join(NotifyEvent.values)}.",
            details={"events": [f"unknown event {name!r}" for name in unknown] or ["at least one event"]},
        )
    return [name for name in NotifyEvent.values if name in events]


def url_validate(url: str) -> str:
    """An absolute http or https URL with a host; anything else is a DomainError."""
    parsed = urllib.parse.urlsplit(url or "")
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise DomainError("url must be an absolute http:// or https:// URL.", details={"url": ["invalid URL"]})
    return url


def _audited(hook: Webhook) -> dict[str, Any]:
    """What the audit trail keeps of a webhook: never its secret."""
    return {"url": hook.url, "events": list(hook.events or []), "active": hook.active}


@transaction.atomic
def webhook_create(*, url: str, secret: str, events: list[str], created_by=None, active: bool = True) -> Webhook:
    """Store a webhook after checking its URL, secret and events (the admin form and webhook_add); audited.

    A webhook is a global channel out of the system (it hears every course's exams), so who opened
    it, and to where, is on the trail.
    """
    if not (secret or "").strip():
        raise DomainError("A secret is required.", details={"secret": ["This field is required."]})
    hook = Webhook.objects.create(
        url=url_validate(url), secret=secret, events=events_validate(events), created_by=created_by, active=active
    )
    audit_record(actor=created_by, action="webhook_create", target=hook, details=_audited(hook))
    return hook


@transaction.atomic
def webhook_update(*, webhook: Webhook, by, data: dict[str, Any]) -> Webhook:
    """Change a webhook's URL, secret, events or active flag; each change is audited (a new secret as
    `"secret": "changed"`, never its value). Nothing changed, nothing recorded."""
    hook = Webhook.objects.select_for_update().get(pk=webhook.pk)
    changes: dict[str, Any] = {}
    checked = {
        "url": lambda value: url_validate(value),
        "events": lambda value: events_validate(list(value)),
        "active": bool,
    }
    for field, check in checked.items():
        if field in data:
            value = check(data[field])
            if value != getattr(hook, field):
                changes[field] = {"from": getattr(hook, field), "to": value}
                setattr(hook, field, value)
    secret = data.get("secret")
    if secret is not None and secret != hook.secret:
        if not secret.strip():
            raise DomainError("A secret is required.", details={"secret": ["This field is required."]})
        hook.secret = secret
        changes["secret"] = "changed"  # noqa: S105 - a marker for the trail, never the secret itself
    if changes:
        hook.save(update_fields=[*changes])
        audit_record(actor=by, action="webhook_update", target=hook, details=changes)
    return hook


@transaction.atomic
def webhook_delete(*, webhook: Webhook, by) -> None:
    """Delete a webhook and its deliveries' record; audited with what it was."""
    details = _audited(webhook)
    audit_record(actor=by, action="webhook_delete", target=webhook, details=details)
    webhook.delete()


def deliveries_store(*, event: str, data: dict[str, Any]) -> list[WebhookDelivery]:
    """One pending delivery per active webhook subscribed to `event`, in the caller's transaction.

    Only INSERTs: sending is the worker's (tasks.enqueue_after_commit), after the commit.
    """
    return deliveries_store_many(event=event, datas=[data])


def deliveries_store_many(*, event: str, datas: Sequence[dict[str, Any]]) -> list[WebhookDelivery]:
    """deliveries_store for several payloads of one event: the webhooks are read once, then one INSERT."""
    if not datas:
        return []
    now = timezone.now()
    # Webhooks are few and staff-managed; filtering the JSON list in Python works on every database.
    hooks = [hook for hook in Webhook.objects.filter(active=True) if event in (hook.events or [])]
    deliveries = [
        WebhookDelivery(
            webhook=hook,
            event=event,
            payload=json.loads(json.dumps(data, cls=DjangoJSONEncoder)),
            delivery_id=uuid.uuid4(),
            next_attempt_at=now,
        )
        for data in datas
        for hook in hooks
    ]
    return WebhookDelivery.objects.bulk_create(deliveries) if deliveries else []


@transaction.atomic
def delivery_retry_now(*, delivery: WebhookDelivery, by=None) -> bool:
    """Make a failed or given-up delivery due now (admin "retry now"), audited; False for a delivered one."""
    if delivery.status == DeliveryStatus.DELIVERED:
        return False
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, next_attempt_at=timezone.now())
    audit_record(
        actor=by,
        action="webhook_retry",
        target=delivery,
        details={
            "delivery_id": str(delivery.delivery_id),
            "webhook_id": delivery.webhook_id,
            "event": delivery.event,
            "status_was": delivery.status,
        },
    )
    return True


def delivery_attempt(*, delivery_pk: int) -> int | None:
    """Make one attempt if the delivery is due; returns the seconds until the next attempt, or None.

    No transaction is open during the POST (outbox.claim), and the POST is bounded by
    WEBHOOK_TIMEOUT_SECONDS per connect and per read.
    """
    now = timezone.now()
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_pk).first()
    if delivery is None or not outbox.is_due(delivery, now=now):
        return None
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    if not outbox.claim(WebhookDelivery, delivery, now=now, lease_seconds=4 * timeout + 30):
        return None
    hook = delivery.webhook
    if not hook.active:
        return _record(delivery, at=now, status_code=None, error="webhook is inactive", duration_ms=0, final=True)
    body = body_for(delivery, sent_at=now)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(body=body, secret=hook.secret),
        "X-ExamPulse-Event": delivery.event,
        "X-ExamPulse-Delivery": str(delivery.delivery_id),
    }
    started = time.monotonic()
    status_code, error = None, ""
    try:
        status_code = _post(hook.url, body=body, headers=headers, timeout=timeout)
    except Exception as exc:  # refused, reset, DNS, TLS, timeout: each is one failed attempt
        error = f"{type(exc).__name__}: {exc}"
    duration_ms = int((time.monotonic() - started) * 1000)
    if status_code is not None and 200 <= status_code < 300:
        error = ""
    elif not error:
        error = f"HTTP {status_code}"
    return _record(delivery, at=now, status_code=status_code, error=error, duration_ms=duration_ms)


def _post(url: str, *, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST once and return the status. http.client sends the header names as written and never
    follows a redirect (a 3xx is a failed attempt: the receiver's URL is the one stored)."""
    parts = urllib.parse.urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65536)
        return response.status
    finally:
        connection.close()


def _record(
    delivery: WebhookDelivery, *, at: datetime, status_code: int | None, error: str, duration_ms: int, final=False
) -> int | None:
    """Log the attempt and move the delivery on: delivered, failed with a retry, or gave_up."""
    finished = timezone.now()
    attempts = delivery.attempts + 1
    fields: dict[str, Any] = {
        "attempts": attempts,
        "last_status_code": status_code,
        "last_error": error[:MAX_ERROR_LENGTH],
    }
    delay = None
    if not error:
        fields |= {"status": DeliveryStatus.DELIVERED, "delivered_at": finished, "next_attempt_at": None}
    else:
        delay = None if final else outbox.retry_delay(attempts=attempts)
        if delay is None:
            fields |= {"status": DeliveryStatus.GAVE_UP, "next_attempt_at": None}
        else:
            fields |= {"status": DeliveryStatus.FAILED, "next_attempt_at": finished + timedelta(seconds=delay)}
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery, at=at, status_code=status_code, error=error[:MAX_ERROR_LENGTH], duration_ms=duration_ms
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    return delay
