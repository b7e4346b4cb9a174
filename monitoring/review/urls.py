"""Routes of the live proctor dashboard, mounted at /monitor/ (both slash forms accepted)."""

from django.urls import re_path

from monitoring.review import views

app_name = "monitoring"

urlpatterns = [
    re_path(r"^$", views.exam_list, name="exam-list"),
    re_path(r"^exam/(?P<exam_id>\d{1,18})/?$", views.exam_live, name="exam-live"),
    re_path(r"^exam/(?P<exam_id>\d{1,18})/alerts/?$", views.exam_alerts, name="exam-alerts"),
]
