from django.urls import re_path

from accounts import apis

# Both /api/auth/login and /api/auth/login/ work: the spec writes them without a slash.
urlpatterns = [
    re_path(r"^register/?$", apis.RegisterApi.as_view(), name="auth-register"),
    re_path(r"^login/?$", apis.LoginApi.as_view(), name="auth-login"),
    re_path(r"^refresh/?$", apis.RefreshApi.as_view(), name="auth-refresh"),
    re_path(r"^logout/?$", apis.LogoutApi.as_view(), name="auth-logout"),
    re_path(r"^change-password/?$", apis.ChangePasswordApi.as_view(), name="auth-change-password"),
    re_path(r"^password-reset/?$", apis.PasswordResetApi.as_view(), name="auth-password-reset"),
    re_path(r"^password-reset/confirm/?$", apis.PasswordResetConfirmApi.as_view(), name="auth-password-reset-confirm"),
    re_path(r"^me/?$", apis.MeApi.as_view(), name="auth-me"),
    re_path(r"^update-profile/?$", apis.UpdateProfileApi.as_view(), name="auth-update-profile"),
]
