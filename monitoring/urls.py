"""Monitoring's REST route: the batch of buffered events, under the session's path.

It lives under /api/exams/sessions/<id>/ because that is where a client looks for it, but it is
monitoring's endpoint: exams must not import monitoring, so the route is declared here.
"""

from django.urls import re_path

from monitoring.ingest.apis import EventBatchApi

urlpatterns = [
    re_path(r"^exams/sessions/(?P<session_id>\d+)/events/?$", EventBatchApi.as_view(), name="session-events"),
]
