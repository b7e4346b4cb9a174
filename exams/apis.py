"""Exam and session endpoints. Thin: parse, call one service or selector, reply.

Identity and role come from `request.user` only; a body's `user_id` or `role` is ignored.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.permissions import IsProctor, IsStudent
from exampulse.platform.api import respond
from exams import reasons, reviews, selectors
from exams.authoring import exam_create, exam_delete, exam_update
from exams.exceptions import SessionNotStarted
from exams.grading import session_grade
from exams.serializers import (
    AnswersInputSerializer,
    ExamForStudentSerializer,
    ExamInputSerializer,
    ExamListQuerySerializer,
    ExamProctorOutputSerializer,
    GradeInputSerializer,
    IncidentReasonSerializer,
    ReviewInputSerializer,
    SecondReviewInputSerializer,
    SessionListQuerySerializer,
    SessionProctorDetailSerializer,
    SessionProctorOutputSerializer,
    SessionStudentDetailSerializer,
    SessionStudentOutputSerializer,
    SubmitInputSerializer,
    TerminateInputSerializer,
    exam_output,
    session_output,
)
from exams.sessions import session_save_answers, session_start_or_resume, session_submit, session_terminate


class _Paginated(APIView):
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    def paginate(self, queryset, render):
        """Page the queryset with the project's envelope pagination, rendering each row."""
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response([render(item) for item in page])


class ExamListCreateApi(_Paginated):
    """GET: exams the user may take (proctors: all, `?status=`). POST: create one (proctors)."""

    def get_permissions(self):
        return [IsProctor()] if self.request.method == "POST" else [IsAuthenticated()]

    @extend_schema(
        parameters=[ExamListQuerySerializer],
        responses={
            200: PolymorphicProxySerializer(
                component_name="ExamOutput",
                serializers=[ExamForStudentSerializer, ExamProctorOutputSerializer],
                resource_type_field_name=None,
                many=True,
            )
        },
        description="Students: the active exams of their courses and open exams, without answers, each with "
        "`can_start` (and, when false, `start_refusal`: the code the start would answer) and their `attempt`. "
        "Proctors: every exam, with answers.",
    )
    def get(self, request):
        query = ExamListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        exams = selectors.exam_list(user=request.user, status=query.validated_data.get("status"))
        return self.paginate(exams, lambda exam: exam_output(exam, user=request.user))

    @extend_schema(request=ExamInputSerializer, responses={201: ExamProctorOutputSerializer})
    def post(self, request):
        serializer = ExamInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        exam = exam_create(by=request.user, data=serializer.validated_data)
        return respond(
            ExamProctorOutputSerializer(exam).data, message="Exam created.", status_code=status.HTTP_201_CREATED
        )


class ExamDetailApi(APIView):
    """GET one exam (students: answer-free); PUT/PATCH/DELETE (proctors)."""

    def get_permissions(self):
        return [IsAuthenticated()] if self.request.method in ("GET", "HEAD", "OPTIONS") else [IsProctor()]

    @extend_schema(
        responses={
            200: PolymorphicProxySerializer(
                component_name="ExamDetail",
                serializers=[ExamForStudentSerializer, ExamProctorOutputSerializer],
                resource_type_field_name=None,
            )
        }
    )
    def get(self, request, exam_id):
        exam = selectors.exam_get_for_user(exam_id=exam_id, user=request.user)
        return respond(exam_output(exam, user=request.user))

    @extend_schema(request=ExamInputSerializer, responses={200: ExamProctorOutputSerializer})
    def put(self, request, exam_id):
        return self._update(request, exam_id, partial=False)

    @extend_schema(request=ExamInputSerializer, responses={200: ExamProctorOutputSerializer})
    def patch(self, request, exam_id):
        return self._update(request, exam_id, partial=True)

    def _update(self, request, exam_id, *, partial: bool):
        exam = selectors.exam_get_for_user(exam_id=exam_id, user=request.user)
        serializer = ExamInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        exam = exam_update(exam=exam, by=request.user, data=serializer.validated_data)
        return respond(ExamProctorOutputSerializer(exam).data, message="Exam updated.")

    @extend_schema(responses={200: None})
    def delete(self, request, exam_id):
        exam = selectors.exam_get_for_user(exam_id=exam_id, user=request.user)
        exam_delete(exam=exam, by=request.user)
        return respond(None, message="Exam deleted.")


class SessionStartApi(APIView):
    """Start the exam, or get back the open session (idempotent). Students only."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: SessionStudentDetailSerializer, 201: SessionStudentDetailSerializer})
    def post(self, request, exam_id):
        exam = selectors.exam_get_for_user(exam_id=exam_id, user=request.user)
        session, created = session_start_or_resume(exam=exam, user=request.user)
        return respond(
            SessionStudentDetailSerializer(session).data,
            message="Exam started." if created else "Exam already in progress: continuing the same session.",
            status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class SessionSubmitApi(APIView):
    """Submit the student's attempt with `{answers, time_taken}`; a repeat returns the same result."""

    permission_classes = [IsStudent]

    @extend_schema(request=SubmitInputSerializer, responses={200: SessionStudentOutputSerializer})
    def post(self, request, exam_id):
        serializer = SubmitInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        exam = selectors.exam_get_for_user(exam_id=exam_id, user=request.user)
        session = selectors.session_latest_for(exam=exam, user=request.user)
        if session is None:
            raise SessionNotStarted()
        was_open = session.is_open
        session = session_submit(
            session=session,
            answers=serializer.validated_data.get("answers"),
            client_time_taken=serializer.validated_data.get("time_taken"),
        )
        message = "Exam submitted." if was_open else "This exam was already submitted; here is the result."
        return respond(SessionStudentOutputSerializer(session).data, message=message)


class SessionListApi(_Paginated):
    """A student's own sessions; proctors: all, filterable and ordered by risk by default."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[SessionListQuerySerializer],
        # Students get the student view, proctors the proctor view: the schema names both.
        responses={
            200: PolymorphicProxySerializer(
                component_name="SessionOutput",
                serializers=[SessionStudentOutputSerializer, SessionProctorOutputSerializer],
                resource_type_field_name=None,
                many=True,
            )
        },
        description="Proctors: filter by exam, user, status, review_status, risk_level, reason_code (the verdict's "
        "or the termination's incident reason), second_review; reset attempts "
        "(voided) are left out unless ?voided=true, which lists only them; ?grading_status=pending: "
        "finished attempts whose short answers need grading; "
        "ordering risk (default) | -risk_score | risk_score | -started_at | started_at.",
    )
    def get(self, request):
        query = SessionListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        sessions = selectors.session_list(
            user=request.user,
            exam_id=params.get("exam"),
            user_id=params.get("user"),
            status=params.get("status"),
            review_status=params.get("review_status"),
            risk_level=params.get("risk_level"),
            ordering=params.get("ordering"),
            voided=params.get("voided", False),
            grading_status=params.get("grading_status"),
            reason_code=params.get("reason_code"),
            second_review=params.get("second_review"),
        )
        return self.paginate(sessions, lambda session: session_output(session, user=request.user))


class SessionDetailApi(APIView):
    """One session: a student's own (answer-free questions), or any for proctors with events and alerts."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("session_id", int, OpenApiParameter.PATH)],
        responses={
            200: PolymorphicProxySerializer(
                component_name="SessionDetail",
                serializers=[SessionStudentDetailSerializer, SessionProctorDetailSerializer],
                resource_type_field_name=None,
            )
        },
    )
    def get(self, request, session_id):
        session = selectors.session_get_for_user(session_id=session_id, user=request.user)
        return respond(session_output(session, user=request.user, detail=True))


class SessionAnswersApi(APIView):
    """Autosave: PUT replaces the saved answers, PATCH merges into them. The student's own open session."""

    permission_classes = [IsStudent]

    @extend_schema(request=AnswersInputSerializer, responses={200: SessionStudentOutputSerializer})
    def put(self, request, session_id):
        return self._save(request, session_id, replace=True)

    @extend_schema(request=AnswersInputSerializer, responses={200: SessionStudentOutputSerializer})
    def patch(self, request, session_id):
        return self._save(request, session_id, replace=False)

    def _save(self, request, session_id, *, replace: bool):
        serializer = AnswersInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = selectors.session_get_for_user(session_id=session_id, user=request.user)
        session = session_save_answers(session=session, answers=serializer.validated_data["answers"], replace=replace)
        return respond(SessionStudentOutputSerializer(session).data, message="Answers saved.")


class IncidentReasonListApi(APIView):
    """The incident-reason taxonomy: `[{code, label, category}]`, fixed, in display order."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: IncidentReasonSerializer(many=True)},
        description="Codes for `reason_code` in terminate (required), warn and pause (optional), and a "
        "suspicious or violation verdict (required). Categories: environment, behaviour, identity, technical, other.",
    )
    def get(self, request):
        return respond(reasons.as_json())


class SessionReviewApi(APIView):
    """Proctors set the verdict with a note (and a reason_code for suspicious/violation); audited and kept."""

    permission_classes = [IsProctor]

    @extend_schema(
        request=ReviewInputSerializer,
        responses={200: SessionProctorOutputSerializer},
        description="suspicious and violation need a note and a reason_code (400 `reason_required` / "
        "`invalid_reason`). A violation sets second_review `required`; while it waits, or once confirmed, "
        "another verdict is refused (409 `second_review_pending` / `verdict_confirmed`).",
    )
    def post(self, request, session_id):
        serializer = ReviewInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = selectors.session_get_for_user(session_id=session_id, user=request.user)
        session = reviews.session_review(session=session, by=request.user, **serializer.validated_data)
        return respond(SessionProctorOutputSerializer(session).data, message="Review recorded.")


class SessionSecondReviewApi(APIView):
    """A different proctor confirms or overturns a violation verdict; both stay in the history."""

    permission_classes = [IsProctor]

    @extend_schema(
        request=SecondReviewInputSerializer,
        responses={200: SessionProctorOutputSerializer},
        description="Only while second_review is `required` (else 409 `second_review_not_required`); the "
        "proctor who gave the violation gets 403 `same_reviewer`. `overturn` needs review_status (clean or "
        "suspicious; suspicious with reason_code) and a note. second_review becomes confirmed / overturned.",
    )
    def post(self, request, session_id):
        serializer = SecondReviewInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = selectors.session_get_for_user(session_id=session_id, user=request.user)
        session = reviews.session_second_review(session=session, by=request.user, **serializer.validated_data)
        message = "Violation confirmed." if session.second_review == "confirmed" else "Violation overturned."
        return respond(SessionProctorOutputSerializer(session).data, message=message)


class SessionTerminateApi(APIView):
    """Proctors end an open session with a reason_code and a reason: it ends flagged; the action is audited."""

    permission_classes = [IsProctor]

    @extend_schema(
        request=TerminateInputSerializer,
        responses={200: SessionProctorOutputSerializer},
        description="reason_code (from GET /api/incident-reasons) is required: 400 `reason_required` / "
        "`invalid_reason` otherwise; it is stored as termination_reason_code.",
    )
    def post(self, request, session_id):
        serializer = TerminateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = selectors.session_get_for_user(session_id=session_id, user=request.user)
        session = session_terminate(session=session, by=request.user, **serializer.validated_data)
        return respond(SessionProctorOutputSerializer(session).data, message="Session terminated.")


class SessionGradeApi(APIView):
    """Proctors give points to the short answers of a finished session; the score is recomputed."""

    permission_classes = [IsProctor]

    @extend_schema(
        parameters=[OpenApiParameter("session_id", int, OpenApiParameter.PATH)],
        request=GradeInputSerializer,
        responses={200: SessionProctorDetailSerializer},
        description="Only short questions of a finished session, each 0 to the question's points; partial "
        "grading and regrading are allowed and recorded. grading_status: auto (no short questions), "
        "pending (some short answers have no points yet) or complete. 400 names each bad question id; "
        "409 while the session is in progress; 404 outside the proctor's courses.",
    )
    def post(self, request, session_id):
        serializer = GradeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = selectors.session_get_for_user(session_id=session_id, user=request.user)
        session = session_grade(session=session, by=request.user, **serializer.validated_data)
        return respond(SessionProctorDetailSerializer(session).data, message="Grading recorded.")
