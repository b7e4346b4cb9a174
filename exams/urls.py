"""Exam, session and course routes, mounted at /api/; every path works with and without a trailing slash."""

from django.urls import re_path

from exams import accommodation_apis, apis, course_apis

urlpatterns = [
    re_path(r"^exams/?$", apis.ExamListCreateApi.as_view(), name="exam-list"),
    re_path(r"^exams/sessions/?$", apis.SessionListApi.as_view(), name="session-list"),
    re_path(r"^exams/sessions/(?P<session_id>\d+)/?$", apis.SessionDetailApi.as_view(), name="session-detail"),
    re_path(
        r"^exams/sessions/(?P<session_id>\d+)/answers/?$", apis.SessionAnswersApi.as_view(), name="session-answers"
    ),
    re_path(r"^exams/sessions/(?P<session_id>\d+)/review/?$", apis.SessionReviewApi.as_view(), name="session-review"),
    re_path(
        r"^exams/sessions/(?P<session_id>\d+)/second-review/?$",
        apis.SessionSecondReviewApi.as_view(),
        name="session-second-review",
    ),
    re_path(r"^incident-reasons/?$", apis.IncidentReasonListApi.as_view(), name="incident-reasons"),
    re_path(
        r"^exams/sessions/(?P<session_id>\d+)/terminate/?$",
        apis.SessionTerminateApi.as_view(),
        name="session-terminate",
    ),
    re_path(r"^exams/sessions/(?P<session_id>\d+)/grade/?$", apis.SessionGradeApi.as_view(), name="session-grade"),
    re_path(r"^exams/(?P<exam_id>\d+)/?$", apis.ExamDetailApi.as_view(), name="exam-detail"),
    re_path(r"^exams/(?P<exam_id>\d+)/start/?$", apis.SessionStartApi.as_view(), name="exam-start"),
    re_path(r"^exams/(?P<exam_id>\d+)/submit/?$", apis.SessionSubmitApi.as_view(), name="exam-submit"),
    re_path(
        r"^exams/(?P<exam_id>\d+)/allowances/?$", accommodation_apis.ExamAllowancesApi.as_view(), name="exam-allowances"
    ),
    re_path(
        r"^exams/(?P<exam_id>\d+)/allowances/(?P<user_id>\d+)/?$",
        accommodation_apis.ExamAllowanceApi.as_view(),
        name="exam-allowance",
    ),
    re_path(r"^courses/?$", course_apis.CourseListCreateApi.as_view(), name="course-list"),
    re_path(r"^courses/(?P<course_id>\d+)/?$", course_apis.CourseDetailApi.as_view(), name="course-detail"),
    re_path(
        r"^courses/(?P<course_id>\d+)/students/?$", course_apis.CourseStudentsApi.as_view(), name="course-students"
    ),
    re_path(
        r"^courses/(?P<course_id>\d+)/students/(?P<user_id>\d+)/?$",
        course_apis.CourseStudentDetailApi.as_view(),
        name="course-student",
    ),
    re_path(r"^courses/(?P<course_id>\d+)/staff/?$", course_apis.CourseStaffApi.as_view(), name="course-staff"),
    re_path(
        r"^courses/(?P<course_id>\d+)/accommodations/?$",
        accommodation_apis.CourseAccommodationsApi.as_view(),
        name="course-accommodations",
    ),
    re_path(
        r"^courses/(?P<course_id>\d+)/accommodations/(?P<user_id>\d+)/?$",
        accommodation_apis.CourseAccommodationApi.as_view(),
        name="course-accommodation",
    ),
    re_path(
        r"^courses/(?P<course_id>\d+)/staff/(?P<user_id>\d+)/?$",
        course_apis.CourseStaffDetailApi.as_view(),
        name="course-staff-member",
    ),
]
