"""Baselines over REST: a student adds samples and reads their own; proctors read the baselines of
students they examine; superusers reset."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from accounts.exceptions import SuperuserOnly
from accounts.permissions import IsProctor, IsStudent
from exampulse.platform.api import respond
from scoring import selectors, services
from scoring.exceptions import BaselineNotFound
from scoring.serializers import BaselineOutputSerializer, BaselineSampleInputSerializer, ResetInputSerializer


class OwnBaselineApi(APIView):
    def get_permissions(self):
        # Anyone signed in may read their own (a proctor's is simply "missing"); only students add samples.
        return [IsAuthenticated(), IsStudent()] if self.request.method == "POST" else [IsAuthenticated()]

    @extend_schema(responses={200: BaselineOutputSerializer})
    def get(self, request):
        return respond(selectors.baseline_summary(user=request.user))

    @extend_schema(
        request=BaselineSampleInputSerializer,
        responses={201: BaselineOutputSerializer},
        description="A self-reported sample. 409 details.code `session_open` while you have an exam in "
        "progress (a session keeps the baseline it started with); 429 `baseline_daily_limit` beyond "
        "BASELINE_SAMPLES_PER_DAY samples in 24 hours.",
    )
    def post(self, request):
        serializer = BaselineSampleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.baseline_sample_submit(user=request.user, sample=serializer.validated_data)
        return respond(
            selectors.baseline_summary(user=request.user),
            message="Baseline sample added.",
            status_code=status.HTTP_201_CREATED,
        )


class UserBaselineApi(APIView):
    permission_classes = [IsAuthenticated, IsProctor]

    @extend_schema(
        operation_id="baselines_user_retrieve",
        responses={200: BaselineOutputSerializer},
        description="Proctors: a student who sat (or sits) an exam you see; 404 otherwise. Superusers: anyone.",
    )
    def get(self, request, user_id: int):
        return respond(selectors.baseline_summary(user=selectors.user_get(user_id=user_id, by=request.user)))


class UserBaselineResetApi(APIView):
    permission_classes = [IsAuthenticated, IsProctor]

    @extend_schema(
        request=ResetInputSerializer,
        responses={200: BaselineOutputSerializer},
        description="Superusers only (403 details.code `superuser_only`): every course's exams are scored "
        "against the baseline. The samples are kept, discarded; audited with the baseline as it was.",
    )
    def post(self, request, user_id: int):
        if not request.user.is_superuser:
            # Refused before the lookup: which students exist is none of a proctor's business here.
            raise SuperuserOnly("Only a superuser can reset a baseline: every course's exams are scored against it.")
        serializer = ResetInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = selectors.user_get(user_id=user_id, by=request.user)
        reset = services.baseline_reset(user=user, actor=request.user, reason=serializer.validated_data["reason"])
        if reset is None:
            raise BaselineNotFound()
        return respond(selectors.baseline_summary(user=user), message="Baseline reset; it is collected again.")
