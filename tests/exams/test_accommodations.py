"""Accommodations at three levels (institution: superusers; course: its staff; exam: whoever may change
it), added up once at session start and kept on the session; every change audited (issue 22, item 2)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from accounts.models import AuditEntry
from accounts.services import proctor_add_to_group
from exams.models import Course, CourseAccommodation, CourseStaff, Enrollment, ExamAllowance
from exams.sessions import session_start
from monitoring.ingest.risk import scoring_context_for
from scoring.services import baseline_add_sample
from tests.exams.conftest import make_exam
from tests.factories import ProctorFactory, StudentFactory

pytestmark = pytest.mark.django_db

SAMPLE = {"typing_speed_wpm": 40.0, "mouse_speed_pxs": 400.0, "avg_question_time_sec": 60.0}


@pytest.fixture
def campus():
    """Course A: proctor P1, student S1. Course B: proctor P2, student S2 (the issue's set-up)."""
    p1, p2 = ProctorFactory(), ProctorFactory()
    s1, s2 = StudentFactory(), StudentFactory()
    a = Course.objects.create(code="A", name="Course A")
    b = Course.objects.create(code="B", name="Course B")
    CourseStaff.objects.create(course=a, user=p1)
    CourseStaff.objects.create(course=b, user=p2)
    Enrollment.objects.create(course=a, student=s1)
    Enrollment.objects.create(course=b, student=s2)
    return {"P1": p1, "P2": p2, "S1": s1, "S2": s2, "A": a, "B": b}


def minutes(session) -> float:
    return (session.deadline_at - session.started_at) / timedelta(minutes=1)


class TestCourseLevel:
    def test_the_course_staff_set_read_merge_and_remove_and_each_change_is_audited(self, api_client, campus):
        s1, a = campus["S1"], campus["A"]
        client = api_client(campus["P1"])
        url = f"/api/courses/{a.pk}/accommodations/{s1.pk}"

        empty = client.get(url)
        put = client.put(url, {"extra_time_pct": 25, "note": "Reader's permit"}, format="json")
        patch = client.patch(url, {"exempt_signals": ["typing"]}, format="json")
        listed = client.get(f"/api/courses/{a.pk}/accommodations")
        delete = client.delete(url)

        assert empty.status_code == 200 and empty.json()["data"]["accommodations"] == {}
        assert put.status_code == 200
        assert patch.json()["data"]["accommodations"] == {
            "extra_time_pct": 25,
            "note": "Reader's permit",
            "exempt_signals": ["typing"],
        }
        assert [row["user"]["id"] for row in listed.json()["data"]] == [s1.pk]
        assert delete.status_code == 200 and not CourseAccommodation.objects.exists()
        trail = AuditEntry.objects.filter(target_id=str(s1.pk)).order_by("id")
        assert [e.action for e in trail] == [
            "course_accommodations_update",
            "course_accommodations_update",
            "course_accommodations_delete",
        ]
        assert trail[0].details == {
            "course_id": a.pk,
            "from": {},
            "to": {"extra_time_pct": 25, "note": "Reader's permit"},
            "via": "api",
        }
        assert all(e.actor == campus["P1"] for e in trail)

    def test_only_students_on_the_roster_and_only_the_courses_staff(self, api_client, campus):
        client = api_client(campus["P1"])
        outsider = client.put(
            f"/api/courses/{campus['A'].pk}/accommodations/{campus['S2'].pk}", {"extra_minutes": 5}, format="json"
        )
        student = api_client(campus["S1"]).get(f"/api/courses/{campus['A'].pk}/accommodations")

        assert outsider.status_code == 404 and outsider.json()["details"]["code"] == "not_on_roster"
        assert student.status_code == 403
        assert api_client(campus["P2"]).get(f"/api/courses/{campus['A'].pk}/accommodations").status_code == 404

    def test_bulk_set_by_email_and_id_reports_who_was_not_on_the_roster(self, api_client, campus):
        s1, a = campus["S1"], campus["A"]
        other = StudentFactory()
        Enrollment.objects.create(course=a, student=other)
        body = {
            "emails": [s1.email.upper(), campus["S2"].email, "nobody@example.org"],
            "user_ids": [other.pk, 999999],
            "accommodations": {"extra_minutes": 15, "note": "Room B: late start"},
        }

        response = api_client(campus["P1"]).post(f"/api/courses/{a.pk}/accommodations", body, format="json")

        assert response.status_code == 200, response.json()
        data = response.json()["data"]
        assert data == {
            "set": [s1.email, str(other.pk)],
            "not_enrolled": [campus["S2"].email],
            "unknown": ["nobody@example.org", "999999"],
        }
        assert {row.student_id for row in CourseAccommodation.objects.all()} == {s1.pk, other.pk}
        assert AuditEntry.objects.filter(action="course_accommodations_update").count() == 2

    def test_a_bad_shape_is_a_400_and_nothing_changes(self, api_client, campus):
        url = f"/api/courses/{campus['A'].pk}/accommodations/{campus['S1'].pk}"
        response = api_client(campus["P1"]).put(url, {"extra_minutes": -3}, format="json")
        assert response.status_code == 400
        assert not CourseAccommodation.objects.exists() and not AuditEntry.objects.exists()


class TestExamLevel:
    def test_whoever_may_change_the_exam_sets_allowances_and_no_one_else(self, api_client, campus):
        exam = make_exam(campus["P1"])  # open: any student may sit it, any proctor sees it
        url = f"/api/exams/{exam.pk}/allowances/{campus['S2'].pk}"

        mine = api_client(campus["P1"]).put(url, {"extra_minutes": 10, "note": "Sick note"}, format="json")
        theirs = api_client(campus["P2"]).put(url, {"extra_minutes": 90}, format="json")
        listed = api_client(campus["P1"]).get(f"/api/exams/{exam.pk}/allowances")

        assert mine.status_code == 200
        assert theirs.status_code == 403 and theirs.json()["details"]["code"] == "exam_not_yours"
        assert ExamAllowance.objects.get().accommodations == {"extra_minutes": 10, "note": "Sick note"}
        assert [row["user"]["id"] for row in listed.json()["data"]] == [campus["S2"].pk]
        entry = AuditEntry.objects.get(action="exam_allowance_update")
        assert entry.details == {
            "exam_id": exam.pk,
            "from": {},
            "to": {"extra_minutes": 10, "note": "Sick note"},
            "via": "api",
        }
        removed = api_client(campus["P1"]).delete(url)
        assert removed.status_code == 200 and not ExamAllowance.objects.exists()
        assert AuditEntry.objects.filter(action="exam_allowance_delete").count() == 1

    def test_a_course_exams_allowance_needs_a_student_on_its_roster(self, api_client, campus):
        exam = make_exam(campus["P1"], course=campus["A"])
        url = f"/api/exams/{exam.pk}/allowances/{campus['S2'].pk}"
        assert api_client(campus["P1"]).put(url, {"extra_minutes": 5}, format="json").status_code == 404


class TestCombination:
    def test_the_three_levels_add_up_at_start_and_the_session_keeps_where_each_came_from(self, api_client, campus):
        s1, a = campus["S1"], campus["A"]
        boss = ProctorFactory(is_superuser=True)
        exam = make_exam(campus["P1"], course=a, duration_minutes=30)
        assert (
            api_client(boss)
            .put(
                f"/api/users/{s1.pk}/accommodations", {"extra_time_pct": 50, "note": "Disability office"}, format="json"
            )
            .status_code
            == 200
        )
        p1 = api_client(campus["P1"])
        p1.put(f"/api/courses/{a.pk}/accommodations/{s1.pk}", {"extra_minutes": 10, "exempt_signals": ["mouse"]},
               format="json")  # fmt: skip
        p1.put(f"/api/exams/{exam.pk}/allowances/{s1.pk}", {"extra_minutes": 5, "exempt_signals": ["typing"]},
               format="json")  # fmt: skip

        session = session_start(exam=exam, user=s1)

        # 30 min + 50 % (15) + 10 + 5
        assert minutes(session) == 60
        applied = session.accommodations
        assert (applied["extra_time_pct"], applied["extra_minutes"], applied["exempt_signals"]) == (
            50,
            15,
            ["mouse", "typing"],
        )
        assert [source["level"] for source in applied["sources"]] == ["institution", "course", "exam"]
        assert applied["sources"][0]["note"] == "Disability office"
        assert applied["sources"][1]["set_by"] == campus["P1"].pk
        # Exemptions reach the scorer through the session's policy.
        assert scoring_context_for(session).policy.exempt_signals == frozenset({"mouse", "typing"})
        # A course's or an exam's own setting adds to the institution's, it never lowers it.
        p1.put(f"/api/courses/{a.pk}/accommodations/{s1.pk}", {"extra_time_pct": 0}, format="json")
        other = make_exam(campus["P1"], course=a, duration_minutes=30, name="Other")
        assert minutes(session_start(exam=other, user=s1)) == 45

    def test_a_change_after_the_start_moves_no_running_session(self, api_client, campus):
        s1, a = campus["S1"], campus["A"]
        exam = make_exam(campus["P1"], course=a, duration_minutes=30)
        session = session_start(exam=exam, user=s1)
        api_client(campus["P1"]).put(
            f"/api/courses/{a.pk}/accommodations/{s1.pk}", {"extra_minutes": 30}, format="json"
        )
        session.refresh_from_db()
        assert minutes(session) == 30 and session.accommodations["sources"] == []

    def test_the_proctors_session_detail_explains_the_accommodations_and_the_baseline(self, api_client, campus):
        s1, a = campus["S1"], campus["A"]
        baseline_add_sample(user=s1, sample=SAMPLE, via="test")
        CourseAccommodation.objects.create(course=a, student=s1, accommodations={"extra_minutes": 10, "note": "Why"})
        session = session_start(exam=make_exam(campus["P1"], course=a), user=s1)

        data = api_client(campus["P1"]).get(f"/api/exams/sessions/{session.pk}").json()["data"]
        mine = api_client(s1).get(f"/api/exams/sessions/{session.pk}").json()["data"]

        assert data["accommodations_applied"]["extra_minutes"] == 10
        assert data["accommodations_applied"]["sources"][0]["where"] == "A"
        assert data["baseline_used"]["sample_count"] == 1
        assert data["baseline_used"]["provenance"]["self_reported"] == 1
        assert "accommodations_applied" not in mine and "baseline_used" not in mine


class TestAdmin:
    def test_a_superuser_editing_accommodations_on_the_user_form_is_audited(self, client, campus):
        boss = ProctorFactory(is_superuser=True)
        s1 = campus["S1"]
        client.force_login(boss)
        page = client.get(f"/admin/accounts/user/{s1.pk}/change/")
        assert page.status_code == 200
        form = {
            "email": s1.email,
            "name": s1.name,
            "roll_number": s1.roll_number,
            "department": s1.department,
            "semester": s1.semester,
            "phone": "",
            "role": "student",
            "accommodations": json.dumps({"extra_minutes": 20, "note": "Office memo 12"}),
            "is_active": "on",
        }

        response = client.post(f"/admin/accounts/user/{s1.pk}/change/", form)

        assert response.status_code == 302, response.content.decode().split("errorlist")[1:]
        s1.refresh_from_db()
        assert s1.accommodations == {"extra_minutes": 20, "note": "Office memo 12"}
        entry = AuditEntry.objects.get(action="accommodations_update")
        assert entry.actor == boss and entry.details["via"] == "admin"
        assert entry.details["from"] == {} and entry.details["to"] == s1.accommodations

    def test_the_review_page_shows_the_accommodations_applied_and_their_sources(self, client, campus):
        s1, a = campus["S1"], campus["A"]
        CourseAccommodation.objects.create(
            course=a, student=s1, accommodations={"extra_minutes": 10, "note": "Injured wrist"}, updated_by=campus["P1"]
        )
        baseline_add_sample(user=s1, sample=SAMPLE, via="test")
        session = session_start(exam=make_exam(campus["P1"], course=a), user=s1)
        proctor_add_to_group(user=campus["P1"])
        client.force_login(campus["P1"])

        page = client.get(f"/admin/exams/examsession/{session.pk}/change/").content.decode()

        assert "What this session was timed and scored with" in page
        assert "Injured wrist" in page and "extra_minutes: 10" in page and campus["P1"].name in page
        assert "1 self-reported" in page
