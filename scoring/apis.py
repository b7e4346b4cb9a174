"""Baselines over REST: a student adds calibration samples and reads their own; proctors read and reset any."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from accounts.permissions import IsProctor, IsStudent
from exampulse.api import respond
from scoring import selectors, services
from scoring.exceptions import BaselineNotFound
from scoring.serializers import BaselineOutputSerializer, BaselineSampleInputSerializer


class OwnBaselineApi(APIView):
    def get_permissions(self):
        # Anyone signed in may read their own (a proctor's is simply "missing"); only students calibrate.
        return [IsAuthenticated(), IsStudent()] if self.request.method == "POST" else [IsAuthenticated()]

    @extend_schema(responses={200: BaselineOutputSerializer})
    def get(self, request):
        return respond(selectors.baseline_summary(user=request.user))

    @extend_schema(request=BaselineSampleInputSerializer, responses={201: BaselineOutputSerializer})
    def post(self, request):
        serializer = BaselineSampleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.baseline_add_sample(user=request.user, sample=serializer.validated_data)
        return respond(
            selectors.baseline_summary(user=request.user),
            message="Calibration sample added.",
            status_code=status.HTTP_201_CREATED,
        )


class UserBaselineApi(APIView):
    permission_classes = [IsAuthenticated, IsProctor]

    @extend_schema(operation_id="baselines_user_retrieve", responses={200: BaselineOutputSerializer})
    def get(self, request, user_id: int):
        return respond(selectors.baseline_summary(user=selectors.user_get(user_id=user_id, by=request.user)))


class UserBaselineResetApi(APIView):
    permission_classes = [IsAuthenticated, IsProctor]

    @extend_schema(request=None, responses={200: BaselineOutputSerializer})
    def post(self, request, user_id: int):
        user = selectors.user_get(user_id=user_id, by=request.user)
        if services.baseline_reset(user=user, actor=request.user) is None:
            raise BaselineNotFound()
        return respond(selectors.baseline_summary(user=user), message="Baseline reset; it is collected again.")
