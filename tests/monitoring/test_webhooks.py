"""Notifications (docs/design.md, part two, "Notifications"): webhooks and alert email from a stored outbox.

A real receiver on 127.0.0.1 answers the worker's POSTs; the tasks' functions run directly here,
and the last test runs the real `db_worker` process.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import AuditEntry
from exams.models import Course, CourseStaff, Enrollment
from exams.services import session_start, session_terminate
from exams.signals import second_review_required
from monitoring.ingest.activity import parse_activity
from monitoring.ingest.services import IngestRequest, events_ingest
from monitoring.models import Alert, AlertEmail, Event, Webhook, WebhookAttempt, WebhookDelivery
from monitoring.notify import email, tasks, webhooks
from monitoring.proctoring.hands import hand_raise
from tests.factories import ProctorFactory
from tests.monitoring.conftest import make_exam, student_with_baseline
from tests.monitoring.notify_support import Receiver
from tests.support.live import MIGRATED
from tests.support.servers import ROOT, child_env, free_port, manage

SECRET = "s3cret-for-tests"
# Crosses the high-sensitivity threshold against the `baseline` fixture (as in test_admin.py).
MISCONDUCT = [
    *({"type": "tab_switch"} for _ in range(11)),
    {"type": "window_focus", "blur_duration_ms": 130_000},
    {"type": "typing_sample", "wpm": 200},
]


@pytest.fixture(autouse=True)
def _no_models(settings, tmp_path):
    settings.EXAMPULSE = {**settings.EXAMPULSE, "MODEL_DIR": str(tmp_path / "models")}


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


def hook_for(url: str, events=("high_risk_alert", "hand_raised", "session_flagged", "second_review_required")):
    return webhooks.webhook_create(url=url, secret=SECRET, events=list(events))


def ingest(session, activities) -> None:
    for activity in activities:
        events_ingest([IngestRequest(session.pk, parse_activity({"exam_id": session.exam_id, **activity}))])


def deliver_tasks() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path__endswith="webhook_deliver"))


def make_due(delivery: WebhookDelivery) -> None:
    """Stand in for the clock: the scheduled retry is due now."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


# -- format and signature --------------------------------------------------------------------------


@pytest.mark.django_db
def test_delivery_is_signed_with_the_secret_and_carries_event_data_id_and_time(receiver, session):
    hook_for(receiver.url)
    hand, _ = hand_raise(session=session, message="Question 2?")
    delivery = WebhookDelivery.objects.get(event="hand_raised")
    assert webhooks.delivery_attempt(delivery_pk=delivery.pk) is None
    (got,) = receiver.received
    expected = "sha256=" + hmac.new(SECRET.encode(), got.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(got.headers["X-ExamPulse-Signature"], expected)
    assert got.headers["Content-Type"] == "application/json"
    body = json.loads(got.body)
    assert set(body) == {"event", "data", "delivery_id", "sent_at"}
    assert body["event"] == "hand_raised"
    assert body["delivery_id"] == str(delivery.delivery_id)
    assert body["data"]["hand_id"] == hand.pk and body["data"]["session_id"] == session.pk
    assert body["data"]["message"] == "Question 2?"
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 1 and delivery.last_status_code == 200
    assert delivery.delivered_at is not None


@pytest.mark.django_db
def test_a_wrong_secret_does_not_verify(receiver, session):
    hook_for(receiver.url)
    hand_raise(session=session, message="")
    webhooks.delivery_attempt(delivery_pk=WebhookDelivery.objects.get().pk)
    got = receiver.received[0]
    forged = "sha256=" + hmac.new(b"another", got.body, hashlib.sha256).hexdigest()
    assert not hmac.compare_digest(got.headers["X-ExamPulse-Signature"], forged)


@pytest.mark.django_db
def test_only_subscribed_active_webhooks_get_a_delivery(receiver, session):
    alerts_only = hook_for(receiver.url, events=["high_risk_alert"])
    hands = hook_for(receiver.url, events=["hand_raised"])
    Webhook.objects.filter(pk=hook_for(receiver.url, events=["hand_raised"]).pk).update(active=False)
    hand_raise(session=session, message="")
    assert list(WebhookDelivery.objects.values_list("webhook_id", flat=True)) == [hands.pk]
    assert not WebhookDelivery.objects.filter(webhook=alerts_only).exists()


# -- after commit, from the outbox -----------------------------------------------------------------


@pytest.mark.django_db
def test_delivery_is_enqueued_only_after_commit(receiver, session, django_capture_on_commit_callbacks):
    hook_for(receiver.url)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        hand_raise(session=session, message="")
    assert WebhookDelivery.objects.count() == 1
    assert deliver_tasks() == []  # stored in the outbox, not yet handed to the worker
    assert receiver.received == []
    for callback in callbacks:
        callback()
    (queued,) = deliver_tasks()
    assert queued.args_kwargs["args"] == [WebhookDelivery.objects.get().pk]


@pytest.mark.django_db
def test_nothing_is_stored_or_sent_when_the_transaction_rolls_back(
    receiver, session, django_capture_on_commit_callbacks
):
    hook_for(receiver.url)
    with (  # noqa: PT012 - the raise is what rolls the transaction back
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        hand_raise(session=session, message="")
        raise RuntimeError("rolled back")
    assert WebhookDelivery.objects.count() == 0
    assert deliver_tasks() == []
    assert receiver.received == []


@pytest.mark.django_db
def test_exactly_one_delivery_per_high_risk_alert(receiver, session, baseline, django_capture_on_commit_callbacks):
    hook_for(receiver.url, events=["high_risk_alert"])
    with django_capture_on_commit_callbacks(execute=True):
        ingest(session, MISCONDUCT)
        ingest(session, [{"type": "tab_switch", "client_event_id": "again"}] * 2)  # a retried event
    alerts = list(Alert.objects.filter(session=session))
    assert alerts
    deliveries = WebhookDelivery.objects.filter(event="high_risk_alert")
    assert sorted(d.payload["alert_id"] for d in deliveries) == sorted(a.pk for a in alerts)
    assert len(deliver_tasks()) == len(alerts)
    for delivery in deliveries:
        tasks.webhook_deliver.call(delivery.pk)
    bodies = [json.loads(got.body) for got in receiver.received]
    assert sorted(body["data"]["alert_id"] for body in bodies) == sorted(a.pk for a in alerts)
    assert {body["data"]["risk_level"] for body in bodies} <= {"medium", "high"}


@pytest.mark.django_db
def test_a_batch_that_raises_alerts_in_two_sessions_stores_one_delivery_per_alert_and_hook(
    receiver, session, baseline, django_capture_on_commit_callbacks
):
    hook_for(receiver.url, events=["high_risk_alert"])
    hook_for(receiver.url + "second", events=["high_risk_alert", "hand_raised"])
    other = session_start(exam=session.exam, user=student_with_baseline())
    batch = [
        IngestRequest(each.pk, parse_activity({"exam_id": each.exam_id, "client_event_id": f"{each.pk}-{i}", **a}))
        for i, a in enumerate(MISCONDUCT)
        for each in (session, other)
    ]
    with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as queries:
        events_ingest(batch)
    alerts = list(Alert.objects.filter(session__in=[session, other]))
    assert {alert.session_id for alert in alerts} == {session.pk, other.pk}
    deliveries = WebhookDelivery.objects.filter(event="high_risk_alert")
    assert sorted(d.payload["alert_id"] for d in deliveries) == sorted(a.pk for a in alerts for _hook in range(2))
    assert len(deliver_tasks()) == 2 * len(alerts)
    # The batch stores its alerts in one INSERT and reads the webhooks once, however many it raised.
    alert_inserts = [q for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "alerts"')]
    assert len(alerts) > 2 and len(alert_inserts) == 1
    webhook_reads = [q for q in queries.captured_queries if 'FROM "webhooks"' in q["sql"]]
    assert len(webhook_reads) == 1


@pytest.mark.django_db
def test_a_failing_notification_costs_the_batch_neither_its_events_nor_its_alerts(
    receiver, session, baseline, monkeypatch, caplog
):
    hook_for(receiver.url, events=["high_risk_alert"])

    def broken(*, event, datas):
        raise RuntimeError("webhook store is broken")

    monkeypatch.setattr(webhooks, "deliveries_store_many", broken)
    batch = [
        IngestRequest(session.pk, parse_activity({"exam_id": session.exam_id, "client_event_id": f"b-{i}", **a}))
        for i, a in enumerate(MISCONDUCT)
    ]
    outcomes = events_ingest(batch)
    assert all(not isinstance(outcome, Exception) for outcome in outcomes)
    assert Event.objects.filter(session=session, client_event_id__startswith="b-").count() == len(MISCONDUCT)
    assert Alert.objects.filter(session=session).exists()
    assert not WebhookDelivery.objects.exists()
    assert "could not store the notifications" in caplog.text


@pytest.mark.django_db
def test_a_flagged_session_has_its_delivery_stored_with_the_change_itself(
    receiver, session, proctor, django_capture_on_commit_callbacks
):
    hook_for(receiver.url, events=["session_flagged"])
    # The commit's callbacks never run: as if the process died right after the commit.
    with django_capture_on_commit_callbacks(execute=False):
        session_terminate(session=session, by=proctor, reason="phone on the desk", reason_code="phone_use")
    flagged = WebhookDelivery.objects.get(event="session_flagged")
    assert flagged.payload["session_id"] == session.pk and flagged.status == "pending"


@pytest.mark.django_db
def test_a_terminate_that_rolls_back_stores_no_session_flagged_delivery(receiver, session, proctor):
    hook_for(receiver.url, events=["session_flagged"])

    def terminate_then_fail() -> None:
        with transaction.atomic():
            session_terminate(session=session, by=proctor, reason="phone on the desk", reason_code="phone_use")
            raise RuntimeError("the request failed after the terminate")

    with pytest.raises(RuntimeError):
        terminate_then_fail()
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_session_flagged_and_second_review_required_are_delivered(
    receiver, session, proctor, django_capture_on_commit_callbacks
):
    hook_for(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        session_terminate(session=session, by=proctor, reason="phone on the desk", reason_code="phone_use")
    flagged = WebhookDelivery.objects.get(event="session_flagged")
    assert flagged.payload["session_id"] == session.pk and flagged.payload["status"] == "flagged"
    with django_capture_on_commit_callbacks(execute=True):
        second_review_required.send(sender=None, session=session, by=proctor)
    second = WebhookDelivery.objects.get(event="second_review_required")
    assert second.payload["by"] == proctor.pk
    assert len(deliver_tasks()) == 2


# -- retries, backoff, giving up -------------------------------------------------------------------


def test_default_schedule_retries_within_30_s_and_for_at_least_an_hour(settings):
    schedule = settings.NOTIFY_RETRY_SCHEDULE
    assert schedule[0] <= 30
    assert sum(schedule) >= 3600
    assert schedule == sorted(schedule)


@pytest.mark.django_db
def test_a_500_is_retried_with_backoff_and_later_succeeds(session):
    receiver = Receiver(statuses=[500, 200]).start()
    try:
        hook_for(receiver.url)
        hand_raise(session=session, message="")
        delivery = WebhookDelivery.objects.get()
        before = timezone.now()
        tasks.webhook_deliver.call(delivery.pk)
        delivery.refresh_from_db()
        assert delivery.status == "failed" and delivery.attempts == 1 and delivery.last_status_code == 500
        first_wait = (delivery.next_attempt_at - before).total_seconds()
        assert 9 <= first_wait <= 30
        (retry,) = deliver_tasks()  # the next attempt is queued to run after the backoff
        assert 9 <= (retry.run_after - before).total_seconds() <= 30
        tasks.webhook_deliver.call(delivery.pk)  # not due yet: a no-op
        assert len(receiver.received) == 1
        make_due(delivery)
        tasks.webhook_deliver.call(delivery.pk)
        delivery.refresh_from_db()
        assert delivery.status == "delivered" and delivery.attempts == 2
        assert list(delivery.attempt_log.values_list("status_code", flat=True)) == [500, 200]
        assert "500" in delivery.attempt_log.first().error
        assert (
            json.loads(receiver.received[0].body)["delivery_id"] == json.loads(receiver.received[1].body)["delivery_id"]
        )
    finally:
        receiver.stop()


@pytest.mark.django_db
def test_a_receiver_that_was_down_gets_the_delivery_when_it_is_back(session):
    port = free_port()
    hook_for(f"http://127.0.0.1:{port}/hook")
    hand_raise(session=session, message="")
    delivery = WebhookDelivery.objects.get()
    assert webhooks.delivery_attempt(delivery_pk=delivery.pk) == 10
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.last_status_code is None
    assert "Connection" in delivery.last_error or "refused" in delivery.last_error.lower()
    receiver = Receiver(port=port).start()
    try:
        make_due(delivery)
        assert webhooks.delivery_attempt(delivery_pk=delivery.pk) is None
        delivery.refresh_from_db()
        assert delivery.status == "delivered" and delivery.attempts == 2
        assert len(receiver.received) == 1
    finally:
        receiver.stop()


@pytest.mark.django_db
def test_gives_up_after_the_schedule_with_every_attempt_recorded(session, settings):
    settings.NOTIFY_RETRY_SCHEDULE = [1, 2, 3]
    receiver = Receiver(statuses=[503]).start()
    try:
        hook_for(receiver.url)
        hand_raise(session=session, message="")
        delivery = WebhookDelivery.objects.get()
        delays = []
        for _ in range(4):
            make_due(delivery)
            delays.append(webhooks.delivery_attempt(delivery_pk=delivery.pk))
            delivery.refresh_from_db()
        assert delays == [1, 2, 3, None]
        assert delivery.status == "gave_up" and delivery.attempts == 4 and delivery.next_attempt_at is None
        assert list(WebhookAttempt.objects.filter(delivery=delivery).values_list("status_code", flat=True)) == [503] * 4
        make_due(delivery)
        assert webhooks.delivery_attempt(delivery_pk=delivery.pk) is None  # given up: no fifth POST
        assert len(receiver.received) == 4
    finally:
        receiver.stop()


# -- a hanging receiver delays nobody --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_a_hanging_receiver_does_not_delay_ingestion_or_the_ack(ws_connect, student, proctor, baseline, settings):
    from channels.db import database_sync_to_async

    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    receiver = Receiver(hang=10).start()
    try:
        exam = await database_sync_to_async(make_exam)(proctor)
        await database_sync_to_async(session_start)(exam=exam, user=student)
        await database_sync_to_async(hook_for)(receiver.url)
        socket = await ws_connect(student)
        await socket.send("join_exam", exam_id=exam.pk)
        await socket.expect("joined_exam")
        slowest = 0.0
        for index, activity in enumerate(MISCONDUCT):
            started = time.monotonic()
            await socket.send("suspicious_activity", exam_id=exam.pk, client_event_id=f"e{index}", **activity)
            await socket.expect("activity_logged")
            slowest = max(slowest, time.monotonic() - started)
        started = time.monotonic()
        await socket.send("raise_hand", exam_id=exam.pk, message="help")
        await socket.expect("action_ok")
        slowest = max(slowest, time.monotonic() - started)
        assert slowest < 1.0  # the POST is the worker's: not on this path at all

        deliveries = await database_sync_to_async(list)(WebhookDelivery.objects.order_by("id"))
        assert {d.event for d in deliveries} == {"high_risk_alert", "hand_raised"}
        assert all(d.status == "pending" and d.attempts == 0 for d in deliveries)
        assert receiver.received == []

        # The worker's attempt is bounded by WEBHOOK_TIMEOUT_SECONDS and recorded as a failure.
        started = time.monotonic()
        await database_sync_to_async(webhooks.delivery_attempt)(delivery_pk=deliveries[0].pk)
        assert time.monotonic() - started < 5
        failed = await database_sync_to_async(WebhookDelivery.objects.get)(pk=deliveries[0].pk)
        assert failed.status == "failed" and "timed out" in failed.last_error.lower()
    finally:
        receiver.stop()


@pytest.mark.django_db
def test_rest_batch_ingestion_returns_quickly_with_a_hanging_receiver(api_client, student, session, baseline):
    receiver = Receiver(hang=10).start()
    try:
        hook_for(receiver.url)
        started = time.monotonic()
        events_ingest(
            [
                IngestRequest(session.pk, parse_activity({"exam_id": session.exam_id, **activity}))
                for activity in MISCONDUCT
            ]
        )
        assert time.monotonic() - started < 1.0
        assert WebhookDelivery.objects.filter(event="high_risk_alert", status="pending").exists()
    finally:
        receiver.stop()


# -- webhook_add -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_webhook_add_stores_the_webhook_and_prints_its_id(capsys):
    call_command(
        "webhook_add",
        "--url",
        "https://hooks.example.org/x",
        "--secret",
        "k",
        "--events",
        "hand_raised,high_risk_alert",
    )
    printed = capsys.readouterr().out.strip()
    hook = Webhook.objects.get(pk=int(printed))
    assert hook.url == "https://hooks.example.org/x" and hook.secret == "k" and hook.active
    assert hook.events == ["high_risk_alert", "hand_raised"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "events", "complaint"),
    [
        ("ftp://example.org/x", "hand_raised", "url"),
        ("example.org/x", "hand_raised", "url"),
        ("https://example.org/x", "hand_raised,coffee_break", "coffee_break"),
        ("https://example.org/x", ",", "events"),
    ],
)
def test_webhook_add_refuses_bad_urls_and_unknown_events(url, events, complaint):
    with pytest.raises(CommandError, match=complaint):
        call_command("webhook_add", "--url", url, "--secret", "k", "--events", events)
    assert not Webhook.objects.exists()


# -- admin -----------------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(db) -> Client:
    admin_user = get_user_model().objects.create_superuser(
        email="root@example.org", password="pw-123456789", name="Root"
    )
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.mark.django_db
def test_admin_pages_render_with_attempts_and_a_masked_secret(superuser_client, session):
    hook = hook_for("http://127.0.0.1:9/hook")
    hand_raise(session=session, message="")
    delivery = WebhookDelivery.objects.get()
    webhooks.delivery_attempt(delivery_pk=delivery.pk)  # refused: one failed attempt to show
    pages = [
        reverse("admin:monitoring_webhook_changelist"),
        reverse("admin:monitoring_webhook_add"),
        reverse("admin:monitoring_webhook_change", args=[hook.pk]),
        reverse("admin:monitoring_webhookdelivery_changelist") + "?status__exact=failed&event__exact=hand_raised",
        reverse("admin:monitoring_webhookdelivery_change", args=[delivery.pk]),
        reverse("admin:monitoring_alertemail_changelist"),
    ]
    for page in pages:
        response = superuser_client.get(page)
        assert response.status_code == 200, page
        assert SECRET not in response.content.decode(), page
    change = superuser_client.get(reverse("admin:monitoring_webhook_change", args=[hook.pk])).content.decode()
    assert 'type="checkbox" name="events" value="second_review_required"' in change
    detail = superuser_client.get(
        reverse("admin:monitoring_webhookdelivery_change", args=[delivery.pk])
    ).content.decode()
    assert "ConnectionRefusedError" in detail or "refused" in detail


@pytest.mark.django_db
def test_admin_adds_a_webhook_with_checkboxes_and_keeps_the_secret_on_edit(superuser_client):
    response = superuser_client.post(
        reverse("admin:monitoring_webhook_add"),
        {"url": "https://hooks.example.org/a", "secret": "abc", "events": ["hand_raised"], "active": "on"},
    )
    assert response.status_code == 302
    hook = Webhook.objects.get()
    assert hook.events == ["hand_raised"] and hook.secret == "abc" and hook.created_by.email == "root@example.org"
    superuser_client.post(
        reverse("admin:monitoring_webhook_change", args=[hook.pk]),
        {"url": "https://hooks.example.org/b", "secret": "", "events": ["hand_raised", "session_flagged"]},
    )
    hook.refresh_from_db()
    assert hook.url.endswith("/b") and hook.secret == "abc" and not hook.active
    bad = superuser_client.post(
        reverse("admin:monitoring_webhook_add"), {"url": "ftp://x.org/", "secret": "abc", "events": ["hand_raised"]}
    )
    assert bad.status_code == 200 and Webhook.objects.count() == 1


@pytest.mark.django_db
def test_admin_retry_now_queues_a_given_up_delivery(superuser_client, session, django_capture_on_commit_callbacks):
    hook_for("http://127.0.0.1:9/hook")
    hand_raise(session=session, message="")
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="gave_up", next_attempt_at=None, attempts=7)
    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_client.post(
            reverse("admin:monitoring_webhookdelivery_changelist"),
            {"action": "retry_now", "_selected_action": [delivery.pk]},
        )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.next_attempt_at <= timezone.now()
    assert len(deliver_tasks()) == 1


def _trail(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


@pytest.mark.django_db
def test_webhook_add_is_audited_with_who_and_where_but_never_the_secret(capsys):
    boss = ProctorFactory(is_superuser=True)
    call_command(
        "webhook_add", "--url", "https://hooks.example.org/x", "--secret", "topsecret", "--events", "hand_raised",
        "--by", boss.email,
    )  # fmt: skip
    hook = Webhook.objects.get(pk=int(capsys.readouterr().out.strip()))
    [entry] = _trail("webhook_create")
    assert entry.actor == boss and entry.target_id == str(hook.pk)
    assert entry.details == {"url": "https://hooks.example.org/x", "events": ["hand_raised"], "active": True}
    assert "topsecret" not in json.dumps(entry.details)
    with pytest.raises(CommandError, match="staff"):
        call_command("webhook_add", "--url", "https://x.org/", "--secret", "k", "--events", "hand_raised",
                     "--by", "nobody@example.org")  # fmt: skip


@pytest.mark.django_db
def test_creating_editing_and_deleting_a_webhook_in_the_admin_are_audited(superuser_client):
    superuser_client.post(
        reverse("admin:monitoring_webhook_add"),
        {"url": "https://hooks.example.org/a", "secret": "abc", "events": ["hand_raised"], "active": "on"},
    )
    hook = Webhook.objects.get()
    superuser_client.post(
        reverse("admin:monitoring_webhook_change", args=[hook.pk]),
        {"url": "https://hooks.example.org/b", "secret": "new-secret", "events": ["hand_raised"], "active": "on"},
    )
    superuser_client.post(reverse("admin:monitoring_webhook_delete", args=[hook.pk]), {"post": "yes"})

    [created], [edited], [deleted] = _trail("webhook_create"), _trail("webhook_update"), _trail("webhook_delete")
    root = get_user_model().objects.get(email="root@example.org")
    assert created.actor == edited.actor == deleted.actor == root
    assert edited.details == {
        "url": {"from": "https://hooks.example.org/a", "to": "https://hooks.example.org/b"},
        "secret": "changed",
    }
    assert deleted.details["url"] == "https://hooks.example.org/b" and not Webhook.objects.exists()
    assert not any("new-secret" in json.dumps(e.details) or "abc" in json.dumps(e.details) for e in (created, edited))
    # An edit that changes nothing records nothing.
    webhooks.webhook_update(webhook=hook_for("https://hooks.example.org/c"), by=root, data={"active": True})
    assert len(_trail("webhook_update")) == 1


@pytest.mark.django_db
def test_retry_now_in_the_admin_is_audited(superuser_client, session, django_capture_on_commit_callbacks):
    hook_for("http://127.0.0.1:9/hook")
    hand_raise(session=session, message="")
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="gave_up", next_attempt_at=None, attempts=7)
    with django_capture_on_commit_callbacks(execute=True):
        superuser_client.post(
            reverse("admin:monitoring_webhookdelivery_changelist"),
            {"action": "retry_now", "_selected_action": [delivery.pk]},
        )
    [entry] = _trail("webhook_retry")
    assert entry.actor.email == "root@example.org" and entry.target_id == str(delivery.pk)
    assert entry.details["status_was"] == "gave_up" and entry.details["delivery_id"] == str(delivery.delivery_id)


@pytest.mark.django_db
def test_a_proctor_cannot_see_the_global_webhooks(proctor):
    from accounts.services import proctor_add_to_group

    proctor_add_to_group(user=proctor)
    client = Client()
    client.force_login(proctor)
    assert client.get(reverse("admin:monitoring_webhook_changelist")).status_code == 403
    assert client.get(reverse("admin:monitoring_webhookdelivery_changelist")).status_code == 403


# -- email to the course's staff -------------------------------------------------------------------


@pytest.fixture
def course_session(request, student, proctor):
    if "baseline" in request.fixturenames:
        request.getfixturevalue("baseline")  # calibrated before the session starts (its snapshot)
    course = Course.objects.create(code="BIO101", name="Biology")
    CourseStaff.objects.create(course=course, user=proctor)
    CourseStaff.objects.create(course=course, user=ProctorFactory(email="ta@example.org"))
    ProctorFactory(email="elsewhere@example.org")  # staff of no course: hears nothing
    Enrollment.objects.create(course=course, student=student)
    exam = make_exam(proctor, course=course)
    return session_start(exam=exam, user=student)


@pytest.mark.django_db
def test_a_high_risk_alert_emails_the_course_staff_from_the_outbox(
    course_session, proctor, baseline, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ingest(course_session, MISCONDUCT)
    assert mail.outbox == []  # never in the ingest path
    rows = list(AlertEmail.objects.filter(session=course_session))
    assert rows and len({row.risk_level for row in rows}) == len(rows)  # one per level
    assert DBTaskResult.objects.filter(task_path__endswith="alert_email_send").count() == len(rows)
    for row in rows:
        tasks.alert_email_send.call(row.pk)
    assert len(mail.outbox) == len(rows)
    message = mail.outbox[0]
    assert sorted(message.to) == sorted([proctor.email, "ta@example.org"])
    assert course_session.exam.name in message.subject
    assert AlertEmail.objects.filter(status="delivered").count() == len(rows)


@pytest.mark.django_db
def test_an_exam_without_a_course_emails_nobody_unless_a_fallback_is_set(session, baseline, settings):
    ingest(session, MISCONDUCT)
    assert Alert.objects.filter(session=session).exists()
    assert not AlertEmail.objects.exists()
    settings.ALERT_EMAIL_FALLBACK = ["security@example.org"]
    alert = Alert.objects.filter(session=session).first()
    AlertEmail.objects.all().delete()
    row = email.alert_email_store(alert=alert, session=session)
    assert row.recipients == ["security@example.org"]
    assert email.alert_email_store(alert=alert, session=session) is None  # same level: rate-limited


# -- the real worker -------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.slow
def test_the_real_worker_delivers_within_seconds(tmp_path, receiver, seed_cache):
    """`db_worker` (as `make run` starts it) picks up a committed delivery and POSTs it."""
    seed_cache.copy(MIGRATED, tmp_path / "worker.sqlite3")
    database_url = f"sqlite:///{tmp_path / 'worker.sqlite3'}"
    manage(
        "webhook_add", "--url", receiver.url, "--secret", SECRET, "--events", "hand_raised", database_url=database_url
    )
    script = (
        "from tests.factories import ProctorFactory, StudentFactory\n"
        "from tests.monitoring.conftest import make_exam\n"
        "from exams.services import session_start\n"
        "from monitoring.proctoring.hands import hand_raise\n"
        "student = StudentFactory()\n"
        "session = session_start(exam=make_exam(ProctorFactory()), user=student)\n"
        "hand_raise(session=session, message='from the worker test')\n"
    )
    manage("shell", "-c", script, database_url=database_url)
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--interval", "0.2", "--no-startup-delay", "--no-reload"],
        cwd=ROOT,
        env=child_env(database_url=database_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    # The clock starts when the worker says it runs: a Python and Django start-up on a busy machine
    # (the suite's other workers, other jobs) can take longer than the delivery itself is allowed.
    started = threading.Event()
    log: list[str] = []

    def read_log() -> None:
        for line in worker.stderr:
            log.append(line)
            if "Starting worker" in line:
                started.set()

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    try:
        assert started.wait(60), f"db_worker did not start: {''.join(log)[-2000:]}"
        assert receiver.arrived.wait(15), f"the worker did not deliver within 15 s of starting: {''.join(log)[-2000:]}"
        body = json.loads(receiver.received[0].body)
        assert body["event"] == "hand_raised" and body["data"]["message"] == "from the worker test"
        signature = "sha256=" + hmac.new(SECRET.encode(), receiver.received[0].body, hashlib.sha256).hexdigest()
        assert receiver.received[0].headers["X-ExamPulse-Signature"] == signature
    finally:
        worker.terminate()
        worker.wait(10)
        reader.join(10)
