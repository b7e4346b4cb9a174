"""The set-password page that set-password and reset links open (`PUBLIC_URL/reset?uid=...&token=...`).

A plain Django form, no script: it checks the link before showing the form, then sets the password
through `services.password_reset_confirm`, the same service (and the same per-address throttle) as
`POST /api/auth/password-reset/confirm`. The link's token stays out of other sites' logs (no referrer)
and out of caches.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from rest_framework.throttling import ScopedRateThrottle

from accounts import services
from accounts.exceptions import InvalidResetLink

TEMPLATE = "accounts/set_password.html"


class SetPasswordForm(forms.Form):
    uid = forms.CharField(widget=forms.HiddenInput, max_length=64)
    token = forms.CharField(widget=forms.HiddenInput, max_length=128)
    new_password = forms.CharField(
        label="New password",
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password_again = forms.CharField(
        label="New password, again",
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", "The two passwords differ.")
        return data


class _ConfirmScope:
    """What DRF's ScopedRateThrottle reads of a view: the API's confirm budget, shared with this page."""

    throttle_scope = "password_reset_confirm"


def _throttled(request: HttpRequest) -> bool:
    return not ScopedRateThrottle().allow_request(request, _ConfirmScope())


@never_cache
@require_http_methods(["GET", "POST"])
def set_password(request: HttpRequest) -> HttpResponse:
    """GET: the form, if the link is still good. POST: set the password; then say to log in."""
    if request.method == "GET":
        uid, token = request.GET.get("uid", ""), request.GET.get("token", "")
        if not services.password_reset_link_valid(uid=uid, token=token):
            return render(request, TEMPLATE, {"invalid": InvalidResetLink.default_message}, status=400)
        return render(request, TEMPLATE, {"form": SetPasswordForm(initial={"uid": uid, "token": token})})
    if _throttled(request):
        return render(
            request, TEMPLATE, {"invalid": "Too many attempts from this address; try again later."}, status=429
        )
    form = SetPasswordForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            user = services.password_reset_confirm(
                uid=data["uid"], token=data["token"], new_password=data["new_password"]
            )
        except InvalidResetLink as exc:
            return render(request, TEMPLATE, {"invalid": exc.message}, status=400)
        except ValidationError as exc:
            # The password policy's reasons, under the field they are about.
            for message in exc.message_dict.get("new_password", exc.messages):
                form.add_error("new_password", message)
        else:
            return render(request, TEMPLATE, {"done": True, "email": user.email})
    return render(request, TEMPLATE, {"form": form}, status=400)
