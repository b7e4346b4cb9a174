"""Courses in the admin: counts, inlines saved through the audited services, exam course choices scoped."""

from __future__ import annotations

import pytest

from accounts.models import AuditEntry
from accounts.services import proctor_add_to_group
from exams.models import Course, CourseStaff, Enrollment
from tests.factories import ProctorFactory, StudentFactory

pytestmark = pytest.mark.django_db


def test_the_course_list_shows_roster_staff_and_exam_counts(client):
    boss = ProctorFactory(is_superuser=True)
    course = Course.objects.create(code="ART-1", name="Art")
    Enrollment.objects.create(course=course, student=StudentFactory())
    CourseStaff.objects.create(course=course, user=boss)
    client.force_login(boss)

    page = client.get("/admin/exams/course/")

    assert page.status_code == 200
    assert b"ART-1" in page.content and b"column-student_count" in page.content


def test_adding_a_course_with_a_student_goes_through_the_services(client):
    boss = ProctorFactory(is_superuser=True)
    student = StudentFactory()
    client.force_login(boss)
    form = {
        "code": "ART-2",
        "name": "Art II",
        "staff_memberships-TOTAL_FORMS": "0",
        "staff_memberships-INITIAL_FORMS": "0",
        "enrollments-TOTAL_FORMS": "1",
        "enrollments-INITIAL_FORMS": "0",
        "enrollments-0-student": str(student.pk),
    }

    response = client.post("/admin/exams/course/add/", form)

    assert response.status_code == 302, response.content[:2000]
    course = Course.objects.get(code="ART-2")
    assert list(course.staff.all()) == [boss] and list(course.students.all()) == [student]
    assert {e.action for e in AuditEntry.objects.all()} == {"course_create", "course_students_add"}


def test_a_proctor_is_offered_only_the_courses_they_staff_for_an_exam(client):
    proctor = ProctorFactory()
    proctor_add_to_group(user=proctor)
    mine = Course.objects.create(code="MINE", name="Mine")
    CourseStaff.objects.create(course=mine, user=proctor)
    Course.objects.create(code="THEIRS", name="Theirs")
    client.force_login(proctor)

    page = client.get("/admin/exams/exam/add/")

    assert page.status_code == 200
    assert b"MINE" in page.content and b"THEIRS" not in page.content


def test_a_proctor_runs_the_courses_they_staff_in_the_admin_and_no_other(client):
    proctor = ProctorFactory()
    proctor_add_to_group(user=proctor)
    mine = Course.objects.create(code="MINE", name="Mine")
    CourseStaff.objects.create(course=mine, user=proctor)
    theirs = Course.objects.create(code="THEIRS", name="Theirs")
    student = StudentFactory()
    client.force_login(proctor)

    listing = client.get("/admin/exams/course/")
    assert listing.status_code == 200
    assert b"MINE" in listing.content and b"THEIRS" not in listing.content
    assert client.get(f"/admin/exams/course/{theirs.pk}/change/").status_code == 302  # "doesn't exist" redirect
    form = {
        "code": "MINE",
        "name": "Mine, renamed",
        "staff_memberships-TOTAL_FORMS": "0",
        "staff_memberships-INITIAL_FORMS": "0",
        "enrollments-TOTAL_FORMS": "1",
        "enrollments-INITIAL_FORMS": "0",
        "enrollments-0-student": str(student.pk),
    }
    response = client.post(f"/admin/exams/course/{mine.pk}/change/", form)
    assert response.status_code == 302, response.content[:2000]
    mine.refresh_from_db()
    assert mine.name == "Mine, renamed" and list(mine.students.all()) == [student]
    assert {e.action for e in AuditEntry.objects.filter(actor=proctor)} == {"course_update", "course_students_add"}
    assert client.post(f"/admin/exams/course/{mine.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Course.objects.filter(pk=mine.pk).exists()
