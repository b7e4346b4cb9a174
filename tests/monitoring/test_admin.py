"""The admin as the proctor's review console: who gets in, what proctors see, and what they can do."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEntry
from accounts.services import PROCTORS_GROUP, proctor_add_to_group, proctor_create
from exams.models import ExamSession
from monitoring.ingest.activity import parse_activity
from monitoring.ingest.services import IngestRequest, events_ingest
from monitoring.models import Alert, Event
from tests.factories import DEFAULT_PASSWORD, StudentFactory
from tests.monitoring.conftest import make_exam

pytestmark = pytest.mark.django_db

CONSOLE_PERMISSIONS = {
    "exams.view_exam",
    "exams.add_exam",
    "exams.change_exam",
    "exams.view_examsession",
    "exams.change_examsession",
    "exams.view_course",
    "exams.add_course",
    "exams.change_course",
    "exams.view_enrollment",
    "exams.add_enrollment",
    "exams.view_coursestaff",
    "exams.add_coursestaff",
    # Accommodations per course and per exam, and baseline samples: read here, set over REST (audited).
    "exams.view_courseaccommodation",
    "exams.view_examallowance",
    "monitoring.view_event",
    "monitoring.view_alert",
    "monitoring.change_alert",
    "scoring.view_baseline",
    "scoring.view_baselinesample",
    "accounts.view_user",
    "accounts.view_auditentry",
}
# Enough to cross the high-sensitivity threshold (0.5) against the `baseline` fixture (40 wpm):
# 11 tab switches (0.3) + 130 s away (0.135) + 200 wpm (0.18) = 0.615.
MISCONDUCT = [
    *({"type": "tab_switch"} for _ in range(11)),
    {"type": "window_focus", "blur_duration_ms": 130_000},
    {"type": "typing_sample", "wpm": 200},
]


@pytest.fixture(autouse=True)
def _no_models(settings, tmp_path):
    settings.EXAMPULSE = {**settings.EXAMPULSE, "MODEL_DIR": str(tmp_path / "models")}


@pytest.fixture
def console(proctor) -> Client:
    """A logged-in proctor with the Proctors group, as `create_proctor` makes them."""
    assert proctor_add_to_group(user=proctor)
    client = Client()
    client.force_login(proctor)
    return client


def ingest(session, activities) -> None:
    for activity in activities:
        events_ingest([IngestRequest(session.pk, parse_activity({"exam_id": session.exam_id, **activity}))])


def change_url(session) -> str:
    return reverse("admin:exams_examsession_change", args=[session.pk])


# -- who gets in ---------------------------------------------------------------------------------


def test_student_cannot_log_in_to_the_admin(student):
    client = Client()
    response = client.post("/admin/login/?next=/admin/", {"username": student.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert "Please enter the correct email and password for a staff account" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_a_student_session_is_sent_to_the_admin_login(student):
    client = Client()
    client.force_login(student)
    response = client.get(reverse("admin:exams_examsession_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_created_proctor_is_staff_in_the_proctors_group_with_exactly_the_console_permissions():
    proctor = proctor_create(email="new.proctor@example.org", password="Corr3ct-Horse-Battery", name="New Proctor")
    assert proctor.is_staff and not proctor.is_superuser
    assert list(proctor.groups.values_list("name", flat=True)) == [PROCTORS_GROUP]
    assert proctor.get_all_permissions() == CONSOLE_PERMISSIONS


def test_proctors_group_grants_no_delete_and_no_account_editing():
    codenames = set(Group.objects.get(name=PROCTORS_GROUP).permissions.values_list("codename", flat=True))
    assert not {code for code in codenames if code.startswith("delete_")}
    assert "change_user" not in codenames
    assert "add_user" not in codenames


def test_proctor_sees_exactly_the_console_models_on_the_admin_index(console):
    response = console.get("/admin/")
    models = {
        (app["app_label"], model["object_name"]) for app in response.context["app_list"] for model in app["models"]
    }
    assert models == {
        ("accounts", "AuditEntry"),
        ("accounts", "User"),
        ("exams", "Course"),
        ("exams", "CourseAccommodation"),
        ("exams", "Exam"),
        ("exams", "ExamAllowance"),
        ("exams", "ExamSession"),
        ("monitoring", "Alert"),
        ("monitoring", "Event"),
        ("scoring", "Baseline"),
        ("scoring", "BaselineSample"),
    }


def test_proctor_can_view_but_not_change_a_user(console, student):
    url = reverse("admin:accounts_user_change", args=[student.pk])
    assert console.get(url).status_code == 200
    response = console.post(url, {"email": student.email, "name": "Renamed", "role": "proctor", "is_superuser": "on"})
    assert response.status_code == 403
    student.refresh_from_db()
    assert (student.name, student.role, student.is_superuser) != ("Renamed", "proctor", True)
    assert student.role == "student"


# -- the sessions list ---------------------------------------------------------------------------------


@pytest.fixture
def ranked_sessions(proctor):
    exam = make_exam(proctor, name="Ranked exam")
    rows = []
    for name, roll, risk, level in (
        ("Low Lou", "R-1", 0.1, "low"),
        ("High Hana", "R-2", 0.9, "high"),
        ("Mid Max", "R-3", 0.5, "medium"),
    ):
        user = StudentFactory(name=name, roll_number=roll)
        session = ExamSession.objects.create(
            exam=exam, user=user, started_at=exam.created_at, deadline_at=exam.created_at, status="submitted"
        )
        ExamSession.objects.filter(pk=session.pk).update(risk_score=risk, risk_level=level)
        rows.append(session)
    return exam, rows


def test_sessions_list_is_ordered_by_risk_with_the_level_in_words(console, ranked_sessions):
    response = console.get(reverse("admin:exams_examsession_changelist"))
    page = response.content.decode()
    assert [s.user.name for s in response.context["cl"].result_list] == ["High Hana", "Mid Max", "Low Lou"]
    assert '<span class="risk-badge risk-high">High · 0.90</span>' in page
    assert '<span class="risk-badge risk-low">Low · 0.10</span>' in page


def test_sessions_list_filters_by_risk_level_and_searches_by_roll_number(console, ranked_sessions):
    url = reverse("admin:exams_examsession_changelist")
    by_level = console.get(url, {"risk_level__exact": "medium"}).context["cl"].result_list
    by_roll = console.get(url, {"q": "R-2"}).context["cl"].result_list
    assert [s.user.name for s in by_level] == ["Mid Max"]
    assert [s.user.name for s in by_roll] == ["High Hana"]


def test_rendering_the_sessions_list_writes_nothing_and_shows_an_overdue_session(console, session):
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    ExamSession.objects.filter(pk=session.pk).update(deadline_at=timezone.now() - timedelta(hours=1))
    with CaptureQueriesContext(connection) as queries:
        response = console.get(reverse("admin:exams_examsession_changelist"))
    assert response.status_code == 200
    writes = [
        q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))
        and "django_session" not in q["sql"]
    ]  # fmt: skip
    assert writes == []
    session.refresh_from_db()
    assert session.status == "in_progress"
    assert "Overdue" in response.content.decode()


def test_sessions_cannot_be_added_or_deleted_in_the_admin(console, ranked_sessions):
    _, rows = ranked_sessions
    assert console.get(reverse("admin:exams_examsession_add")).status_code == 403
    assert (
        console.post(reverse("admin:exams_examsession_delete", args=[rows[0].pk]), {"post": "yes"}).status_code == 403
    )
    assert ExamSession.objects.filter(pk=rows[0].pk).exists()


# -- the session page ------------------------------------------------------------------------------------


def test_session_page_shows_chart_components_alerts_and_one_timeline(console, session, baseline):
    ingest(session, [{"type": "question_answered", "question_id": "q2", "time_spent_sec": 30}, *MISCONDUCT])
    response = console.get(change_url(session))
    page = response.content.decode()
    assert response.status_code == 200
    assert '<svg class="risk-chart" role="img"' in page
    assert page.count('class="alert-marker"') == Alert.objects.filter(session=session).count() >= 1
    assert "Tab switches" in page and "11 tab switches &gt; 10" in page
    timeline = [entry.label for entry in response.context["timeline"]]
    assert timeline[-1] == "Started the exam"
    assert "Answered q2" in timeline and "Switched tab" in timeline and "Alert raised (medium)" in timeline
    # The record is read-only: no Save button, and a POST to the change form saves nothing.
    assert 'name="_save"' not in page
    assert console.post(change_url(session), {"review_status": "clean"}).status_code == 405


def test_timeline_is_paginated_newest_first_with_milestones_on_the_right_page(console, session):
    ingest(session, [{"type": "right_click"} for _ in range(60)])
    first = console.get(change_url(session)).context["timeline"]
    second = console.get(change_url(session), {"page": 2}).context["timeline"]
    assert first.paginator.count == 60 and first.paginator.num_pages == 2
    assert [entry.label for entry in first].count("Right-clicked") == 50
    assert [entry.label for entry in second] == ["Right-clicked"] * 10 + ["Started the exam"]
    times = [entry.at for entry in [*first, *second]]
    assert times == sorted(times, reverse=True)


def test_review_form_sets_the_outcome_through_the_service_and_audits_it(console, proctor, session):
    response = console.post(
        reverse("admin:exams_examsession_review", args=[session.pk]),
        {"review_status": "suspicious", "note": "Eleven tab switches in a minute.", "reason_code": "tab_switching"},
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert (session.review_status, session.review_note, session.reviewed_by) == (
        "suspicious",
        "Eleven tab switches in a minute.",
        proctor,
    )
    entry = AuditEntry.objects.get(action="session_review", target_id=str(session.pk))
    assert entry.actor == proctor and entry.details["to"] == "suspicious"


def test_a_violation_without_a_note_is_refused(console, session):
    response = console.post(
        reverse("admin:exams_examsession_review", args=[session.pk]),
        {"review_status": "violation", "note": " "},
        follow=True,
    )
    assert "Say why: a note is required for a suspicious or violation outcome." in response.content.decode()
    session.refresh_from_db()
    assert session.review_status == "pending"


def test_resolving_an_alert_on_the_session_page_records_who_when_and_why(console, proctor, session, baseline):
    ingest(session, MISCONDUCT)
    alert = Alert.objects.get(session=session, alert_type="risk_threshold")
    response = console.post(
        reverse("admin:exams_examsession_resolve_alert", args=[session.pk, alert.pk]), {"note": "Fire alarm drill."}
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.resolved and alert.resolved_by == proctor and alert.resolved_at is not None
    assert alert.resolution_note == "Fire alarm drill."
    page = console.get(change_url(session)).content.decode()
    assert f"Resolved by {proctor.name}" in page


def test_action_urls_refuse_get(console, session):
    assert console.get(reverse("admin:exams_examsession_rescore", args=[session.pk])).status_code == 403


def test_rescore_button_recomputes_risk_from_stored_events_and_audits(console, proctor, session):
    ingest(session, [{"type": "tab_switch"} for _ in range(6)])
    ExamSession.objects.filter(pk=session.pk).update(risk_score=0.0, risk_level="low")
    console.post(reverse("admin:exams_examsession_rescore", args=[session.pk]))
    session.refresh_from_db()
    assert (session.risk_score, session.risk_level) == (0.24, "low")
    assert AuditEntry.objects.filter(action="session_rescore", actor=proctor, target_id=str(session.pk)).exists()


# -- actions on the selection ------------------------------------------------------------------------------


def test_csv_export_has_one_row_per_session_with_risk_components(console, session, baseline):
    ingest(session, MISCONDUCT)
    session.user.name = "=HYPERLINK(evil)"
    session.user.save()
    response = console.post(
        reverse("admin:exams_examsession_changelist"), {"action": "export_csv", "_selected_action": [session.pk]}
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 1
    row = rows[0]
    assert row["session_id"] == str(session.pk)
    assert row["student"] == "'=HYPERLINK(evil)"
    assert row["tab_switch_value"] == "1.0" and row["tab_switch_reason"] == "11 tab switches > 10"
    assert row["focus_value"] == "0.9"
    assert float(row["risk_score"]) == pytest.approx(0.615)
    alerts = Alert.objects.filter(session=session).count()
    assert alerts >= 1 and row["alerts"] == row["unresolved_alerts"] == str(alerts)


def test_csv_export_of_sessions_is_audited(console, proctor, session):
    console.post(
        reverse("admin:exams_examsession_changelist"), {"action": "export_csv", "_selected_action": [session.pk]}
    )
    [entry] = AuditEntry.objects.filter(action="export_csv", actor=proctor)
    assert entry.target_type == "examsession"
    assert entry.details == {"count": 1, "ids": [session.pk]}


def test_review_action_asks_for_a_note_then_reviews_every_selected_session(console, proctor, ranked_sessions):
    _, rows = ranked_sessions
    url = reverse("admin:exams_examsession_changelist")
    selected = [s.pk for s in rows[:2]]
    form = console.post(url, {"action": "set_review_status", "_selected_action": selected})
    assert form.status_code == 200 and 'name="review_status"' in form.content.decode()
    console.post(
        url,
        {
            "action": "set_review_status",
            "_selected_action": selected,
            "apply": "1",
            "review_status": "clean",
            "note": "",
        },
    )
    statuses = dict(ExamSession.objects.filter(pk__in=[s.pk for s in rows]).values_list("pk", "review_status"))
    assert statuses == {rows[0].pk: "clean", rows[1].pk: "clean", rows[2].pk: "pending"}
    assert AuditEntry.objects.filter(action="session_review", actor=proctor).count() == 2


def test_alert_admin_resolves_the_selected_alerts_through_the_service(console, proctor, session, baseline):
    ingest(session, MISCONDUCT)
    alert = Alert.objects.get(session=session, alert_type="risk_threshold")
    console.post(
        reverse("admin:monitoring_alert_changelist"),
        {"action": "resolve_alerts", "_selected_action": [alert.pk], "apply": "1", "note": "Reviewed the recording."},
    )
    alert.refresh_from_db()
    session.refresh_from_db()
    assert alert.resolved and alert.resolved_by == proctor and alert.resolution_note == "Reviewed the recording."
    assert session.open_high_alerts == 0
    assert AuditEntry.objects.filter(action="alert_resolve", actor=proctor, target_id=str(alert.pk)).exists()


def test_events_are_read_only_evidence(console, session):
    ingest(session, [{"type": "copy"}])
    event = Event.objects.get(session=session)
    assert console.get(reverse("admin:monitoring_event_change", args=[event.pk])).status_code == 200
    assert console.post(reverse("admin:monitoring_event_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert Event.objects.filter(pk=event.pk).exists()


# -- exams ------------------------------------------------------------------------------------------------


EXAM_FORM = {
    "name": "Admin-made exam",
    "description": "",
    "instructions": "",
    "status": "active",
    "duration_minutes": "45",
    "monitoring_sensitivity": "medium",
    "questions": '[{"id": "q1", "text": "1 + 1?", "type": "mcq", "options": ["1", "2"], "answer": "2"}]',
}


def test_proctor_creates_an_exam_in_the_admin_through_the_service(console, proctor):
    response = console.post(reverse("admin:exams_exam_add"), EXAM_FORM)
    assert response.status_code == 302
    from exams.models import Exam

    exam = Exam.objects.get(name="Admin-made exam")
    assert (exam.created_by, exam.total_questions, exam.duration_minutes) == (proctor, 1, 45)


def test_questions_of_a_started_exam_cannot_change_in_the_admin(console, exam, session):
    before = exam.questions
    response = console.post(
        reverse("admin:exams_exam_change", args=[exam.pk]), {**EXAM_FORM, "name": exam.name, "questions": "[]"}
    )
    assert response.status_code == 200
    assert "Questions cannot change once students have started the exam." in response.content.decode()
    exam.refresh_from_db()
    assert exam.questions == before


def test_the_baseline_list_shows_the_same_status_as_the_api(console, proctor, baseline, session):
    from rest_framework.test import APIClient

    from scoring.services import baseline_reset
    from tests.factories import ProctorFactory

    baseline_reset(user=baseline.user, actor=ProctorFactory(is_superuser=True))
    api = APIClient()
    api.force_authenticate(proctor)
    assert api.get(f"/api/baselines/{baseline.user_id}").json()["data"]["status"] == "reset"
    response = console.get(reverse("admin:scoring_baseline_changelist"))
    assert response.status_code == 200
    assert '<td class="field-status">reset</td>' in response.content.decode()
