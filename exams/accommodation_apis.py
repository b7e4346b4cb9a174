"""Accommodations per course (its staff) and allowances per exam (whoever may change it). Thin:
parse, call one service in exams.accommodations, reply. Institution-wide accommodations are
/api/users/<id>/accommodations (superusers)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.permissions import IsProctor
from accounts.serializers import AccommodationsSchemaSerializer
from exampulse.platform.api import respond
from exams import accommodations, courses, selectors
from exams.courses import MAX_BULK_EMAILS
from exams.selectors import MAX_PK

_COURSE_ID = OpenApiParameter("course_id", int, OpenApiParameter.PATH)
_EXAM_ID = OpenApiParameter("exam_id", int, OpenApiParameter.PATH)
_USER_ID = OpenApiParameter("user_id", int, OpenApiParameter.PATH)
_SHAPE = (
    '{"extra_time_pct": 0-400 (the time multiplier in percent: 50 = x1.5), "extra_minutes": 0-1440, '
    '"exempt_signals": [typing|tab_switch|mouse|answer_speed|focus], "note": why}. The institution\'s, the '
    "course's and the exam's add up for a session (exams.accommodations); audited."
)


def _person(user) -> dict | None:
    return {"id": user.pk, "name": user.name, "email": user.email} if user else None


class AccommodationRowSerializer(serializers.Serializer):
    """One student's accommodations at one level (course or exam)."""

    user = serializers.DictField()
    accommodations = serializers.DictField()
    updated_by = serializers.DictField(allow_null=True)
    updated_at = serializers.CharField(allow_null=True)


def _row(student, row) -> dict:
    return {
        "user": {**_person(student), "roll_number": student.roll_number},
        "accommodations": row.accommodations if row else {},
        "updated_by": _person(row.updated_by) if row else None,
        "updated_at": row.updated_at.isoformat() if row else None,
    }


class BulkAccommodationsInputSerializer(serializers.Serializer):
    emails = serializers.ListField(
        child=serializers.EmailField(max_length=254), required=False, max_length=MAX_BULK_EMAILS, default=list
    )
    user_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_PK),
        required=False,
        max_length=MAX_BULK_EMAILS,
        default=list,
    )
    accommodations = serializers.JSONField(help_text=_SHAPE)
    # false (default): each named student's course accommodations become exactly these; true: merged in.
    merge = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        if not attrs["emails"] and not attrs["user_ids"]:
            raise serializers.ValidationError("Name the students: emails, user_ids, or both.")
        return attrs


class BulkAccommodationsOutputSerializer(serializers.Serializer):
    set = serializers.ListField(child=serializers.CharField())
    not_enrolled = serializers.ListField(child=serializers.CharField())
    unknown = serializers.ListField(child=serializers.CharField())


class _Paged(APIView):
    permission_classes = [IsProctor]
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    def page(self, queryset):
        paginator = self.pagination_class()
        rows = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response([_row(row.student, row) for row in rows])


class CourseAccommodationsApi(_Paged):
    """GET: the course's accommodations. POST: set the same accommodations for many enrolled students."""

    @extend_schema(parameters=[_COURSE_ID], responses={200: AccommodationRowSerializer(many=True)})
    def get(self, request, course_id):
        course = courses.course_get_for(user=request.user, course_id=course_id)
        return self.page(accommodations.course_accommodations_list(course=course))

    @extend_schema(
        parameters=[_COURSE_ID],
        request=BulkAccommodationsInputSerializer,
        responses={200: BulkAccommodationsOutputSerializer},
        description="The course's staff (404 otherwise). Each student named (by email or id, at most 1000) is "
        "listed once: `set`, `not_enrolled` (not on this course's roster: untouched) or `unknown`. " + _SHAPE,
    )
    def post(self, request, course_id):
        course = courses.course_get_for(user=request.user, course_id=course_id)
        serializer = BulkAccommodationsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = accommodations.course_accommodations_bulk_set(
            course=course,
            by=request.user,
            accommodations=data["accommodations"],
            emails=data["emails"],
            user_ids=data["user_ids"],
            partial=data["merge"],
        )
        return respond(
            result.as_dict(),
            message=f"{len(result.set)} set, {len(result.not_enrolled)} not enrolled, {len(result.unknown)} unknown.",
        )


class CourseAccommodationApi(APIView):
    """One enrolled student's accommodations in the course: GET, PUT (replace), PATCH (merge), DELETE."""

    permission_classes = [IsProctor]

    @extend_schema(parameters=[_COURSE_ID, _USER_ID], responses={200: AccommodationRowSerializer})
    def get(self, request, course_id, user_id):
        course = courses.course_get_for(user=request.user, course_id=course_id)
        student, row = accommodations.course_accommodation_get(course=course, student_id=user_id)
        return respond(_row(student, row))

    @extend_schema(
        parameters=[_COURSE_ID, _USER_ID],
        request=AccommodationsSchemaSerializer,
        responses={200: AccommodationRowSerializer},
        description="The course's staff (404 otherwise), for a student on its roster (404 `not_on_roster`). " + _SHAPE,
    )
    def put(self, request, course_id, user_id):
        return self._set(request, course_id, user_id, partial=False)

    @extend_schema(
        parameters=[_COURSE_ID, _USER_ID],
        request=AccommodationsSchemaSerializer,
        responses={200: AccommodationRowSerializer},
    )
    def patch(self, request, course_id, user_id):
        return self._set(request, course_id, user_id, partial=True)

    def _set(self, request, course_id, user_id, *, partial: bool):
        course = courses.course_get_for(user=request.user, course_id=course_id)
        row = accommodations.course_accommodation_set(
            course=course, student_id=user_id, by=request.user, accommodations=request.data, partial=partial
        )
        return respond(_row(row.student, row), message="Course accommodations saved.")

    @extend_schema(parameters=[_COURSE_ID, _USER_ID], responses={200: None})
    def delete(self, request, course_id, user_id):
        course = courses.course_get_for(user=request.user, course_id=course_id)
        removed = accommodations.course_accommodation_delete(course=course, student_id=user_id, by=request.user)
        return respond(None, message="Course accommodations removed." if removed else "There were none.")


class ExamAllowancesApi(_Paged):
    """GET: the exam's allowances (for whoever may change the exam)."""

    @extend_schema(parameters=[_EXAM_ID], responses={200: AccommodationRowSerializer(many=True)})
    def get(self, request, exam_id):
        exam = selectors.exam_get_for_user(exam_id=exam_id, user=request.user)
        return self.page(accommodations.exam_allowances_list(exam=exam, by=request.user))


class ExamAllowanceApi(APIView):
    """One student's allowance for the exam: GET, PUT (replace), PATCH (merge), DELETE."""

    permission_classes = [IsProctor]

    @extend_schema(parameters=[_EXAM_ID, _USER_ID], responses={200: AccommodationRowSerializer})
    def get(self, request, exam_id, user_id):
        exam = selectors.exam_get_for_user(exam_id=exam_id, user=request.user)
        student, row = accommodations.exam_allowance_get(exam=exam, student_id=user_id, by=request.user)
        return respond(_row(student, row))

    @extend_schema(
        parameters=[_EXAM_ID, _USER_ID],
        request=AccommodationsSchemaSerializer,
        responses={200: AccommodationRowSerializer},
        description="Whoever may change the exam (403 details.code `exam_not_yours`; 404 when you cannot see "
        "it), for a student who may sit it (its course's roster; any student for an open exam). " + _SHAPE,
    )
    def put(self, request, exam_id, user_id):
        return self._set(request, exam_id, user_id, partial=False)

    @extend_schema(
        parameters=[_EXAM_ID, _USER_ID],
        request=AccommodationsSchemaSerializer,
        responses={200: AccommodationRowSerializer},
    )
    def patch(self, request, exam_id, user_id):
        return self._set(request, exam_id, user_id, partial=True)

    def _set(self, request, exam_id, user_id, *, partial: bool):
        exam = selectors.exam_get_for_user(exam_id=exam_id, user=request.user)
        row = accommodations.exam_allowance_set(
            exam=exam, student_id=user_id, by=request.user, accommodations=request.data, partial=partial
        )
        return respond(_row(row.student, row), message="Exam allowance saved.")

    @extend_schema(parameters=[_EXAM_ID, _USER_ID], responses={200: None})
    def delete(self, request, exam_id, user_id):
        exam = selectors.exam_get_for_user(exam_id=exam_id, user=request.user)
        removed = accommodations.exam_allowance_delete(exam=exam, student_id=user_id, by=request.user)
        return respond(None, message="Exam allowance removed." if removed else "There was none.")
