"""Staff routes over users (mounted at /api/users); both slash forms work."""

from django.urls import re_path

from accounts import users_apis

urlpatterns = [
    re_path(r"^$", users_apis.UserListApi.as_view(), name="user-list"),
    re_path(
        r"^(?P<user_id>\d+)/accommodations/?$",
        users_apis.UserAccommodationsApi.as_view(),
        name="user-accommodations",
    ),
]
