"""`manage.py rescore`: risk recomputed from stored events, with filters, dry run and a change summary."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from exams.models import Exam, ExamSession
from monitoring.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_models(settings, tmp_path):
    settings.EXAMPULSE = {**settings.EXAMPULSE, "MODEL_DIR": str(tmp_path / "models")}


def _session(user, exam, *, days_ago: int = 0) -> ExamSession:
    started = timezone.now() - timedelta(days=days_ago)
    return ExamSession.objects.create(
        exam=exam, user=user, started_at=started, deadline_at=started + timedelta(hours=1), status="submitted"
    )


def _events(session, events, *, technical: bool = False) -> None:
    base = session.started_at
    for i, (event_type, data) in enumerate(events):
        Event.objects.create(
            session=session,
            event_type=event_type,
            event_data=data,
            timestamp=base + timedelta(seconds=i + 1),
            is_technical=technical,
        )


def _rescore(*args) -> str:
    out = StringIO()
    call_command("rescore", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def exam(proctor):
    return Exam.objects.create(name="Rescore exam", duration_minutes=60, created_by=proctor)


def test_rescore_recomputes_risk_from_stored_events(student, exam):
    session = _session(student, exam)
    _events(session, [("tab_switch", {})] * 11 + [("window_focus", {"blur_duration_ms": 130_000})])
    output = _rescore()
    session.refresh_from_db()
    assert session.risk_score == 0.435
    assert session.risk_level == "medium"
    assert session.integrity_score == 57
    assert session.behaviour["tab_switches"] == 11
    assert session.risk_components["components"]["tab_switch"]["reason"] == "11 tab switches > 10"
    assert "Rescored 1 session(s): 1 score(s) and 1 level(s) changed." in output
    assert "0.0000 (low) -> 0.4350 (medium)" in output


def test_a_second_rescore_changes_nothing(student, exam):
    _events(_session(student, exam), [("tab_switch", {})] * 5)
    _rescore()
    assert "0 score(s) and 0 level(s) changed" in _rescore()


def test_technical_events_are_never_scored(student, exam):
    session = _session(student, exam)
    _events(session, [("tab_switch", {})] * 11, technical=True)
    _rescore()
    session.refresh_from_db()
    assert session.risk_score == 0.0
    assert session.behaviour["events"] == 0


def test_dry_run_reports_but_writes_nothing(student, exam):
    session = _session(student, exam)
    _events(session, [("tab_switch", {})] * 11)
    output = _rescore("--dry-run")
    session.refresh_from_db()
    assert session.risk_score == 0.0
    assert session.behaviour == {}
    assert "1 score(s) and 1 level(s) would change. Dry run: nothing written." in output


def test_filters_select_sessions_by_exam_session_and_start_date(student, other_student, exam, proctor):
    other_exam = Exam.objects.create(name="Other", duration_minutes=60, created_by=proctor)
    recent = _session(student, exam)
    old = _session(other_student, exam, days_ago=30)
    elsewhere = _session(student, other_exam)
    for session in (recent, old, elsewhere):
        _events(session, [("tab_switch", {})] * 3)

    assert "Rescored 1 session(s)" in _rescore("--session", str(old.pk))
    assert ExamSession.objects.get(pk=old.pk).risk_score == 0.15
    assert ExamSession.objects.get(pk=recent.pk).risk_score == 0.0

    since = (timezone.now() - timedelta(days=1)).date().isoformat()
    assert "Rescored 1 session(s)" in _rescore("--exam", str(exam.pk), "--since", since)
    assert ExamSession.objects.get(pk=recent.pk).risk_score == 0.15
    assert ExamSession.objects.get(pk=elsewhere.pk).risk_score == 0.0


def test_no_matching_sessions_is_said_plainly(exam):
    assert "No sessions match" in _rescore("--exam", str(exam.pk))


def test_a_bad_since_date_is_a_clear_error():
    with pytest.raises(CommandError, match="not a date"):
        _rescore("--since", "last tuesday")
    with pytest.raises(CommandError, match="not a valid date"):
        _rescore("--since", "2024-13-45")


def test_a_session_whose_events_were_purged_keeps_its_stored_risk(student, exam):
    session = _session(student, exam, days_ago=400)
    _events(session, [("tab_switch", {})] * 11)
    _rescore()
    call_command("purge_events", "--older-than", "365", "--yes", "--no-progress", stdout=StringIO())
    assert not Event.objects.filter(session=session).exists()

    output = _rescore()
    session.refresh_from_db()
    assert session.risk_score == 0.3
    assert session.risk_level == "medium"
    assert session.behaviour["tab_switches"] == 11
    assert "Rescored 0 session(s)" in output
    assert f"session {session.pk}: kept 0.3000 (medium): its events were purged (0 of 11 remain)" in output
    assert "1 session(s) skipped" in output


def test_rescore_rebuilds_each_events_risk_after_for_the_chart(student, exam):
    from monitoring.review.selectors import risk_series

    session = _session(student, exam)
    _events(session, [("tab_switch", {})] * 11)
    Event.objects.filter(session=session).update(risk_score_after=0.0)
    _rescore()
    risks = [risk for _at, risk in risk_series(session)]
    # (start, 0), then 1 switch: 0, 2-4: 0.5*0.3, 5-10: 0.8*0.3, 11: 1.0*0.3
    assert risks == [0.0, 0.0, 0.15, 0.15, 0.15, 0.24, 0.24, 0.24, 0.24, 0.24, 0.24, 0.3]
    session.refresh_from_db()
    assert risks[-1] == session.risk_score


def test_rescore_writes_an_audit_entry_for_each_session_it_rescored(student, exam):
    from accounts.models import AuditEntry

    session = _session(student, exam)
    _events(session, [("tab_switch", {})] * 3)
    _rescore("--dry-run")
    assert not AuditEntry.objects.exists()
    _rescore()
    [entry] = AuditEntry.objects.filter(action="session_rescore")
    assert entry.actor is None
    assert entry.target_id == str(session.pk)
    # Made with the ORM, the session has no baseline snapshot (as one from before they were kept).
    assert entry.details == {
        "from": 0.0, "to": 0.15, "events": 3, "kept_because": "", "via": "manage.py rescore",
        "incidents_from": 0, "incidents_to": 0,
        "baseline_used": "current baseline (no snapshot recorded)",
    }  # fmt: skip


def test_rescore_counts_the_flagged_incidents_from_the_stored_events(student, exam):
    session = _session(student, exam)
    _events(session, [("tab_switch", {}), ("paste", {}), ("typing_sample", {"wpm": 40})])
    Event.objects.filter(session=session, event_type="tab_switch").update(severity="medium")
    Event.objects.filter(session=session, event_type="paste").update(severity="high")
    # A technical event of any severity is never an incident (nor scored).
    _events(session, [("disconnected", {})], technical=True)
    Event.objects.filter(session=session, event_type="disconnected").update(severity="medium")

    dry = _rescore("--dry-run")
    assert "Flagged-incident counts (events of medium or high severity): 1 would change." in dry
    assert ExamSession.objects.get(pk=session.pk).flagged_incidents_count == 0
    output = _rescore()
    assert "Flagged-incident counts (events of medium or high severity): 1 changed." in output
    assert ExamSession.objects.get(pk=session.pk).flagged_incidents_count == 2
    assert "Flagged-incident counts (events of medium or high severity): 0 changed." in _rescore()
