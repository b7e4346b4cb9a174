"""Routes of the demo student pages, mounted at /demo/ (both slash forms accepted)."""

from django.urls import re_path

from monitoring.demo import views as demo_views

app_name = "demo"

urlpatterns = [
    re_path(r"^$", demo_views.demo_index, name="index"),
    re_path(r"^exam/(?P<exam_id>[0-9]{1,18})/?$", demo_views.demo_exam, name="exam"),
]
