"""Staff routes over users (mounted at /api/, so /api/users/...); both slash forms work."""

from django.urls import re_path

from accounts import users_apis

urlpatterns = [
    re_path(r"^users/?$", users_apis.UserListApi.as_view(), name="user-list"),
    re_path(
        r"^users/(?P<user_id>\d+)/accommodations/?$",
        users_apis.UserAccommodationsApi.as_view(),
        name="user-accommodations",
    ),
]
