"""/api/baselines (mounted at /api/): own, a user's (proctors), reset (proctors). Trailing slash optional."""

from django.urls import re_path

from scoring.apis import OwnBaselineApi, UserBaselineApi, UserBaselineResetApi

urlpatterns = [
    re_path(r"^baselines/?$", OwnBaselineApi.as_view(), name="baseline-own"),
    re_path(r"^baselines/(?P<user_id>[0-9]{1,18})/?$", UserBaselineApi.as_view(), name="baseline-user"),
    re_path(r"^baselines/(?P<user_id>[0-9]{1,18})/reset/?$", UserBaselineResetApi.as_view(), name="baseline-reset"),
]
