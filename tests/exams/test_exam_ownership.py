"""A proctor rules only what they staff: changing an exam needs what deleting needs (its creator,
its course's staff, or a superuser), over REST and the admin; moving it into a course also needs
that course's staff; a session already started keeps its student's access (issue 22, item 1)."""

from __future__ import annotations

import json

import pytest

from accounts.models import AuditEntry
from accounts.services import proctor_add_to_group
from exams.models import Course, CourseStaff, Enrollment, Exam
from exams.sessions import session_start
from monitoring.live.frames import CLIENT_EVENTS
from tests.exams.conftest import make_exam
from tests.factories import ProctorFactory, StudentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def campus():
    """Course A: proctor P1, students S1 and S3. Course B: proctor P2, student S2 (the issue's set-up)."""
    p1, p2 = ProctorFactory(), ProctorFactory()
    s1, s2, s3 = StudentFactory(), StudentFactory(), StudentFactory()
    a = Course.objects.create(code="A", name="Course A")
    b = Course.objects.create(code="B", name="Course B")
    CourseStaff.objects.create(course=a, user=p1)
    CourseStaff.objects.create(course=b, user=p2)
    for course, student in ((a, s1), (a, s3), (b, s2)):
        Enrollment.objects.create(course=course, student=student)
    return {"P1": p1, "P2": p2, "S1": s1, "S2": s2, "S3": s3, "A": a, "B": b}


def test_issue_22_item_1_another_proctor_cannot_change_or_take_over_an_open_exam(api_client, campus):
    """P1's open exam (no course), S3 mid-exam: P2 can neither change its policy nor move it to P2's
    course, and S3 still submits."""
    exam = make_exam(campus["P1"], allow_copy_paste=False)
    session_start(exam=exam, user=campus["S3"])
    p2 = api_client(campus["P2"])

    policy = p2.patch(f"/api/exams/{exam.pk}", {"allow_copy_paste": True, "allow_tab_switch": True}, format="json")
    move = p2.patch(f"/api/exams/{exam.pk}", {"course": campus["B"].pk}, format="json")
    put = p2.put(f"/api/exams/{exam.pk}", {"name": "Mine now", "duration_minutes": 5}, format="json")

    for response in (policy, move, put):
        assert response.status_code == 403, response.json()
        assert response.json()["details"]["code"] == "exam_not_yours"
    exam.refresh_from_db()
    assert (exam.allow_copy_paste, exam.allow_tab_switch, exam.course_id, exam.name) == (
        False,
        False,
        None,
        "Physics midterm",
    )
    assert api_client(campus["P1"]).get(f"/api/exams/{exam.pk}").status_code == 200
    submit = api_client(campus["S3"]).post(f"/api/exams/{exam.pk}/submit", {"answers": {}}, format="json")
    assert submit.status_code == 200, submit.json()
    assert not AuditEntry.objects.filter(action__in=["exam_update", "exam_course_change"]).exists()


def test_an_exam_in_a_course_is_404_to_a_proctor_off_its_staff(api_client, campus):
    exam = make_exam(campus["P1"], course=campus["A"])

    response = api_client(campus["P2"]).patch(f"/api/exams/{exam.pk}", {"allow_copy_paste": True}, format="json")

    assert response.status_code == 404
    assert api_client(campus["P2"]).delete(f"/api/exams/{exam.pk}").status_code == 404


def test_the_course_staff_may_change_and_delete_an_exam_someone_else_created(api_client, campus):
    colleague = ProctorFactory()
    CourseStaff.objects.create(course=campus["A"], user=colleague)
    exam = make_exam(campus["P1"], course=campus["A"])

    response = api_client(colleague).patch(f"/api/exams/{exam.pk}", {"max_warnings": 3}, format="json")

    assert response.status_code == 200, response.json()
    assert api_client(colleague).delete(f"/api/exams/{exam.pk}").status_code == 200
    assert not Exam.objects.filter(pk=exam.pk).exists()


def test_moving_into_a_course_needs_both_the_right_to_change_and_the_target_courses_staff(api_client, campus):
    exam = make_exam(campus["P1"])
    # P2 may not change the exam (403), whatever course it names; P1 may not move it into B (400).
    assert (
        api_client(campus["P2"]).patch(f"/api/exams/{exam.pk}", {"course": campus["B"].pk}, format="json").status_code
        == 403
    )
    into_b = api_client(campus["P1"]).patch(f"/api/exams/{exam.pk}", {"course": campus["B"].pk}, format="json")
    assert into_b.status_code == 400 and "course" in into_b.json()["details"]
    into_a = api_client(campus["P1"]).patch(f"/api/exams/{exam.pk}", {"course": campus["A"].pk}, format="json")
    assert into_a.status_code == 200
    assert Exam.objects.get(pk=exam.pk).course == campus["A"]


def test_a_started_session_keeps_its_students_access_when_the_exam_moves_to_a_course_they_are_not_in(
    api_client, campus
):
    """S2 (course B only) started P1's open exam; P1 then moves it into course A. S2 still autosaves,
    sends events and submits; a student who had not started cannot start it any more."""
    exam = make_exam(campus["P1"])
    session = session_start(exam=exam, user=campus["S2"])
    moved = api_client(campus["P1"]).patch(f"/api/exams/{exam.pk}", {"course": campus["A"].pk}, format="json")
    assert moved.status_code == 200
    s2 = api_client(campus["S2"])

    answers = s2.patch(f"/api/exams/sessions/{session.pk}/answers", {"answers": {"q1": "4"}}, format="json")
    events = s2.post(
        f"/api/exams/sessions/{session.pk}/events",
        {"events": [{"type": "tab_switch", "client_event_id": "e1"}]},
        format="json",
    )
    detail = s2.get(f"/api/exams/sessions/{session.pk}")
    submit = s2.post(f"/api/exams/{exam.pk}/submit", {"answers": {}}, format="json")

    assert answers.status_code == 200, answers.json()
    assert events.status_code == 200 and events.json()["data"]["stored"] == 1, events.json()
    assert detail.status_code == 200
    assert submit.status_code == 200 and submit.json()["data"]["answers"] == {"q1": "4"}
    outsider = StudentFactory()
    assert api_client(outsider).post(f"/api/exams/{exam.pk}/start").status_code == 404


def test_a_student_removed_from_the_course_the_session_started_in_loses_it(api_client, campus):
    exam = make_exam(campus["P1"], course=campus["A"])
    session = session_start(exam=exam, user=campus["S1"])
    Enrollment.objects.filter(course=campus["A"], student=campus["S1"]).delete()

    response = api_client(campus["S1"]).post(f"/api/exams/{exam.pk}/submit", {"answers": {}}, format="json")

    assert response.status_code == 404
    assert api_client(campus["S1"]).get(f"/api/exams/sessions/{session.pk}").status_code == 404


def test_an_exam_with_no_creator_and_no_course_is_changed_by_superusers_only(api_client, campus):
    """The demo quiz's shape: no proctor may change it, a superuser may."""
    exam = make_exam(campus["P1"], created_by=None)

    refused = api_client(campus["P1"]).patch(f"/api/exams/{exam.pk}", {"allow_copy_paste": True}, format="json")
    allowed = api_client(ProctorFactory(is_superuser=True)).patch(
        f"/api/exams/{exam.pk}", {"allow_copy_paste": True}, format="json"
    )

    assert refused.status_code == 403 and refused.json()["details"]["code"] == "exam_not_yours"
    assert allowed.status_code == 200


def test_the_seeded_demo_quiz_is_not_changeable_by_another_proctor(api_client):
    from monitoring.demo.seed import DEMO_EXAM, demo_seed

    demo_seed()
    quiz = Exam.objects.get(name=DEMO_EXAM["name"])

    response = api_client(ProctorFactory()).patch(f"/api/exams/{quiz.pk}", {"allow_tab_switch": True}, format="json")

    assert response.status_code == 403


def test_no_socket_frame_changes_an_exam():
    """The socket proctors exams (warn, terminate, time control) but never edits one: if a frame that
    does is ever added, it must check exams.scoping.may_change_exam like REST and the admin."""
    exam_writers = {name for name in CLIENT_EVENTS if "exam" in name and name not in {"join_exam", "leave_exam"}}
    assert exam_writers == {"submit_exam"}  # the student's own attempt, not the exam


class TestAdmin:
    def test_the_admin_opens_another_proctors_exam_read_only_and_refuses_a_post(self, client, campus):
        exam = make_exam(campus["P1"])
        proctor_add_to_group(user=campus["P2"])
        client.force_login(campus["P2"])

        page = client.get(f"/admin/exams/exam/{exam.pk}/change/")
        post = client.post(
            f"/admin/exams/exam/{exam.pk}/change/",
            {"name": "Taken over", "duration_minutes": 5, "status": "active", "monitoring_sensitivity": "low"},
        )

        assert page.status_code == 200
        assert b'name="name"' not in page.content and b'name="_save"' not in page.content
        assert post.status_code == 403
        assert Exam.objects.get(pk=exam.pk).name == "Physics midterm"

    def test_the_creator_changes_it_in_the_admin_and_the_change_is_audited(self, client, campus):
        exam = make_exam(campus["P1"])
        proctor_add_to_group(user=campus["P1"])
        client.force_login(campus["P1"])

        page = client.get(f"/admin/exams/exam/{exam.pk}/change/")
        assert b'name="name"' in page.content

        form = {
            "name": exam.name,
            "course": "",
            "description": "",
            "instructions": "",
            "status": "active",
            "scheduled_date_0": "",
            "scheduled_date_1": "",
            "duration_minutes": 30,
            "monitoring_sensitivity": "high",
            "allow_tab_switch": "on",
            "questions": json.dumps(exam.questions),
        }
        response = client.post(f"/admin/exams/exam/{exam.pk}/change/", form)

        assert response.status_code == 302, response.content.decode().split("errorlist")[1:]
        entry = AuditEntry.objects.get(action="exam_update", target_id=str(exam.pk))
        assert entry.actor == campus["P1"] and entry.details["via"] == "admin"
        assert entry.details["changes"]["monitoring_sensitivity"] == {"from": "medium", "to": "high"}
        assert entry.details["changes"]["allow_tab_switch"] == {"from": False, "to": True}


class TestTrail:
    """Issue 22 item 11, the exam half: creating an exam and changing its policy are audited, with before
    and after, whichever door they came through."""

    def test_creating_over_rest_records_the_new_exams_policy(self, api_client, campus):
        body = {"name": "Quiz", "duration_minutes": 20, "monitoring_sensitivity": "high", "max_warnings": 2}

        response = api_client(campus["P1"]).post("/api/exams", body, format="json")

        entry = AuditEntry.objects.get(action="exam_create")
        assert entry.actor == campus["P1"] and entry.target_id == str(response.json()["data"]["id"])
        assert entry.details["via"] == "api"
        policy = entry.details["exam"]
        assert (policy["monitoring_sensitivity"], policy["max_warnings"], policy["allow_tab_switch"]) == (
            "high",
            2,
            False,
        )
        assert policy["show_risk_to_student"] is False and policy["questions"]["ids"] == []

    def test_each_policy_change_records_before_and_after(self, api_client, campus):
        exam = make_exam(campus["P1"])
        change = {
            "monitoring_sensitivity": "low",
            "allow_tab_switch": True,
            "allow_copy_paste": True,
            "max_warnings": 3,
            "disconnect_grace_minutes": 5,
            "status": "completed",
            "scheduled_date": "2030-01-01T09:00:00Z",
        }

        api_client(campus["P1"]).patch(f"/api/exams/{exam.pk}", change, format="json")
        api_client(campus["P1"]).patch(f"/api/exams/{exam.pk}", {"allow_tab_switch": True}, format="json")

        [entry] = AuditEntry.objects.filter(action="exam_update")  # the repeat changed nothing: no entry
        assert entry.details["changes"] == {
            "monitoring_sensitivity": {"from": "medium", "to": "low"},
            "allow_tab_switch": {"from": False, "to": True},
            "allow_copy_paste": {"from": False, "to": True},
            "max_warnings": {"from": None, "to": 3},
            "disconnect_grace_minutes": {"from": 0, "to": 5},
            "status": {"from": "active", "to": "completed"},
            "scheduled_date": {"from": None, "to": "2030-01-01T09:00:00+00:00"},
        }

    def test_changed_questions_are_recorded_as_fingerprints(self, api_client, campus):
        exam = make_exam(campus["P1"])
        new = [{"id": "z1", "text": "New?", "type": "short", "answer": "SECRET", "points": 1}]

        api_client(campus["P1"]).patch(f"/api/exams/{exam.pk}", {"questions": new}, format="json")

        change = AuditEntry.objects.get(action="exam_update").details["changes"]["questions"]
        assert change["from"]["ids"] == ["q1", "q2", "q3"] and change["to"]["ids"] == ["z1"]
        assert change["from"]["sha256"] != change["to"]["sha256"]
        assert "SECRET" not in json.dumps(change)

    def test_exams_a_command_creates_are_audited_as_such(self):
        from django.core.management import call_command

        call_command("seed_demo", verbosity=0)

        entries = AuditEntry.objects.filter(action="exam_create")
        assert entries.count() == 2 and {e.details["via"] for e in entries} == {"command"}
