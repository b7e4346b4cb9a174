"""Routes of the LTI tool, mounted at /lti/ (`manage.py lti_register` prints the absolute URLs)."""

from django.urls import path

from lti import views

app_name = "lti"

urlpatterns = [
    path("login/", views.login, name="login"),
    path("login/<uuid:registration_uuid>/", views.login, name="login-registration"),
    path("launch/", views.launch, name="launch"),
    path("jwks/", views.jwks, name="jwks"),
    path("pick/", views.pick, name="pick"),
]
