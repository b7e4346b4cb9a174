"""Short-answer grading over REST: who may grade, what a score may be, how the session's score and
grading_status follow, the "needs grading" list, and the backfill of existing sessions."""

from __future__ import annotations

import importlib
import math
from datetime import timedelta

import pytest
from django.apps import apps

from accounts.models import AuditEntry
from exams.exceptions import InvalidScores
from exams.grading import session_grade
from exams.models import Course, CourseStaff, Enrollment, ExamSession, SessionReview
from exams.sessions import session_expire_if_due, session_reset, session_start, session_submit, session_terminate
from tests.exams.conftest import QUESTIONS, age_session, assert_no_answer_key, make_exam
from tests.factories import ProctorFactory

pytestmark = pytest.mark.django_db

RIGHT = {"q1": "4", "q2": ["5", "2"], "q3": "Disorder, roughly."}
TWO_SHORT = [
    *QUESTIONS,
    {"id": "q4", "text": "Define work.", "type": "short", "answer": "Force times distance.", "points": 2},
]
MCQ_ONLY = [q for q in QUESTIONS if q["type"] != "short"]


def finished(exam, student, answers=None) -> ExamSession:
    session = session_start(exam=exam, user=student)
    return session_submit(session=session, answers=RIGHT if answers is None else answers)


def grade(client, session, scores, note=""):
    return client.post(f"/api/exams/sessions/{session.pk}/grade", {"scores": scores, "note": note}, format="json")


class TestGradingStatusAtTheEnd:
    def test_an_exam_with_short_questions_ends_pending(self, exam, student):
        session = finished(exam, student)
        assert session.grading_status == "pending"
        assert (session.score, session.max_score) == (3, 6)

    def test_an_exam_without_short_questions_ends_auto(self, proctor, student):
        session = finished(make_exam(proctor, questions=MCQ_ONLY), student, {"q1": "4"})
        assert session.grading_status == "auto"

    def test_expiry_sets_pending(self, exam, student):
        session = age_session(session_start(exam=exam, user=student), past_deadline=timedelta(minutes=5))
        session = session_expire_if_due(session=session)
        assert session.auto_submitted and session.grading_status == "pending"

    def test_terminate_sets_pending(self, exam, student, proctor):
        session = session_start(exam=exam, user=student)
        session = session_terminate(session=session, by=proctor, reason="Phone on the desk.", reason_code="phone_use")
        assert session.grading_status == "pending"


class TestGradeHappyPath:
    def test_proctor_grades_the_short_answer_and_the_score_is_recomputed(self, api_client, exam, student, proctor):
        session = finished(exam, student)
        response = grade(api_client(proctor), session, {"q3": 2.5}, note="Good, missed the units.")
        assert response.status_code == 200, response.json()
        data = response.json()["data"]
        assert (data["score"], data["max_score"], data["grading_status"]) == (5.5, 6, "complete")
        assert data["pending_manual_points"] == 0
        entry = data["grading"]["per_question"]["q3"]
        assert entry["awarded"] == 2.5 and entry["graded_by"] == {"id": proctor.pk, "name": proctor.name}
        assert entry["graded_at"]
        # The proctor view carries the reference answer beside the grading.
        assert data["exam"]["questions"][2]["answer"] == "SECRET-REFERENCE-ANSWER"
        session.refresh_from_db()
        assert (session.score, session.grading_status) == (5.5, "complete")
        review = SessionReview.objects.get(session=session)
        assert (review.kind, review.by, review.note) == ("grading", proctor, "Good, missed the units.")
        assert review.details["scores"] == {"q3": 2.5}
        audit = AuditEntry.objects.get(action="session_grade")
        assert audit.actor == proctor and audit.target_id == str(session.pk) and audit.details["scores"] == {"q3": 2.5}

    def test_integer_points_and_zero_are_accepted(self, api_client, exam, student, proctor):
        session = finished(exam, student)
        assert grade(api_client(proctor), session, {"q3": 0}).json()["data"]["score"] == 3
        assert grade(api_client(proctor), session, {"q3": 3}).json()["data"]["score"] == 6

    def test_partial_grading_stays_pending_until_every_short_question_has_points(self, api_client, proctor, student):
        session = finished(make_exam(proctor, questions=TWO_SHORT), student)
        client = api_client(proctor)
        first = grade(client, session, {"q4": 1}).json()["data"]
        assert (first["grading_status"], first["score"], first["pending_manual_points"]) == ("pending", 4, 3)
        second = grade(client, session, {"q3": 3}).json()["data"]
        assert (second["grading_status"], second["score"], second["max_score"]) == ("complete", 7, 8)

    def test_regrading_replaces_the_points_and_keeps_both_records(self, api_client, exam, student, proctor):
        session = finished(exam, student)
        other = ProctorFactory()
        grade(api_client(proctor), session, {"q3": 1})
        data = grade(api_client(other), session, {"q3": 2}, note="Second look.").json()["data"]
        assert data["score"] == 5
        entry = data["grading"]["per_question"]["q3"]
        assert entry["graded_by"]["id"] == other.pk
        assert [h["awarded"] for h in entry["history"]] == [1]
        assert list(SessionReview.objects.filter(session=session).values_list("details__scores__q3", flat=True)) == [
            1,
            2,
        ]
        assert AuditEntry.objects.filter(action="session_grade").count() == 2

    def test_a_session_graded_before_grading_was_stored_is_graded_from_its_answers(
        self, api_client, exam, student, proctor
    ):
        session = finished(exam, student)
        ExamSession.objects.filter(pk=session.pk).update(grading={})
        data = grade(api_client(proctor), session, {"q3": 1}).json()["data"]
        assert (data["score"], data["grading_status"]) == (4, "complete")


class TestGradeRefusals:
    def test_in_progress_session_is_409(self, api_client, exam, student, proctor):
        session = session_start(exam=exam, user=student)
        response = grade(api_client(proctor), session, {"q3": 1})
        assert response.status_code == 409
        assert response.json()["error"].startswith("This exam session is still in progress")

    def test_a_reset_attempt_is_409(self, api_client, exam, student, proctor):
        session = finished(exam, student)
        session_reset(session=session, by=proctor, reason="Fire alarm.")
        assert grade(api_client(proctor), session, {"q3": 1}).status_code == 409

    @pytest.mark.parametrize(
        ("scores", "named", "says"),
        [
            ({"q1": 1}, "q1", "only short questions"),
            ({"q2": 1}, "q2", "only short questions"),
            ({"nope": 1}, "nope", "no such question"),
            ({"q3": -0.5}, "q3", "from 0 to 3"),
            ({"q3": 3.01}, "q3", "from 0 to 3"),
            ({"q3": True}, "q3", "must be a number"),
            ({"q3": "2"}, "q3", "must be a number"),
            ({"q3": None}, "q3", "must be a number"),
            ({"q3": [1]}, "q3", "must be a number"),
        ],
    )
    def test_bad_scores_are_400_naming_the_question(self, api_client, exam, student, proctor, scores, named, says):
        session = finished(exam, student)
        response = grade(api_client(proctor), session, scores)
        assert response.status_code == 400, response.json()
        assert says in response.json()["details"][named]
        session.refresh_from_db()
        assert (session.score, session.grading_status) == (3, "pending")
        assert not SessionReview.objects.exists()

    def test_one_bad_score_refuses_the_whole_request(self, api_client, proctor, student):
        session = finished(make_exam(proctor, questions=TWO_SHORT), student)
        response = grade(api_client(proctor), session, {"q3": 2, "q4": 5})
        assert response.status_code == 400 and response.json()["details"].keys() == {"code", "q4"}
        assert response.json()["details"]["code"] == "invalid_scores"
        session.refresh_from_db()
        assert session.grading["per_question"]["q3"]["awarded"] is None

    @pytest.mark.parametrize(
        "body", [{}, {"scores": {}}, {"scores": []}, {"scores": "q3"}, {"scores": {"q3": 1}, "note": "x" * 2001}]
    )
    def test_malformed_bodies_are_400(self, api_client, exam, student, proctor, body):
        session = finished(exam, student)
        response = api_client(proctor).post(f"/api/exams/sessions/{session.pk}/grade", body, format="json")
        assert response.status_code == 400

    @pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity"])
    def test_nan_and_infinity_are_refused(self, api_client, exam, student, proctor, raw):
        session = finished(exam, student)
        body = '{"scores": {"q3": ' + raw + "}}"
        response = api_client(proctor).post(
            f"/api/exams/sessions/{session.pk}/grade", body, content_type="application/json"
        )
        assert response.status_code == 400

    def test_the_service_refuses_nan_and_infinity_too(self, exam, student, proctor):
        session = finished(exam, student)
        for bad in (math.nan, math.inf):
            with pytest.raises(InvalidScores) as caught:
                session_grade(session=session, by=proctor, scores={"q3": bad})
            assert caught.value.details == {"q3": "points must be a number."}

    def test_students_get_403(self, api_client, exam, student):
        session = finished(exam, student)
        assert grade(api_client(student), session, {"q3": 3}).status_code == 403
        session.refresh_from_db()
        assert session.grading_status == "pending"

    def test_anonymous_gets_401(self, api_client, exam, student):
        assert grade(api_client(), finished(exam, student), {"q3": 3}).status_code == 401

    def test_unknown_session_is_404(self, api_client, proctor):
        assert (
            api_client(proctor)
            .post("/api/exams/sessions/999999/grade", {"scores": {"q3": 1}}, format="json")
            .status_code
            == 404
        )


class TestScoping:
    @pytest.fixture
    def course_exam(self, proctor, student):
        course = Course.objects.create(code="PHY101", name="Physics")
        CourseStaff.objects.create(course=course, user=proctor)
        Enrollment.objects.create(course=course, student=student)
        return make_exam(proctor, course=course)

    def test_a_proctor_off_the_course_gets_404_and_nothing_changes(self, api_client, course_exam, student):
        session = finished(course_exam, student)
        outsider = ProctorFactory()
        response = grade(api_client(outsider), session, {"q3": 3})
        assert response.status_code == 404
        session.refresh_from_db()
        assert session.grading_status == "pending" and not SessionReview.objects.exists()

    def test_the_course_staff_can_grade(self, api_client, course_exam, student, proctor):
        session = finished(course_exam, student)
        assert grade(api_client(proctor), session, {"q3": 3}).json()["data"]["grading_status"] == "complete"


class TestWhatStudentsSee:
    def test_student_sees_score_and_grading_status_but_never_the_reference(self, api_client, exam, student, proctor):
        session = finished(exam, student)
        grade(api_client(proctor), session, {"q3": 2})
        client = api_client(student)
        detail = client.get(f"/api/exams/sessions/{session.pk}")
        assert detail.status_code == 200
        data = detail.json()["data"]
        assert (data["score"], data["max_score"], data["grading_status"]) == (5, 6, "complete")
        assert_no_answer_key(detail)
        assert "graded_by" not in detail.content.decode() and "grading" not in data
        listed = client.get("/api/exams/sessions")
        assert listed.json()["data"][0]["grading_status"] == "complete"
        assert_no_answer_key(listed)

    def test_pending_is_visible_to_the_student(self, api_client, exam, student):
        session = finished(exam, student)
        data = api_client(student).get(f"/api/exams/sessions/{session.pk}").json()["data"]
        assert data["grading_status"] == "pending"


class TestNeedsGradingList:
    def test_proctor_list_filters_on_grading_status_and_leaves_reset_attempts_out(
        self, api_client, proctor, student, other_student
    ):
        exam = make_exam(proctor)
        pending = finished(exam, student)
        graded = finished(exam, other_student)
        session_grade(session=graded, by=proctor, scores={"q3": 3})
        auto = finished(make_exam(proctor, questions=MCQ_ONLY), student, {"q1": "4"})
        reset = finished(make_exam(proctor, name="Other"), other_student)
        session_reset(session=reset, by=proctor, reason="Wrong room.")
        client = api_client(proctor)

        def ids(query):
            response = client.get(f"/api/exams/sessions?{query}")
            assert response.status_code == 200
            return {row["id"] for row in response.json()["data"]}

        assert ids("grading_status=pending") == {pending.pk}
        assert ids("grading_status=pending&voided=true") == set()
        assert ids("grading_status=complete") == {graded.pk}
        assert ids("grading_status=auto") == {auto.pk}
        assert client.get("/api/exams/sessions?grading_status=nope").status_code == 400


class TestBackfill:
    @pytest.fixture
    def backfill(self):
        return importlib.import_module("exams.migrations.0006_grading_status_backfill").backfill_grading_status

    def test_existing_sessions_get_their_grading_status(self, backfill, proctor, student, other_student):
        exam = make_exam(proctor)
        ungraded = finished(exam, student)
        graded = finished(exam, other_student)
        session_grade(session=graded, by=proctor, scores={"q3": 1})
        auto = finished(make_exam(proctor, questions=MCQ_ONLY), student, {"q1": "4"})
        reset = finished(make_exam(proctor, name="Reset"), student)
        session_reset(session=reset, by=proctor, reason="Wrong paper.")
        still_open = session_start(exam=make_exam(proctor, name="Open"), user=other_student)
        no_grading = finished(make_exam(proctor, name="Old"), other_student)
        ExamSession.objects.filter(pk=no_grading.pk).update(grading={})
        # As 0005 left them: every row `auto`.
        ExamSession.objects.update(grading_status="auto")

        backfill(apps, None)

        status = dict(ExamSession.objects.values_list("pk", "grading_status"))
        assert status[ungraded.pk] == "pending"
        assert status[graded.pk] == "complete"
        assert status[auto.pk] == "auto"
        assert status[no_grading.pk] == "pending"
        assert status[reset.pk] == "auto"
        assert status[still_open.pk] == "auto"

    def test_grading_status_of_reads_the_per_question_points(self):
        from exams.questions import grading_status_of

        assert grading_status_of(MCQ_ONLY, {}) == "auto"
        assert grading_status_of(QUESTIONS, {}) == "pending"
        assert grading_status_of(QUESTIONS, {"per_question": {"q3": {"awarded": None}}}) == "pending"
        assert grading_status_of(QUESTIONS, {"per_question": {"q3": {"awarded": 0}}}) == "complete"
        assert grading_status_of(QUESTIONS, {"per_question": {"q3": {"awarded": True}}}) == "pending"
