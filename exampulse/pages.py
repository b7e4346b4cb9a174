"""The front page at `/`: what this server is and where to go from here (no app data, no login)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Links to the dashboard, the admin, the API docs and, when the demo is on, the student demo."""
    return render(request, "site/home.html", {"demo": bool(settings.EXAMPULSE.get("DEMO"))})
