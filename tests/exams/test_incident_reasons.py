"""The incident-reason taxonomy: served, required where docs/design.md says, refused when unknown, filterable."""

from __future__ import annotations

import pytest

from accounts.models import AuditEntry
from exams import reasons, services
from exams.models import ExamSession

pytestmark = pytest.mark.django_db


def test_the_taxonomy_is_a_fixed_list_of_unique_codes_in_the_five_categories():
    codes = [reason.code for reason in reasons.REASONS]
    assert len(codes) == len(set(codes)) and 15 <= len(codes) <= 25
    assert {reason.category for reason in reasons.REASONS} == set(reasons.CATEGORIES)
    assert {"unauthorised_person", "phone_use", "impersonation", "connection_lost", "other"} <= set(codes)
    assert reasons.WARNING_LIMIT in codes


@pytest.mark.parametrize("path", ["/api/incident-reasons", "/api/incident-reasons/"])
def test_reasons_are_served_to_any_signed_in_user(api_client, student, path):
    response = api_client(student).get(path)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data == reasons.as_json()
    assert set(data[0]) == {"code", "label", "category"}


def test_reasons_need_a_signed_in_user_and_are_in_the_schema(api_client, anon_client):
    assert api_client().get("/api/incident-reasons").status_code == 401
    schema = anon_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content.decode()
    assert "/api/incident-reasons" in schema and "/second-review" in schema


class TestTerminate:
    def _post(self, api_client, proctor, session, body):
        return api_client(proctor).post(f"/api/exams/sessions/{session.pk}/terminate", body, format="json")

    def test_without_a_reason_code_is_a_400_and_nothing_changes(self, api_client, exam, student, proctor):
        session = services.session_start(exam=exam, user=student)
        response = self._post(api_client, proctor, session, {"reason": "Phone in hand."})
        assert response.status_code == 400
        assert response.json()["details"]["code"] == "reason_required"
        session.refresh_from_db()
        assert session.status == "in_progress"
        assert not AuditEntry.objects.exists()

    @pytest.mark.parametrize("code", ["cheating", "PHONE_USE", "phone use"])
    def test_an_unknown_reason_code_is_a_400(self, api_client, exam, student, proctor, code):
        session = services.session_start(exam=exam, user=student)
        response = self._post(api_client, proctor, session, {"reason": "x", "reason_code": code})
        assert response.status_code == 400
        assert response.json()["details"]["code"] == "invalid_reason"
        assert ExamSession.objects.get(pk=session.pk).status == "in_progress"

    def test_a_known_code_is_stored_with_the_free_text_and_audited(self, api_client, exam, student, proctor):
        session = services.session_start(exam=exam, user=student)
        response = self._post(
            api_client, proctor, session, {"reason": "Second person", "reason_code": "unauthorised_person"}
        )
        assert response.status_code == 200
        assert response.json()["data"]["termination_reason_code"] == "unauthorised_person"
        session.refresh_from_db()
        assert (session.termination_reason, session.termination_reason_code) == ("Second person", "unauthorised_person")
        entry = AuditEntry.objects.get(action="session_terminate")
        assert entry.details["reason_code"] == "unauthorised_person"


class TestPause:
    def test_pause_takes_an_optional_reason_code_and_refuses_an_unknown_one(self, api_client, exam, student, proctor):
        session = services.session_start(exam=exam, user=student)
        url = f"/api/exams/sessions/{session.pk}/pause"
        bad = api_client(proctor).post(url, {"reason": "Check ID", "reason_code": "nope"}, format="json")
        assert bad.status_code == 400 and bad.json()["details"]["code"] == "invalid_reason"
        ok = api_client(proctor).post(url, {"reason": "Check ID", "reason_code": "id_mismatch"}, format="json")
        assert ok.status_code == 200
        assert AuditEntry.objects.get(action="session_pause").details == {
            "reason": "Check ID",
            "reason_code": "id_mismatch",
        }
        event = session.events.get(event_type="session_paused")
        assert event.event_data["reason_code"] == "id_mismatch"


class TestVerdictReasons:
    def _review(self, api_client, proctor, session, **body):
        return api_client(proctor).post(f"/api/exams/sessions/{session.pk}/review", body, format="json")

    @pytest.mark.parametrize("status", ["suspicious", "violation"])
    def test_suspicious_and_violation_need_a_known_reason_code(self, api_client, exam, student, proctor, status):
        session = services.session_start(exam=exam, user=student)
        missing = self._review(api_client, proctor, session, review_status=status, note="seen")
        assert missing.status_code == 400 and missing.json()["details"]["code"] == "reason_required"
        unknown = self._review(api_client, proctor, session, review_status=status, note="seen", reason_code="bad")
        assert unknown.status_code == 400 and unknown.json()["details"]["code"] == "invalid_reason"
        assert ExamSession.objects.get(pk=session.pk).review_status == "pending"

    def test_a_suspicious_verdict_stores_its_reason(self, api_client, exam, student, proctor):
        session = services.session_start(exam=exam, user=student)
        response = self._review(
            api_client, proctor, session, review_status="suspicious", note="notes", reason_code="notes_or_materials"
        )
        assert response.status_code == 200
        data = response.json()["data"]
        assert (data["review_reason_code"], data["second_review"]) == ("notes_or_materials", "")

    def test_a_clean_verdict_keeps_no_reason_code(self, api_client, exam, student, proctor):
        session = services.session_start(exam=exam, user=student)
        response = self._review(api_client, proctor, session, review_status="clean", reason_code="phone_use")
        assert response.status_code == 200
        assert ExamSession.objects.get(pk=session.pk).review_reason_code == ""


def test_the_session_list_filters_on_the_verdict_or_termination_reason(
    api_client, exam, student, other_student, proctor
):
    reviewed = services.session_start(exam=exam, user=student)
    services.session_review(session=reviewed, by=proctor, review_status="suspicious", note="n", reason_code="talking")
    ended = services.session_start(exam=exam, user=other_student)
    services.session_terminate(session=ended, by=proctor, reason="talked", reason_code="talking")
    client = api_client(proctor)

    def ids(query):
        response = client.get(f"/api/exams/sessions?{query}")
        assert response.status_code == 200
        return sorted(row["id"] for row in response.json()["data"])

    assert ids("reason_code=talking") == sorted([reviewed.pk, ended.pk])
    assert ids("reason_code=phone_use") == []
    assert client.get("/api/exams/sessions?reason_code=bogus").status_code == 400
