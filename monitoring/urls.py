"""Monitoring's REST routes: the batch of buffered events and time control, under the session's path.

It lives under /api/exams/sessions/<id>/ because that is where a client looks for it, but it is
monitoring's endpoint: exams must not import monitoring, so the route is declared here.
"""

from django.urls import re_path

from monitoring.ingest.apis import EventBatchApi
from monitoring.proctoring import timecontrol_apis as time_apis

urlpatterns = [
    re_path(r"^exams/sessions/(?P<session_id>\d+)/events/?$", EventBatchApi.as_view(), name="session-events"),
    # Time control: each action is also on the session's timeline and pushed live, so monitoring routes it.
    re_path(
        r"^exams/sessions/(?P<session_id>\d+)/extend/?$", time_apis.SessionExtendApi.as_view(), name="session-extend"
    ),
    re_path(r"^exams/sessions/(?P<session_id>\d+)/pause/?$", time_apis.SessionPauseApi.as_view(), name="session-pause"),
    re_path(
        r"^exams/sessions/(?P<session_id>\d+)/resume/?$", time_apis.SessionResumeApi.as_view(), name="session-resume"
    ),
    re_path(r"^exams/sessions/(?P<session_id>\d+)/reset/?$", time_apis.SessionResetApi.as_view(), name="session-reset"),
    re_path(r"^exams/(?P<exam_id>\d+)/extend/?$", time_apis.ExamExtendApi.as_view(), name="exam-extend"),
]
