"""The course API: courses, rosters and staff, managed by the course's staff only; exams placed in staffed courses."""

from __future__ import annotations

import pytest

from accounts.models import AuditEntry
from exams.models import Course, CourseStaff, Enrollment, Exam
from tests.exams.conftest import QUESTIONS
from tests.factories import ProctorFactory, StudentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(proctor) -> Course:
    course = Course.objects.create(code="PHY-101", name="Physics I", created_by=proctor)
    CourseStaff.objects.create(course=course, user=proctor, added_by=proctor)
    return course


@pytest.fixture
def as_proctor(api_client, proctor):
    return api_client(proctor)


def test_a_proctor_creates_a_course_and_becomes_its_staff(as_proctor, proctor):
    response = as_proctor.post("/api/courses", {"code": "CHEM-2", "name": "Chemistry"}, format="json")

    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert data["code"] == "CHEM-2" and data["staff_count"] == 1
    assert [s["email"] for s in data["staff"]] == [proctor.email]
    course = Course.objects.get(code="CHEM-2")
    assert course.staff.get() == proctor
    assert AuditEntry.objects.filter(action="course_create", target_id=str(course.pk), actor=proctor).exists()


@pytest.mark.parametrize("code", ["", "has space", "-leading", "x" * 33, "semi;colon"])
def test_a_malformed_course_code_is_a_400(as_proctor, code):
    response = as_proctor.post("/api/courses/", {"code": code, "name": "Any"}, format="json")

    assert response.status_code == 400
    assert "code" in response.json()["details"]


def test_a_course_code_is_unique_case_insensitively(as_proctor, course):
    response = as_proctor.post("/api/courses", {"code": "phy-101", "name": "Again"}, format="json")

    assert response.status_code == 409
    assert response.json()["details"] == {"code": "course_code_taken", "field": "code"}


def test_proctors_list_only_the_courses_they_staff_and_superusers_all(api_client, as_proctor, course):
    other = Course.objects.create(code="OTHER", name="Not mine")
    boss = ProctorFactory(is_superuser=True)

    mine = as_proctor.get("/api/courses").json()
    everything = api_client(boss).get("/api/courses/").json()

    assert [c["code"] for c in mine["data"]] == ["PHY-101"] and mine["count"] == 1
    assert {c["code"] for c in everything["data"]} == {"PHY-101", other.code}


def test_a_proctor_who_does_not_staff_the_course_gets_404_everywhere(api_client, course, student):
    outsider = api_client(ProctorFactory())
    Enrollment.objects.create(course=course, student=student)
    base = f"/api/courses/{course.pk}"

    responses = [
        outsider.get(base),
        outsider.patch(base, {"name": "Mine now"}, format="json"),
        outsider.get(f"{base}/students"),
        outsider.post(f"{base}/students", {"emails": [student.email]}, format="json"),
        outsider.delete(f"{base}/students/{student.pk}"),
        outsider.post(f"{base}/staff", {"emails": ["x@example.org"]}, format="json"),
    ]

    assert [r.status_code for r in responses] == [404] * 6
    assert {r.json()["error"] for r in responses} == {"Course not found."}
    assert Course.objects.get(pk=course.pk).name == "Physics I"


def test_students_cannot_manage_courses(api_client, course, student):
    Enrollment.objects.create(course=course, student=student)
    as_student = api_client(student)

    statuses = [
        as_student.get("/api/courses").status_code,
        as_student.post("/api/courses", {"code": "HACK", "name": "x"}, format="json").status_code,
        as_student.get(f"/api/courses/{course.pk}").status_code,
        as_student.post(f"/api/courses/{course.pk}/students", {"emails": [student.email]}, format="json").status_code,
    ]

    assert statuses == [403] * 4


def test_anonymous_callers_are_refused(anon_client, course):
    assert anon_client.get("/api/courses").status_code == 401


def test_staff_rename_a_course_and_the_change_is_audited(as_proctor, course, proctor):
    response = as_proctor.patch(f"/api/courses/{course.pk}/", {"name": "Physics One"}, format="json")

    assert response.status_code == 200
    assert response.json()["data"]["name"] == "Physics One"
    entry = AuditEntry.objects.get(action="course_update")
    assert entry.details == {"name": {"from": "Physics I", "to": "Physics One"}} and entry.actor == proctor


def test_bulk_enrolment_reports_each_email_once_in_one_list(as_proctor, course, proctor):
    new, enrolled = StudentFactory(), StudentFactory()
    Enrollment.objects.create(course=course, student=enrolled)
    other_proctor = ProctorFactory()
    emails = [new.email.upper(), enrolled.email, "ghost@example.org", other_proctor.email, new.email]

    response = as_proctor.post(f"/api/courses/{course.pk}/students", {"emails": emails}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["data"] == {
        "added": [new.email],
        "already": [enrolled.email],
        "unknown": ["ghost@example.org"],
        "wrong_role": [other_proctor.email],
    }
    assert set(course.students.all()) == {new, enrolled}
    entry = AuditEntry.objects.get(action="course_students_add")
    assert entry.details == {"count": 1, "emails": [new.email]} and entry.actor == proctor
    # Again: nothing new, nothing audited twice.
    again = as_proctor.post(f"/api/courses/{course.pk}/students", {"emails": emails}, format="json").json()["data"]
    assert again["added"] == [] and sorted(again["already"]) == sorted([new.email, enrolled.email])
    assert AuditEntry.objects.filter(action="course_students_add").count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"emails": "a@example.org"},
        {"emails": []},
        {"emails": ["not-an-email"]},
        {"emails": [{"email": "a@example.org"}]},
        {"emails": [f"s{i}@example.org" for i in range(1001)]},
        {},
    ],
    ids=["not-a-list", "empty", "invalid-email", "object-item", "over-1000", "missing"],
)
def test_a_bad_email_list_is_a_400_and_changes_nothing(as_proctor, course, body):
    response = as_proctor.post(f"/api/courses/{course.pk}/students", body, format="json")

    assert response.status_code == 400
    assert "emails" in response.json()["details"]
    assert not Enrollment.objects.exists()


def test_1000_emails_are_accepted_in_one_call(as_proctor, course):
    response = as_proctor.post(
        f"/api/courses/{course.pk}/students", {"emails": [f"s{i}@example.org" for i in range(1000)]}, format="json"
    )

    assert response.status_code == 200
    assert len(response.json()["data"]["unknown"]) == 1000


def test_staff_add_accepts_only_proctors(as_proctor, course, student):
    colleague = ProctorFactory()

    response = as_proctor.post(
        f"/api/courses/{course.pk}/staff", {"emails": [colleague.email, student.email]}, format="json"
    )

    assert response.json()["data"]["added"] == [colleague.email]
    assert response.json()["data"]["wrong_role"] == [student.email]
    assert set(course.staff.all()) == {colleague, course.created_by}
    assert not course.students.exists()


def test_a_new_staff_member_can_then_manage_the_course(api_client, as_proctor, course):
    colleague = ProctorFactory()
    as_proctor.post(f"/api/courses/{course.pk}/staff", {"emails": [colleague.email]}, format="json")

    assert api_client(colleague).get(f"/api/courses/{course.pk}").status_code == 200


def test_removing_a_student_takes_them_off_the_roster_and_is_audited(as_proctor, course, student):
    Enrollment.objects.create(course=course, student=student)

    response = as_proctor.delete(f"/api/courses/{course.pk}/students/{student.pk}/")
    again = as_proctor.delete(f"/api/courses/{course.pk}/students/{student.pk}")

    assert response.status_code == 200
    assert again.status_code == 404
    assert not course.students.exists()
    assert AuditEntry.objects.get(action="course_student_remove").details == {"email": student.email}


def test_the_last_staff_member_cannot_be_removed(as_proctor, course, proctor):
    colleague = ProctorFactory()
    CourseStaff.objects.create(course=course, user=colleague)

    first = as_proctor.delete(f"/api/courses/{course.pk}/staff/{colleague.pk}")
    last = as_proctor.delete(f"/api/courses/{course.pk}/staff/{proctor.pk}")

    assert first.status_code == 200
    assert last.status_code == 409
    assert last.json()["error"].startswith("A course keeps at least one staff member")
    assert list(course.staff.all()) == [proctor]


def test_the_roster_is_paged_and_searchable(as_proctor, course):
    for i in range(3):
        Enrollment.objects.create(course=course, student=StudentFactory(name=f"Ada {i}"))
    Enrollment.objects.create(course=course, student=StudentFactory(name="Grace Hopper", roll_number="GH-1"))

    page = as_proctor.get(f"/api/courses/{course.pk}/students?page_size=2").json()
    found = as_proctor.get(f"/api/courses/{course.pk}/students/?search=gh-1").json()

    assert page["count"] == 4 and len(page["data"]) == 2 and page["next"]
    assert [s["name"] for s in found["data"]] == ["Grace Hopper"]
    assert set(found["data"][0]) == {"id", "name", "email", "roll_number", "added_at"}


# --- exams in courses --------------------------------------------------------------------------------


def exam_body(**extra) -> dict:
    return {"name": "Course quiz", "duration_minutes": 20, "status": "active", "questions": QUESTIONS, **extra}


def test_an_exam_is_created_in_a_course_the_proctor_staffs(as_proctor, course):
    response = as_proctor.post("/api/exams", exam_body(course=course.pk), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["data"]["course"] == {"id": course.pk, "code": "PHY-101", "name": "Physics I"}
    assert Exam.objects.get().course == course


@pytest.mark.parametrize("which", ["not-staffed", "unknown"])
def test_an_exam_cannot_be_placed_in_a_course_the_proctor_does_not_staff(as_proctor, which):
    course_id = Course.objects.create(code="ELSE", name="Elsewhere").pk if which == "not-staffed" else 999999

    response = as_proctor.post("/api/exams", exam_body(course=course_id), format="json")

    assert response.status_code == 400
    assert response.json()["details"] == {
        "course": ["Choose a course you are on the staff of (or none, for an exam open to everyone)."]
    }
    assert not Exam.objects.exists()


def test_an_exam_moves_into_and_out_of_a_course_and_each_move_is_audited(as_proctor, course, proctor):
    exam_id = as_proctor.post("/api/exams", exam_body(), format="json").json()["data"]["id"]

    into = as_proctor.patch(f"/api/exams/{exam_id}", {"course": course.pk}, format="json")
    out = as_proctor.patch(f"/api/exams/{exam_id}", {"course": None}, format="json")

    assert into.status_code == 200 and into.json()["data"]["course"]["code"] == "PHY-101"
    assert out.status_code == 200 and out.json()["data"]["course"] is None
    moves = AuditEntry.objects.filter(action="exam_course_change").order_by("id")
    assert [e.details for e in moves] == [{"from": None, "to": course.pk}, {"from": course.pk, "to": None}]


def test_an_exam_cannot_be_moved_into_someone_elses_course(as_proctor):
    exam_id = as_proctor.post("/api/exams", exam_body(), format="json").json()["data"]["id"]
    foreign = Course.objects.create(code="FOREIGN", name="Not yours")

    response = as_proctor.patch(f"/api/exams/{exam_id}", {"course": foreign.pk}, format="json")

    assert response.status_code == 400
    assert Exam.objects.get(pk=exam_id).course is None


def test_a_superuser_may_place_an_exam_in_any_course(api_client):
    foreign = Course.objects.create(code="ANY", name="Any course")
    boss = api_client(ProctorFactory(is_superuser=True))

    assert boss.post("/api/exams", exam_body(course=foreign.pk), format="json").status_code == 201
