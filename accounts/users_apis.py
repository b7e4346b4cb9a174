"""Staff endpoints over users: list students (proctors); set a student's institution-wide
accommodations (superusers: they apply in every course)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.apis import USER_DATA_SCHEMA
from accounts.exceptions import SuperuserOnly, UserNotFound
from accounts.permissions import IsProctor
from accounts.serializers import AccommodationsSchemaSerializer, StudentListQuerySerializer, UserOutputSerializer
from exampulse.platform.api import respond


class UserListApi(APIView):
    """GET /api/users/?search=: students the proctor may act on (their courses' and those in no course)."""

    permission_classes = [IsProctor]
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    @extend_schema(parameters=[StudentListQuerySerializer], responses={200: UserOutputSerializer(many=True)})
    def get(self, request):
        query = StudentListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        students = selectors.student_list(by=request.user, search=query.validated_data.get("search"))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(students, request, view=self)
        return paginator.get_paginated_response(UserOutputSerializer(page, many=True).data)


_INSTITUTION = (
    "Institution-wide accommodations, applied to every exam of every course: superusers only (403 details.code "
    "`superuser_only`; a course's staff use /api/courses/<id>/accommodations/<user_id>). Audited."
)


class UserAccommodationsApi(APIView):
    """PUT replaces a student's institution-wide accommodations, PATCH merges into them; superusers; audited."""

    permission_classes = [IsProctor]

    @extend_schema(request=AccommodationsSchemaSerializer, responses={200: USER_DATA_SCHEMA}, description=_INSTITUTION)
    def put(self, request, user_id):
        return self._update(request, user_id, partial=False)

    @extend_schema(request=AccommodationsSchemaSerializer, responses={200: USER_DATA_SCHEMA}, description=_INSTITUTION)
    def patch(self, request, user_id):
        return self._update(request, user_id, partial=True)

    def _update(self, request, user_id, *, partial: bool):
        if not request.user.is_superuser:
            raise SuperuserOnly(
                "Institution-wide accommodations apply in every course: only a superuser sets them. "
                "Use /api/courses/<id>/accommodations/<user_id> for your course."
            )
        student = selectors.student_get(user_id=user_id, by=request.user)
        if student is None:
            raise UserNotFound("Student not found.")
        student = services.user_update_accommodations(
            student=student, by=request.user, accommodations=request.data, partial=partial
        )
        return respond({"user": UserOutputSerializer(student).data}, message="Accommodations updated.")
