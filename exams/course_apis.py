"""Course endpoints: courses, rosters and staff. Proctors only; a course they do not staff is 404.

Thin: parse, call one service or selector from exams.courses, reply.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.permissions import IsProctor
from exampulse.platform.api import respond
from exams import courses
from exams.course_serializers import (
    CourseDetailOutputSerializer,
    CourseInputSerializer,
    CourseOutputSerializer,
    EmailsInputSerializer,
    EnrollmentOutputSerializer,
    RosterChangeOutputSerializer,
    StudentListQuerySerializer,
)

_COURSE_ID = OpenApiParameter("course_id", int, OpenApiParameter.PATH)
_USER_ID = OpenApiParameter("user_id", int, OpenApiParameter.PATH)


def _summary(change: courses.RosterChange) -> str:
    parts = [f"{len(change.added)} added", f"{len(change.already)} already there"]
    if change.unknown:
        parts.append(f"{len(change.unknown)} without an account")
    if change.wrong_role:
        parts.append(f"{len(change.wrong_role)} with the wrong role")
    return ", ".join(parts) + "."


class _CourseApi(APIView):
    permission_classes = [IsProctor]
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS


class CourseListCreateApi(_CourseApi):
    """GET: the courses the proctor staffs (superusers: all). POST: create one; the creator becomes staff."""

    @extend_schema(responses={200: CourseOutputSerializer(many=True)})
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(courses.course_list_for(user=request.user), request, view=self)
        return paginator.get_paginated_response(CourseOutputSerializer(page, many=True).data)

    @extend_schema(
        request=CourseInputSerializer,
        responses={201: CourseDetailOutputSerializer},
        description="409 `course_code_taken` when the code is in use (codes compare case-insensitively).",
    )
    def post(self, request):
        serializer = CourseInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        course = courses.course_create(by=request.user, **serializer.validated_data)
        return respond(
            CourseDetailOutputSerializer(course).data, message="Course created.", status_code=status.HTTP_201_CREATED
        )


class CourseDetailApi(_CourseApi):
    """GET or PATCH one course the proctor staffs."""

    @extend_schema(parameters=[_COURSE_ID], responses={200: CourseDetailOutputSerializer})
    def get(self, request, course_id):
        course = courses.course_get_for(user=request.user, course_id=course_id)
        return respond(CourseDetailOutputSerializer(course).data)

    @extend_schema(
        parameters=[_COURSE_ID], request=CourseInputSerializer, responses={200: CourseDetailOutputSerializer}
    )
    def patch(self, request, course_id):
        course = courses.course_get_for(user=request.user, course_id=course_id)
        serializer = CourseInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        course = courses.course_update(course=course, by=request.user, data=serializer.validated_data)
        return respond(CourseDetailOutputSerializer(course).data, message="Course updated.")


class CourseStudentsApi(_CourseApi):
    """GET: the roster, paged, `?search=` on name, email, roll number. POST: enrol students by email (≤ 1000)."""

    @extend_schema(
        parameters=[_COURSE_ID, StudentListQuerySerializer], responses={200: EnrollmentOutputSerializer(many=True)}
    )
    def get(self, request, course_id):
        course = courses.course_get_for(user=request.user, course_id=course_id)
        query = StudentListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        roster = courses.course_students(course=course, search=query.validated_data.get("search"))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(roster, request, view=self)
        return paginator.get_paginated_response(EnrollmentOutputSerializer(page, many=True).data)

    @extend_schema(
        parameters=[_COURSE_ID],
        request=EmailsInputSerializer,
        responses={200: RosterChangeOutputSerializer},
        description="Only student accounts are enrolled: a proctor's email is listed in `wrong_role`, an email "
        "with no account in `unknown` (create those with `manage.py import_roster`).",
    )
    def post(self, request, course_id):
        course = courses.course_get_for(user=request.user, course_id=course_id)
        serializer = EmailsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change = courses.course_students_add(course=course, by=request.user, emails=serializer.validated_data["emails"])
        return respond(change.as_dict(), message=f"Roster updated: {_summary(change)}")


class CourseStudentDetailApi(_CourseApi):
    @extend_schema(parameters=[_COURSE_ID, _USER_ID], responses={200: None})
    def delete(self, request, course_id, user_id):
        course = courses.course_get_for(user=request.user, course_id=course_id)
        courses.course_student_remove(course=course, by=request.user, user_id=user_id)
        return respond(None, message="Student removed from the course.")


class CourseStaffApi(_CourseApi):
    """POST: put proctors on the course's staff by email (≤ 1000); students go in `wrong_role`."""

    @extend_schema(
        parameters=[_COURSE_ID], request=EmailsInputSerializer, responses={200: RosterChangeOutputSerializer}
    )
    def post(self, request, course_id):
        course = courses.course_get_for(user=request.user, course_id=course_id)
        serializer = EmailsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change = courses.course_staff_add(course=course, by=request.user, emails=serializer.validated_data["emails"])
        return respond(change.as_dict(), message=f"Staff updated: {_summary(change)}")


class CourseStaffDetailApi(_CourseApi):
    @extend_schema(
        parameters=[_COURSE_ID, _USER_ID],
        responses={200: None},
        description="409 `course_needs_staff` for the last staff member.",
    )
    def delete(self, request, course_id, user_id):
        course = courses.course_get_for(user=request.user, course_id=course_id)
        courses.course_staff_remove(course=course, by=request.user, user_id=user_id)
        return respond(None, message="Removed from the course's staff.")
