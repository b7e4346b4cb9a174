"""Erasure erases every copy: `delete_student_data` leaves nothing of a student's behaviour anywhere.

The tables are discovered through Django's app registry, not listed here: every model with a foreign
key to the user model, to a session, or to a model erasure deletes must be named in
`monitoring.privacy.STUDENT_DATA` (erased, or kept with the reason), so a table added later fails
this test until erasure covers it. The data is seeded through the product's own paths (ingestion,
raise hand, alerts, their webhook deliveries and emails, verdicts, presence, baseline), then every
row of every table is searched for what the student said and did.
"""

from __future__ import annotations

import io
import json

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command

from accounts.models import AuditEntry
from exams.courses import course_create, course_students_add
from exams.models import ExamSession
from exams.reviews import session_review
from exams.services import session_start, session_submit
from monitoring.ingest.activity import parse_activity
from monitoring.ingest.services import IngestRequest, events_ingest
from monitoring.live.presence import presence_join
from monitoring.models import Alert
from monitoring.notify import webhooks
from monitoring.privacy import STUDENT_DATA, Erased, Kept
from monitoring.proctoring.hands import hand_answer, hand_raise
from scoring.services import baseline_add_sample
from tests.factories import ProctorFactory, StudentFactory
from tests.monitoring.conftest import make_exam

pytestmark = pytest.mark.django_db

# Copies that hold a student's data without a foreign key to them (a JSON payload naming them).
KNOWN_COPIES = {"monitoring.WebhookDelivery"}
# What the student did and said, unique to this test: none of it may survive anywhere.
BEHAVIOUR = {"hand": "HAND-MARKER-7f3 is question 4 about gases?", "capability": "CAP-MARKER-9b1"}
MISCONDUCT = [
    *({"type": "tab_switch"} for _ in range(11)),
    {"type": "window_focus", "blur_duration_ms": 130_000},
    {"type": "typing_sample", "wpm": 200},
]


def _erased_models() -> set:
    return {apps.get_model(label) for label, rule in STUDENT_DATA.items() if isinstance(rule, Erased)}


def _linked_models() -> set[str]:
    """Every model with a relation to the user model, to a session, or to a model erasure deletes."""
    sources = {get_user_model(), ExamSession, *_erased_models()}
    linked = set()
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.get_fields():
            if field.is_relation and getattr(field, "concrete", False) and field.related_model in sources:
                linked.add(model._meta.label)
    return linked


def test_every_table_linked_to_a_student_is_either_erased_or_kept_on_purpose():
    linked = _linked_models()
    unclassified = sorted(linked - set(STUDENT_DATA))
    assert not unclassified, (
        f"{unclassified} can hold a student's data: add each to monitoring.privacy.STUDENT_DATA, as Erased "
        "(and make delete_student_data remove it) or as Kept with the reason"
    )
    stale = sorted(set(STUDENT_DATA) - linked - KNOWN_COPIES - {get_user_model()._meta.label})
    assert not stale, f"{stale} are named in STUDENT_DATA but no longer linked to a student"
    erased = {label for label, rule in STUDENT_DATA.items() if isinstance(rule, Erased)}
    assert erased >= KNOWN_COPIES
    assert all(rule.why if isinstance(rule, Kept) else rule.what for rule in STUDENT_DATA.values())


def _take_exam(student, exam, proctor, *, hand: str, capability: str) -> ExamSession:
    """A sitting through the product's paths: behaviour, an alert (webhook and email), a raised hand and
    its answer, presence, then a submit that flags the session and a violation verdict."""
    for wpm in (40, 42, 38):
        baseline_add_sample(user=student, sample={"typing_speed_wpm": wpm, "mouse_speed_pxs": 400})
    session = session_start(exam=exam, user=student)
    presence_join(channel_name=f"chan-{student.pk}", user=student, exam=exam, session=session, role="student")
    for activity in [*MISCONDUCT, {"type": "capability_unavailable", "capability": capability}]:
        (outcome,) = events_ingest([IngestRequest(session.pk, parse_activity({"exam_id": exam.pk, **activity}))])
        assert not isinstance(outcome, Exception), outcome
    raised, _ = hand_raise(session=session, message=hand)
    hand_answer(hand=raised, by=proctor, message="Yes, the atmosphere.")
    session = session_submit(session=session, answers={"q1": "4"})
    session_review(session=session, by=proctor, review_status="violation", note="Left the tab", reason_code="other")
    return session


def _rows_mentioning(texts: list[str]) -> dict[str, list[str]]:
    """Every table whose rows hold any of these texts (any column, JSON included): label -> texts found."""
    found: dict[str, list[str]] = {}
    for model in apps.get_models(include_auto_created=True):
        for row in model.objects.values():
            dumped = json.dumps(row, default=str, ensure_ascii=False)
            hits = [text for text in texts if text in dumped]
            if hits:
                found.setdefault(model._meta.label, []).extend(hits)
    return found


def test_erasure_leaves_nothing_of_the_students_behaviour_and_no_copy_of_them_but_the_trail(settings, tmp_path):
    settings.EXAMPULSE = {**settings.EXAMPULSE, "MODEL_DIR": str(tmp_path / "models")}
    proctor, other_proctor = ProctorFactory(), ProctorFactory()
    student = StudentFactory(name="Zelda Erasure-Quux", email="zelda.quux@example.org")
    bystander = StudentFactory(name="Bram Bystander", email="bram@example.org")
    course = course_create(by=proctor, code="ERASE-1", name="Erasure")
    course_students_add(course=course, by=proctor, emails=[student.email, bystander.email])
    exam = make_exam(proctor, course=course)
    hook = webhooks.webhook_create(
        url="http://127.0.0.1:9/hook",
        secret="s",
        events=["high_risk_alert", "hand_raised", "session_flagged", "second_review_required"],
        created_by=other_proctor,
    )
    target = _take_exam(student, exam, proctor, **BEHAVIOUR)
    _take_exam(bystander, exam, proctor, hand="Bram's own question", capability="bram-cap")
    for delivery in hook.deliveries.all():
        webhooks.delivery_attempt(delivery_pk=delivery.pk)  # refused: an attempt row per delivery

    rows = {label: _rows_of(label, student) for label in STUDENT_DATA if isinstance(STUDENT_DATA[label], Erased)}
    unseeded = sorted(label for label, count in rows.items() if count == 0)
    assert not unseeded, f"seed {unseeded} in this test: it must prove erasure removes them"
    others_before = {label: _rows_of(label, bystander) for label in rows}
    assert _rows_mentioning([student.name, *BEHAVIOUR.values()])  # the copies exist before

    call_command(
        "delete_student_data", "--email", student.email, "--by", proctor.email, "--reason", "request 7", "--yes",
        stdout=io.StringIO(),
    )  # fmt: skip

    assert {label: _rows_of(label, student) for label in rows} == dict.fromkeys(rows, 0)
    assert {label: _rows_of(label, bystander) for label in rows} == others_before
    # Nothing the student did or said is left anywhere, in any column of any table.
    assert _rows_mentioning(list(BEHAVIOUR.values())) == {}
    # Their name and email are left only in their own account and in the staff's audit trail,
    # whose record of this erasure says who asked and why.
    assert set(_rows_mentioning([student.name, student.email])) <= {"accounts.User", "accounts.AuditEntry"}
    [erasure] = AuditEntry.objects.filter(action="student_data_delete")
    assert erasure.actor == proctor and erasure.details["reason"] == "request 7"
    assert not AuditEntry.objects.exclude(pk=erasure.pk).filter(details__icontains=student.name).exists()
    # The record an institution keeps: the result and the verdict.
    target.refresh_from_db()
    assert target.score is not None and target.review_status == "violation" and target.behaviour == {}
    assert target.baseline_snapshot == {}  # the baseline it was scored against was their behaviour too
    assert not Alert.objects.filter(session=target).exists()


def _rows_of(label: str, student) -> int:
    rule = STUDENT_DATA[label]
    session_ids = list(ExamSession.objects.filter(user=student).values_list("pk", flat=True))
    return apps.get_model(label).objects.filter(rule.rows(student.pk, session_ids)).count()
