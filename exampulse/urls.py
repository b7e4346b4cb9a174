from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import pages as account_pages
from exampulse import pages
from exampulse.platform.health import HealthApi

urlpatterns = [
    path("", pages.home, name="home"),
    # Where set-password links land (accounts.services.password_reset_page).
    re_path(r"^reset/?$", account_pages.set_password, name="set-password"),
    path("admin/", admin.site.urls),
    path("demo/", include("monitoring.demo.urls")),
    path("monitor/", include("monitoring.review.urls")),
    # LTI 1.3: OIDC login, launch, the tool's JWKS (lti_register prints them on PUBLIC_URL).
    path("lti/", include("lti.urls")),
    re_path(r"^api/health/?$", HealthApi.as_view(), name="health"),
    path("api/auth/", include("accounts.urls")),
    # Users, exams and baselines route files carry their own first segment, so /api/users and /api/exams
    # work without the trailing slash too (include() alone would need it).
    path("api/", include("accounts.users_urls")),
    # Monitoring's batch ingestion sits under the session's path, so it is routed before exams' own.
    path("api/", include("monitoring.urls")),
    path("api/", include("exams.urls")),
    path("api/", include("scoring.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file of its own (?script), not inline,
    # so the page runs under the Content-Security-Policy without 'unsafe-inline'.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
]

# Unrouted /api/ paths answer in the API's JSON error shape, not Django's HTML page.
handler404 = "exampulse.platform.api.not_found_handler"
handler500 = "exampulse.platform.api.server_error_handler"
