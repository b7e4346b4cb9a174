"""Exams over REST: proctors create, change and delete them; students see only answer-free active exams."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEntry
from exams.models import Exam, ExamSession
from exams.sessions import session_start, session_submit
from tests.exams.conftest import QUESTIONS, age_session, assert_no_answer_key, make_exam

pytestmark = pytest.mark.django_db


def exam_body(**overrides):
    body = {
        "name": "Chemistry quiz",
        "duration_minutes": 20,
        "monitoring_sensitivity": "high",
        "status": "active",
        "questions": QUESTIONS,
    }
    body.update(overrides)
    return body


class TestCreate:
    def test_proctor_creates_an_exam_and_total_questions_follows_the_questions(self, api_client, proctor):
        response = api_client(proctor).post("/api/exams", exam_body(total_questions=99), format="json")
        assert response.status_code == 201
        data = response.json()["data"]
        exam = Exam.objects.get(pk=data["id"])
        assert exam.created_by == proctor
        assert exam.total_questions == 3 == data["total_questions"]
        assert exam.questions[0]["answer"] == "4"
        assert data["questions"][2]["answer"] == "SECRET-REFERENCE-ANSWER"

    def test_both_slash_forms_reach_the_list(self, api_client, proctor):
        client = api_client(proctor)
        assert client.post("/api/exams/", exam_body(), format="json").status_code == 201
        assert client.get("/api/exams").status_code == 200
        assert client.get("/api/exams/").json()["count"] == 1
        assert client.get("/api/exams5").status_code == 404

    def test_student_cannot_create_an_exam(self, api_client, student):
        response = api_client(student).post("/api/exams", exam_body(), format="json")
        assert response.status_code == 403
        assert not Exam.objects.exists()

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("duration_minutes", 0),
            ("duration_minutes", -5),
            ("duration_minutes", "soon"),
            ("duration_minutes", 10**12),
            ("monitoring_sensitivity", "extreme"),
            ("status", "open"),
            ("name", ""),
            ("name", "x" * 201),
            ("questions", "not a list"),
            ("questions", [{"id": "q", "text": "t", "type": "mcq", "options": ["a", "b"], "answer": "z"}]),
            ("scheduled_date", "tomorrow"),
            ("allow_tab_switch", "perhaps"),
        ],
    )
    def test_invalid_fields_get_a_400_naming_the_field(self, api_client, proctor, field, value):
        response = api_client(proctor).post("/api/exams", exam_body(**{field: value}), format="json")
        assert response.status_code == 400
        body = response.json()
        assert field in body["details"]
        assert body["error"].startswith("Invalid input")
        assert not Exam.objects.exists()

    @pytest.mark.parametrize("payload", ["[1, 2]", '"text"', "{not json", "null"])
    def test_non_object_or_malformed_bodies_get_a_400(self, api_client, proctor, payload):
        response = api_client(proctor).post("/api/exams", payload, content_type="application/json")
        assert response.status_code == 400
        assert "error" in response.json()


class TestStudentView:
    def test_student_lists_only_active_exams_without_answers(self, api_client, proctor, student):
        active = make_exam(proctor)
        make_exam(proctor, name="Draft", status="scheduled")
        make_exam(proctor, name="Old", status="completed")
        response = api_client(student).get("/api/exams")
        assert response.status_code == 200
        assert [exam["id"] for exam in response.json()["data"]] == [active.pk]
        assert response.json()["data"][0]["questions"][0] == {
            "id": "q1",
            "text": "2 + 2 = ?",
            "type": "mcq",
            "options": ["3", "4", "5"],
            "points": 1,
        }
        assert_no_answer_key(response)

    def test_the_list_says_per_exam_whether_it_can_be_started_and_start_agrees(
        self, api_client, proctor, student, django_assert_max_num_queries
    ):
        fresh = make_exam(proctor, name="Fresh")
        running = make_exam(proctor, name="Running")
        session_start(exam=running, user=student)
        done = make_exam(proctor, name="Done")
        session_submit(session=session_start(exam=done, user=student), answers={})
        later = make_exam(proctor, name="Later", scheduled_date=timezone.now() + timedelta(days=1))
        reset = make_exam(proctor, name="Reset")
        ExamSession.objects.filter(pk=session_start(exam=reset, user=student).pk).update(
            voided=True, status="submitted"
        )
        overdue = make_exam(proctor, name="Overdue")
        age_session(session_start(exam=overdue, user=student), past_deadline=timedelta(minutes=5))
        client = api_client(student)

        with django_assert_max_num_queries(8):
            listed = {exam["name"]: exam for exam in client.get("/api/exams").json()["data"]}

        states = {name: (exam["can_start"], exam["start_refusal"]) for name, exam in listed.items()}
        assert states == {
            "Fresh": (True, None),
            "Running": (True, None),
            "Done": (False, "session_already_submitted"),
            "Later": (False, "exam_not_open"),
            "Reset": (True, None),
            "Overdue": (False, "session_already_submitted"),
        }
        assert listed["Fresh"]["attempt"] is None and listed["Reset"]["attempt"] is None
        assert listed["Running"]["attempt"]["status"] == "in_progress"
        assert listed["Done"]["attempt"]["status"] == "submitted"
        # What the list says is what starting answers.
        for exam in (fresh, running, done, later, reset, overdue):
            item = listed[exam.name]
            response = client.post(f"/api/exams/{exam.pk}/start")
            if item["can_start"]:
                assert response.status_code in (200, 201), exam.name
            else:
                assert (response.status_code, response.json()["details"]["code"]) == (409, item["start_refusal"])
        # The detail says it too.
        detail = client.get(f"/api/exams/{done.pk}").json()["data"]
        assert (detail["can_start"], detail["start_refusal"]) == (False, "session_already_submitted")

    def test_student_detail_has_no_answers(self, api_client, exam, student):
        response = api_client(student).get(f"/api/exams/{exam.pk}")
        assert response.status_code == 200
        assert len(response.json()["data"]["questions"]) == 3
        assert_no_answer_key(response)

    def test_a_scheduled_exam_is_invisible_to_students(self, api_client, proctor, student):
        draft = make_exam(proctor, status="scheduled")
        assert api_client(student).get(f"/api/exams/{draft.pk}").status_code == 404

    def test_a_taken_exam_stays_visible_to_its_student_after_it_closes(self, api_client, exam, student):
        session_start(exam=exam, user=student)
        Exam.objects.filter(pk=exam.pk).update(status="completed")
        response = api_client(student).get(f"/api/exams/{exam.pk}")
        assert response.status_code == 200
        assert_no_answer_key(response)

    def test_proctor_filters_the_list_by_status(self, api_client, proctor):
        make_exam(proctor)
        draft = make_exam(proctor, status="scheduled")
        response = api_client(proctor).get("/api/exams?status=scheduled")
        assert [exam["id"] for exam in response.json()["data"]] == [draft.pk]
        assert api_client(proctor).get("/api/exams?status=bogus").status_code == 400


class TestUpdateAndDelete:
    def test_patch_changes_only_the_given_fields(self, api_client, proctor, exam):
        response = api_client(proctor).patch(f"/api/exams/{exam.pk}/", {"status": "completed"}, format="json")
        assert response.status_code == 200
        exam.refresh_from_db()
        assert exam.status == "completed"
        assert exam.name == "Physics midterm"

    def test_put_needs_the_required_fields(self, api_client, proctor, exam):
        response = api_client(proctor).put(f"/api/exams/{exam.pk}", {"status": "completed"}, format="json")
        assert response.status_code == 400
        assert "name" in response.json()["details"]

    def test_questions_are_frozen_once_a_student_started(self, api_client, proctor, exam, student):
        session_start(exam=exam, user=student)
        new_questions = [{"id": "n", "text": "New?", "type": "short"}]
        response = api_client(proctor).patch(f"/api/exams/{exam.pk}", {"questions": new_questions}, format="json")
        assert response.status_code == 409
        assert response.json()["error"]
        exam.refresh_from_db()
        assert exam.questions[0]["id"] == "q1"

    def test_an_untaken_exam_can_be_deleted_and_the_deletion_is_audited(self, api_client, proctor, exam):
        response = api_client(proctor).delete(f"/api/exams/{exam.pk}")
        assert response.status_code == 200
        assert not Exam.objects.filter(pk=exam.pk).exists()
        assert AuditEntry.objects.filter(action="exam_delete", actor=proctor, target_id=str(exam.pk)).exists()

    def test_a_taken_exam_cannot_be_deleted(self, api_client, proctor, exam, student):
        session_start(exam=exam, user=student)
        response = api_client(proctor).delete(f"/api/exams/{exam.pk}")
        assert response.status_code == 409
        assert Exam.objects.filter(pk=exam.pk).exists()

    def test_only_the_creator_or_a_superuser_deletes_an_untaken_open_exam(self, api_client, proctor, exam):
        from tests.factories import ProctorFactory

        response = api_client(ProctorFactory()).delete(f"/api/exams/{exam.pk}")
        assert response.status_code == 403
        assert response.json()["details"]["code"] == "exam_not_yours"
        assert Exam.objects.filter(pk=exam.pk).exists()
        assert api_client(ProctorFactory(is_superuser=True)).delete(f"/api/exams/{exam.pk}").status_code == 200
        assert not Exam.objects.filter(pk=exam.pk).exists()

    def test_a_taken_exam_is_never_deleted_not_even_by_a_superuser(self, api_client, exam, student):
        from tests.factories import ProctorFactory

        session_start(exam=exam, user=student)
        response = api_client(ProctorFactory(is_superuser=True)).delete(f"/api/exams/{exam.pk}")
        assert response.status_code == 409
        assert "set its status to completed" in response.json()["error"]
        assert Exam.objects.filter(pk=exam.pk).exists()

    def test_unknown_and_huge_ids_are_404(self, api_client, proctor):
        client = api_client(proctor)
        assert client.get("/api/exams/999999").status_code == 404
        assert client.get(f"/api/exams/{10**30}").status_code == 404
        assert client.patch(f"/api/exams/{10**30}", {"name": "x"}, format="json").status_code == 404
