"""Exam and session routes, mounted at /api/; every path works with and without a trailing slash."""

from django.urls import re_path

from exams import apis

urlpatterns = [
    re_path(r"^exams/?$", apis.ExamListCreateApi.as_view(), name="exam-list"),
    re_path(r"^exams/sessions/?$", apis.SessionListApi.as_view(), name="session-list"),
    re_path(r"^exams/sessions/(?P<session_id>\d+)/?$", apis.SessionDetailApi.as_view(), name="session-detail"),
    re_path(
        r"^exams/sessions/(?P<session_id>\d+)/answers/?$", apis.SessionAnswersApi.as_view(), name="session-answers"
    ),
    re_path(r"^exams/sessions/(?P<session_id>\d+)/review/?$", apis.SessionReviewApi.as_view(), name="session-review"),
    re_path(
        r"^exams/sessions/(?P<session_id>\d+)/terminate/?$",
        apis.SessionTerminateApi.as_view(),
        name="session-terminate",
    ),
    re_path(r"^exams/(?P<exam_id>\d+)/?$", apis.ExamDetailApi.as_view(), name="exam-detail"),
    re_path(r"^exams/(?P<exam_id>\d+)/start/?$", apis.SessionStartApi.as_view(), name="exam-start"),
    re_path(r"^exams/(?P<exam_id>\d+)/submit/?$", apis.SessionSubmitApi.as_view(), name="exam-submit"),
]
